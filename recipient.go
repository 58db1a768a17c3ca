package breach

import (
	"context"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// PreferredChannel is how the school normally reaches a person, as the upload says.
type PreferredChannel string

const (
	PreferMail  PreferredChannel = "mail"
	PreferEmail PreferredChannel = "email"
	PreferPhone PreferredChannel = "phone"
)

// Guardian is the parent or guardian of record of a minor.
type Guardian struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// PostalAddress is a US postal address.
type PostalAddress struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"` // USPS two-letter code
	PostalCode string `json:"postal_code,omitempty"`
}

// Complete reports whether a letter can be addressed: a street line, a city, a state and a ZIP code.
func (a PostalAddress) Complete() bool {
	return a.Line1 != "" && a.City != "" && a.State != "" && a.PostalCode != ""
}

// Recipient is one affected person (a data subject) of a breach, as uploaded. Thresholds count
// recipients, never letters: two parents of one child are one affected person.
type Recipient struct {
	ID         string `json:"id"` // assigned by breachd
	BreachID   string `json:"breach_id"`
	Row        int    `json:"row"`         // the row of the upload it came from (1 = first data row)
	ExternalID string `json:"external_id"` // the school's student or staff number; unique per breach

	FirstName string        `json:"first_name"`
	LastName  string        `json:"last_name"`
	Address   PostalAddress `json:"address"`
	Email     string        `json:"email,omitempty"`
	Phone     string        `json:"phone,omitempty"` // E.164, e.g. +13175550111

	PreferredChannel PreferredChannel `json:"preferred_channel"`
	EmailCurrent     bool             `json:"email_current"`
	Language         string           `json:"language"` // ISO 639-1; "en" when not given

	DateOfBirth Date `json:"date_of_birth,omitzero"`
	// MinorFlag is the upload's explicit minor column; nil when not given (DateOfBirth decides).
	MinorFlag *bool    `json:"minor,omitempty"`
	Guardian  Guardian `json:"guardian,omitzero"`
}

// Name is "First Last".
func (r Recipient) Name() string { return strings.TrimSpace(r.FirstName + " " + r.LastName) }

// Minor reports whether the person is under 18 on the given date: the explicit flag when the upload
// gave one, else the date of birth; false when neither is known. An 18-year-old is not a minor.
func (r Recipient) Minor(on Date) bool {
	if r.MinorFlag != nil {
		return *r.MinorFlag
	}
	if r.DateOfBirth.IsZero() {
		return false
	}
	return on.Before(r.DateOfBirth.AddYears(18))
}

// IndianaResident reports whether the address on record is in Indiana.
func (r Recipient) IndianaResident() bool { return r.Address.State == "IN" }

// HasContact reports whether the person (or, for a minor, the guardian) can be reached at all: a
// complete postal address, an email address or a telephone number. Without any, only the
// substitute notice reaches them (LAW.md §5, insufficient contact).
func (r Recipient) HasContact() bool {
	return r.Address.Complete() || r.Email != "" || r.Phone != "" || r.Guardian.Email != "" || r.Guardian.Phone != ""
}

// RecipientFields are the upload's column names, in the order of the sample file. They are a
// persisted contract with the schools' exports: never rename one.
var RecipientFields = []string{"external_id", "first_name", "last_name", "address_line1", "address_line2",
	"city", "state", "postal_code", "email", "phone", "preferred_channel", "email_current", "language",
	"date_of_birth", "minor", "guardian_name", "guardian_email", "guardian_phone"}

// Limits on an uploaded row.
const (
	MaxRecipientFieldLen = 200
	MaxExternalIDLen     = 64
)

var (
	usStates = strings.Fields(`AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO
		MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI UM AA AE AP`)
	zipRE      = regexp.MustCompile(`^[0-9]{5}(-[0-9]{4})?$`)
	e164RE     = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
	languageRE = regexp.MustCompile(`^[a-z]{2}$`)
	externalRE = regexp.MustCompile(`^[A-Za-z0-9._\-/]+$`)
)

// ValidPhone reports whether s is a telephone number in E.164 form (+ and 8 to 15 digits).
func ValidPhone(s string) bool { return e164RE.MatchString(s) }

// ValidEmail reports whether s is a bare email address with a dotted domain.
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	_, domain, _ := strings.Cut(s, "@")
	return strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".") && !strings.HasPrefix(domain, ".")
}

// Validate checks one uploaded recipient and returns every invalid field (named by its upload
// column). A row with no contact details at all is valid: the person is affected all the same,
// and the substitute notice reaches them.
func (r Recipient) Validate() []FieldError {
	var fe []FieldError
	bad := func(field, reason string) { fe = append(fe, FieldError{Field: field, Reason: reason}) }
	long := func(field, v string) {
		if utf8.RuneCountInString(v) > MaxRecipientFieldLen { // characters, not bytes
			bad(field, "is longer than 200 characters")
		}
	}
	switch {
	case r.ExternalID == "":
		bad("external_id", "is required")
	case utf8.RuneCountInString(r.ExternalID) > MaxExternalIDLen:
		bad("external_id", "is longer than 64 characters")
	case !externalRE.MatchString(r.ExternalID):
		bad("external_id", "may hold only letters, digits and . _ - /")
	}
	if r.FirstName == "" && r.LastName == "" {
		bad("last_name", "a first or last name is required")
	}
	for _, f := range [...]struct{ name, v string }{{"first_name", r.FirstName}, {"last_name", r.LastName},
		{"address_line1", r.Address.Line1}, {"address_line2", r.Address.Line2}, {"city", r.Address.City},
		{"guardian_name", r.Guardian.Name}} { // in column order, so problems are reported in it
		long(f.name, f.v)
		if strings.ContainsAny(f.v, "\r\n\t") {
			bad(f.name, "must be on one line")
		}
		// These fields go on the envelope: a character the letters cannot print is refused here,
		// with its row, rather than when the letter is printed.
		if reason := UnprintableReason(f.v); reason != "" {
			bad(f.name, reason)
		}
	}
	a := r.Address
	if a != (PostalAddress{}) {
		if a.State != "" && !slices.Contains(usStates, a.State) {
			bad("state", "is not a US state code (e.g. IN)")
		}
		if a.PostalCode != "" && !zipRE.MatchString(a.PostalCode) {
			bad("postal_code", "is not a ZIP code (12345 or 12345-6789)")
		}
		if !a.Complete() && a.Line1 != "" {
			for _, f := range [...]struct{ name, v string }{{"city", a.City}, {"state", a.State}, {"postal_code", a.PostalCode}} {
				if f.v == "" {
					bad(f.name, "is required when address_line1 is given")
				}
			}
		}
		if a.Line1 == "" && (a.City != "" || a.Line2 != "") {
			bad("address_line1", "is required when other address fields are given")
		}
	}
	if r.Email != "" && !ValidEmail(r.Email) {
		bad("email", "is not an email address")
	}
	if r.Guardian.Email != "" && !ValidEmail(r.Guardian.Email) {
		bad("guardian_email", "is not an email address")
	}
	if r.Phone != "" && !e164RE.MatchString(r.Phone) {
		bad("phone", "is not a telephone number in E.164 form (e.g. +13175550111)")
	}
	if r.Guardian.Phone != "" && !e164RE.MatchString(r.Guardian.Phone) {
		bad("guardian_phone", "is not a telephone number in E.164 form (e.g. +13175550111)")
	}
	switch r.PreferredChannel {
	case PreferMail, PreferEmail, PreferPhone:
	default:
		bad("preferred_channel", "must be mail, email or phone")
	}
	if !languageRE.MatchString(r.Language) {
		bad("language", "is not a two-letter language code (e.g. en, es)")
	}
	return fe
}

// RecipientCounts are the per-breach counts the plan is re-assessed with once people are uploaded.
type RecipientCounts struct {
	Affected            int `json:"affected"`
	IndianaResidents    int `json:"indiana_residents"`
	InsufficientContact int `json:"insufficient_contact"`
	Minors              int `json:"minors"`
	// Languages counts the people by their language ("en", "es", "vi"); every person is in exactly
	// one. Never nil once read from the store.
	Languages map[string]int `json:"languages"`
}

// UploadReport is what an upload of recipients did: every good row kept, every bad row reported.
type UploadReport struct {
	Rows       int          `json:"rows"`       // data rows read
	Accepted   int          `json:"accepted"`   // new recipients stored
	Duplicates []RowProblem `json:"duplicates"` // rows whose external_id was already present
	Rejected   []RowProblem `json:"rejected"`   // rows with invalid fields (one entry per field)
	// Warnings are rows stored as they are that still need a look, e.g. a minor with no parent or
	// guardian of record: the person is affected all the same.
	Warnings []RowProblem    `json:"warnings"`
	Counts   RecipientCounts `json:"counts"` // the breach's totals after the upload
	// Omitted counts the problems of each list beyond the first MaxReportedProblems, which are
	// not listed so that no upload can make its report unboundedly large; nil when none was left out.
	Omitted *UploadOmitted `json:"omitted,omitempty"`
}

// MaxReportedProblems is how many problems a list in a report or an error carries at most; the rest
// are counted.
const MaxReportedProblems = 1000

// UploadOmitted counts the entries of each list of an UploadReport left out after the first
// MaxReportedProblems.
type UploadOmitted struct {
	Duplicates int `json:"duplicates"`
	Rejected   int `json:"rejected"`
	Warnings   int `json:"warnings"`
}

// RowProblem names one problem of one uploaded row.
type RowProblem struct {
	Row        int    `json:"row"`
	ExternalID string `json:"external_id,omitempty"`
	Field      string `json:"field"`
	Reason     string `json:"reason"`
}

// RecipientFilter selects recipients to list.
type RecipientFilter struct {
	IndianaResident *bool
	HasContact      *bool
	// Query, when not empty, keeps the people whose name or ID (external or breachd's) holds every
	// word of it, in any case and with or without accents.
	Query  string
	Cursor string
	Limit  int
}

// RecipientStore keeps a breach's affected people.
//
// Methods return ENOTFOUND for an unknown breach or recipient and EUNAVAILABLE when Redis cannot
// be reached.
type RecipientStore interface {
	// AddRecipients stores the recipients whose external_id the breach does not hold yet, in one
	// round trip per call, and returns which of them were duplicates (by index in rs). IDs are set
	// by the caller. Counters are updated atomically with the records.
	AddRecipients(ctx context.Context, breachID string, rs []Recipient) (duplicates []int, err error)
	Recipient(ctx context.Context, breachID, id string) (*Recipient, error)
	Recipients(ctx context.Context, breachID string, f RecipientFilter) ([]Recipient, string, error)
	RecipientCounts(ctx context.Context, breachID string) (RecipientCounts, error)
}
