package breach

import (
	"context"
	"fmt"
)

// SendError is how a delivery channel reports a failed attempt. A temporary failure (SMTP 4xx, a
// timeout, Twilio 5xx) is retried with backoff; a permanent one (SMTP 5xx, an invalid number) is
// not, and the notice falls back to a letter.
type SendError struct {
	Permanent bool
	// Unknown says the request may have been carried out: it was sent and no answer came (a
	// timeout, a connection lost while waiting). Repeating it blindly could do it twice, so the
	// caller must find out what happened instead (a Twilio status callback, a clerk).
	Unknown bool
	Reason  string // safe to show and record: no personal information
	Err     error  // the cause, for logs
}

func (e *SendError) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	if e.Err != nil {
		return fmt.Sprintf("%s delivery failure: %s: %v", kind, e.Reason, e.Err)
	}
	return fmt.Sprintf("%s delivery failure: %s", kind, e.Reason)
}

func (e *SendError) Unwrap() error { return e.Err }

// EmailMessage is one email notice, rendered.
type EmailMessage struct {
	// NoticeID identifies the notice; the channel derives the Message-ID from it so that a message
	// sent twice after a crash is recognisably the same message.
	NoticeID string
	To       string // the address
	ToName   string
	Subject  string
	Text     string // plain-text body, carrying every required element
	HTML     string // HTML body, the same content
	Language string
}

// Mailer sends email notices. Implementations reuse one connection for many messages.
type Mailer interface {
	// Send delivers the messages in order and returns one error per message (nil: accepted by the
	// server). An error is a *SendError saying whether a retry may help. The slice error is for a
	// failure that concerns every message (e.g. the server cannot be reached: all temporary).
	Send(ctx context.Context, msgs []EmailMessage) ([]error, error)
}

// CallOutcome is what came of one call attempt. Only a conversation is notice (LAW.md §3).
type CallOutcome string

const (
	CallConversation CallOutcome = "conversation" // a person answered and the notice was given
	CallNoAnswer     CallOutcome = "no_answer"
	CallVoicemail    CallOutcome = "voicemail" // never notice
	CallBusy         CallOutcome = "busy"
	CallWrongNumber  CallOutcome = "wrong_number"
	CallFailed       CallOutcome = "failed" // the call could not be placed
)

// CallOutcomes lists every valid CallOutcome.
var CallOutcomes = []CallOutcome{CallConversation, CallNoAnswer, CallVoicemail, CallBusy, CallWrongNumber, CallFailed}

// Call is one telephone notice to place.
type Call struct {
	NoticeID    string
	To          string // E.164
	Script      string // what is read to the person: every required element
	Language    string
	CallbackURL string // where the provider sends signed status callbacks
}

// Caller places telephone notices through a provider (Twilio).
type Caller interface {
	// PlaceCall asks the provider to call; the outcome arrives later by status callback. It
	// returns the provider's call ID, or a *SendError.
	PlaceCall(ctx context.Context, c Call) (providerID string, err error)
}
