package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
	"github.com/breachd/breachd/api/apitest"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
	"github.com/breachd/breachd/letters"
	"github.com/breachd/breachd/notify/email"
	"github.com/breachd/breachd/notify/voice"
	"github.com/redis/go-redis/v9"
)

// testKeys are the API keys of the test service, one per role.
var testKeys = map[breach.Role]string{
	breach.RoleAdmin:   "admin-key-0123456789abcdef",
	breach.RoleClerk:   "clerk-key-0123456789abcdef",
	breach.RoleAuditor: "auditor-key-0123456789abcdef",
}

// noKey and badKey are pseudo-roles for requests without a valid key.
const (
	noKey  breach.Role = "none"
	badKey breach.Role = "bad-key"
)

// env is a running API over a real Redis database of its own, with a clock the test sets.
type env struct {
	t        testing.TB
	srv      *httptest.Server
	handler  http.Handler
	contract *apitest.Contract
	logs     *apitest.SyncBuffer

	// The dispatch half, for tests that run the worker or look into Redis.
	rdb       *redis.Client
	store     *jobs.Store
	queue     *jobs.Queue
	worker    *jobs.Worker
	workerCfg jobs.WorkerConfig
	outbox    string // the directory the email notices are written to

	mu  sync.Mutex
	now time.Time
}

type envOption func(*api.Config)

// sender is the school the test letters and emails come from.
var sender = letters.Sender{Organization: "Metropolitan School District of Pike Creek",
	ReturnAddress: []string{"6901 Zionsville Rd", "Indianapolis IN 46268"}, Phone: "(317) 555-0199",
	Website: "www.pikecreek.k12.in.us", Signatory: "Dr. Jane Smith", SignatoryRole: "Superintendent"}

// channels are the delivery channels of a test service; the zero value writes emails to an outbox
// directory and leaves calls to clerks.
type channels struct {
	mailer      breach.Mailer
	caller      breach.Caller
	twilioToken string // with caller: verifies the webhook's signatures
	// rdb is the Redis to use; nil: a database of its own on the test server (redistest).
	rdb *redis.Client
}

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	return newEnvWith(t, channels{}, opts...)
}

func newEnvWith(t testing.TB, ch channels, opts ...envOption) *env {
	t.Helper()
	rdb := ch.rdb
	if rdb == nil {
		rdb = redistest.New(t)
	}
	// Encrypted at rest, as in production.
	e := &env{t: t, now: time.Date(2026, 3, 20, 15, 0, 0, 0, time.UTC), logs: &apitest.SyncBuffer{}}
	store := jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{7}, 32)), jobs.WithClock(e.clock),
		jobs.WithSigningKey(testSigningKey))
	keys := &api.Keys{}
	for role, k := range testKeys {
		if err := keys.Add(role, k); err != nil {
			t.Fatal(err)
		}
	}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	renderer, err := letters.NewRenderer(letters.Options{Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	e.outbox = t.TempDir()
	var mailer breach.Mailer = ch.mailer
	if mailer == nil {
		if mailer, err = email.NewOutbox(email.OutboxConfig{Dir: e.outbox, From: "notices@pikecreek.example.org", FromName: sender.Organization}); err != nil {
			t.Fatal(err)
		}
	}
	// The server starts first: Twilio's callbacks need its URL.
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.handler.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	e.rdb, e.store = rdb, store
	e.queue = jobs.NewQueue(rdb)
	e.workerCfg = jobs.WorkerConfig{Store: store, Queue: e.queue, Redis: rdb, Mailer: mailer, Caller: ch.caller, PublicURL: e.srv.URL,
		Composer: letters.NewComposer(sender), Clock: e.clock, Logger: logger, PollInterval: 50 * time.Millisecond}
	worker, err := jobs.NewWorker(e.workerCfg)
	if err != nil {
		t.Fatal(err)
	}
	e.worker = worker
	retention, err := jobs.NewRetention(jobs.RetentionConfig{Store: store, Period: breach.RetentionPeriod{Years: 7}, Clock: e.clock, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	cfg := api.Config{
		Store:       store,
		Recipients:  store,
		Uploads:     store,
		Notices:     store,
		Dispatcher:  jobs.NewDispatcher(jobs.DispatcherConfig{Store: store, Queue: e.queue, Clock: e.clock, TwilioCalls: ch.caller != nil}),
		Calls:       worker,
		Composer:    letters.NewComposer(sender),
		Bounces:     worker,
		PrintRoom:   jobs.NewPrintRoom(store, letters.NewPrinter(renderer, sender), e.clock, nil),
		Printer:     letters.NewPrinter(renderer, sender),
		Documents:   letters.NewDocuments(renderer, sender),
		DeadLetters: worker,
		Audit:       store,
		Evidence:    store,
		Proofs:      letters.NewDocuments(renderer, sender),
		Retention:   retention,
		Keys:        keys,
		Ready:       store.Ping,
		Logger:      logger,
		Now:         e.clock,
	}
	if ch.caller != nil {
		token, public := ch.twilioToken, e.srv.URL
		cfg.TwilioCallback = func(r *http.Request) (breach.CallStatus, error) {
			return voice.ReadStatusCallback(token, public, r)
		}
	}
	for _, o := range opts {
		o(&cfg)
	}
	h, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.handler = h
	e.contract = apitest.New(t)
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) setNow(t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = t
}

// response is what a request got back, already checked against openapi.yaml.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// problem decodes an application/problem+json body.
func (r response) problem(t *testing.T) api.Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json (body %s)", ct, r.Body)
	}
	var p api.Problem
	r.json(t, &p)
	if p.Status != r.Status {
		t.Fatalf("problem status %d != HTTP status %d", p.Status, r.Status)
	}
	return p
}

// fields returns "field: reason" of every invalid field of a 422.
func (r response) fields(t *testing.T) map[string]string {
	t.Helper()
	p := r.problem(t)
	out := map[string]string{}
	if p.Errors != nil {
		for _, f := range *p.Errors {
			out[f.Field] = f.Reason
		}
	}
	return out
}

// do sends a request as role (noKey: no Authorization; badKey: an unknown key). body may be nil, a
// string or []byte (sent as is, as JSON) or any value (marshalled). Every response whose route is
// in the contract is validated against openapi.yaml: status, headers and body.
func (e *env) do(method, path string, role breach.Role, body any) response {
	e.t.Helper()
	return e.doContentType(method, path, role, body, "application/json")
}

func (e *env) doContentType(method, path string, role breach.Role, body any, contentType string) response {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	switch role {
	case noKey:
	case badKey:
		req.Header.Set("Authorization", "Bearer not-a-key-of-this-service")
	default:
		req.Header.Set("Authorization", "Bearer "+testKeys[role])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	e.contract.Check(e.t, req, raw, res, got)
	return response{Status: res.StatusCode, Header: res.Header, Body: got}
}

// determination returns a valid determination body with overrides applied.
func determination(overrides map[string]any) map[string]any {
	d := map[string]any{
		"title":            "Stolen laptop with payroll export",
		"discovered_on":    "2026-03-03",
		"occurred_on":      "2026-03-01",
		"description":      "A staff laptop holding an unencrypted payroll export was stolen from a car.",
		"data_elements":    []string{"name", "ssn", "financial_account"},
		"risk_of_harm":     "likely",
		"affected_count":   1200,
		"remediation":      "Laptops are now encrypted; payroll exports are disabled on staff machines.",
		"assistance_phone": "+1 317 555 0100",
		"category":         "data",
		"severity":         "major",
		"reporter":         map[string]any{"name": "Dana Whitfield", "role": "Technology coordinator", "email": "dana.whitfield@example.org", "anonymous": false},
		// The people of the sample export read English, Spanish and Vietnamese: Spanish has its text
		// here; Vietnamese has no template, and tests that dispatch record its English fallback.
		"translations": map[string]any{"es": map[string]any{
			"description": spanishDescription,
			"remediation": spanishRemediation,
		}},
	}
	for k, v := range overrides {
		if v == nil {
			delete(d, k)
			continue
		}
		d[k] = v
	}
	return d
}

// The default determination's Spanish text.
const (
	spanishDescription = "Robaron de un automóvil una computadora portátil del personal que contenía una exportación de nómina sin cifrar."
	spanishRemediation = "Las computadoras portátiles ahora están cifradas; las exportaciones de nómina están desactivadas en los equipos del personal."
)

// englishFallback records that the people who need lang get the English notice.
func englishFallback(t *testing.T, e *env, breachID, lang string) {
	t.Helper()
	r := e.do("POST", "/v1/breaches/"+breachID+"/languages/"+lang+"/english-fallback", breach.RoleAdmin,
		map[string]any{"reason": "No translator is available before the deadline; the family liaison will call."})
	if r.Status != http.StatusOK {
		t.Fatalf("english fallback for %s: %d %s", lang, r.Status, r.Body)
	}
}

// uploadSample uploads testdata/recipients-sample.csv (ten people kept, every channel, minors,
// Spanish and Vietnamese readers) to the breach and declares the list complete, so the ten people,
// not the determination's estimate, govern the plan.
func uploadSample(t *testing.T, e *env, breachID string) {
	t.Helper()
	sample, err := os.ReadFile("testdata/recipients-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	if r := e.doContentType("POST", "/v1/breaches/"+breachID+"/recipients", breach.RoleAdmin, sample, "text/csv"); r.Status != http.StatusOK {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", "/v1/breaches/"+breachID+"/recipients/complete", breach.RoleAdmin, nil); r.Status != http.StatusOK {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
}

// dispatchSample records the default breach with the sample uploaded and complete and the
// Vietnamese family's English fallback, and dispatches it.
func dispatchSample(t *testing.T, e *env) api.BreachView {
	t.Helper()
	b := createBreach(t, e, nil)
	uploadSample(t, e, b.ID)
	englishFallback(t, e, b.ID, "vi") // the Nguyễn family: no Vietnamese template
	if r := e.do("POST", "/v1/breaches/"+b.ID+"/dispatch", breach.RoleAdmin, nil); r.Status != http.StatusOK {
		t.Fatalf("dispatch: %d %s", r.Status, r.Body)
	}
	return b
}

// dispatchedSample starts e's worker and dispatches the sample (dispatchSample). It returns the
// breach and, once both are sent, its two emails by address.
func dispatchedSample(t *testing.T, e *env) (api.BreachView, map[string]breach.Notice) {
	t.Helper()
	if err := e.worker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.worker.Shutdown)
	b := dispatchSample(t, e)
	sent := waitFor(t, "both emails sent", func() ([]breach.Notice, bool) {
		var l api.NoticeList
		e.do("GET", "/v1/breaches/"+b.ID+"/notices?channel=email&status=sent", breach.RoleClerk, nil).json(t, &l)
		return l.Items, len(l.Items) == 2
	})
	emails := make(map[string]breach.Notice, len(sent))
	for _, n := range sent {
		emails[n.Email] = n
	}
	return b, emails
}

func mustContainAll(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%q does not contain %q", got, w)
		}
	}
}

// waiveOpen returns a waiver, with its reason, for every obligation of the breach still open: what
// a close of a breach whose duties are not all done must carry.
func waiveOpen(t *testing.T, e *env, id, reason string) []map[string]any {
	t.Helper()
	var l api.ObligationList
	if r := e.do("GET", "/v1/breaches/"+id+"/obligations", breach.RoleAuditor, nil); r.Status != 200 {
		t.Fatalf("obligations: %d %s", r.Status, r.Body)
	} else {
		r.json(t, &l)
	}
	var w []map[string]any
	for _, o := range l.Items {
		if o.Status == breach.ObligationOpen {
			w = append(w, map[string]any{"obligation": o.ID, "reason": reason})
		}
	}
	return w
}
