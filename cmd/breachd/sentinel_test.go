package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/breachd/breachd/api/apitest"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/notify/email"
	"github.com/breachd/breachd/notify/email/smtptest"
)

// The Sentinel test's cast: how many people, and the name the Sentinels monitor the primary under.
const (
	failoverPeople = 400 // one email batch (jobs.EmailBatchSize is 500): the batch in flight at the kill
	failoverMaster = "mymaster"
	failoverStall  = 150 // the person whose RCPT TO the SMTP server holds while the primary is killed
)

// TestSentinelFailover proves that breachd survives losing its Redis primary: real redis-server
// processes (a primary and a replica, both with AOF) and three redis-sentinel processes (quorum 2)
// on free loopback ports, the breachd binary built and started with BREACHD_REDIS_SENTINELS, and a
// real SMTP server in this process that records every message. A breach of 400 people on email is
// dispatched; while the SMTP server holds one message of the batch (so some are delivered and some
// not), the primary is killed with SIGKILL; Sentinel promotes the replica. /readyz must answer 503
// during the outage and 200 after; every notice must end given (outstanding 0), every email
// notice's Message-ID must have arrived (none lost), and the repeats are reported and bounded by
// the emails in flight at the kill. The bound is generous on purpose: the failover client retries
// through a failover this short, so the batch is marked sent on the promoted replica and nothing
// repeats (0 measured); without that retry, or after a longer outage, the whole batch is sent
// again, because its messages are marked sent only after the batch is handed over (400 measured;
// issue 10 §1 narrows that, and this bound can follow).
func TestSentinelFailover(t *testing.T) {
	for _, bin := range []string{"redis-server", "redis-sentinel"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is not installed (Debian: apt-get install redis-server redis-sentinel; scripts/test installs them)", bin)
		}
	}
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()

	// The primary and its replica.
	primaryPort, replicaPort := failoverFreePort(t), failoverFreePort(t)
	primary := failoverStart(t, dir, "primary", "redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(primaryPort),
		"--dir", failoverDir(t, dir, "primary"), "--appendonly", "yes", "--save", "", "--repl-diskless-sync-delay", "0")
	failoverStart(t, dir, "replica", "redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(replicaPort),
		"--dir", failoverDir(t, dir, "replica"), "--appendonly", "yes", "--save", "",
		"--replicaof", "127.0.0.1", strconv.Itoa(primaryPort))
	replica := failoverClient(t, replicaPort)
	failoverWait(ctx, t, "the replica in sync with the primary", func() (bool, string) {
		info, err := replica.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up"), info
	})

	// Three Sentinels, quorum 2, quick to judge the primary down and to fail over.
	var sentinels []*redis.Client
	var sentinelAddrs []string
	for i := 1; i <= 3; i++ {
		port := failoverFreePort(t)
		sdir := failoverDir(t, dir, fmt.Sprintf("sentinel%d", i))
		conf := filepath.Join(sdir, "sentinel.conf")
		if err := os.WriteFile(conf, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n"+
			"sentinel monitor %s 127.0.0.1 %d 2\n"+
			"sentinel down-after-milliseconds %[3]s 1000\n"+
			"sentinel failover-timeout %[3]s 5000\n"+
			"sentinel parallel-syncs %[3]s 1\n", port, sdir, failoverMaster, primaryPort)), 0o600); err != nil {
			t.Fatal(err)
		}
		failoverStart(t, dir, fmt.Sprintf("sentinel%d", i), "redis-sentinel", conf)
		sentinels = append(sentinels, failoverClient(t, port))
		sentinelAddrs = append(sentinelAddrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	// A failover needs the Sentinels to know each other (they meet through the primary) and the replica.
	for i, s := range sentinels {
		failoverWait(ctx, t, fmt.Sprintf("Sentinel %d to know the other two and the replica", i+1), func() (bool, string) {
			others, err1 := s.Do(ctx, "SENTINEL", "SENTINELS", failoverMaster).Slice()
			replicas, err2 := s.Do(ctx, "SENTINEL", "REPLICAS", failoverMaster).Slice()
			return err1 == nil && err2 == nil && len(others) == 2 && len(replicas) == 1, fmt.Sprint(others, replicas, err1, err2)
		})
	}

	// The mail server: one person's RCPT TO is held, so the kill lands in the middle of the batch.
	smtp := smtptest.New(t)
	stalled := fmt.Sprintf("p%04d@example.org", failoverStall)
	smtp.On(stalled, smtptest.Stall)

	// breachd itself, built from this package, run as an operator would run it.
	bin := filepath.Join(dir, "breachd")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const from = "notices@pikecreek.example.org"
	env := school(map[string]string{
		"BREACHD_REDIS_SENTINELS": strings.Join(sentinelAddrs, ","),
		"BREACHD_REDIS_MASTER":    failoverMaster,
		"BREACHD_API_KEYS":        "admin:" + adminKey,
		"BREACHD_ENCRYPTION_KEY":  strings.Repeat("cd", 32),
		"BREACHD_ADDR":            "127.0.0.1:0",
		"BREACHD_SMTP_HOST":       smtp.Host,
		"BREACHD_SMTP_PORT":       strconv.Itoa(smtp.Port),
		"BREACHD_SMTP_TLS":        "none",
		"BREACHD_MAIL_FROM":       from,
	})
	logs := &apitest.SyncBuffer{}
	svc := exec.Command(bin)
	svc.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir}
	for k, v := range env {
		svc.Env = append(svc.Env, k+"="+v)
	}
	svc.Stdout, svc.Stderr = logs, logs
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	svcDone := make(chan error, 1)
	go func() { svcDone <- svc.Wait() }()
	t.Cleanup(func() {
		_ = svc.Process.Signal(syscall.SIGTERM)
		select {
		case <-svcDone:
		case <-time.After(20 * time.Second):
			_ = svc.Process.Kill()
			<-svcDone
			t.Errorf("breachd did not stop within 20 s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("breachd's log:\n%s", logs.String())
		}
	})
	var base string
	failoverWait(ctx, t, "breachd to listen", func() (bool, string) {
		for _, line := range strings.Split(logs.String(), "\n") {
			var l struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "listening" {
				base = "http://" + l.Addr
				return true, ""
			}
		}
		select {
		case err := <-svcDone:
			svcDone <- err
			return false, fmt.Sprintf("breachd exited: %v", err)
		default:
		}
		return false, logs.String()
	})
	s := &service{t: t, contract: apitest.New(t), base: base}
	if code, _ := s.call("GET", "/readyz", "", nil); code != 200 {
		t.Fatalf("readyz before the failover: %d", code)
	}

	// A breach of 400 people, every one on email.
	code, b := s.call("POST", "/v1/breaches", adminKey, map[string]any{"determination": map[string]any{
		"title": "Phishing: student information system", "discovered_on": time.Now().AddDate(0, 0, -7).Format("2006-01-02"),
		"data_elements": []string{"name", "ssn"}, "risk_of_harm": "likely", "affected_count": failoverPeople,
		"indiana_residents": failoverPeople, "description": "A staff account of the student information system was phished.",
		"remediation": "The account was disabled and MFA enforced.", "assistance_phone": "+1 317 555 0100"}})
	if code != 201 {
		t.Fatalf("create: %d %v", code, b)
	}
	id := b["id"].(string)
	var people strings.Builder
	for i := 1; i <= failoverPeople; i++ {
		fmt.Fprintf(&people, `{"external_id":"P-%04d","first_name":"Pat","last_name":"Person%d","email":"p%04d@example.org",`+
			`"email_current":true,"preferred_channel":"email","language":"en"}`+"\n", i, i, i)
	}
	if code, rep := s.send("POST", "/v1/breaches/"+id+"/recipients", adminKey, "application/x-ndjson", []byte(people.String())); code != 200 || rep["accepted"] != float64(failoverPeople) {
		t.Fatalf("upload: %d %v", code, rep)
	}
	if code, rep := s.call("POST", "/v1/breaches/"+id+"/dispatch", adminKey, nil); code != 200 || rep["created"].(map[string]any)["email"] != float64(failoverPeople) {
		t.Fatalf("dispatch: %d %v", code, rep)
	}

	// Mid-send: the SMTP server holds one message; those before it are delivered, those after are not.
	select {
	case <-smtp.Stalled():
	case <-ctx.Done():
		t.Fatalf("the batch never reached %s", stalled)
	}
	before := len(smtp.Messages())
	if before == 0 || before >= failoverPeople {
		t.Fatalf("%d of %d messages delivered at the kill: not mid-send", before, failoverPeople)
	}
	// /readyz from now on, every 100 ms, as a load balancer would.
	type probe struct {
		at   time.Duration
		code int // 0: no answer
	}
	var probesMu sync.Mutex
	var probes []probe
	probing, stopProbing := context.WithCancel(ctx)
	probed := make(chan struct{})
	killedAt := time.Now()
	go func() {
		defer close(probed)
		client := &http.Client{Timeout: 2 * time.Second}
		for probing.Err() == nil {
			code := 0
			if res, err := client.Get(base + "/readyz"); err == nil {
				code = res.StatusCode
				res.Body.Close()
			}
			probesMu.Lock()
			probes = append(probes, probe{time.Since(killedAt), code})
			probesMu.Unlock()
			select {
			case <-probing.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	if err := primary.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// The rest of the batch goes to the mail server while Redis has no primary.
	time.Sleep(300 * time.Millisecond)
	smtp.Release()

	promoted := net.JoinHostPort("127.0.0.1", strconv.Itoa(replicaPort))
	failoverWait(ctx, t, "Sentinel to promote the replica", func() (bool, string) {
		addr, err := sentinels[0].Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", failoverMaster).StringSlice()
		return err == nil && len(addr) == 2 && net.JoinHostPort(addr[0], addr[1]) == promoted, fmt.Sprint(addr, err)
	})
	promotedAfter := time.Since(killedAt)
	failoverWait(ctx, t, "/readyz to answer 200 after the promotion", func() (bool, string) {
		probesMu.Lock()
		defer probesMu.Unlock()
		return len(probes) > 0 && probes[len(probes)-1].code == 200 && probes[len(probes)-1].at > promotedAfter, fmt.Sprint(probes)
	})
	stopProbing()
	<-probed

	// Every notice given.
	var status map[string]any
	failoverWait(ctx, t, "every notice to be given", func() (bool, string) {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/breaches/"+id+"/status", nil)
		req.Header.Set("Authorization", "Bearer "+adminKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err.Error()
		}
		defer res.Body.Close()
		status = nil
		_ = json.NewDecoder(res.Body).Decode(&status)
		return res.StatusCode == 200 && status["outstanding"] == float64(0) && status["total"] == float64(failoverPeople), fmt.Sprint(res.StatusCode, status)
	})
	given := time.Since(killedAt)
	if code, st := s.call("GET", "/v1/breaches/"+id+"/status", adminKey, nil); code != 200 ||
		st["counts"].(map[string]any)["email"].(map[string]any)["sent"] != float64(failoverPeople) {
		t.Fatalf("status: %d %v", code, st)
	}

	// None lost: every email notice's Message-ID arrived; repeats counted.
	var want []string
	for cursor := ""; ; {
		path := "/v1/breaches/" + id + "/notices?channel=email&limit=200"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		code, page := s.call("GET", path, adminKey, nil)
		if code != 200 {
			t.Fatalf("notices: %d %v", code, page)
		}
		for _, it := range page["items"].([]any) {
			want = append(want, email.MessageID(it.(map[string]any)["id"].(string), from))
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(want) != failoverPeople {
		t.Fatalf("%d email notices listed, want %d", len(want), failoverPeople)
	}
	got := map[string]int{}
	msgs := smtp.Messages()
	for _, m := range msgs {
		parsed, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
		if err != nil {
			t.Fatalf("a message the server received does not parse: %v", err)
		}
		got[strings.Trim(parsed.Header.Get("Message-Id"), "<>")]++
	}
	lost, repeated := 0, 0
	for _, mid := range want {
		switch n := got[mid]; {
		case n == 0:
			lost++
		case n > 1:
			repeated += n - 1
		}
	}
	probesMu.Lock()
	unready, firstUnready, lastUnready := 0, time.Duration(0), time.Duration(0)
	for _, p := range probes {
		if p.code == 503 {
			if unready == 0 {
				firstUnready = p.at
			}
			unready++
			lastUnready = p.at
		}
	}
	probesMu.Unlock()
	t.Logf("%d email notices; %d messages received (%d before the kill), %d lost, %d sent twice; "+
		"replica promoted %.1f s after the kill; /readyz 503 %d times from %.1f s to %.1f s; every notice given %.1f s after the kill; test %.1f s",
		len(want), len(msgs), before, lost, repeated, promotedAfter.Seconds(), unready, firstUnready.Seconds(), lastUnready.Seconds(),
		given.Seconds(), time.Since(started).Seconds())
	if lost != 0 {
		t.Errorf("%d email notices never reached the mail server", lost)
	}
	// At most the emails in flight at the kill repeat: the one batch (issue 10 §1 narrows this).
	if inFlight := min(failoverPeople, jobs.EmailBatchSize); repeated > inFlight {
		t.Errorf("%d messages sent twice, more than the %d in flight at the kill", repeated, inFlight)
	}
	if unready == 0 {
		t.Errorf("/readyz never answered 503 while Redis had no primary: %v", probes)
	}
	// The service says in its own log that it follows the new primary.
	if switched := fmt.Sprintf(`"detail":"sentinel: new master=\"%s\" addr=\"%s\""`, failoverMaster, promoted); !strings.Contains(logs.String(), switched) {
		t.Errorf("breachd's log does not say it follows the promoted replica (%s)", switched)
	}
	if len(msgs) != len(want)+repeated {
		t.Errorf("%d messages received, but %d notices and %d repeats", len(msgs), len(want), repeated)
	}
}

// failoverFreePort returns a TCP port on 127.0.0.1 that nothing listens on now. (Never 6379: the
// shared test Redis listens there.)
func failoverFreePort(t *testing.T) int {
	t.Helper()
	_, port, _ := net.SplitHostPort(freeAddr(t))
	n, _ := strconv.Atoi(port)
	return n
}

// failoverDir makes a directory of its own for one process under dir.
func failoverDir(t *testing.T, dir, name string) string {
	t.Helper()
	d := filepath.Join(dir, name)
	if err := os.MkdirAll(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// failoverStart starts a process whose output goes to dir/name.log, killed and reaped when the
// test ends (a process the test already killed is only reaped).
func failoverStart(t *testing.T, dir, name, bin string, args ...string) *exec.Cmd {
	t.Helper()
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			if out, err := os.ReadFile(logf.Name()); err == nil {
				t.Logf("%s's log (last lines):\n%s", name, failoverTail(string(out), 15))
			}
		}
	})
	return cmd
}

func failoverTail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// failoverClient is a client of the Redis or Sentinel on port, closed when the test ends.
func failoverClient(t *testing.T, port int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), MaxRetries: -1,
		DialTimeout: time.Second, ReadTimeout: time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

// failoverWait polls cond every 100 ms until it holds, failing the test with cond's last word
// when ctx ends first.
func failoverWait(ctx context.Context, t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	start := time.Now()
	for {
		ok, why := cond()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waited %.1f s for %s: %s", time.Since(start).Seconds(), what, failoverTail(why, 20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestRedisClientThroughSentinel: with Sentinels, REDIS_URL gives the primary's credentials and DB,
// the retries span a quick failover unless REDIS_URL says otherwise, and a bad URL names REDIS_URL.
func TestRedisClientThroughSentinel(t *testing.T) {
	cfg := config{Sentinels: []string{"127.0.0.1:1"}, MasterName: failoverMaster}
	cases := []struct {
		url             string
		password        string
		db, maxRetries  int
		minBackoff, max time.Duration
	}{
		{"", "", 0, failoverMaxRetries, failoverMinBackoff, failoverMaxBackoff},
		{"redis://:hunter2@primary:6379/3", "hunter2", 3, failoverMaxRetries, failoverMinBackoff, failoverMaxBackoff},
		{"redis://:hunter2@primary/2?max_retries=5&max_retry_backoff=2s", "hunter2", 2, 5, failoverMinBackoff, 2 * time.Second},
	}
	for _, c := range cases {
		rdb, err := newRedisClient(cfg, c.url)
		if err != nil {
			t.Fatalf("%q: %v", c.url, err)
		}
		o := rdb.Options()
		rdb.Close()
		if o.Password != c.password || o.DB != c.db || o.MaxRetries != c.maxRetries || o.MinRetryBackoff != c.minBackoff || o.MaxRetryBackoff != c.max {
			t.Errorf("%q: password %q db %d retries %d backoff %s..%s; want %q %d %d %s..%s", c.url, o.Password, o.DB, o.MaxRetries,
				o.MinRetryBackoff, o.MaxRetryBackoff, c.password, c.db, c.maxRetries, c.minBackoff, c.max)
		}
	}
	if _, err := newRedisClient(cfg, "mysql://primary"); err == nil || !strings.HasPrefix(err.Error(), "REDIS_URL: ") {
		t.Errorf("a bad REDIS_URL with Sentinels: %v", err)
	}
	// Without Sentinels the URL is dialled as it is, with go-redis's own retries.
	rdb, err := newRedisClient(config{}, "redis://127.0.0.1:1/4")
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	if o := rdb.Options(); o.Addr != "127.0.0.1:1" || o.DB != 4 || o.MaxRetries != 3 {
		t.Errorf("standalone: addr %s db %d retries %d", o.Addr, o.DB, o.MaxRetries)
	}
}
