package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
)

func TestUserCommand(t *testing.T) {
	rdb := redistest.New(t)
	o := rdb.Options()
	env := map[string]string{"REDIS_URL": fmt.Sprintf("redis://%s/%d", o.Addr, o.DB)}
	getenv := func(k string) string { return env[k] }
	run := func(stdin string, args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := userCommand(t.Context(), args, getenv, strings.NewReader(stdin), &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, msg := run("a good long password\n", "add", "dana", "--role", "admin", "--name", "Dana Whitfield"); code != 0 {
		t.Fatalf("add: %d %s", code, msg)
	}
	store := jobs.NewStore(rdb)
	u, err := store.User(t.Context(), "dana")
	if err != nil || u.Role != breach.RoleAdmin || u.DisplayName != "Dana Whitfield" {
		t.Fatalf("stored %+v %v", u, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("a good long password")) != nil {
		t.Error("the stored hash does not match the password")
	}
	if cost, _ := bcrypt.Cost([]byte(u.PasswordHash)); cost < 12 {
		t.Errorf("bcrypt cost %d, want at least 12", cost)
	}
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"short\n", []string{"add", "sam", "--role", "clerk"}, "at least 12 characters"},
		{"a good long password\n", []string{"add", "sam", "--role", "boss"}, "not a role"},
		{"a good long password\n", []string{"add", "dana", "--role", "clerk"}, "taken"},
		{"a good long password\n", []string{"passwd", "nobody"}, "no such user"},
	} {
		if code, msg := run(c.stdin, c.args...); code == 0 || !strings.Contains(msg, c.want) {
			t.Errorf("%v: %d %q, want a failure saying %q", c.args, code, msg, c.want)
		}
	}
	if code, msg := run("", "disable", "dana"); code != 0 {
		t.Fatalf("disable: %d %s", code, msg)
	}
	if u, _ := store.User(t.Context(), "dana"); !u.Disabled {
		t.Error("dana is not disabled")
	}
	env["REDIS_URL"] = ""
	if code, _ := run("", "disable", "dana"); code != 2 {
		t.Errorf("without REDIS_URL: %d, want 2", code)
	}
}

// TestRouting: the API keeps its paths; every other path is the console's.
func TestRouting(t *testing.T) {
	mark := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(name)) })
	}
	h := withConsole(mark("api"), mark("console"))
	for path, want := range map[string]string{
		"/v1/breaches": "api", "/healthz": "api", "/readyz": "api", "/metrics": "api", "/openapi.yaml": "api",
		"/": "console", "/breaches": "console", "/signin": "console", "/assets/console.css": "console", "/v1x": "console",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Body.String() != want {
			t.Errorf("%s → %s, want %s", path, rec.Body.String(), want)
		}
	}
}
