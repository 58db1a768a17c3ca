package letters

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

// agencyAddress is where an agency's document goes.
type agencyAddress struct {
	name    string   // as it goes on the envelope and in the letter
	address []string // delivery lines, the last one city, state and ZIP code
}

// agencyAddresses are the postal addresses of the agencies told of a breach.
//
// CHECK BEFORE USE: the consumer reporting agencies' lines are their published consumer mailing
// addresses, not addresses they designate for notices of a breach; the Attorney General's and the
// Office of Technology's are the offices' published street addresses, and either office may prefer
// its online form. Before a document is mailed, check each one against the agency's current
// breach-notification contact (its website, or counsel) and update this table.
var agencyAddresses = map[breach.Agency]agencyAddress{
	breach.AgencyEquifax:    {"Equifax Information Services LLC", []string{"P.O. Box 105069", "Atlanta GA 30348-5069"}},
	breach.AgencyExperian:   {"Experian", []string{"P.O. Box 9554", "Allen TX 75013"}},
	breach.AgencyTransUnion: {"TransUnion", []string{"P.O. Box 2000", "Chester PA 19016"}},
	// Verify before mailing: the Data Breach / Identity Theft Unit's address (IC 24-4.9-3-1(c)).
	breach.AgencyAttorneyGeneral: {"Office of the Indiana Attorney General",
		[]string{"Data Breach / Identity Theft Unit", "302 W. Washington St., 5th Floor", "Indianapolis IN 46204"}},
	// Verify before mailing: the Office of Technology's Security Operations address (IC 4-13.1-2-9).
	breach.AgencyOfficeOfTechnology: {"Indiana Office of Technology",
		[]string{"Security Operations", "100 N. Senate Ave., Room N551", "Indianapolis IN 46204"}},
}

var _ breach.AgencyDocuments = (*Documents)(nil)

// channelNames are the notice channels as the documents name them, in the order they list them.
var channelNames = []struct {
	m    breach.Method
	name string
}{{breach.MethodLetter, "Letter"}, {breach.MethodEmail, "Email"}, {breach.MethodPhone, "Telephone"}}

// channelWords say what given, outstanding and failed mean for one channel. Given is never
// "printed": a printed letter is outstanding until its batch is marked mailed.
var channelWords = map[breach.Method]struct{ plural, given, outstanding, failed string }{
	breach.MethodLetter: {"Letters", "mailed", "printed or waiting to be mailed", "could not be mailed"},
	breach.MethodEmail: {"Emails", "accepted by the recipient's mail server", "waiting to be sent",
		"bounced or were refused, each replaced by a letter"},
	breach.MethodPhone: {"Telephone calls", "with a conversation held", "still being tried",
		"without a conversation within 3 days, each replaced by a letter"},
}

// AgencyDocument writes the document one agency is sent about breach c.Breach, dated c.Date, from
// what c holds — the plan, the notice progress and the obligations every endpoint shows; it never
// assesses the breach itself, so it cannot disagree with them:
//
//   - equifax, experian, transunion: the letter telling a consumer reporting agency the timing,
//     distribution and content of the notices (IC 24-4.9-3-1(b));
//   - attorney_general: the notice to the Indiana Attorney General (IC 24-4.9-3-1(c)) with the
//     facts the office's breach-reporting form asks for;
//   - office_of_technology: the cybersecurity-incident report to the Indiana Office of Technology
//     (IC 4-13.1-2-9).
//
// When the plan does not require the document it says so at the top: the notice is voluntary.
// Each is a letter for a #10 double-window envelope, like the notices, at most two pages (the
// Attorney General's three, as it carries a copy of the notice), or the renderer's MaxPages if more.
//
// It returns an EINVALID error for an unknown agency or no breach, and a *FieldError (EINVALID)
// naming the field that is missing, holds a character the font cannot print, or does not fit.
// Errors from w and the context's error are returned wrapped.
func (d *Documents) AgencyDocument(ctx context.Context, w io.Writer, agency breach.Agency, c breach.CaseDocument) error {
	if c.Breach == nil {
		return breach.Errorf(breach.EINVALID, "agency document: no breach")
	}
	addr, ok := agencyAddresses[agency]
	if !ok {
		return breach.Errorf(breach.EINVALID, "agency document for breach %s: %q is not an agency (want equifax, experian, "+
			"transunion, attorney_general or office_of_technology)", c.Breach.ID, agency)
	}
	what := "agency letter"
	switch agency {
	case breach.AgencyAttorneyGeneral:
		what = "Attorney General notice"
	case breach.AgencyOfficeOfTechnology:
		what = "Office of Technology report"
	}
	if c.Date.IsZero() {
		return &FieldError{Field: "date", Err: ErrMissing, what: what}
	}
	x, err := d.newCaseText(&c, addr, what)
	if err != nil {
		return asDocument(err, what)
	}
	var lo *layout
	switch agency {
	case breach.AgencyAttorneyGeneral:
		lo, err = d.layoutAttorneyGeneral(x)
	case breach.AgencyOfficeOfTechnology:
		lo, err = d.layoutOfficeOfTechnology(x)
	default:
		lo, err = d.layoutAgencyLetter(x)
	}
	if err != nil {
		return asDocument(err, what)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s for breach %s: %w", what, c.Breach.ID, err)
	}
	pdf := d.r.newDoc(lo.title, "en", d.r.clock())
	d.r.draw(pdf, lo)
	if _, err := output(pdf, ctxWriter{ctx, w}); err != nil {
		return fmt.Errorf("%s for breach %s: %w", what, c.Breach.ID, err)
	}
	return nil
}

// caseText is what every agency document says about the case, checked once: the letter's top
// third already drawn, the notice wording, and the case's fields as the font can print them.
type caseText struct {
	t    *template
	c    *breach.CaseDocument
	det  *breach.Determination
	addr agencyAddress
	what string
	lo   *layout
	top  *top
	wd   *wording
	ck   checker
	err  error // the first field that cannot be printed; see clean

	title, assist, phone string
}

func (d *Documents) newCaseText(c *breach.CaseDocument, addr agencyAddress, what string) (*caseText, error) {
	x := &caseText{t: english, c: c, det: &c.Breach.Determination, addr: addr, what: what,
		ck: checker{face: d.r.regular}}
	x.lo = &layout{tmpl: english, ops: make([]op, 0, 160)}
	var err error
	x.top, err = d.r.layoutTop(x.lo, x.ck, english, &d.sender, envelope{date: c.Date, refLabel: "Breach",
		ref: c.Breach.ID, refField: "breach.id", names: []string{addr.name}, nameField: "agency.name",
		address: addr.address, addressField: "agency.address"})
	if err != nil {
		return nil, err
	}
	if x.wd, _, err = d.noticeWording(x.ck, c.Breach, onPaper); err != nil {
		return nil, err
	}
	if x.title = x.clean("determination.title", x.det.Title, false); x.err != nil {
		return nil, x.err
	}
	if x.title == "" {
		return nil, &FieldError{Field: "determination.title", Err: ErrMissing}
	}
	x.assist = x.clean("determination.assistance_phone", x.det.AssistancePhone, false) // required by compose
	x.phone = strings.TrimSpace(d.sender.Phone)                                        // checked by layoutTop
	if x.phone == "" {
		x.phone = x.assist
	}
	return x, x.err
}

// clean checks one field (see checker.clean); after the first failure it returns "" and x keeps
// that error, which the layout returns before anything is drawn.
func (x *caseText) clean(field, s string, multiline bool) string {
	if x.err != nil {
		return ""
	}
	s, err := x.ck.clean(field, strings.TrimSpace(s), multiline)
	if err != nil {
		x.err = err
		return ""
	}
	return s
}

func (x *caseText) date(d breach.Date) string { return x.t.formatDate(d) }

// basis is how many people the plan counted, and from what.
type basis struct {
	affected, residents int
	residentsAssumed    bool   // the number of residents is not known: every affected person counts as one
	source              string // a sentence saying where the numbers come from
}

// basis says the numbers the plan counted (breach.Plan.Counted, which only rules sets) and where
// they come from; it never counts again, so a partial upload never prints as the number affected
// and no document can disagree with the plan's thresholds.
func (x *caseText) basis() basis {
	n := x.c.Plan.Counted
	b := basis{affected: n.Affected, residents: n.IndianaResidents, residentsAssumed: n.IndianaResidentsAssumed}
	switch n.Basis {
	case breach.CountsCompleteList:
		s := "These numbers are counted from the list of affected people, which was declared complete"
		if done := x.c.Breach.RecipientsComplete; done != nil {
			s += " on " + x.date(breach.DateOf(done.At, x.det.Location()))
		}
		b.source = s + "; Indiana residents are those with an Indiana address on record."
	case breach.CountsPartialList:
		pending := fmt.Sprintf("The list of affected people is not complete yet (%s uploaded so far); until it is, "+
			"the larger of our estimate and the list is counted.", thousands(x.c.Recipients.Affected))
		if n.AffectedFrom != breach.FromUpload && n.IndianaResidentsFrom != breach.FromUpload {
			b.source = "These numbers are our estimates. " + pending
			break
		}
		of := func(from breach.CountSource, what string) string {
			switch from {
			case breach.FromEstimateAndUpload:
				return "our estimate, which the list so far matches"
			case breach.FromEstimate:
				return "our estimate"
			}
			return "the " + what + " uploaded so far"
		}
		b.source = "The number affected is " + of(n.AffectedFrom, "people") + "; the number of Indiana residents is " +
			of(n.IndianaResidentsFrom, "Indiana addresses") + ". " + pending
	default:
		b.source = "These numbers are our estimates; the list of affected people has not been uploaded yet."
	}
	return b
}

// people says how many are affected and how many are Indiana residents.
func (b basis) people() string {
	s := plural(b.affected, "person is", "people are") + " affected"
	if b.residentsAssumed {
		return s + "; the number of Indiana residents is not known, so every one of them is counted as an Indiana resident."
	}
	switch b.residents {
	case 0:
		return s + ", none of them Indiana residents."
	case 1:
		return s + ", of whom 1 is an Indiana resident."
	}
	return s + ", of whom " + thousands(b.residents) + " are Indiana residents."
}

// residentsShort is the number of residents for a clause: "1,150 Indiana residents".
func (b basis) residentsShort() string {
	if b.residentsAssumed {
		return plural(b.residents, "person affected (the number of Indiana residents is not known)",
			"people affected (the number of Indiana residents is not known)")
	}
	return plural(b.residents, "Indiana resident", "Indiana residents")
}

// progress says how many notices have been given, from the one count every endpoint shows.
func (x *caseText) progress() string {
	p := x.c.Progress
	as := "As of " + x.date(x.c.Date) + ", "
	if p.Total == 0 {
		return as + "no notice to the people affected has gone out yet."
	}
	s := as + fmt.Sprintf("%s of %s to the people affected %s been given (a letter mailed, an email accepted by the "+
		"mail server, or a telephone conversation held)", thousands(p.Given), plural(p.Total, "notice", "notices"),
		map[bool]string{true: "has", false: "have"}[p.Given == 1])
	if p.Given == p.Total {
		s = as + fmt.Sprintf("all %s to the people affected have been given (a letter mailed, an email accepted by "+
			"the mail server, or a telephone conversation held)", plural(p.Total, "notice", "notices"))
		if p.Total == 1 {
			s = as + "the 1 notice to the people affected has been given"
		}
	}
	if !p.LastGiven.IsZero() {
		s += ", the latest on " + x.date(breach.DateOf(p.LastGiven, x.det.Location()))
	}
	var rest []string
	if p.Outstanding > 0 {
		rest = append(rest, thousands(p.Outstanding)+" "+map[bool]string{true: "is", false: "are"}[p.Outstanding == 1]+
			" not given yet")
	}
	if p.Failed > 0 {
		rest = append(rest, thousands(p.Failed)+" failed and "+map[bool]string{true: "was", false: "were"}[p.Failed == 1]+
			" replaced by a letter")
	}
	if len(rest) > 0 {
		s += "; " + x.t.list(rest)
	}
	return s + "."
}

// channelLines counts each channel's notices in words that never call a printed letter given.
func (x *caseText) channelLines() []string {
	var out []string
	for _, ch := range channelNames {
		w := channelWords[ch.m]
		name := w.plural
		if ch.m == breach.MethodEmail && x.c.Plan.SubstituteNotice.Required {
			name += " (with those of the substitute notice)"
		}
		cp, ok := x.c.Progress.ByChannel[ch.m]
		if !ok || cp.Total == 0 {
			out = append(out, name+": none")
			continue
		}
		parts := []string{thousands(cp.Given) + " " + w.given}
		if cp.Outstanding > 0 {
			parts = append(parts, thousands(cp.Outstanding)+" "+w.outstanding)
		}
		if cp.Failed > 0 {
			parts = append(parts, thousands(cp.Failed)+" "+w.failed)
		}
		out = append(out, name+": "+thousands(cp.Total)+" — "+strings.Join(parts, "; "))
	}
	return out
}

// duty returns the ledger's item id, when the case document carries the ledger.
func (x *caseText) duty(id breach.ObligationID) (breach.Obligation, bool) {
	for _, o := range x.c.Obligations {
		if o.ID == id {
			return o, true
		}
	}
	return breach.Obligation{}, false
}

// substitute describes the substitute notice, each of its three parts done only when the ledger or
// the record says so. It returns nil when the plan does not require one.
func (x *caseText) substitute() []string {
	sn := x.c.Plan.SubstituteNotice
	if !sn.Required {
		return nil
	}
	var why []string
	for _, tr := range sn.Triggers {
		switch tr {
		case breach.TriggerAffectedOver500:
			why = append(why, "more than 500 people are affected")
		case breach.TriggerCostOver250000:
			why = append(why, "the cost of notice would exceed $250,000")
		case breach.TriggerInsufficientContact:
			why = append(why, "we lack usable contact details for some of the people affected")
		}
	}
	lead := "Substitute notice is required (IC 24-4.9-3-4)"
	if len(why) > 0 {
		lead += " because " + x.t.list(why)
	}
	lead += "."
	if sn.ReplacesIndividual {
		lead += " It replaces individual notice, as the statute allows on these counts."
	} else {
		lead += " Everyone we can reach still receives an individual notice."
	}
	lead += " Its three parts, as of " + x.date(x.c.Date) + ":"

	rec := x.c.Breach.Substitute
	loc := x.det.Location()

	email := "not recorded as done yet; its emails are counted with the others above"
	if cp, ok := x.c.Progress.ByChannel[breach.MethodEmail]; !ok || cp.Total == 0 {
		email = "not started"
	}
	email = x.ledger(breach.ObligationSubstituteEmail, email)

	web := "not posted yet"
	if !rec.Website.PostedAt.IsZero() {
		web = "posted on " + x.date(breach.DateOf(rec.Website.PostedAt, loc))
		if u := x.clean("substitute.website.url", rec.Website.URL, false); u != "" {
			web += " at " + u
		}
		if !rec.Website.TakenDownAt.IsZero() {
			web += ", taken down on " + x.date(breach.DateOf(rec.Website.TakenDownAt, loc))
		}
	}
	web = x.ledger(breach.ObligationSubstituteWebsite, web)

	media := "not given yet"
	var told []string
	first := breach.Date{}
	for i, o := range rec.Outlets {
		if o.NotifiedOn.IsZero() {
			continue
		}
		told = append(told, x.clean(fmt.Sprintf("substitute.outlets[%d].name", i), o.Name, false))
		if first.IsZero() || o.NotifiedOn.Before(first) {
			first = o.NotifiedOn
		}
	}
	if len(told) > 0 {
		media = "given to " + x.t.list(told) + " from " + x.date(first)
		if len(told) < len(rec.Outlets) {
			media += fmt.Sprintf(" (%d of the %d outlets recorded)", len(told), len(rec.Outlets))
		}
		for _, r := range x.c.Plan.Reasons {
			switch r.Code {
			case rules.CodeMediaReach:
				media += "; the outlets recorded reach at least 75% of Indiana's population"
			case rules.CodeMediaShort:
				media += "; the outlets recorded do not yet reach 75% of Indiana's population"
			}
		}
	}
	media = x.ledger(breach.ObligationSubstituteMedia, media)

	return []string{lead,
		"Email to every affected person with an email address on file: " + email + ".",
		"Conspicuous posting on our web site: " + web + ".",
		"Notice to major media reaching at least 75% of Indiana's population: " + media + "."}
}

// ledger says where duty id stands when the ledger is at hand — done, waived with its reason,
// or not done — with what the record shows; without the ledger, what the record shows.
func (x *caseText) ledger(id breach.ObligationID, shown string) string {
	o, ok := x.duty(id)
	if !ok {
		return shown
	}
	switch o.Status {
	case breach.ObligationDone:
		if strings.HasPrefix(shown, "not ") {
			return "done"
		}
		return "done — " + shown
	case breach.ObligationWaived:
		return "not done: waived (" + x.clean("obligations."+string(id)+".waiver", o.Waiver, false) + ")"
	case breach.ObligationNotRequired:
		return "not required"
	}
	if strings.HasPrefix(shown, "not ") {
		return shown
	}
	return "not done yet — " + shown
}

// lawEnforcement says whether law enforcement asked for notice to be delayed, and where that stands.
func (x *caseText) lawEnforcement() string {
	if len(x.c.Breach.Holds) == 0 {
		return "No law-enforcement agency has asked us to delay notice."
	}
	var out []string
	for i, h := range x.c.Breach.Holds {
		s := x.clean(fmt.Sprintf("holds[%d].agency", i), h.Agency, false) + " asked us on " + x.date(h.StartDate) +
			" to delay notice, as it would impede a criminal investigation (IC 24-4.9-3-3(b))"
		if h.Open() {
			s += "; the delay is still in effect, and no notice goes out until it is released."
		} else {
			s += "; the delay was released on " + x.date(h.EndDate) + "."
		}
		out = append(out, s)
	}
	return strings.Join(out, "\n")
}

// contact is who answers for the school, without the organization (given just above), and the
// telephone on a line of its own so a number never breaks across lines.
func (x *caseText) contact() string {
	who := x.wd.signature
	if len(who) > 1 && who[len(who)-1] == x.top.org {
		who = who[:len(who)-1]
	}
	return strings.Join(who, ", ") + "\nTelephone " + x.phone
}

// returnAddress is the sender's return address on one line, for a form's organization field.
func (d *Documents) returnAddress(x *caseText) string {
	var ret []string
	for i, a := range d.sender.ReturnAddress {
		if a = x.clean(fmt.Sprintf("sender.return_address[%d]", i), a, false); a != "" {
			ret = append(ret, a)
		}
	}
	return strings.Join(ret, ", ")
}

// measures is what was done: the remediation every notice states, and the actions recorded.
func (x *caseText) measures() string {
	s := x.wd.sections[2].text // (C), the remediation as every notice says it
	if a := x.clean("determination.actions_taken", x.det.ActionsTaken, true); a != "" {
		s += "\nActions taken when the incident was found: " + a
	}
	return s
}

// elements lists the data elements as the notices name them.
func (x *caseText) elements() string {
	var ks []string
	for _, e := range x.det.DataElements {
		if k, ok := x.t.elements[e]; ok {
			ks = append(ks, k)
		}
	}
	return x.t.list(ks) // compose has refused any element without wording
}

// told says, for an agency, whether and when its notice was recorded as sent.
func (x *caseText) told(a breach.Agency) (breach.Date, bool) {
	for _, r := range x.c.Breach.AgencyNotices {
		if r.Agency == a && !r.SentOn.IsZero() {
			return r.SentOn, true
		}
	}
	id := map[breach.Agency]breach.ObligationID{breach.AgencyEquifax: breach.ObligationEquifax,
		breach.AgencyExperian: breach.ObligationExperian, breach.AgencyTransUnion: breach.ObligationTransUnion}[a]
	if o, ok := x.duty(id); ok && o.Status == breach.ObligationDone && !o.RecordedAt.IsZero() {
		return breach.DateOf(o.RecordedAt, x.det.Location()), true
	}
	return breach.Date{}, false
}

// timing says when the individual notices are due.
func (x *caseText) timing() string {
	plan := &x.c.Plan
	switch {
	case !plan.NotificationRequired:
		return "Under the law as we have applied it, notice to the people affected is not required."
	case plan.Held || plan.Deadline.IsZero():
		return "A law-enforcement agency has asked us to delay notice because it would impede a criminal " +
			"investigation (IC 24-4.9-3-3(b)). Individual notices will be given as soon as the agency says notice will " +
			"no longer compromise the investigation."
	case plan.Deadline.Compare(x.det.DiscoveredOn.AddDays(45)) == 0:
		return "Individual notices are being given in the most expedient time possible and no later than " +
			x.date(plan.Deadline) + ", 45 days after we discovered the breach."
	}
	return "Notice was delayed at the request of a law-enforcement agency (IC 24-4.9-3-3(b)). " +
		"Individual notices are due by " + x.date(plan.Deadline) + ", the day the agency released the delay."
}

// letter is the body of an agency document as it is built: headings, paragraphs and facts.
type letter struct {
	fb flowBuilder
}

// heading starts a section; it is larger than a fact's label, so the form's structure reads at a glance.
func (l *letter) heading(s string) { l.fb.para(s, true, sectionSize, 2.5*paraGap, 2) }

// sectionSize is the type size of an agency document's section headings.
const sectionSize = 11.5

func (l *letter) body(s string) { l.fb.para(s, false, bodySize, 0, 0) }

// voluntary is the notice at the top of a document the plan does not require.
func (l *letter) voluntary(s string) { l.fb.para(s, true, bodySize, paraGap, 0) }

// fact is one item of a form-like list: its label in bold, kept with the value indented below.
func (l *letter) fact(label, value string) {
	l.fb.para(label, true, bodySize, paraGap, 1)
	l.fb.indented(value, false, bodySize, 0, 0, 18)
}

// list adds lines indented as a list under what precedes them; each item keeps with the next, so
// a page never starts with the list's last line alone.
func (l *letter) list(lines []string, indent float64) {
	for i, s := range lines {
		l.fb.indented(s, false, bodySize, 0, min(1, len(lines)-1-i), indent)
	}
}

func (d *Documents) finish(x *caseText, l *letter, maxPages int, title string) (*layout, error) {
	if x.err != nil {
		return nil, x.err
	}
	l.fb.closing(x.t.closing, x.wd.signature)
	lo := x.lo
	lo.placeFlow(l.fb.flow)
	if limit := max(d.r.maxPages, maxPages); lo.pages > limit {
		return nil, pageLimitError("", &Content{Description: x.det.Description, Remediation: x.det.Remediation},
			lo.pages, limit)
	}
	lo.furniture(d.r.regular, x.t, "Breach "+x.top.ref, x.addr.name)
	lo.title = title
	return lo, nil
}

// layoutAgencyLetter writes the letter to a consumer reporting agency: the breach, the timing of
// the individual notices, their distribution (the people the plan counted, the notices by
// channel, the substitute notice) and their content (the five required elements as the notices
// say them), and whom to contact.
func (d *Documents) layoutAgencyLetter(x *caseText) (*layout, error) {
	l := &letter{fb: flowBuilder{reg: d.r.regular, bold: d.r.bold}}
	plan := &x.c.Plan
	b := x.basis()
	name := x.addr.name

	l.fb.para("Notice of a data breach affecting Indiana residents", true, titleSize, 0, 1)
	if !plan.ConsumerReportingAgencies.Required {
		if !plan.NotificationRequired {
			l.voluntary("This notice is voluntary. Under the law as we have applied it, notice to the people affected " +
				"is not required, so Indiana law does not require this notice to the consumer reporting agencies " +
				"either (IC 24-4.9-3-1(b)). We send it to keep you informed.")
		} else {
			l.voluntary("This notice is voluntary. Indiana law requires it when more than 1,000 Indiana residents " +
				"are notified (IC 24-4.9-3-1(b)); on our counts " + b.residentsShort() + " are affected, so it is " +
				"not required by IC 24-4.9-3-1(b). We send it to keep you informed.")
		}
	}
	l.fb.para("Dear Sir or Madam:", false, bodySize, 2*paraGap, 0)
	intro := x.top.org + " is writing to tell " + name + " of a breach of the security of data it holds and of the " +
		"timing, distribution and content of the notices it is giving to the people affected"
	if plan.ConsumerReportingAgencies.Required {
		intro += ", as Indiana law asks when more than 1,000 Indiana residents are notified (IC 24-4.9-3-1(b))."
	} else {
		intro += "."
	}
	l.fb.para(intro, false, bodySize, paraGap, 0)

	l.heading("The breach")
	s := x.title + ". We discovered the breach on " + x.date(x.det.DiscoveredOn) + "."
	if !x.det.OccurredOn.IsZero() {
		s += " It took place on or about " + x.date(x.det.OccurredOn) + "."
	}
	l.body(s + " Our reference is " + x.top.ref + ".")

	l.heading("Timing of the notices")
	l.body(x.timing() + " " + x.progress())

	l.heading("Distribution of the notices")
	s = b.people() + " " + b.source
	rc := x.c.Recipients
	if rc.Minors > 0 {
		s += fmt.Sprintf(" Of the people uploaded, %s; their notices go to a parent or guardian.",
			plural(rc.Minors, "is a minor", "are minors"))
	}
	if rc.InsufficientContact > 0 {
		s += fmt.Sprintf(" We have no usable contact details for %s.", plural(rc.InsufficientContact, "person", "people"))
	}
	l.body(s)
	l.fb.para("Notices by channel:", false, bodySize, paraGap/2, 1)
	l.list(x.channelLines(), 18)
	if sub := x.substitute(); sub != nil {
		l.fb.para(sub[0], false, bodySize, paraGap/2, 1)
		l.list(sub[1:], 18)
	}

	l.heading("Content of the notices")
	l.body("Every individual notice says the following, in these words. A notice to a parent or guardian names the " +
		"child and adds advice on a child's credit report; notices are in English or Spanish.")
	for _, sec := range x.wd.sections {
		l.fb.indented(sec.heading, true, bodySize, paraGap, 2, 18)
		l.fb.indented(sec.text, false, bodySize, 0, 0, 18)
	}

	l.heading("Contact")
	l.body("For questions about this notice, please contact " + strings.Join(x.wd.signature, ", ") + " at " + x.phone +
		". The people affected may call " + x.assist + ".")
	return d.finish(x, l, 2, "Notice to "+name+" — "+x.title)
}

// layoutAttorneyGeneral writes the notice to the Indiana Attorney General (IC 24-4.9-3-1(c)) with
// the facts the office's data-breach reporting form asks for, and a copy of what the notices say.
func (d *Documents) layoutAttorneyGeneral(x *caseText) (*layout, error) {
	l := &letter{fb: flowBuilder{reg: d.r.regular, bold: d.r.bold}}
	plan := &x.c.Plan
	b := x.basis()

	l.fb.para("Notice of a data breach to the Indiana Attorney General", true, titleSize, 0, 1)
	if !plan.AttorneyGeneral.Required {
		why := "no Indiana residents are affected"
		if !plan.NotificationRequired {
			why = "notice to the people affected is not required under the law as we have applied it"
		}
		l.voluntary("This notice is voluntary. Indiana law requires notice to the Attorney General when Indiana " +
			"residents are notified of a breach (IC 24-4.9-3-1(c)); on the facts below, " + why + ", so this notice " +
			"is not required. We send it to keep your office informed.")
	}
	l.fb.para("Dear Sir or Madam:", false, bodySize, 2*paraGap, 0)
	intro := x.top.org + " gives notice to the Office of the Attorney General of a breach of the security of data it holds"
	if plan.AttorneyGeneral.Required {
		intro += ", as IC 24-4.9-3-1(c) requires when Indiana residents are notified"
	}
	l.fb.para(intro+". The facts below are those the Attorney General's data breach reporting form asks for.",
		false, bodySize, paraGap, 0)

	l.heading("Organization and contact")
	l.fact("Organization", x.top.org+", "+d.returnAddress(x))
	l.fact("Contact", x.contact())
	l.fact("Telephone number for the people affected", x.assist)
	l.fact("Our reference", x.top.ref)

	l.heading("Dates")
	occurred := "not known"
	if !x.det.OccurredOn.IsZero() {
		occurred = "on or about " + x.date(x.det.OccurredOn)
	}
	l.fact("Breach occurred", occurred)
	l.fact("Breach discovered", x.date(x.det.DiscoveredOn))
	l.fact("Notices to the people affected", x.timing()+" "+x.progress())

	l.heading("The breach")
	l.fact("What happened", x.title+".\n"+x.wd.sections[0].text)
	l.fact("Information involved", x.elements())

	l.heading("People affected")
	l.fact("Number affected and Indiana residents", b.people()+" "+b.source)

	l.heading("How the people affected are told")
	l.body("Individual notice goes by letter, or by email or telephone where the law allows; minors' notices go to a " +
		"parent or guardian. By channel:")
	l.list(x.channelLines(), 18)
	if sub := x.substitute(); sub != nil {
		l.fact("Substitute notice", sub[0])
		l.list(sub[1:], 30)
	} else {
		l.fact("Substitute notice", "Not required (IC 24-4.9-3-4).")
	}

	l.heading("Law enforcement")
	l.body(x.lawEnforcement())

	l.heading("Measures taken")
	l.body(x.measures())

	l.heading("Consumer reporting agencies")
	l.body(x.craStatus(b))

	l.heading("A copy of what the notices say")
	l.body("Every individual notice says the following, in these words:")
	for _, sec := range x.wd.sections {
		l.fb.indented(sec.heading, true, bodySize, paraGap, 2, 18)
		l.fb.indented(sec.text, false, bodySize, 0, 0, 18)
	}
	return d.finish(x, l, 3, "Notice to the Indiana Attorney General — "+x.title)
}

// craStatus says whether the consumer reporting agencies must be told and which have been.
func (x *caseText) craStatus(b basis) string {
	cra := x.c.Plan.ConsumerReportingAgencies
	if !cra.Required {
		return "Not required: " + b.residentsShort() + ", not more than 1,000 (IC 24-4.9-3-1(b))."
	}
	var told, not []string
	for _, a := range breach.ConsumerReportingAgencies {
		name := agencyAddresses[a].name
		if on, ok := x.told(a); ok {
			told = append(told, name+" on "+x.date(on))
		} else {
			not = append(not, name)
		}
	}
	s := "Required, as more than 1,000 Indiana residents are affected (IC 24-4.9-3-1(b))."
	if len(told) > 0 {
		s += " Told: " + x.t.list(told) + "."
	}
	if len(not) > 0 {
		s += " Not told yet: " + x.t.list(not)
		if !cra.Due.IsZero() {
			s += " (due by " + x.date(cra.Due) + ")"
		}
		s += "."
	}
	return s
}

// layoutOfficeOfTechnology writes the cybersecurity-incident report to the Indiana Office of
// Technology (IC 4-13.1-2-9), due two business days after discovery.
func (d *Documents) layoutOfficeOfTechnology(x *caseText) (*layout, error) {
	l := &letter{fb: flowBuilder{reg: d.r.regular, bold: d.r.bold}}
	plan := &x.c.Plan
	ot := plan.OfficeOfTechnology
	det := x.det

	l.fb.para("Cybersecurity incident report to the Indiana Office of Technology", true, titleSize, 0, 1)
	category := strings.ReplaceAll(x.clean("determination.category", string(det.Category), false), "_", " ")
	if !ot.Required {
		l.voluntary("This report is voluntary. A school corporation must report a cybersecurity incident to the " +
			"Office of Technology (IC 4-13.1-2-9); this incident is recorded as " + cmp.Or(category, "not a cybersecurity incident") +
			", so the report is not required. We send it to keep your office informed.")
	}
	l.fb.para("Dear Sir or Madam:", false, bodySize, 2*paraGap, 0)
	intro := x.top.org + " reports a cybersecurity incident to the Indiana Office of Technology"
	if ot.Required && !ot.Due.IsZero() {
		intro += ", as IC 4-13.1-2-9 requires within two business days of discovery: by " + x.date(ot.Due)
		if x.c.Date.After(ot.Due) {
			intro += ". This report is sent after that date"
		}
	}
	l.fb.para(intro+".", false, bodySize, paraGap, 0)

	l.heading("Entity and contact")
	l.fact("Entity", x.top.org+" (school corporation), "+d.returnAddress(x))
	l.fact("Contact", x.contact())
	l.fact("Our reference", x.top.ref)

	l.heading("The incident")
	l.fact("Incident", x.title)
	sev := x.clean("determination.severity", string(det.Severity), false)
	l.fact("Category and severity", "Category: "+cmp.Or(category, "not recorded (reported as a cybersecurity incident)")+
		". Severity: "+cmp.Or(sev, "not recorded")+".")
	occurred := "not known"
	if !det.OccurredOn.IsZero() {
		occurred = "on or about " + x.date(det.OccurredOn)
	}
	due := "none: the report is not required"
	if ot.Required && !ot.Due.IsZero() {
		due = x.date(ot.Due) + " (two business days after discovery)"
	}
	l.fact("Dates", "Discovered "+x.date(det.DiscoveredOn)+"; occurred "+occurred+". Report due: "+due+".")
	var systems []string
	for i, sys := range det.SystemsAffected {
		if sys = x.clean(fmt.Sprintf("determination.systems_affected[%d]", i), sys, false); sys != "" {
			systems = append(systems, sys)
		}
	}
	l.fact("Systems affected", cmp.Or(strings.Join(systems, "; "), "not recorded"))
	l.fact("What happened", x.wd.sections[0].text)
	l.fact("Actions taken", x.measures())

	l.heading("Personal information and people affected")
	l.fact("Personal information involved", x.personalInformation())
	b := x.basis()
	l.fact("People affected", b.people()+" "+b.source)
	l.fact("Notice to the people affected", x.timing()+" "+x.progress())
	l.fact("Law enforcement", x.lawEnforcement())

	l.heading("Current status")
	l.body(x.status())
	return d.finish(x, l, 2, "Report to the Indiana Office of Technology — "+x.title)
}

// personalInformation answers from the plan's first decision (LAW.md §1.1), in its words.
func (x *caseText) personalInformation() string {
	for i, r := range x.c.Plan.Reasons {
		field := fmt.Sprintf("plan.reasons[%d].text", i)
		switch r.Code {
		case rules.CodePersonalInformation:
			return "Yes. " + x.clean(field, r.Text, false) + " Information involved: " + x.elements() + "."
		case rules.CodeNoPersonalInformation:
			return "No. " + x.clean(field, r.Text, false)
		}
	}
	return "Not assessed: the plan does not say. Information involved: " + x.elements() + "."
}

// status is where the case stands.
func (x *caseText) status() string {
	b := x.c.Breach
	switch {
	case b.Status == breach.StatusClosed && b.Outcome != nil:
		return "Closed on " + x.date(breach.DateOf(b.Outcome.ClosedAt, x.det.Location())) + " with an outcome report."
	case b.Status == breach.StatusClosed:
		return "Closed."
	case x.c.Plan.Held || b.Status == breach.StatusHeld:
		return "On hold: a law-enforcement agency asked us to delay notice, and nothing goes out until it is released."
	case b.Status == breach.StatusDispatched:
		p := x.c.Progress
		return fmt.Sprintf("Open: notices to the people affected are going out (given so far: %s of %s, as above).",
			thousands(p.Given), thousands(p.Total))
	}
	s := "Open: the investigation is under way."
	if x.c.Plan.NotificationRequired {
		s += " " + x.progress()
	}
	return s
}
