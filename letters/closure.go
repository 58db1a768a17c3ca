package letters

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	breach "github.com/breachd/breachd"
)

// ClosureReport writes the closure (outcome) report of a breach as a PDF: the record an auditor
// files. It prints, in order: the breach and when the report was generated; the determination,
// every field (a reporter who asked for anonymity is shown as "anonymous"); the plan's decisions,
// each reason with its code and citation; the deadline and whether it was met; the law-enforcement
// holds; the people affected; the notices by channel and status; the substitute notice; the
// agency notices; the outcome; and the timeline: the breach's events, and its notice events counted
// by type (r.NoticeEvents). Tables that run over a page repeat their header row; every page
// carries the breach and "Page N of M".
//
// Times are printed in the breach's time zone. The PDF's creation date is r.GeneratedAt (the
// renderer's clock when zero), so the same record gives the same bytes.
//
// It returns an EINVALID error when r has no breach, and a *FieldError (EINVALID) naming the first
// field holding a character the font cannot print ("events[12].summary"); nothing is written
// then. Errors from w and the context's error are returned wrapped.
func (d *Documents) ClosureReport(ctx context.Context, w io.Writer, r breach.ClosureReport) error {
	if r.Breach == nil {
		return breach.Errorf(breach.EINVALID, "closure report: no breach")
	}
	now := r.GeneratedAt
	if now.IsZero() {
		now = d.r.clock()
	}
	lo, title, err := d.layoutClosure(ctx, &r, now)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("closure report for breach %s: %w", r.Breach.ID, err)
	}
	pdf := d.r.newDoc(title, "en", now)
	d.r.draw(pdf, lo)
	if _, err := output(pdf, ctxWriter{ctx, w}); err != nil {
		return fmt.Errorf("closure report for breach %s: %w", r.Breach.ID, err)
	}
	return nil
}

func (d *Documents) layoutClosure(ctx context.Context, r *breach.ClosureReport, now time.Time) (*layout, string, error) {
	b := r.Breach
	det := &b.Determination
	loc := det.Location()
	ck := checker{face: d.r.regular}
	fail := func(err error) (*layout, string, error) { return nil, "", asDocument(err, "closure report") }

	id, err := ck.clean("breach.id", strings.TrimSpace(b.ID), false)
	if err != nil {
		return fail(err)
	}
	title, err := ck.clean("determination.title", strings.TrimSpace(det.Title), false)
	if err != nil {
		return fail(err)
	}
	org, err := ck.clean("sender.organization", strings.TrimSpace(d.sender.Organization), false)
	if err != nil {
		return fail(err)
	}
	running := "Closure report · Breach " + id
	var rep *report
	rep = newReport(d.r, ck, func(p int) {
		if p == 1 {
			return
		}
		head := running
		if ws, _ := d.r.regular.wrap(running+" · "+title, 8, repWidth); len(ws) == 1 {
			head = ws[0]
		}
		rep.lo.ops = append(rep.lo.ops, op{page: p, size: 8, x: repMarginL, y: repHeaderY, text: head},
			op{page: p, line: true, x: repMarginL, y: repHeaderY + 5, x2: repMarginR, y2: repHeaderY + 5})
	})

	date := func(x breach.Date) string {
		if x.IsZero() {
			return "—"
		}
		return x.String()
	}
	at := func(x time.Time) string {
		if x.IsZero() {
			return "—"
		}
		return x.In(loc).Format("2006-01-02 15:04 MST")
	}
	yes := func(v bool) string {
		if v {
			return "yes"
		}
		return "no"
	}
	c := rep.clean
	section := func(s string) { rep.heading(s, 12.5) }

	// Title block.
	rep.text(true, 18, repMarginL, "Closure report")
	rep.y += 26
	rep.para(title, true, 12, 15, 0)
	rep.y += 4
	rep.fields([][2]string{
		{"Breach ID", id},
		{"School", org},
		{"Status", c("breach.status", string(b.Status), false)},
		{"Recorded", at(b.CreatedAt) + " by " + c("breach.created_by", b.CreatedBy, false)},
		{"Generated at", at(now)},
	})
	d.dutiesOpen(rep, r, at)

	// The obligations ledger: every duty the plan creates, where it stands and its evidence.
	section("Obligations")
	d.ledger(rep, r, date, at)

	// The determination.
	section("Determination")
	var elems []string
	for _, e := range det.DataElements {
		elems = append(elems, c("determination.data_elements", string(e), false))
	}
	residents := "not known"
	if det.IndianaResidents != nil {
		residents = thousands(*det.IndianaResidents)
	}
	cost := "not estimated"
	if det.NoticeCostEstimate != nil {
		cost = "$" + dollars(*det.NoticeCostEstimate)
	}
	reporter := "anonymous (the reporter asked for anonymity)"
	if !det.Reporter.Anonymous {
		var parts []string
		for i, s := range []string{det.Reporter.Name, det.Reporter.Role, det.Reporter.Email, det.Reporter.Phone} {
			field := "determination.reporter." + [...]string{"name", "role", "email", "phone"}[i]
			if s = c(field, s, false); s != "" {
				parts = append(parts, s)
			}
		}
		reporter = strings.Join(parts, ", ")
		if reporter == "" {
			reporter = "not recorded"
		}
	}
	var systems []string
	for i, s := range det.SystemsAffected {
		systems = append(systems, c(fmt.Sprintf("determination.systems_affected[%d]", i), s, false))
	}
	rep.fields([][2]string{
		{"Version", strconv.Itoa(b.DeterminationVersion)},
		{"Jurisdiction", cmp.Or(c("determination.jurisdiction", det.Jurisdiction, false), "IN")},
		{"Time zone", loc.String()},
		{"Discovered on", date(det.DiscoveredOn)},
		{"Occurred on", unknownIfZero(det.OccurredOn)},
		{"Description", c("determination.description", det.Description, true)},
		{"Data elements", strings.Join(elems, ", ")},
		{"Encrypted", yes(det.Encrypted)},
		{"Redacted", yes(det.Redacted)},
		{"Key compromised", yes(det.KeyCompromised)},
		{"Risk of harm", cmp.Or(c("determination.risk_of_harm", string(det.RiskOfHarm), false), "undetermined")},
		{"Risk rationale", cmp.Or(c("determination.risk_rationale", det.RiskRationale, true), "—")},
		{"Affected", thousands(det.AffectedCount)},
		{"Indiana residents", residents},
		{"Notice cost estimate", cost},
		{"Contact info sufficient", yes(det.ContactInfoSufficient)},
		{"Remediation", c("determination.remediation", det.Remediation, true)},
		{"Assistance phone", c("determination.assistance_phone", det.AssistancePhone, false)},
		{"Reporter", reporter},
		{"Category", cmp.Or(c("determination.category", string(det.Category), false), "—")},
		{"Severity", cmp.Or(c("determination.severity", string(det.Severity), false), "—")},
		{"Systems affected", cmp.Or(strings.Join(systems, ", "), "—")},
		{"Actions taken", cmp.Or(c("determination.actions_taken", det.ActionsTaken, true), "—")},
	})

	// The plan's decisions.
	p := &r.Plan
	section("Decisions of the plan")
	rep.fields([][2]string{
		{"Rule pack", c("plan.rule_pack", fmt.Sprintf("%s %s (%s)", p.RulePack.ID, p.RulePack.Version, p.RulePack.Jurisdiction), false)},
		{"Assessed as of", date(p.AsOf)},
		{"Notification required", yes(p.NotificationRequired)},
		{"Counted", countedText(p.Counted)},
	})
	rep.y += 6
	var rows [][]string
	for i, rs := range p.Reasons {
		f := fmt.Sprintf("plan.reasons[%d].", i)
		rows = append(rows, []string{c(f+"code", rs.Code, false), c(f+"text", rs.Text, false), c(f+"citation", rs.Citation, false)})
	}
	if len(rows) == 0 {
		rep.para("The plan gives no reasons.", false, repBodySize, repBodyLead, 0)
	} else {
		codes := []string{"Code"}
		for _, row := range rows {
			codes = append(codes, row[0])
		}
		cw := rep.fit(codes, 0.36)
		rep.table([]column{{title: "Code", width: cw}, {title: "Reason", width: 0.78 - cw}, {title: "Citation", width: 0.22}}, rows, nil)
	}

	rep.y += 4
	rep.para("The plan is the law engine's assessment as of "+date(p.AsOf)+" from the determination and the holds; "+
		"it does not know which notices went out, so a reason may still call notice overdue. Whether the deadline "+
		"was met is below.", false, 8, 10, 0)

	// The deadline.
	section("Deadline")
	met := "open"
	if r.DeadlineMet != nil {
		met = "no — notice went out after the deadline, or has not all gone out"
		if *r.DeadlineMet {
			met = "yes"
		}
	}
	deadline := date(p.Deadline)
	switch {
	case !p.NotificationRequired:
		deadline = "none: notification is not required"
	case p.Deadline.IsZero():
		deadline = "none yet: a law-enforcement hold covering day 45 is open"
	}
	pr := &r.Progress
	rep.fields([][2]string{
		{"Deadline", deadline},
		{"Deadline met", met},
		{"Last notice given", at(pr.LastGiven)},
		{"Notices given", thousands(pr.Given) + " of " + thousands(pr.Total) + " (a letter mailed, an email accepted, a conversation held)"},
		{"Notices outstanding", thousands(pr.Outstanding)},
		{"Notices failed", thousands(pr.Failed) + " (each replaced by a letter, counted with the letters)"},
	})

	// Holds.
	section("Law-enforcement holds")
	rows = rows[:0]
	for i, h := range b.Holds {
		f := fmt.Sprintf("holds[%d].", i)
		end := date(h.EndDate)
		if h.Open() {
			end = "open"
		}
		rows = append(rows, []string{c(f+"agency", h.Agency, false), date(h.StartDate), end, yes(h.InWriting),
			c(f+"placed_by", h.PlacedBy, false), c(f+"released_by", h.ReleasedBy, false)})
	}
	if len(rows) == 0 {
		rep.para("No law-enforcement agency asked for notice to be delayed.", false, repBodySize, repBodyLead, 0)
	} else {
		rep.table([]column{{title: "Agency", width: 0.32}, {title: "Start", width: 0.13}, {title: "End", width: 0.13},
			{title: "In writing", width: 0.1}, {title: "Placed by", width: 0.16}, {title: "Released by", width: 0.16}}, rows, nil)
	}

	// People and notices.
	section("People affected")
	rc := r.Recipients
	rep.fields([][2]string{
		{"Affected", thousands(rc.Affected)},
		{"Indiana residents", thousands(rc.IndianaResidents)},
		{"Minors", thousands(rc.Minors)},
		{"Insufficient contact", thousands(rc.InsufficientContact)},
	})
	section("Notices by channel and status")
	cols := []column{{title: "Channel", width: 0.16}}
	for _, st := range breach.NoticeStatuses {
		cols = append(cols, column{title: string(st), width: 0.1, right: true})
	}
	cols = append(cols, column{title: "total", width: 0.12, right: true}, column{title: "given", width: 0.12, right: true})
	// The statuses break the channel down; its total and what was given are the Progress every
	// other count in the report (and the status endpoint) uses.
	rows = rows[:0]
	colTotals := make([]int, len(breach.NoticeStatuses))
	for _, ch := range channelNames {
		row := []string{ch.name}
		for i, st := range breach.NoticeStatuses {
			n := r.Notices[ch.m][st]
			row = append(row, thousands(n))
			colTotals[i] += n
		}
		cp := pr.ByChannel[ch.m]
		rows = append(rows, append(row, thousands(cp.Total), thousands(cp.Given)))
	}
	foot := []string{"All"}
	for _, n := range colTotals {
		foot = append(foot, thousands(n))
	}
	rep.table(cols, rows, append(foot, thousands(pr.Total), thousands(pr.Given)))
	rep.y += 4
	rep.para("Given: a letter mailed (returned mail included), an email accepted by the mail server, a telephone "+
		"conversation held. A printed letter (sent) is not given until its batch is marked mailed.", false, 8, 10, 0)

	// Substitute notice.
	section("Substitute notice")
	sn := p.SubstituteNotice
	var triggers, methods []string
	for _, tr := range sn.Triggers {
		triggers = append(triggers, c("plan.substitute_notice.triggers", string(tr), false))
	}
	for _, m := range sn.Methods {
		methods = append(methods, c("plan.substitute_notice.methods", string(m), false))
	}
	ws := &r.Substitute.Website
	rep.fields([][2]string{
		{"Required", yes(sn.Required)},
		{"Triggers", cmp.Or(strings.Join(triggers, ", "), "—")},
		{"Methods", cmp.Or(strings.Join(methods, ", "), "—")},
		{"Replaces individual notice", yes(sn.ReplacesIndividual)},
		{"Web site", cmp.Or(c("substitute.website.url", ws.URL, false), "—")},
		{"Posted", at(ws.PostedAt) + by(c("substitute.website.posted_by", ws.PostedBy, false))},
		{"Taken down", at(ws.TakenDownAt) + by(c("substitute.website.taken_down_by", ws.TakenDownBy, false))},
	})
	rows = rows[:0]
	audience := 0
	for i, o := range r.Substitute.Outlets {
		f := fmt.Sprintf("substitute.outlets[%d].", i)
		audience += o.Audience
		rows = append(rows, []string{c(f+"name", o.Name, false), c(f+"kind", o.Kind, false), thousands(o.Audience),
			yes(o.Local), date(o.NotifiedOn)})
	}
	if len(rows) > 0 {
		rep.y += 6
		rep.table([]column{{title: "Media outlet", width: 0.4}, {title: "Kind", width: 0.15},
			{title: "Audience", width: 0.15, right: true}, {title: "Local", width: 0.12}, {title: "Notified on", width: 0.18}}, rows,
			[]string{"Total audience", "", thousands(audience), "", ""})
	} else {
		rep.para("No media outlet is recorded.", false, repBodySize, repBodyLead, 0)
	}

	// Agency notices.
	section("Agency notices")
	due := func(a breach.AgencyNotice) string {
		if !a.Required {
			return "not required"
		}
		return "required, due " + date(a.Due)
	}
	rep.fields([][2]string{
		{"Consumer reporting agencies", due(p.ConsumerReportingAgencies)},
		{"Indiana Attorney General", due(p.AttorneyGeneral)},
		{"Indiana Office of Technology", due(p.OfficeOfTechnology)},
	})
	rows = rows[:0]
	for i, a := range r.Agencies {
		f := fmt.Sprintf("agencies[%d].", i)
		rows = append(rows, []string{c(f+"agency", string(a.Agency), false), date(a.SentOn), at(a.SentAt),
			c(f+"sent_by", a.SentBy, false)})
	}
	if len(rows) > 0 {
		rep.y += 6
		rep.table([]column{{title: "Agency", width: 0.3}, {title: "Sent on", width: 0.2}, {title: "Recorded at", width: 0.25},
			{title: "Sent by", width: 0.25}}, rows, nil)
	} else {
		rep.para("No agency notice is recorded.", false, repBodySize, repBodyLead, 0)
	}

	// Outcome.
	section("Outcome")
	if o := r.Outcome; o != nil {
		rep.fields([][2]string{
			{"Summary", c("outcome.summary", o.Summary, true)},
			{"Lessons learned", cmp.Or(c("outcome.lessons_learned", o.LessonsLearned, true), "—")},
			{"Closed at", at(o.ClosedAt)},
			{"Closed by", c("outcome.closed_by", o.ClosedBy, false)},
		})
	} else {
		rep.para("No outcome is recorded: the breach is not closed.", false, repBodySize, repBodyLead, 0)
	}

	// Timeline.
	section("Timeline")
	noticeTypes := slices.Sorted(maps.Keys(r.NoticeEvents))
	noticeTotal := 0
	for _, t := range noticeTypes {
		noticeTotal += r.NoticeEvents[t]
	}
	lead := fmt.Sprintf("%s, oldest first. Times are in %s.", plural(len(r.Events), "event", "events"), loc.String())
	if len(noticeTypes) > 0 {
		// A breach of a million people has millions of notice events: they are counted here and
		// listed one by one in the event log (the chain export, the evidence bundle).
		lead = fmt.Sprintf("The breach's %s, oldest first; its %s about notices (queued, sent, delivered, mailed, calls, "+
			"print batches) are counted by type after them, and listed one by one in the event log (the chain export and "+
			"the evidence bundle's events.ndjson). Times are in %s.",
			plural(len(r.Events), "event", "events"), plural(noticeTotal, "event", "events"), loc.String())
	}
	rep.para(lead, false, repBodySize, repBodyLead, 0)
	rep.y += 4
	rows = make([][]string, 0, len(r.Events))
	for i, e := range r.Events {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, "", fmt.Errorf("closure report for breach %s: %w", b.ID, ctx.Err())
		}
		f := fmt.Sprintf("events[%d].", i)
		rows = append(rows, []string{at(e.At), c(f+"actor", e.Actor, false), c(f+"role", string(e.Role), false),
			c(f+"type", string(e.Type), false), c(f+"summary", e.Summary, false)})
	}
	if len(rows) > 0 {
		times := make([]string, len(rows))
		for i, row := range rows {
			times[i] = row[0]
		}
		types := make([]string, len(rows))
		for i, row := range rows {
			types[i] = row[3]
		}
		// Time and Type take what their widest cell needs, so a time or an event type (searched
		// for by auditors) never breaks across lines; Summary wraps in what is left.
		tw, yw := rep.fit(times, 0.22), rep.fit(types, 0.26)
		rep.table([]column{{title: "Time", width: tw}, {title: "Actor", width: 0.17}, {title: "Role", width: 0.07},
			{title: "Type", width: yw}, {title: "Summary", width: 0.76 - tw - yw}}, rows, nil)
	}
	if len(noticeTypes) > 0 {
		rep.y += 4
		rows = make([][]string, len(noticeTypes))
		for i, t := range noticeTypes {
			rows[i] = []string{c(fmt.Sprintf("notice_events[%d]", i), string(t), false), thousands(r.NoticeEvents[t])}
		}
		rep.table([]column{{title: "Notice events by type", width: 0.6}, {title: "Events", width: 0.4, right: true}}, rows,
			[]string{"Total", thousands(noticeTotal)})
	}
	if rep.err != nil {
		return fail(rep.err)
	}
	rep.footer(running)
	rep.lo.round()
	return rep.lo, "Closure report — " + cmp.Or(title, id), nil
}

func unknownIfZero(d breach.Date) string {
	if d.IsZero() {
		return "unknown"
	}
	return d.String()
}

// by writes " by who", or nothing when nobody is recorded.
func by(who string) string {
	if who == "" {
		return ""
	}
	return " by " + who
}

// dollars writes an amount with thousands separators: 250,000.01.
func dollars(m breach.Money) string {
	s := m.String()
	whole, cents, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(whole, "-")
	n, err := strconv.Atoi(strings.TrimPrefix(whole, "-"))
	if err != nil {
		return s
	}
	whole = thousands(n)
	if neg {
		whole = "-" + whole
	}
	if cents == "" {
		return whole
	}
	return whole + "." + cents
}

// waivedDuty is a duty left undone, with the reason an administrator recorded.
type waivedDuty struct {
	title, citation, reason, by string
	at                          time.Time
}

// waivedDuties lists the duties waived: every ledger item whose status is waived, and every duty
// whose record in force (the latest) is a waiver given at close, unless the ledger shows it
// otherwise now. Ledger order first, then the records' order.
func waivedDuties(rep *report, r *breach.ClosureReport) []waivedDuty {
	var out []waivedDuty
	inLedger := map[breach.ObligationID]bool{}
	for i, o := range r.Obligations {
		inLedger[o.ID] = true
		if o.Status != breach.ObligationWaived {
			continue
		}
		f := fmt.Sprintf("obligations[%d].", i)
		out = append(out, waivedDuty{title: rep.clean(f+"title", cmp.Or(o.Title, string(o.ID)), false),
			citation: rep.clean(f+"citation", o.Citation, false), reason: rep.clean(f+"waiver", o.Waiver, true),
			by: rep.clean(f+"recorded_by", o.RecordedBy, false), at: o.RecordedAt})
	}
	latest := map[breach.ObligationID]int{}
	var order []breach.ObligationID
	for i, rec := range r.Breach.Obligations {
		if _, ok := latest[rec.Obligation]; !ok {
			order = append(order, rec.Obligation)
		}
		latest[rec.Obligation] = i
	}
	for _, id := range order {
		i := latest[id]
		rec := r.Breach.Obligations[i]
		if inLedger[id] || rec.Status != breach.ObligationWaived || !rec.AtClose {
			continue
		}
		f := fmt.Sprintf("breach.obligations[%d].", i)
		out = append(out, waivedDuty{title: rep.clean(f+"obligation", string(id), false),
			reason: rep.clean(f+"reason", rec.Reason, true), by: rep.clean(f+"by", rec.By, false), at: rec.At})
	}
	return out
}

// dutiesOpen draws, near the top of the report, a ruled box headed "Closed with duties open"
// listing each waived duty and why, so that no reader of the report can miss that the case was
// closed with a duty undone.
func (d *Documents) dutiesOpen(rep *report, r *breach.ClosureReport, at func(time.Time) string) {
	ws := waivedDuties(rep, r)
	if len(ws) == 0 {
		return
	}
	heading, intro := "Closed with duties open", "The breach was closed with these duties not done. The reason recorded for each:"
	if r.Breach.Status != breach.StatusClosed && r.Outcome == nil {
		heading, intro = "Duties waived", "These duties were waived: they will not be done. The reason recorded for each:"
	}
	const pad, bar = 8.0, 4.0
	x0 := repMarginL + bar + pad
	w := repWidth - bar - 2*pad
	type boxLine struct {
		text   string
		bold   bool
		size   float64
		lead   float64
		indent float64
	}
	var ls []boxLine
	add := func(s string, b bool, size, lead, indent float64) {
		wr, _ := rep.face(b).wrap(s, size, w-indent)
		for _, l := range wr {
			ls = append(ls, boxLine{l, b, size, lead, indent})
		}
	}
	add(heading, true, 12.5, 17, 0)
	add(intro, false, repBodySize, repBodyLead, 0)
	for _, wd := range ws {
		t := "• " + wd.title
		if wd.citation != "" {
			t += " (" + wd.citation + ")"
		}
		ls = append(ls, boxLine{lead: 4})
		add(t, true, repBodySize, repBodyLead, 0)
		for _, p := range strings.Split(cmp.Or(wd.reason, "no reason recorded"), "\n") {
			add(p, false, repBodySize, repBodyLead, 10)
		}
		if wd.by != "" || !wd.at.IsZero() {
			add("Waived"+by(wd.by)+", "+at(wd.at), false, 8, 10, 10)
		}
	}
	h := 2 * pad
	for _, l := range ls {
		h += l.lead
	}
	rep.y += 12
	if h > repBottom-repTopHeaded { // taller than a page: no box, but every line, under a rule
		rep.rule(repMarginL, repMarginR)
		rep.y += pad
		for _, l := range ls {
			rep.room(l.lead)
			rep.text(l.bold, l.size, x0+l.indent, l.text)
			rep.y += l.lead
		}
		return
	}
	rep.room(h)
	y0 := rep.y
	rep.y += pad
	for _, l := range ls {
		rep.text(l.bold, l.size, x0+l.indent, l.text)
		rep.y += l.lead
	}
	rep.y += pad - 3 // the last lead's space below the text is part of the padding
	y1 := rep.y
	p := rep.lo.pages
	add4 := func(xa, ya, xb, yb float64) {
		rep.lo.ops = append(rep.lo.ops, op{page: p, line: true, x: xa, y: ya, x2: xb, y2: yb})
	}
	add4(repMarginL, y0, repMarginR, y0)
	add4(repMarginL, y1, repMarginR, y1)
	add4(repMarginR, y0, repMarginR, y1)
	for x := repMarginL; x <= repMarginL+bar; x += 0.5 { // a heavy bar down the left side
		add4(x, y0, x, y1)
	}
	rep.y += 4
}

// ledger prints the obligations ledger as a table: each duty, its citation, when it is due,
// where it stands, who recorded it and when, and its evidence (or the waiver's reason, or why it
// stands as it does).
func (d *Documents) ledger(rep *report, r *breach.ClosureReport, date func(breach.Date) string, at func(time.Time) string) {
	if len(r.Obligations) == 0 {
		rep.para("The obligations ledger is not available for this report.", false, repBodySize, repBodyLead, 0)
		return
	}
	c := rep.clean
	var rows [][]string
	for i, o := range r.Obligations {
		f := fmt.Sprintf("obligations[%d].", i)
		due := "—"
		switch {
		case !o.Due.IsZero():
			due = date(o.Due)
		case o.DueRule != "" && o.Status != breach.ObligationNotRequired: // "no deadline; …"
			due = c(f+"due_rule", o.DueRule, false)
		}
		if o.Overdue {
			due += " (overdue)"
		}
		recorded := "—"
		if o.RecordedBy != "" || !o.RecordedAt.IsZero() {
			recorded = strings.TrimSpace(c(f+"recorded_by", o.RecordedBy, false) + " " + at(o.RecordedAt))
		}
		var ev []string
		if o.Status == breach.ObligationWaived {
			ev = append(ev, "Waived: "+cmp.Or(c(f+"waiver", o.Waiver, false), "no reason recorded"))
		}
		if n := o.Evidence.Notices; n != nil {
			s := fmt.Sprintf("%s of %s given", thousands(n.Given), thousands(n.Total))
			if n.Outstanding > 0 {
				s += fmt.Sprintf(", %s outstanding", thousands(n.Outstanding))
			}
			switch {
			case n.Failed > 0 && (o.ID == breach.ObligationNoticeEmail || o.ID == breach.ObligationNoticePhone):
				// the ledger counts these done: a letter replaced each, and the letters' row counts it
				s += fmt.Sprintf(", %s failed, each replaced by a letter", thousands(n.Failed))
			case n.Failed > 0:
				s += fmt.Sprintf(", %s failed", thousands(n.Failed))
			}
			ev = append(ev, s)
		}
		if u := c(f+"evidence.url", o.Evidence.URL, false); u != "" {
			ev = append(ev, u)
		}
		if n := c(f+"evidence.note", o.Evidence.Note, false); n != "" {
			ev = append(ev, n)
		}
		if h := c(f+"evidence.document_sha256", o.Evidence.DocumentSHA256, false); h != "" {
			ev = append(ev, "document SHA-256 "+h)
		}
		if len(ev) == 0 {
			ev = append(ev, c(f+"reason", o.Reason, false))
		}
		rows = append(rows, []string{c(f+"title", cmp.Or(o.Title, string(o.ID)), false), c(f+"citation", o.Citation, false),
			due, strings.ReplaceAll(string(o.Status), "_", " "), recorded, strings.Join(ev, "; ")})
	}
	rep.table([]column{{title: "Duty", width: 0.2}, {title: "Citation", width: 0.14}, {title: "Due", width: 0.11},
		{title: "Status", width: 0.09}, {title: "Recorded", width: 0.16}, {title: "Evidence, or why it stands so", width: 0.3}}, rows, nil)
}

// countedText says what the plan counted and from what (breach.Plan.Counted, set by rules only),
// so the report prints the numbers every threshold used beside the estimate and the upload.
func countedText(n breach.Counted) string {
	from := map[breach.CountSource]string{breach.FromEstimate: "the estimate", breach.FromUpload: "the upload",
		breach.FromEstimateAndUpload: "estimate and upload agree"}
	residents := from[n.IndianaResidentsFrom]
	if n.IndianaResidentsAssumed {
		residents += "; not known, so every person affected is counted"
	}
	s := thousands(n.Affected) + " affected (" + from[n.AffectedFrom] + "), " + thousands(n.IndianaResidents) +
		" Indiana residents (" + residents + "): "
	switch n.Basis {
	case breach.CountsCompleteList:
		return s + "the list of affected people is declared complete."
	case breach.CountsPartialList:
		return s + "the list is not declared complete, so each is the larger of the estimate and the upload."
	}
	return s + "nobody is uploaded yet."
}
