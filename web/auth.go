package web

import (
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/crypto/bcrypt"

	breach "github.com/breachd/breachd"
)

// CookieName is the session cookie's name.
const CookieName = "breachd_session"

// DefaultBcryptCost is the cost of password hashes: about a quarter of a second on a server core,
// so a stolen hash is slow to guess at.
const DefaultBcryptCost = 12

// HashPassword checks p against the password rules and returns its bcrypt hash.
func HashPassword(p string, cost int) (string, error) {
	if err := breach.ValidPassword(p); err != nil {
		return "", err
	}
	if cost < DefaultBcryptCost {
		cost = DefaultBcryptCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(p), cost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// dummyHash is compared against when the username is unknown, so an unknown name takes as long to
// refuse as a wrong password and timing does not tell which names exist.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password of anyone's"), DefaultBcryptCost)

// state is the signed-in person of one page request.
type state struct {
	user  breach.User
	sess  breach.Session
	token string
}

func (st *state) is(roles ...breach.Role) bool {
	return st != nil && slices.Contains(roles, st.user.Role)
}

// page wraps a page handler: it finds the session and its user (still enabled), sends anyone else
// to sign in, refuses a role the page does not allow, and refuses a POST without the session's CSRF
// token. Pages with data are never cached.
func (c *Console) page(roles []breach.Role, h func(http.ResponseWriter, *http.Request, *state)) http.HandlerFunc {
	return c.wrap(roles, false, h)
}

// uploadPage is page for a handler that takes a multipart file and checks the CSRF token itself,
// as the form's first part, so that the file is streamed rather than parsed into memory or disk.
func (c *Console) uploadPage(roles []breach.Role, h func(http.ResponseWriter, *http.Request, *state)) http.HandlerFunc {
	return c.wrap(roles, true, h)
}

// maxFormBytes bounds the body of an ordinary form: the longest determination is well under it.
const maxFormBytes = 1 << 20

func (c *Console) wrap(roles []breach.Role, multipart bool, h func(http.ResponseWriter, *http.Request, *state)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		st, err := c.session(r)
		if err != nil {
			if breach.ErrorCode(err) != breach.EUNAUTHORIZED {
				c.internalError(w, r, nil, err)
				return
			}
			c.clearCookie(w, r)
			next := ""
			if r.Method == http.MethodGet {
				next = "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, "/signin"+next, http.StatusSeeOther)
			return
		}
		isMultipart := strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
		if r.Method == http.MethodPost && !(multipart && isMultipart) {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			got := r.Header.Get("X-CSRF-Token")
			if got == "" && !isMultipart {
				got = r.PostFormValue("csrf")
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(st.sess.CSRF)) != 1 {
				c.errorPage(w, r, st, http.StatusForbidden, "This form has expired",
					"The form was not sent from this session (its security token is missing or out of date). Go back, reload the page and try again.")
				return
			}
		}
		if st.user.MustChangePassword && r.URL.Path != "/account/password" && r.URL.Path != "/signout" {
			http.Redirect(w, r, "/account/password", http.StatusSeeOther)
			return
		}
		if !slices.Contains(roles, st.user.Role) {
			c.errorPage(w, r, st, http.StatusForbidden, "You cannot use this page",
				"Your role ("+string(st.user.Role)+") does not allow it. Ask an administrator if you need to.")
			return
		}
		h(w, r, st)
	}
}

// session returns the signed-in person of r; EUNAUTHORIZED when there is none.
func (c *Console) session(r *http.Request) (*state, error) {
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" {
		return nil, breach.Errorf(breach.EUNAUTHORIZED, "not signed in")
	}
	sess, err := c.cfg.Sessions.Session(r.Context(), ck.Value)
	if err != nil {
		return nil, err
	}
	u, err := c.cfg.Users.User(r.Context(), sess.Username)
	if breach.ErrorCode(err) == breach.ENOTFOUND || err == nil && u.Disabled {
		// A disabled account signs out at its next request, wherever it is signed in.
		_ = c.cfg.Sessions.DeleteSession(r.Context(), ck.Value)
		return nil, breach.Errorf(breach.EUNAUTHORIZED, "the account is disabled")
	}
	if err != nil {
		return nil, err
	}
	return &state{user: u, sess: sess, token: ck.Value}, nil
}

func (c *Console) secure(r *http.Request) bool { return c.cfg.SecureCookies || r.TLS != nil }

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/", HttpOnly: true,
		Secure: c.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: int(breach.SessionAbsolute.Seconds())})
}

func (c *Console) clearCookie(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(CookieName); err != nil {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true,
		Secure: c.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// clientIP is the address the request came from: the connection's, never a header a client can
// write (behind a proxy every person shares the proxy's address, which only makes the per-address
// limit stricter).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// localPath returns next when it is a path on this site, else "/breaches": a sign-in link can
// never send a person elsewhere.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.HasPrefix(next, "/signin") {
		return "/breaches"
	}
	return next
}

type signinData struct {
	Username string
	Next     string
}

func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if st, err := c.session(r); err == nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		_ = st
		return
	}
	c.render(w, r, nil, http.StatusOK, "signin", "Sign in", signinData{Next: r.URL.Query().Get("next")}, nil)
}

// errSignIn is the one message for an unknown user and a wrong password, so the form does not
// tell which usernames exist.
const errSignIn = "The username or password is not right."

func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ctx := r.Context()
	username := strings.ToLower(strings.TrimSpace(r.PostFormValue("username")))
	password := r.PostFormValue("password")
	data := signinData{Username: username, Next: r.PostFormValue("next")}
	fail := func(status int, f formErrors) {
		c.render(w, r, nil, status, "signin", "Sign in", data, &f)
	}
	var f formErrors
	if username == "" {
		f.add("username", "Enter your username")
	}
	if password == "" {
		f.add("password", "Enter your password")
	}
	if f.any() {
		fail(http.StatusUnprocessableEntity, f)
		return
	}
	ip := clientIP(r)
	allowed, err := c.cfg.Throttle.SignInAllowed(ctx, username, ip)
	if err != nil {
		c.internalError(w, r, nil, err)
		return
	}
	if !allowed {
		c.cfg.Logger.WarnContext(ctx, "sign-in refused: too many failures")
		f.add("username", "Too many failed attempts. Wait 15 minutes and try again, or ask an administrator to reset your password.")
		fail(http.StatusTooManyRequests, f)
		return
	}
	u, err := c.cfg.Users.User(ctx, username)
	if err != nil && breach.ErrorCode(err) != breach.ENOTFOUND {
		c.internalError(w, r, nil, err)
		return
	}
	hash := dummyHash
	if err == nil {
		hash = []byte(u.PasswordHash)
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if err != nil || !match || u.Disabled {
		if err := c.cfg.Throttle.SignInFailed(ctx, username, ip); err != nil {
			c.internalError(w, r, nil, err)
			return
		}
		c.cfg.Logger.InfoContext(ctx, "sign-in failed")
		f.add("username", errSignIn)
		fail(http.StatusUnauthorized, f)
		return
	}
	_ = c.cfg.Throttle.SignInSucceeded(ctx, username)
	token, _, err := c.cfg.Sessions.CreateSession(ctx, u.Username)
	if err != nil {
		c.internalError(w, r, nil, err)
		return
	}
	c.cfg.Logger.InfoContext(ctx, "signed in", "actor", u.Actor().ID, "role", string(u.Role))
	c.setCookie(w, r, token)
	http.Redirect(w, r, localPath(data.Next), http.StatusSeeOther)
}

func (c *Console) signout(w http.ResponseWriter, r *http.Request, st *state) {
	if err := c.cfg.Sessions.DeleteSession(r.Context(), st.token); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	c.clearCookie(w, r)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

func (c *Console) passwordPage(w http.ResponseWriter, r *http.Request, st *state) {
	c.render(w, r, st, http.StatusOK, "password", "Change your password", url.Values{}, nil)
}

func (c *Console) changePassword(w http.ResponseWriter, r *http.Request, st *state) {
	current, next, again := r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("again")
	var f formErrors
	if bcrypt.CompareHashAndPassword([]byte(st.user.PasswordHash), []byte(current)) != nil {
		f.add("current", "This is not your current password")
	}
	if err := breach.ValidPassword(next); err != nil {
		f.add("new", capitalise(breachMessage(err)))
	} else if next != again {
		f.add("again", "The two new passwords are not the same")
	} else if next == current {
		f.add("new", "Choose a password different from the current one")
	}
	if f.any() {
		c.render(w, r, st, http.StatusUnprocessableEntity, "password", "Change your password", url.Values{}, &f)
		return
	}
	hash, err := HashPassword(next, c.cfg.BcryptCost)
	if err != nil {
		c.internalError(w, r, st, err)
		return
	}
	if _, err := c.cfg.Users.UpdateUser(r.Context(), st.user.Username, func(u *breach.User) error {
		u.PasswordHash, u.MustChangePassword = hash, false
		return nil
	}); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	c.flash(w, "Your password is changed.")
	http.Redirect(w, r, "/breaches", http.StatusSeeOther)
}

// breachMessage is the message of a *breach.Error (safe to show), or a general one.
func breachMessage(err error) string {
	var be *breach.Error
	if errors.As(err, &be) {
		return be.Message
	}
	return "something went wrong"
}
