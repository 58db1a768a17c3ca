package letters

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// medium is where a notice's wording goes: a letter, an email or a telephone call say the same
// five things (LAW.md §4) from the same templates, with a few words changed for the medium.
type medium int

const (
	onPaper medium = iota
	inEmail
	byPhone
)

// wordingInput is what compose needs beyond the template. Fields marked clean have been through
// the checker already (the letter checks them earlier, for the envelope).
type wordingInput struct {
	noticeID        string
	org, website    string   // clean; org is not empty
	names           []string // clean name lines, at least one
	minor           bool
	children        []string // as given
	content         *Content
	signatory, role string // as given
}

// section is one of the five required elements (LAW.md §4) under its heading.
type section struct {
	heading string
	text    string // paragraphs separated by "\n"
}

// wording is what one notice says, in one language, before it is laid out: a letter draws it, an
// email writes it as text and HTML, a call script speaks it.
type wording struct {
	tmpl       *template
	salutation string // or, on the phone, the greeting
	intro      string
	sections   [5]section // (A) to (E)
	signature  []string   // signatory, role, organization: those given
}

// compose writes the wording of one notice, checking each field it takes with ck in the order the
// letter has always reported them: children, description, remediation, assistance phone, data
// elements, signatory.
func compose(ck checker, t *template, md medium, in *wordingInput) (*wording, error) {
	w := &wording{tmpl: t}
	missing := func(field string) error {
		return &FieldError{NoticeID: in.noticeID, Field: field, Err: ErrMissing}
	}
	c := in.content
	var children []string
	if in.minor {
		for i, ch := range in.children {
			ch, err := ck.clean(fmt.Sprintf("addressee.children[%d]", i), strings.TrimSpace(ch), false)
			if err != nil {
				return nil, err
			}
			if ch != "" {
				children = append(children, ch)
			}
		}
		if len(children) == 0 {
			return nil, &FieldError{NoticeID: in.noticeID, Field: "addressee.children", Err: ErrMissing,
				Detail: "a notice to a parent or guardian names each affected child"}
		}
	}
	// (A) and (C) in the template's language: a notice is never half in one language and half in
	// English (noticeTemplate chooses English when the translation is missing).
	desc, rem := c.Description, c.Remediation
	if t != english {
		tr, ok := c.translation(t.lang)
		if !ok {
			return nil, &FieldError{NoticeID: in.noticeID, Field: "content.translations." + t.lang, Err: ErrMissing,
				Detail: "a notice in this language needs the description and the remediation in it"}
		}
		desc, rem = tr.Description, tr.Remediation
	}
	var err error
	if desc, err = ck.clean("content.description", strings.TrimSpace(desc), true); err != nil {
		return nil, err
	}
	if desc == "" {
		return nil, missing("content.description")
	}
	if rem, err = ck.clean("content.remediation", strings.TrimSpace(rem), true); err != nil {
		return nil, err
	}
	if rem == "" {
		return nil, missing("content.remediation")
	}
	assist, err := ck.clean("content.assistance_phone", strings.TrimSpace(c.AssistancePhone), false)
	if err != nil {
		return nil, err
	}
	if assist == "" {
		return nil, missing("content.assistance_phone")
	}
	if len(c.DataElements) == 0 {
		return nil, missing("content.data_elements")
	}
	var kinds []string
	for i, e := range c.DataElements {
		k, ok := t.elements[e]
		if !ok {
			return nil, &FieldError{NoticeID: in.noticeID, Field: fmt.Sprintf("content.data_elements[%d]", i),
				Err: ErrUnknown, Detail: fmt.Sprintf("%q has no wording in the templates", e)}
		}
		kinds = append(kinds, k)
	}
	signatory, err := ck.clean("sender.signatory", strings.TrimSpace(in.signatory), false)
	if err != nil {
		return nil, err
	}
	role, err := ck.clean("sender.signatory_role", strings.TrimSpace(in.role), false)
	if err != nil {
		return nil, err
	}
	for _, s := range []string{signatory, role, in.org} {
		if s != "" {
			w.signature = append(w.signature, s)
		}
	}

	website := in.website
	if md == byPhone {
		desc, rem = spokenURLs(t, desc), spokenURLs(t, rem)
		assist, website = spokenNumber(t, assist), spokenURLs(t, website)
	}
	switch {
	case md == byPhone && in.minor:
		w.salutation = t.callHello(in.org, t.guardianOf(t.list(children)))
	case md == byPhone:
		w.salutation = t.callHello(in.org, strings.Join(in.names, " "))
	case in.minor:
		w.salutation = t.dearGuardian(t.list(children))
	default:
		w.salutation = t.dear(strings.Join(in.names, " "))
	}
	switch md {
	case onPaper:
		w.intro = t.intro(in.org, in.minor, len(children), t.thisLetter)
	case inEmail:
		w.intro = t.intro(in.org, in.minor, len(children), t.thisMessage)
	case byPhone:
		w.intro = t.callAbout(in.minor, len(children))
	}

	a := desc
	var dates []string
	if !c.DiscoveredOn.IsZero() {
		dates = append(dates, t.discovered(t.formatDate(c.DiscoveredOn)))
	}
	if !c.OccurredOn.IsZero() {
		dates = append(dates, t.occurred(t.formatDate(c.OccurredOn)))
	}
	if len(dates) > 0 {
		a += "\n" + strings.Join(dates, " ")
	}
	e := t.vigilant
	if md == byPhone {
		e = t.callVigilant(spokenNumber(t, creditReportPhone))
	}
	if in.minor {
		e += "\n" + t.vigilantMinor
	}
	for i, text := range [5]string{a, t.involved(t.list(kinds)), rem, t.call(assist, website), e} {
		w.sections[i] = section{heading: t.headings[i], text: text}
	}
	return w, nil
}

// spokenNumber writes a telephone number to be read aloud digit by digit, its groups apart:
// "(317) 555-0100" becomes "3 1 7, 5 5 5, 0 1 0 0", so a voice does not read "three hundred
// seventeen" or "five hundred fifty-five". "ext." and "x" become the word for extension; other
// letters ("1-800-FLOWERS") stay as written.
func spokenNumber(t *template, s string) string {
	var groups []string
	var cur strings.Builder
	letters := false
	flush := func() {
		if cur.Len() == 0 {
			return
		}
		g := cur.String()
		cur.Reset()
		if letters {
			if w := strings.ToLower(g); w == "x" || w == "ext" || w == "extn" || w == "extension" {
				g = t.extension
			}
			groups = append(groups, g)
			return
		}
		groups = append(groups, g)
	}
	for _, r := range s {
		switch {
		case unicode.IsDigit(r):
			if letters {
				flush()
			}
			letters = false
			cur.WriteRune(r)
		case unicode.IsLetter(r):
			if !letters {
				flush()
			}
			letters = true
			cur.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	// A number written without separators is grouped as a North American number.
	if len(groups) == 1 && isDigits(groups[0]) {
		switch g := groups[0]; {
		case len(g) == 10:
			groups = []string{g[:3], g[3:6], g[6:]}
		case len(g) == 11 && g[0] == '1':
			groups = []string{g[:1], g[1:4], g[4:7], g[7:]}
		}
	}
	for i, g := range groups {
		if isDigits(g) {
			groups[i] = strings.Join(strings.Split(g, ""), " ")
		}
	}
	return strings.Join(groups, ", ")
}

func isDigits(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return s != ""
}

// webAddress finds what a voice would spell out: a URL with a scheme, a www. address, or a host
// name under a common top-level domain, with any path.
var webAddress = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"]+|\bwww\.[^\s<>"]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|gov|edu|us|info)\b(?:/[^\s<>"]*)?`)

// spokenURLs rewrites each web address in s as its host name read aloud ("pikecreek dot k12 dot in
// dot us"): no scheme, no "www", no path. A caller cannot take down a path by ear; the assistance
// number is what a call gives for more.
func spokenURLs(t *template, s string) string {
	return webAddress.ReplaceAllStringFunc(s, func(u string) string {
		trail := ""
		for u != "" && strings.ContainsRune(".,;:!?)]'", rune(u[len(u)-1])) {
			trail = u[len(u)-1:] + trail
			u = u[:len(u)-1]
		}
		if i := strings.Index(u, "://"); i >= 0 {
			u = u[i+3:]
		}
		if i := strings.IndexAny(u, "/?#"); i >= 0 {
			u = u[:i]
		}
		if len(u) > 4 && strings.EqualFold(u[:4], "www.") {
			u = u[4:]
		}
		u = strings.TrimSuffix(u, ".")
		return strings.ReplaceAll(u, ".", " "+t.dot+" ") + trail
	})
}
