// Package breach is the vocabulary of breachd, a breach-notification dispatch service: the breach and
// its determination, the law-enforcement holds, the plan the law engine produces, the audit events,
// the error codes, and the small interfaces that the adapters (Redis, SMTP, Twilio, PDF) implement.
//
// It imports only the standard library. The law itself lives in package rules; the HTTP layer in
// package api; the Redis store and queue in package jobs; cmd/breachd wires them together.
package breach

import (
	"context"
	"slices"
	"strings"
	"time"
)

// DataElement is one kind of data exposed in a breach.
type DataElement string

// The data elements a determination may list. Which of them are "personal information" is the law's
// business (package rules), not this list's.
const (
	ElementSSN              DataElement = "ssn"
	ElementDriversLicense   DataElement = "drivers_license"
	ElementStateID          DataElement = "state_id"
	ElementFinancialAccount DataElement = "financial_account"
	ElementCreditCard       DataElement = "credit_card"
	ElementDebitCard        DataElement = "debit_card"
	ElementSecurityCode     DataElement = "security_code"
	ElementName             DataElement = "name"
	ElementDateOfBirth      DataElement = "date_of_birth"
	ElementStudentID        DataElement = "student_id"
	ElementMedical          DataElement = "medical"
	ElementOther            DataElement = "other"
)

// DataElements lists every valid DataElement.
var DataElements = []DataElement{ElementSSN, ElementDriversLicense, ElementStateID,
	ElementFinancialAccount, ElementCreditCard, ElementDebitCard, ElementSecurityCode, ElementName,
	ElementDateOfBirth, ElementStudentID, ElementMedical, ElementOther}

// RiskOfHarm is the administrator's finding after a reasonable review of all the facts.
type RiskOfHarm string

const (
	RiskLikely       RiskOfHarm = "likely"
	RiskUnlikely     RiskOfHarm = "unlikely"
	RiskUndetermined RiskOfHarm = "undetermined"
)

// Category is the incident category of the seed policies' incident record.
type Category string

const (
	CategoryData               Category = "data"
	CategoryInfrastructure     Category = "infrastructure"
	CategoryUnauthorizedAccess Category = "unauthorized_access"
	CategoryPhysical           Category = "physical"
	CategoryOther              Category = "other"
)

// Severity is the incident severity; major and critical go to the governance board.
type Severity string

const (
	SeverityMinor    Severity = "minor"
	SeverityMajor    Severity = "major"
	SeverityCritical Severity = "critical"
)

// Reporter is who reported the incident. When Anonymous is set the reporter asked for anonymity:
// the identity is kept for the administrator only.
type Reporter struct {
	Name      string `json:"name,omitempty"`
	Role      string `json:"role,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Anonymous bool   `json:"anonymous"`
}

// Determination is what the administrator has found about a breach: the facts the law engine
// decides on, and the incident record the seed policies ask for.
type Determination struct {
	Jurisdiction string        `json:"jurisdiction"` // rule pack selector; default "IN"
	TimeZone     string        `json:"time_zone"`    // IANA zone for calendar dates; default DefaultTimeZone
	Title        string        `json:"title"`
	DiscoveredOn Date          `json:"discovered_on"`
	OccurredOn   Date          `json:"occurred_on,omitzero"` // zero when unknown
	Description  string        `json:"description,omitempty"`
	DataElements []DataElement `json:"data_elements"`

	Encrypted      bool `json:"encrypted"`
	Redacted       bool `json:"redacted"`
	KeyCompromised bool `json:"key_compromised"`

	RiskOfHarm    RiskOfHarm `json:"risk_of_harm"` // default undetermined
	RiskRationale string     `json:"risk_rationale,omitempty"`

	AffectedCount int `json:"affected_count"`
	// IndianaResidents is nil when the administrator does not know; the law engine then assumes
	// every affected person may be a resident (more notice is never unlawful) and says so.
	IndianaResidents   *int   `json:"indiana_residents,omitempty"`
	NoticeCostEstimate *Money `json:"notice_cost_estimate,omitempty"` // nil when not estimated
	// ContactInfoSufficient is false when the school lacks usable contact details for some
	// affected people. Default true.
	ContactInfoSufficient bool `json:"contact_info_sufficient"`

	Remediation     string `json:"remediation,omitempty"`
	AssistancePhone string `json:"assistance_phone,omitempty"`
	// MediaContact is who the press calls about the breach (a name and a telephone number), as
	// the press release prints it; empty, the release names the signatory and the office phone.
	MediaContact string `json:"media_contact,omitempty"`
	// Translations holds the breach-specific text of the notices in languages other than English,
	// by BCP 47 tag ("es", "es-MX", "vi"); Description, Remediation and MediaContact are the
	// English text, which every notice in English prints. A person's language (two letters)
	// matches a translation by its primary subtag (see TranslationFor).
	Translations map[string]Translation `json:"translations,omitempty"`

	Reporter        Reporter `json:"reporter"`
	Category        Category `json:"category,omitempty"`
	Severity        Severity `json:"severity,omitempty"`
	SystemsAffected []string `json:"systems_affected,omitempty"`
	ActionsTaken    string   `json:"actions_taken,omitempty"`
}

// Translation is the breach-specific text of the notices in one language other than English: (A)
// the description, (C) the measures taken, and the media contact of the press release.
type Translation struct {
	Description  string `json:"description"`
	Remediation  string `json:"remediation"`
	MediaContact string `json:"media_contact,omitempty"` // empty: the English media contact
}

// NoticeLanguages are the languages breachd has full notice templates for (the headings and every
// fixed sentence of the letters, emails, call scripts, web-site notice and press release). A person
// whose language is not listed can only be given an English notice, and the plan asks for a
// recorded English fallback first. Package letters holds exactly these templates (its tests check).
var NoticeLanguages = []string{"en", "es"}

// PrimaryLanguage returns the primary language subtag of a BCP 47 tag, lower case: "es-MX" → "es".
func PrimaryLanguage(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

// TranslationFor returns the translation a person whose language is lang reads: the first by tag
// of those with lang's primary subtag — so the bare tag ("es") before any regional one, and
// "es-MX" before "es-US" — and never one that depends on map order. English has none.
func (d Determination) TranslationFor(lang string) (Translation, bool) {
	primary := PrimaryLanguage(lang)
	if primary == "" || primary == "en" {
		return Translation{}, false
	}
	best := ""
	for tag := range d.Translations {
		if PrimaryLanguage(tag) == primary && (best == "" || tag < best) {
			best = tag
		}
	}
	if best == "" {
		return Translation{}, false
	}
	return d.Translations[best], true
}

// HasNoticeText reports whether a whole notice can be written in lang (a primary subtag): English
// always; another language when it has a template (NoticeLanguages) and the determination has its
// text. A notice is never written half in one language and half in another.
func (d Determination) HasNoticeText(lang string) bool {
	lang = PrimaryLanguage(lang)
	if lang == "en" {
		return true
	}
	if !slices.Contains(NoticeLanguages, lang) {
		return false
	}
	_, ok := d.TranslationFor(lang)
	return ok
}

// NoticeTextLanguages lists the languages, of NoticeLanguages, that a whole notice can be written
// in for this determination (see HasNoticeText): English first.
func (d Determination) NoticeTextLanguages() []string {
	var out []string
	for _, l := range NoticeLanguages {
		if d.HasNoticeText(l) {
			out = append(out, l)
		}
	}
	return out
}

// languageNames are the English names of the languages schools' uploads most often carry.
var languageNames = map[string]string{
	"am": "Amharic", "ar": "Arabic", "bn": "Bengali", "de": "German", "en": "English", "es": "Spanish",
	"fa": "Persian", "fr": "French", "hi": "Hindi", "ht": "Haitian Creole", "it": "Italian", "ja": "Japanese",
	"ko": "Korean", "my": "Burmese", "ne": "Nepali", "pa": "Punjabi", "pl": "Polish", "ps": "Pashto",
	"pt": "Portuguese", "ru": "Russian", "so": "Somali", "sw": "Swahili", "tl": "Tagalog", "uk": "Ukrainian",
	"ur": "Urdu", "vi": "Vietnamese", "zh": "Chinese",
}

// LanguageLabel names a language for a sentence: "Spanish (es)", or the bare code when breachd
// does not know its name.
func LanguageLabel(code string) string {
	if name, ok := languageNames[code]; ok {
		return name + " (" + code + ")"
	}
	return code
}

// LanguageName is a language's English name ("Spanish"), or its code when breachd does not know it.
func LanguageName(code string) string {
	if name, ok := languageNames[code]; ok {
		return name
	}
	return code
}

// Location returns the time zone the determination's calendar dates are read in.
func (d Determination) Location() *time.Location {
	name := d.TimeZone
	if name == "" {
		name = DefaultTimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		// Validate rejects unknown zones, so this only happens for records written by hand.
		return time.UTC
	}
	return loc
}

// Hold is a law-enforcement request to delay notice: while it is open nothing is sent.
type Hold struct {
	ID        string `json:"id"`
	Agency    string `json:"agency"`
	Contact   string `json:"contact,omitempty"` // officer and how to reach them
	Reason    string `json:"reason,omitempty"`
	InWriting bool   `json:"in_writing"` // the request to delay was documented in writing
	StartDate Date   `json:"start_date"`
	EndDate   Date   `json:"end_date,omitzero"` // zero while the hold is open

	PlacedBy   string    `json:"placed_by,omitempty"`
	PlacedAt   time.Time `json:"placed_at,omitzero"`
	ReleasedBy string    `json:"released_by,omitempty"`
	ReleasedAt time.Time `json:"released_at,omitzero"`
}

// Open reports whether the hold has not been released.
func (h Hold) Open() bool { return h.EndDate.IsZero() }

// Status is where a breach stands in its life.
type Status string

const (
	StatusOpen       Status = "open"       // recorded; the plan is being worked
	StatusHeld       Status = "held"       // a law-enforcement hold is open: nothing goes out
	StatusDispatched Status = "dispatched" // the plan was approved and notices are going out
	StatusClosed     Status = "closed"     // closed with an outcome report
)

// Statuses lists every valid Status.
var Statuses = []Status{StatusOpen, StatusHeld, StatusDispatched, StatusClosed}

// Breach is the record of one incident from report to closure.
type Breach struct {
	ID            string        `json:"id"`
	Status        Status        `json:"status"`
	Determination Determination `json:"determination"`
	// DeterminationVersion counts revisions: 1 when created, +1 on each revision. Earlier
	// versions are kept (see BreachStore.DeterminationVersions).
	DeterminationVersion int    `json:"determination_version"`
	Holds                []Hold `json:"holds"`
	// Substitute is what the school did for the substitute notice (website, media).
	Substitute SubstituteRecord `json:"substitute"`
	// AgencyNotices records the notices sent to the agencies (the consumer reporting agencies, the
	// Attorney General, the Office of Technology).
	AgencyNotices []AgencyNoticeRecord `json:"agency_notices"`
	// Obligations is what people recorded about the duties (done by hand, waived, reopened),
	// oldest first; the ledger itself is derived (rules.Obligations).
	Obligations []ObligationRecord `json:"obligations,omitempty"`
	// RecipientsComplete is set when an administrator declared the list of affected people complete.
	RecipientsComplete *UploadCompletion `json:"recipients_complete,omitempty"`
	// EnglishFallbacks records, per language, that the people who need it get the English notice
	// (the determination has no text in their language, or breachd no template for it), oldest
	// first. Each is recorded once and never changed.
	EnglishFallbacks []EnglishFallback `json:"english_fallbacks,omitempty"`
	// Outcome is set when the breach is closed.
	Outcome *Outcome `json:"outcome,omitempty"`
	// Purged is set when the personal data of the people it notified was removed after the
	// retention period (see Purge).
	Purged    *Purge    `json:"purged,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// OpenHold returns the open hold, if any.
func (b *Breach) OpenHold() (Hold, bool) {
	for _, h := range b.Holds {
		if h.Open() {
			return h, true
		}
	}
	return Hold{}, false
}

// EnglishFallback is an administrator's record that the people whose language is Language get the
// notice in English, and why.
type EnglishFallback struct {
	Language string    `json:"language"` // two letters, as the recipients' language
	People   int       `json:"people"`   // how many uploaded people needed it when it was recorded
	Reason   string    `json:"reason"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// EnglishFallbackFor returns the fallback recorded for a language, if any.
func (b *Breach) EnglishFallbackFor(lang string) (EnglishFallback, bool) {
	for _, f := range b.EnglishFallbacks {
		if f.Language == lang {
			return f, true
		}
	}
	return EnglishFallback{}, false
}

// DeterminationVersion is one kept version of a breach's determination.
type DeterminationVersion struct {
	Version       int           `json:"version"`
	Determination Determination `json:"determination"`
	RecordedAt    time.Time     `json:"recorded_at"`
	RecordedBy    string        `json:"recorded_by"`
}

// Role is what an API caller may do.
type Role string

const (
	RoleAdmin   Role = "admin"   // writes determinations and holds, approves plans
	RoleClerk   Role = "clerk"   // reads breaches; works letters and calls
	RoleAuditor Role = "auditor" // reads everything, writes nothing
)

// Roles lists every valid Role.
var Roles = []Role{RoleAdmin, RoleClerk, RoleAuditor}

// Actor is who did something: the API key's fingerprint and its role, or the service itself.
type Actor struct {
	ID   string `json:"actor"`
	Role Role   `json:"role"`
}

// EventType names an audit or delivery event. The strings are persisted: never rename one.
type EventType string

const (
	EventBreachCreated        EventType = "breach.created"
	EventDeterminationRevised EventType = "determination.revised"
	EventHoldPlaced           EventType = "hold.placed"
	EventHoldReleased         EventType = "hold.released"
	EventRecipientsUploaded   EventType = "recipients.uploaded"
	EventUploadStarted        EventType = "upload.started"     // data: upload_id, format, file
	EventUploadInterrupted    EventType = "upload.interrupted" // data: upload_id, rows, accepted, duplicates, rejected_rows
	EventWebsitePosted        EventType = "substitute.website_posted"
	EventWebsiteTakenDown     EventType = "substitute.website_taken_down"
	EventMediaOutlets         EventType = "substitute.media_outlets"
	EventAgencyNoticeSent     EventType = "agency_notice.sent"
	EventBreachClosed         EventType = "breach.closed"
	EventObligationRecorded   EventType = "obligation.recorded" // data: obligation, status, reason
	EventRecipientsCompleted  EventType = "recipients.completed"
	EventObligationReminder   EventType = "obligation.reminder"       // data: obligation, stage, due
	EventEnglishFallback      EventType = "language.english_fallback" // data: language, people, reason
)

// Event is one entry in a breach's append-only audit trail.
type Event struct {
	ID      string         `json:"id"` // assigned by the store; increasing within a breach
	Type    EventType      `json:"type"`
	Actor   string         `json:"actor"`
	Role    Role           `json:"role"`
	At      time.Time      `json:"at"`
	Summary string         `json:"summary"`
	Data    map[string]any `json:"data,omitempty"`
	// Private is free text a person wrote that may hold personal data (a clerk's bounce reason,
	// "mailbox of Ava Smith unknown"). The event stream is not a sealed record, so the store never
	// writes it there as it is: it is sealed under a key of the breach's own (which the retention
	// purge destroys: then it reads {PurgedField: the date}) and opened for readers. Summary and
	// Data must never hold such text.
	Private map[string]string `json:"private,omitempty"`
}

// NoticeLevel reports whether the event is about notices rather than the breach: a notice's
// queueing, sending, delivery or failure, a call attempt, a print batch (their number grows with
// the number of people; the breach's own events do not).
func (e Event) NoticeLevel() bool {
	if strings.HasPrefix(string(e.Type), "notice.") || strings.HasPrefix(string(e.Type), "call.") ||
		strings.HasPrefix(string(e.Type), "print_batch.") {
		return true
	}
	_, one := e.Data["notice_id"]
	_, many := e.Data["notice_ids"]
	return one || many
}

// BreachFilter selects breaches to list. Results are newest first.
type BreachFilter struct {
	Status Status // empty: any
	Cursor string // empty: from the newest; otherwise the NextCursor of the previous page
	Limit  int    // 1..200
}

// BreachStore keeps breaches and their audit trails.
//
// Every method returns an *Error with code ENOTFOUND for an unknown breach, EUNAVAILABLE when the
// store cannot be reached, and ECONFLICT when a concurrent change could not be applied.
type BreachStore interface {
	// CreateBreach stores a new breach (its ID, timestamps and version already set) and its first
	// event, atomically.
	CreateBreach(ctx context.Context, b *Breach, ev Event) error
	// Breach returns one breach.
	Breach(ctx context.Context, id string) (*Breach, error)
	// Breaches lists breaches newest first; the second result is the cursor of the next page
	// ("" when there is none).
	Breaches(ctx context.Context, f BreachFilter) ([]*Breach, string, error)
	// UpdateBreach loads the breach, calls fn with it, and stores the result together with the
	// event fn returns, atomically; a concurrent update makes it retry fn. If fn returns an error
	// nothing is stored and that error is returned. When the determination version grows, the
	// previous determination is kept as a DeterminationVersion.
	UpdateBreach(ctx context.Context, id string, fn func(b *Breach) (Event, error)) (*Breach, error)
	// Events returns up to limit events after the cursor ("" from the start), oldest first, and
	// the cursor of the next page ("" when there is none).
	Events(ctx context.Context, id, cursor string, limit int) ([]Event, string, error)
	// DeterminationVersions returns every version of the breach's determination, oldest first.
	DeterminationVersions(ctx context.Context, id string) ([]DeterminationVersion, error)
}
