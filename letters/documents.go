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
// The agency letter is in English: it goes to companies. The web-site notice and the press release
// go to the public, in every language the determination has the text of and breachd a template for
// (breach.Determination.NoticeTextLanguages): never half in one language and half in English.
type Documents struct {
	r      *Renderer
	sender Sender
}

var _ breach.Documents = (*Documents)(nil)

// NewDocuments returns Documents rendered with r and sent from sender.
func NewDocuments(r *Renderer, sender Sender) *Documents {
	return &Documents{r: r, sender: sender}
}

// noticeWording writes the five required elements of breach b's notices in English as every
// channel says them, checking each field with ck.
func (d *Documents) noticeWording(ck checker, b *breach.Breach, md medium) (*wording, string, error) {
	return d.noticeWordingIn(ck, b, english, md)
}

// noticeWordingIn is noticeWording in t's language.
func (d *Documents) noticeWordingIn(ck checker, b *breach.Breach, t *template, md medium) (*wording, string, error) {
	org, website, err := senderNames(ck, d.sender, "", "document")
	if err != nil {
		return nil, "", err
	}
	content := NewContent(b.Determination)
	wd, err := compose(ck, t, md, &wordingInput{org: org, website: website, content: &content,
		signatory: d.sender.Signatory, role: d.sender.SignatoryRole})
	return wd, org, err
}

// publicTemplate returns the template of a document for the public (the web-site notice, the press
// release) in the language lang ("" is English), refusing with EINVALID naming "lang" a language
// the whole document cannot be written in.
func publicTemplate(det breach.Determination, lang string) (*template, error) {
	lang = cmp.Or(lang, "en")
	t, ok := languages[lang]
	available := strings.Join(det.NoticeTextLanguages(), ", ")
	var reason string
	switch {
	case !ok:
		reason = fmt.Sprintf("breachd has no %s template for the notice's fixed wording; available: %s",
			breach.LanguageLabel(lang), available)
	case !det.HasNoticeText(lang):
		reason = fmt.Sprintf("the determination has no %s text: add determination.translations.%s; available: %s",
			breach.LanguageLabel(lang), lang, available)
	default:
		return t, nil
	}
	return nil, &breach.Error{Code: breach.EINVALID, Message: "the document cannot be written in " + breach.LanguageLabel(lang),
		Fields: []breach.FieldError{{Field: "lang", Reason: reason}}}
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

// MediaNotice writes the substitute notice for the media as a one-page press release dated date, in
// the language lang ("" is English; see publicTemplate): "FOR IMMEDIATE RELEASE", the school, a
// headline, the five required elements and the media contact (the determination's media_contact,
// in lang when its translation gives one; without one, the signatory and the office phone). It
// returns an EINVALID error naming "lang" for a language it cannot be written in, and a
// *FieldError (EINVALID) naming the field that is missing, cannot be printed or makes the release
// longer than one page (ErrDoesNotFit). Errors from w and the context's error are returned wrapped.
func (d *Documents) MediaNotice(ctx context.Context, w io.Writer, b *breach.Breach, lang string, date breach.Date) error {
	if b == nil {
		return breach.Errorf(breach.EINVALID, "press release: no breach")
	}
	if date.IsZero() {
		return &FieldError{Field: "date", Err: ErrMissing, what: "press release"}
	}
	t, err := publicTemplate(b.Determination, lang)
	if err != nil {
		return err
	}
	ck := checker{face: d.r.regular}
	wd, org, err := d.noticeWordingIn(ck, b, t, onPaper)
	if err != nil {
		return asDocument(err, "press release")
	}
	rep := newReport(d.r, ck, nil)
	phone := rep.clean("sender.phone", d.sender.Phone, false)
	field, media := "determination.media_contact", b.Determination.MediaContact
	if tr, ok := b.Determination.TranslationFor(t.lang); ok && t != english && strings.TrimSpace(tr.MediaContact) != "" {
		field, media = "determination.translations."+t.lang+".media_contact", tr.MediaContact
	}
	media = rep.clean(field, strings.TrimSpace(media), false)
	if rep.err != nil {
		return asDocument(rep.err, "press release")
	}
	rep.text(true, 11, repMarginL, t.forRelease)
	ds := t.formatDate(date)
	rep.text(false, 10, repMarginR-d.r.regular.width(ds, 10), ds)
	rep.y += 20
	rep.para(org, true, 10, 13, 0)
	for _, l := range d.sender.ReturnAddress {
		if l = rep.clean("sender.return_address", l, false); l != "" {
			rep.para(l, false, 9, 11.5, 0)
		}
	}
	c := t.mediaContact + " " + media
	if media == "" {
		contact := append([]string(nil), wd.signature...)
		if len(contact) > 1 {
			contact = contact[:len(contact)-1] // the organization is above
		}
		c = t.mediaContact + " " + strings.Join(contact, ", ")
		if len(contact) == 0 {
			c = t.mediaContact + " " + org
		}
		if phone != "" {
			c += ", " + phone
		}
	}
	rep.y += 4
	rep.para(c, false, 9, 11.5, 0)
	rep.y += 14
	rep.para(t.pressHeadline(org), true, 16, 20, 0)
	title := rep.clean("determination.title", b.Determination.Title, false)
	if rep.err != nil {
		return asDocument(rep.err, "press release")
	}
	if title != "" && t == english { // the title is the administrator's, in English only
		rep.para(title, false, 11.5, 15, 0)
	}
	rep.y += 8
	rep.para(t.pressLead(ds, org), false, 10, 13.5, 0)
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
		content := NewContent(b.Determination)
		if tr, ok := content.translation(t.lang); ok && t != english {
			content.Description, content.Remediation = tr.Description, tr.Remediation
		}
		return asDocument(pageLimitError("", &content, rep.lo.pages, 1), "press release")
	}
	rep.lo.round()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("press release for breach %s: %w", b.ID, err)
	}
	pdf := d.r.newDoc(t.pressTitle+" — "+org+" — "+cmp.Or(title, b.ID), t.lang, d.r.clock())
	d.r.draw(pdf, rep.lo)
	if _, err := output(pdf, ctxWriter{ctx, w}); err != nil {
		return fmt.Errorf("press release for breach %s: %w", b.ID, err)
	}
	return nil
}

// WebsiteNotice writes the substitute notice to post on the school's web site (LAW.md §5) in the
// language lang ("" is English; see publicTemplate): a conspicuous heading, who posts it, the five
// required elements in the words of every notice, and the assistance number. "Posted on <date>"
// appears only once the posting is recorded (b.Substitute.Website), dated in the breach's time
// zone; before, nothing claims it was posted. With html it is a complete, standalone HTML5 page —
// charset and viewport declared, readable on a phone, with a print stylesheet, styles inline in
// one <style> element, no scripts and no outside assets — whose text html/template escapes;
// without, the same text as plain text.
//
// It returns an EINVALID error naming "lang" for a language it cannot be written in, and a
// *FieldError (EINVALID) naming the field that is missing or holds a control character.
func (d *Documents) WebsiteNotice(b *breach.Breach, lang string, html bool) (string, error) {
	if b == nil {
		return "", breach.Errorf(breach.EINVALID, "web-site notice: no breach")
	}
	t, err := publicTemplate(b.Determination, lang)
	if err != nil {
		return "", err
	}
	wd, org, err := d.noticeWordingIn(checker{}, b, t, inEmail)
	if err != nil {
		return "", asDocument(err, "web-site notice")
	}
	v := websiteView{
		ID:        "breach-notice-" + slug(b.ID),
		Lang:      t.lang,
		Title:     t.publicTitle,
		Org:       org,
		Intro:     t.websiteIntro(org),
		Questions: t.questions,
		CallVerb:  t.callVerb,
		Phone:     strings.TrimSpace(b.Determination.AssistancePhone),
	}
	if at := b.Substitute.Website.PostedAt; !at.IsZero() {
		day := breach.DateOf(at, b.Determination.Location())
		v.Posted, v.ISODate = t.postedOn(t.formatDate(day)), day.String()
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
	ID, Lang, Title, Org, Intro string
	Posted, ISODate             string // "" until the posting is recorded
	Questions, CallVerb, Phone  string
	Tel                         htmltemplate.URL // "" when the number cannot be dialled as written
	Sections                    []emailSection
}

func (v *websiteView) text() string {
	var b strings.Builder
	b.WriteString(v.Title + "\n" + v.Org)
	if v.Posted != "" {
		b.WriteString(" · " + v.Posted)
	}
	b.WriteString("\n\n" + v.Intro + "\n")
	for _, s := range v.Sections {
		b.WriteString("\n" + s.Heading + "\n")
		b.WriteString(strings.Join(s.Paragraphs, "\n\n") + "\n")
	}
	b.WriteString("\n" + v.Questions + " " + v.CallVerb + " " + v.Phone + ".\n")
	return b.String()
}

// websiteHTML is the web-site notice: a whole page the school can post as it is, or copy into its
// site. The heading is set apart (a bordered banner, large type) so the posting is conspicuous, as
// the law asks; the text column stays narrow enough to read and wide enough for a 390-pixel phone
// without scrolling sideways; the print stylesheet drops colour and prints the telephone number.
var websiteHTML = htmltemplate.Must(htmltemplate.New("website").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>{{.Title}} — {{.Org}}</title>
<style>
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; background: #ffffff; color: #1b1b1b; font: 1.0625rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 42rem; margin: 0 auto; padding: 1rem 1.125rem 2.5rem; overflow-wrap: break-word; }
.notice-banner { border: 3px solid #a4262c; border-left-width: 0.75rem; background: #fdf3f3; padding: 0.875rem 1rem; margin: 0 0 1.5rem; }
h1 { margin: 0 0 0.375rem; font-size: 1.875rem; line-height: 1.2; color: #a4262c; }
.notice-meta { margin: 0; font-weight: 600; }
h2 { margin: 1.75rem 0 0.375rem; font-size: 1.25rem; line-height: 1.3; }
p { margin: 0.5rem 0; }
a { color: #1a4f9c; }
.notice-questions { margin-top: 2rem; padding-top: 1rem; border-top: 1px solid #bbbbbb; font-size: 1.125rem; }
@media print {
  body { font-size: 11pt; color: #000000; background: none; }
  main { max-width: none; padding: 0; }
  .notice-banner { background: none; border-color: #000000; }
  h1 { color: #000000; font-size: 20pt; }
  h2 { font-size: 13pt; break-after: avoid; page-break-after: avoid; }
  p { orphans: 3; widows: 3; }
  a { color: #000000; text-decoration: none; }
}
</style>
</head>
<body>
<main id="{{.ID}}" aria-labelledby="{{.ID}}-title">
<header class="notice-banner">
<h1 id="{{.ID}}-title">{{.Title}}</h1>
<p class="notice-meta">{{.Org}}{{if .Posted}} · <time datetime="{{.ISODate}}">{{.Posted}}</time>{{end}}</p>
</header>
<p>{{.Intro}}</p>
{{- range .Sections}}
<h2>{{.Heading}}</h2>
{{- range .Paragraphs}}
<p>{{.}}</p>
{{- end}}
{{- end}}
<p class="notice-questions"><strong>{{.Questions}}</strong> {{.CallVerb}} {{if .Tel}}<a href="{{.Tel}}">{{.Phone}}</a>{{else}}{{.Phone}}{{end}}.</p>
</main>
</body>
</html>
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
