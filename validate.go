package breach

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on free text, so one record cannot grow without bound.
const (
	MaxTitleLen        = 200
	MaxTextLen         = 20000
	MaxMediaContactLen = 500
	MaxTranslations    = 50
)

// languageTagRE is the BCP 47 tags a translation may be keyed by: a language (two or three lower-case
// letters), optionally a script (four letters, the first upper case) and a region (two upper-case
// letters or three digits): "es", "es-MX", "zh-Hant-TW", "es-419". Variants, extensions and private
// use are not accepted: no school's upload needs them, and a notice is matched by language alone.
var languageTagRE = regexp.MustCompile(`^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$`)

// ValidLanguageTag reports whether tag is a BCP 47 tag of the form a translation may be keyed by.
func ValidLanguageTag(tag string) bool { return languageTagRE.MatchString(tag) }

// Validate checks a determination on its own (not against the law) and returns every invalid
// field, each path prefixed with prefix (e.g. "determination."). It is the domain's last word on
// input: the API's schema validation catches shapes, this catches facts that contradict each other.
func (d Determination) Validate(prefix string) []FieldError {
	var fe []FieldError
	bad := func(field, reason string) { fe = append(fe, FieldError{Field: prefix + field, Reason: reason}) }

	if strings.TrimSpace(d.Title) == "" {
		bad("title", "is required")
	} else if utf8.RuneCountInString(d.Title) > MaxTitleLen { // characters, as the contract says, not bytes
		bad("title", "is longer than 200 characters")
	}
	// Lengths count characters, as the contract's maxLength does: a Spanish or Vietnamese text
	// takes more bytes than characters.
	for _, f := range [...]struct{ name, text string }{{"description", d.Description}, {"remediation", d.Remediation},
		{"risk_rationale", d.RiskRationale}, {"actions_taken", d.ActionsTaken}} {
		if utf8.RuneCountInString(f.text) > MaxTextLen {
			bad(f.name, "is longer than 20000 characters")
		}
	}
	// What the documents print (letters, the closure report, the agency letters, the press
	// release) is refused here when the letters cannot print it, rather than when a PDF is made.
	for _, f := range [...]struct{ name, text string }{{"jurisdiction", d.Jurisdiction}, {"title", d.Title},
		{"description", d.Description}, {"risk_rationale", d.RiskRationale}, {"remediation", d.Remediation},
		{"assistance_phone", d.AssistancePhone}, {"reporter.name", d.Reporter.Name}, {"reporter.role", d.Reporter.Role},
		{"reporter.email", d.Reporter.Email}, {"reporter.phone", d.Reporter.Phone}, {"actions_taken", d.ActionsTaken}, {"media_contact", d.MediaContact}} {
		if reason := UnprintableReason(f.text); reason != "" {
			bad(f.name, reason)
		}
	}
	for i, s := range d.SystemsAffected {
		if reason := UnprintableReason(s); reason != "" {
			bad(fieldIndex("systems_affected", i), reason)
		}
	}
	if utf8.RuneCountInString(d.MediaContact) > MaxMediaContactLen {
		bad("media_contact", "is longer than 500 characters")
	}
	fe = append(fe, d.validateTranslations(prefix)...)
	if d.TimeZone != "" {
		// "Local" is the server's own zone, whatever it is, and "" names UTC to LoadLocation: neither
		// is the zone the school is in.
		if _, err := time.LoadLocation(d.TimeZone); err != nil || d.TimeZone == "Local" {
			bad("time_zone", "is not a known IANA time zone (e.g. America/Indiana/Indianapolis)")
		}
	}
	if d.DiscoveredOn.IsZero() {
		bad("discovered_on", "is required")
	}
	if !d.OccurredOn.IsZero() && !d.DiscoveredOn.IsZero() && d.OccurredOn.After(d.DiscoveredOn) {
		bad("occurred_on", "is after discovered_on: a breach cannot be discovered before it occurs")
	}
	if len(d.DataElements) == 0 {
		bad("data_elements", "must list at least one data element (use \"other\" if none applies)")
	}
	for i, e := range d.DataElements {
		if !slices.Contains(DataElements, e) {
			bad(fieldIndex("data_elements", i), "is not a known data element")
		} else if slices.Index(d.DataElements, e) != i {
			bad(fieldIndex("data_elements", i), "is listed twice")
		}
	}
	switch d.RiskOfHarm {
	case RiskLikely, RiskUnlikely, RiskUndetermined:
	default:
		bad("risk_of_harm", "must be likely, unlikely or undetermined")
	}
	if d.AffectedCount < 0 {
		bad("affected_count", "must not be negative")
	}
	if d.IndianaResidents != nil {
		switch {
		case *d.IndianaResidents < 0:
			bad("indiana_residents", "must not be negative")
		case *d.IndianaResidents > d.AffectedCount:
			bad("indiana_residents", "is greater than affected_count: residents are among the people affected")
		}
	}
	if d.NoticeCostEstimate != nil && *d.NoticeCostEstimate < 0 {
		bad("notice_cost_estimate", "must not be negative")
	}
	if d.Category != "" && !slices.Contains([]Category{CategoryData, CategoryInfrastructure,
		CategoryUnauthorizedAccess, CategoryPhysical, CategoryOther}, d.Category) {
		bad("category", "must be data, infrastructure, unauthorized_access, physical or other")
	}
	if d.Severity != "" && !slices.Contains([]Severity{SeverityMinor, SeverityMajor, SeverityCritical}, d.Severity) {
		bad("severity", "must be minor, major or critical")
	}
	if e := d.Reporter.Email; e != "" && (!strings.Contains(e, "@") || strings.ContainsAny(e, " \t\r\n")) {
		bad("reporter.email", "is not an email address")
	}
	return fe
}

// validateTranslations checks each translation's tag and text, in tag order so that problems are
// reported the same way every time.
func (d Determination) validateTranslations(prefix string) []FieldError {
	var fe []FieldError
	if len(d.Translations) > MaxTranslations {
		fe = append(fe, FieldError{Field: prefix + "translations", Reason: "has more than 50 languages"})
	}
	tags := make([]string, 0, len(d.Translations))
	for tag := range d.Translations {
		tags = append(tags, tag)
	}
	slices.Sort(tags)
	for _, tag := range tags {
		tr := d.Translations[tag]
		field := prefix + "translations." + tag
		bad := func(name, reason string) { fe = append(fe, FieldError{Field: field + name, Reason: reason}) }
		switch {
		case !languageTagRE.MatchString(tag):
			bad("", "is not a BCP 47 language tag of the form language[-Script][-REGION] (e.g. es, es-MX, zh-Hant-TW, es-419)")
			continue
		case PrimaryLanguage(tag) == "en":
			bad("", "is English: the English text is the determination's own description, remediation and media_contact")
			continue
		}
		for _, f := range [...]struct{ name, text string }{{"description", tr.Description}, {"remediation", tr.Remediation}} {
			switch {
			case strings.TrimSpace(f.text) == "":
				bad("."+f.name, "is required in every translation")
			case utf8.RuneCountInString(f.text) > MaxTextLen:
				bad("."+f.name, "is longer than 20000 characters")
			}
		}
		if utf8.RuneCountInString(tr.MediaContact) > MaxMediaContactLen {
			bad(".media_contact", "is longer than 500 characters")
		}
		// Translations are printed in letters and the press release: refused here when the
		// letters cannot print them.
		for _, f := range [...]struct{ name, text string }{{"description", tr.Description}, {"remediation", tr.Remediation}, {"media_contact", tr.MediaContact}} {
			if reason := UnprintableReason(f.text); reason != "" {
				bad("."+f.name, reason)
			}
		}
	}
	return fe
}

func fieldIndex(name string, i int) string {
	return name + "[" + strconv.Itoa(i) + "]"
}
