package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
	"github.com/breachd/breachd/letters"
	"github.com/breachd/breachd/notify/email"
	"github.com/breachd/breachd/web"
	"github.com/redis/go-redis/v9"
)

// env is the console over the real API and a Redis database of its own, with a clock the test sets.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	store *jobs.Store
	rdb   *redis.Client
	logs  *syncBuffer
	mu    sync.Mutex
	now   time.Time
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func (e *env) clock() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.now }
func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

var sender = letters.Sender{Organization: "Metropolitan School District of Pike Creek",
	ReturnAddress: []string{"6901 Zionsville Rd", "Indianapolis IN 46268"}, Phone: "(317) 555-0199"}

// The test accounts, one per role, all with this password.
const password = "correct horse battery"

func newEnv(t testing.TB) *env {
	t.Helper()
	rdb := redistest.New(t)
	e := &env{t: t, now: time.Date(2026, 3, 20, 15, 0, 0, 0, time.UTC), logs: &syncBuffer{}}
	store := jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{7}, 32)), jobs.WithClock(e.clock))
	e.store, e.rdb = store, rdb
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	renderer, err := letters.NewRenderer(letters.Options{Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	mailer, err := email.NewOutbox(email.OutboxConfig{Dir: t.TempDir(), From: "notices@pikecreek.example.org", FromName: sender.Organization})
	if err != nil {
		t.Fatal(err)
	}
	queue := jobs.NewQueue(rdb)
	composer := letters.NewComposer(sender)
	worker, err := jobs.NewWorker(jobs.WorkerConfig{Store: store, Queue: queue, Redis: rdb, Mailer: mailer, Composer: composer,
		Clock: e.clock, Logger: logger, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	printer := letters.NewPrinter(renderer, sender)
	h, err := api.New(api.Config{
		Store: store, Recipients: store, Notices: store,
		Dispatcher: jobs.NewDispatcher(jobs.DispatcherConfig{Store: store, Queue: queue, Clock: e.clock}),
		Calls:      worker, Composer: composer, Bounces: worker,
		PrintRoom: jobs.NewPrintRoom(store, printer, e.clock, nil),
		Printer:   printer, Documents: letters.NewDocuments(renderer, sender), DeadLetters: worker,
		Keys: &api.Keys{}, Logger: logger, Now: e.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	console, err := web.New(web.Config{API: h, Users: store, Sessions: store, Throttle: store, Logger: logger, Now: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(console)
	t.Cleanup(e.srv.Close)
	for _, u := range []struct {
		name string
		role breach.Role
	}{{"dana", breach.RoleAdmin}, {"sam", breach.RoleClerk}, {"avery", breach.RoleAuditor}} {
		e.addUser(u.name, u.role)
	}
	return e
}

var hashOnce = sync.OnceValue(func() string {
	h, err := web.HashPassword(password, web.DefaultBcryptCost)
	if err != nil {
		panic(err)
	}
	return h
})

func (e *env) addUser(name string, role breach.Role) {
	e.t.Helper()
	if err := e.store.CreateUser(e.t.Context(), breach.User{Username: name, DisplayName: strings.ToUpper(name[:1]) + name[1:] + " Tester",
		Role: role, PasswordHash: hashOnce()}); err != nil {
		e.t.Fatal(err)
	}
}

// browser is one person's cookie jar; it does not follow redirects, so tests see them.
type browser struct {
	e      *env
	client *http.Client
	csrf   string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	Status int
	Header http.Header
	Body   string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	res, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return page{Status: res.StatusCode, Header: res.Header, Body: string(body)}
}

func (b *browser) get(path string) page {
	b.e.t.Helper()
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	return b.do(req)
}

// post sends a form with the page's CSRF token (unless the form sets csrf itself).
func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// signIn signs in as name and loads the breaches page (so the CSRF token is known).
func (e *env) signIn(name string) *browser {
	e.t.Helper()
	b := e.browser()
	p := b.post("/signin", url.Values{"username": {name}, "password": {password}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/breaches" {
		e.t.Fatalf("sign in as %s: %d %s", name, p.Status, p.Body)
	}
	if p := b.get("/breaches"); p.Status != http.StatusOK {
		e.t.Fatalf("breaches after sign-in: %d", p.Status)
	}
	return b
}

// determinationForm is a valid new-breach form.
func determinationForm() url.Values {
	return url.Values{
		"title":                   {"Stolen laptop with payroll export"},
		"discovered_on":           {"2026-03-03"},
		"description":             {"A staff laptop holding an unencrypted payroll export was stolen from a car."},
		"data_elements":           {"name", "ssn"},
		"risk_of_harm":            {"likely"},
		"affected_count":          {"1200"},
		"remediation":             {"Laptops are now encrypted."},
		"assistance_phone":        {"+1 317 555 0100"},
		"contact_info_sufficient": {"on"},
		"reporter.name":           {"Dana Whitfield"},
	}
}

// createBreach records a breach through the form as dana and returns its ID.
func (e *env) createBreach(b *browser) string {
	e.t.Helper()
	b.get("/breaches/new")
	f := determinationForm()
	f.Set("action", "save")
	p := b.post("/breaches/new", f)
	if p.Status != http.StatusSeeOther {
		e.t.Fatalf("create breach: %d %s", p.Status, p.Body)
	}
	return strings.TrimPrefix(p.Header.Get("Location"), "/breaches/")
}

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page does not contain %q", w)
		}
	}
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatal(err)
	}
}
