package breach

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// NoticeStatus is where one notice stands. The strings are persisted and counted: never rename one.
//
//	queued ──► sent ──► mailed (letters: the batch went to the post)      ──► returned
//	   │         └────► (email: accepted by the mail server — done)
//	   │         └────► delivered (phone: a conversation within 72 hours)
//	   └──► failed (permanent failure, or a phone window that closed) ──► a letter is queued
type NoticeStatus string

const (
	NoticeQueued    NoticeStatus = "queued"    // created; waiting for its channel (queue, print batch, call list)
	NoticeSent      NoticeStatus = "sent"      // email accepted; letter printed in a batch; call placed
	NoticeMailed    NoticeStatus = "mailed"    // the letter's batch was marked mailed
	NoticeDelivered NoticeStatus = "delivered" // phone: an actual conversation happened
	NoticeFailed    NoticeStatus = "failed"    // permanent failure; a fallback letter replaces it
	NoticeReturned  NoticeStatus = "returned"  // the letter came back undelivered
)

// Delivered reports whether a notice in this channel and status has been given: an email the mail
// server accepted, a letter that was mailed (even if it later came back), a phone call with a
// conversation. A failed notice is not given; the letter that replaces it is counted on its own.
func Delivered(ch Method, st NoticeStatus) bool {
	switch ch {
	case MethodEmail:
		return st == NoticeSent
	case MethodLetter:
		return st == NoticeMailed || st == NoticeReturned
	case MethodPhone:
		return st == NoticeDelivered
	}
	return false
}

// NoticeStatuses lists every NoticeStatus.
var NoticeStatuses = []NoticeStatus{NoticeQueued, NoticeSent, NoticeMailed, NoticeDelivered, NoticeFailed, NoticeReturned}

// Notice is one individual notice to one addressee through one channel. A letter to the parent or
// guardian of several children of one household is one notice naming them all.
type Notice struct {
	ID           string   `json:"id"`
	BreachID     string   `json:"breach_id"`
	Channel      Method   `json:"channel"`
	RecipientIDs []string `json:"recipient_ids"` // the affected people it notifies
	// Addressee: who it goes to. For minors, the parent or guardian of record.
	AddresseeName string        `json:"addressee_name"`
	ToGuardian    bool          `json:"to_guardian"`
	Children      []string      `json:"children,omitempty"` // names of the minors a guardian letter covers
	Address       PostalAddress `json:"address,omitzero"`   // letters
	Email         string        `json:"email,omitempty"`    // email
	Phone         string        `json:"phone,omitempty"`    // phone
	Language      string        `json:"language"`

	Status   NoticeStatus `json:"status"`
	Attempts int          `json:"attempts"`
	// LastError is the last failure's reason (no personal information).
	LastError string `json:"last_error,omitempty"`
	// FallbackFor is the notice this letter replaces (a bounced email, a failed call).
	FallbackFor string `json:"fallback_for,omitempty"`
	// FallbackID is the letter that replaced this notice.
	FallbackID string `json:"fallback_id,omitempty"`
	// Substitute marks the email part of a substitute notice (LAW.md §5 (A)): an email to an
	// affected person whose individual notice goes by another channel. It is never replaced by a
	// letter — the individual notice is that person's letter or call.
	Substitute bool `json:"substitute,omitempty"`

	// Calls: the first attempt opens the 72-hour window (LAW.md §3).
	FirstAttemptAt time.Time `json:"first_attempt_at,omitzero"`
	CallWindowEnds time.Time `json:"call_window_ends,omitzero"`

	// Letters.
	BatchID string `json:"batch_id,omitempty"`
	// LetterSHA256 is the hash of what the printed letter says and where (its content, not the PDF
	// file's bytes, which differ between a batch and a lone reprint); a reprint must match it.
	LetterSHA256 string `json:"letter_sha256,omitempty"`
	MailedOn     Date   `json:"mailed_on,omitzero"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	SentAt    time.Time `json:"sent_at,omitzero"`

	// History is every change since the notice was created, oldest first: the same events the
	// breach's stream holds, kept on the notice so one notice's history is one read.
	History []NoticeEntry `json:"history,omitempty"`
}

// NoticeEntry is one change in a notice's history.
type NoticeEntry struct {
	Type    EventType      `json:"type"`
	Actor   string         `json:"actor"`
	Role    Role           `json:"role"`
	At      time.Time      `json:"at"`
	Summary string         `json:"summary"`
	Data    map[string]any `json:"data,omitempty"`
	// Private is the event's free text that may hold personal data (see Event.Private); the
	// notice record it is kept in is sealed.
	Private map[string]string `json:"private,omitempty"`
}

// DispatchReport is what a dispatch did. Created counts the notices it stored, by channel;
// Existing those it found already stored (a second dispatch finds them all).
type DispatchReport struct {
	Recipients  int            `json:"recipients"`
	Created     map[Method]int `json:"created"`
	Existing    int            `json:"existing"`
	Households  int            `json:"households"`  // guardian letters, each naming every child of one household
	Unreachable int            `json:"unreachable"` // no contact details: the substitute notice covers them
	// SubstituteEmails counts the emails of the substitute notice (also in Created["email"]).
	SubstituteEmails int `json:"substitute_emails"`
	Tasks            int `json:"tasks"` // batch tasks newly queued
}

// Event types of notices; persisted, never renamed.
const (
	EventDispatched      EventType = "plan.dispatched"  // the plan was approved and notices created
	EventNoticeQueued    EventType = "notice.queued"    // data: notice_id, channel
	EventNoticeSent      EventType = "notice.sent"      // data: notice_id, channel; email: smtp_final_reply, smtp_queue_id, message_id; phone: call_sid
	EventNoticeDelivered EventType = "notice.delivered" // data: notice_id (phone conversation)
	EventNoticeFailed    EventType = "notice.failed"    // data: notice_id, reason, permanent
	EventNoticeRetried   EventType = "notice.retried"   // data: notice_id, attempt, reason; or, for an email batch none of which was handed over: batch, count, reason, channel
	EventNoticeFallback  EventType = "notice.fallback"  // data: notice_id, fallback_id
	EventNoticeMailed    EventType = "notice.mailed"    // data: notice_id, batch_id, mailed_on
	EventNoticeReturned  EventType = "notice.returned"  // data: notice_id, reason
	EventNoticeBounced   EventType = "notice.bounced"   // data: notice_id, reason (an email bounced after it was accepted)
	// EventNoticePossiblyDuplicated: an email whose SMTP transaction was open when its worker
	// stopped is sent again (same Message-ID); the first copy may have been delivered too.
	// data: notice_id, channel, attempt
	EventNoticePossiblyDuplicated EventType = "notice.possibly_duplicated"
	EventCallAttempt              EventType = "call.attempt" // data: notice_id, outcome, by (clerk or twilio); from Twilio also call_sid, call_status, answered_by, duration_seconds
	// EventCallStatus: one signed status callback of a call placed through Twilio, as it came.
	// data: notice_id, call_sid, call_status, sequence, and when given answered_by,
	// duration_seconds, error_code, sip_response_code, provider_timestamp
	EventCallStatus       EventType = "call.status"
	EventPrintBatch       EventType = "print_batch.created"
	EventPrintBatchMailed EventType = "print_batch.mailed"
)

// NoticeFilter selects notices to list.
type NoticeFilter struct {
	Status  NoticeStatus // empty: any
	Channel Method       // empty: any
	Cursor  string
	Limit   int
}

// NoticeCounts counts a breach's notices by channel and status; kept up to date as notices
// change, so reading it is O(1) at any size.
type NoticeCounts map[Method]map[NoticeStatus]int

// NoticeStore keeps notices and their counters. Every change of a notice appends an event to the
// breach's stream in the same transaction.
//
// Methods return ENOTFOUND for an unknown breach or notice, EUNAVAILABLE when Redis cannot be
// reached, ECONFLICT when a concurrent change could not be applied.
type NoticeStore interface {
	// CreateNotices stores notices whose IDs are not stored yet (IDs are deterministic, so a second
	// dispatch creates nothing twice), counts them, and records one notice.queued event per channel
	// listing the new ones. It returns how many were new.
	CreateNotices(ctx context.Context, breachID string, ns []Notice, actor Actor) (int, error)
	Notice(ctx context.Context, id string) (*Notice, error)
	Notices(ctx context.Context, breachID string, f NoticeFilter) ([]Notice, string, error)
	// UpdateNotice loads the notice, calls fn, and stores the result, the counters and the events
	// fn returns, atomically (retrying fn on a concurrent change). fn returning an error stores
	// nothing.
	UpdateNotice(ctx context.Context, id string, fn func(n *Notice) ([]Event, error)) (*Notice, error)
	// NoticeCounts counts the breach's notices by channel and status, and says when its latest
	// notice was given (see Delivered; zero when none has been): in O(1), whether every notice
	// went out by the deadline.
	NoticeCounts(ctx context.Context, breachID string) (NoticeCounts, time.Time, error)
	// NoticeCountsByDay is NoticeCounts read together with how many notices became given on each
	// day (GivenOnDay, oldest first, only days with a change), from counters kept with the same
	// writes: the days add up to the counts' given notices. O(days).
	NoticeCountsByDay(ctx context.Context, breachID string) (NoticeCounts, time.Time, []GivenOnDay, error)
}

// GivenOnDay is how many notices became given (Delivered) on one day, less those that stopped
// counting that day (an email later refused). The day is the UTC calendar day of the delivery:
// a letter counts on the day it went to the post.
type GivenOnDay struct {
	Day   Date `json:"date"`
	Given int  `json:"given"`
}

// MaxPrintBatch is how many letters a print batch takes at most, and by default.
const MaxPrintBatch = 1000

// PrintBatch is a set of letters printed together, sorted by ZIP code.
type PrintBatch struct {
	ID        string    `json:"id"`
	BreachID  string    `json:"breach_id"`
	Number    int       `json:"number"` // 1, 2, … within the breach
	NoticeIDs []string  `json:"notice_ids"`
	Pages     int       `json:"pages"`
	SHA256    string    `json:"sha256"` // of the batch PDF
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	MailedOn  Date      `json:"mailed_on,omitzero"`
	MailedBy  string    `json:"mailed_by,omitempty"`
}

// PrintResult is what printing a batch produced.
type PrintResult struct {
	Pages  int    // pages in the batch PDF, cover sheet included
	SHA256 string // of the batch PDF
	// Letters maps each printed notice to the SHA-256 of its letter, so a reprint can be proven
	// identical; Rejected maps each notice that could not be printed to why (e.g. a name the font
	// cannot draw). A rejected notice is never silently dropped.
	Letters  map[string]string
	Rejected map[string]string
}

// LetterPrinter renders the letters of a breach (the adapter is package letters).
type LetterPrinter interface {
	// PrintBatch writes one print batch: the PDF (cover sheet, then the letters sorted by ZIP
	// code) to w and the manifest CSV to manifest.
	PrintBatch(ctx context.Context, w, manifest io.Writer, b *Breach, batch PrintBatch, notices []Notice) (PrintResult, error)
	// PrintLetter writes one notice's letter alone and returns its SHA-256: the same notice, breach
	// and date give the same letter.
	PrintLetter(ctx context.Context, w io.Writer, b *Breach, n Notice, date Date) (string, error)
}

// Composer writes the text of electronic and telephone notices, with every element LAW.md §4
// requires, in the notice's language (English when there is no template for it).
type Composer interface {
	Email(b *Breach, n Notice) (EmailMessage, error)
	CallScript(b *Breach, n Notice) (CallScript, error)
}

// NoticePart names one of the five things every notice must say (LAW.md §4). The letters are
// persisted in call attempts and sent by clerks: never rename one.
type NoticePart string

const (
	PartDescription NoticePart = "A" // a general description of the breach
	PartInformation NoticePart = "B" // the type of personal information that may have been accessed
	PartMeasures    NoticePart = "C" // the measures taken to stop further breaches
	PartAssistance  NoticePart = "D" // a telephone number for assistance or more information
	PartVigilance   NoticePart = "E" // a reminder to be vigilant and monitor for fraud
)

// NoticeParts lists every NoticePart, in the order a notice says them.
var NoticeParts = []NoticePart{PartDescription, PartInformation, PartMeasures, PartAssistance, PartVigilance}

// ScriptPart is one of the five required parts of a call script, as it is read.
type ScriptPart struct {
	Part  NoticePart `json:"part"`
	Title string     `json:"title"` // the heading a letter gives it, in the script's language
	Text  string     `json:"text"`  // what is read
}

// CallScript is what a telephone notice says, in the language it is written in: the greeting (who
// calls, for whom, and why), the five required parts A to E in order, the closing, and Text, the
// whole script as read (what a voice reads; what a clerk can read from top to bottom).
type CallScript struct {
	Language string       `json:"language"` // the template's language ("en", "es"), not necessarily the notice's
	Greeting string       `json:"greeting"`
	Parts    []ScriptPart `json:"parts"`
	Closing  string       `json:"closing"`
	Text     string       `json:"text"`
}

// CheckPartsDelivered checks what a clerk confirms was said in a call. A conversation is notice
// only when all five parts (LAW.md §4) were said, so it must list each of them once, in any order;
// any other outcome delivered nothing and must list none. The error is EINVALID naming
// parts_delivered and, for a conversation, the parts missing.
func CheckPartsDelivered(outcome CallOutcome, parts []NoticePart) error {
	bad := func(reason string) error {
		return InvalidFields([]FieldError{{Field: "parts_delivered", Reason: reason}})
	}
	if outcome != CallConversation {
		if len(parts) > 0 {
			return bad(fmt.Sprintf("is only for a conversation: a %s call gave no notice", strings.ReplaceAll(string(outcome), "_", " ")))
		}
		return nil
	}
	seen := make(map[NoticePart]bool, len(parts))
	for _, p := range parts {
		switch {
		case !slices.Contains(NoticeParts, p):
			return bad(fmt.Sprintf("%q is not a part of the notice (A to E)", string(p)))
		case seen[p]:
			return bad(fmt.Sprintf("lists %s twice", p))
		}
		seen[p] = true
	}
	var missing []string
	for _, p := range NoticeParts {
		if !seen[p] {
			missing = append(missing, string(p))
		}
	}
	switch {
	case len(parts) == 0:
		return bad("is required for a conversation: confirm that all five parts of the script (A, B, C, D, E) were said")
	case len(missing) > 0:
		return bad(fmt.Sprintf("lacks %s: a conversation is notice only once all five parts (A to E) were said; "+
			"finish the script, or record the call with another outcome", strings.Join(missing, ", ")))
	}
	return nil
}

// DeadLetter is a queued task that failed every retry, kept for an operator.
type DeadLetter struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	BreachID  string    `json:"breach_id"`
	NoticeIDs []string  `json:"notice_ids"`
	Retried   int       `json:"retried"`
	LastError string    `json:"last_error"` // never personal information
	FailedAt  time.Time `json:"failed_at"`
}
