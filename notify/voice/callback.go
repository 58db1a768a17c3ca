package voice

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/twilio/twilio-go/client"
)

// NoticeParam is the query parameter of Call.CallbackURL that carries the notice ID. The contract:
// whoever builds a breach.Call sets CallbackURL to the public webhook URL with
// "?notice=<NoticeID>" (url.Values-encoded). Twilio posts every status callback to that URL
// unchanged, the signature covers it, and ParseStatusCallback reads the notice ID back from it.
const NoticeParam = "notice"

// Call statuses, as Twilio's CallStatus parameter gives them.
const (
	StatusQueued     = "queued"
	StatusInitiated  = "initiated"
	StatusRinging    = "ringing"
	StatusInProgress = "in-progress" // answered, still talking
	StatusCompleted  = "completed"   // answered and ended (by a person or a machine)
	StatusBusy       = "busy"
	StatusNoAnswer   = "no-answer"
	StatusFailed     = "failed" // could not be placed (e.g. an invalid number)
	StatusCanceled   = "canceled"
)

// Answers of answering-machine detection, as Twilio's AnsweredBy parameter gives them.
const (
	AnsweredByHuman             = "human"
	AnsweredByMachineStart      = "machine_start"
	AnsweredByMachineEndBeep    = "machine_end_beep"
	AnsweredByMachineEndSilence = "machine_end_silence"
	AnsweredByMachineEndOther   = "machine_end_other"
	AnsweredByFax               = "fax"
	AnsweredByUnknown           = "unknown"
)

var knownStatuses = map[string]bool{
	StatusQueued: true, StatusInitiated: true, StatusRinging: true, StatusInProgress: true,
	StatusCompleted: true, StatusBusy: true, StatusNoAnswer: true, StatusFailed: true, StatusCanceled: true,
}

var knownAnswers = map[string]bool{
	"": true, AnsweredByHuman: true, AnsweredByMachineStart: true, AnsweredByMachineEndBeep: true,
	AnsweredByMachineEndSilence: true, AnsweredByMachineEndOther: true, AnsweredByFax: true,
	AnsweredByUnknown: true,
}

// StatusCallback is one status callback of a call, parsed: the domain's breach.CallStatus, which
// the API hands to the worker to record.
type StatusCallback = breach.CallStatus

// VerifyCallback reports whether a request carries Twilio's signature (the X-Twilio-Signature
// header) for authToken. fullURL is the URL exactly as given to Twilio, query included (build it
// from the configured public URL, not from the request's Host behind a proxy); form is the POST
// body alone (http.Request.PostForm, not Form: the query is already in the URL). A form with a
// repeated parameter is refused: Twilio sends none, and only one value of each would be checked.
func VerifyCallback(authToken, fullURL string, form url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	params := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) != 1 {
			return false
		}
		params[k] = vs[0]
	}
	v := client.NewRequestValidator(authToken)
	return v.Validate(fullURL, params, signature)
}

// ParseStatusCallback reads a status callback. form must hold both the URL query (for
// NoticeParam) and the POST body, as http.Request.Form does after ParseForm. An invalid callback
// is an EINVALID *breach.Error naming each bad parameter.
func ParseStatusCallback(form url.Values) (StatusCallback, error) {
	var fields []breach.FieldError
	bad := func(field, reason string) {
		fields = append(fields, breach.FieldError{Field: field, Reason: reason})
	}
	number := func(field string) int {
		s := form.Get(field)
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			bad(field, "must be a whole number")
		}
		return n
	}

	cb := StatusCallback{
		CallSID:    form.Get("CallSid"),
		NoticeID:   form.Get(NoticeParam),
		Status:     form.Get("CallStatus"),
		AnsweredBy: form.Get("AnsweredBy"),
	}
	if cb.CallSID == "" {
		bad("CallSid", "is required")
	}
	if cb.NoticeID == "" {
		bad(NoticeParam, "is required in the callback URL")
	}
	if !knownStatuses[cb.Status] {
		bad("CallStatus", "is not a known call status")
	}
	if !knownAnswers[cb.AnsweredBy] {
		bad("AnsweredBy", "is not a known answer")
	}
	cb.Duration = time.Duration(number("CallDuration")) * time.Second
	cb.ErrorCode = number("ErrorCode")
	cb.SIPResponseCode = number("SipResponseCode")
	cb.SequenceNumber = number("SequenceNumber")
	if s := form.Get("Timestamp"); s != "" {
		ts, err := time.Parse(time.RFC1123Z, s)
		if err != nil {
			bad("Timestamp", "must be an RFC 1123 date with a numeric zone")
		}
		cb.Timestamp = ts
	}
	if err := breach.InvalidFields(fields); err != nil {
		return StatusCallback{}, err
	}
	cb.Outcome, cb.Final = outcome(cb)
	return cb, nil
}

// outcome says what came of a call, given its status callback, and whether the call is over.
// Only a person who answered and stayed on the line is a conversation (LAW.md §3).
func outcome(cb StatusCallback) (breach.CallOutcome, bool) {
	switch cb.Status {
	case StatusQueued, StatusInitiated, StatusRinging, StatusInProgress:
		return "", false
	case StatusCompleted:
		switch {
		case cb.AnsweredBy == AnsweredByHuman && cb.Duration > 0:
			return breach.CallConversation, true
		case strings.HasPrefix(cb.AnsweredBy, "machine_"):
			return breach.CallVoicemail, true
		case cb.AnsweredBy == AnsweredByFax:
			return breach.CallWrongNumber, true
		default:
			// Answered, but nobody can say a person heard the notice ("unknown", no detection,
			// or a person who hung up at once): as good as no answer, the window goes on.
			return breach.CallNoAnswer, true
		}
	case StatusNoAnswer:
		return breach.CallNoAnswer, true
	case StatusBusy:
		return breach.CallBusy, true
	case StatusFailed:
		if invalidNumberCodes[cb.ErrorCode] || invalidNumberSIP[cb.SIPResponseCode] {
			return breach.CallWrongNumber, true
		}
		return breach.CallFailed, true
	case StatusCanceled:
		return breach.CallFailed, true
	}
	return "", false // unreachable: ParseStatusCallback refuses unknown statuses
}

// invalidNumberSIP are SIP answers that say the number does not exist.
var invalidNumberSIP = map[int]bool{
	404: true, // not found
	484: true, // address incomplete
	604: true, // does not exist anywhere
}

// ReadStatusCallback verifies and reads a status callback request whose form is parsed
// (r.ParseForm): the signature must match the auth token and the public URL the callback was sent
// to (publicURL + r.URL.RequestURI(), never the request's own Host, which a client controls). A
// bad signature is an EFORBIDDEN *breach.Error and nothing else is read; an invalid callback an
// EINVALID one naming each bad parameter.
func ReadStatusCallback(authToken, publicURL string, r *http.Request) (StatusCallback, error) {
	fullURL := strings.TrimSuffix(publicURL, "/") + r.URL.RequestURI()
	if !VerifyCallback(authToken, fullURL, r.PostForm, r.Header.Get("X-Twilio-Signature")) {
		return StatusCallback{}, breach.Errorf(breach.EFORBIDDEN, "the Twilio signature does not verify")
	}
	return ParseStatusCallback(r.Form)
}

// ReadCallback is ReadStatusCallback reduced to the notice, the outcome and whether the call is
// over (final is false while it is still in progress).
func ReadCallback(authToken, publicURL string, r *http.Request) (noticeID string, outcome breach.CallOutcome, final bool, err error) {
	cb, err := ReadStatusCallback(authToken, publicURL, r)
	if err != nil {
		return "", "", false, err
	}
	return cb.NoticeID, cb.Outcome, cb.Final, nil
}
