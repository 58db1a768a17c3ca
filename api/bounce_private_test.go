package api_test

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// rawRedis returns every key and value of the test's Redis database as Redis holds them: what the
// AOF and an RDB snapshot write (the AOF logs the same values, written by the same commands).
func rawRedis(t *testing.T, e *env) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	iter := e.rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		b.WriteString(k + "\n")
		switch e.rdb.Type(ctx, k).Val() {
		case "string":
			b.WriteString(e.rdb.Get(ctx, k).Val())
		case "hash":
			for f, v := range e.rdb.HGetAll(ctx, k).Val() {
				b.WriteString(f + "=" + v + "\n")
			}
		case "stream":
			for _, m := range e.rdb.XRange(ctx, k, "-", "+").Val() {
				for f, v := range m.Values {
					b.WriteString(f + "=" + v.(string) + "\n")
				}
			}
		case "zset":
			b.WriteString(strings.Join(e.rdb.ZRange(ctx, k, 0, -1).Val(), "\n"))
		case "set":
			b.WriteString(strings.Join(e.rdb.SMembers(ctx, k).Val(), "\n"))
		case "list":
			b.WriteString(strings.Join(e.rdb.LRange(ctx, k, 0, -1).Val(), "\n"))
		}
		b.WriteString("\n")
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// aofRedis starts a redis-server of the test's own, with AOF on every write, listening only on a
// socket in a temporary directory; it returns the directory of its AOF and a client.
func aofRedis(t *testing.T) (string, *redis.Client) {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "redis.sock")
	cmd := exec.Command("redis-server", "--port", "0", "--unixsocket", sock, "--dir", dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server (scripts/test installs it): %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	rdb := redis.NewClient(&redis.Options{Network: "unix", Addr: sock})
	t.Cleanup(func() { rdb.Close() })
	for deadline := time.Now().Add(5 * time.Second); rdb.Ping(context.Background()).Err() != nil; {
		if time.Now().After(deadline) {
			t.Fatal("the test's redis-server does not answer")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return dir, rdb
}

// readDir returns the contents of every file under dir.
func readDir(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSocket != 0 {
			return err
		}
		data, err := os.ReadFile(p)
		b.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestBounceReasonIsSealed: a clerk's bounce reason that names a person never reaches Redis in
// plain text (the stream, the records, anything the AOF would write); the event keeps the SMTP
// codes, and admins and auditors read the text through the API.
func TestBounceReasonIsSealed(t *testing.T) {
	aofDir, rdb := aofRedis(t)
	e := newEnvWith(t, channels{rdb: rdb})
	if err := e.worker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.worker.Shutdown)
	b := dispatchSample(t, e)
	emails := waitFor(t, "both emails sent", func() ([]breach.Notice, bool) {
		var l api.NoticeList
		e.do("GET", "/v1/breaches/"+b.ID+"/notices?channel=email&status=sent", breach.RoleClerk, nil).json(t, &l)
		return l.Items, len(l.Items) == 2
	})
	const reason = "550 5.1.1 mailbox of Ava Quillfeather unknown"
	if r := e.do("POST", "/v1/notices/"+emails[0].ID+"/bounced", breach.RoleClerk, map[string]any{"reason": reason}); r.Status != 200 {
		t.Fatalf("bounce: %d %s", r.Status, r.Body)
	}
	if raw := rawRedis(t, e); strings.Contains(raw, "Quillfeather") {
		i := strings.Index(raw, "Quillfeather")
		t.Fatalf("the name is in Redis in plain text: …%s…", raw[max(0, i-300):i+20])
	}

	// The AOF, as the server wrote it (appendfsync always): it holds the stream's entries (the
	// event type is there in plain text) but not the name.
	aof := readDir(t, aofDir)
	if !strings.Contains(aof, "notice.bounced") {
		t.Fatalf("the AOF (%d bytes) holds no bounce event: not the server the test used?", len(aof))
	}
	if strings.Contains(aof, "Quillfeather") {
		t.Fatal("the name is in the AOF in plain text")
	}

	var page struct{ Items []breach.Event }
	e.do("GET", "/v1/breaches/"+b.ID+"/events?limit=200", breach.RoleAuditor, nil).json(t, &page)
	var bounced *breach.Event
	for i, ev := range page.Items {
		if ev.Type == breach.EventNoticeBounced {
			bounced = &page.Items[i]
		}
	}
	if bounced == nil || bounced.Private["reason"] != reason || bounced.Data["smtp_status"] != "550 5.1.1" ||
		strings.Contains(bounced.Summary, "Quillfeather") {
		t.Fatalf("bounce event %+v", bounced)
	}
	var d api.NoticeDetail
	e.do("GET", "/v1/notices/"+emails[0].ID, breach.RoleClerk, nil).json(t, &d)
	for _, ev := range d.History {
		if ev.Type == breach.EventNoticeBounced && (ev.Private["reason"] == reason || ev.Private["reason"] == "") {
			t.Fatalf("a clerk reads %+v", ev.Private)
		}
	}
	e.do("GET", "/v1/notices/"+emails[0].ID, breach.RoleAdmin, nil).json(t, &d)
	found := false
	for _, ev := range d.History {
		found = found || ev.Type == breach.EventNoticeBounced && ev.Private["reason"] == reason
	}
	if !found {
		t.Fatalf("an admin does not read the reason: %+v", d.History)
	}
}
