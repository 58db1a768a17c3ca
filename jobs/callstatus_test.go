package jobs_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/notify/voice"
	"github.com/breachd/breachd/notify/voice/twiliotest"
)

// Every signed status callback of a call is recorded as a call.status event with what Twilio
// said; the same callback delivered twice is recorded once; the placed call names its CallSid;
// the final callback puts the answer and duration on the call's outcome.
func TestRecordCallStatus(t *testing.T) {
	ctx := context.Background()
	e, tw := newTwilioCallEnv(t)
	e.runCallTasks(t)
	zoe := e.phone(t, "+13125550190")
	var call twiliotest.Request
	for _, r := range tw.Requests() {
		if r.To() == "+13125550190" {
			call = r
		}
	}
	sent := noticeEvents(t, e, zoe.ID, breach.EventNoticeSent)
	if len(sent) != 1 || call.SID == "" || sent[0].Data[breach.EvidenceCallSID] != call.SID {
		t.Fatalf("the placed call's event %+v, Twilio's SID %q", sent, call.SID)
	}

	// Ringing, sent twice (Twilio retries a callback it thinks was lost).
	ringing := url.Values{"AccountSid": {tw.AccountSID}, "CallSid": {call.SID}, "CallStatus": {"ringing"}, "SequenceNumber": {"1"},
		"Timestamp": {"Wed, 01 Apr 2026 14:00:05 +0000"}, "To": {call.To()}, "From": {call.From()}}
	for range 2 {
		if err := tw.PostCallback(ctx, call.StatusCallback(), ringing); err != nil {
			t.Fatal(err)
		}
	}
	e.set(time.Date(2026, 4, 1, 14, 2, 0, 0, time.UTC))
	completed := url.Values{"AccountSid": {tw.AccountSID}, "CallSid": {call.SID}, "CallStatus": {"completed"}, "SequenceNumber": {"2"},
		"AnsweredBy": {"human"}, "CallDuration": {"95"}, "SipResponseCode": {"200"}, "To": {call.To()}, "From": {call.From()}}
	if err := tw.PostCallback(ctx, call.StatusCallback(), completed); err != nil {
		t.Fatal(err)
	}
	statuses := noticeEvents(t, e, zoe.ID, breach.EventCallStatus)
	var got []string
	for _, ev := range statuses {
		got = append(got, fmt.Sprint(ev.Data[breach.EvidenceCallStatus], " ", ev.Data[breach.EvidenceSequence], " ", ev.Data[breach.EvidenceAnsweredBy],
			" ", ev.Data[breach.EvidenceDuration], " ", ev.Data[breach.EvidenceProviderTime], " ", ev.Data["sip_response_code"], " ", ev.Actor))
		if ev.Data[breach.EvidenceCallSID] != call.SID {
			t.Errorf("call.status without the call's SID: %+v", ev)
		}
	}
	want := []string{
		"ringing 1 <nil> <nil> 2026-04-01T14:00:05Z <nil> twilio",
		"completed 2 human 95 <nil> 200 twilio",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("call.status events\n%q\nwant\n%q", got, want)
	}
	attempts := noticeEvents(t, e, zoe.ID, breach.EventCallAttempt)
	if len(attempts) != 1 {
		t.Fatalf("%d call attempts", len(attempts))
	}
	a := attempts[0].Data
	if a["outcome"] != "conversation" || a[breach.EvidenceCallSID] != call.SID || a[breach.EvidenceAnsweredBy] != "human" ||
		fmt.Sprint(a[breach.EvidenceDuration]) != "95" || a[breach.EvidenceCallStatus] != "completed" || !attempts[0].At.Equal(*e.clock.Load()) {
		t.Fatalf("the call's outcome %+v", attempts[0])
	}
	if n, _ := e.store.Notice(ctx, zoe.ID); n.Status != breach.NoticeDelivered {
		t.Fatalf("after the conversation: %s", n.Status)
	}

	// What cannot be recorded is refused with its reason.
	email := e.notices(t, breach.NoticeFilter{Channel: breach.MethodEmail})
	for _, tc := range []struct {
		name string
		st   breach.CallStatus
		code string
	}{
		{"no call SID", breach.CallStatus{NoticeID: zoe.ID, Status: "ringing"}, breach.EINVALID},
		{"no notice", breach.CallStatus{CallSID: call.SID, Status: "ringing"}, breach.EINVALID},
		{"unknown notice", breach.CallStatus{NoticeID: "nt_nope", CallSID: call.SID, Status: "ringing"}, breach.ENOTFOUND},
		{"not a phone notice", breach.CallStatus{NoticeID: email[0].ID, CallSID: call.SID, Status: "ringing"}, breach.ECONFLICT},
		{"a second conversation on a delivered notice", breach.CallStatus{NoticeID: zoe.ID, CallSID: call.SID, Status: "completed", SequenceNumber: 3,
			AnsweredBy: "human", Duration: time.Second, Final: true, Outcome: breach.CallConversation}, breach.ECONFLICT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.worker.RecordCallStatus(ctx, tc.st, breach.Actor{ID: "twilio", Role: "system"}, time.Time{})
			wantCode(t, err, tc.code)
		})
	}
}

// newTwilioCallEnv is a callEnv that places its calls through twiliotest, whose callbacks reach
// the worker through a webhook wired as the API's (twilioHook), at the env's clock.
func newTwilioCallEnv(t *testing.T) (*callEnv, *twiliotest.Server) {
	t.Helper()
	tw := twiliotest.NewServer(t)
	caller, err := voice.New(voice.Config{AccountSID: tw.AccountSID, AuthToken: tw.AuthToken, From: "+13175550100", BaseURL: tw.URL})
	if err != nil {
		t.Fatal(err)
	}
	hook := newTwilioHook(t, tw.AuthToken)
	e := newCallEnv(t, caller, hook.URL)
	hook.now = func() time.Time { return *e.clock.Load() }
	hook.worker.Store(e.worker)
	return e, tw
}

// noticeEvents are the breach's events of one type about one notice.
func noticeEvents(t *testing.T, e *callEnv, noticeID string, typ breach.EventType) []breach.Event {
	t.Helper()
	return slices.DeleteFunc(eventsOf(t, e.store, e.b.ID, typ), func(ev breach.Event) bool { return ev.Data["notice_id"] != noticeID })
}
