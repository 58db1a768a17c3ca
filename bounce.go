package breach

import (
	"context"
	"strings"
)

// Events of bounces read from the mailbox (delivery status notifications, RFC 3464). The strings
// are persisted: never rename one.
const (
	// EventNoticeDelayed: a DSN said delivery of a sent email is delayed or failed for now (action
	// delayed, or failed with a 4.x.x status). The notice stays sent: no letter yet.
	// data: notice_id, action, status, dsn (the evidence).
	EventNoticeDelayed EventType = "notice.delivery_delayed"
	// EventDSNUnmatched: a DSN that names no notice breachd can fail, recorded (never dropped) in
	// the service's own stream of unmatched bounces. data: reason, message_id, envelope_id, …
	EventDSNUnmatched EventType = "dsn.unmatched"
)

// DSN is a delivery status notification (RFC 3464): a mail server's report, sent after the SMTP
// session, that a message could not be delivered (or is delayed). It is what a bounce read from
// the school's mailbox is recorded from.
type DSN struct {
	// MessageID is the Message-ID of the report itself (without angle brackets), "" when absent.
	MessageID string
	// OriginalMessageID is the Message-ID of the returned message (from the returned message or
	// headers part), "" when the report did not return it.
	OriginalMessageID string
	// OriginalNoticeID is the X-Breachd-Notice header of the returned message, "" when absent.
	OriginalNoticeID string
	// EnvelopeID is the per-message Original-Envelope-Id field, "" when absent.
	EnvelopeID string
	// ReportingMTA is the per-message Reporting-MTA field without its type ("mx.example.org").
	ReportingMTA string
	// Recipients are the per-recipient blocks, in order; a valid report has at least one.
	Recipients []DSNRecipient
}

// DSNRecipient is one per-recipient block of a DSN.
type DSNRecipient struct {
	// FinalRecipient is the address without its type ("rfc822;") — personal data: never log it,
	// never put it in an event's Data.
	FinalRecipient string
	// Action is failed, delayed, delivered, relayed or expanded (lower case).
	Action string
	// Status is the enhanced status code, e.g. "5.1.1".
	Status string
	// DiagnosticCode is the remote server's reply without its type ("550 5.1.1 <ava@…>: user
	// unknown") — free text that may name the person: seal it, never log it.
	DiagnosticCode string
	// RemoteMTA is the server that gave the reply, without its type.
	RemoteMTA string
}

// Permanent reports whether the block says the message failed for good: action failed with a
// 5.x.x status. A failed action without a status class is taken as permanent too (RFC 3464 §2.3.3
// says failed means "could not be delivered"); a 4.x.x failure is a temporary one.
func (r DSNRecipient) Permanent() bool {
	return r.Action == "failed" && !strings.HasPrefix(r.Status, "4.")
}

// BounceMessage is one message read from the bounce mailbox.
type BounceMessage struct {
	// UID identifies the message in its mailbox, for the logs (not personal data).
	UID uint32
	// SHA256 is the hex SHA-256 of the whole message as read: what makes recording it idempotent.
	SHA256 string
	// DSN is the report; nil when the message is not a readable DSN (Err says why).
	DSN *DSN
	// Err is why the message could not be read as a DSN: a reason safe to log (no personal data).
	Err error
}

// BounceOutcome is what became of a message read from the bounce mailbox; the mailbox marks the
// message with it so that it is not read again.
type BounceOutcome string

const (
	BounceRecorded  BounceOutcome = "recorded"  // recorded on its notice
	BounceUnmatched BounceOutcome = "unmatched" // recorded as an unmatched DSN
	BounceMalformed BounceOutcome = "malformed" // not a readable DSN: logged and skipped
)

// BounceMailbox is where delivery status notifications arrive (an IMAP mailbox).
type BounceMailbox interface {
	// Poll reads every message not yet handled, oldest first, and calls handle with each. When
	// handle returns nil the message is marked handled (with the outcome) and never read again;
	// when it returns an error Poll stops and returns it, and the message is read again by the
	// next Poll. EUNAVAILABLE when the mailbox cannot be reached.
	Poll(ctx context.Context, handle func(BounceMessage) (BounceOutcome, error)) error
}
