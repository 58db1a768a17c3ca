package rules

import (
	"fmt"
	"slices"
	"strings"

	breach "github.com/breachd/breachd"
)

// Obligations is the ledger of a breach's legal duties: one item per duty the plan can create, in
// the order of breach.ObligationIDs, each with its citation, due date and status, derived from the
// plan, what was recorded on the breach (postings, agency notices, people's records and waivers)
// and the notice progress — never stored, so no two readers can disagree.
//
// A duty is never switched off by incomplete data: the individual notices and the substitute email
// are done only once the list of affected people is declared complete and every notice of the
// channel has been given; a failed letter is not given. A waiver holds only while the duty is
// still open: once the evidence shows it done, done wins.
func Obligations(plan breach.Plan, b *breach.Breach, progress breach.NoticeProgress) []breach.Obligation {
	l := ledger{plan: plan, b: b, progress: progress, dispatched: progress.Total > 0 ||
		b.Status == breach.StatusDispatched}
	items := make([]breach.Obligation, 0, len(breach.ObligationIDs))
	for _, id := range breach.ObligationIDs {
		o := l.item(id)
		o.ID = id
		l.applyRecords(&o)
		o.Overdue = o.Status == breach.ObligationOpen && !o.Due.IsZero() && plan.AsOf.After(o.Due)
		items = append(items, o)
	}
	return items
}

// ManualDone reports whether a person may record the duty as done by hand: only the duties with no
// other evidence the service can see. The others are done by their own record (a posting, an
// agency notice sent, the notices given).
func ManualDone(id breach.ObligationID) bool {
	return id == breach.ObligationFERPARecord || id == breach.ObligationSubstituteMedia
}

// HowToRecord says how a duty that is not recorded by hand is done.
func HowToRecord(id breach.ObligationID) string {
	switch id {
	case breach.ObligationNoticeLetter, breach.ObligationNoticeEmail, breach.ObligationNoticePhone,
		breach.ObligationSubstituteEmail:
		return "it is done when every notice of the channel has been given and the list of affected people is declared complete"
	case breach.ObligationSubstituteWebsite:
		return "record the posting with POST /v1/breaches/{id}/substitute-notice/website/posted"
	}
	if a, ok := agencyOf(id); ok {
		return fmt.Sprintf("record the notice with POST /v1/breaches/{id}/agency-notices/%s/sent", a)
	}
	return "record it as done"
}

type ledger struct {
	plan       breach.Plan
	b          *breach.Breach
	progress   breach.NoticeProgress
	dispatched bool
}

var channelOf = map[breach.ObligationID]breach.Method{
	breach.ObligationNoticeLetter: breach.MethodLetter,
	breach.ObligationNoticeEmail:  breach.MethodEmail,
	breach.ObligationNoticePhone:  breach.MethodPhone,
}

var agencyObligations = map[breach.ObligationID]breach.Agency{
	breach.ObligationEquifax:            breach.AgencyEquifax,
	breach.ObligationExperian:           breach.AgencyExperian,
	breach.ObligationTransUnion:         breach.AgencyTransUnion,
	breach.ObligationAttorneyGeneral:    breach.AgencyAttorneyGeneral,
	breach.ObligationOfficeOfTechnology: breach.AgencyOfficeOfTechnology,
}

func agencyOf(id breach.ObligationID) (breach.Agency, bool) {
	a, ok := agencyObligations[id]
	return a, ok
}

var channelNames = map[breach.Method][2]string{
	breach.MethodLetter: {"letter", "letters"},
	breach.MethodEmail:  {"email", "emails"},
	breach.MethodPhone:  {"telephone notice", "telephone notices"},
}

func notices(ch breach.Method, n int) string {
	if n == 1 {
		return "1 " + channelNames[ch][0]
	}
	return count(n) + " " + channelNames[ch][1]
}

func (l *ledger) item(id breach.ObligationID) breach.Obligation {
	p := l.plan
	deadline := breach.Obligation{Due: p.Deadline, DueRule: "45 calendar days after discovery, or the release of a law-enforcement hold that covers day 45"}
	notRequired := func(o breach.Obligation, why string) breach.Obligation {
		o.Status, o.Reason = breach.ObligationNotRequired, why
		return o
	}
	noNotice := "Notification is not required (see the plan's reasons)."

	if ch, ok := channelOf[id]; ok {
		o := deadline
		o.Title = map[breach.Method]string{breach.MethodLetter: "Individual notice by letter",
			breach.MethodEmail: "Individual notice by email", breach.MethodPhone: "Individual notice by telephone"}[ch]
		o.Citation = citeMethods
		switch {
		case !p.NotificationRequired && l.progress.ByChannel[ch].Total == 0:
			return notRequired(o, noNotice)
		case p.SubstituteNotice.ReplacesIndividual && l.progress.ByChannel[ch].Total == 0:
			return notRequired(o, "Substitute notice replaces individual notice here.")
		case !l.dispatched:
			o.Status, o.Reason = breach.ObligationOpen, "No notice has been dispatched yet; the channel of each person is chosen at dispatch."
			return o
		}
		return l.channel(o, ch, l.progress.ByChannel[ch])
	}

	switch id {
	case breach.ObligationSubstituteEmail, breach.ObligationSubstituteWebsite, breach.ObligationSubstituteMedia:
		o := deadline
		o.Citation = citeSubstitute
		if !p.SubstituteNotice.Required {
			o.Title = map[breach.ObligationID]string{breach.ObligationSubstituteEmail: "Substitute notice: email to every affected person with an address",
				breach.ObligationSubstituteWebsite: "Substitute notice: conspicuous posting on the web site",
				breach.ObligationSubstituteMedia:   "Substitute notice: major media reaching 75% of Indiana"}[id]
			if !p.NotificationRequired {
				return notRequired(o, noNotice)
			}
			return notRequired(o, "Substitute notice is not required (see the plan's reasons).")
		}
		return l.substitute(o, id)
	case breach.ObligationFERPARecord:
		o := breach.Obligation{Title: "FERPA: enter the disclosure in each affected student's record of disclosures",
			Citation: citeFERPA, DueRule: "no deadline; enter it with the notices"}
		if !slices.ContainsFunc(p.Reasons, func(r breach.Reason) bool { return r.Code == CodeFERPADisclosureRecord }) {
			return notRequired(o, "No student ID numbers were involved.")
		}
		o.Status, o.Reason = breach.ObligationOpen, "Student ID numbers were involved: record here when the disclosure is entered in each student's record."
		return o
	}

	a, _ := agencyOf(id)
	o := breach.Obligation{}
	var due breach.AgencyNotice
	switch a {
	case breach.AgencyAttorneyGeneral:
		o.Title, o.Citation, due = "Notice to the Indiana Attorney General", citeAG, p.AttorneyGeneral
		o.DueRule = deadline.DueRule
	case breach.AgencyOfficeOfTechnology:
		o.Title, o.Citation, due = "Report to the Indiana Office of Technology", citeOT, p.OfficeOfTechnology
		o.DueRule = "2 business days after discovery (weekends and federal holidays do not count)"
	default:
		o.Title = "Notice to " + map[breach.Agency]string{breach.AgencyEquifax: "Equifax", breach.AgencyExperian: "Experian",
			breach.AgencyTransUnion: "TransUnion"}[a] + " (consumer reporting agency)"
		o.Citation, due, o.DueRule = citeCRA, p.ConsumerReportingAgencies, deadline.DueRule
	}
	o.Due = due.Due
	rec, sent := l.agencyRecord(a)
	if sent {
		o.RecordedBy, o.RecordedAt = rec.SentBy, rec.SentAt
		o.Evidence = breach.ObligationEvidence{DocumentSHA256: rec.DocumentSHA256, Note: "sent on " + rec.SentOn.String()}
	}
	switch {
	case !due.Required && sent:
		return notRequired(o, "Not required by the plan; a notice was sent voluntarily on "+rec.SentOn.String()+".")
	case !due.Required:
		return notRequired(o, "Not required by the plan (see its reasons).")
	case sent:
		o.Status, o.Reason = breach.ObligationDone, "Sent on "+rec.SentOn.String()+"."
	default:
		o.Status, o.Reason = breach.ObligationOpen, "Not yet recorded as sent."
	}
	return o
}

func (l *ledger) agencyRecord(a breach.Agency) (breach.AgencyNoticeRecord, bool) {
	for _, r := range l.b.AgencyNotices {
		if r.Agency == a {
			return r, true
		}
	}
	return breach.AgencyNoticeRecord{}, false
}

// incomplete says why done must wait for the list of affected people, or "" when it is complete.
func (l *ledger) incomplete() string {
	if l.b.RecipientsComplete != nil {
		return ""
	}
	return fmt.Sprintf("the list of affected people is not declared complete (estimated %s)", people(l.b.Determination.AffectedCount))
}

// channel is an individual notice item after dispatch: done when every notice of the channel was
// given and the list is complete. A failed letter is not given (nothing replaces it); a failed
// email or call was replaced by a letter, counted in the letters.
func (l *ledger) channel(o breach.Obligation, ch breach.Method, cp breach.ChannelProgress) breach.Obligation {
	if cp.Total == 0 {
		o.Status, o.Reason = breach.ObligationNotRequired, "No individual notice goes by "+channelNames[ch][0]+"."
		return o
	}
	o.Evidence.Notices = &cp
	left := cp.Outstanding
	if ch == breach.MethodLetter {
		left += cp.Failed
	}
	var parts []string
	parts = append(parts, fmt.Sprintf("%s of %s given", count(cp.Given), notices(ch, cp.Total)))
	if cp.Failed > 0 && ch != breach.MethodLetter {
		parts = append(parts, fmt.Sprintf("%s failed and %s replaced by a letter", count(cp.Failed), map[bool]string{true: "was", false: "were"}[cp.Failed == 1]))
	}
	if cp.Failed > 0 && ch == breach.MethodLetter {
		parts = append(parts, fmt.Sprintf("%s could not be sent", count(cp.Failed)))
	}
	if cp.Outstanding > 0 {
		parts = append(parts, fmt.Sprintf("%s not yet given", count(cp.Outstanding)))
	}
	text := strings.Join(parts, "; ")
	switch why := l.incomplete(); {
	case left > 0:
		o.Status, o.Reason = breach.ObligationOpen, text+"."
	case why != "":
		o.Status, o.Reason = breach.ObligationOpen, text+", but "+why+"."
	default:
		o.Status, o.Reason = breach.ObligationDone, text+"."
		o.RecordedBy, o.RecordedAt = "breachd", l.progress.LastGiven
	}
	return o
}

func (l *ledger) substitute(o breach.Obligation, id breach.ObligationID) breach.Obligation {
	switch id {
	case breach.ObligationSubstituteEmail:
		o.Title = "Substitute notice: email to every affected person with an address"
		if !l.dispatched {
			o.Status, o.Reason = breach.ObligationOpen, "No notice has been dispatched yet."
			return o
		}
		cp := l.progress.ByChannel[breach.MethodEmail]
		o.Evidence.Notices = &cp
		why := l.incomplete()
		switch {
		case cp.Outstanding > 0:
			o.Status, o.Reason = breach.ObligationOpen, fmt.Sprintf("%s of %s given; %s not yet given.", count(cp.Given), notices(breach.MethodEmail, cp.Total), count(cp.Outstanding))
		case why != "":
			o.Status, o.Reason = breach.ObligationOpen, fmt.Sprintf("%s of %s given, but %s.", count(cp.Given), notices(breach.MethodEmail, cp.Total), why)
		case cp.Total == 0:
			o.Status, o.Reason = breach.ObligationDone, "Nobody on the complete list has an email address on file."
		default:
			o.Status, o.Reason = breach.ObligationDone, fmt.Sprintf("%s of %s given (individual and substitute emails).", count(cp.Given), notices(breach.MethodEmail, cp.Total))
			o.RecordedBy, o.RecordedAt = "breachd", l.progress.LastGiven
		}
	case breach.ObligationSubstituteWebsite:
		o.Title = "Substitute notice: conspicuous posting on the web site"
		w := l.b.Substitute.Website
		if w.PostedAt.IsZero() {
			o.Status, o.Reason = breach.ObligationOpen, "The notice is not recorded as posted."
			return o
		}
		o.Status, o.RecordedBy, o.RecordedAt = breach.ObligationDone, w.PostedBy, w.PostedAt
		o.Evidence.URL = w.URL
		o.Reason = "Posted on " + w.PostedAt.UTC().Format("2006-01-02") + "."
		if !w.TakenDownAt.IsZero() {
			o.Reason += " Taken down on " + w.TakenDownAt.UTC().Format("2006-01-02") + "."
		}
	case breach.ObligationSubstituteMedia:
		o.Title = "Substitute notice: major media reaching 75% of Indiana"
		_, bp, reaches, _ := MediaReach(l.b.Substitute.Outlets)
		o.Evidence.Note = fmt.Sprintf("%d outlets recorded, %d.%02d%% of Indiana", len(l.b.Substitute.Outlets), bp/100, bp%100)
		if reaches {
			o.Status, o.Reason = breach.ObligationDone, "The outlets recorded reach at least 75% of Indiana ("+o.Evidence.Note+")."
		} else {
			o.Status, o.Reason = breach.ObligationOpen, "The outlets recorded do not reach 75% of Indiana ("+o.Evidence.Note+")."
		}
	}
	return o
}

// applyRecords applies what people recorded: the latest record of the item is in force. A manual
// done counts only for the duties recorded by hand; a waiver only while the duty is still open.
func (l *ledger) applyRecords(o *breach.Obligation) {
	var last *breach.ObligationRecord
	for i := range l.b.Obligations {
		if l.b.Obligations[i].Obligation == o.ID {
			last = &l.b.Obligations[i]
		}
	}
	if last == nil || o.Status != breach.ObligationOpen {
		return
	}
	switch {
	case last.Status == breach.ObligationWaived:
		o.Status, o.Waiver = breach.ObligationWaived, last.Reason
		o.RecordedBy, o.RecordedAt = last.By, last.At
		o.Reason = "Waived: " + last.Reason
		if last.AtClose {
			o.Reason = "Waived when the breach was closed with duties open: " + last.Reason
		}
	case last.Status == breach.ObligationDone && ManualDone(o.ID):
		o.Status, o.RecordedBy, o.RecordedAt = breach.ObligationDone, last.By, last.At
		o.Reason = "Recorded as done."
		if last.Evidence != "" {
			o.Evidence.Note = last.Evidence
			o.Reason = "Recorded as done: " + last.Evidence
		}
	}
}

// LatestRecord returns the record in force for an obligation, if any.
func LatestRecord(b *breach.Breach, id breach.ObligationID) (breach.ObligationRecord, bool) {
	for i := len(b.Obligations) - 1; i >= 0; i-- {
		if b.Obligations[i].Obligation == id {
			return b.Obligations[i], true
		}
	}
	return breach.ObligationRecord{}, false
}

// NoticesNotGiven counts the notices not given: outstanding in any channel, and failed letters
// (nothing replaces those).
func NoticesNotGiven(p breach.NoticeProgress) int {
	return p.Outstanding + p.ByChannel[breach.MethodLetter].Failed
}
