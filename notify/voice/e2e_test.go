package voice_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
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

// TestEndToEndReadsTheWholeScript: a call script of five parts (LAW.md §4), as package letters
// writes one, is read whole, twice, in the voice of its language; a person who answers makes it a
// conversation, an answering machine a voicemail.
func TestEndToEndReadsTheWholeScript(t *testing.T) {
	script := breach.CallScript{Language: "es",
		Greeting: "Hola. Le llama Lakeview School Corporation con un aviso importante para Ana Ruiz.",
		Parts: []breach.ScriptPart{
			{Part: "A", Title: "Qué sucedió", Text: "Una hoja de cálculo se envió por error a una dirección externa."},
			{Part: "B", Title: "Qué información estuvo involucrada", Text: "Nombre y número de Seguro Social."},
			{Part: "C", Title: "Qué estamos haciendo", Text: "Desactivamos la exportación & capacitamos al personal."},
			{Part: "D", Title: "Para más información", Text: "Llame al 3 1 7, 5 5 5, 0 1 0 0."},
			{Part: "E", Title: "Qué puede hacer usted", Text: "Manténgase alerta ante el fraude y el robo de identidad."},
		},
		Closing: "Gracias por escucharnos. Adiós."}
	read := []string{script.Greeting}
	for _, p := range script.Parts {
		read = append(read, p.Text)
	}
	script.Text = strings.Join(append(read, script.Closing), "\n\n") + "\n"

	for _, tt := range []struct {
		answer twiliotest.Outcome
		want   breach.CallOutcome
	}{
		{twiliotest.Conversation(2 * time.Minute), breach.CallConversation},
		{twiliotest.Voicemail(), breach.CallVoicemail},
	} {
		t.Run(tt.answer.AnsweredBy, func(t *testing.T) {
			ctx := context.Background()
			srv := twiliotest.NewServer(t)
			rc := newReceiver(t, srv.AuthToken)
			sid, err := newCaller(t, srv).PlaceCall(ctx, breach.Call{NoticeID: "N-43", To: to, Script: script.Text,
				Language: script.Language, CallbackURL: rc.URL + "/v1/webhooks/twilio?notice=N-43"})
			if err != nil {
				t.Fatal(err)
			}
			placed, _ := srv.Call(sid)
			_, texts, attrs := says(t, placed.Twiml())
			if len(texts) != 2 {
				t.Fatalf("%d <Say> verbs, want 2", len(texts))
			}
			for i, text := range texts {
				if text != script.Text || attrs[i]["language"] != "es-US" || attrs[i]["voice"] != "Polly.Lupe" {
					t.Errorf("<Say> %d %v reads %q, want the whole script in es-US", i, attrs[i], text)
				}
				for _, p := range script.Parts {
					if !strings.Contains(text, p.Text) {
						t.Errorf("<Say> %d lacks part %s", i, p.Part)
					}
				}
			}
			if err := srv.Play(ctx, sid, tt.answer); err != nil {
				t.Fatal(err)
			}
			got := rc.received()
			if last := got[len(got)-1]; !last.Final || last.Outcome != tt.want || last.AnsweredBy != tt.answer.AnsweredBy {
				t.Errorf("last callback %+v, want %s", last, tt.want)
			}
		})
	}
}
