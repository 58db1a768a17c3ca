package jobs_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/notify/voice"
	"github.com/breachd/breachd/notify/voice/twiliotest"
)

// A Twilio request that reaches Twilio (the call is placed) but whose answer is lost is never
// placed again: the notice is recorded as a call that may have been placed, and waits for the
// status callback or a clerk (issue 10 §1).
func TestCallWithUnknownOutcomeIsNotPlacedAgain(t *testing.T) {
	tw := twiliotest.NewServer(t)
	done := make(chan struct{})
	// Forwards each request to the Twilio test server, then never answers: the caller's
	// timeout ends the wait with the call placed.
	lossy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequest(r.Method, tw.URL+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); lossy.Close() })
	caller, err := voice.New(voice.Config{AccountSID: tw.AccountSID, AuthToken: tw.AuthToken, From: "+13175550100",
		BaseURL: lossy.URL, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := newCallEnv(t, caller, "https://breachd.example.org/")
	ctx := context.Background()
	ins := asynq.NewInspectorFromRedisClient(e.rdb)
	var calls []*asynq.Task
	for range 2 {
		pending, err := ins.ListPendingTasks(jobs.QueueName)
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range pending {
			if ti.Type != jobs.TypeCallBatch && ti.Type != jobs.TypeCall {
				continue
			}
			task := asynq.NewTask(ti.Type, ti.Payload)
			if ti.Type == jobs.TypeCall {
				calls = append(calls, task)
			}
			if err := e.worker.ProcessTask(ctx, task); err != nil {
				t.Fatalf("%s: %v (a call whose outcome is unknown is not an error to retry)", ti.Type, err)
			}
			if err := ins.DeleteTask(jobs.QueueName, ti.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(calls) != 2 || len(tw.Requests()) != 2 {
		t.Fatalf("%d call tasks, %d calls placed; want 2 and 2", len(calls), len(tw.Requests()))
	}
	// The same tasks run again (as asynq would, had they failed): nothing is placed twice.
	for _, task := range calls {
		if err := e.worker.ProcessTask(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(tw.Requests()); n != 2 {
		t.Fatalf("%d calls placed after the tasks ran again, want 2", n)
	}
	for _, n := range e.notices(t, breach.NoticeFilter{Channel: breach.MethodPhone}) {
		last := n.History[len(n.History)-1]
		if n.Status != breach.NoticeSent || n.Attempts != 1 || n.FirstAttemptAt.IsZero() ||
			last.Type != breach.EventNoticeSent || last.Data["outcome_unknown"] != true {
			t.Errorf("call with an unknown outcome recorded as %+v", n)
		}
	}
}
