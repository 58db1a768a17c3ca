package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net/mail"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
	"github.com/breachd/breachd/notify/email/smtptest"
)

// The administrators reminders go to in these tests.
const (
	adminIT    = "it@lincoln.example.org"
	adminSuper = "superintendent@lincoln.example.org"
)

// listComposer writes one body line per item, "<obligation> <stage> <days left>", so that a test
// reads from the message itself what was reminded and in which order; the real wording is package
// letters' business.
type listComposer struct{ calls atomic.Int32 }

func (c *listComposer) Reminder(r breach.Reminder) (breach.EmailMessage, error) {
	c.calls.Add(1)
	var lines []string
	for _, it := range r.Items {
		lines = append(lines, fmt.Sprintf("%s %s %d", it.Obligation.ID, it.Stage, it.DaysLeft))
	}
	return breach.EmailMessage{Subject: "reminder " + r.Breach.ID + " " + r.Today.String(), Text: strings.Join(lines, "\n") + "\n"}, nil
}

// clock is a settable "now" shared by the sweeps of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// set moves the clock to noon in Indianapolis on the date.
func (c *clock) set(date string) {
	loc, _ := time.LoadLocation(breach.DefaultTimeZone)
	d := breach.MustDate(date)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, loc)
}

type reminderEnv struct {
	rdb   *redis.Client
	store *jobs.Store
	sink  *smtptest.Server
	clock *clock
	comp  *listComposer
}

func newReminderEnv(t *testing.T) *reminderEnv {
	t.Helper()
	rdb := redistest.New(t)
	return &reminderEnv{rdb: rdb, store: jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{7}, jobs.KeySize))),
		sink: smtptest.New(t), clock: &clock{}, comp: &listComposer{}}
}

func (e *reminderEnv) reminders(t *testing.T, to ...string) *jobs.Reminders {
	t.Helper()
	if len(to) == 0 {
		to = []string{adminIT, adminSuper}
	}
	r, err := jobs.NewReminders(jobs.ReminderConfig{Store: e.store, Mailer: sinkMailer(t, e.sink), Composer: e.comp,
		To: to, Clock: e.clock.now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// reminderBreach is discovered on Monday 2026-03-02 with personal information of 42 people, 40 in
// Indiana, category data: the Office of Technology report is due Wednesday 2026-03-04 (2
// business days), the individual notices and the Attorney General's notice on 2026-04-16 (45
// days); the consumer reporting agencies are not required (40 ≤ 1,000), nor substitute notice.
func reminderBreach(n int) *breach.Breach {
	b := newBreach(newID(n))
	b.Determination.DiscoveredOn = breach.MustDate("2026-03-02")
	b.Determination.Category = breach.CategoryData
	return b
}

// sweep runs one sweep at noon on date and returns what the mail server received in it, by
// administrator: the body lines of each message.
func (e *reminderEnv) sweep(t *testing.T, r *jobs.Reminders, date string) (jobs.ReminderSweep, map[string][]string) {
	t.Helper()
	e.clock.set(date)
	e.sink.Reset()
	rep, err := r.Sweep(context.Background())
	if err != nil {
		t.Fatalf("sweep on %s: %v", date, err)
	}
	return rep, mailed(t, e.sink)
}

// mailed reads every message the server accepted: recipient → body lines (one message each in
// these tests; a second message to the same administrator is appended after a "--" line).
func mailed(t *testing.T, s *smtptest.Server) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, m := range s.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		if id := msg.Header.Get("X-Breachd-Notice"); !strings.HasPrefix(id, "reminder.") {
			t.Errorf("reminder sent with notice header %q", id)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if err != nil {
			t.Fatal(err)
		}
		for _, to := range m.To {
			if len(out[to]) > 0 {
				out[to] = append(out[to], "--")
			}
			out[to] = append(out[to], strings.Split(strings.TrimSpace(strings.ReplaceAll(string(body), "\r\n", "\n")), "\n")...)
		}
	}
	return out
}

// reminderEvents lists the breach's obligation.reminder events as "<obligation> <stage> <due> <recipients>".
func reminderEvents(t *testing.T, s *jobs.Store, id string) []string {
	t.Helper()
	evs, _, err := s.Events(context.Background(), id, "", jobs.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if ev.Type != breach.EventObligationReminder {
			continue
		}
		if ev.Actor != "worker" || ev.Role != "system" {
			t.Errorf("reminder event recorded for %s/%s", ev.Actor, ev.Role)
		}
		for _, pii := range []string{reporterName, "dana.whitfield", adminIT, adminSuper} {
			if strings.Contains(ev.Summary, pii) || strings.Contains(fmt.Sprint(ev.Data), pii) {
				t.Errorf("reminder event holds %q: %s %v", pii, ev.Summary, ev.Data)
			}
		}
		out = append(out, fmt.Sprintf("%v %v %v %v", ev.Data["obligation"], ev.Data["stage"], ev.Data["due"], ev.Data["recipients"]))
	}
	return out
}

func wantLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got  %q\n want %q", what, got, want)
	}
}

// TestReminderStages sweeps one breach through its life: each duty is reminded at 10, 3 and 1
// days and once overdue, once each, both administrators get the same one email per sweep, a
// stage skipped is never sent after a more urgent one, and every reminder is an event.
func TestReminderStages(t *testing.T) {
	e := newReminderEnv(t)
	b := reminderBreach(0)
	mustCreate(t, e.store, b)
	r := e.reminders(t)

	const (
		letter = "individual_notice.letter"
		email  = "individual_notice.email"
		phone  = "individual_notice.phone"
		ag     = "agency.attorney_general"
		ot     = "agency.office_of_technology"
	)
	steps := []struct {
		date string
		want []string // the body lines each administrator receives; nil: no email
	}{
		// Discovery day: the report is due in 2 days, so its first reminder is the 3-day one.
		{"2026-03-02", []string{ot + " 3_days 2"}},
		{"2026-03-02", nil}, // the same day again: nothing twice
		{"2026-03-03", []string{ot + " 1_day 1"}},
		{"2026-03-04", nil}, // due today: still the 1-day stage, sent
		{"2026-03-05", []string{ot + " overdue -1"}},
		{"2026-03-20", nil}, // still overdue: once is enough
		{"2026-04-05", nil}, // 11 days before the deadline
		// The report stays overdue and is not repeated; the four 45-day duties in the ledger's order.
		{"2026-04-06", []string{letter + " 10_days 10", email + " 10_days 10", phone + " 10_days 10", ag + " 10_days 10"}},
		{"2026-04-10", nil},
		// The service was down on the 13th and 14th: 3 days was skipped for good; 1 day goes out.
		{"2026-04-15", []string{letter + " 1_day 1", email + " 1_day 1", phone + " 1_day 1", ag + " 1_day 1"}},
		{"2026-04-16", nil},
		{"2026-04-17", []string{letter + " overdue -1", email + " overdue -1", phone + " overdue -1", ag + " overdue -1"}},
		{"2026-05-01", nil},
	}
	emails := 0
	for _, s := range steps {
		rep, got := e.sweep(t, r, s.date)
		if s.want == nil {
			if len(got) != 0 || rep.Emails != 0 {
				t.Fatalf("%s: %d emails, want none: %v", s.date, rep.Emails, got)
			}
			continue
		}
		emails++
		if rep.Breaches != 1 || rep.Emails != 1 || rep.Reminders != len(s.want) || rep.Failed != 0 {
			t.Errorf("%s: sweep %+v", s.date, rep)
		}
		wantLines(t, s.date+" to "+adminIT, got[adminIT], s.want)
		wantLines(t, s.date+" to "+adminSuper, got[adminSuper], s.want)
	}
	if n := int(e.comp.calls.Load()); n != emails {
		t.Errorf("%d reminders composed, want %d (one per email)", n, emails)
	}
	var want []string
	for _, ev := range [][3]string{{ot, "3_days", "2026-03-04"}, {ot, "1_day", "2026-03-04"}, {ot, "overdue", "2026-03-04"}} {
		want = append(want, strings.Join(ev[:], " ")+" 2")
	}
	for _, stage := range []string{"10_days", "1_day", "overdue"} {
		for _, o := range []string{letter, email, phone, ag} {
			want = append(want, o+" "+stage+" 2026-04-16 2")
		}
	}
	wantLines(t, "events", reminderEvents(t, e.store, b.ID), want)
}

// TestReminderOrder: the most urgent first, and the Office of Technology report first among
// equals — here everything is overdue at the first sweep after a long outage.
func TestReminderOrder(t *testing.T) {
	e := newReminderEnv(t)
	b := reminderBreach(0)
	mustCreate(t, e.store, b)
	r := e.reminders(t, adminIT)
	_, got := e.sweep(t, r, "2026-04-17")
	wantLines(t, "one overdue sweep", got[adminIT], []string{"agency.office_of_technology overdue -44",
		"individual_notice.letter overdue -1", "individual_notice.email overdue -1", "individual_notice.phone overdue -1",
		"agency.attorney_general overdue -1"})

	// A second breach discovered later: its report (3 days) outranks the first breach's nothing,
	// and in one email with 10-day duties the overdue report leads.
	b2 := reminderBreach(1)
	b2.Determination.DiscoveredOn = breach.MustDate("2026-03-06") // Friday: report due Tuesday 03-10
	mustCreate(t, e.store, b2)
	e.clock.set("2026-04-10") // b2's deadline 2026-04-20: 10 days; its report long overdue
	e.sink.Reset()
	if _, err := r.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantLines(t, "b2", mailed(t, e.sink)[adminIT], []string{"agency.office_of_technology overdue -31",
		"individual_notice.letter 10_days 10", "individual_notice.email 10_days 10", "individual_notice.phone 10_days 10",
		"agency.attorney_general 10_days 10"})
}

// TestReminderSkipsSettledDuties: a duty done, waived or not required is never reminded, and a
// closed breach not at all.
func TestReminderSkipsSettledDuties(t *testing.T) {
	e := newReminderEnv(t)
	ctx := context.Background()
	b := reminderBreach(0)
	mustCreate(t, e.store, b)
	closed := reminderBreach(1)
	mustCreate(t, e.store, closed)
	at := time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC)
	if _, err := e.store.UpdateBreach(ctx, b.ID, func(b *breach.Breach) (breach.Event, error) {
		// The report was sent (done) and the Attorney General's notice waived.
		b.AgencyNotices = append(b.AgencyNotices, breach.AgencyNoticeRecord{Agency: breach.AgencyOfficeOfTechnology,
			SentOn: breach.MustDate("2026-03-03"), SentBy: "key-admin-1", SentAt: at})
		b.Obligations = append(b.Obligations, breach.ObligationRecord{Obligation: breach.ObligationAttorneyGeneral,
			Status: breach.ObligationWaived, Reason: "counsel advises the AG was told by telephone", By: "key-admin-1", At: at})
		return breach.Event{Type: breach.EventAgencyNoticeSent, Actor: "key-admin-1", Role: breach.RoleAdmin, At: at, Summary: "test"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateBreach(ctx, closed.ID, func(b *breach.Breach) (breach.Event, error) {
		b.Status = breach.StatusClosed
		b.Outcome = &breach.Outcome{Summary: "closed", ClosedAt: at, ClosedBy: "key-admin-1"}
		return breach.Event{Type: breach.EventBreachClosed, Actor: "key-admin-1", Role: breach.RoleAdmin, At: at, Summary: "closed"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	r := e.reminders(t, adminIT)
	rep, got := e.sweep(t, r, "2026-04-17")
	// Not the report (done), not the Attorney General (waived), not the consumer reporting
	// agencies nor the substitute notice (not required), nothing of the closed breach.
	wantLines(t, "reminded", got[adminIT], []string{"individual_notice.letter overdue -1",
		"individual_notice.email overdue -1", "individual_notice.phone overdue -1"})
	if rep.Breaches != 1 || rep.Emails != 1 {
		t.Errorf("sweep %+v, want the open breach only", rep)
	}
	if evs := reminderEvents(t, e.store, closed.ID); len(evs) != 0 {
		t.Errorf("closed breach reminded: %v", evs)
	}
}

// TestReminderConcurrentSweeps: two processes sweeping at once send each reminder once.
func TestReminderConcurrentSweeps(t *testing.T) {
	e := newReminderEnv(t)
	const breaches = 6
	for i := range breaches {
		mustCreate(t, e.store, reminderBreach(i))
	}
	e.clock.set("2026-04-06") // per breach: the report overdue, four duties at 10 days
	sweepers := []*jobs.Reminders{e.reminders(t, adminIT), e.reminders(t, adminIT), e.reminders(t, adminIT)}
	var wg sync.WaitGroup
	reps := make([]jobs.ReminderSweep, len(sweepers))
	for i, r := range sweepers {
		wg.Go(func() {
			rep, err := r.Sweep(context.Background())
			if err != nil {
				t.Error(err)
			}
			reps[i] = rep
		})
	}
	wg.Wait()
	emails, reminded := 0, 0
	for _, rep := range reps {
		emails += rep.Emails
		reminded += rep.Reminders
	}
	if emails != breaches || reminded != 5*breaches {
		t.Errorf("sweeps %+v: %d emails and %d reminders, want %d and %d", reps, emails, reminded, breaches, 5*breaches)
	}
	if n := e.sink.Rcpts(adminIT); n != breaches {
		t.Errorf("the administrator got %d reminders, want %d (one per breach)", n, breaches)
	}
	for i := range breaches {
		if evs := reminderEvents(t, e.store, newID(i)); len(evs) != 5 {
			t.Errorf("breach %d: %d reminder events, want 5: %v", i, len(evs), evs)
		}
	}
}

// TestReminderRetriedAfterFailedSend: a reminder the mail server refuses is not recorded, and the
// next sweep sends it; one administrator of two refused is logged and the reminder counts as sent.
func TestReminderRetriedAfterFailedSend(t *testing.T) {
	e := newReminderEnv(t)
	b := reminderBreach(0)
	mustCreate(t, e.store, b)
	r := e.reminders(t, adminIT)

	e.sink.On(adminIT, smtptest.Defer)
	rep, got := e.sweep(t, r, "2026-03-03")
	if rep.Emails != 0 || rep.Failed != 1 || len(got) != 0 {
		t.Fatalf("refused send: sweep %+v, mailed %v", rep, got)
	}
	if evs := reminderEvents(t, e.store, b.ID); len(evs) != 0 {
		t.Fatalf("a refused reminder was recorded: %v", evs)
	}
	e.sink.On(adminIT, smtptest.Accept)
	rep, got = e.sweep(t, r, "2026-03-03")
	if rep.Emails != 1 || rep.Failed != 0 {
		t.Fatalf("retry: sweep %+v", rep)
	}
	wantLines(t, "retried", got[adminIT], []string{"agency.office_of_technology 1_day 1"})
	wantLines(t, "events", reminderEvents(t, e.store, b.ID), []string{"agency.office_of_technology 1_day 2026-03-04 1"})

	// Two administrators, one refused for good: sent to the other, counted as sent, not retried.
	two := e.reminders(t, adminIT, adminSuper)
	e.sink.On(adminSuper, smtptest.Reject)
	rep, got = e.sweep(t, two, "2026-03-05")
	if rep.Emails != 1 || len(got[adminIT]) != 1 || len(got[adminSuper]) != 0 {
		t.Fatalf("half accepted: sweep %+v, mailed %v", rep, got)
	}
	if rep, got = e.sweep(t, two, "2026-03-05"); rep.Emails != 0 || len(got) != 0 {
		t.Fatalf("half accepted was sent again: sweep %+v, mailed %v", rep, got)
	}
	wantLines(t, "events", reminderEvents(t, e.store, b.ID), []string{"agency.office_of_technology 1_day 2026-03-04 1",
		"agency.office_of_technology overdue 2026-03-04 1"})
}

// TestReminderRun: Run sweeps at once and then every interval, and returns when ctx is done.
func TestReminderRun(t *testing.T) {
	e := newReminderEnv(t)
	mustCreate(t, e.store, reminderBreach(0))
	e.clock.set("2026-03-03")
	r, err := jobs.NewReminders(jobs.ReminderConfig{Store: e.store, Mailer: sinkMailer(t, e.sink), Composer: e.comp,
		To: []string{adminIT}, Clock: e.clock.now, Interval: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	waitFor(t, "the first sweep", 5*time.Second, func() bool { return e.sink.Rcpts(adminIT) == 1 })
	e.clock.set("2026-03-05") // the next tick finds the report overdue
	waitFor(t, "a later sweep", 5*time.Second, func() bool { return e.sink.Rcpts(adminIT) == 2 })
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after ctx was done")
	}
	waitFor(t, "the sweep's goroutines to end", 3*time.Second, func() bool { return runtime.NumGoroutine() <= before })
}

func TestNewRemindersConfig(t *testing.T) {
	e := newReminderEnv(t)
	_, err := jobs.NewReminders(jobs.ReminderConfig{Store: e.store, Mailer: sinkMailer(t, e.sink), Composer: e.comp,
		To: []string{adminIT, "IT Desk <it@lincoln.example.org>", "nobody"}})
	var be *breach.Error
	if breach.ErrorCode(err) != breach.EINVALID || !errors.As(err, &be) || len(be.Fields) != 2 ||
		be.Fields[0].Field != "To[1]" || be.Fields[1].Field != "To[2]" {
		t.Fatalf("err = %v, want EINVALID on To[1] and To[2]", err)
	}
	if _, err := jobs.NewReminders(jobs.ReminderConfig{Store: e.store, Mailer: sinkMailer(t, e.sink), Composer: e.comp}); breach.ErrorCode(err) != breach.EINVALID {
		t.Fatalf("no addresses: err = %v, want EINVALID", err)
	}
}

// TestReminderNeverLessUrgent: once a stage was sent, a less urgent one is not sent afterwards,
// even when the due date moves later (a law-enforcement hold that covered day 45 was released
// after it); the duty is reminded again once it is overdue on its new date.
func TestReminderNeverLessUrgent(t *testing.T) {
	e := newReminderEnv(t)
	b := reminderBreach(0)
	mustCreate(t, e.store, b)
	r := e.reminders(t, adminIT)
	if _, got := e.sweep(t, r, "2026-04-15"); len(got[adminIT]) != 5 {
		t.Fatalf("first sweep: %v, want the report overdue and four duties at 1 day", got)
	}
	if _, err := e.store.UpdateBreach(context.Background(), b.ID, func(b *breach.Breach) (breach.Event, error) {
		b.Holds = append(b.Holds, breach.Hold{ID: "hd_1", Agency: "Indiana State Police", InWriting: true,
			StartDate: breach.MustDate("2026-04-10"), EndDate: breach.MustDate("2026-04-28")})
		return breach.Event{Type: breach.EventHoldReleased, Actor: "key-admin-1", Role: breach.RoleAdmin, Summary: "test"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	// The deadline is now the release date, 2026-04-28: 8 days away is the 10-day stage, and 1 day
	// was sent already.
	if rep, got := e.sweep(t, r, "2026-04-20"); rep.Emails != 0 || len(got) != 0 {
		t.Fatalf("a less urgent stage was sent after a more urgent one: %v", got)
	}
	_, got := e.sweep(t, r, "2026-04-29")
	wantLines(t, "overdue on the new date", got[adminIT], []string{"individual_notice.letter overdue -1",
		"individual_notice.email overdue -1", "individual_notice.phone overdue -1", "agency.attorney_general overdue -1"})
}

// TestReminderClaimLease: a claim left by a process that died mid-send holds until its lease ends
// (another process is perhaps still sending); after that the next sweep sends the reminder.
func TestReminderClaimLease(t *testing.T) {
	e := newReminderEnv(t)
	b := reminderBreach(0)
	mustCreate(t, e.store, b)
	r := e.reminders(t, adminIT)
	e.clock.set("2026-03-03")
	key, field := "breachd:breach:{"+b.ID+"}:reminders", "agency.office_of_technology:1_day"
	claim := func(expires time.Time) {
		t.Helper()
		if err := e.rdb.HSet(context.Background(), key, field, fmt.Sprintf("claim:dead0000:%d", expires.UnixMilli())).Err(); err != nil {
			t.Fatal(err)
		}
	}
	claim(e.clock.now().Add(time.Minute))
	if rep, got := e.sweep(t, r, "2026-03-03"); rep.Emails != 0 || len(got) != 0 {
		t.Fatalf("a live claim was overtaken: %v", got)
	}
	claim(e.clock.now().Add(-time.Millisecond))
	_, got := e.sweep(t, r, "2026-03-03")
	wantLines(t, "after the lease", got[adminIT], []string{"agency.office_of_technology 1_day 1"})
	sent, err := e.rdb.HGet(context.Background(), key, field).Result()
	if err != nil || !strings.HasPrefix(sent, `{"sent_at":"2026-03-03T17:00:00Z","due":"2026-03-04","recipients":1}`) {
		t.Fatalf("recorded %q, %v", sent, err)
	}
}

// BenchmarkReminderSweep measures a sweep with nothing new to send (the hourly common case): each
// breach is listed, assessed, its ledger derived and its reminders found already sent.
func BenchmarkReminderSweep(b *testing.B) {
	rdb := redistest.New(b)
	e := &reminderEnv{rdb: rdb, store: jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{7}, jobs.KeySize))),
		sink: smtptest.New(b), clock: &clock{}, comp: &listComposer{}}
	const breaches = 500
	for i := range breaches {
		br := reminderBreach(i)
		if err := e.store.CreateBreach(context.Background(), br, createdEvent(br)); err != nil {
			b.Fatal(err)
		}
	}
	r, err := jobs.NewReminders(jobs.ReminderConfig{Store: e.store, Mailer: sinkMailer(b, e.sink), Composer: e.comp,
		To: []string{adminIT}, Clock: e.clock.now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	e.clock.set("2026-04-06")
	if rep, err := r.Sweep(context.Background()); err != nil || rep.Emails != breaches {
		b.Fatalf("first sweep %+v, %v", rep, err)
	}
	b.ResetTimer()
	for b.Loop() {
		if rep, err := r.Sweep(context.Background()); err != nil || rep.Emails != 0 {
			b.Fatalf("sweep %+v, %v", rep, err)
		}
	}
	b.ReportMetric(float64(breaches)*float64(b.N)/b.Elapsed().Seconds(), "breaches/s")
}
