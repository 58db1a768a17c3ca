package breach

import (
	"context"
	"fmt"
	"time"
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

// EmailReceipt is the mail server's own evidence that it accepted one message: its final reply
// to the message (the answer to the end of DATA) and the Message-ID the message carried. None of
// it names the recipient: a reply that quotes the recipient's address has it replaced.
type EmailReceipt struct {
	MessageID string // the message's Message-ID header, without angle brackets
	// Reply is the server's final reply as it came, code included ("250 2.0.0 Ok: queued as
	// 4B7C21"); the lines of a multi-line reply are joined with "\n".
	Reply string
	// QueueID is the server's ID for the message, parsed from Reply ("4B7C21"); "" when the
	// reply carries none in a form breachd knows (the reply is kept whole either way).
	QueueID string
	// Outbox is set when the message was written as an .eml file to the outbox directory: no
	// mail server took it, and breachd did not send it on.
	Outbox bool
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

// CallStatus is one status callback of a placed call, as the provider (Twilio) reported it: its
// own evidence of how the call went. None of it names the person called.
type CallStatus struct {
	NoticeID string // the notice the call is for (from the callback URL)
	CallSID  string // the provider's call ID, as PlaceCall returned it
	// Status is the provider's call status: queued, initiated, ringing, in-progress, completed,
	// busy, no-answer, failed or canceled.
	Status string
	// AnsweredBy is what answering-machine detection heard (human, machine_end_beep, …); "" before
	// the call is answered.
	AnsweredBy string
	Duration   time.Duration // how long the call lasted, in whole seconds; 0 until it ends
	// ErrorCode and SIPResponseCode come with some failed calls; 0 when absent.
	ErrorCode       int
	SIPResponseCode int
	// SequenceNumber orders the callbacks of one call (they may arrive out of order).
	SequenceNumber int
	Timestamp      time.Time // when the provider produced the callback; zero when absent

	// Final is false while the call is still going (queued, initiated, ringing, in-progress):
	// Outcome is then "". When Final, Outcome is what came of the call (only a conversation with
	// a person is notice, LAW.md §3).
	Final   bool
	Outcome CallOutcome
}
