package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/notify/email/smtptest"
)

// crashPeople is how many people the crash test uploads: 9 in 10 on email, so that the email
// batches (500 each) all run at once on one worker (DefaultConcurrency) and the kill finds each
// of them mid-send.
const crashPeople = 3000

// TestWorkerKilledMidSend is issue 10 §1 with real processes: a redis-server with AOF
// (appendfsync everysec) on a free port in a temporary directory, the breachd binary as an API
// process and as a worker process, and an SMTP server (smtptest, in this process) that counts the
// Message-IDs it accepts. The worker is killed with SIGKILL while it sends, another is started,
// and then: no notice is lost, the messages received twice are at most the connections that were
// open at the kill, each of them carries a notice.possibly_duplicated event, and the work resumed
// (the first message after the kill) within 30 s.
func TestWorkerKilledMidSend(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes; -short skips it")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "breachd")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build breachd: %v\n%s", err, out)
	}
	redisURL := startRedis(t, filepath.Join(dir, "redis"))
	sink := smtptest.New(t)
	apiAddr := freeAddr(t)
	base := "http://" + apiAddr
	env := []string{
		"REDIS_URL=" + redisURL,
		"BREACHD_API_KEYS=admin:" + adminKey + ",auditor:" + auditorKey,
		"BREACHD_ENCRYPTION_KEY=" + strings.Repeat("ab", 32),
		"BREACHD_SENDER_NAME=Metropolitan School District of Pike Creek",
		"BREACHD_SENDER_ADDRESS=6901 Zionsville Rd|Indianapolis IN 46268",
		"BREACHD_MAIL_FROM=notices@pikecreek.example.org",
		"BREACHD_SMTP_HOST=" + sink.Host, "BREACHD_SMTP_PORT=" + strconv.Itoa(sink.Port), "BREACHD_SMTP_TLS=none",
		"BREACHD_OUTBOX_DIR=" + filepath.Join(dir, "outbox"),
		"BREACHD_LOG_LEVEL=warn",
	}
	startProc(t, bin, append(env, "BREACHD_MODE=api", "BREACHD_ADDR="+apiAddr), filepath.Join(dir, "api.log"))
	waitUntil(t, "the API to answer", 15*time.Second, func() bool {
		res, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})

	det := map[string]any{
		"title": "Phishing: student information system", "discovered_on": time.Now().AddDate(0, 0, -2).Format("2006-01-02"),
		"data_elements": []string{"name", "ssn"}, "risk_of_harm": "likely", "affected_count": crashPeople,
		"indiana_residents": crashPeople, "description": "A staff account of the student information system was accessed.",
		"remediation": "Passwords reset; MFA enforced.", "assistance_phone": "+1 317 555 0100",
		"reporter": map[string]any{"name": "Rowan Reporter", "anonymous": false},
		"translations": map[string]any{"es": map[string]any{
			"description": "Se accedió a una cuenta del personal del sistema de información estudiantil.",
			"remediation": "Se restablecieron las contraseñas; se exige la autenticación multifactor."}},
	}
	code, b := apiCall(t, "POST", base+"/v1/breaches", "application/json", mustJSON(map[string]any{"determination": det}))
	if code != 201 {
		t.Fatalf("create: %d %v", code, b)
	}
	id := b["id"].(string)
	var csv bytes.Buffer
	csv.WriteString("external_id,first_name,last_name,address_line1,city,state,postal_code,email,preferred_channel,email_current,language,date_of_birth\n")
	emails := 0
	for i := range crashPeople {
		if i%10 == 9 {
			fmt.Fprintf(&csv, "S-%05d,Ana,Ruiz %d,%d Main St,Muncie,IN,47305,,mail,,es,1980-01-01\n", i, i, i)
			continue
		}
		emails++
		fmt.Fprintf(&csv, "S-%05d,Bo,Lee %d,%d Oak Ln,Muncie,IN,47305,person%d@example.org,email,true,en,1980-01-01\n", i, i, i, i)
	}
	if code, rep := apiCall(t, "POST", base+"/v1/breaches/"+id+"/recipients", "text/csv", csv.Bytes()); code != 200 || rep["accepted"] != float64(crashPeople) {
		t.Fatalf("upload: %d %v", code, rep)
	}
	if code, rep := apiCall(t, "POST", base+"/v1/breaches/"+id+"/dispatch", "", nil); code != 200 || rep["created"].(map[string]any)["email"] != float64(emails) {
		t.Fatalf("dispatch: %d %v", code, rep)
	}

	worker := startProc(t, bin, append(env, "BREACHD_MODE=worker", "BREACHD_ADDR="+freeAddr(t)), filepath.Join(dir, "worker1.log"))
	waitUntil(t, "the first worker to send", 60*time.Second, func() bool { return len(sink.Messages()) >= emails/5 })
	if err := worker.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = worker.Wait()
	killedAt := time.Now()
	beforeKill := len(sink.Messages())
	if beforeKill >= emails {
		t.Fatalf("the first worker sent everything (%d) before it was killed: nothing was tested", beforeKill)
	}
	startProc(t, bin, append(env, "BREACHD_MODE=worker", "BREACHD_ADDR="+freeAddr(t)), filepath.Join(dir, "worker2.log"))
	waitUntil(t, "the second worker to send", 60*time.Second, func() bool { return len(sink.Messages()) > beforeKill })
	resumed := time.Since(killedAt)
	waitUntil(t, "every email sent", 60*time.Second, func() bool {
		_, st := apiCall(t, "GET", base+"/v1/breaches/"+id+"/status", "", nil)
		c, _ := st["counts"].(map[string]any)["email"].(map[string]any)
		return c["sent"] == float64(emails)
	})

	perNotice := map[string]int{}
	for _, m := range sink.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		// The Message-ID is email.MessageID: notice-<notice ID>@<the From domain>.
		nid, _, _ := strings.Cut(strings.TrimPrefix(strings.Trim(msg.Header.Get("Message-Id"), "<>"), "notice-"), "@")
		perNotice[nid]++
	}
	var twice []string
	for nid, n := range perNotice {
		if n > 1 {
			twice = append(twice, nid)
		}
	}
	marked := map[string]bool{}
	for _, ev := range allEvents(t, base, id) {
		if ev["type"] == "notice.possibly_duplicated" {
			marked[ev["data"].(map[string]any)["notice_id"].(string)] = true
		}
	}
	// Every batch (emails/500 of them) had its connection open when the worker died.
	inFlight := (emails + jobs.EmailBatchSize - 1) / jobs.EmailBatchSize
	t.Logf("%d emails due; %d received before the kill, %d in all (%d distinct); %d received twice (bound %d); %d marked possibly duplicated; resumed %.1f s after the kill",
		emails, beforeKill, len(sink.Messages()), len(perNotice), len(twice), inFlight, len(marked), resumed.Seconds())
	if len(perNotice) != emails {
		t.Errorf("%d distinct messages received, %d due: lost or unknown ones", len(perNotice), emails)
	}
	if len(twice) > inFlight {
		t.Errorf("%d messages received twice, more than the %d connections in flight", len(twice), inFlight)
	}
	for _, nid := range twice {
		if !marked[nid] {
			t.Errorf("notice %s was received twice without a notice.possibly_duplicated event", nid)
		}
	}
	if resumed > 30*time.Second {
		t.Errorf("work resumed %.1f s after the kill, want under 30 s", resumed.Seconds())
	}
}

// startRedis starts redis-server with AOF (appendfsync everysec) on a free port in dir and stops
// it when the test ends; it returns its URL.
func startRedis(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--bind", host, "--port", port, "--dir", dir, "--appendonly", "yes",
		"--appendfsync", "everysec", "--save", "", "--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server (scripts/test installs it): %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	waitUntil(t, "redis-server to answer", 10*time.Second, func() bool { return rdb.Ping(context.Background()).Err() == nil })
	return "redis://" + addr + "/0"
}

// startProc runs the binary with env, its output to logPath, and kills it when the test ends.
func startProc(t *testing.T, bin string, env []string, logPath string) *exec.Cmd {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		}
		logf.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("%s:\n%s", filepath.Base(logPath), tail(out, 4000))
		}
	})
	return cmd
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// freeAddr returns a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitUntil(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func apiCall(t *testing.T, method, u, contentType string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, u, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+adminKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

// allEvents reads a breach's whole event stream.
func allEvents(t *testing.T, base, id string) []map[string]any {
	t.Helper()
	var out []map[string]any
	cursor := ""
	for range 10_000 {
		u := base + "/v1/breaches/" + id + "/events?limit=200"
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		code, page := apiCall(t, "GET", u, "", nil)
		if code != 200 {
			t.Fatalf("events: %d %v", code, page)
		}
		items, _ := page["items"].([]any)
		for _, it := range items {
			out = append(out, it.(map[string]any))
		}
		cursor, _ = page["next_cursor"].(string)
		if cursor == "" {
			return out
		}
	}
	t.Fatal("the event cursors never end")
	return nil
}
