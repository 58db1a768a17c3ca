package main

// Process helpers of the crash tests (crash_test.go, sentinel_test.go): real redis-server and
// breachd processes on free loopback ports, polled until they answer, and the API calls the
// tests make of them.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisProc is a redis-server with AOF on a free loopback port in a directory of its own. It can
// be killed and started again on the same port and the same files, as an operator's would be.
type redisProc struct {
	t    *testing.T
	addr string
	args []string
	cmd  *exec.Cmd
}

// startRedis starts redis-server with AOF (appendfsync fsync: "always" or "everysec") in dir and
// stops it when the test ends.
func startRedis(t *testing.T, dir, fsync string) *redisProc {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	r := &redisProc{t: t, addr: addr, args: []string{"--bind", host, "--port", port, "--dir", dir, "--appendonly", "yes",
		"--appendfsync", fsync, "--save", "", "--logfile", filepath.Join(dir, "redis.log")}}
	r.start()
	t.Cleanup(func() {
		if r.cmd != nil {
			_ = r.cmd.Process.Kill()
			_ = r.cmd.Wait()
		}
	})
	return r
}

// url is the URL breachd is given (REDIS_URL).
func (r *redisProc) url() string { return "redis://" + r.addr + "/0" }

// start starts the server (again) and waits until it answers, its AOF loaded.
func (r *redisProc) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", r.args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server (scripts/test installs it): %v", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: r.addr, MaxRetries: -1})
	defer rdb.Close()
	waitUntil(r.t, "redis-server to answer", 30*time.Second, func() bool { return rdb.Ping(context.Background()).Err() == nil })
}

// kill kills the server with SIGKILL: what its AOF has not written to disk is lost.
func (r *redisProc) kill() {
	r.t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		r.t.Fatal(err)
	}
	_ = r.cmd.Wait()
	r.cmd = nil
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
