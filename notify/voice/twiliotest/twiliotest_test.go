package twiliotest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/breachd/breachd/notify/voice/twiliotest"
	"github.com/twilio/twilio-go/client"
)

// The server's signature and twilio-go's validator are written independently from Twilio's
// documentation; each checks the other.
func TestSignatureAgreesWithTwilioGo(t *testing.T) {
	params := url.Values{
		"CallSid":    {"CA1234567890ABCDE"},
		"Caller":     {"+12349013030"},
		"Digits":     {"1234"},
		"From":       {"+12349013030"},
		"To":         {"+18005551212"},
		"CallStatus": {"in-progress"},
		"Empty":      {""},
		"Unicode":    {"Señora Muñoz & co"},
	}
	for _, u := range []string{
		"https://mycompany.com/myapp.php?foo=1&bar=2",
		"http://127.0.0.1:43210/v1/webhooks/twilio?notice=N-1",
	} {
		sig := twiliotest.Signature("12345", u, params)
		flat := map[string]string{}
		for k, v := range params {
			flat[k] = v[0]
		}
		v := client.NewRequestValidator("12345")
		if !v.Validate(u, flat, sig) {
			t.Errorf("twilio-go does not accept the signature %s of %s", sig, u)
		}
		if v.Validate(u+"&x=1", flat, sig) {
			t.Errorf("twilio-go accepts the signature of %s for another URL", u)
		}
	}
}

func post(t *testing.T, u, user, pass string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func TestServerSpeaksTheCallsAPI(t *testing.T) {
	srv := twiliotest.NewServer(t)
	calls := srv.URL + "/2010-04-01/Accounts/" + srv.AccountSID + "/Calls.json"
	good := url.Values{"To": {"+13175550111"}, "From": {"+13175550100"}, "Twiml": {"<Response/>"}}

	tests := []struct {
		name       string
		url        string
		user, pass string
		form       url.Values
		status     int
		code       float64
	}{
		{"wrong token", calls, srv.AccountSID, "nope", good, 401, 20003},
		{"no credentials", calls, "", "", good, 401, 20003},
		{"another account", srv.URL + "/2010-04-01/Accounts/AC0/Calls.json", srv.AccountSID, srv.AuthToken, good, 404, 20404},
		{"unknown resource", srv.URL + "/2010-04-01/Accounts/" + srv.AccountSID + "/Messages.json", srv.AccountSID, srv.AuthToken, good, 404, 20404},
		{"no To", calls, srv.AccountSID, srv.AuthToken, url.Values{"From": {"+13175550100"}, "Twiml": {"<Response/>"}}, 400, 21201},
		{"To not a number", calls, srv.AccountSID, srv.AuthToken, url.Values{"To": {"5550111"}, "From": {"+13175550100"}, "Twiml": {"<Response/>"}}, 400, 21211},
		{"no TwiML", calls, srv.AccountSID, srv.AuthToken, url.Values{"To": {"+13175550111"}, "From": {"+13175550100"}}, 400, 21205},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, tt.url, tt.user, tt.pass, tt.form)
			if status != tt.status || body["code"] != tt.code || body["status"] != float64(tt.status) {
				t.Errorf("answered %d %v, want %d with code %v", status, body, tt.status, tt.code)
			}
		})
	}

	status, body := post(t, calls, srv.AccountSID, srv.AuthToken, good)
	if status != http.StatusCreated || body["status"] != "queued" || body["to"] != "+13175550111" || body["account_sid"] != srv.AccountSID {
		t.Errorf("create answered %d %v", status, body)
	}
	sid, _ := body["sid"].(string)
	r, ok := srv.Call(sid)
	if !ok || r.To() != "+13175550111" || r.Twiml() != "<Response/>" {
		t.Errorf("call %s recorded as %+v", sid, r)
	}
	// Every request to the Calls resource is recorded, refused or not; others are not.
	if n := len(srv.Requests()); n != 7 {
		t.Errorf("%d requests recorded, want 7", n)
	}
}

func TestFailTo(t *testing.T) {
	srv := twiliotest.NewServer(t)
	srv.FailTo("+13175550111", twiliotest.ErrInternal)
	calls := srv.URL + "/2010-04-01/Accounts/" + srv.AccountSID + "/Calls.json"
	status, body := post(t, calls, srv.AccountSID, srv.AuthToken,
		url.Values{"To": {"+13175550111"}, "From": {"+13175550100"}, "Twiml": {"<Response/>"}})
	if status != 500 || body["code"] != float64(20500) {
		t.Errorf("answered %d %v", status, body)
	}
	status, _ = post(t, calls, srv.AccountSID, srv.AuthToken,
		url.Values{"To": {"+13175550112"}, "From": {"+13175550100"}, "Twiml": {"<Response/>"}})
	if status != http.StatusCreated {
		t.Errorf("another number answered %d", status)
	}
}
