package breach

import "time"

// NotRecorded is what a proof says for evidence breachd does not keep (yet).
const NotRecorded = "not recorded"

// Evidence keys: what a provider said about an attempt, recorded in the Data of the attempt's
// event and shown under these names in a ProofItem's Evidence. The strings are persisted.
const (
	// EvidenceSMTPReply is the mail server's final reply to the message (to the end of DATA), as it
	// came: "250 2.0.0 Ok: queued as 4B7C21". On notice.sent (email).
	EvidenceSMTPReply = "smtp_final_reply"
	// EvidenceSMTPQueueID is the server's queue ID, parsed from the reply when it carries one in a
	// known form (Postfix "queued as", Exim "id=", "<id>"); absent otherwise.
	EvidenceSMTPQueueID = "smtp_queue_id"
	// EvidenceMessageID is the Message-ID header of the message sent, without angle brackets.
	EvidenceMessageID = "message_id"
	// EvidenceWrittenTo is "outbox" on the notice.sent of an email written as an .eml file to the
	// outbox directory instead of being handed to a mail server.
	EvidenceWrittenTo = "written_to"
	// EvidenceCallSID is Twilio's call SID ("CA…"): on notice.sent (phone), call.status and
	// Twilio's call.attempt.
	EvidenceCallSID = "call_sid"
	// EvidenceCallStatus is Twilio's CallStatus of a status callback (ringing, in-progress,
	// completed, …).
	EvidenceCallStatus = "call_status"
	// EvidenceAnsweredBy is Twilio's AnsweredBy (human, machine_end_beep, …), when it gave one.
	EvidenceAnsweredBy = "answered_by"
	// EvidenceDuration is Twilio's CallDuration, in seconds.
	EvidenceDuration = "duration_seconds"
	// EvidenceSequence is Twilio's SequenceNumber of a status callback.
	EvidenceSequence = "sequence"
	// EvidenceProviderTime is when Twilio produced a status callback (its Timestamp), RFC 3339.
	EvidenceProviderTime = "provider_timestamp"
	// EvidenceStatusCallbacks, on Twilio's call.attempt in a proof, lists the call's status
	// callbacks (each its own call.status item) with their chain positions.
	EvidenceStatusCallbacks = "status_callbacks"
)

// NoticeProof is the proof of one notice to one addressee (GET /v1/notices/{nid}/proof): who, by
// what contact from which upload row, why that channel (rule pack and citation), the deadline,
// every event about the notice in order with the evidence recorded and its hash in the breach's
// chain, the fallback chain and the final disposition. The evidence bundle writes one per notice.
type NoticeProof struct {
	NoticeID    string       `json:"notice_id"`
	BreachID    string       `json:"breach_id"`
	GeneratedAt time.Time    `json:"generated_at"`
	Channel     Method       `json:"channel"`
	Status      NoticeStatus `json:"status"`
	Language    string       `json:"language"`
	Substitute  bool         `json:"substitute"`

	Who     ProofWho     `json:"who"`
	Contact ProofContact `json:"contact"`
	Route   ProofRoute   `json:"route"`
	// Deadline is the plan's deadline today; zero (null) when none applies or a hold is open.
	Deadline         Date   `json:"deadline"`
	DeadlineCitation string `json:"deadline_citation,omitempty"`

	Items       []ProofItem      `json:"items"`
	Fallback    ProofFallback    `json:"fallback"`
	Disposition ProofDisposition `json:"disposition"`
	// ChainHead is the hash of the last chained event about the notice: every later entry of the
	// breach's chain builds on it, so a checkpoint after it pins every item. Verify the chain
	// (GET /v1/breaches/{id}/events/verify, or an export offline) to trust the hashes.
	ChainHead string `json:"chain_head"`
}

// ProofWho is who the notice went to and the affected people it notifies.
type ProofWho struct {
	Addressee  string        `json:"addressee"`
	ToGuardian bool          `json:"to_guardian"`
	Children   []string      `json:"children,omitempty"`
	People     []ProofPerson `json:"people"`
}

// ProofPerson is one affected person the notice covers and where their record came from.
type ProofPerson struct {
	RecipientID string `json:"recipient_id"`
	ExternalID  string `json:"external_id"`
	Name        string `json:"name"`
	// Row is the row of the upload the record came from (1 = first data row); Upload names the
	// upload (NotRecorded: breachd keeps the row, not which of several uploads it was in).
	Row    int    `json:"row"`
	Upload string `json:"upload"`
}

// ProofContact is the contact the notice used and its source.
type ProofContact struct {
	Kind   string `json:"kind"` // postal_address, email or phone
	Value  string `json:"value"`
	Source string `json:"source"` // the upload column(s) it came from
}

// ProofRoute is why the notice went by its channel.
type ProofRoute struct {
	RulePack  RulePack `json:"rule_pack"`
	Codes     []string `json:"codes"` // rules.ChooseRoute's reason codes
	Condition string   `json:"condition"`
	Citation  string   `json:"citation"`
}

// ProofItem is one event about the notice, with the evidence recorded in it.
type ProofItem struct {
	Type    EventType `json:"type"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Role    Role      `json:"role"`
	Summary string    `json:"summary"`
	// Evidence is what the event recorded (provider IDs, SMTP status, call outcome, parts said,
	// batch, mailed date); NotRecorded lists the evidence the law or an auditor would want that
	// breachd did not record for it.
	Evidence    map[string]string `json:"evidence"`
	NotRecorded []string          `json:"not_recorded,omitempty"`
	// EventID, ChainPosition and EventHash place the event in the breach's chain; a position of 0
	// means the event the notice's history holds is not in the chained stream (deleted).
	EventID       string `json:"event_id"`
	ChainPosition int    `json:"chain_position"`
	EventHash     string `json:"event_hash"`
}

// ProofFallback links the notice to the one it replaces and the letter that replaced it.
type ProofFallback struct {
	FallbackFor string `json:"fallback_for,omitempty"`
	FallbackID  string `json:"fallback_id,omitempty"`
}

// ProofDisposition is the final word: was notice given by this notice, how and when.
type ProofDisposition struct {
	Given bool       `json:"given"`
	How   string     `json:"how"`
	At    *time.Time `json:"at,omitempty"`
	Text  string     `json:"text"`
}
