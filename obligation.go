package breach

import (
	"context"
	"io"
	"time"
)

// ObligationID names one legal duty a breach's plan creates. The strings are persisted and part of
// the contract: never rename one.
type ObligationID string

const (
	// Individual notice, one item per channel (LAW.md §3).
	ObligationNoticeLetter ObligationID = "individual_notice.letter"
	ObligationNoticeEmail  ObligationID = "individual_notice.email"
	ObligationNoticePhone  ObligationID = "individual_notice.phone"
	// Substitute notice, its three parts (LAW.md §5).
	ObligationSubstituteEmail   ObligationID = "substitute.email"
	ObligationSubstituteWebsite ObligationID = "substitute.website_posting"
	ObligationSubstituteMedia   ObligationID = "substitute.major_media"
	// Agencies (LAW.md §6).
	ObligationEquifax            ObligationID = "agency.equifax"
	ObligationExperian           ObligationID = "agency.experian"
	ObligationTransUnion         ObligationID = "agency.transunion"
	ObligationAttorneyGeneral    ObligationID = "agency.attorney_general"
	ObligationOfficeOfTechnology ObligationID = "agency.office_of_technology"
	// FERPA: the disclosure is entered in each student's record of disclosures (34 CFR 99.32).
	ObligationFERPARecord ObligationID = "ferpa.disclosure_record"
)

// ObligationIDs lists every ObligationID in the order the ledger shows them.
var ObligationIDs = []ObligationID{ObligationNoticeLetter, ObligationNoticeEmail, ObligationNoticePhone,
	ObligationSubstituteEmail, ObligationSubstituteWebsite, ObligationSubstituteMedia,
	ObligationEquifax, ObligationExperian, ObligationTransUnion, ObligationAttorneyGeneral,
	ObligationOfficeOfTechnology, ObligationFERPARecord}

// ObligationStatus is where one duty stands. Persisted: never rename one.
type ObligationStatus string

const (
	ObligationOpen        ObligationStatus = "open"         // owed and not yet done
	ObligationDone        ObligationStatus = "done"         // done, with its evidence
	ObligationWaived      ObligationStatus = "waived"       // an administrator recorded why it is not done
	ObligationNotRequired ObligationStatus = "not_required" // the plan does not create this duty
)

// ObligationEvidence is what shows a duty was done: the document sent (its SHA-256), where the
// notice was posted, the person's note, and for individual notices the counts. The event that
// recorded it is in the breach's trail at RecordedAt.
type ObligationEvidence struct {
	DocumentSHA256 string `json:"document_sha256,omitempty"`
	URL            string `json:"url,omitempty"`
	// Notices is the progress of the channel's notices (individual and substitute email items).
	Notices *ChannelProgress `json:"notices,omitempty"`
	Note    string           `json:"note,omitempty"`
}

// Obligation is one tracked duty of a breach: what the law asks, by when, and where it stands. It
// is derived whenever it is read (rules.Obligations) from the plan, the breach's records and the
// notice counters, so no document can disagree with another.
type Obligation struct {
	ID       ObligationID     `json:"id"`
	Title    string           `json:"title"`
	Citation string           `json:"citation"`
	Due      Date             `json:"due,omitzero"`
	DueRule  string           `json:"due_rule,omitempty"` // e.g. "2 business days after discovery"
	Overdue  bool             `json:"overdue"`
	Status   ObligationStatus `json:"status"`
	// Reason says in plain words why the item has its status.
	Reason     string             `json:"reason"`
	RecordedBy string             `json:"recorded_by,omitempty"`
	RecordedAt time.Time          `json:"recorded_at,omitzero"`
	Evidence   ObligationEvidence `json:"evidence"`
	// Waiver is the administrator's reason when the item is waived.
	Waiver string `json:"waiver,omitempty"`
}

// ObligationRecord is what a person recorded about one duty: done by hand (a duty with no other
// evidence, such as the FERPA record), waived with a reason, or reopened as a correction. Records
// are appended, never rewritten; the latest one for an item is in force.
type ObligationRecord struct {
	Obligation ObligationID     `json:"obligation"`
	Status     ObligationStatus `json:"status"` // done, waived, or open (a correction)
	Reason     string           `json:"reason,omitempty"`
	Evidence   string           `json:"evidence,omitempty"` // the person's note of the evidence
	By         string           `json:"by"`
	At         time.Time        `json:"at"`
	// AtClose is true for the waivers given with the close request ("closed with duties open").
	AtClose bool `json:"at_close,omitempty"`
}

// UploadCompletion records that an administrator declared the list of affected people complete:
// from then on the people uploaded, not the determination's estimates, govern every threshold.
type UploadCompletion struct {
	At         time.Time `json:"at"`
	By         string    `json:"by"`
	Recipients int       `json:"recipients"` // how many people had been uploaded when it was declared
}

// ChannelProgress counts one channel's notices. Given means delivered, mailed or spoken
// (see Delivered) — never merely printed; Failed notices were replaced by a letter, counted in
// the letter channel; Outstanding is everything else.
type ChannelProgress struct {
	Total       int `json:"total"`
	Given       int `json:"given"`
	Outstanding int `json:"outstanding"`
	Failed      int `json:"failed"`
}

// NoticeProgress is the one count of a breach's notices that every document and endpoint prints.
type NoticeProgress struct {
	ByChannel map[Method]ChannelProgress `json:"by_channel"`
	ChannelProgress
	// LastGiven is when the latest notice was given (zero when none has been).
	LastGiven time.Time `json:"last_given,omitzero"`
}

// Progress counts the notices by what has been given. It is the only place that does.
func (c NoticeCounts) Progress(lastGiven time.Time) NoticeProgress {
	p := NoticeProgress{ByChannel: map[Method]ChannelProgress{}, LastGiven: lastGiven}
	for ch, byStatus := range c {
		var cp ChannelProgress
		for st, n := range byStatus {
			cp.Total += n
			switch {
			case Delivered(ch, st):
				cp.Given += n
			case st == NoticeFailed:
				cp.Failed += n
			default:
				cp.Outstanding += n
			}
		}
		if cp.Total == 0 {
			continue
		}
		p.ByChannel[ch] = cp
		p.Total += cp.Total
		p.Given += cp.Given
		p.Outstanding += cp.Outstanding
		p.Failed += cp.Failed
	}
	return p
}

// OpenDuties is what a refused close reports: every open obligation and the notices not yet given.
type OpenDuties struct {
	Obligations     []Obligation `json:"open_obligations"`
	NoticesNotGiven int          `json:"notices_not_given"`
}

// CaseDocument is what an agency document (a consumer reporting agency's letter, the Attorney
// General's notice, the Office of Technology report) is written from: the same plan, counts and
// obligations every endpoint shows.
type CaseDocument struct {
	Breach      *Breach
	Plan        Plan
	Recipients  RecipientCounts
	Progress    NoticeProgress
	Obligations []Obligation
	Date        Date
}

// AgencyDocuments renders the documents sent to agencies (package letters).
type AgencyDocuments interface {
	// AgencyDocument writes the document for one agency: a consumer reporting agency's letter, the
	// Attorney General's notice or the Office of Technology report. It returns EINVALID for an
	// unknown agency.
	AgencyDocument(ctx context.Context, w io.Writer, agency Agency, c CaseDocument) error
}
