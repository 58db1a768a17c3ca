package jobs_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/notify/email"
	"github.com/breachd/breachd/notify/email/smtptest"
	"github.com/breachd/breachd/notify/voice"
	"github.com/breachd/breachd/notify/voice/twiliotest"
)

// startSMTPSink starts a real SMTP server that answers some recipients with an error: 550 always,
// 451 the first time only.
func startSMTPSink(t testing.TB) *smtptest.Server {
	t.Helper()
	s := smtptest.New(t)
	s.On("bounce@example.org", smtptest.Reject)
	s.On("gone@example.org", smtptest.Reject)
	s.On("later@example.org", smtptest.DeferOnce)
	return s
}

// sinkMailer sends to s in the clear.
func sinkMailer(t testing.TB, s *smtptest.Server) *email.SMTP {
	t.Helper()
	m, err := email.New(email.Config{Host: s.Host, Port: s.Port, From: "notices@lincoln.example.org",
		FromName: "Lincoln Unified School District", TLSPolicy: email.TLSNone, Timeout: 5 * time.Second, HELO: "breachd.test"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// received counts the messages s accepted per recipient address.
func received(s *smtptest.Server) map[string]int {
	out := map[string]int{}
	for _, m := range s.Messages() {
		for _, to := range m.To {
			out[to]++
		}
	}
	return out
}

// plainComposer writes short notices; the real texts are package letters' business.
type plainComposer struct{}

func (plainComposer) Email(b *breach.Breach, n breach.Notice) (breach.EmailMessage, error) {
	return breach.EmailMessage{NoticeID: n.ID, To: n.Email, ToName: n.AddresseeName, Language: n.Language,
		Subject: "Notice of a data security incident: " + b.Determination.Title,
		Text:    "We are writing to tell you about a data security incident.", HTML: "<p>We are writing to tell you about a data security incident.</p>"}, nil
}

// CallScript writes a script whose five parts say which they are, in the notice's language when
// it is Spanish, so that a test can find each part in what the voice reads.
func (plainComposer) CallScript(b *breach.Breach, n breach.Notice) (breach.CallScript, error) {
	cs := breach.CallScript{Language: "en", Greeting: "This is Lincoln Unified School District with a notice about a data security incident.",
		Closing: "Goodbye."}
	part := "Part"
	if strings.HasPrefix(n.Language, "es") {
		cs.Language, cs.Greeting, cs.Closing, part = "es", "Le llama Lincoln Unified School District con un aviso.", "Adiós.", "Parte"
	}
	read := []string{cs.Greeting}
	for _, p := range breach.NoticeParts {
		sp := breach.ScriptPart{Part: p, Title: part + " " + string(p), Text: part + " " + string(p) + " of the notice about " + b.Determination.Title + "."}
		cs.Parts = append(cs.Parts, sp)
		read = append(read, sp.Text)
	}
	cs.Text = strings.Join(append(read, cs.Closing), "\n\n") + "\n"
	return cs, nil
}

// emailPeople are five adults who prefer email: two delivered, one refused for good with a postal
// address (a letter replaces it), one refused for good without one (the substitute notice must
// reach them), one refused once and then accepted.
func emailPeople(breachID string) []breach.Recipient {
	addr := breach.PostalAddress{Line1: "15 W Washington St", City: "South Bend", State: "IN", PostalCode: "46601"}
	people := []struct{ name, email string }{
		{"Łukasz Żółć", "ok1@example.org"}, {"Zoë Lee", "ok2@example.org"}, {"Omar Haddad", "bounce@example.org"},
		{"Ava Brown", "gone@example.org"}, {"Grace Lee", "later@example.org"},
	}
	var rs []breach.Recipient
	for i, p := range people {
		first, last, _ := strings.Cut(p.name, " ")
		r := breach.Recipient{ID: recipientID(i), BreachID: breachID, Row: i + 1, ExternalID: fmt.Sprintf("E-%d", i),
			FirstName: first, LastName: last, Address: addr, Email: p.email, PreferredChannel: breach.PreferEmail,
			EmailCurrent: true, Language: "en", DateOfBirth: breach.MustDate("1980-01-01")}
		if p.email == "gone@example.org" {
			r.Address = breach.PostalAddress{}
		}
		rs = append(rs, r)
	}
	return rs
}

type workerEnv struct {
	*dispatchEnv
	sink   *smtptest.Server
	worker *jobs.Worker
}

// newEmailEnv stores emailPeople, dispatches them and builds a worker on a real SMTP server.
func newEmailEnv(t *testing.T, mailer func(breach.Mailer) breach.Mailer, opts ...jobs.QueueOption) *workerEnv {
	t.Helper()
	s, rdb, b := ntStore(t)
	rs := emailPeople(b.ID)
	if _, err := s.AddRecipients(context.Background(), b.ID, rs); err != nil {
		t.Fatal(err)
	}
	q := jobs.NewQueue(rdb, opts...)
	e := &workerEnv{dispatchEnv: &dispatchEnv{rdb: rdb, store: s, queue: q, b: b, rs: rs,
		disp: jobs.NewDispatcher(jobs.DispatcherConfig{Store: s, Queue: q})}}
	e.sink = startSMTPSink(t)
	var m breach.Mailer = sinkMailer(t, e.sink)
	if mailer != nil {
		m = mailer(m)
	}
	w, err := jobs.NewWorker(jobs.WorkerConfig{Store: s, Queue: q, Redis: rdb, Mailer: m, Composer: plainComposer{},
		Logger: slog.New(slog.DiscardHandler), PollInterval: 50 * time.Millisecond, HoldRetryDelay: 200 * time.Millisecond,
		RetryDelay: func(int) time.Duration { return 100 * time.Millisecond }, ShutdownTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.worker = w
	return e
}

// start runs the worker until the test ends, and checks then that it left no goroutine behind.
func (e *workerEnv) start(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	if err := e.worker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.worker.Shutdown()
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines after Shutdown, %d before Start:\n%s", n, before, buf[:runtime.Stack(buf, true)])
		}
	})
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *workerEnv) counts(t *testing.T) map[string]int {
	t.Helper()
	c, _, err := e.store.NoticeCounts(context.Background(), e.b.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for ch, byStatus := range c {
		for st, n := range byStatus {
			if n != 0 {
				out[string(ch)+":"+string(st)] = n
			}
		}
	}
	return out
}

func (e *workerEnv) byEmail(t *testing.T) map[string]breach.Notice {
	t.Helper()
	out := map[string]breach.Notice{}
	for _, n := range e.notices(t, breach.NoticeFilter{Channel: breach.MethodEmail}) {
		out[n.Email] = n
	}
	return out
}

func TestEmailBatchEndToEnd(t *testing.T) {
	e := newEmailEnv(t, nil)
	ctx := context.Background()
	rep, err := e.disp.Dispatch(ctx, e.b, dispatchAsOf, ntActor)
	if err != nil || rep.Created[breach.MethodEmail] != 5 || rep.Tasks != 1 {
		t.Fatalf("dispatch %+v, %v", rep, err)
	}
	e.start(t)
	want := map[string]int{"email:sent": 3, "email:failed": 2, "letter:queued": 1}
	waitFor(t, "the batch to be sent", 10*time.Second, func() bool { return fmt.Sprint(e.counts(t)) == fmt.Sprint(want) })

	if got := received(e.sink); fmt.Sprint(got) != fmt.Sprint(map[string]int{"ok1@example.org": 1, "ok2@example.org": 1, "later@example.org": 1}) {
		t.Errorf("the server accepted %v", got)
	}
	ns := e.byEmail(t)
	if n := ns["later@example.org"]; n.Status != breach.NoticeSent || n.Attempts != 2 || n.SentAt.IsZero() {
		t.Errorf("retried notice %+v", n)
	}
	bounce := ns["bounce@example.org"]
	if bounce.Status != breach.NoticeFailed || bounce.FallbackID == "" || bounce.LastError == "" {
		t.Fatalf("bounced notice %+v", bounce)
	}
	letter, err := e.store.Notice(ctx, bounce.FallbackID)
	if err != nil || letter.Channel != breach.MethodLetter || letter.FallbackFor != bounce.ID ||
		letter.AddresseeName != "Omar Haddad" || letter.Address.Line1 != "15 W Washington St" ||
		!slices.Equal(letter.RecipientIDs, bounce.RecipientIDs) {
		t.Fatalf("fallback letter %+v, %v", letter, err)
	}
	if gone := ns["gone@example.org"]; gone.Status != breach.NoticeFailed || gone.FallbackID != "" {
		t.Errorf("notice without a postal address %+v", gone)
	}

	evs := map[breach.EventType][]breach.Event{}
	for _, ev := range allEvents(t, e.store, e.b.ID) {
		evs[ev.Type] = append(evs[ev.Type], ev)
	}
	if len(evs[breach.EventNoticeSent]) != 3 || len(evs[breach.EventNoticeFailed]) != 2 ||
		len(evs[breach.EventNoticeFallback]) != 1 || len(evs[breach.EventNoticeRetried]) != 1 {
		t.Errorf("events: %d sent, %d failed, %d fallback, %d retried", len(evs[breach.EventNoticeSent]),
			len(evs[breach.EventNoticeFailed]), len(evs[breach.EventNoticeFallback]), len(evs[breach.EventNoticeRetried]))
	}
	substitute := 0
	for _, ev := range evs[breach.EventNoticeFailed] {
		if ev.Data["substitute_notice"] == true {
			substitute++
		}
		if strings.Contains(fmt.Sprint(ev.Data), "@") {
			t.Errorf("event names an address: %+v", ev)
		}
	}
	if substitute != 1 {
		t.Errorf("%d failures sent to the substitute notice, want 1", substitute)
	}
	if ev := evs[breach.EventNoticeFallback][0]; ev.Data["fallback_id"] != bounce.FallbackID || ev.Role != "system" {
		t.Errorf("fallback event %+v", ev)
	}
}

// A batch task run twice sends each message once: the second run finds nothing queued.
func TestEmailBatchIdempotent(t *testing.T) {
	e := newEmailEnv(t, nil)
	ctx := context.Background()
	if _, err := e.disp.Dispatch(ctx, e.b, dispatchAsOf, ntActor); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range e.byEmail(t) {
		if n.Email == "ok1@example.org" || n.Email == "ok2@example.org" {
			ids = append(ids, n.ID)
		}
	}
	payload, _ := json.Marshal(map[string]any{"breach_id": e.b.ID, "notice_ids": ids})
	task := asynq.NewTask(jobs.TypeEmailBatch, payload)
	for run := range 2 {
		if err := e.worker.ProcessTask(ctx, task); err != nil {
			t.Fatalf("run %d: %v", run+1, err)
		}
	}
	if got := received(e.sink); fmt.Sprint(got) != fmt.Sprint(map[string]int{"ok1@example.org": 1, "ok2@example.org": 1}) {
		t.Errorf("the server accepted %v", got)
	}
}

// While a hold is open nothing is sent; once it is released the queued batch goes out.
func TestHoldStopsSendingUntilReleased(t *testing.T) {
	e := newEmailEnv(t, nil)
	ctx := context.Background()
	if _, err := e.disp.Dispatch(ctx, e.b, dispatchAsOf, ntActor); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateBreach(ctx, e.b.ID, placeHold("hold-1")); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	time.Sleep(time.Second) // several hold retries (200 ms each)
	if got := received(e.sink); len(got) != 0 {
		t.Fatalf("sent during the hold: %v", got)
	}
	if c := e.counts(t); c["email:queued"] != 5 {
		t.Fatalf("counts during the hold %v", c)
	}
	if _, err := e.store.UpdateBreach(ctx, e.b.ID, func(b *breach.Breach) (breach.Event, error) {
		b.Holds[0].EndDate = breach.MustDate("2026-03-20")
		b.Status = breach.StatusDispatched
		return breach.Event{Type: breach.EventHoldReleased, Actor: "key-admin-1", Role: breach.RoleAdmin, Summary: "released"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the batch after the release", 10*time.Second, func() bool { return e.counts(t)["email:sent"] == 3 })
	// The waits did not count as failed attempts: the task never reached the dead letters.
	if dl, err := e.worker.DeadLetters(ctx); err != nil || len(dl) != 0 {
		t.Fatalf("dead letters %v, %v", dl, err)
	}
}

// downMailer fails every batch while down is set, as a mail server that cannot be reached.
type downMailer struct {
	down atomic.Bool
	next breach.Mailer
}

func (m *downMailer) Send(ctx context.Context, msgs []breach.EmailMessage) ([]error, error) {
	if m.down.Load() {
		return nil, &breach.SendError{Reason: "the mail server cannot be reached"}
	}
	return m.next.Send(ctx, msgs)
}

func TestDeadLettersListedAndRetried(t *testing.T) {
	dm := &downMailer{}
	dm.down.Store(true)
	e := newEmailEnv(t, func(m breach.Mailer) breach.Mailer { dm.next = m; return dm }, jobs.WithMaxRetry(1))
	ctx := context.Background()
	if _, err := e.disp.Dispatch(ctx, e.b, dispatchAsOf, ntActor); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	var dl []jobs.DeadLetter
	waitFor(t, "the batch in the dead letters", 10*time.Second, func() bool {
		var err error
		dl, err = e.worker.DeadLetters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(dl) == 1
	})
	if d := dl[0]; d.Type != jobs.TypeEmailBatch || d.BreachID != e.b.ID || len(d.NoticeIDs) != 5 || d.Retried != 1 ||
		!strings.Contains(d.LastError, "not sent yet") || strings.Contains(d.LastError, "@") {
		t.Fatalf("dead letter %+v", d)
	}
	// No message was handed to the server: no attempt is counted on any notice, and each run of
	// the batch is one retry on the stream, not one per notice (issue 10 §2).
	if n := e.byEmail(t)["ok1@example.org"]; n.Status != breach.NoticeQueued || n.Attempts != 0 || len(n.History) != 0 {
		t.Fatalf("notice after two failed tries %+v", n)
	}
	evs, _, err := e.store.Events(ctx, e.b.ID, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var retried []breach.Event
	for _, ev := range evs {
		if ev.Type == breach.EventNoticeRetried {
			retried = append(retried, ev)
		}
	}
	if len(retried) != 2 || retried[0].Data["count"] != float64(5) || retried[0].Data["reason"] != "the mail server cannot be reached" {
		t.Fatalf("retry events %+v", retried)
	}
	h, err := e.store.ChannelHealth(ctx)
	if err != nil || !h[breach.MethodEmail].Degraded || h[breach.MethodEmail].Since.IsZero() || h[breach.MethodEmail].Reason != "the mail server cannot be reached" {
		t.Fatalf("channel health while the server is down: %+v, %v", h, err)
	}
	dm.down.Store(false)
	if err := e.worker.RetryDeadLetter(ctx, dl[0].ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the retried batch", 10*time.Second, func() bool { return e.counts(t)["email:sent"] >= 2 })
	if h, err := e.store.ChannelHealth(ctx); err != nil || h[breach.MethodEmail].Degraded {
		t.Fatalf("channel health once mail goes through: %+v, %v", h, err)
	}
	err = e.worker.RetryDeadLetter(ctx, "no-such-task")
	wantCode(t, err, breach.ENOTFOUND)
}

// callEnv is the fixture dispatched without Twilio (clerk call tasks), and a worker whose clock
// the test sets.
type callEnv struct {
	*dispatchEnv
	worker *jobs.Worker
	clock  atomic.Pointer[time.Time]
}

func newCallEnv(t *testing.T, caller breach.Caller, publicURL string) *callEnv {
	t.Helper()
	e := &callEnv{dispatchEnv: newDispatchEnv(t, caller != nil)}
	now := time.Date(2026, 4, 1, 14, 0, 0, 0, time.UTC)
	e.clock.Store(&now)
	w, err := jobs.NewWorker(jobs.WorkerConfig{Store: e.store, Queue: e.queue, Redis: e.rdb, Mailer: &downMailer{},
		Caller: caller, PublicURL: publicURL, Composer: plainComposer{}, Logger: slog.New(slog.DiscardHandler),
		Clock: func() time.Time { return *e.clock.Load() }})
	if err != nil {
		t.Fatal(err)
	}
	e.worker = w
	if _, err := e.disp.Dispatch(context.Background(), e.b, dispatchAsOf, ntActor); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *callEnv) set(t time.Time) { e.clock.Store(&t) }

// phone returns the phone notice to the number.
func (e *callEnv) phone(t *testing.T, number string) breach.Notice {
	t.Helper()
	for _, n := range e.notices(t, breach.NoticeFilter{Channel: breach.MethodPhone}) {
		if n.Phone == number {
			return n
		}
	}
	t.Fatalf("no phone notice to %s", number)
	return breach.Notice{}
}

func (e *callEnv) windowTask(id string) *asynq.Task {
	payload, _ := json.Marshal(map[string]string{"breach_id": e.b.ID, "notice_id": id})
	return asynq.NewTask(jobs.TypeCallWindow, payload)
}

var clerk = breach.Actor{ID: "clerk-7c1d", Role: breach.RoleClerk}

// Zoë prefers the phone: no answer, a voicemail (never notice), then nothing. After 72 hours the
// window task fails the call and a letter replaces it.
func TestCallWindowClosesIntoLetter(t *testing.T) {
	e := newCallEnv(t, nil, "")
	ctx := context.Background()
	zoe := e.phone(t, "+13125550190")
	first := time.Date(2026, 4, 1, 15, 0, 0, 0, time.UTC)
	n, err := e.worker.RecordCallAttempt(ctx, zoe.ID, breach.CallNoAnswer, nil, clerk, first)
	if err != nil {
		t.Fatal(err)
	}
	if n.Status != breach.NoticeQueued || n.Attempts != 1 || !n.FirstAttemptAt.Equal(first) ||
		!n.CallWindowEnds.Equal(first.Add(72*time.Hour)) || n.FallbackID != "" {
		t.Fatalf("after the first attempt %+v", n)
	}
	tasks, err := inspectorTasks(e.rdb)
	if err != nil || !slices.Contains(tasks, jobs.TypeCallWindow) {
		t.Fatalf("tasks %v, %v: want the window task scheduled", tasks, err)
	}
	n, err = e.worker.RecordCallAttempt(ctx, zoe.ID, breach.CallVoicemail, nil, clerk, first.Add(5*time.Hour))
	if err != nil || n.Status != breach.NoticeQueued || n.Attempts != 2 || !n.FirstAttemptAt.Equal(first) {
		t.Fatalf("after the voicemail %+v, %v", n, err)
	}

	// Before the window ends the task does nothing (it is retried later).
	e.set(first.Add(71 * time.Hour))
	if err := e.worker.ProcessTask(ctx, e.windowTask(zoe.ID)); err == nil {
		t.Fatal("the window task failed the call before 72 hours")
	}
	e.set(first.Add(72*time.Hour + time.Second))
	for range 2 { // idempotent
		if err := e.worker.ProcessTask(ctx, e.windowTask(zoe.ID)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.store.Notice(ctx, zoe.ID)
	if err != nil || got.Status != breach.NoticeFailed || got.LastError != "no conversation within 72 hours of the first attempt" || got.FallbackID == "" {
		t.Fatalf("after the window %+v, %v", got, err)
	}
	letter, err := e.store.Notice(ctx, got.FallbackID)
	if err != nil || letter.Channel != breach.MethodLetter || letter.Address.City != "Chicago" || letter.FallbackFor != zoe.ID {
		t.Fatalf("letter %+v, %v", letter, err)
	}
	wantCounts(t, e.store, e.b.ID, map[string]int{"letter:queued": 5, "email:queued": 2, "phone:queued": 1, "phone:failed": 1})
	_, err = e.worker.RecordCallAttempt(ctx, zoe.ID, breach.CallConversation, allParts, clerk, first.Add(73*time.Hour))
	wantCode(t, err, breach.ECONFLICT)
}

func TestCallConversationDelivers(t *testing.T) {
	e := newCallEnv(t, nil, "")
	ctx := context.Background()
	dang := e.phone(t, "+17655550142")
	at := time.Date(2026, 4, 2, 16, 0, 0, 0, time.UTC)
	if _, err := e.worker.RecordCallAttempt(ctx, dang.ID, breach.CallBusy, nil, clerk, at); err != nil {
		t.Fatal(err)
	}
	n, err := e.worker.RecordCallAttempt(ctx, dang.ID, breach.CallConversation, allParts, clerk, at.Add(time.Hour))
	if err != nil || n.Status != breach.NoticeDelivered || n.Attempts != 2 || n.FallbackID != "" {
		t.Fatalf("after the conversation %+v, %v", n, err)
	}
	if c, last, err := e.store.NoticeCounts(ctx, e.b.ID); err != nil || last.IsZero() || c[breach.MethodPhone][breach.NoticeDelivered] != 1 {
		t.Fatalf("counts after the conversation %v, last delivered %v, %v", c, last, err)
	}
	// The window task then leaves it alone.
	e.set(at.Add(80 * time.Hour))
	if err := e.worker.ProcessTask(ctx, e.windowTask(dang.ID)); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.store.Notice(ctx, dang.ID); got.Status != breach.NoticeDelivered {
		t.Fatalf("after the window %+v", got)
	}
	var types []string
	for _, ev := range allEvents(t, e.store, e.b.ID) {
		ids, _ := ev.Data["notice_ids"].([]any) // notice.queued lists the notices of a batch
		if ev.Data["notice_id"] == dang.ID || slices.Contains(ids, any(dang.ID)) {
			types = append(types, string(ev.Type))
		}
	}
	if !slices.Equal(types, []string{"notice.queued", "call.attempt", "call.attempt", "notice.delivered"}) {
		t.Fatalf("events %v", types)
	}
	_, err = e.worker.RecordCallAttempt(ctx, dang.ID, "hung_up", nil, clerk, at)
	wantInvalidField(t, err, "outcome")
	letter := e.notices(t, breach.NoticeFilter{Channel: breach.MethodLetter})[0]
	_, err = e.worker.RecordCallAttempt(ctx, letter.ID, breach.CallConversation, allParts, clerk, at)
	wantCode(t, err, breach.ECONFLICT)
}

func TestCallWrongNumberFallsBackAtOnce(t *testing.T) {
	e := newCallEnv(t, nil, "")
	ctx := context.Background()
	dang := e.phone(t, "+17655550142")
	n, err := e.worker.RecordCallAttempt(ctx, dang.ID, breach.CallWrongNumber, nil, clerk, time.Date(2026, 4, 2, 16, 0, 0, 0, time.UTC))
	if err != nil || n.Status != breach.NoticeFailed || n.FallbackID == "" || n.Attempts != 1 || n.LastError != "wrong number" {
		t.Fatalf("after a wrong number %+v, %v", n, err)
	}
	if letter, err := e.store.Notice(ctx, n.FallbackID); err != nil || letter.Address.City != "Richmond" {
		t.Fatalf("letter %+v, %v", letter, err)
	}
}

// The breach was discovered on 2026-03-01: the deadline is 2026-04-15. A first call on
// 2026-04-13 leaves less than 3 days: the letter is queued at once, and the call goes on.
func TestCallNearDeadlineQueuesParallelLetter(t *testing.T) {
	e := newCallEnv(t, nil, "")
	ctx := context.Background()
	dang := e.phone(t, "+17655550142")
	n, err := e.worker.RecordCallAttempt(ctx, dang.ID, breach.CallNoAnswer, nil, clerk, time.Date(2026, 4, 13, 15, 0, 0, 0, time.UTC))
	if err != nil || n.Status != breach.NoticeQueued || n.FallbackID == "" {
		t.Fatalf("after a first attempt near the deadline %+v, %v", n, err)
	}
	// The window closes later: the call fails and the letter already queued is the one.
	e.set(n.CallWindowEnds.Add(time.Minute))
	if err := e.worker.ProcessTask(ctx, e.windowTask(dang.ID)); err != nil {
		t.Fatal(err)
	}
	got, _ := e.store.Notice(ctx, dang.ID)
	if got.Status != breach.NoticeFailed || got.FallbackID != n.FallbackID {
		t.Fatalf("after the window %+v", got)
	}
	wantCounts(t, e.store, e.b.ID, map[string]int{"letter:queued": 5, "email:queued": 2, "phone:queued": 1, "phone:failed": 1})

	// Far from the deadline, no parallel letter.
	zoe := e.phone(t, "+13125550190")
	if n, err := e.worker.RecordCallAttempt(ctx, zoe.ID, breach.CallNoAnswer, nil, clerk, time.Date(2026, 4, 2, 15, 0, 0, 0, time.UTC)); err != nil || n.FallbackID != "" {
		t.Fatalf("far from the deadline %+v, %v", n, err)
	}
}

// With Twilio the call batch becomes one call each, placed with the callback URL of the notice.
func TestTwilioCallsPlacedWithCallbackURL(t *testing.T) {
	tw := twiliotest.NewServer(t)
	caller, err := voice.New(voice.Config{AccountSID: tw.AccountSID, AuthToken: tw.AuthToken, From: "+13175550100", BaseURL: tw.URL})
	if err != nil {
		t.Fatal(err)
	}
	e := newCallEnv(t, caller, "https://breachd.example.org/")
	ctx := context.Background()
	ins := asynq.NewInspectorFromRedisClient(e.rdb)
	// Run the queued tasks by hand, in order: the batch, then the calls it queued.
	for range 3 {
		pending, err := ins.ListPendingTasks(jobs.QueueName)
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range pending {
			if ti.Type == jobs.TypeEmailBatch || ti.Type == jobs.TypeCallWindow {
				continue // the window tasks are due at once: the clock of this test is in the past
			}
			if err := e.worker.ProcessTask(ctx, asynq.NewTask(ti.Type, ti.Payload)); err != nil {
				t.Fatalf("%s: %v", ti.Type, err)
			}
			if err := ins.DeleteTask(jobs.QueueName, ti.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	reqs := tw.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d calls placed, want 2", len(reqs))
	}
	for _, r := range reqs {
		var n breach.Notice
		for _, c := range e.notices(t, breach.NoticeFilter{Channel: breach.MethodPhone}) {
			if c.Phone == r.To() {
				n = c
			}
		}
		if want := "https://breachd.example.org/v1/webhooks/twilio?notice=" + n.ID; r.StatusCallback() != want {
			t.Errorf("callback %q, want %q", r.StatusCallback(), want)
		}
		if n.Status != breach.NoticeSent || n.Attempts != 1 || n.FirstAttemptAt.IsZero() {
			t.Errorf("placed call %+v", n)
		}
	}
	tasks, _ := inspectorTasks(e.rdb)
	windows := 0
	for _, typ := range tasks {
		if typ == jobs.TypeCallWindow {
			windows++
		}
	}
	if windows != 2 {
		t.Fatalf("tasks %v: want two call windows scheduled", tasks)
	}
	// The callback's outcome: no answer puts the notice back in the queue and schedules the next call.
	n := e.phone(t, reqs[0].To())
	got, err := e.worker.RecordCallAttempt(ctx, n.ID, breach.CallNoAnswer, nil, breach.Actor{ID: "twilio", Role: "system"}, n.FirstAttemptAt.Add(time.Minute))
	if err != nil || got.Status != breach.NoticeQueued || got.Attempts != 1 {
		t.Fatalf("after the callback %+v, %v", got, err)
	}
}

// TestFoldQueuedTask: dispatch queues a task that folds the new notices into the queued sets, so
// the clerks' first lists do not pay for it; the logs are empty after it runs.
func TestFoldQueuedTask(t *testing.T) {
	e := newCallEnv(t, nil, "")
	ctx := context.Background()
	logLen := func() int64 {
		var n int64
		for _, ch := range []string{"letter", "email", "phone"} {
			n += e.rdb.LLen(ctx, "breachd:breach:{"+e.b.ID+"}:notices:queued-log:"+ch).Val()
		}
		return n
	}
	if got := logLen(); got != 8 {
		t.Fatalf("queued logs hold %d IDs after dispatch, want 8", got)
	}
	info, err := asynq.NewInspector(asynq.RedisClientOpt{Addr: e.rdb.Options().Addr, DB: e.rdb.Options().DB, Password: e.rdb.Options().Password}).
		GetTaskInfo(jobs.QueueName, "fold-queued:"+e.b.ID)
	if err != nil || info.Type != jobs.TypeFoldQueued {
		t.Fatalf("fold task not queued: %v %+v", err, info)
	}
	if err := e.worker.ProcessTask(ctx, asynq.NewTask(jobs.TypeFoldQueued, info.Payload)); err != nil {
		t.Fatal(err)
	}
	if got := logLen(); got != 0 {
		t.Fatalf("queued logs hold %d IDs after the fold", got)
	}
	if got := e.rdb.ZCard(ctx, "breachd:breach:{"+e.b.ID+"}:notices:status:queued:letter").Val(); got != 4 {
		t.Fatalf("queued letters set holds %d, want 4", got)
	}
}

// allParts is what a clerk confirms after a conversation that gave the whole notice.
var allParts = []breach.NoticePart{"E", "A", "C", "B", "D"} // any order

// A conversation is notice only when the clerk confirms that all five parts were said; the parts
// are recorded in the call.attempt event and the notice's history. Another outcome takes none.
func TestCallConversationNeedsEveryPart(t *testing.T) {
	e := newCallEnv(t, nil, "")
	ctx := context.Background()
	dang := e.phone(t, "+17655550142")
	at := time.Date(2026, 4, 2, 16, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		outcome breach.CallOutcome
		parts   []breach.NoticePart
		reason  string // a part of the reason for parts_delivered
	}{
		{"a conversation without parts", breach.CallConversation, nil, "A, B, C, D, E"},
		{"a conversation missing two parts", breach.CallConversation, []breach.NoticePart{"A", "B", "C"}, "lacks D, E"},
		{"a part said twice", breach.CallConversation, []breach.NoticePart{"A", "B", "C", "D", "D"}, "D twice"},
		{"a part that does not exist", breach.CallConversation, []breach.NoticePart{"A", "B", "C", "D", "F"}, `"F"`},
		{"parts with a voicemail", breach.CallVoicemail, allParts, "only for a conversation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.worker.RecordCallAttempt(ctx, dang.ID, tc.outcome, tc.parts, clerk, at)
			wantInvalidField(t, err, "parts_delivered")
			var be *breach.Error
			if errors.As(err, &be); !strings.Contains(be.Fields[0].Reason, tc.reason) {
				t.Errorf("reason %q does not say %q", be.Fields[0].Reason, tc.reason)
			}
		})
	}
	// Nothing was recorded by the refused attempts: the window is not open yet.
	if n, _ := e.store.Notice(ctx, dang.ID); n.Attempts != 0 || !n.FirstAttemptAt.IsZero() || n.Status != breach.NoticeQueued {
		t.Fatalf("a refused attempt changed the notice: %+v", n)
	}

	n, err := e.worker.RecordCallAttempt(ctx, dang.ID, breach.CallConversation, allParts, clerk, at)
	if err != nil || n.Status != breach.NoticeDelivered {
		t.Fatalf("a conversation with every part: %+v, %v", n, err)
	}
	var attempt *breach.NoticeEntry
	for i, h := range n.History {
		if h.Type == breach.EventCallAttempt {
			attempt = &n.History[i]
		}
	}
	if attempt == nil || fmt.Sprint(attempt.Data["parts_delivered"]) != "[A B C D E]" || !strings.Contains(attempt.Summary, "A, B, C, D, E") {
		t.Fatalf("the notice's history does not record the parts said: %+v", n.History)
	}
	var recorded bool
	for _, ev := range allEvents(t, e.store, e.b.ID) {
		if ev.Type == breach.EventCallAttempt && ev.Data["notice_id"] == dang.ID {
			recorded = fmt.Sprint(ev.Data["parts_delivered"]) == "[A B C D E]" && ev.Data["by"] == clerk.ID
		}
	}
	if !recorded {
		t.Fatal("the breach's stream does not record the parts said in the call.attempt event")
	}
}

// twilioHook is the webhook Twilio's callbacks reach, wired as the API wires it: the signature is
// checked against the public URL, the callback read and recorded by the worker, with the outcome
// when it is final. A Twilio conversation heard the whole script, so it gave every part.
type twilioHook struct {
	URL    string
	token  string
	worker atomic.Pointer[jobs.Worker]
	now    func() time.Time
}

func newTwilioHook(t *testing.T, token string) *twilioHook {
	t.Helper()
	h := &twilioHook{token: token}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "malformed", http.StatusBadRequest)
			return
		}
		st, err := voice.ReadStatusCallback(h.token, h.URL, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		if _, err := h.worker.Load().RecordCallStatus(r.Context(), st, breach.Actor{ID: "twilio", Role: "system"}, h.now()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

// runCallTasks runs the pending call tasks by hand, in order: the batch, then the calls it queued.
// Window tasks and scheduled retries are left to the test.
func (e *callEnv) runCallTasks(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	ins := asynq.NewInspectorFromRedisClient(e.rdb)
	for range 3 {
		pending, err := ins.ListPendingTasks(jobs.QueueName)
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range pending {
			if ti.Type != jobs.TypeCallBatch && ti.Type != jobs.TypeCall {
				continue
			}
			if err := e.worker.ProcessTask(ctx, asynq.NewTask(ti.Type, ti.Payload)); err != nil {
				t.Fatalf("%s: %v", ti.Type, err)
			}
			if err := ins.DeleteTask(jobs.QueueName, ti.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestTwilioCallEndToEnd places the calls through the Twilio API (twiliotest) and plays their
// signed callbacks back through the webhook: the voice reads the whole script, parts A to E, in
// the person's language; a person who answers is notice; an answering machine never is, and the
// letter follows when the window closes — or at once when the first call is within 3 days of the
// deadline (LAW.md §3).
func TestTwilioCallEndToEnd(t *testing.T) {
	tests := []struct {
		name  string
		first time.Time // when the calls are placed; the deadline is 2026-04-15
	}{
		{"far from the deadline", time.Date(2026, 4, 1, 14, 0, 0, 0, time.UTC)},
		{"less than 3 days before the deadline", time.Date(2026, 4, 13, 14, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e, tw := newTwilioCallEnv(t)
			e.set(tc.first)
			near := tc.first.Month() == 4 && tc.first.Day() == 13

			// Đặng speaks Spanish; Zoë Vietnamese, which has no script: hers is English, and so is
			// the voice that reads it.
			dang := e.phone(t, "+17655550142")
			for number, lang := range map[string]string{"+17655550142": "es-MX", "+13125550190": "vi"} {
				if _, err := e.store.UpdateNotice(ctx, e.phone(t, number).ID, func(n *breach.Notice) ([]breach.Event, error) {
					n.Language = lang
					return nil, nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			e.runCallTasks(t)

			placed := map[string]twiliotest.Request{}
			for _, r := range tw.Requests() {
				placed[r.To()] = r
			}
			if len(placed) != 2 {
				t.Fatalf("%d calls placed, want 2", len(placed))
			}
			for number, want := range map[string]struct{ lang, voice string }{
				"+13125550190": {"en-US", "Polly.Joanna"},
				"+17655550142": {"es-US", "Polly.Lupe"},
			} {
				n := e.phone(t, number)
				script, _ := plainComposer{}.CallScript(e.b, n)
				texts, attrs := twimlSays(t, placed[number].Twiml())
				if len(texts) != 2 {
					t.Fatalf("%s: %d <Say> verbs, want the script read twice", number, len(texts))
				}
				for i := range texts {
					if attrs[i]["language"] != want.lang || attrs[i]["voice"] != want.voice {
						t.Errorf("%s: <Say> %v, want language %s, voice %s", number, attrs[i], want.lang, want.voice)
					}
					if texts[i] != script.Text {
						t.Errorf("%s: <Say> reads %q, want the whole script %q", number, texts[i], script.Text)
					}
					for _, p := range script.Parts {
						if !strings.Contains(texts[i], p.Text) {
							t.Errorf("%s: <Say> lacks part %s", number, p.Part)
						}
					}
				}
				if got := e.phone(t, number); got.Status != breach.NoticeSent || (got.FallbackID != "") != near {
					t.Errorf("%s after the call was placed: status %s, letter %q (near the deadline: %v)", number, got.Status, got.FallbackID, near)
				}
			}

			// Zoë answers and listens; Đặng's answering machine takes the message.
			zoe := e.phone(t, "+13125550190")
			e.set(tc.first.Add(2 * time.Minute))
			if err := tw.Play(ctx, placed["+13125550190"].SID, twiliotest.Conversation(95*time.Second)); err != nil {
				t.Fatal(err)
			}
			if err := tw.Play(ctx, placed["+17655550142"].SID, twiliotest.Voicemail()); err != nil {
				t.Fatal(err)
			}
			if got, _ := e.store.Notice(ctx, zoe.ID); got.Status != breach.NoticeDelivered {
				t.Errorf("Zoë's call after a conversation: %s", got.Status)
			}
			got, _ := e.store.Notice(ctx, dang.ID)
			if got.Status != breach.NoticeQueued || got.Attempts != 1 || breach.Delivered(breach.MethodPhone, got.Status) {
				t.Errorf("Đặng's call after a voicemail: %+v", got)
			}
			outcomes := map[string]breach.Event{}
			for _, ev := range allEvents(t, e.store, e.b.ID) {
				if ev.Type == breach.EventCallAttempt {
					outcomes[ev.Data["notice_id"].(string)] = ev
				}
			}
			if ev := outcomes[zoe.ID]; ev.Data["outcome"] != "conversation" || ev.Actor != "twilio" || fmt.Sprint(ev.Data["parts_delivered"]) != "[A B C D E]" {
				t.Errorf("Zoë's call.attempt %+v", ev)
			}
			if ev := outcomes[dang.ID]; ev.Data["outcome"] != "voicemail" || ev.Data["parts_delivered"] != nil {
				t.Errorf("Đặng's call.attempt %+v: a voicemail delivers no part", ev)
			}
			if near {
				// The letter was queued when the first call was placed; the voicemail leaves it.
				if got.FallbackID == "" {
					t.Fatal("no letter queued at once for a call less than 3 days before the deadline")
				}
			} else if got.FallbackID != "" {
				t.Fatalf("a letter was queued before the window closed: %+v", got)
			}

			// The window closes without a conversation: the call fails and the letter replaces it.
			e.set(got.CallWindowEnds.Add(time.Second))
			if err := e.worker.ProcessTask(ctx, e.windowTask(dang.ID)); err != nil {
				t.Fatal(err)
			}
			failed, _ := e.store.Notice(ctx, dang.ID)
			if failed.Status != breach.NoticeFailed || failed.FallbackID == "" || (near && failed.FallbackID != got.FallbackID) {
				t.Fatalf("after the window: %+v", failed)
			}
			letter, err := e.store.Notice(ctx, failed.FallbackID)
			if err != nil || letter.Channel != breach.MethodLetter || letter.FallbackFor != dang.ID || letter.Status != breach.NoticeQueued {
				t.Fatalf("the letter replacing the call: %+v, %v", letter, err)
			}
			if got, _ := e.store.Notice(ctx, zoe.ID); got.Status != breach.NoticeDelivered || got.FallbackID != "" && !near {
				t.Errorf("Zoë's delivered call after the window: %+v", got)
			}
		})
	}
}

// twimlSays returns the text and attributes of each <Say> of a TwiML document.
func twimlSays(t *testing.T, twiml string) (texts []string, attrs []map[string]string) {
	t.Helper()
	var doc struct {
		Says []struct {
			Attrs []xml.Attr `xml:",any,attr"`
			Text  string     `xml:",chardata"`
		} `xml:"Say"`
	}
	if err := xml.Unmarshal([]byte(twiml), &doc); err != nil {
		t.Fatalf("TwiML does not parse: %v\n%s", err, twiml)
	}
	for _, s := range doc.Says {
		m := map[string]string{}
		for _, a := range s.Attrs {
			m[a.Name.Local] = a.Value
		}
		texts, attrs = append(texts, s.Text), append(attrs, m)
	}
	return texts, attrs
}
