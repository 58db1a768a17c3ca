// Package letters renders breach-notice letters as print-ready PDFs (US Letter, for a #10
// double-window envelope) and print batches of them, with codeberg.org/go-pdf/fpdf.
//
// A letter carries the five things every notice must say (LAW.md §4): (A) what happened, (B) which
// kinds of personal information, (C) what was done, (D) a telephone number for assistance, and (E)
// the reminder to stay vigilant. The legal wording comes from a template per language (English and
// Spanish); the breach-specific text comes from the determination (see NewContent). A letter to
// the parent or guardian of minors names every affected child of the household.
//
// Output is deterministic: the same input and the same clock give byte-identical PDFs, so the
// SHA-256 a Result reports proves a reprint identical. Names and addresses in every script
// breach.Printable admits print in the embedded fonts: DejaVu Sans for Latin, Greek, Cyrillic,
// Hebrew and Arabic (right to left, Arabic joined), Droid Sans Fallback for Chinese, Japanese and
// Korean. A character outside it, or an address too long for the envelope window, is a
// *FieldError naming the field — never boxes, never a silently cut line.
//
// Create one Renderer (it prepares the fonts once) and share it; it is safe for concurrent use.
//
// Printer adapts a Renderer to breach.LetterPrinter: it maps notices to letters and reports, for
// each letter, its ContentSHA256, the hash a reprint is checked against. Composer implements
// breach.Composer: the email and call-script notices, written from the same templates so that
// every channel says the five required things in the same words.
//
// Documents implements breach.Documents: the letters to the consumer reporting agencies (the same
// window-envelope layout as the notices), the substitute notice for the school's web site (HTML
// and text) and for the media (a one-page press release), and the closure report an auditor files.
// They take the five required elements from the same wording as the notices.
package letters

import (
	"errors"
	"fmt"
	"strings"

	breach "github.com/breachd/breachd"
)

// Sender is the school corporation that sends the letters.
type Sender struct {
	Organization  string   // printed in the letterhead and the return address
	ReturnAddress []string // street and city lines; at most 3 (the return window holds 4 lines)
	Phone         string   // the office telephone in the letterhead (optional)
	Website       string   // optional; printed in the letterhead and after the assistance number
	Signatory     string   // who signs, e.g. "Dr. Jane Smith" (optional)
	SignatoryRole string   // e.g. "Superintendent" (optional)
}

// Addressee is who the letter goes to.
type Addressee struct {
	// Name holds the name lines as they go on the envelope, e.g. {"Nguyễn Văn Minh"} or
	// {"Parent or Guardian of", "Hồng Nguyễn Thị"}.
	Name []string
	// Address holds the delivery lines after the name, the last one being city, state and ZIP
	// code: {"4120 N Keystone Ave", "Apt 3B", "Indianapolis IN 46205"}.
	Address []string
	// PostalCode is the ZIP code print batches are sorted by.
	PostalCode string
	// Language is the recipient's language tag ("en", "es", "es-MX"); a language with no template,
	// or whose breach-specific text Content lacks, falls back to English and Result.FellBack says so.
	Language string
	// Minor is true when the letter goes to the parent or guardian of minors (LAW.md §3); Children
	// then lists every affected child of the household, and the salutation names them all.
	Minor    bool
	Children []string
}

// Localized is the breach-specific text in one language.
type Localized struct {
	Description string
	Remediation string
}

// Content is what every letter of one breach says beyond its template.
type Content struct {
	Description     string               // (A) what happened
	DataElements    []breach.DataElement // (B) which kinds of information, in plain words per language
	Remediation     string               // (C) what was done to stop further breaches
	AssistancePhone string               // (D) a telephone number for assistance
	DiscoveredOn    breach.Date          // printed with (A); zero: not printed
	OccurredOn      breach.Date          // printed with (A) when known
	// Translations holds the breach-specific text by primary language subtag ("es"); a letter to
	// a person whose language has none is written wholly in English (Result.FellBack).
	Translations map[string]Localized
}

// translation returns the breach-specific text in a language, when it has both parts.
func (c *Content) translation(lang string) (Localized, bool) {
	tr, ok := c.Translations[lang]
	if !ok || strings.TrimSpace(tr.Description) == "" || strings.TrimSpace(tr.Remediation) == "" {
		return Localized{}, false
	}
	return tr, true
}

// NewContent takes a letter's breach-specific text from a determination: Description → (A),
// DataElements → (B), Remediation → (C), AssistancePhone → (D), and the translations of (A) and (C)
// by primary language (breach.Determination.TranslationFor chooses among regional ones). (E) is
// template text.
func NewContent(d breach.Determination) Content {
	var tr map[string]Localized
	for tag := range d.Translations {
		lang := breach.PrimaryLanguage(tag)
		if _, done := tr[lang]; done {
			continue
		}
		if t, ok := d.TranslationFor(lang); ok {
			if tr == nil {
				tr = map[string]Localized{}
			}
			tr[lang] = Localized{Description: t.Description, Remediation: t.Remediation}
		}
	}
	return Content{
		Translations:    tr,
		Description:     d.Description,
		DataElements:    d.DataElements,
		Remediation:     d.Remediation,
		AssistancePhone: d.AssistancePhone,
		DiscoveredOn:    d.DiscoveredOn,
		OccurredOn:      d.OccurredOn,
	}
}

// Mailing is what every letter of one breach shares: who sends them and what they say.
type Mailing struct {
	Sender  Sender
	Content Content
}

// Letter is one notice to one addressee.
type Letter struct {
	NoticeID  string
	Date      breach.Date // the date printed on the letter
	Addressee Addressee
}

// Result describes one rendered letter.
type Result struct {
	// SHA256 is the hex digest of the PDF bytes written: a reprint with the same input and the
	// same clock has the same digest.
	SHA256 string
	// ContentSHA256 is the hex digest of what the letter draws (every string and its position on
	// the letter's own pages). It does not depend on the file the letter is in, so a letter printed
	// alone and the same letter in a print batch have the same ContentSHA256.
	ContentSHA256 string
	Pages         int
	Language      string // the template used: "en" or "es"
	// FellBack: the addressee's language has no template, or Content no text in it; the letter is
	// in English.
	FellBack bool
}

// Errors a *FieldError wraps; test with errors.Is.
var (
	// ErrUnrenderable: the field holds a character the letters cannot print (outside
	// breach.Printable: an emoji, a script the fonts do not draw, a control character).
	ErrUnrenderable = errors.New("holds a character the letter font cannot print")
	// ErrDoesNotFit: the field is too long for its place (the envelope window, the page limit).
	ErrDoesNotFit = errors.New("does not fit")
	// ErrMissing: a field every letter needs is empty.
	ErrMissing = errors.New("is required")
	// ErrUnknown: the field holds a value the templates have no wording for (a data element).
	ErrUnknown = errors.New("is not known")
)

// FieldError is why one letter cannot be printed (or one email or call script written), naming
// the field ("addressee.name[0]", "content.description"). It wraps one of ErrUnrenderable, ErrDoesNotFit, ErrMissing and ErrUnknown, and a
// *breach.Error with code EINVALID, so breach.ErrorCode maps it.
type FieldError struct {
	NoticeID string
	Field    string
	Err      error
	Rune     rune   // for ErrUnrenderable: the first character that cannot be printed
	Detail   string // a sentence for the clerk

	what string // what cannot be made: "" a letter, or "email", "call script"
}

func (e *FieldError) Error() string {
	s := e.Field + " " + e.Err.Error()
	if e.Err == ErrUnrenderable {
		s += fmt.Sprintf(" (%U %q)", e.Rune, e.Rune)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.NoticeID != "" {
		s = "notice " + e.NoticeID + ": " + s
	}
	return s
}

// Unwrap gives errors.Is the sentinel and errors.As the *breach.Error.
func (e *FieldError) Unwrap() []error {
	reason := e.Err.Error()
	if e.Detail != "" {
		reason += ": " + e.Detail
	}
	msg := "the letter cannot be printed"
	if e.what != "" {
		msg = "the " + e.what + " cannot be written"
	}
	return []error{e.Err, &breach.Error{Code: breach.EINVALID, Message: msg,
		Fields: []breach.FieldError{{Field: e.Field, Reason: reason}}}}
}
