package jobs_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
	"github.com/breachd/breachd/notify/email/smtptest"
)

// emailBenchPeople is how many people, all on email, one run of BenchmarkEmailEndToEnd sends to.
const emailBenchPeople = 5000

// BenchmarkEmailEndToEnd measures notices/s from queue to status recorded: the people are stored
// and dispatched (untimed), then a worker is started and the clock runs until every email notice
// is counted sent — each rendered, sent over SMTP (a real in-process server) and recorded. The
// baseline, in the same run, sends each message over a connection of its own (what a mailer
// without connection reuse does); everything else is the same.
func BenchmarkEmailEndToEnd(b *testing.B) {
	batched := emailEndToEnd(b, nil)
	perMessage := emailEndToEnd(b, func(m breach.Mailer) breach.Mailer { return oneByOne{m} })
	b.ReportMetric(batched, "notices/s")
	b.ReportMetric(perMessage, "baseline-notices/s")
	b.ReportMetric(batched/perMessage, "x-baseline")
}

// oneByOne sends each message of a batch in a Send of its own: one SMTP connection per message.
type oneByOne struct{ breach.Mailer }

func (o oneByOne) Send(ctx context.Context, msgs []breach.EmailMessage) ([]error, error) {
	errs := make([]error, len(msgs))
	for i := range msgs {
		e, err := o.Mailer.Send(ctx, msgs[i:i+1])
		if err != nil {
			errs[i] = err
			continue
		}
		errs[i] = e[0]
	}
	return errs, nil
}

func emailEndToEnd(b *testing.B, wrap func(breach.Mailer) breach.Mailer) float64 {
	b.Helper()
	var rate float64
	for range b.N {
		rdb := redistest.New(b)
		s := jobs.NewStore(rdb, jobs.WithEncryptionKey(make([]byte, jobs.KeySize)))
		br := newBreach(newID(0))
		ctx := context.Background()
		if err := s.CreateBreach(ctx, br, createdEvent(br)); err != nil {
			b.Fatal(err)
		}
		rs := make([]breach.Recipient, 0, 1000)
		for i := 0; i < emailBenchPeople; i += 1000 {
			rs = rs[:0]
			for j := i; j < min(i+1000, emailBenchPeople); j++ {
				r := mixRecipient(j*10 + 4) // an adult on email
				r.BreachID = br.ID
				rs = append(rs, r)
			}
			if _, err := s.AddRecipients(ctx, br.ID, rs); err != nil {
				b.Fatal(err)
			}
		}
		q := jobs.NewQueue(rdb)
		rep, err := jobs.NewDispatcher(jobs.DispatcherConfig{Store: s, Queue: q}).Dispatch(ctx, br, dispatchAsOf, ntActor)
		if err != nil || rep.Created[breach.MethodEmail] != emailBenchPeople {
			b.Fatalf("dispatch %+v, %v", rep, err)
		}
		sink := smtptest.New(b)
		var m breach.Mailer = sinkMailer(b, sink)
		if wrap != nil {
			m = wrap(m)
		}
		w, err := jobs.NewWorker(jobs.WorkerConfig{Store: s, Queue: q, Redis: rdb, Mailer: m, Composer: plainComposer{},
			Logger: slog.New(slog.DiscardHandler), PollInterval: 20 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := w.Start(); err != nil {
			b.Fatal(err)
		}
		for {
			c, _, err := s.NoticeCounts(ctx, br.ID)
			if err != nil {
				b.Fatal(err)
			}
			if c[breach.MethodEmail][breach.NoticeSent] == emailBenchPeople {
				break
			}
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("not done after 5 minutes: %v", c)
			}
			time.Sleep(5 * time.Millisecond)
		}
		elapsed := time.Since(start)
		w.Shutdown()
		if got := len(sink.Messages()); got != emailBenchPeople {
			b.Fatalf("the server received %d messages, want %d", got, emailBenchPeople)
		}
		rate = float64(emailBenchPeople) / elapsed.Seconds()
	}
	return rate
}
