package jobs_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/notify/dsn"
	"github.com/breachd/breachd/notify/dsn/imaptest"
)

// sampleNotice is the notice ID the DSN samples of notify/dsn/testdata name.
const sampleNotice = "nt_SAMPLE00000000000000000000"

// dsnFor is a DSN sample of notify/dsn/testdata about the message sent to address: its Message-ID
// and notice ID replaced by those of the message the SMTP server received, and its
// Final-Recipient by the address.
func dsnFor(t *testing.T, e *workerEnv, sample, address string) []byte {
	t.Helper()
	raw, err := os.ReadFile("../notify/dsn/testdata/" + sample)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range e.sink.Messages() {
		if len(m.To) != 1 || m.To[0] != address {
			continue
		}
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		id := strings.Trim(msg.Header.Get("Message-Id"), "<>")
		notice := msg.Header.Get("X-Breachd-Notice")
		if id == "" || notice == "" {
			t.Fatalf("the message to %s has no Message-ID or notice header", address)
		}
		s := strings.ReplaceAll(string(raw), "notice-"+sampleNotice+"@lincoln.example.org", id)
		s = strings.ReplaceAll(s, sampleNotice, notice)
		for _, a := range []string{"r.okonkwo@oldisp.example.com", "later@farm.example.net", "full@farm.example.net", "ava.quillfeather@parents.example.net"} {
			s = strings.ReplaceAll(s, a, address)
		}
		return []byte(s)
	}
	t.Fatalf("the SMTP server received nothing for %s", address)
	return nil
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("../notify/dsn/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func unmatchedList(t *testing.T, s *jobs.Store) []breach.Event {
	t.Helper()
	evs, next, err := s.UnmatchedBounces(context.Background(), "", jobs.MaxLimit)
	if err != nil || next != "" {
		t.Fatalf("unmatched: %q %v", next, err)
	}
	return evs
}

func eventsOf(t *testing.T, s *jobs.Store, breachID string, types ...breach.EventType) []breach.Event {
	t.Helper()
	var out []breach.Event
	for _, ev := range allEvents(t, s, breachID) {
		for _, ty := range types {
			if ev.Type == ty {
				out = append(out, ev)
			}
		}
	}
	return out
}

// TestBouncesReadFromIMAP: email notices sent through a real SMTP server; DSNs for them arrive in
// a real IMAP mailbox; one poll fails the notice a 5.x.x bounce is about (and queues its letter,
// the DSN's fields on the bounce event), records a delay and a 4.x.x failure without a letter,
// lists the DSNs that match no notice, and skips the malformed messages; a second poll, and a copy
// of a recorded DSN, record nothing twice.
func TestBouncesReadFromIMAP(t *testing.T) {
	e := sentEmailEnv(t)
	ctx := context.Background()
	before := e.counts(t)

	box := imaptest.New(t)
	permanent := box.Append(t, dsnFor(t, e, "exim-failed.eml", "ok1@example.org"))          // matched by Message-ID
	delayed := box.Append(t, dsnFor(t, e, "postfix-delayed.eml", "ok2@example.org"))        // by X-Breachd-Notice
	temporary := box.Append(t, dsnFor(t, e, "sendmail-envid-4xx.eml", "later@example.org")) // by envelope ID
	other := box.Append(t, sample(t, "unmatched.eml"))
	unknown := box.Append(t, sample(t, "postfix-failed.eml")) // names a notice that does not exist
	junk := box.Append(t, sample(t, "malformed-binary.eml"))
	plain := box.Append(t, sample(t, "malformed-plain-text.eml"))

	var logs bytes.Buffer
	mb, err := dsn.New(dsn.Config{Host: box.Host, Port: box.Port, Username: imaptest.Username, Password: imaptest.Password,
		TLS: dsn.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p, err := jobs.NewBouncePoller(jobs.BouncePollerConfig{Worker: e.worker, Mailbox: mb,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}

	ns := e.byEmail(t)
	ok1, ok2, later := ns["ok1@example.org"], ns["ok2@example.org"], ns["later@example.org"]
	if ok1.Status != breach.NoticeFailed || ok1.FallbackID == "" || ok1.LastError != "bounced (550 5.2.1)" {
		t.Fatalf("the bounced notice %+v", ok1)
	}
	if letter, err := e.store.Notice(ctx, ok1.FallbackID); err != nil || letter.Channel != breach.MethodLetter ||
		letter.Status != breach.NoticeQueued || letter.FallbackFor != ok1.ID {
		t.Fatalf("its letter %+v, %v", letter, err)
	}
	if ok2.Status != breach.NoticeSent || later.Status != breach.NoticeSent || ok2.FallbackID != "" || later.FallbackID != "" {
		t.Fatalf("a delay or a 4.x.x failure changed the notice: %+v %+v", ok2, later)
	}
	want := map[string]int{"email:sent": 2, "email:failed": before["email:failed"] + 1, "letter:queued": before["letter:queued"] + 1}
	if got := e.counts(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("counts %v, want %v", got, want)
	}

	bounced := eventsOf(t, e.store, e.b.ID, breach.EventNoticeBounced)
	if len(bounced) != 1 {
		t.Fatalf("%d bounce events", len(bounced))
	}
	ev := bounced[0]
	d, _ := ev.Data["dsn"].(map[string]any)
	if ev.Actor != "imap" || ev.Role != "system" || ev.Data["notice_id"] != ok1.ID || ev.Data["smtp_status"] != "550 5.2.1" ||
		d["action"] != "failed" || d["status"] != "5.2.1" || d["matched_by"] != "message-id" || d["final_recipient_matches"] != true ||
		d["reporting_mta"] != "mx1.lincoln.example.org" || len(fmt.Sprint(d["dsn_sha256"])) != 64 {
		t.Fatalf("bounce event %+v", ev)
	}
	if ev.Private["final_recipient"] != "ok1@example.org" || ev.Private["remote_mta"] != "mx.oldisp.example.com" ||
		!strings.Contains(ev.Private["reason"], "Mailbox disabled") {
		t.Fatalf("bounce event's private evidence %+v", ev.Private)
	}
	delays := eventsOf(t, e.store, e.b.ID, breach.EventNoticeDelayed)
	if len(delays) != 2 {
		t.Fatalf("%d delay events", len(delays))
	}
	got := map[string]string{}
	for _, ev := range delays {
		d, _ := ev.Data["dsn"].(map[string]any)
		got[fmt.Sprint(ev.Data["notice_id"])] = fmt.Sprint(ev.Data["action"], " ", ev.Data["status"], " by ", d["matched_by"])
	}
	if want := map[string]string{ok2.ID: "delayed 4.4.1 by x-breachd-notice", later.ID: "failed 4.2.2 by envelope-id"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("delay events %v, want %v", got, want)
	}
	for _, ev := range allEvents(t, e.store, e.b.ID) {
		if strings.Contains(fmt.Sprint(ev.Data), "@example.org") || strings.Contains(ev.Summary, "@") {
			t.Fatalf("an event's data names an address: %+v", ev)
		}
	}

	un := unmatchedList(t, e.store)
	reasons := map[string]bool{}
	for _, ev := range un {
		reasons[fmt.Sprint(ev.Data["reason"])] = true
		if ev.Type != breach.EventDSNUnmatched || strings.Contains(fmt.Sprint(ev.Data), "@") {
			t.Fatalf("unmatched event %+v", ev)
		}
	}
	if len(un) != 2 || !reasons["no_reference"] || !reasons["no_notice"] {
		t.Fatalf("unmatched %+v", un)
	}
	if un[0].Private["final_recipient_1"] != "board.member@county.example.gov" {
		t.Fatalf("unmatched evidence %+v", un[0].Private)
	}

	flags := box.Flags(t)
	wantFlags := map[uint32]string{permanent: "recorded", delayed: "recorded", temporary: "recorded", other: "unmatched",
		unknown: "unmatched", junk: "malformed", plain: "malformed"}
	for uid, outcome := range wantFlags {
		if !reflect.DeepEqual(flags[uid], []string{"$breachd-" + outcome, `\Seen`}) {
			t.Errorf("message %d flags %v, want %s", uid, flags[uid], outcome)
		}
	}
	if l := logs.String(); strings.Count(l, `"level":"WARN"`) != 2 || strings.Contains(l, "@example") ||
		strings.Contains(l, "parent@") || strings.Contains(l, "board.member") {
		t.Fatalf("logs:\n%s", l)
	}

	// Again: nothing new. Then a copy of the recorded bounce (a server that sent it twice, or a
	// mark lost after recording) is recognised and recorded nothing.
	n := len(allEvents(t, e.store, e.b.ID))
	if err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	copied := box.Append(t, dsnFor(t, e, "exim-failed.eml", "ok1@example.org"))
	if err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(allEvents(t, e.store, e.b.ID)); got != n || len(unmatchedList(t, e.store)) != 2 {
		t.Fatalf("a second poll recorded more: %d events (was %d), %d unmatched", got, n, len(unmatchedList(t, e.store)))
	}
	if f := box.Flags(t)[copied]; !reflect.DeepEqual(f, []string{`\Seen`}) {
		t.Fatalf("the copy's flags %v", f)
	}
}

// TestBouncePollerRun: Run reads at once and on every tick, and returns when its context ends;
// a mailbox that cannot be reached is logged and read again.
func TestBouncePollerRun(t *testing.T) {
	e := newEmailEnv(t, nil)
	box := imaptest.New(t)
	mb, err := dsn.New(dsn.Config{Host: box.Host, Port: box.Port, Username: imaptest.Username, Password: "wrong",
		TLS: dsn.TLSNone, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	p, _ := jobs.NewBouncePoller(jobs.BouncePollerConfig{Worker: e.worker, Mailbox: mb, Interval: 30 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	waitFor(t, "three reads", 5*time.Second, func() bool { return box.Connections() >= 3 })
	cancel()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return")
	}
	if l := logs.String(); !strings.Contains(l, "reading the bounce mailbox failed") || strings.Contains(l, "wrong") {
		t.Fatalf("logs:\n%s", l)
	}
}

// syncBuffer is a bytes.Buffer a logger may write to from another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
