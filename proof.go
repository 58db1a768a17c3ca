package breach

import "time"

// NotRecorded is what a proof says for evidence breachd does not keep (yet).
const NotRecorded = "not recorded"

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
