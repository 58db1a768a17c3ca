// Package voice places telephone notices through Twilio's Programmable Voice API and reads the
// status callbacks Twilio sends back.
//
// A call is placed with [Twilio.PlaceCall] (the breach.Caller interface). Twilio reads the notice
// script to whoever answers, with answering-machine detection on, and later posts signed status
// callbacks to Call.CallbackURL. The API layer checks each callback with [VerifyCallback] and turns
// it into a breach.CallOutcome with [ParseStatusCallback]. Only a conversation with a person is
// notice (LAW.md §3): a voicemail never is, however long.
//
// Everything goes through twilio-go. Its HTTP client is pointed at Config.BaseURL, so that tests
// (and a developer without a Twilio account) can use the local Twilio API in package twiliotest.
package voice

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	breach "github.com/breachd/breachd"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

var _ breach.Caller = (*Twilio)(nil)

// DefaultBaseURL is Twilio's REST API.
const DefaultBaseURL = "https://api.twilio.com"

// DefaultTimeout bounds one request to the Twilio API when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// MaxTwiMLLength is the longest inline TwiML Twilio accepts in the Twiml parameter of a new call,
// in characters. The script is read twice, so it may be a little under half of this.
const MaxTwiMLLength = 4000

// pauseSeconds is the silence between the two readings of the script.
const pauseSeconds = 2

// Call status callback events PlaceCall subscribes to, in the order they happen.
var callbackEvents = []string{"initiated", "ringing", "answered", "completed"}

var (
	alphanumericRE = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// Config configures the Twilio caller. The command reads it from the environment.
type Config struct {
	// AccountSID is the Twilio account ("AC…"). Required; letters and digits only.
	AccountSID string
	// AuthToken is the account's auth token: it authenticates API requests and signs status
	// callbacks. Required; letters and digits only. Never logged (see LogValue).
	AuthToken string
	// From is the caller ID, a voice-capable Twilio number of the account, in E.164. Required.
	From string
	// BaseURL is where the Twilio REST API is reached. Default DefaultBaseURL; tests point it at
	// a twiliotest.Server.
	BaseURL string
	// Timeout bounds one API request. Default DefaultTimeout.
	Timeout time.Duration
}

// LogValue lets the configuration be logged with the auth token masked.
func (c Config) LogValue() slog.Value {
	token := "(missing)"
	if c.AuthToken != "" {
		token = "(set)"
	}
	return slog.GroupValue(
		slog.String("account_sid", c.AccountSID),
		slog.String("auth_token", token),
		slog.String("from", c.From),
		slog.String("base_url", c.BaseURL),
		slog.Duration("timeout", c.Timeout),
	)
}

// Twilio places calls through the Twilio REST API. It is safe for concurrent use.
type Twilio struct {
	accountSID string
	authToken  string
	from       string
	base       *url.URL
	timeout    time.Duration
	transport  http.RoundTripper
}

// New checks the configuration, fills in the defaults and returns a caller. The error (an
// EINVALID *breach.Error) names each bad field and never quotes the auth token.
func New(cfg Config) (*Twilio, error) {
	var fields []breach.FieldError
	bad := func(field, reason string) {
		fields = append(fields, breach.FieldError{Field: field, Reason: reason})
	}
	switch {
	case cfg.AccountSID == "":
		bad("AccountSID", "is required")
	case !alphanumericRE.MatchString(cfg.AccountSID):
		bad("AccountSID", "must be letters and digits only")
	}
	switch {
	case cfg.AuthToken == "":
		bad("AuthToken", "is required")
	case !alphanumericRE.MatchString(cfg.AuthToken):
		// twilio-go refuses such tokens on every request; say so now instead.
		bad("AuthToken", "must be letters and digits only")
	}
	if !breach.ValidPhone(cfg.From) {
		bad("From", "must be a phone number in E.164 form, e.g. +13175550100")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" ||
		base.RawQuery != "" || base.Fragment != "" {
		bad("BaseURL", "must be an absolute http or https URL without query")
	}
	if cfg.Timeout < 0 {
		bad("Timeout", "must not be negative")
	}
	if err := breach.InvalidFields(fields); err != nil {
		return nil, fmt.Errorf("twilio config: %w", err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	base.RawPath = ""
	return &Twilio{
		accountSID: cfg.AccountSID,
		authToken:  cfg.AuthToken,
		from:       cfg.From,
		base:       base,
		timeout:    cfg.Timeout,
		transport:  http.DefaultTransport,
	}, nil
}

// PlaceCall asks Twilio to call c.To and read c.Script twice, with answering-machine detection
// on and status callbacks (initiated, ringing, answered, completed) sent to c.CallbackURL. It
// returns the call SID ("CA…"). The outcome arrives later, by status callback.
//
// Errors are *breach.SendError, never naming the phone number:
//   - permanent: a number Twilio refuses (e.g. error 21211, invalid 'To' phone number), any other
//     4xx about the request, a script too long for one call, a language without a voice, or a call
//     that is missing its number or callback URL;
//   - temporary: Twilio 5xx or 429, credentials or account refused (401, 404: the operator must
//     fix the configuration, and the notice must not fall back to a letter meanwhile), the
//     network, a timeout, ctx done (the cause then matches ctx.Err() with errors.Is);
//   - unknown (temporary, Unknown set): the request was sent and no answer came (a timeout, ctx
//     done, the connection lost): Twilio may have placed the call. The caller must not place it
//     again blindly; the status callback, if the call exists, tells what happened.
//
// When the Twilio API answered with an error, the SendError's Err is an *APIError.
func (t *Twilio) PlaceCall(ctx context.Context, c breach.Call) (string, error) {
	if !breach.ValidPhone(c.To) {
		return "", &breach.SendError{Permanent: true, Reason: "the phone number is not in E.164 form"}
	}
	if err := checkCallbackURL(c.CallbackURL); err != nil {
		return "", &breach.SendError{Permanent: true, Reason: "invalid status callback URL", Err: err}
	}
	twiml, err := Twiml(c.Script, c.Language)
	if err != nil {
		return "", &breach.SendError{Permanent: true, Reason: err.Error()}
	}

	params := &api.CreateCallParams{}
	params.SetTo(c.To)
	params.SetFrom(t.from)
	params.SetTwiml(twiml)
	params.SetStatusCallback(c.CallbackURL)
	params.SetStatusCallbackMethod(http.MethodPost)
	params.SetStatusCallbackEvent(callbackEvents)
	// Synchronous detection: Twilio reads the script to a person at once, and to a machine only
	// after its greeting ends (leaving a message, which is courtesy, never notice). The answer
	// (AnsweredBy) comes with the status callbacks.
	params.SetMachineDetection("DetectMessageEnd")

	call, err := t.service(ctx).CreateCall(params)
	if err != nil {
		return "", classify(ctx, err)
	}
	if call.Sid == nil || *call.Sid == "" {
		// Twilio took the request but the answer carries no call: retrying may place a second
		// call, but losing the SID loses every callback, which is worse.
		return "", &breach.SendError{Reason: "twilio answered without a call SID"}
	}
	return *call.Sid, nil
}

// service returns a twilio-go API service whose requests go to the configured base URL and end
// when ctx does (twilio-go itself takes no context).
func (t *Twilio) service(ctx context.Context) *api.ApiService {
	c := &client.Client{
		Credentials: client.NewCredentials(t.accountSID, t.authToken),
		HTTPClient: &http.Client{
			Transport: &baseURLTransport{ctx: ctx, base: t.base, next: t.transport},
			Timeout:   t.timeout,
			// As twilio-go's default client: an API redirect is an answer, not a place to go.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(t.accountSID)
	s := api.NewApiServiceWithClient(c)
	// twilio-go reads TWILIO_EDGE and TWILIO_REGION from the environment; configuration here
	// comes from Config alone.
	s.RequestHandler().Edge = ""
	s.RequestHandler().Region = ""
	return s
}

// baseURLTransport sends a request meant for api.twilio.com to the configured base URL (scheme,
// host and path prefix) instead, under the caller's context.
type baseURLTransport struct {
	ctx  context.Context
	base *url.URL
	next http.RoundTripper
}

func (b *baseURLTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(b.ctx)
	r.URL.Scheme = b.base.Scheme
	r.URL.Host = b.base.Host
	r.URL.Path = b.base.Path + req.URL.Path
	r.URL.RawPath = ""
	r.Host = ""
	return b.next.RoundTrip(r)
}

func checkCallbackURL(s string) error {
	if s == "" {
		return errors.New("no callback URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("callback URL must be absolute http or https")
	}
	return nil
}

// Voices: Amazon Polly voices through Twilio, chosen because the classic voices do not all speak
// US Spanish. Keyed by ISO 639-1 language.
var voices = map[string]struct{ language, voice string }{
	"en": {"en-US", "Polly.Joanna"},
	"es": {"es-US", "Polly.Lupe"},
}

// Twiml returns the TwiML PlaceCall sends: the script read in the language's voice, a pause, and
// the script read again. language is ISO 639-1 ("en", "es"; "" means "en"); a region suffix
// ("es-MX") is ignored. It fails for an empty script, a language without a voice, or TwiML over
// MaxTwiMLLength characters.
func Twiml(script, language string) (string, error) {
	if strings.TrimSpace(script) == "" {
		return "", errors.New("the call script is empty")
	}
	lang := strings.ToLower(language)
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	if lang == "" {
		lang = "en"
	}
	v, ok := voices[lang]
	if !ok {
		return "", fmt.Errorf("no voice for language %q", language)
	}
	type say struct {
		XMLName  xml.Name `xml:"Say"`
		Language string   `xml:"language,attr"`
		Voice    string   `xml:"voice,attr"`
		Text     string   `xml:",chardata"`
	}
	type pause struct {
		XMLName xml.Name `xml:"Pause"`
		Length  int      `xml:"length,attr"`
	}
	type response struct {
		XMLName xml.Name `xml:"Response"`
		Verbs   []any
	}
	s := say{Language: v.language, Voice: v.voice, Text: script}
	out, err := xml.Marshal(response{Verbs: []any{s, pause{Length: pauseSeconds}, s}})
	if err != nil {
		return "", fmt.Errorf("build TwiML: %w", err)
	}
	twiml := xml.Header[:len(xml.Header)-1] + string(out)
	if n := utf8.RuneCountInString(twiml); n > MaxTwiMLLength {
		return "", fmt.Errorf("the call script is too long: %d characters of TwiML, Twilio accepts %d", n, MaxTwiMLLength)
	}
	return twiml, nil
}

// APIError is an error answer of the Twilio API, kept as the Err of a *breach.SendError. It
// keeps Twilio's message out on purpose: Twilio quotes the phone number in it.
type APIError struct {
	HTTPStatus int
	Code       int    // Twilio error code, e.g. 21211
	MoreInfo   string // Twilio's page about the code
}

func (e *APIError) Error() string {
	return fmt.Sprintf("twilio API: HTTP %d, error %d (%s)", e.HTTPStatus, e.Code, e.MoreInfo)
}

// WrongNumber reports whether Twilio refused the number itself: the call's outcome is
// breach.CallWrongNumber rather than breach.CallFailed.
func (e *APIError) WrongNumber() bool { return invalidNumberCodes[e.Code] }

// invalidNumberCodes are Twilio error codes that say the number called is not a usable phone
// number. Also used for failed calls' ErrorCode in status callbacks.
var invalidNumberCodes = map[int]bool{
	13223: true, // Dial: invalid phone number format
	13224: true, // Dial: invalid phone number
	21211: true, // invalid 'To' phone number
	21217: true, // phone number does not appear to be valid
	21401: true, // invalid phone number
	21407: true, // this phone number type does not support voice
	21614: true, // 'To' number is not a valid mobile number
}

// codeReasons says in a few words what the codes PlaceCall is likely to meet mean. The Reason
// of a SendError is recorded and shown, so it uses these and never Twilio's own message.
var codeReasons = map[int]string{
	13223: "invalid phone number format",
	13224: "invalid phone number",
	20003: "twilio refused the account credentials",
	20404: "twilio does not know the account",
	20429: "too many requests",
	21210: "the caller ID is not verified on the account",
	21211: "invalid 'To' phone number",
	21212: "invalid caller ID",
	21214: "the 'To' number cannot be reached",
	21215: "the account may not call this country or number (geographic permissions)",
	21216: "the account may not call premium numbers",
	21217: "the phone number does not appear to be valid",
	21401: "invalid phone number",
	21407: "the phone number does not take voice calls",
	21614: "'To' number is not a valid mobile number",
}

// classify turns a twilio-go error into a *breach.SendError (see PlaceCall for the contract).
func classify(ctx context.Context, err error) *breach.SendError {
	var restErr *client.TwilioRestError
	var restErrV1 *client.RestErrorV1
	switch {
	case errors.As(err, &restErr):
		return apiSendError(&APIError{HTTPStatus: restErr.Status, Code: restErr.Code, MoreInfo: restErr.MoreInfo})
	case errors.As(err, &restErrV1):
		return apiSendError(&APIError{HTTPStatus: restErrV1.HttpStatusCode, Code: restErrV1.Code})
	}
	// A request that never left (no connection) placed no call; one that was sent and got no
	// answer may have: Twilio may be dialling the person now. That outcome is unknown, and the
	// caller must not place the call again on a guess.
	var op *net.OpError
	notSent := errors.As(err, &op) && op.Op == "dial"
	switch {
	case ctx.Err() != nil && notSent:
		return &breach.SendError{Reason: "call request abandoned", Err: fmt.Errorf("%w: %w", ctx.Err(), err)}
	case ctx.Err() != nil:
		return &breach.SendError{Unknown: true, Reason: "call request abandoned after it was sent: outcome unknown", Err: fmt.Errorf("%w: %w", ctx.Err(), err)}
	}
	var netErr net.Error
	switch {
	case errors.As(err, &netErr) && netErr.Timeout() && !notSent:
		return &breach.SendError{Unknown: true, Reason: "twilio request timed out after it was sent: outcome unknown", Err: err}
	case errors.As(err, &netErr) && netErr.Timeout():
		return &breach.SendError{Reason: "twilio request timed out", Err: err}
	}
	// The network before the request left, or an answer that is not Twilio's (a proxy's 502
	// page): worth another try.
	return &breach.SendError{Reason: "twilio could not be reached", Err: err}
}

func apiSendError(e *APIError) *breach.SendError {
	reason := fmt.Sprintf("twilio error %d (HTTP %d)", e.Code, e.HTTPStatus)
	if r, ok := codeReasons[e.Code]; ok {
		reason = fmt.Sprintf("twilio error %d: %s (HTTP %d)", e.Code, r, e.HTTPStatus)
	}
	temporary := e.HTTPStatus >= 500 || e.HTTPStatus == http.StatusTooManyRequests ||
		e.HTTPStatus == http.StatusUnauthorized || e.HTTPStatus == http.StatusNotFound
	return &breach.SendError{Permanent: !temporary, Reason: reason, Err: e}
}
