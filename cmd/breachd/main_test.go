package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachd/breachd/api/apitest"
	"github.com/breachd/breachd/jobs/redistest"
	"github.com/breachd/breachd/notify/dsn/imaptest"
)

// runMainEnv makes the test binary run main instead of the tests (TestHelpStartsNothing).
const runMainEnv = "BREACHD_TEST_RUN_MAIN"

// TestMain stops at once, with one line, when the test Redis does not answer.
func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	redistest.Main(m)
}

// service is breachd started by run, as main starts it, on a free port.
type service struct {
	t        *testing.T
	contract *apitest.Contract
	base     string
	stdout   *apitest.SyncBuffer
	stderr   *apitest.SyncBuffer
	cancel   context.CancelFunc
	done     chan error
}

func start(t *testing.T, env map[string]string) *service {
	t.Helper()
	env["BREACHD_ADDR"] = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	s := &service{t: t, contract: apitest.New(t), stdout: &apitest.SyncBuffer{}, stderr: &apitest.SyncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		s.done <- run(ctx, func(k string) string { return env[k] }, s.stdout, s.stderr, func(a string) { addr <- a })
	}()
	select {
	case a := <-addr:
		s.base = "http://" + a
	case err := <-s.done:
		t.Fatalf("run returned before listening: %v\n%s", err, s.stdout.String())
	case <-time.After(10 * time.Second):
		t.Fatal("breachd did not start listening within 10s")
	}
	t.Cleanup(func() { s.stop() })
	return s
}

// stop cancels the service as SIGTERM would and waits for an orderly return.
func (s *service) stop() {
	s.t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Fatalf("run returned %v on shutdown", err)
		}
	case <-time.After(20 * time.Second):
		s.t.Fatal("breachd did not shut down within 20s")
	}
}

func (s *service) call(method, path, key string, body any) (int, map[string]any) {
	s.t.Helper()
	var raw []byte
	contentType := ""
	if body != nil {
		raw, _ = json.Marshal(body)
		contentType = "application/json"
	}
	return s.send(method, path, key, contentType, raw)
}

// send is call with a body of any media type.
func (s *service) send(method, path, key, contentType string, raw []byte) (int, map[string]any) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.base+path, bytes.NewReader(raw))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	got, _ := io.ReadAll(res.Body)
	s.contract.Check(s.t, req, raw, res, got)
	_ = json.Unmarshal(got, &out)
	return res.StatusCode, out
}

const (
	adminKey   = "e2e-admin-key-0123456789"
	auditorKey = "e2e-auditor-key-0123456789"
	clerkKey   = "e2e-clerk-key-0123456789"
)

// TestEndToEnd boots the real wiring against a real Redis and walks the README: create a breach,
// read its plan, place and release a hold, read the events; then shuts down in order.
func TestEndToEnd(t *testing.T) {
	rdb := redistest.New(t)
	o := rdb.Options()
	redisURL := fmt.Sprintf("redis://%s/%d", o.Addr, o.DB)
	if o.Password != "" {
		redisURL = fmt.Sprintf("redis://:%s@%s/%d", o.Password, o.Addr, o.DB)
	}
	s := start(t, map[string]string{
		"BREACHD_SENDER_NAME":    "Metropolitan School District of Pike Creek",
		"BREACHD_SENDER_ADDRESS": "6901 Zionsville Rd|Indianapolis IN 46268",
		"BREACHD_MAIL_FROM":      "notices@pikecreek.example.org",
		"BREACHD_OUTBOX_DIR":     t.TempDir(),
		"REDIS_URL":              redisURL,
		"BREACHD_API_KEYS":       "admin:" + adminKey + ",auditor:" + auditorKey + ",clerk:" + clerkKey,
		"BREACHD_ENCRYPTION_KEY": strings.Repeat("ab", 32),
	})

	if code, _ := s.call("GET", "/readyz", "", nil); code != 200 {
		t.Fatalf("readyz %d", code)
	}
	det := map[string]any{
		"title": "Phishing: payroll mailbox", "discovered_on": "2026-03-03", "data_elements": []string{"name", "ssn"},
		"risk_of_harm": "likely", "affected_count": 1001, "indiana_residents": 1001,
		"description": "A payroll clerk's mailbox was accessed.", "remediation": "Passwords reset; MFA enforced.",
		"assistance_phone": "+1 317 555 0100", "reporter": map[string]any{"name": "Rowan Reporter", "anonymous": false},
	}
	if code, _ := s.call("POST", "/v1/breaches", clerkKey, map[string]any{"determination": det}); code != 403 {
		t.Fatalf("clerk created a breach: %d", code)
	}
	code, b := s.call("POST", "/v1/breaches", adminKey, map[string]any{"determination": det})
	if code != 201 {
		t.Fatalf("create: %d %v", code, b)
	}
	id := b["id"].(string)

	code, plan := s.call("GET", "/v1/breaches/"+id+"/plan?as_of=2026-03-20", auditorKey, nil)
	if code != 200 || plan["deadline"] != "2026-04-17" || plan["days_remaining"] != float64(28) ||
		plan["consumer_reporting_agencies"].(map[string]any)["required"] != true {
		t.Fatalf("plan: %d %v", code, plan)
	}

	code, held := s.call("POST", "/v1/breaches/"+id+"/holds", adminKey, map[string]any{"agency": "Indiana State Police", "start_date": "2026-03-10"})
	if code != 201 || held["status"] != "held" {
		t.Fatalf("hold: %d %v", code, held)
	}
	holdID := held["holds"].([]any)[0].(map[string]any)["id"].(string)
	code, plan = s.call("GET", "/v1/breaches/"+id+"/plan?as_of=2026-04-20", auditorKey, nil)
	if code != 200 || plan["held"] != true || plan["deadline"] != nil || plan["days_remaining"] != nil {
		t.Fatalf("plan under an open hold past day 45: %d %v", code, plan)
	}
	code, rel := s.call("POST", "/v1/breaches/"+id+"/holds/"+holdID+"/release", adminKey, map[string]any{"end_date": "2026-05-12"})
	if code != 200 || rel["status"] != "open" {
		t.Fatalf("release: %d %v", code, rel)
	}
	code, plan = s.call("GET", "/v1/breaches/"+id+"/plan?as_of=2026-05-12", auditorKey, nil)
	if code != 200 || plan["deadline"] != "2026-05-12" || plan["days_remaining"] != float64(0) {
		t.Fatalf("plan after release: %d %v", code, plan)
	}

	code, events := s.call("GET", "/v1/breaches/"+id+"/events", auditorKey, nil)
	if code != 200 {
		t.Fatalf("events: %d", code)
	}
	var types []string
	for _, ev := range events["items"].([]any) {
		types = append(types, ev.(map[string]any)["type"].(string))
	}
	if strings.Join(types, ",") != "breach.created,hold.placed,hold.released" {
		t.Fatalf("events %v", types)
	}

	// The reporter's name is encrypted at rest.
	raw, err := rdb.Get(context.Background(), "breachd:breach:{"+id+"}").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("Rowan Reporter")) {
		t.Fatal("the record holds the reporter's name in plain text")
	}

	s.stop()
	logs := s.stdout.String()
	for _, secret := range []string{adminKey, auditorKey, clerkKey, strings.Repeat("ab", 32), "Rowan Reporter"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
	for _, want := range []string{`"msg":"listening"`, `"msg":"shutting down"`, `"msg":"stopped"`, `api_keys=3`, `encryption=on`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	// The test server keeps nothing on disk, and breachd must say so.
	aof, _ := rdb.ConfigGet(context.Background(), "appendonly").Result()
	save, _ := rdb.ConfigGet(context.Background(), "save").Result()
	if aof["appendonly"] == "no" && save["save"] == "" && !strings.Contains(logs, "PERSISTS NOTHING") {
		t.Errorf("no warning that Redis persists nothing:\n%s", logs)
	}
}

// TestWorkerMode: a worker-only process runs the queue and serves only health and metrics.
func TestWorkerMode(t *testing.T) {
	rdb := redistest.New(t)
	o := rdb.Options()
	s := start(t, school(map[string]string{
		"REDIS_URL":          fmt.Sprintf("redis://%s/%d", o.Addr, o.DB),
		"BREACHD_API_KEYS":   "admin:" + adminKey,
		"BREACHD_MODE":       "worker",
		"BREACHD_OUTBOX_DIR": t.TempDir(),
	}))
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/v1/breaches": 404} {
		res, err := http.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, res.StatusCode, want)
		}
	}
	s.stop()
	if !strings.Contains(s.stdout.String(), "workers only") {
		t.Errorf("the log does not say the process runs workers only:\n%s", s.stdout.String())
	}
}

// TestBounceMailboxWired: with BREACHD_IMAP_* set the workers read the mailbox: a DSN that names
// no notice is listed at /v1/bounces/unmatched and marked read; the password is never logged.
func TestBounceMailboxWired(t *testing.T) {
	box := imaptest.New(t)
	raw, err := os.ReadFile("../../notify/dsn/testdata/unmatched.eml")
	if err != nil {
		t.Fatal(err)
	}
	uid := box.Append(t, raw)
	rdb := redistest.New(t)
	o := rdb.Options()
	s := start(t, school(map[string]string{
		"REDIS_URL":             fmt.Sprintf("redis://%s/%d", o.Addr, o.DB),
		"BREACHD_API_KEYS":      "admin:" + adminKey + ",auditor:" + auditorKey,
		"BREACHD_OUTBOX_DIR":    t.TempDir(),
		"BREACHD_IMAP_HOST":     box.Host,
		"BREACHD_IMAP_PORT":     fmt.Sprint(box.Port),
		"BREACHD_IMAP_USERNAME": imaptest.Username,
		"BREACHD_IMAP_PASSWORD": imaptest.Password,
		"BREACHD_IMAP_TLS":      "none",
		"BREACHD_IMAP_INTERVAL": "1s",
	}))
	var items []any
	waitUntil := time.Now().Add(10 * time.Second)
	for len(items) == 0 && time.Now().Before(waitUntil) {
		status, body := s.call("GET", "/v1/bounces/unmatched", auditorKey, nil)
		if status != 200 {
			t.Fatalf("list: %d %v", status, body)
		}
		items, _ = body["items"].([]any)
		time.Sleep(50 * time.Millisecond)
	}
	if len(items) != 1 {
		t.Fatalf("unmatched bounces %v", items)
	}
	if f := box.Flags(t)[uid]; !slices.Contains(f, `\Seen`) {
		t.Fatalf("the DSN was not marked read: %v", f)
	}
	s.stop()
	if l := s.stdout.String(); !strings.Contains(l, "reading bounces") || strings.Contains(l, imaptest.Password) {
		t.Fatalf("the log does not say it reads bounces, or shows the password:\n%s", l)
	}
}

// TestEmbeddedMode: with no configuration at all the service runs on an in-memory Redis, says
// loudly that nothing survives, and prints an admin key that works.
func TestEmbeddedMode(t *testing.T) {
	outbox := t.TempDir()
	s := start(t, map[string]string{"BREACHD_OUTBOX_DIR": outbox})
	m := regexp.MustCompile(`export BREACHD_KEY=([0-9a-f]{48})`).FindStringSubmatch(s.stderr.String())
	if m == nil {
		t.Fatalf("no generated admin key on stderr:\n%s", s.stderr.String())
	}
	key := m[1]
	if !strings.Contains(s.stderr.String(), "listening at "+s.base+"\n") {
		t.Errorf("stderr does not say where the service listens (%s):\n%s", s.base, s.stderr.String())
	}
	code, b := s.call("POST", "/v1/breaches", key, map[string]any{"determination": map[string]any{
		"title": "Lost backup tape", "discovered_on": "2026-01-05", "data_elements": []string{"name", "ssn"},
		"risk_of_harm": "likely", "affected_count": 3, "description": "A backup tape was lost in transit.",
		"remediation": "Backups are now encrypted.", "assistance_phone": "+1 317 555 0100",
		"translations": map[string]any{"es": map[string]any{"description": "Se perdió una cinta de respaldo durante su traslado.",
			"remediation": "Las copias de respaldo ahora están cifradas."}}}})
	if code != 201 {
		t.Fatalf("create with the generated key: %d %v", code, b)
	}
	id := b["id"].(string)
	if code, got := s.call("GET", "/v1/breaches/"+id, key, nil); code != 200 || got["id"] != id {
		t.Fatalf("read back: %d %v", code, got)
	}
	// The whole dispatch path runs on the embedded store too: upload, dispatch (a locked
	// MULTI/EXEC per page), the notices listed and found by ID, the email written to the outbox.
	people := `{"external_id":"E-1","first_name":"Ana","last_name":"Ruiz","address_line1":"1 Main St","city":"Muncie","state":"IN","postal_code":"47305","preferred_channel":"mail","language":"es"}
{"external_id":"E-2","first_name":"Bo","last_name":"Lee","email":"bo@example.org","email_current":true,"preferred_channel":"email","language":"en"}
{"external_id":"S-3","first_name":"Cy","last_name":"Lee","minor":true,"guardian_name":"Di Lee","address_line1":"2 Oak Ln","city":"Muncie","state":"IN","postal_code":"47305","preferred_channel":"mail","language":"en"}
`
	if code, got := s.send("POST", "/v1/breaches/"+id+"/recipients", key, "application/x-ndjson", []byte(people)); code != 200 || got["accepted"] != float64(3) {
		t.Fatalf("upload: %d %v", code, got)
	}
	code, rep := s.call("POST", "/v1/breaches/"+id+"/dispatch", key, nil)
	if code != 200 || rep["created"].(map[string]any)["letter"] != float64(2) || rep["created"].(map[string]any)["email"] != float64(1) {
		t.Fatalf("dispatch: %d %v", code, rep)
	}
	code, list := s.call("GET", "/v1/breaches/"+id+"/notices", key, nil)
	items, _ := list["items"].([]any)
	if code != 200 || len(items) != 3 {
		t.Fatalf("notices: %d %v", code, list)
	}
	for _, it := range items {
		nid := it.(map[string]any)["id"].(string)
		if code, n := s.call("GET", "/v1/notices/"+nid, key, nil); code != 200 || n["notice"].(map[string]any)["breach_id"] != id {
			t.Fatalf("notice %s: %d %v", nid, code, n)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		emls, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
		if len(emls) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d emails in the outbox after 10 s, want 1", len(emls))
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop()
	logs := s.stdout.String()
	if !strings.Contains(logs, "NOTHING SURVIVES A RESTART") {
		t.Errorf("no loud warning about the embedded store:\n%s", logs)
	}
	if strings.Contains(logs, key) {
		t.Error("the generated key reached the logs")
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	hashed := sha256.Sum256([]byte("file-admin-key-0123456789"))
	keyFile := filepath.Join(dir, "keys")
	if err := os.WriteFile(keyFile, []byte("# keys\nadmin:sha256:"+hex.EncodeToString(hashed[:])+"\n\nauditor:file-auditor-key-0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		env     map[string]string
		wantErr string // "" = valid
	}{
		{"nothing set is valid (embedded mode)", map[string]string{}, ""},
		{"REDIS_URL needs keys", map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0"}, "BREACHD_API_KEYS or BREACHD_API_KEYS_FILE is required"},
		{"unknown role", map[string]string{"BREACHD_API_KEYS": "root:0123456789abcdef0"}, "BREACHD_API_KEYS: key 1"},
		{"short key", map[string]string{"BREACHD_API_KEYS": "admin:short"}, "at least 16"},
		{"same key twice", map[string]string{"BREACHD_API_KEYS": "admin:0123456789abcdef0,clerk:0123456789abcdef0"}, "twice"},
		{"keys and file", map[string]string{"BREACHD_API_KEYS": "admin:0123456789abcdef0", "BREACHD_API_KEYS_FILE": keyFile}, "not both"},
		{"missing key file", map[string]string{"BREACHD_API_KEYS_FILE": filepath.Join(dir, "nope")}, "BREACHD_API_KEYS_FILE"},
		{"key file with a hashed key", school(map[string]string{"BREACHD_API_KEYS_FILE": keyFile, "REDIS_URL": "redis://x:6379"}), ""},
		{"a real school names itself", map[string]string{"BREACHD_API_KEYS_FILE": keyFile, "REDIS_URL": "redis://x:6379"}, "BREACHD_SENDER_NAME is required"},
		{"bad mode", map[string]string{"BREACHD_MODE": "both"}, "BREACHD_MODE"},
		{"bad batch size", map[string]string{"BREACHD_BATCH_SIZE": "5000"}, "BREACHD_BATCH_SIZE"},
		{"bad SMTP TLS", map[string]string{"BREACHD_SMTP_HOST": "mail.example.org", "BREACHD_SMTP_TLS": "maybe"}, "BREACHD_SMTP_TLS"},
		{"Twilio needs a public URL", map[string]string{"BREACHD_TWILIO_ACCOUNT_SID": "AC1"}, "BREACHD_PUBLIC_URL"},
		{"IMAP needs a user", map[string]string{"BREACHD_IMAP_HOST": "imap.example.org", "BREACHD_IMAP_PASSWORD": "p"}, "BREACHD_IMAP_USERNAME is required"},
		{"IMAP needs a password", map[string]string{"BREACHD_IMAP_HOST": "imap.example.org", "BREACHD_IMAP_USERNAME": "u"}, "BREACHD_IMAP_PASSWORD is required"},
		{"bad IMAP TLS", imap(map[string]string{"BREACHD_IMAP_TLS": "opportunistic"}), "BREACHD_IMAP_TLS"},
		{"bad IMAP port", imap(map[string]string{"BREACHD_IMAP_PORT": "imaps"}), "BREACHD_IMAP_PORT"},
		{"bad IMAP interval", imap(map[string]string{"BREACHD_IMAP_INTERVAL": "10ms"}), "BREACHD_IMAP_INTERVAL"},
		{"IMAP set", imap(map[string]string{}), ""},
		{"bad encryption key", map[string]string{"BREACHD_ENCRYPTION_KEY": "abc"}, "BREACHD_ENCRYPTION_KEY"},
		{"bad retention unit", map[string]string{"BREACHD_RETENTION": "7 years"}, `BREACHD_RETENTION: "7 years": not "off" or a period`},
		{"retention of nothing", map[string]string{"BREACHD_RETENTION": "0d"}, "BREACHD_RETENTION"},
		{"retention in years", map[string]string{"BREACHD_RETENTION": "7y"}, ""},
		{"retention off", map[string]string{"BREACHD_RETENTION": "off"}, ""},
		{"bad log format", map[string]string{"BREACHD_LOG_FORMAT": "xml"}, "BREACHD_LOG_FORMAT"},
		{"bad log level", map[string]string{"BREACHD_LOG_LEVEL": "loud"}, "BREACHD_LOG_LEVEL"},
		{"bad shutdown timeout", map[string]string{"BREACHD_SHUTDOWN_TIMEOUT": "soon"}, "BREACHD_SHUTDOWN_TIMEOUT"},
		{"bad upload limit", map[string]string{"BREACHD_MAX_UPLOAD_BYTES": "1GB"}, "BREACHD_MAX_UPLOAD_BYTES"},
		{"Sentinels without REDIS_URL are a real store", school(map[string]string{"BREACHD_REDIS_SENTINELS": "s1:26379,s2:26379,s3:26379", "BREACHD_REDIS_MASTER": "mymaster", "BREACHD_API_KEYS": "admin:" + adminKey}), ""},
		{"Sentinels need keys", map[string]string{"BREACHD_REDIS_SENTINELS": "s1:26379", "BREACHD_REDIS_MASTER": "mymaster"}, "BREACHD_API_KEYS or BREACHD_API_KEYS_FILE is required when BREACHD_REDIS_SENTINELS is set"},
		{"Sentinels need the sender", map[string]string{"BREACHD_REDIS_SENTINELS": "s1:26379", "BREACHD_REDIS_MASTER": "mymaster", "BREACHD_API_KEYS": "admin:" + adminKey}, "BREACHD_SENDER_NAME is required when BREACHD_REDIS_SENTINELS is set"},
		{"Sentinels need the master's name", school(map[string]string{"BREACHD_REDIS_SENTINELS": "s1:26379", "BREACHD_API_KEYS": "admin:" + adminKey}), "BREACHD_REDIS_MASTER is required with BREACHD_REDIS_SENTINELS"},
		{"a Sentinel without a port", school(map[string]string{"BREACHD_REDIS_SENTINELS": "s1:26379,s2", "BREACHD_REDIS_MASTER": "m", "BREACHD_API_KEYS": "admin:" + adminKey}), `BREACHD_REDIS_SENTINELS: Sentinel 2 ("s2") is not host:port`},
		{"a Sentinel port out of range", school(map[string]string{"BREACHD_REDIS_SENTINELS": "s1:99999", "BREACHD_REDIS_MASTER": "m", "BREACHD_API_KEYS": "admin:" + adminKey}), `Sentinel 1 ("s1:99999") is not host:port`},
		{"an empty Sentinel", school(map[string]string{"BREACHD_REDIS_SENTINELS": "s1:26379,,s3:26379", "BREACHD_REDIS_MASTER": "m", "BREACHD_API_KEYS": "admin:" + adminKey}), `Sentinel 2 ("") is not host:port`},
		{"a master's name without Sentinels", map[string]string{"BREACHD_REDIS_MASTER": "mymaster"}, "BREACHD_REDIS_MASTER is set without BREACHD_REDIS_SENTINELS"},
		{"a Sentinel password without Sentinels", map[string]string{"BREACHD_REDIS_SENTINEL_PASSWORD": "pw"}, "BREACHD_REDIS_SENTINEL_PASSWORD is set without BREACHD_REDIS_SENTINELS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := loadConfig(func(k string) string { return c.env[k] })
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
			_ = cfg
		})
	}

	cfg, err := loadConfig(func(k string) string {
		return school(map[string]string{"BREACHD_API_KEYS_FILE": keyFile, "REDIS_URL": "redis://:hunter2@db:6379/3"})[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := cfg.Keys.Authenticate("file-admin-key-0123456789"); !ok || a.Role != "admin" {
		t.Fatalf("hashed key in file: %v %v", a, ok)
	}
	if a, ok := cfg.Keys.Authenticate("file-auditor-key-0123"); !ok || a.Role != "auditor" {
		t.Fatalf("plain key in file: %v %v", a, ok)
	}
	if s := cfg.String(); strings.Contains(s, "hunter2") || !strings.Contains(s, "redis://****@db:6379/3") {
		t.Fatalf("config string leaks or mangles the password: %s", s)
	}
	// Through Sentinel: the Sentinel password and the primary's are both masked.
	cfg, err = loadConfig(func(k string) string {
		return school(map[string]string{"BREACHD_API_KEYS": "admin:" + adminKey, "REDIS_URL": "redis://:hunter2@primary/2",
			"BREACHD_REDIS_SENTINELS": "10.0.0.1:26379, 10.0.0.2:26379,10.0.0.3:26379", "BREACHD_REDIS_MASTER": "mymaster",
			"BREACHD_REDIS_SENTINEL_PASSWORD": "s3ntinel"})[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.String(); strings.Contains(s, "hunter2") || strings.Contains(s, "s3ntinel") || cfg.embedded() ||
		!strings.Contains(s, "redis=sentinel master=mymaster sentinels=10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379 sentinel_password=true url=redis://****@primary/2") {
		t.Fatalf("config string with Sentinels: %s", s)
	}
	if err := run(context.Background(), func(k string) string { return map[string]string{"BREACHD_LOG_FORMAT": "xml"}[k] }, io.Discard, io.Discard, nil); err == nil {
		t.Fatal("run accepted a bad configuration")
	}
}

// school adds what a real school must configure with REDIS_URL.
// imap adds a valid bounce mailbox to env.
func imap(env map[string]string) map[string]string {
	for k, v := range map[string]string{"BREACHD_IMAP_HOST": "imap.example.org", "BREACHD_IMAP_USERNAME": "bounces", "BREACHD_IMAP_PASSWORD": "secret-imap"} {
		if _, ok := env[k]; !ok {
			env[k] = v
		}
	}
	return env
}

func school(env map[string]string) map[string]string {
	env["BREACHD_SENDER_NAME"] = "Metropolitan School District of Pike Creek"
	env["BREACHD_SENDER_ADDRESS"] = "6901 Zionsville Rd|Indianapolis IN 46268"
	env["BREACHD_MAIL_FROM"] = "notices@pikecreek.example.org"
	return env
}

// TestExampleUpload: the sample upload the README's walk-through uses (examples/) is read as the
// walk-through and examples/README.md say: nine people kept, the bad email and the repeated row
// reported, one person without contact, two households of children.
func TestExampleUpload(t *testing.T) {
	sample, err := os.ReadFile("../../examples/recipients-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, map[string]string{"BREACHD_OUTBOX_DIR": t.TempDir(), "BREACHD_API_KEYS": "admin:" + adminKey})
	code, b := s.call("POST", "/v1/breaches", adminKey, map[string]any{"determination": map[string]any{
		"title": "Stolen laptop", "discovered_on": "2026-03-03", "data_elements": []string{"name", "ssn"},
		"risk_of_harm": "likely", "affected_count": 9, "description": "A staff laptop was stolen.",
		"remediation": "Laptops are now encrypted.", "assistance_phone": "+1 317 555 0100",
		"translations": map[string]any{"es": map[string]any{"description": "Robaron una computadora portátil del personal.",
			"remediation": "Las computadoras portátiles ahora están cifradas."}}}})
	if code != 201 {
		t.Fatalf("create: %d %v", code, b)
	}
	id := b["id"].(string)
	code, rep := s.send("POST", "/v1/breaches/"+id+"/recipients", adminKey, "text/csv", sample)
	if code != 200 {
		t.Fatalf("upload: %d %v", code, rep)
	}
	// What the walk-through's jq shows: the duplicates by row only.
	var dupRows []any
	for _, d := range rep["duplicates"].([]any) {
		dupRows = append(dupRows, d.(map[string]any)["row"])
	}
	got, _ := json.Marshal(map[string]any{"rows": rep["rows"], "accepted": rep["accepted"], "duplicates": dupRows,
		"rejected": rep["rejected"], "counts": rep["counts"]})
	want := `{"accepted":9,"counts":{"affected":9,"indiana_residents":7,"insufficient_contact":1,` +
		`"languages":{"en":5,"es":2,"ja":1,"vi":1},"minors":5},` +
		`"duplicates":[11],` +
		`"rejected":[{"external_id":"E-2004","field":"email","reason":"is not an email address","row":10}],"rows":11}`
	if string(got) != want {
		t.Fatalf("upload report\n got %s\nwant %s", got, want)
	}
	// Vietnamese and Japanese have no template: dispatch waits until their English notice is
	// recorded, as the walk-through does.
	code, d := s.call("POST", "/v1/breaches/"+id+"/dispatch", adminKey, nil)
	if code != 409 || !strings.Contains(fmt.Sprint(d["detail"]), "Vietnamese (vi)") || !strings.Contains(fmt.Sprint(d["detail"]), "(ja)") {
		t.Fatalf("dispatch with languages missing: %d %v", code, d)
	}
	for _, lang := range []string{"vi", "ja"} {
		if code, r := s.call("POST", "/v1/breaches/"+id+"/languages/"+lang+"/english-fallback", adminKey,
			map[string]any{"reason": "No translator before the deadline; the school's interpreter will call."}); code != 200 {
			t.Fatalf("english fallback %s: %d %v", lang, code, r)
		}
	}
	code, d = s.call("POST", "/v1/breaches/"+id+"/dispatch", adminKey, nil)
	got, _ = json.Marshal(map[string]any{"created": d["created"], "households": d["households"], "unreachable": d["unreachable"]})
	if want := `{"created":{"email":1,"letter":5,"phone":1},"households":2,"unreachable":1}`; code != 200 || string(got) != want {
		t.Fatalf("dispatch: %d\n got %s\nwant %s", code, got, want)
	}
}
