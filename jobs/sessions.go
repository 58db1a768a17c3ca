package jobs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
)

var (
	_ breach.SessionStore   = (*Store)(nil)
	_ breach.SignInThrottle = (*Store)(nil)
)

// Redis keys of sessions and sign-in throttling. Persisted contracts: never rename one.
const (
	// keySessionFmt holds one session: JSON of breach.Session, sealed when a key is configured,
	// under the SHA-256 (hex) of its token, so a dump of Redis holds no usable token.
	keySessionFmt = "breachd:session:{%s}"
	// keySignInFailsFmt counts the failed sign-ins of one subject ("user:<name>" or "ip:<addr>")
	// in the current window; it expires SignInWindow after the first failure.
	keySignInFailsFmt = "breachd:signin:fails:%s"
	// keySignInLockFmt exists while sign-in is refused for the subject.
	keySignInLockFmt = "breachd:signin:lock:%s"
)

// sessionTokenBytes is the size of a session token's randomness.
const sessionTokenBytes = 32

func sessionKey(token string) string {
	h := sha256.Sum256([]byte(token))
	return fmt.Sprintf(keySessionFmt, hex.EncodeToString(h[:]))
}

func newToken() string {
	b := make([]byte, sessionTokenBytes)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateSession starts a session for username with a fresh token and CSRF token.
func (s *Store) CreateSession(ctx context.Context, username string) (string, breach.Session, error) {
	now := s.now().UTC()
	sess := breach.Session{Username: username, CSRF: newToken(), CreatedAt: now, LastSeen: now}
	token := newToken()
	if err := s.putSession(ctx, token, sess, now); err != nil {
		return "", breach.Session{}, err
	}
	return token, sess, nil
}

// Session returns the session of token and moves its idle expiry on. An expired session (idle
// for SessionIdle, or SessionAbsolute after sign-in, by the store's clock) is deleted.
func (s *Store) Session(ctx context.Context, token string) (breach.Session, error) {
	none := breach.Errorf(breach.EUNAUTHORIZED, "not signed in, or the session has expired")
	if token == "" || len(token) > 128 {
		return breach.Session{}, none
	}
	key := sessionKey(token)
	data, err := s.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return breach.Session{}, none
	}
	if err != nil {
		return breach.Session{}, storeErr("read session", err)
	}
	plain, err := s.open([]byte(key), data)
	if err != nil {
		return breach.Session{}, err
	}
	var sess breach.Session
	if err := json.Unmarshal(plain, &sess); err != nil {
		return breach.Session{}, fmt.Errorf("decode session: %w", err)
	}
	now := s.now().UTC()
	if now.Sub(sess.LastSeen) >= breach.SessionIdle || now.Sub(sess.CreatedAt) >= breach.SessionAbsolute {
		_ = s.rdb.Del(ctx, key).Err()
		return breach.Session{}, none
	}
	sess.LastSeen = now
	if err := s.putSession(ctx, token, sess, now); err != nil {
		return breach.Session{}, err
	}
	return sess, nil
}

// DeleteSession ends the session of token.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return storeErr("delete session", s.rdb.Del(ctx, sessionKey(token)).Err())
}

func (s *Store) putSession(ctx context.Context, token string, sess breach.Session, now time.Time) error {
	b, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	key := sessionKey(token)
	// Redis forgets the session when it would have expired anyway (idle or absolute, whichever
	// comes first); Session checks both times itself so expiry follows the store's clock.
	ttl := breach.SessionIdle
	if abs := sess.CreatedAt.Add(breach.SessionAbsolute).Sub(now); abs < ttl {
		ttl = abs
	}
	if ttl <= 0 {
		ttl = time.Second
	}
	return storeErr("write session", s.rdb.Set(ctx, key, s.seal([]byte(key), b), ttl).Err())
}

// throttleSubjects names what a sign-in attempt counts against: the username (lower-cased, so
// "Dana" and "dana" share a count) and the client address.
func throttleSubjects(username, ip string) []string {
	subjects := []string{"user:" + strings.ToLower(username)}
	if ip != "" {
		subjects = append(subjects, "ip:"+ip)
	}
	return subjects
}

// SignInAllowed reports whether neither the username nor the address is locked out.
func (s *Store) SignInAllowed(ctx context.Context, username, ip string) (bool, error) {
	subjects := throttleSubjects(username, ip)
	keys := make([]string, len(subjects))
	for i, sub := range subjects {
		keys[i] = fmt.Sprintf(keySignInLockFmt, sub)
	}
	n, err := s.rdb.Exists(ctx, keys...).Result()
	if err != nil {
		return false, storeErr("read sign-in lock", err)
	}
	return n == 0, nil
}

// signInFail counts one failure in a window that starts at the first; the failure that reaches
// the limit sets the lock. One script, so concurrent failures cannot slip past the count.
var signInFail = redis.NewScript(`
local n = redis.call("INCR", KEYS[1])
if n == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
if n >= tonumber(ARGV[3]) then
  redis.call("SET", KEYS[2], "1", "PX", ARGV[2])
  redis.call("DEL", KEYS[1])
end
return n`)

// SignInFailed counts one failure against the username and the address.
func (s *Store) SignInFailed(ctx context.Context, username, ip string) error {
	for _, sub := range throttleSubjects(username, ip) {
		err := signInFail.Run(ctx, s.rdb,
			[]string{fmt.Sprintf(keySignInFailsFmt, sub), fmt.Sprintf(keySignInLockFmt, sub)},
			breach.SignInWindow.Milliseconds(), breach.SignInLockout.Milliseconds(), breach.SignInMaxFailures).Err()
		if err != nil {
			return storeErr("count sign-in failure", err)
		}
	}
	return nil
}

// SignInSucceeded clears the username's failures (not the address's: one good password from an
// address does not excuse the guesses made from it at other names).
func (s *Store) SignInSucceeded(ctx context.Context, username string) error {
	sub := throttleSubjects(username, "")[0]
	return storeErr("clear sign-in failures", s.rdb.Del(ctx, fmt.Sprintf(keySignInFailsFmt, sub)).Err())
}
