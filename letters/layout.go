package letters

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"

	breach "github.com/breachd/breachd"
)

// Page geometry, in points (72 to the inch), measured from the top-left corner of a US Letter
// sheet (8.5" × 11").
//
// The letter is folded in thirds (folds at 3⅔" and 7⅓") into a standard #10 double-window
// envelope (9½" × 4⅛"). Through the envelope the top third shows two windows:
//
//   - the return-address window, top-left: 0.5"–3.75" across, 0.5"–1.375" down (3.25" × 0.875");
//   - the recipient window: 0.875"–5.375" across, 2.0"–3.125" down (4.5" × 1.125").
//
// Text is kept ⅛" inside each window on every side, so a sheet that shifts ⅛" in the envelope
// (USPS asks for ¼" of play in total) never hides a line: the recipient block is 1.0"–5.25" across
// (4.25", 306 pt) and 2.125"–3.0" down (0.875", 63 pt), five lines of 10 pt type on 12 pt leading.
// An address that needs more lines, even after wrapping, is refused (ErrDoesNotFit) rather than
// shrunk or cut. Nothing else is printed in the top third left of 5.5", so nothing else shows.
const (
	inch  = 72.0
	pageW = 8.5 * inch
	pageH = 11 * inch

	returnWindowX, returnWindowY, returnWindowW, returnWindowH = 0.5 * inch, 0.5 * inch, 3.25 * inch, 0.875 * inch
	windowX, windowY, windowW, windowH                         = 0.875 * inch, 2.0 * inch, 4.5 * inch, 1.125 * inch
	windowInset                                                = 0.125 * inch

	returnSize, returnLead = 8.5, 10.0
	returnMaxLines         = 4 // organization and three address lines fit 0.875" less ⅛" above and below
	addressSize            = 10.0
	addressLead            = 12.0
	addressMaxLines        = 5

	marginL   = 1.0 * inch
	marginR   = pageW - 1.0*inch
	textWidth = marginR - marginL

	bodySize  = 10.0
	bodyLead  = 13.0
	paraGap   = 6.0
	titleSize = 12.5

	bodyTop1     = 3.375 * inch // first body baseline on page 1, ¼" below the recipient window
	bodyTopN     = 1.25 * inch
	bodyBottom   = 10.3 * inch // no body baseline below this
	footerY      = 10.6 * inch
	headerY      = 0.75 * inch // page 2+: recipient name and page number
	fold1, fold2 = pageH / 3, 2 * pageH / 3
)

// op is one thing drawn on a letter's page.
type op struct {
	page   int // 1-based within the letter
	line   bool
	bold   bool
	size   float64
	x, y   float64 // text: left end of the baseline; line: start
	x2, y2 float64 // line: end
	text   string
}

// layout is a letter placed on its pages, ready to draw.
type layout struct {
	ops      []op
	pages    int
	tmpl     *template
	fellBack bool
	title    string
}

// contentSHA256 digests what the letter draws, independent of the file it is drawn in.
func (l *layout) contentSHA256() string {
	h := sha256.New()
	var b []byte
	for _, o := range l.ops {
		b = b[:0]
		b = strconv.AppendInt(b, int64(o.page), 10)
		b = append(b, ' ')
		b = strconv.AppendBool(b, o.line)
		b = append(b, ' ')
		b = strconv.AppendBool(b, o.bold)
		for _, f := range []float64{o.size, o.x, o.y, o.x2, o.y2} {
			b = append(b, ' ')
			b = strconv.AppendFloat(b, f, 'f', 2, 64)
		}
		b = append(b, ' ')
		b = strconv.AppendQuote(b, o.text)
		b = append(b, '\n')
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// printableScripts says what the letters print, for a clerk reading why a letter was refused.
const printableScripts = "the letters print Latin, Greek, Cyrillic, Hebrew, Arabic, Chinese, Japanese and Korean text"

// checker reports the first field holding a character the letters cannot print, or, without
// a face (email, call scripts), the first control character.
type checker struct {
	face     *face // nil: any character but a control character
	noticeID string
}

// clean checks one field and returns it with line breaks normalised; multiline fields may hold
// "\n", others may not. Tabs become spaces.
func (c checker) clean(field, s string, multiline bool) (string, error) {
	if strings.ContainsAny(s, "\r\t") {
		s = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\t", " ").Replace(s)
	}
	for _, r := range s {
		if r == '\n' && multiline {
			continue
		}
		if c.face == nil && unicode.IsControl(r) {
			return "", &FieldError{NoticeID: c.noticeID, Field: field, Err: ErrUnrenderable, Rune: r,
				Detail: "a control character"}
		}
		// breach.Printable is what uploads and requests were checked against; this refuses what
		// came in another way (configuration, records written before the check) before any of
		// it is drawn.
		if c.face != nil && (!breach.Printable(r) || !c.face.has(r)) {
			return "", &FieldError{NoticeID: c.noticeID, Field: field, Err: ErrUnrenderable, Rune: r,
				Detail: printableScripts}
		}
	}
	return s, nil
}

// wrap breaks s into lines no wider than width. A word wider than a whole line is broken between
// characters, and long reports that it was.
func (f *face) wrap(s string, size, width float64) (lines []string, long bool) {
	space := f.width(" ", size)
	var cur strings.Builder
	curW := 0.0
	flush := func() {
		lines = append(lines, cur.String())
		cur.Reset()
		curW = 0
	}
	for _, word := range strings.Fields(s) {
		w := f.width(word, size)
		if cur.Len() > 0 && curW+space+w <= width {
			cur.WriteByte(' ')
			cur.WriteString(word)
			curW += space + w
			continue
		}
		if cur.Len() > 0 {
			flush()
		}
		if w <= width {
			cur.WriteString(word)
			curW = w
			continue
		}
		long = true
		for _, r := range word {
			cw := float64(f.runeWidth(r)) * size / 1000
			if cur.Len() > 0 && curW+cw > width {
				flush()
			}
			cur.WriteRune(r)
			curW += cw
		}
	}
	if cur.Len() > 0 || len(lines) == 0 {
		flush()
	}
	return lines, long
}

// flowLine is one line of body text before it is placed on a page.
type flowLine struct {
	text   string
	bold   bool
	size   float64
	before float64 // space above, dropped at the top of a page
	keep   int     // how many following lines must share this line's page
	indent float64 // from the left margin
}

// pageLimitError names the longest breach-specific field when a letter runs past the page limit.
func pageLimitError(noticeID string, c *Content, pages, max int) error {
	field, n := "content.description", len(c.Description)
	if len(c.Remediation) > n {
		field = "content.remediation"
	}
	return &FieldError{NoticeID: noticeID, Field: field, Err: ErrDoesNotFit,
		Detail: fmt.Sprintf("the letter needs %d pages; at most %d are allowed", pages, max)}
}

// layoutLetter places one letter on its pages. It reads no clock and draws nothing, so a letter
// that cannot be printed is refused before any of it reaches a PDF.
func (r *Renderer) layoutLetter(m *Mailing, l *Letter) (*layout, error) {
	ck := checker{face: r.regular, noticeID: l.NoticeID}
	a := &l.Addressee
	t, fellBack := noticeTemplate(a.Language, &m.Content)
	lo := &layout{tmpl: t, fellBack: fellBack, ops: make([]op, 0, 96)}
	s := &m.Sender
	top, err := r.layoutTop(lo, ck, t, s, envelope{date: l.Date, refLabel: t.noticeLabel, ref: l.NoticeID,
		refField: "notice_id", names: a.Name, nameField: "addressee.name", address: a.Address,
		addressField: "addressee.address", postalCode: a.PostalCode, postalField: "addressee.postal_code"})
	if err != nil {
		return nil, err
	}

	// Body.
	c := &m.Content
	wd, err := compose(ck, t, onPaper, &wordingInput{noticeID: l.NoticeID, org: top.org, website: top.website,
		names: top.names, minor: a.Minor, children: a.Children, content: c, signatory: s.Signatory, role: s.SignatoryRole})
	if err != nil {
		return nil, err
	}

	fb := flowBuilder{reg: r.regular, bold: r.bold}
	lo.title = t.title + " — " + top.ref
	fb.para(t.title, true, titleSize, 0, 1)
	fb.para(wd.salutation, false, bodySize, 2*paraGap, 0)
	fb.para(wd.intro, false, bodySize, paraGap, 0)
	for _, sec := range wd.sections {
		fb.para(sec.heading, true, bodySize, 1.75*paraGap, 2)
		fb.para(sec.text, false, bodySize, 0, 0)
	}
	fb.closing(t.closing, wd.signature)

	lo.placeFlow(fb.flow)
	if lo.pages > r.maxPages {
		return nil, pageLimitError(l.NoticeID, c, lo.pages, r.maxPages)
	}
	lo.furniture(r.regular, t, t.noticeLabel+" "+top.ref, strings.Join(top.names, " "))
	return lo, nil
}

// envelope is what the top third of a window-envelope letter shows besides the sender: the date,
// a reference (the notice, or the breach) and the addressee, with the field names errors use.
type envelope struct {
	date                    breach.Date
	refLabel, ref           string // "Notice", "N-0001"
	refField                string
	names                   []string
	nameField               string // "addressee.name": lines are reported as "addressee.name[0]"
	address                 []string
	addressField            string
	postalCode, postalField string // checked only; postalField "" skips it
}

// top is what layoutTop checked and drew, for the body to use.
type top struct {
	org, website, ref string
	names             []string // the addressee's name lines, cleaned
}

// layoutTop draws page 1's top third of a letter for a #10 double-window envelope: the return
// address in its window, the letterhead right of it, the date and reference, the addressee in the
// recipient window and the fold marks. Fields are checked in this order: the sender's organization
// and return address, phone and website, the date, the reference, the name, the address and the
// postal code.
func (r *Renderer) layoutTop(lo *layout, ck checker, t *template, s *Sender, e envelope) (*top, error) {
	reg, bold := r.regular, r.bold
	missing := func(field string) error {
		return &FieldError{NoticeID: ck.noticeID, Field: field, Err: ErrMissing}
	}
	text := func(page int, b bool, size, x, y float64, s string) {
		lo.ops = append(lo.ops, op{page: page, bold: b, size: size, x: x, y: y, text: s})
	}
	rightText := func(page int, b bool, size, right, y float64, s string) {
		f := reg
		if b {
			f = bold
		}
		text(page, b, size, right-f.width(s, size), y, s)
	}

	// Sender: letterhead (right) and return address (left, in the return window).
	org, err := ck.clean("sender.organization", strings.TrimSpace(s.Organization), false)
	if err != nil {
		return nil, err
	}
	if org == "" {
		return nil, missing("sender.organization")
	}
	ret := []string{org}
	for i, line := range s.ReturnAddress {
		line, err := ck.clean(fmt.Sprintf("sender.return_address[%d]", i), strings.TrimSpace(line), false)
		if err != nil {
			return nil, err
		}
		if line != "" {
			ret = append(ret, line)
		}
	}
	if len(ret) < 2 {
		return nil, missing("sender.return_address")
	}
	var retLines []string
	for _, line := range ret {
		w, _ := reg.wrap(line, returnSize, returnWindowW-2*windowInset)
		retLines = append(retLines, w...)
	}
	if len(retLines) > returnMaxLines {
		return nil, &FieldError{NoticeID: ck.noticeID, Field: "sender.return_address", Err: ErrDoesNotFit,
			Detail: fmt.Sprintf("needs %d lines; the return-address window holds %d", len(retLines), returnMaxLines)}
	}
	y := returnWindowY + windowInset + returnSize*0.93
	for i, line := range retLines {
		text(1, i == 0, returnSize, returnWindowX+windowInset, y, line)
		y += returnLead
	}
	phone, err := ck.clean("sender.phone", strings.TrimSpace(s.Phone), false)
	if err != nil {
		return nil, err
	}
	website, err := ck.clean("sender.website", strings.TrimSpace(s.Website), false)
	if err != nil {
		return nil, err
	}
	// The letterhead stays right of the return-address window, which must show the return address
	// only: 3.875" to 7.5" across, at most two lines for the organization.
	hy := 0.75 * inch
	heads, _ := bold.wrap(org, 11, marginR-(returnWindowX+returnWindowW+windowInset))
	if len(heads) > 2 {
		return nil, &FieldError{NoticeID: ck.noticeID, Field: "sender.organization", Err: ErrDoesNotFit,
			Detail: "the letterhead holds two lines"}
	}
	for i, h := range heads {
		if i > 0 {
			hy += 13
		}
		rightText(1, true, 11, marginR, hy, h)
	}
	if phone != "" {
		hy += 13
		rightText(1, false, 9, marginR, hy, t.phoneLabel+": "+phone)
	}
	if website != "" {
		hy += 12
		rightText(1, false, 9, marginR, hy, website)
	}
	if e.date.IsZero() {
		return nil, missing("date")
	}
	ref, err := ck.clean(e.refField, strings.TrimSpace(e.ref), false)
	if err != nil {
		return nil, err
	}
	if ref == "" {
		return nil, missing(e.refField)
	}
	rightText(1, false, bodySize, marginR, 1.625*inch, t.formatDate(e.date))
	rightText(1, false, 8, marginR, 1.625*inch+13, e.refLabel+" "+ref)

	// Recipient window.
	var nameLines, addrLines []string
	var names []string
	for i, n := range e.names {
		field := fmt.Sprintf("%s[%d]", e.nameField, i)
		n, err := ck.clean(field, strings.TrimSpace(n), false)
		if err != nil {
			return nil, err
		}
		if n == "" {
			continue
		}
		names = append(names, n)
		w, long := reg.wrap(n, addressSize, windowW-2*windowInset)
		if long {
			return nil, &FieldError{NoticeID: ck.noticeID, Field: field,
				Err: ErrDoesNotFit, Detail: "a word is wider than the envelope window"}
		}
		nameLines = append(nameLines, w...)
	}
	if len(names) == 0 {
		return nil, missing(e.nameField)
	}
	for i, line := range e.address {
		field := fmt.Sprintf("%s[%d]", e.addressField, i)
		line, err := ck.clean(field, strings.TrimSpace(line), false)
		if err != nil {
			return nil, err
		}
		if line == "" {
			continue
		}
		w, long := reg.wrap(line, addressSize, windowW-2*windowInset)
		if long {
			return nil, &FieldError{NoticeID: ck.noticeID, Field: field,
				Err: ErrDoesNotFit, Detail: "a word is wider than the envelope window"}
		}
		addrLines = append(addrLines, w...)
	}
	if len(addrLines) == 0 {
		return nil, missing(e.addressField)
	}
	if e.postalField != "" {
		if _, err := ck.clean(e.postalField, e.postalCode, false); err != nil {
			return nil, err
		}
	}
	if n := len(nameLines) + len(addrLines); n > addressMaxLines {
		field := e.addressField
		if len(nameLines) > len(names) {
			field = e.nameField
		}
		return nil, &FieldError{NoticeID: ck.noticeID, Field: field, Err: ErrDoesNotFit,
			Detail: fmt.Sprintf("name and address need %d lines; the envelope window holds %d", n, addressMaxLines)}
	}
	y = windowY + windowInset + addressSize
	for _, line := range append(nameLines, addrLines...) {
		text(1, false, addressSize, windowX+windowInset, y, line)
		y += addressLead
	}

	// Fold marks at the left edge, outside every window.
	for _, fy := range []float64{fold1, fold2} {
		lo.ops = append(lo.ops, op{page: 1, line: true, x: 0, y: fy, x2: 0.25 * inch, y2: fy})
	}
	return &top{org: org, website: website, ref: ref, names: names}, nil
}

// flowBuilder collects a letter's body as lines, wrapped to the text width, before they are
// placed on pages.
type flowBuilder struct {
	reg, bold *face
	flow      []flowLine
}

// para adds s, a paragraph per "\n", wrapped to the text width. before is the space above its
// first line; keep how many following lines each of its lines must share a page with.
func (fb *flowBuilder) para(s string, b bool, size, before float64, keep int) {
	fb.indented(s, b, size, before, keep, 0)
}

// indented is para with every line indent points in from the left margin.
func (fb *flowBuilder) indented(s string, b bool, size, before float64, keep int, indent float64) {
	f := fb.reg
	if b {
		f = fb.bold
	}
	for pi, p := range strings.Split(s, "\n") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		ws, _ := f.wrap(p, size, textWidth-indent)
		for i, w := range ws {
			fl := flowLine{text: w, bold: b, size: size, keep: keep, indent: indent}
			if i == 0 {
				fl.before = before
				if pi > 0 {
					fl.before = paraGap / 2
				}
			}
			fb.flow = append(fb.flow, fl)
		}
	}
}

// closing adds the closing, kept on one page: "Sincerely," space to sign, who signs, the
// organization.
func (fb *flowBuilder) closing(closing string, signature []string) {
	sig := append([]string{closing, ""}, signature...)
	for i, s := range sig {
		fl := flowLine{text: s, size: bodySize, keep: len(sig) - 1 - i}
		switch i {
		case 0:
			fl.before = 2 * paraGap
		case 1:
			fl.before = 8 // with the empty line, room for a signature
		}
		fb.flow = append(fb.flow, fl)
	}
}

// placeFlow places the body lines on pages, below the recipient window on page 1, and sets
// lo.pages.
func (lo *layout) placeFlow(flow []flowLine) {
	page, y := 1, bodyTop1
	top := true
	for i, fl := range flow {
		need := fl.before // from here to the baseline of the last line kept with this one
		for j := i + 1; j <= i+fl.keep && j < len(flow); j++ {
			need += bodyLead + flow[j].before
		}
		if !top && y+need > bodyBottom {
			page++
			y, top = bodyTopN, true
		}
		if !top {
			y += fl.before
		}
		if fl.text != "" {
			lo.ops = append(lo.ops, op{page: page, bold: fl.bold, size: fl.size, x: marginL + fl.indent, y: y, text: fl.text})
		}
		top = false
		if i+1 < len(flow) {
			y += bodyLead
			if y > bodyBottom {
				page++
				y, top = bodyTopN, true
			}
		}
	}
	lo.pages = page
}

// furniture adds a footer on every page ("Notice N-0001 · Page 1 of 2") and, on page 2 and
// after, a header naming who the letter is to and the page, then rounds every position to what
// the PDF records.
func (lo *layout) furniture(reg *face, t *template, foot, who string) {
	for p := 1; p <= lo.pages; p++ {
		f := foot + " · " + t.pageOf(p, lo.pages)
		lo.ops = append(lo.ops, op{page: p, size: 8, x: (pageW - reg.width(f, 8)) / 2, y: footerY, text: f})
		if p > 1 {
			pageOf := t.pageOf(p, lo.pages)
			hw := marginR - marginL - reg.width(pageOf, 9) - 18
			h, _ := reg.wrap(who, 9, hw)
			head := h[0]
			if len(h) > 1 { // the full name is on page 1; the header needs only to match it
				head = strings.TrimSpace(head) + " …"
			}
			lo.ops = append(lo.ops, op{page: p, bold: true, size: 9, x: marginL, y: headerY, text: head})
			lo.ops = append(lo.ops, op{page: p, size: 9, x: marginR - reg.width(pageOf, 9), y: headerY, text: pageOf})
			lo.ops = append(lo.ops, op{page: p, line: true, x: marginL, y: headerY + 6, x2: marginR, y2: headerY + 6})
		}
	}
	lo.round()
}

// round keeps positions to what the PDF records.
func (lo *layout) round() {
	for i := range lo.ops {
		lo.ops[i].x = math.Round(lo.ops[i].x*100) / 100
		lo.ops[i].y = math.Round(lo.ops[i].y*100) / 100
	}
}
