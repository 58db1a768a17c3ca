package letters

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"strings"

	breach "github.com/breachd/breachd"
)

// Documents is the breach.Documents of breachd: the documents about a breach that are not
// individual notices — the letter to each consumer reporting agency, the substitute notice for
// the school's web site and for the media, and the closure report. They say the five required
// things (LAW.md §4) in the same words as the letters, emails and calls, from the same templates.
// Create it with NewDocuments; it is safe for concurrent use.
//
// The agency letter, the web-site notice and the press release are in English: they go to
// companies and to the public, and the breach record holds the breach-specific text (description,
// remediation) in one language only, so a Spanish version would mix languages.
type Documents struct {
	r      *Renderer
	sender Sender
}

var _ breach.Documents = (*Documents)(nil)

// NewDocuments returns Documents rendered with r and sent from sender.
func NewDocuments(r *Renderer, sender Sender) *Documents {
	return &Documents{r: r, sender: sender}
}

// noticeWording writes the five required elements of breach b's notices as every channel says
// them, checking each field with ck.
func (d *Documents) noticeWording(ck checker, b *breach.Breach, md medium) (*wording, string, error) {
	org, website, err := senderNames(ck, d.sender, "", "document")
	if err != nil {
		return nil, "", err
	}
	content := NewContent(b.Determination)
	wd, err := compose(ck, english, md, &wordingInput{org: org, website: website, content: &content,
		signatory: d.sender.Signatory, role: d.sender.SignatoryRole})
	return wd, org, err
}

// senderNames checks the sender's organization (required) and web site with ck, for the notice
// noticeID ("" for a document) or a document of the kind what.
func senderNames(ck checker, s Sender, noticeID, what string) (org, website string, err error) {
	if org, err = ck.clean("sender.organization", strings.TrimSpace(s.Organization), false); err != nil {
		return "", "", err
	}
	if org == "" {
		return "", "", &FieldError{NoticeID: noticeID, Field: "sender.organization", Err: ErrMissing, what: what}
	}
	if website, err = ck.clean("sender.website", strings.TrimSpace(s.Website), false); err != nil {
		return "", "", err
	}
	return org, website, nil
}

// asDocument marks a *FieldError as one about a document rather than a letter.
func asDocument(err error, what string) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		fe.what = what
	}
	return err
}

// MediaNotice writes the substitute notice for the media as a one-page press release dated date:
// "FOR IMMEDIATE RELEASE", the school, a headline, the five required elements and the media
// contact. It returns a *FieldError (EINVALID) naming the field that is missing, cannot be printed
// or makes the release longer than one page (ErrDoesNotFit). Errors from w and the context's
// error are returned wrapped.
func (d *Documents) MediaNotice(ctx context.Context, w io.Writer, b *breach.Breach, date breach.Date) error {
	if b == nil {
		return breach.Errorf(breach.EINVALID, "press release: no breach")
	}
	if date.IsZero() {
		return &FieldError{Field: "date", Err: ErrMissing, what: "press release"}
	}
	ck := checker{face: d.r.regular}
	wd, org, err := d.noticeWording(ck, b, onPaper)
	if err != nil {
		return asDocument(err, "press release")
	}
	t := english
	rep := newReport(d.r, ck, nil)
	phone := rep.clean("sender.phone", d.sender.Phone, false)
	if rep.err != nil {
		return asDocument(rep.err, "press release")
	}
	rep.text(true, 11, repMarginL, "FOR IMMEDIATE RELEASE")
	ds := t.formatDate(date)
	rep.text(false, 10, repMarginR-d.r.regular.width(ds, 10), ds)
	rep.y += 20
	rep.para(org, true, 10, 13, 0)
	for _, l := range d.sender.ReturnAddress {
		if l = rep.clean("sender.return_address", l, false); l != "" {
			rep.para(l, false, 9, 11.5, 0)
		}
	}
	contact := append([]string(nil), wd.signature...)
	if len(contact) > 1 {
		contact = contact[:len(contact)-1] // the organization is above
	}
	c := "Media contact: " + strings.Join(contact, ", ")
	if len(contact) == 0 {
		c = "Media contact: " + org
	}
	if phone != "" {
		c += ", " + phone
	}
	rep.y += 4
	rep.para(c, false, 9, 11.5, 0)
	rep.y += 14
	rep.para(org+" gives notice of a data security incident", true, 16, 20, 0)
	title := rep.clean("determination.title", b.Determination.Title, false)
	if rep.err != nil {
		return asDocument(rep.err, "press release")
	}
	if title != "" {
		rep.para(title, false, 11.5, 15, 0)
	}
	rep.y += 8
	rep.para(ds+" — "+org+" is giving public notice of a data security incident that may have involved "+
		"personal information of people whose records it holds. It is notifying the people affected directly "+
		"where it can; this notice is for anyone it could not reach and for the public.", false, 10, 13.5, 0)
	for _, sec := range wd.sections {
		rep.y += 5
		rep.room(2 * 13.5)
		rep.para(sec.heading, true, 10, 13.5, 0)
		rep.para(sec.text, false, 10, 13.5, 0)
	}
	rep.y += 10
	rep.room(13.5)
	rep.text(false, 10, (pageW-d.r.regular.width("###", 10))/2, "###")
	if rep.lo.pages > 1 {
		return asDocument(pageLimitError("", &Content{Description: b.Determination.Description,
			Remediation: b.Determination.Remediation}, rep.lo.pages, 1), "press release")
	}
	rep.lo.round()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("press release for breach %s: %w", b.ID, err)
	}
	pdf := d.r.newDoc("Press release — "+org+" — "+cmp.Or(title, b.ID), "en", d.r.clock())
	d.r.draw(pdf, rep.lo)
	if _, err := output(pdf, ctxWriter{ctx, w}); err != nil {
		return fmt.Errorf("press release for breach %s: %w", b.ID, err)
	}
	return nil
}

// WebsiteNotice writes the substitute notice to post on the school's web site (LAW.md §5): a
// heading, who posts it and when (the renderer's clock's day in the breach's time zone), the five
// required elements in the words of every notice, and the assistance number. With html it is a
// self-contained, accessible HTML fragment — a <section> with its own heading and a telephone
// link, no scripts, styles or outside assets — whose text html/template escapes; without, the
// same text as plain text. It is in English (see Documents).
//
// It returns a *FieldError (EINVALID) naming the field that is missing or holds a control
// character.
func (d *Documents) WebsiteNotice(b *breach.Breach, html bool) (string, error) {
	if b == nil {
		return "", breach.Errorf(breach.EINVALID, "web-site notice: no breach")
	}
	wd, org, err := d.noticeWording(checker{}, b, inEmail)
	if err != nil {
		return "", asDocument(err, "web-site notice")
	}
	t := english
	day := breach.DateOf(d.r.clock(), b.Determination.Location())
	v := websiteView{
		ID:      "breach-notice-" + slug(b.ID),
		Title:   t.title,
		Org:     org,
		Date:    t.formatDate(day),
		ISODate: day.String(),
		Intro: org + " is posting this notice because a data security incident may have involved personal " +
			"information of people whose records it holds. We are telling the people affected directly where we " +
			"can; if you received a letter, email or call from us about this incident, this notice says the same.",
		Phone: strings.TrimSpace(b.Determination.AssistancePhone),
	}
	v.Tel = telURL(v.Phone)
	for _, s := range wd.sections {
		v.Sections = append(v.Sections, emailSection{Heading: s.heading, Paragraphs: paragraphs(s.text)})
	}
	if !html {
		return v.text(), nil
	}
	var out strings.Builder
	if err := websiteHTML.Execute(&out, v); err != nil {
		return "", fmt.Errorf("web-site notice for breach %s: %w", b.ID, err)
	}
	return out.String(), nil
}

type websiteView struct {
	ID, Title, Org, Date, ISODate, Intro, Phone string
	Tel                                         htmltemplate.URL // "" when the number cannot be dialled as written
	Sections                                    []emailSection
}

func (v *websiteView) text() string {
	var b strings.Builder
	b.WriteString(v.Title + "\n" + v.Org + " · Posted " + v.Date + "\n\n" + v.Intro + "\n")
	for _, s := range v.Sections {
		b.WriteString("\n" + s.Heading + "\n")
		b.WriteString(strings.Join(s.Paragraphs, "\n\n") + "\n")
	}
	b.WriteString("\nQuestions: call " + v.Phone + ".\n")
	return b.String()
}

// websiteHTML is the web-site notice: a fragment to paste into a page of the school's site. The
// heading is an h2 (the page has its own h1); the section is labelled by it for screen readers.
var websiteHTML = htmltemplate.Must(htmltemplate.New("website").Parse(`<section id="{{.ID}}" class="breach-notice" lang="en" aria-labelledby="{{.ID}}-title">
<h2 id="{{.ID}}-title">{{.Title}}</h2>
<p>{{.Org}} · Posted <time datetime="{{.ISODate}}">{{.Date}}</time></p>
<p>{{.Intro}}</p>
{{- range .Sections}}
<h3>{{.Heading}}</h3>
{{- range .Paragraphs}}
<p>{{.}}</p>
{{- end}}
{{- end}}
<p><strong>Questions:</strong> call {{if .Tel}}<a href="{{.Tel}}">{{.Phone}}</a>{{else}}{{.Phone}}{{end}}.</p>
</section>
`))

// telURL returns a tel: link for a North American number written with digits and the usual
// separators, or "" for anything else (an extension, letters), which is then shown unlinked.
func telURL(phone string) htmltemplate.URL {
	var digits strings.Builder
	for _, r := range phone {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case strings.ContainsRune(" ()-.+", r):
		default:
			return ""
		}
	}
	s := digits.String()
	switch {
	case len(s) == 10:
		s = "1" + s
	case len(s) == 11 && s[0] == '1':
	default:
		return ""
	}
	return htmltemplate.URL("tel:+" + s) // digits only: safe as a URL
}

// slug keeps letters, digits and hyphens of an ID for use in an HTML id.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}
