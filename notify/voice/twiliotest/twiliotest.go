// Package twiliotest is a local Twilio for tests: an HTTP server that speaks the part of the
// Twilio REST API breachd uses (creating a call) and then plays a call's progress to its status
// callback URL as Twilio would, with signed callbacks.
//
// It is written from Twilio's documentation, independently of twilio-go and of package voice, so
// that tests of those check them against the API rather than against themselves.
//
//	srv := twiliotest.NewServer(t)
//	caller, _ := voice.New(voice.Config{AccountSID: srv.AccountSID, AuthToken: srv.AuthToken,
//		From: "+13175550100", BaseURL: srv.URL})
//	sid, _ := caller.PlaceCall(ctx, call)
//	err := srv.Play(ctx, sid, twiliotest.Conversation(90*time.Second))
package twiliotest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a local Twilio REST API. Its zero value is not usable; call NewServer.
type Server struct {
	// URL is the API's base URL (for voice.Config.BaseURL).
	URL string
	// AccountSID and AuthToken are the one account the server knows: requests must authenticate
	// with them, and callbacks are signed with AuthToken.
	AccountSID string
	AuthToken  string

	srv    *httptest.Server
	client *http.Client

	mu       sync.Mutex
	requests []Request
	failures map[string]Error // by To number
	seq      map[string]int   // next SequenceNumber, by call SID
}

// Request is one request to create a call, as the server received it.
type Request struct {
	Method     string
	Path       string
	AccountSID string // from the path
	User       string // the Basic auth user name (the password is checked, not kept)
	Form       url.Values
	// Status is the HTTP status the server answered; SID the call created (when Status is 201).
	Status int
	SID    string
}

// Form fields, for reading a Request.
func (r Request) To() string                    { return r.Form.Get("To") }
func (r Request) From() string                  { return r.Form.Get("From") }
func (r Request) Twiml() string                 { return r.Form.Get("Twiml") }
func (r Request) StatusCallback() string        { return r.Form.Get("StatusCallback") }
func (r Request) StatusCallbackEvent() []string { return r.Form["StatusCallbackEvent"] }
func (r Request) MachineDetection() string      { return r.Form.Get("MachineDetection") }

// Error is an error answer the server can be told to give (see FailTo).
type Error struct {
	Status  int // HTTP status
	Code    int // Twilio error code
	Message string
}

// Some error answers Twilio gives.
var (
	ErrInvalidTo   = Error{Status: 400, Code: 21211, Message: "Invalid 'To' Phone Number"}
	ErrNotMobile   = Error{Status: 400, Code: 21614, Message: "'To' number is not a valid mobile number"}
	ErrInternal    = Error{Status: 500, Code: 20500, Message: "Internal Server Error"}
	ErrUnavailable = Error{Status: 503, Code: 20503, Message: "Service Unavailable"}
	ErrTooMany     = Error{Status: 429, Code: 20429, Message: "Too Many Requests"}
)

// NewServer starts a server with a fresh account SID and auth token; it stops when the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		AccountSID: "AC" + randomHex(16),
		AuthToken:  randomHex(16),
		client:     &http.Client{Timeout: 10 * time.Second},
		failures:   make(map[string]Error),
		seq:        make(map[string]int),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the server; from then on requests to it fail as if Twilio were unreachable.
func (s *Server) Close() {
	s.srv.Close()
	s.client.CloseIdleConnections()
}

// FailTo makes every request to call the number to answer with e.
func (s *Server) FailTo(to string, e Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[to] = e
}

// Requests returns every request to the Calls resource, in order, including refused ones (with
// bad credentials too).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Form = cloneValues(r.Form)
		out[i] = r
	}
	return out
}

// Call returns the request that created the call with the SID.
func (s *Server) Call(sid string) (Request, bool) {
	for _, r := range s.Requests() {
		if r.SID == sid && sid != "" {
			return r, true
		}
	}
	return Request{}, false
}

var callsPath = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Calls\.json$`)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	m := callsPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		writeJSON(w, 404, errorBody(Error{Status: 404, Code: 20404, Message: "The requested resource " + r.URL.Path + " was not found"}))
		return
	}
	user, pass, _ := r.BasicAuth()
	req := Request{Method: r.Method, Path: r.URL.Path, AccountSID: m[1], User: user}
	status, body := s.answer(r, &req, pass)
	req.Status = status
	if status == http.StatusCreated {
		req.SID = body["sid"].(string)
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	writeJSON(w, status, body)
}

// answer checks a request to the Calls resource (method, credentials, body) and creates the call.
func (s *Server) answer(r *http.Request, req *Request, pass string) (int, map[string]any) {
	fail := func(e Error) (int, map[string]any) { return e.Status, errorBody(e) }
	if r.Method != http.MethodPost {
		return fail(Error{Status: 405, Code: 20004, Message: "Method not allowed"})
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return fail(Error{Status: 400, Code: 20001, Message: "Content-Type must be application/x-www-form-urlencoded"})
	}
	if err := r.ParseForm(); err != nil {
		return fail(Error{Status: 400, Code: 20001, Message: "Malformed request body"})
	}
	req.Form = cloneValues(r.PostForm)
	if !equal(req.User, s.AccountSID) || !equal(pass, s.AuthToken) {
		return fail(Error{Status: 401, Code: 20003, Message: "Authenticate"})
	}
	return s.createCall(*req)
}

// createCall answers a create-call request: the call resource, or a Twilio error.
func (s *Server) createCall(req Request) (int, map[string]any) {
	fail := func(e Error) (int, map[string]any) { return e.Status, errorBody(e) }
	if req.AccountSID != s.AccountSID {
		return fail(Error{Status: 404, Code: 20404, Message: "The requested resource " + req.Path + " was not found"})
	}
	s.mu.Lock()
	scripted, ok := s.failures[req.To()]
	s.mu.Unlock()
	switch {
	case ok:
		return fail(scripted)
	case req.To() == "":
		return fail(Error{Status: 400, Code: 21201, Message: "No 'To' number is specified"})
	case !e164.MatchString(req.To()):
		return fail(Error{Status: 400, Code: 21211, Message: "Invalid 'To' Phone Number: " + req.To()})
	case req.From() == "":
		return fail(Error{Status: 400, Code: 21213, Message: "No 'From' number is specified"})
	case req.Twiml() == "" && req.Form.Get("Url") == "" && req.Form.Get("ApplicationSid") == "":
		return fail(Error{Status: 400, Code: 21205, Message: "Url parameter is required"})
	}
	for _, ev := range req.StatusCallbackEvent() {
		if !slices.Contains([]string{"initiated", "ringing", "answered", "completed"}, ev) {
			return fail(Error{Status: 400, Code: 21626, Message: "Invalid 'StatusCallbackEvent'"})
		}
	}

	sid := "CA" + randomHex(16)
	now := time.Now().UTC().Format(time.RFC1123Z)
	uri := "/2010-04-01/Accounts/" + s.AccountSID + "/Calls/" + sid
	return http.StatusCreated, map[string]any{
		"sid":              sid,
		"account_sid":      s.AccountSID,
		"api_version":      "2010-04-01",
		"annotation":       nil,
		"answered_by":      nil,
		"caller_name":      nil,
		"date_created":     now,
		"date_updated":     now,
		"direction":        "outbound-api",
		"duration":         nil,
		"end_time":         nil,
		"forwarded_from":   nil,
		"from":             req.From(),
		"from_formatted":   req.From(),
		"group_sid":        nil,
		"parent_call_sid":  nil,
		"phone_number_sid": "PN" + randomHex(16),
		"price":            nil,
		"price_unit":       "USD",
		"queue_time":       "0",
		"start_time":       nil,
		"status":           "queued",
		"to":               req.To(),
		"to_formatted":     req.To(),
		"trunk_sid":        nil,
		"uri":              uri + ".json",
		"subresource_uris": map[string]string{
			"events":        uri + "/Events.json",
			"notifications": uri + "/Notifications.json",
			"recordings":    uri + "/Recordings.json",
		},
	}
}

// Outcome is how a call goes once placed, for Play.
type Outcome struct {
	Status     string // final CallStatus: completed, busy, no-answer, failed, canceled
	AnsweredBy string // for a completed call: human, machine_end_beep, …
	Duration   time.Duration
	// ErrorCode and SIPResponseCode, when not 0, come with the final callback.
	ErrorCode       int
	SIPResponseCode int
}

// Conversation is a person answering and listening for d.
func Conversation(d time.Duration) Outcome {
	return Outcome{Status: "completed", AnsweredBy: "human", Duration: d}
}

// Voicemail is an answering machine taking a message after its beep.
func Voicemail() Outcome {
	return Outcome{Status: "completed", AnsweredBy: "machine_end_beep", Duration: 41 * time.Second}
}

// NoAnswer is a phone that rings until Twilio gives up.
func NoAnswer() Outcome { return Outcome{Status: "no-answer", SIPResponseCode: 487} }

// Busy is a busy line.
func Busy() Outcome { return Outcome{Status: "busy", SIPResponseCode: 486} }

// Failed is a call the network refused, e.g. Failed(13224, 404) for a number that does not exist.
func Failed(errorCode, sipCode int) Outcome {
	return Outcome{Status: "failed", ErrorCode: errorCode, SIPResponseCode: sipCode}
}

// Play sends the call's status callbacks for outcome, in order, to the call's StatusCallback URL,
// signed with the server's auth token: one per event the call subscribed to (StatusCallbackEvent;
// only "completed" when it named none). It fails when a callback is not answered with a 2xx.
func (s *Server) Play(ctx context.Context, sid string, o Outcome) error {
	req, ok := s.Call(sid)
	if !ok {
		return fmt.Errorf("twiliotest: no call %q", sid)
	}
	if req.StatusCallback() == "" {
		return fmt.Errorf("twiliotest: call %s has no StatusCallback", sid)
	}
	events := req.StatusCallbackEvent()
	if len(events) == 0 {
		events = []string{"completed"}
	}
	answered := o.Status == "completed"
	type step struct{ event, status string }
	steps := []step{{"initiated", "initiated"}}
	if o.Status != "failed" {
		steps = append(steps, step{"ringing", "ringing"})
	}
	if answered {
		steps = append(steps, step{"answered", "in-progress"})
	}
	steps = append(steps, step{"completed", o.Status})

	for _, st := range steps {
		if !slices.Contains(events, st.event) {
			continue
		}
		params := s.callbackParams(req, st.status)
		if answered && st.status != "initiated" && st.status != "ringing" {
			params.Set("AnsweredBy", o.AnsweredBy)
		}
		if st.event == "completed" {
			secs := strconv.Itoa(int(o.Duration / time.Second))
			params.Set("CallDuration", secs)
			params.Set("Duration", strconv.Itoa(int((o.Duration+time.Minute-1)/time.Minute)))
			if o.ErrorCode != 0 {
				params.Set("ErrorCode", strconv.Itoa(o.ErrorCode))
			}
			sip := o.SIPResponseCode
			if sip == 0 && answered {
				sip = 200
			}
			if sip != 0 {
				params.Set("SipResponseCode", strconv.Itoa(sip))
			}
		}
		if err := s.PostCallback(ctx, req.StatusCallback(), params); err != nil {
			return fmt.Errorf("twiliotest: %s callback of %s: %w", st.status, sid, err)
		}
	}
	return nil
}

// callbackParams are the parameters every status callback of the call carries.
func (s *Server) callbackParams(req Request, status string) url.Values {
	s.mu.Lock()
	n := s.seq[req.SID]
	s.seq[req.SID] = n + 1
	s.mu.Unlock()
	return url.Values{
		"AccountSid":     {s.AccountSID},
		"ApiVersion":     {"2010-04-01"},
		"CallSid":        {req.SID},
		"CallStatus":     {status},
		"CallbackSource": {"call-progress-events"},
		"Called":         {req.To()},
		"Caller":         {req.From()},
		"Direction":      {"outbound-api"},
		"From":           {req.From()},
		"SequenceNumber": {strconv.Itoa(n)},
		"Timestamp":      {time.Now().UTC().Format(time.RFC1123Z)},
		"To":             {req.To()},
	}
}

// PostCallback posts params to callbackURL as Twilio posts a webhook, with the X-Twilio-Signature
// of the server's auth token. It fails when the answer is not a 2xx.
func (s *Server) PostCallback(ctx context.Context, callbackURL string, params url.Values) error {
	body := params.Encode()
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, callbackURL, strings.NewReader(body))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	r.Header.Set("User-Agent", "TwilioProxy/1.1")
	r.Header.Set("X-Twilio-Signature", Signature(s.AuthToken, callbackURL, params))
	resp, err := s.client.Do(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("callback answered %s", resp.Status)
	}
	return nil
}

// Signature computes X-Twilio-Signature as Twilio documents it: take the full URL, append each
// POST parameter's name and value (sorted by name, case-sensitively; a repeated name's values in
// order), sign the result with HMAC-SHA1 keyed by the auth token, and encode it in base64.
func Signature(authToken, fullURL string, params url.Values) string {
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, name := range names {
		for _, v := range params[name] {
			b.WriteString(name)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func errorBody(e Error) map[string]any {
	return map[string]any{
		"code":      e.Code,
		"message":   e.Message,
		"more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(e.Code),
		"status":    e.Status,
	}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
