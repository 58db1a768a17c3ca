package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/mail"
	"testing"

	"github.com/hibiken/asynq"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/notify/email"
)

// crashAfter is an SMTP mailer whose worker "dies" (a panic, which unwinds the handler without
// recording anything more) right after the server accepted the n-th message of a Send.
type crashAfter struct {
	*email.SMTP
	n int
}

type crashed struct{}

func (c *crashAfter) SendEach(ctx context.Context, msgs []breach.EmailMessage, before func(int) error, after func(int, breach.EmailReceipt, error)) ([]error, error) {
	accepted := 0
	return c.SMTP.SendEach(ctx, msgs, before, func(i int, r breach.EmailReceipt, err error) {
		if err == nil {
			if accepted++; accepted == c.n {
				panic(crashed{})
			}
		}
		after(i, r, err)
	})
}

// A worker that dies mid-batch leaves at most the message in flight to be sent twice, and that
// one is marked possibly duplicated when the batch runs again (issue 10 §1).
func TestCrashMidBatchSendsOnlyTheMessageInFlightTwice(t *testing.T) {
	var sm *email.SMTP
	crash := &crashAfter{n: 2}
	e := newEmailEnv(t, func(m breach.Mailer) breach.Mailer { sm = m.(*email.SMTP); crash.SMTP = sm; return crash })
	ctx := context.Background()
	if _, err := e.disp.Dispatch(ctx, e.b, dispatchAsOf, ntActor); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range e.notices(t, breach.NoticeFilter{Channel: breach.MethodEmail}) {
		ids = append(ids, n.ID)
	}
	payload, _ := json.Marshal(map[string]any{"breach_id": e.b.ID, "notice_ids": ids})
	task := asynq.NewTask(jobs.TypeEmailBatch, payload)
	func() {
		defer func() {
			if r := recover(); r != (crashed{}) {
				t.Fatalf("recovered %v, want the simulated crash", r)
			}
		}()
		_ = e.worker.ProcessTask(ctx, task)
	}()
	firstRun := len(e.sink.Messages())
	if firstRun < 2 {
		t.Fatalf("the server received %d messages before the crash", firstRun)
	}
	// The first accepted message was recorded before the second started; the second was
	// accepted and its outcome lost with the worker.
	if c := e.counts(t); c["email:sent"] != 1 {
		t.Fatalf("counts after the crash %v", c)
	}

	crash.n = -1 // the next worker lives
	for range 3 {
		if err := e.worker.ProcessTask(ctx, task); err == nil {
			break
		}
	}
	if c := e.counts(t); c["email:sent"] != 3 || c["email:failed"] != 2 {
		t.Fatalf("counts after the second run %v", c)
	}
	perID := map[string]int{}
	for _, m := range e.sink.Messages() {
		perID[messageID(m.Data)]++
	}
	twice := 0
	for id, k := range perID {
		if k > 1 {
			twice++
			if k != 2 {
				t.Errorf("%s received %d times", id, k)
			}
		}
	}
	if twice != 1 {
		t.Fatalf("%d messages received twice, want exactly the one in flight: %v", twice, perID)
	}
	var dup []string
	for _, n := range e.notices(t, breach.NoticeFilter{Channel: breach.MethodEmail}) {
		for _, h := range n.History {
			if h.Type == breach.EventNoticePossiblyDuplicated {
				dup = append(dup, n.ID)
			}
		}
	}
	if len(dup) != 1 {
		t.Fatalf("possibly_duplicated events on %v, want one notice", dup)
	}
}

// messageID returns the Message-ID header of a raw message.
func messageID(raw []byte) string {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	return m.Header.Get("Message-Id")
}
