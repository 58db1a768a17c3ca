package web

import (
	"net/http"
	"net/url"
	"strings"

	breach "github.com/breachd/breachd"
)

type usersData struct {
	Users []breach.User
	Form  url.Values
	Roles []breach.Role
	Me    string
}

func (c *Console) usersData(r *http.Request, st *state, form url.Values) (*usersData, error) {
	users, err := c.cfg.Users.Users(r.Context())
	if err != nil {
		return nil, err
	}
	return &usersData{Users: users, Form: form, Roles: breach.Roles, Me: st.user.Username}, nil
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, st *state) {
	d, err := c.usersData(r, st, url.Values{"role": {"clerk"}})
	if err != nil {
		c.internalError(w, r, st, err)
		return
	}
	c.render(w, r, st, http.StatusOK, "users", "Users", d, nil)
}

// addUser adds an account. Users are not part of the REST contract (API keys are for programs),
// so the console writes them itself; only admins reach this page.
func (c *Console) addUser(w http.ResponseWriter, r *http.Request, st *state) {
	_ = r.ParseForm()
	f := r.PostForm
	name := strings.ToLower(strings.TrimSpace(f.Get("username")))
	display := strings.TrimSpace(f.Get("display_name"))
	role := breach.Role(f.Get("role"))
	var errs formErrors
	if err := breach.ValidUsername(name); err != nil {
		errs.add("username", capitalise(breachMessage(err)))
	}
	if display == "" || len(display) > breach.MaxDisplayName {
		errs.add("display_name", "Enter the person's name as colleagues know it (at most 200 characters)")
	}
	if err := breach.ValidRole(role); err != nil {
		errs.add("role", "Choose a role")
	}
	if err := breach.ValidPassword(f.Get("password")); err != nil {
		errs.add("password", capitalise(breachMessage(err)))
	}
	var hash string
	if !errs.any() {
		var err error
		if hash, err = HashPassword(f.Get("password"), c.cfg.BcryptCost); err != nil {
			c.internalError(w, r, st, err)
			return
		}
		err = c.cfg.Users.CreateUser(r.Context(), breach.User{Username: name, DisplayName: display, Role: role,
			PasswordHash: hash, MustChangePassword: true})
		switch breach.ErrorCode(err) {
		case "":
			c.cfg.Logger.InfoContext(r.Context(), "user added", "by", st.user.Actor().ID, "role", string(role))
			c.flash(w, "The account "+name+" is added. Give them the password in person; they choose their own at first sign-in.")
			http.Redirect(w, r, "/users", http.StatusSeeOther)
			return
		case breach.ECONFLICT:
			errs.add("username", "This username is taken")
		default:
			c.internalError(w, r, st, err)
			return
		}
	}
	f.Del("password")
	d, err := c.usersData(r, st, f)
	if err != nil {
		c.internalError(w, r, st, err)
		return
	}
	c.render(w, r, st, http.StatusUnprocessableEntity, "users", "Users", d, &errs)
}

// changeUser disables or enables an account, changes its role, or sets a new password.
func (c *Console) changeUser(w http.ResponseWriter, r *http.Request, st *state) {
	name := r.PathValue("name")
	action := r.PostFormValue("action")
	if name == st.user.Username && (action == "disable" || action == "role") {
		c.errorPage(w, r, st, http.StatusConflict, "You cannot do this to your own account",
			"Another administrator must disable your account or change your role, so that there is always one left.")
		return
	}
	var errs formErrors
	var hash string
	switch action {
	case "disable", "enable":
	case "role":
		if breach.ValidRole(breach.Role(r.PostFormValue("role"))) != nil {
			errs.add("role-"+name, "Choose a role")
		}
	case "password":
		p := r.PostFormValue("password")
		if err := breach.ValidPassword(p); err != nil {
			errs.add("password-"+name, capitalise(breachMessage(err)))
			break
		}
		var err error
		if hash, err = HashPassword(p, c.cfg.BcryptCost); err != nil {
			c.internalError(w, r, st, err)
			return
		}
	default:
		c.errorPage(w, r, st, http.StatusBadRequest, "Unknown action", "Go back and choose one of the buttons.")
		return
	}
	if !errs.any() {
		_, err := c.cfg.Users.UpdateUser(r.Context(), name, func(u *breach.User) error {
			switch action {
			case "disable":
				u.Disabled = true
			case "enable":
				u.Disabled = false
			case "role":
				u.Role = breach.Role(r.PostFormValue("role"))
			case "password":
				u.PasswordHash, u.MustChangePassword = hash, true
			}
			return nil
		})
		switch breach.ErrorCode(err) {
		case "":
			c.cfg.Logger.InfoContext(r.Context(), "user changed", "by", st.user.Actor().ID, "action", action)
			c.flash(w, "The account "+name+" is changed.")
			http.Redirect(w, r, "/users", http.StatusSeeOther)
			return
		case breach.ENOTFOUND:
			c.errorPage(w, r, st, http.StatusNotFound, "Not found", "There is no such user.")
			return
		default:
			c.internalError(w, r, st, err)
			return
		}
	}
	d, err := c.usersData(r, st, url.Values{"role": {"clerk"}})
	if err != nil {
		c.internalError(w, r, st, err)
		return
	}
	c.render(w, r, st, http.StatusUnprocessableEntity, "users", "Users", d, &errs)
}
