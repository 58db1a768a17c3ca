package voice_test

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/notify/voice"
	"github.com/breachd/breachd/notify/voice/twiliotest"
)

const (
	token   = "0123456789abcdef0123456789abcdef"
	hookURL = "https://breachd.example.org/v1/webhooks/twilio?notice=N-7"
)

func callbackForm() url.Values {
	return url.Values{
		"AccountSid":     {"AC0123456789abcdef0123456789abcdef"},
		"ApiVersion":     {"2010-04-01"},
		"CallSid":        {"CA0123456789abcdef0123456789abcdef"},
		"CallStatus":     {"completed"},
		"AnsweredBy":     {"human"},
		"CallDuration":   {"74"},
		"Direction":      {"outbound-api"},
		"From":           {from},
		"To":             {to},
		"SequenceNumber": {"3"},
		"Timestamp":      {"Tue, 10 Mar 2026 15:04:05 +0000"},
	}
}

func TestVerifyCallback(t *testing.T) {
	form := callbackForm()
	sig := twiliotest.Signature(token, hookURL, form)

	tampered := callbackForm()
	tampered.Set("AnsweredBy", "machine_end_beep")
	added := callbackForm()
	added.Set("Extra", "1")
	removed := callbackForm()
	removed.Del("CallDuration")
	repeated := callbackForm()
	repeated.Add("CallStatus", "completed")
	withQuery := callbackForm() // what http.Request.Form holds: the query too
	withQuery.Set("notice", "N-7")

	tests := []struct {
		name      string
		token     string
		url       string
		form      url.Values
		signature string
		want      bool
	}{
		{"signed by Twilio", token, hookURL, form, sig, true},
		{"same URL with the default port", token, "https://breachd.example.org:443/v1/webhooks/twilio?notice=N-7", form, sig, true},
		{"a parameter changed", token, hookURL, tampered, sig, false},
		{"a parameter added", token, hookURL, added, sig, false},
		{"a parameter removed", token, hookURL, removed, sig, false},
		{"a parameter repeated", token, hookURL, repeated, sig, false},
		{"another notice in the URL", token, "https://breachd.example.org/v1/webhooks/twilio?notice=N-8", form, sig, false},
		{"another path", token, "https://breachd.example.org/v1/webhooks/other?notice=N-7", form, sig, false},
		{"the query passed in the form as well", token, hookURL, withQuery, sig, false},
		{"another token", "fedcba9876543210fedcba9876543210", hookURL, form, sig, false},
		{"no token", "", hookURL, form, sig, false},
		{"no signature", token, hookURL, form, "", false},
		{"signature of another request", token, hookURL, form, twiliotest.Signature(token, hookURL, tampered), false},
		{"garbage signature", token, hookURL, form, "not base64!", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := voice.VerifyCallback(tt.token, tt.url, tt.form, tt.signature); got != tt.want {
				t.Errorf("VerifyCallback = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseStatusCallbackOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		status     string
		answeredBy string
		duration   int // seconds; -1: no CallDuration parameter
		errorCode  int
		sip        int
		want       breach.CallOutcome // "" with final false: no outcome yet
		final      bool
	}{
		{"queued is not final", "queued", "", -1, 0, 0, "", false},
		{"initiated is not final", "initiated", "", -1, 0, 0, "", false},
		{"ringing is not final", "ringing", "", -1, 0, 0, "", false},
		{"in-progress answered by a person is not final yet", "in-progress", "human", -1, 0, 0, "", false},
		{"in-progress answered by a machine is not final yet", "in-progress", "machine_end_beep", -1, 0, 0, "", false},

		{"completed by a person who listened is a conversation", "completed", "human", 74, 0, 200, breach.CallConversation, true},
		{"completed by a person who hung up at once is no answer", "completed", "human", 0, 0, 200, breach.CallNoAnswer, true},
		{"completed by a person without a duration is no answer", "completed", "human", -1, 0, 0, breach.CallNoAnswer, true},
		{"machine_start is voicemail", "completed", "machine_start", 30, 0, 200, breach.CallVoicemail, true},
		{"machine_end_beep is voicemail", "completed", "machine_end_beep", 41, 0, 200, breach.CallVoicemail, true},
		{"machine_end_silence is voicemail", "completed", "machine_end_silence", 41, 0, 200, breach.CallVoicemail, true},
		{"machine_end_other is voicemail", "completed", "machine_end_other", 41, 0, 200, breach.CallVoicemail, true},
		{"a long voicemail is still voicemail", "completed", "machine_end_beep", 600, 0, 200, breach.CallVoicemail, true},
		{"fax is a wrong number", "completed", "fax", 5, 0, 200, breach.CallWrongNumber, true},
		{"unknown answerer is no answer", "completed", "unknown", 60, 0, 200, breach.CallNoAnswer, true},
		{"completed without detection is no answer", "completed", "", 60, 0, 200, breach.CallNoAnswer, true},

		{"no-answer", "no-answer", "", 0, 0, 487, breach.CallNoAnswer, true},
		{"busy", "busy", "", 0, 0, 486, breach.CallBusy, true},
		{"failed with 21211 is a wrong number", "failed", "", 0, 21211, 0, breach.CallWrongNumber, true},
		{"failed with 13224 is a wrong number", "failed", "", 0, 13224, 0, breach.CallWrongNumber, true},
		{"failed with SIP 404 is a wrong number", "failed", "", 0, 0, 404, breach.CallWrongNumber, true},
		{"failed with SIP 604 is a wrong number", "failed", "", 0, 0, 604, breach.CallWrongNumber, true},
		{"failed otherwise is failed", "failed", "", 0, 0, 503, breach.CallFailed, true},
		{"failed without a code is failed", "failed", "", -1, 0, 0, breach.CallFailed, true},
		{"canceled is failed", "canceled", "", -1, 0, 0, breach.CallFailed, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"CallSid": {"CA1"}, "notice": {"N-7"}, "CallStatus": {tt.status}}
			if tt.answeredBy != "" {
				form.Set("AnsweredBy", tt.answeredBy)
			}
			if tt.duration >= 0 {
				form.Set("CallDuration", strconv.Itoa(tt.duration))
			}
			if tt.errorCode != 0 {
				form.Set("ErrorCode", strconv.Itoa(tt.errorCode))
			}
			if tt.sip != 0 {
				form.Set("SipResponseCode", strconv.Itoa(tt.sip))
			}
			cb, err := voice.ParseStatusCallback(form)
			if err != nil {
				t.Fatal(err)
			}
			if cb.Outcome != tt.want || cb.Final != tt.final {
				t.Errorf("outcome %q final %v, want %q final %v", cb.Outcome, cb.Final, tt.want, tt.final)
			}
		})
	}
}

func TestParseStatusCallbackFields(t *testing.T) {
	form := callbackForm()
	form.Set("notice", "N-7")
	form.Set("SipResponseCode", "200")
	cb, err := voice.ParseStatusCallback(form)
	if err != nil {
		t.Fatal(err)
	}
	want := voice.StatusCallback{
		CallSID:         "CA0123456789abcdef0123456789abcdef",
		NoticeID:        "N-7",
		Status:          voice.StatusCompleted,
		AnsweredBy:      voice.AnsweredByHuman,
		Duration:        74 * time.Second,
		SIPResponseCode: 200,
		SequenceNumber:  3,
		Timestamp:       time.Date(2026, 3, 10, 15, 4, 5, 0, time.UTC),
		Final:           true,
		Outcome:         breach.CallConversation,
	}
	if !cb.Timestamp.Equal(want.Timestamp) {
		t.Errorf("Timestamp %v, want %v", cb.Timestamp, want.Timestamp)
	}
	cb.Timestamp = want.Timestamp
	if cb != want {
		t.Errorf("parsed\n%+v\nwant\n%+v", cb, want)
	}
}

func TestParseStatusCallbackInvalid(t *testing.T) {
	tests := []struct {
		name   string
		change func(url.Values)
		fields []string
	}{
		{"no call SID", func(f url.Values) { f.Del("CallSid") }, []string{"CallSid"}},
		{"no notice in the URL", func(f url.Values) { f.Del("notice") }, []string{"notice"}},
		{"no status", func(f url.Values) { f.Del("CallStatus") }, []string{"CallStatus"}},
		{"unknown status", func(f url.Values) { f.Set("CallStatus", "exploded") }, []string{"CallStatus"}},
		{"unknown answerer", func(f url.Values) { f.Set("AnsweredBy", "machine") }, []string{"AnsweredBy"}},
		{"duration not a number", func(f url.Values) { f.Set("CallDuration", "1m") }, []string{"CallDuration"}},
		{"negative duration", func(f url.Values) { f.Set("CallDuration", "-5") }, []string{"CallDuration"}},
		{"bad timestamp", func(f url.Values) { f.Set("Timestamp", "2026-03-10T15:04:05Z") }, []string{"Timestamp"}},
		{"several at once", func(f url.Values) { f.Del("CallSid"); f.Set("SequenceNumber", "x") }, []string{"CallSid", "SequenceNumber"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := callbackForm()
			form.Set("notice", "N-7")
			tt.change(form)
			cb, err := voice.ParseStatusCallback(form)
			var be *breach.Error
			if !errors.As(err, &be) || be.Code != breach.EINVALID {
				t.Fatalf("error %v, want an EINVALID *breach.Error", err)
			}
			var fields []string
			for _, f := range be.Fields {
				fields = append(fields, f.Field)
			}
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("fields %v, want %v", fields, tt.fields)
			}
			if cb != (voice.StatusCallback{}) {
				t.Errorf("a callback came back with the error: %+v", cb)
			}
		})
	}
}

// FuzzParseStatusCallback checks what must hold for any callback: no panic, an outcome exactly
// when final, a known outcome, and a conversation only for a person who stayed on the line.
func FuzzParseStatusCallback(f *testing.F) {
	f.Add("completed", "human", "74", "", "200")
	f.Add("completed", "machine_end_beep", "41", "", "")
	f.Add("failed", "", "", "21211", "404")
	f.Add("ringing", "", "", "", "")
	f.Add("busy", "fax", "-1", "x", "486")
	f.Fuzz(func(t *testing.T, status, answeredBy, duration, errorCode, sip string) {
		form := url.Values{"CallSid": {"CA1"}, "notice": {"N-1"}, "CallStatus": {status},
			"AnsweredBy": {answeredBy}, "CallDuration": {duration}, "ErrorCode": {errorCode},
			"SipResponseCode": {sip}}
		cb, err := voice.ParseStatusCallback(form)
		if err != nil {
			return
		}
		if cb.Final != (cb.Outcome != "") {
			t.Errorf("final %v with outcome %q", cb.Final, cb.Outcome)
		}
		if cb.Final && !slices.Contains(breach.CallOutcomes, cb.Outcome) {
			t.Errorf("unknown outcome %q", cb.Outcome)
		}
		if cb.Outcome == breach.CallConversation &&
			(cb.Status != voice.StatusCompleted || cb.AnsweredBy != voice.AnsweredByHuman || cb.Duration <= 0) {
			t.Errorf("conversation from %+v", cb)
		}
	})
}
