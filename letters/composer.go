package letters

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"unicode/utf8"

	breach "github.com/breachd/breachd"
)

// Composer is the breach.Composer of breachd: it writes email notices and telephone call scripts
// from the same templates and the same determination fields as the letters, so that every
// channel says the five things LAW.md §4 requires in the same words. Create it with NewComposer;
// it is safe for concurrent use.
//
// A notice in a language with no template (only English and Spanish have one) is written in
// English, and so is one whose language the determination has no text in: EmailMessage.Language
// is then "en" — the language actually used, which the mailer sends as Content-Language.
type Composer struct {
	sender Sender
}

var _ breach.Composer = (*Composer)(nil)

// NewComposer returns a Composer whose notices come from sender (its organization, website and
// signatory; the return address is for letters only).
func NewComposer(sender Sender) *Composer { return &Composer{sender: sender} }

// MaxCallScriptLength is the most characters a call script may have. The voice channel reads a
// script twice in one TwiML document, which Twilio caps at 4,000 characters.
const MaxCallScriptLength = 1800

// TemplateLanguage returns the template language for the language tag lang ("en" or "es") and
// whether that is English for want of a template. No tag at all is English, not a fallback. A
// notice is written in that language only when the determination also has its text; otherwise
// it is in English (EmailMessage.Language says which).
func TemplateLanguage(lang string) (string, bool) {
	t, fellBack := templateFor(lang)
	return t.lang, fellBack
}

// Email writes the email notice for an email notice of breach b: the subject, and a plain-text
// and an HTML body that carry the same text — a salutation (to the parent or guardian of the
// children named, for a notice to a guardian), the five required elements and the signature.
// The HTML is escaped by html/template: text from the determination is never markup.
//
// It returns an EINVALID error naming the notice when n is not an email notice of b, and a
// *FieldError (EINVALID) naming the field when something the notice must say is missing or
// holds a control character.
func (c *Composer) Email(b *breach.Breach, n breach.Notice) (breach.EmailMessage, error) {
	if n.Channel != breach.MethodEmail {
		return breach.EmailMessage{}, breach.Errorf(breach.EINVALID, "notice %s is a %s notice, not an email", n.ID, n.Channel)
	}
	to := strings.TrimSpace(n.Email)
	if to == "" {
		return breach.EmailMessage{}, &FieldError{NoticeID: n.ID, Field: "email", Err: ErrMissing, what: "email"}
	}
	wd, org, err := c.compose(b, &n, inEmail, "email")
	if err != nil {
		return breach.EmailMessage{}, err
	}
	t := wd.tmpl
	e := emailView{Lang: t.lang, Title: t.title, Salutation: wd.salutation, Intro: wd.intro, Closing: t.closing,
		Signature: wd.signature, NoticeLabel: t.noticeLabel, NoticeID: n.ID}
	for _, s := range wd.sections {
		e.Sections = append(e.Sections, emailSection{Heading: s.heading, Paragraphs: paragraphs(s.text)})
	}
	var html strings.Builder
	if err := emailHTML.Execute(&html, e); err != nil {
		return breach.EmailMessage{}, fmt.Errorf("email for notice %s: %w", n.ID, err)
	}
	return breach.EmailMessage{
		NoticeID: n.ID,
		To:       to,
		ToName:   strings.TrimSpace(n.AddresseeName),
		Subject:  t.subject + " — " + org,
		Text:     e.text(),
		HTML:     html.String(),
		Language: t.lang,
	}, nil
}

// CallScript writes what is read to the person on a telephone notice of breach b: a greeting
// naming who the notice is for, the five required elements (LAW.md §4) as parts A to E, each
// under its heading, and a goodbye, as plain sentences in English or Spanish. Text is the whole
// script as read, the parts in order, separated by blank lines. Web addresses are reduced to their
// host name read aloud ("pikecreek dot k12 dot in dot us", never "h t t p s"), and telephone numbers
// are written digit by digit with pauses between the groups ("3 1 7, 5 5 5, 0 1 0 0").
//
// It returns an EINVALID error naming the notice when n is not a telephone notice of b, and a
// *FieldError (EINVALID) naming the field when something is missing, holds a control character,
// or makes the script longer than MaxCallScriptLength (ErrDoesNotFit).
func (c *Composer) CallScript(b *breach.Breach, n breach.Notice) (breach.CallScript, error) {
	if n.Channel != breach.MethodPhone {
		return breach.CallScript{}, breach.Errorf(breach.EINVALID, "notice %s is a %s notice, not a telephone notice", n.ID, n.Channel)
	}
	wd, _, err := c.compose(b, &n, byPhone, "call script")
	if err != nil {
		return breach.CallScript{}, err
	}
	cs := breach.CallScript{Language: wd.tmpl.lang, Greeting: wd.salutation + "\n\n" + wd.intro, Closing: wd.tmpl.callGoodbye}
	read := []string{cs.Greeting}
	for i, s := range wd.sections { // sections are (A) to (E), in the order of breach.NoticeParts
		p := breach.ScriptPart{Part: breach.NoticeParts[i], Title: s.heading, Text: strings.Join(paragraphs(s.text), " ")}
		cs.Parts = append(cs.Parts, p)
		read = append(read, p.Text)
	}
	cs.Text = strings.Join(append(read, cs.Closing), "\n\n") + "\n"
	if k := utf8.RuneCountInString(cs.Text); k > MaxCallScriptLength {
		field := "content.description"
		if len(b.Determination.Remediation) > len(b.Determination.Description) {
			field = "content.remediation"
		}
		return breach.CallScript{}, &FieldError{NoticeID: n.ID, Field: field, Err: ErrDoesNotFit, what: "call script",
			Detail: fmt.Sprintf("the call script has %d characters; at most %d can be read in one call", k, MaxCallScriptLength)}
	}
	return cs, nil
}

// compose checks the notice and the sender and writes the notice's wording; it also returns the
// organization, checked.
func (c *Composer) compose(b *breach.Breach, n *breach.Notice, md medium, what string) (*wording, string, error) {
	if b == nil {
		return nil, "", breach.Errorf(breach.EINVALID, "%s for notice %s: no breach", what, n.ID)
	}
	if n.BreachID != "" && n.BreachID != b.ID {
		return nil, "", breach.Errorf(breach.EINVALID, "notice %s belongs to breach %s, not %s", n.ID, n.BreachID, b.ID)
	}
	wd, org, err := c.wording(b, n, md)
	var fe *FieldError
	if errors.As(err, &fe) {
		fe.what = what
	}
	return wd, org, err
}

func (c *Composer) wording(b *breach.Breach, n *breach.Notice, md medium) (*wording, string, error) {
	ck := checker{noticeID: n.ID} // any script prints in an email or a voice; control characters do not
	org, website, err := senderNames(ck, c.sender, n.ID, "")
	if err != nil {
		return nil, "", err
	}
	lines, children := addressee(n)
	var names []string
	for i, s := range lines {
		s, err := ck.clean(fmt.Sprintf("addressee.name[%d]", i), s, false)
		if err != nil {
			return nil, "", err
		}
		if s != "" {
			names = append(names, s)
		}
	}
	if len(names) == 0 && !n.ToGuardian { // a guardian is greeted by the children's names
		return nil, "", &FieldError{NoticeID: n.ID, Field: "addressee.name", Err: ErrMissing}
	}
	content := NewContent(b.Determination)
	t, _ := noticeTemplate(n.Language, &content)
	wd, err := compose(ck, t, md, &wordingInput{noticeID: n.ID, org: org, website: website, names: names,
		minor: n.ToGuardian, children: children, content: &content, signatory: c.sender.Signatory,
		role: c.sender.SignatoryRole})
	return wd, org, err
}

// paragraphs splits a section's text into its non-empty paragraphs.
func paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(s, "\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// emailView is what both email bodies show.
type emailView struct {
	Lang, Title, Salutation, Intro string
	Sections                       []emailSection
	Closing                        string
	Signature                      []string
	NoticeLabel, NoticeID          string
}

type emailSection struct {
	Heading    string
	Paragraphs []string
}

// text is the plain-text body. Lines are not wrapped: the mailer encodes the body as
// quoted-printable, and mail clients wrap paragraphs to the reader's screen.
func (e *emailView) text() string {
	var b strings.Builder
	b.WriteString(e.Title + "\n\n" + e.Salutation + "\n\n" + e.Intro + "\n")
	for _, s := range e.Sections {
		b.WriteString("\n" + s.Heading + "\n")
		b.WriteString(strings.Join(s.Paragraphs, "\n\n") + "\n")
	}
	b.WriteString("\n" + e.Closing + "\n\n")
	for _, s := range e.Signature {
		b.WriteString(s + "\n")
	}
	b.WriteString("\n" + e.NoticeLabel + " " + e.NoticeID + "\n")
	return b.String()
}

// emailHTML is the HTML body: simple markup with inline styles, which every mail client keeps.
var emailHTML = htmltemplate.Must(htmltemplate.New("email").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
</head>
<body style="font-family: Arial, Helvetica, sans-serif; font-size: 16px; line-height: 1.5; color: #1a1a1a; max-width: 40em;">
<h1 style="font-size: 1.4em;">{{.Title}}</h1>
<p>{{.Salutation}}</p>
<p>{{.Intro}}</p>
{{- range .Sections}}
<h2 style="font-size: 1.1em; margin: 1.2em 0 0.3em;">{{.Heading}}</h2>
{{- range .Paragraphs}}
<p style="margin: 0.3em 0;">{{.}}</p>
{{- end}}
{{- end}}
<p style="margin-top: 1.5em;">{{.Closing}}</p>
<p>{{range $i, $s := .Signature}}{{if $i}}<br>{{end}}{{$s}}{{end}}</p>
<p style="font-size: 0.85em; color: #555555;">{{.NoticeLabel}} {{.NoticeID}}</p>
</body>
</html>
`))
