package jobs_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
)

// add moves the clock (reminders_test.go) on by d.
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.New(t)
	s := jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{3}, 32)))
	dana := breach.User{Username: "dana", DisplayName: "Dana Whitfield", Role: breach.RoleAdmin, PasswordHash: "$2a$12$x"}
	if err := s.CreateUser(ctx, dana); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, dana); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("second create = %v, want conflict", err)
	}
	for _, bad := range []breach.User{
		{Username: "Dana", Role: breach.RoleAdmin},
		{Username: "dana smith", Role: breach.RoleAdmin},
		{Username: "x{y}", Role: breach.RoleAdmin},
		{Username: "sam", Role: "boss"},
	} {
		if err := s.CreateUser(ctx, bad); breach.ErrorCode(err) != breach.EINVALID {
			t.Errorf("create %q/%q = %v, want invalid", bad.Username, bad.Role, err)
		}
	}
	if err := s.CreateUser(ctx, breach.User{Username: "sam", DisplayName: "Sam", Role: breach.RoleClerk}); err != nil {
		t.Fatal(err)
	}
	got, err := s.User(ctx, "dana")
	if err != nil || got.DisplayName != "Dana Whitfield" || got.Role != breach.RoleAdmin || got.CreatedAt.IsZero() {
		t.Fatalf("User = %+v, %v", got, err)
	}
	if _, err := s.User(ctx, "nobody"); breach.ErrorCode(err) != breach.ENOTFOUND {
		t.Errorf("unknown user = %v, want not_found", err)
	}
	// The record is sealed: the display name is not readable in Redis.
	raw, _ := rdb.Get(ctx, "breachd:user:{dana}").Bytes()
	if len(raw) == 0 || bytes.Contains(raw, []byte("Whitfield")) {
		t.Errorf("user record in Redis = %q: want it present and sealed", raw)
	}
	up, err := s.UpdateUser(ctx, "sam", func(u *breach.User) error { u.Disabled = true; return nil })
	if err != nil || !up.Disabled {
		t.Fatalf("disable = %+v, %v", up, err)
	}
	if _, err := s.UpdateUser(ctx, "sam", func(u *breach.User) error { u.Role = "boss"; return nil }); breach.ErrorCode(err) != breach.EINVALID {
		t.Errorf("update to a bad role = %v, want invalid", err)
	}
	all, err := s.Users(ctx)
	if err != nil || len(all) != 2 || all[0].Username != "dana" || all[1].Username != "sam" || !all[1].Disabled {
		t.Errorf("Users = %+v, %v", all, err)
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.New(t)
	c := &clock{t: time.Date(2026, 3, 20, 8, 0, 0, 0, time.UTC)}
	s := jobs.NewStore(rdb, jobs.WithClock(c.now))

	token, sess, err := s.CreateSession(ctx, "dana")
	if err != nil {
		t.Fatal(err)
	}
	if len(token) < 43 || sess.CSRF == "" || sess.CSRF == token {
		t.Fatalf("token %q, csrf %q: want 32 random bytes each, different", token, sess.CSRF)
	}
	// Redis holds the token's hash, never the token.
	keys, _ := rdb.Keys(ctx, "breachd:session:*").Result()
	if len(keys) != 1 || strings.Contains(keys[0], token) {
		t.Fatalf("session keys %v", keys)
	}
	if ttl := rdb.TTL(ctx, keys[0]).Val(); ttl <= 0 || ttl > breach.SessionIdle {
		t.Errorf("session TTL %v, want at most the idle expiry", ttl)
	}
	if _, err := s.Session(ctx, token+"x"); breach.ErrorCode(err) != breach.EUNAUTHORIZED {
		t.Errorf("wrong token = %v, want unauthorized", err)
	}

	// Used every 20 minutes, it lives on, until 12 hours after sign-in.
	for c.now().Sub(sess.CreatedAt) < breach.SessionAbsolute-20*time.Minute {
		c.add(20 * time.Minute)
		if _, err := s.Session(ctx, token); err != nil {
			t.Fatalf("after %v: %v", c.now().Sub(sess.CreatedAt), err)
		}
	}
	c.t = sess.CreatedAt.Add(breach.SessionAbsolute)
	if _, err := s.Session(ctx, token); breach.ErrorCode(err) != breach.EUNAUTHORIZED {
		t.Errorf("12 h after sign-in = %v, want unauthorized", err)
	}

	// Idle for 30 minutes, it ends.
	token2, _, _ := s.CreateSession(ctx, "dana")
	c.add(breach.SessionIdle - time.Second)
	if _, err := s.Session(ctx, token2); err != nil {
		t.Fatalf("just under idle: %v", err)
	}
	c.add(breach.SessionIdle)
	if _, err := s.Session(ctx, token2); breach.ErrorCode(err) != breach.EUNAUTHORIZED {
		t.Errorf("idle 30 min = %v, want unauthorized", err)
	}

	// Signed out, it is gone.
	token3, _, _ := s.CreateSession(ctx, "dana")
	if err := s.DeleteSession(ctx, token3); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, token3); breach.ErrorCode(err) != breach.EUNAUTHORIZED {
		t.Errorf("after sign-out = %v, want unauthorized", err)
	}
}

func TestSignInThrottle(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.New(t)
	s := jobs.NewStore(rdb)
	allowed := func(user, ip string) bool {
		t.Helper()
		ok, err := s.SignInAllowed(ctx, user, ip)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for i := 1; i < breach.SignInMaxFailures; i++ {
		if err := s.SignInFailed(ctx, "dana", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if !allowed("dana", "192.0.2.1") {
			t.Fatalf("refused after %d failures, want %d allowed", i, breach.SignInMaxFailures)
		}
	}
	// A success clears the username's count.
	if err := s.SignInSucceeded(ctx, "dana"); err != nil {
		t.Fatal(err)
	}
	for range breach.SignInMaxFailures - 1 {
		_ = s.SignInFailed(ctx, "dana", "198.51.100.7")
	}
	if !allowed("dana", "203.0.113.9") {
		t.Fatal("refused although a success cleared the earlier failures")
	}
	_ = s.SignInFailed(ctx, "Dana", "198.51.100.7") // the same name, however typed
	if allowed("dana", "203.0.113.9") {
		t.Error("dana allowed from a new address after 5 failures, want refused")
	}
	if ttl := rdb.PTTL(ctx, "breachd:signin:lock:user:dana").Val(); ttl <= breach.SignInLockout-time.Minute || ttl > breach.SignInLockout {
		t.Errorf("lockout lasts %v, want %v", ttl, breach.SignInLockout)
	}
	if !allowed("sam", "203.0.113.9") {
		t.Error("another user from another address refused")
	}
	// The second address failed 5 times (at two names): locked for everyone; the first only 4.
	if allowed("sam", "198.51.100.7") {
		t.Error("sam allowed from 198.51.100.7, which failed 5 times")
	}
	if !allowed("sam", "192.0.2.1") {
		t.Error("sam refused from 192.0.2.1, which failed only 4 times")
	}
}
