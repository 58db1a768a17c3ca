package voice_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/notify/voice"
	"github.com/breachd/breachd/notify/voice/twiliotest"
)

// receiver is a webhook endpoint used as the API package will use it: it checks each callback's
// signature against the public URL, parses it, and keeps the verified ones.
type receiver struct {
	URL       string
	authToken string

	mu        sync.Mutex
	callbacks []voice.StatusCallback
	rejected  int
}

func newReceiver(t *testing.T, authToken string) *receiver {
	t.Helper()
	rc := &receiver{authToken: authToken}
	srv := httptest.NewServer(http.HandlerFunc(rc.serveHTTP))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL
	return rc
}

func (rc *receiver) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "malformed", http.StatusBadRequest)
		return
	}
	// The public URL Twilio was given: a configured base plus the request URI.
	fullURL := rc.URL + r.URL.RequestURI()
	if !voice.VerifyCallback(rc.authToken, fullURL, r.PostForm, r.Header.Get("X-Twilio-Signature")) {
		rc.mu.Lock()
		rc.rejected++
		rc.mu.Unlock()
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	}
	cb, err := voice.ParseStatusCallback(r.Form)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.callbacks = append(rc.callbacks, cb)
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) received() []voice.StatusCallback {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]voice.StatusCallback(nil), rc.callbacks...)
}

func TestEndToEnd(t *testing.T) {
	tests := []struct {
		name     string
		outcome  twiliotest.Outcome
		statuses []string
		want     breach.CallOutcome
	}{
		{"a person listens", twiliotest.Conversation(95 * time.Second),
			[]string{"initiated", "ringing", "in-progress", "completed"}, breach.CallConversation},
		{"an answering machine", twiliotest.Voicemail(),
			[]string{"initiated", "ringing", "in-progress", "completed"}, breach.CallVoicemail},
		{"nobody answers", twiliotest.NoAnswer(),
			[]string{"initiated", "ringing", "no-answer"}, breach.CallNoAnswer},
		{"the line is busy", twiliotest.Busy(),
			[]string{"initiated", "ringing", "busy"}, breach.CallBusy},
		{"the number does not exist", twiliotest.Failed(13224, 404),
			[]string{"initiated", "failed"}, breach.CallWrongNumber},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			srv := twiliotest.NewServer(t)
			rc := newReceiver(t, srv.AuthToken)
			caller := newCaller(t, srv)

			callbackURL := rc.URL + "/v1/webhooks/twilio?" + url.Values{voice.NoticeParam: {"N-42"}}.Encode()
			sid, err := caller.PlaceCall(ctx, breach.Call{NoticeID: "N-42", To: to,
				Script: "This is Lakeview School Corporation with an important notice.", Language: "en",
				CallbackURL: callbackURL})
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Play(ctx, sid, tt.outcome); err != nil {
				t.Fatal(err)
			}

			got := rc.received()
			if len(got) != len(tt.statuses) {
				t.Fatalf("%d callbacks verified, want %d (%d rejected)", len(got), len(tt.statuses), rc.rejected)
			}
			for i, cb := range got {
				if cb.Status != tt.statuses[i] || cb.CallSID != sid || cb.NoticeID != "N-42" || cb.SequenceNumber != i {
					t.Errorf("callback %d: %+v, want status %s of %s for N-42, sequence %d", i, cb, tt.statuses[i], sid, i)
				}
				last := i == len(got)-1
				if cb.Final != last {
					t.Errorf("callback %d (%s): final %v", i, cb.Status, cb.Final)
				}
			}
			if last := got[len(got)-1]; last.Outcome != tt.want {
				t.Errorf("outcome %q, want %q (%+v)", last.Outcome, tt.want, last)
			}
		})
	}
}

func TestEndToEndForgedCallbackRejected(t *testing.T) {
	ctx := context.Background()
	srv := twiliotest.NewServer(t)
	other := twiliotest.NewServer(t) // another account: another auth token
	rc := newReceiver(t, srv.AuthToken)
	callbackURL := rc.URL + "/v1/webhooks/twilio?notice=N-42"

	form := url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "CallStatus": {"completed"},
		"AnsweredBy": {"human"}, "CallDuration": {"60"}}
	if err := other.PostCallback(ctx, callbackURL, form); err == nil {
		t.Error("a callback signed with another token was accepted")
	}
	if err := srv.PostCallback(ctx, callbackURL, form); err != nil {
		t.Errorf("a callback signed with the account's token was refused: %v", err)
	}
	if got := rc.received(); len(got) != 1 || got[0].Outcome != breach.CallConversation {
		t.Errorf("received %+v, want one conversation", got)
	}
}
