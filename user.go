package breach

import (
	"context"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// User is a person who signs in to the console. API keys stay for programs; people have names,
// so the audit trail can say who acted (their Actor ID is "user:" + Username).
type User struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Role        Role   `json:"role"`
	// PasswordHash is a bcrypt hash; the password itself is never kept.
	PasswordHash string `json:"password_hash"`
	Disabled     bool   `json:"disabled"`
	// MustChangePassword is set on a password someone else chose (the one-time admin password of
	// embedded mode): the console asks for a new one before anything else.
	MustChangePassword bool      `json:"must_change_password,omitempty"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// Actor is the user as the author of events.
func (u User) Actor() Actor { return Actor{ID: "user:" + u.Username, Role: u.Role} }

// Password rules.
const (
	MinPasswordLength = 12 // shorter passwords are guessable offline from a stolen hash
	MaxPasswordLength = 72 // bcrypt reads no more than 72 bytes
	MaxUsernameLength = 64
	MaxDisplayName    = 200
)

// ValidUsername reports why name cannot be a username, or nil: 1 to 64 of a–z, 0–9, '.', '_' and
// '-', starting with a letter, so that it fits a Redis key and an actor ID without escaping.
func ValidUsername(name string) error {
	if name == "" || len(name) > MaxUsernameLength {
		return Errorf(EINVALID, "a username is 1 to %d characters", MaxUsernameLength)
	}
	if name[0] < 'a' || name[0] > 'z' {
		return Errorf(EINVALID, "a username starts with a lower-case letter")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return Errorf(EINVALID, "a username holds only a-z, 0-9, '.', '_' and '-'")
		}
	}
	return nil
}

// ValidPassword reports why p cannot be a password, or nil.
func ValidPassword(p string) error {
	if utf8.RuneCountInString(p) < MinPasswordLength {
		return Errorf(EINVALID, "a password must be at least %d characters", MinPasswordLength)
	}
	if len(p) > MaxPasswordLength {
		return Errorf(EINVALID, "a password must be at most %d bytes", MaxPasswordLength)
	}
	return nil
}

// ValidRole reports whether r is one of Roles.
func ValidRole(r Role) error {
	if !slices.Contains(Roles, r) {
		return Errorf(EINVALID, "%q is not a role: admin, clerk or auditor", string(r))
	}
	return nil
}

// UserStore keeps the console's users.
type UserStore interface {
	// CreateUser stores a new user. ECONFLICT when the username is taken.
	CreateUser(ctx context.Context, u User) error
	// User returns one user. ENOTFOUND when there is none.
	User(ctx context.Context, username string) (User, error)
	// Users returns every user, by username.
	Users(ctx context.Context) ([]User, error)
	// UpdateUser applies fn to the stored user and stores the result. ENOTFOUND when there is none;
	// fn's error is returned as is.
	UpdateUser(ctx context.Context, username string, fn func(*User) error) (User, error)
}

// Session is a signed-in person's session. The token that names it lives only in the person's
// cookie; the store keeps its hash.
type Session struct {
	Username  string    `json:"username"`
	CSRF      string    `json:"csrf"` // the token every form of this session carries
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`
}

// Session lifetimes.
const (
	SessionIdle     = 30 * time.Minute // unused this long, a session ends
	SessionAbsolute = 12 * time.Hour   // however used, a session ends this long after sign-in
)

// SessionStore keeps sessions.
type SessionStore interface {
	// CreateSession starts a session for username and returns its token.
	CreateSession(ctx context.Context, username string) (token string, s Session, err error)
	// Session returns the session of token and records that it was used. EUNAUTHORIZED when there
	// is none or it has expired (idle or absolute).
	Session(ctx context.Context, token string) (Session, error)
	// DeleteSession ends the session of token; ending one that does not exist is no error.
	DeleteSession(ctx context.Context, token string) error
}

// Sign-in throttling: after SignInMaxFailures failures within SignInWindow for one username (or
// from one client address), sign-in is refused for SignInLockout.
const (
	SignInMaxFailures = 5
	SignInWindow      = 15 * time.Minute
	SignInLockout     = 15 * time.Minute
)

// SignInThrottle counts failed sign-ins.
type SignInThrottle interface {
	// SignInAllowed reports whether a sign-in for username from ip may be tried now.
	SignInAllowed(ctx context.Context, username, ip string) (bool, error)
	// SignInFailed counts one failure against username and ip.
	SignInFailed(ctx context.Context, username, ip string) error
	// SignInSucceeded clears username's failures.
	SignInSucceeded(ctx context.Context, username string) error
}

// String describes a user without the hash, for logs and messages.
func (u User) String() string {
	return fmt.Sprintf("%s (%s)", u.Username, u.Role)
}
