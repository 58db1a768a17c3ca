package breach

import (
	"context"
	"io"
	"time"
)

// MediaOutlet is a newspaper, station or site the substitute notice is given to, with the audience
// it reaches (readers, viewers or listeners), as the school records it.
type MediaOutlet struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`     // newspaper, television, radio, online
	Audience   int    `json:"audience"` // cumulative readership, viewing or listening audience
	Local      bool   `json:"local"`    // serves where the affected people live (IC 24-4.9-3-4(b))
	NotifiedOn Date   `json:"notified_on,omitzero"`
}

// WebsitePosting records the conspicuous posting of the substitute notice on the school's site.
type WebsitePosting struct {
	URL         string    `json:"url,omitempty"`
	PostedAt    time.Time `json:"posted_at,omitzero"`
	PostedBy    string    `json:"posted_by,omitempty"`
	TakenDownAt time.Time `json:"taken_down_at,omitzero"`
	TakenDownBy string    `json:"taken_down_by,omitempty"`
}

// SubstituteRecord is what the school did for the substitute notice (LAW.md §5).
type SubstituteRecord struct {
	Website WebsitePosting `json:"website"`
	Outlets []MediaOutlet  `json:"outlets"`
}

// Agency is a body owed a notice of the breach rather than the people affected.
type Agency string

const (
	AgencyEquifax    Agency = "equifax"
	AgencyExperian   Agency = "experian"
	AgencyTransUnion Agency = "transunion"
	// The Indiana Attorney General (IC 24-4.9-3-1(c)) and the Indiana Office of Technology
	// (IC 4-13.1-2-9) are told too; their documents are recorded as sent the same way.
	AgencyAttorneyGeneral    Agency = "attorney_general"
	AgencyOfficeOfTechnology Agency = "office_of_technology"
)

// Agencies lists every agency a notice may be recorded for, in the order the ledger shows them.
var Agencies = []Agency{AgencyEquifax, AgencyExperian, AgencyTransUnion, AgencyAttorneyGeneral, AgencyOfficeOfTechnology}

// ConsumerReportingAgencies are the three nationwide agencies told when more than 1,000 Indiana
// residents are affected (IC 24-4.9-3-1(b)).
var ConsumerReportingAgencies = []Agency{AgencyEquifax, AgencyExperian, AgencyTransUnion}

// AgencyNoticeRecord records one agency's notice: when it was sent, by whom, and the SHA-256 of the
// document as it was when recorded (the evidence of what was sent).
type AgencyNoticeRecord struct {
	Agency         Agency    `json:"agency"`
	DocumentSHA256 string    `json:"document_sha256,omitempty"`
	SentOn         Date      `json:"sent_on,omitzero"`
	SentBy         string    `json:"sent_by,omitempty"`
	SentAt         time.Time `json:"sent_at,omitzero"`
}

// Outcome closes a breach: the outcome report the seed policies ask for.
type Outcome struct {
	Summary        string    `json:"summary"` // what happened and what was done, in the administrator's words
	LessonsLearned string    `json:"lessons_learned,omitempty"`
	ClosedAt       time.Time `json:"closed_at"`
	ClosedBy       string    `json:"closed_by"`
}

// ClosureReport is everything the closure (outcome) report prints: the record an auditor files.
type ClosureReport struct {
	Breach      *Breach
	Plan        Plan
	Recipients  RecipientCounts
	Notices     NoticeCounts
	DeadlineMet *bool // nil while the deadline is open or there is none
	Substitute  SubstituteRecord
	Agencies    []AgencyNoticeRecord
	// Events are the events the timeline lists, oldest first: the breach-level ones (see
	// Event.NoticeLevel). NoticeEvents counts the notice-level events by type, which the timeline
	// summarises: a big breach has millions, and each is in the event log (the chain export and
	// the evidence bundle).
	Events       []Event
	NoticeEvents map[EventType]int
	Outcome      *Outcome
	// Progress is the same count of notices the status endpoint shows; Obligations the ledger
	// (rules.Obligations) as of GeneratedAt, waivers included.
	Progress    NoticeProgress
	Obligations []Obligation
	GeneratedAt time.Time
}

// Documents renders the documents other than individual notices (package letters): the agency
// documents and the substitute notice, and the closure report.
type Documents interface {
	AgencyDocuments
	// WebsiteNotice writes the substitute notice to post on the school's web site in the language
	// lang ("en", "es"), as HTML and as plain text. A language b's notices cannot be written in
	// whole (see Determination.HasNoticeText) is EINVALID naming "lang".
	WebsiteNotice(b *Breach, lang string, html bool) (string, error)
	// MediaNotice writes the substitute notice for the media (a press release) as a PDF in the
	// language lang, with the same error as WebsiteNotice.
	MediaNotice(ctx context.Context, w io.Writer, b *Breach, lang string, date Date) error
	// ClosureReport writes the closure (outcome) report as a PDF.
	ClosureReport(ctx context.Context, w io.Writer, r ClosureReport) error
}
