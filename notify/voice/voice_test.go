package voice_test

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/notify/voice"
	"github.com/breachd/breachd/notify/voice/twiliotest"
)

const (
	from     = "+13175550100"
	to       = "+13175550111"
	callback = "https://breachd.example.org/v1/webhooks/twilio?notice=N-1"
)

var sidRE = regexp.MustCompile(`^CA[0-9a-f]{32}$`)

func newCaller(t *testing.T, srv *twiliotest.Server) *voice.Twilio {
	t.Helper()
	c, err := voice.New(voice.Config{AccountSID: srv.AccountSID, AuthToken: srv.AuthToken, From: from, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func call(script, language string) breach.Call {
	return breach.Call{NoticeID: "N-1", To: to, Script: script, Language: language, CallbackURL: callback}
}

// says returns the text and attributes of every <Say> of a TwiML document, and the verbs in order.
func says(t *testing.T, twiml string) (verbs []string, texts []string, attrs []map[string]string) {
	t.Helper()
	var doc struct {
		XMLName xml.Name `xml:"Response"`
		Verbs   []struct {
			XMLName xml.Name
			Attrs   []xml.Attr `xml:",any,attr"`
			Text    string     `xml:",chardata"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal([]byte(twiml), &doc); err != nil {
		t.Fatalf("TwiML does not parse: %v\n%s", err, twiml)
	}
	for _, v := range doc.Verbs {
		verbs = append(verbs, v.XMLName.Local)
		if v.XMLName.Local != "Say" {
			continue
		}
		texts = append(texts, v.Text)
		m := map[string]string{}
		for _, a := range v.Attrs {
			m[a.Name.Local] = a.Value
		}
		attrs = append(attrs, m)
	}
	return verbs, texts, attrs
}

func TestPlaceCallSendsTheExpectedRequest(t *testing.T) {
	srv := twiliotest.NewServer(t)
	caller := newCaller(t, srv)
	script := `Notice from Lakeview School Corp. <Important> names & Social Security numbers "may" have been seen; call 317-555-0199.`

	sid, err := caller.PlaceCall(context.Background(), call(script, "en"))
	if err != nil {
		t.Fatal(err)
	}
	if !sidRE.MatchString(sid) {
		t.Errorf("SID %q is not a call SID", sid)
	}

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/2010-04-01/Accounts/"+srv.AccountSID+"/Calls.json" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	if r.User != srv.AccountSID {
		t.Errorf("Basic auth user %q, want the account SID", r.User)
	}
	if r.Status != http.StatusCreated || r.SID != sid {
		t.Errorf("server answered %d with %q, caller returned %q", r.Status, r.SID, sid)
	}
	wantKeys := []string{"From", "MachineDetection", "StatusCallback", "StatusCallbackEvent", "StatusCallbackMethod", "To", "Twiml"}
	var keys []string
	for k := range r.Form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("form has %v, want exactly %v", keys, wantKeys)
	}
	for field, want := range map[string]string{
		"To":                   to,
		"From":                 from,
		"StatusCallback":       callback,
		"StatusCallbackMethod": "POST",
		"MachineDetection":     "DetectMessageEnd",
	} {
		if got := r.Form[field]; !slices.Equal(got, []string{want}) {
			t.Errorf("%s = %q, want %q", field, got, want)
		}
	}
	if got, want := r.StatusCallbackEvent(), []string{"initiated", "ringing", "answered", "completed"}; !slices.Equal(got, want) {
		t.Errorf("StatusCallbackEvent = %q, want %q", got, want)
	}

	twiml := r.Twiml()
	if !strings.HasPrefix(twiml, `<?xml version="1.0" encoding="UTF-8"?><Response>`) {
		t.Errorf("TwiML does not start as a TwiML document:\n%s", twiml)
	}
	for _, raw := range []string{"<Important>", " & ", `"may"`} {
		if strings.Contains(twiml, raw) {
			t.Errorf("TwiML carries %q unescaped:\n%s", raw, twiml)
		}
	}
	if !strings.Contains(twiml, "&lt;Important&gt; names &amp; Social") {
		t.Errorf("TwiML does not carry the escaped script:\n%s", twiml)
	}
	verbs, texts, attrs := says(t, twiml)
	if want := []string{"Say", "Pause", "Say"}; !slices.Equal(verbs, want) {
		t.Errorf("verbs %v, want %v", verbs, want)
	}
	for i, text := range texts {
		if text != script {
			t.Errorf("Say %d reads %q, want the script %q", i, text, script)
		}
		if attrs[i]["language"] != "en-US" || attrs[i]["voice"] != "Polly.Joanna" {
			t.Errorf("Say %d attributes %v, want en-US, Polly.Joanna", i, attrs[i])
		}
	}
}

func TestPlaceCallLanguages(t *testing.T) {
	tests := []struct {
		language, wantLanguage, wantVoice string
	}{
		{"es", "es-US", "Polly.Lupe"},
		{"es-MX", "es-US", "Polly.Lupe"},
		{"en", "en-US", "Polly.Joanna"},
		{"", "en-US", "Polly.Joanna"},
	}
	for _, tt := range tests {
		t.Run("language "+tt.language, func(t *testing.T) {
			srv := twiliotest.NewServer(t)
			if _, err := newCaller(t, srv).PlaceCall(context.Background(), call("Aviso importante.", tt.language)); err != nil {
				t.Fatal(err)
			}
			_, texts, attrs := says(t, srv.Requests()[0].Twiml())
			if len(texts) != 2 {
				t.Fatalf("%d Say verbs, want 2", len(texts))
			}
			for _, a := range attrs {
				if a["language"] != tt.wantLanguage || a["voice"] != tt.wantVoice {
					t.Errorf("Say attributes %v, want %s, %s", a, tt.wantLanguage, tt.wantVoice)
				}
			}
		})
	}
}

// sendError asserts err is a *breach.SendError of the kind wanted and returns it.
func sendError(t *testing.T, err error, permanent bool) *breach.SendError {
	t.Helper()
	var se *breach.SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *breach.SendError", err, err)
	}
	if se.Permanent != permanent {
		t.Errorf("Permanent = %v, want %v (%v)", se.Permanent, permanent, se)
	}
	if strings.Contains(se.Error(), to) || strings.Contains(se.Error(), to[2:]) {
		t.Errorf("error names the phone number: %v", se)
	}
	return se
}

func TestPlaceCallRefusesBeforeCalling(t *testing.T) {
	tests := []struct {
		name   string
		call   breach.Call
		reason string
	}{
		{"number not in E.164", breach.Call{To: "317-555-0111", Script: "s", CallbackURL: callback}, "E.164"},
		{"no callback URL", breach.Call{To: to, Script: "s"}, "callback URL"},
		{"relative callback URL", breach.Call{To: to, Script: "s", CallbackURL: "/v1/webhooks/twilio?notice=N-1"}, "callback URL"},
		{"empty script", breach.Call{To: to, Script: " \n", CallbackURL: callback}, "script is empty"},
		{"language without a voice", breach.Call{To: to, Script: "s", Language: "fr", CallbackURL: callback}, `no voice for language "fr"`},
		{"script too long for one call", breach.Call{To: to, Script: strings.Repeat("a & b ", 330), CallbackURL: callback}, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := twiliotest.NewServer(t)
			_, err := newCaller(t, srv).PlaceCall(context.Background(), tt.call)
			se := sendError(t, err, true)
			if !strings.Contains(se.Reason, tt.reason) {
				t.Errorf("Reason %q does not say %q", se.Reason, tt.reason)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("%d requests reached Twilio, want none", n)
			}
		})
	}
}

func TestTwimlLengthLimit(t *testing.T) {
	// The longest script that fits: TwiML grows by two characters per script character.
	empty, err := voice.Twiml("x", "en")
	if err != nil {
		t.Fatal(err)
	}
	longest := (voice.MaxTwiMLLength - len(empty) + 2) / 2
	if _, err := voice.Twiml(strings.Repeat("é", longest), "en"); err != nil {
		t.Errorf("a script of %d characters: %v", longest, err)
	}
	if _, err := voice.Twiml(strings.Repeat("é", longest+1), "en"); err == nil {
		t.Errorf("a script of %d characters was accepted", longest+1)
	}
}

func TestPlaceCallErrors(t *testing.T) {
	tests := []struct {
		name        string
		answer      twiliotest.Error
		permanent   bool
		reason      string
		wrongNumber bool
	}{
		{"21211 invalid To is permanent", twiliotest.ErrInvalidTo, true, "twilio error 21211: invalid 'To' phone number (HTTP 400)", true},
		{"21614 not a mobile number is permanent", twiliotest.ErrNotMobile, true, "twilio error 21614", true},
		{"other 4xx is permanent", twiliotest.Error{Status: 400, Code: 21215, Message: "Account not authorized to call " + to}, true, "geographic permissions", false},
		{"500 is temporary", twiliotest.ErrInternal, false, "twilio error 20500 (HTTP 500)", false},
		{"503 is temporary", twiliotest.ErrUnavailable, false, "HTTP 503", false},
		{"429 is temporary", twiliotest.ErrTooMany, false, "too many requests", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := twiliotest.NewServer(t)
			srv.FailTo(to, tt.answer)
			sid, err := newCaller(t, srv).PlaceCall(context.Background(), call("s", "en"))
			if sid != "" {
				t.Errorf("SID %q returned with an error", sid)
			}
			se := sendError(t, err, tt.permanent)
			if !strings.Contains(se.Reason, tt.reason) {
				t.Errorf("Reason %q does not say %q", se.Reason, tt.reason)
			}
			var apiErr *voice.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("cause %v is not a *voice.APIError", se.Err)
			}
			if apiErr.Code != tt.answer.Code || apiErr.HTTPStatus != tt.answer.Status {
				t.Errorf("APIError %+v, want code %d status %d", apiErr, tt.answer.Code, tt.answer.Status)
			}
			if apiErr.WrongNumber() != tt.wrongNumber {
				t.Errorf("WrongNumber() = %v, want %v", apiErr.WrongNumber(), tt.wrongNumber)
			}
		})
	}
}

func TestPlaceCallWrongCredentialsIsTemporary(t *testing.T) {
	srv := twiliotest.NewServer(t)
	caller, err := voice.New(voice.Config{AccountSID: srv.AccountSID, AuthToken: "wrong0token", From: from, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = caller.PlaceCall(context.Background(), call("s", "en"))
	se := sendError(t, err, false)
	if !strings.Contains(se.Reason, "20003") {
		t.Errorf("Reason %q does not carry 20003", se.Reason)
	}
	if reqs := srv.Requests(); len(reqs) != 1 || reqs[0].Status != http.StatusUnauthorized {
		t.Errorf("server saw %+v, want one refused request", reqs)
	}
	if strings.Contains(se.Error(), "wrong0token") {
		t.Errorf("error shows the token: %v", se)
	}
}

func TestPlaceCallServerDownIsTemporary(t *testing.T) {
	srv := twiliotest.NewServer(t)
	caller := newCaller(t, srv)
	srv.Close()
	_, err := caller.PlaceCall(context.Background(), call("s", "en"))
	se := sendError(t, err, false)
	if se.Reason != "twilio could not be reached" || se.Unknown {
		t.Errorf("Reason %q, Unknown %v: no request left, so no call was placed", se.Reason, se.Unknown)
	}
}

func TestPlaceCallNotTwilioAnswerIsTemporary(t *testing.T) {
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
	}))
	t.Cleanup(proxy.Close)
	caller, err := voice.New(voice.Config{AccountSID: "AC0", AuthToken: "t0", From: from, BaseURL: proxy.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = caller.PlaceCall(context.Background(), call("s", "en"))
	sendError(t, err, false)
}

// hangingServer accepts requests and answers none until the test ends.
func hangingServer(t *testing.T) *httptest.Server {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv
}

func TestPlaceCallTimeoutIsTemporary(t *testing.T) {
	srv := hangingServer(t)
	caller, err := voice.New(voice.Config{AccountSID: "AC0", AuthToken: "t0", From: from, BaseURL: srv.URL, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = caller.PlaceCall(context.Background(), call("s", "en"))
	se := sendError(t, err, false)
	// The request reached the server, which may be placing the call: never retried blindly.
	if !se.Unknown || se.Reason != "twilio request timed out after it was sent: outcome unknown" {
		t.Errorf("Unknown %v, Reason %q", se.Unknown, se.Reason)
	}
}

func TestPlaceCallContextEndsTheRequest(t *testing.T) {
	srv := hangingServer(t)
	caller, err := voice.New(voice.Config{AccountSID: "AC0", AuthToken: "t0", From: from, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = caller.PlaceCall(ctx, call("s", "en"))
	sendError(t, err, false)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not match context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("PlaceCall returned after %v: the context did not end the request", elapsed)
	}
}

func TestBaseURLWithPath(t *testing.T) {
	paths := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.Path
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"code":20500,"message":"Internal Server Error","status":500}`)
	}))
	t.Cleanup(srv.Close)
	caller, err := voice.New(voice.Config{AccountSID: "AC0", AuthToken: "t0", From: from, BaseURL: srv.URL + "/fake/twilio/"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = caller.PlaceCall(context.Background(), call("s", "en"))
	if got, want := <-paths, "/fake/twilio/2010-04-01/Accounts/AC0/Calls.json"; got != want {
		t.Errorf("path %q, want %q", got, want)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	valid := voice.Config{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "s3cr3tToken", From: from}
	tests := []struct {
		name   string
		change func(*voice.Config)
		field  string
	}{
		{"no account SID", func(c *voice.Config) { c.AccountSID = "" }, "AccountSID"},
		{"account SID with punctuation", func(c *voice.Config) { c.AccountSID = "AC-1" }, "AccountSID"},
		{"no auth token", func(c *voice.Config) { c.AuthToken = "" }, "AuthToken"},
		{"auth token with punctuation", func(c *voice.Config) { c.AuthToken = "s3cr3t/Token" }, "AuthToken"},
		{"From not E.164", func(c *voice.Config) { c.From = "3175550100" }, "From"},
		{"BaseURL not absolute", func(c *voice.Config) { c.BaseURL = "localhost:8080" }, "BaseURL"},
		{"BaseURL with query", func(c *voice.Config) { c.BaseURL = "http://localhost:8080/?x=1" }, "BaseURL"},
		{"negative timeout", func(c *voice.Config) { c.Timeout = -time.Second }, "Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.change(&cfg)
			_, err := voice.New(cfg)
			var be *breach.Error
			if !errors.As(err, &be) || be.Code != breach.EINVALID {
				t.Fatalf("error %v, want an EINVALID *breach.Error", err)
			}
			if len(be.Fields) != 1 || be.Fields[0].Field != tt.field {
				t.Errorf("fields %v, want only %s", be.Fields, tt.field)
			}
			if cfg.AuthToken != "" && strings.Contains(fmt.Sprint(be.Fields, err), cfg.AuthToken) {
				t.Errorf("error shows the auth token: %v", be.Fields)
			}
		})
	}
	if _, err := voice.New(valid); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestConfigLogValueMasksToken(t *testing.T) {
	var b strings.Builder
	cfg := voice.Config{AccountSID: "AC1", AuthToken: "s3cr3tToken", From: from}
	slog.New(slog.NewJSONHandler(&b, nil)).Info("config", "twilio", cfg)
	if strings.Contains(b.String(), "s3cr3tToken") {
		t.Errorf("log shows the token: %s", b.String())
	}
	if !strings.Contains(b.String(), `"auth_token":"(set)"`) {
		t.Errorf("log does not say the token is set: %s", b.String())
	}
}

func TestTwimlEscapesEveryScript(t *testing.T) {
	for _, script := range []string{
		`a & b < c > d "e" 'f'`,
		"]]> <![CDATA[ x",
		"line one\nline two\ttabbed",
		"Llame al 317-555-0199. ¿Preguntas? Señora Muñoz",
	} {
		twiml, err := voice.Twiml(script, "es")
		if err != nil {
			t.Fatal(err)
		}
		_, texts, _ := says(t, twiml)
		if len(texts) != 2 || texts[0] != script || texts[1] != script {
			t.Errorf("script %q read back as %q", script, texts)
		}
	}
}

func TestPlaceCallSIDIsTheServers(t *testing.T) {
	srv := twiliotest.NewServer(t)
	caller := newCaller(t, srv)
	seen := map[string]bool{}
	for i := range 3 {
		sid, err := caller.PlaceCall(context.Background(), call(fmt.Sprintf("notice %d", i), "en"))
		if err != nil {
			t.Fatal(err)
		}
		if seen[sid] {
			t.Errorf("SID %s returned twice", sid)
		}
		seen[sid] = true
		if _, ok := srv.Call(sid); !ok {
			t.Errorf("the server created no call %s", sid)
		}
	}
	u, _ := url.Parse(callback)
	if u.Query().Get(voice.NoticeParam) != "N-1" {
		t.Fatal("test callback URL does not carry the notice")
	}
}
