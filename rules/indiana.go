package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	breach "github.com/breachd/breachd"
)

// indiana encodes an Indiana school corporation's administrative guideline "Investigation of
// Security Breach" (approved 11/13/2009), which applies IC 4-1-11 and IC 24-4.9 to a school.
// Where the guideline and the statutes differ it follows the guideline and says so in a reason.
// LAW.md is the reference for every rule below.
var indiana = Pack{
	ID:           "in-school-guideline",
	Version:      "2009-11-13",
	Jurisdiction: "IN",
	assess:       assessIndiana,
}

// The thresholds, each with the sentence of law it encodes.
const (
	// "Notice ... not later than 45 days after discovery" (day 0 is the discovery date; no
	// roll-forward for weekends or holidays). IC 24-4.9-3-3 has the same cap.
	inNoticeDays = 45

	// Substitute notice is required if "the affected class ... exceeds 500 persons".
	inSubstituteAffectedLimit = 500

	// Substitute notice is required if "the cost of notice would exceed $250,000"; the same cost
	// lets substitute notice replace individual notice (IC 24-4.9-3-4(b)).
	inSubstituteCostLimit breach.Money = 25_000_000 // $250,000.00 in cents

	// Substitute notice replaces individual notice where the statute allows it: "more than
	// 500,000" affected persons (IC 24-4.9-3-4(b), IC 4-1-11-9).
	inReplacesIndividualLimit = 500_000

	// Consumer reporting agencies are told when "more than 1,000" Indiana residents are affected
	// (IC 24-4.9-3-1(b)).
	inCRAResidentsLimit = 1_000

	// Media notice must reach outlets "whose cumulative readership, viewing or listening audience
	// is at least 75% of the population" (of Indiana).
	inMediaReachPercent = 75

	// "A school corporation must report a cybersecurity incident within two business days of
	// discovery" to the Office of Technology (IC 4-13.1-2-9).
	inOfficeOfTechnologyBusinessDays = 2
)

// CallWindow is how long a telephone notice has to succeed: "an actual, direct conversation with
// the person ... within 3 days (72 hours) of the first attempted call"; otherwise a letter is sent.
// The guideline's source statute says business days; calendar days is the stricter reading.
const CallWindow = 72 * time.Hour

// ParallelLetterNeeded reports whether a call task whose first attempt was at firstAttempt must
// get a letter queued at once, in parallel: "a call task whose first attempt is less than 3 days
// before the deadline gets a letter queued at once". The deadline day ends at midnight in loc.
// With no deadline (a hold covering day 45 is open) it reports false.
func ParallelLetterNeeded(firstAttempt time.Time, deadline breach.Date, loc *time.Location) bool {
	if deadline.IsZero() {
		return false
	}
	next := deadline.AddDays(1)
	endOfDeadline := time.Date(next.Year(), next.Month(), next.Day(), 0, 0, 0, 0, loc)
	return !firstAttempt.Add(CallWindow).Before(endOfDeadline)
}

// Citations.
const (
	citeNotification = "IN guideline §Notification"
	citePI           = "IN guideline §Definitions; IC 24-4.9-2-10; IC 4-1-11-3"
	citeExposed      = "IN guideline §Definitions; IC 24-4.9-2-2"
	citeRisk         = "IN guideline §Notification; IC 24-4.9-3-1(a)"
	citeDeadline     = "IN guideline §Notification; IC 24-4.9-3-3"
	citeHold         = "IN guideline §Notification; IC 24-4.9-3-3(b)"
	citeHoliday      = "IN guideline §Notification; 5 U.S.C. 6103"
	citeSubstitute   = "IN guideline §Notification; IC 24-4.9-3-4(b)"
	citeReplaces     = "IN guideline §Notification; IC 24-4.9-3-4(b); IC 4-1-11-9"
	citeCRA          = "IN guideline §Notification; IC 24-4.9-3-1(b)"
	citeAG           = "IC 24-4.9-3-1(c)"
	citeOT           = "IC 4-13.1-2-9"
	citeFERPA        = "34 CFR 99.32"
	citeMethods      = "IN guideline §Notification; IC 24-4.9-3-4(a)"
)

// inNameElements are personal information only "together with" a person's name.
var inNameElements = []breach.DataElement{breach.ElementDriversLicense, breach.ElementStateID,
	breach.ElementFinancialAccount, breach.ElementCreditCard, breach.ElementDebitCard,
	breach.ElementSecurityCode}

// elementLabels name data elements the way a notice does.
var elementLabels = map[breach.DataElement]string{
	breach.ElementSSN:              "Social Security numbers",
	breach.ElementDriversLicense:   "driver's license numbers",
	breach.ElementStateID:          "state identification numbers",
	breach.ElementFinancialAccount: "financial account numbers",
	breach.ElementCreditCard:       "credit card numbers",
	breach.ElementDebitCard:        "debit card numbers",
	breach.ElementSecurityCode:     "security codes, access codes or passwords for financial accounts",
	breach.ElementName:             "names",
	breach.ElementDateOfBirth:      "dates of birth",
	breach.ElementStudentID:        "student ID numbers",
	breach.ElementMedical:          "medical information",
	breach.ElementOther:            "other information",
}

func labels(elems []breach.DataElement) []string {
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		if l, ok := elementLabels[e]; ok {
			out = append(out, l)
		} else {
			out = append(out, string(e))
		}
	}
	return out
}

// inAssessment is one run of the Indiana pack: the input and the plan being built.
type inAssessment struct {
	d       breach.Determination
	holds   []breach.Hold
	asOf    breach.Date
	periods []period
	plan    breach.Plan
}

// because records a reason; the plan's reasons are in the order the rules are checked.
func (a *inAssessment) because(code, citation, format string, args ...any) {
	a.plan.Reasons = append(a.plan.Reasons, breach.Reason{Code: code, Text: fmt.Sprintf(format, args...), Citation: citation})
}

func (a *inAssessment) has(e breach.DataElement) bool { return slices.Contains(a.d.DataElements, e) }

func assessIndiana(d breach.Determination, holds []breach.Hold, asOf breach.Date) breach.Plan {
	a := &inAssessment{d: d, holds: holds, asOf: asOf, periods: mergeHolds(holds)}
	a.plan = breach.Plan{
		SubstituteNotice: breach.SubstituteNotice{
			Triggers: []breach.SubstituteTrigger{},
			Methods:  []breach.SubstituteMethod{},
		},
		IndividualMethods: []breach.IndividualMethod{},
		MissingContent:    []breach.ContentElement{},
		Reasons:           []breach.Reason{},
	}
	_, a.plan.Held = heldOn(a.periods, asOf)

	a.plan.NotificationRequired = a.personalInformation() && a.exposed() && a.riskOfHarm()
	a.holdRecords()
	if a.plan.NotificationRequired {
		a.deadline()
		a.holdInEffect()
		a.substituteNotice()
		a.agencies()
	} else {
		a.because(CodeNoObligations, citeNotification, "Because notification is not required, no deadline, "+
			"substitute notice, or notice to the consumer reporting agencies or the Attorney General applies.")
		a.holdInEffect()
	}
	a.officeOfTechnology()
	a.ferpa()
	a.individualMethods()
	a.content()
	a.approval()
	return a.plan
}

// §1.1 Personal information: a Social Security number, or a name together with one of
// inNameElements. Safer reading (more notice): one of inNameElements without a name listed still
// counts, since the number itself identifies a person and can be matched to a name.
func (a *inAssessment) personalInformation() bool {
	var pi, paired []breach.DataElement
	if a.has(breach.ElementSSN) {
		pi = append(pi, breach.ElementSSN)
	}
	for _, e := range inNameElements {
		if a.has(e) {
			paired = append(paired, e)
		}
	}
	if len(pi) == 0 && len(paired) == 0 {
		if len(a.d.DataElements) == 0 {
			a.because(CodeNoPersonalInformation, citePI, "No data elements are listed, so no personal "+
				"information is shown to be involved: notification is not required by this law, but it may "+
				"still be given. List the data elements exposed: a notice must name them.")
			return false
		}
		a.because(CodeNoPersonalInformation, citePI, "The data involved (%s) is not personal information under "+
			"this law, which needs a Social Security number, or a person's name together with a driver's "+
			"license, state identification, credit or debit card or financial account number, or a security "+
			"code or password for a financial account. Notification is not required, but it may still be given.",
			list(labels(a.d.DataElements)))
		return false
	}
	found := labels(pi)
	if len(paired) > 0 {
		if a.has(breach.ElementName) {
			found = append(found, "names together with "+list(labels(paired)))
		} else {
			found = append(found, list(labels(paired)))
		}
	}
	a.because(CodePersonalInformation, citePI, "The data involved includes personal information: %s.", list(found))
	if len(paired) > 0 && !a.has(breach.ElementName) {
		a.because(CodeNameAssumed, citePI, "Names are not listed among the data involved, and the law counts %s "+
			"as personal information only together with a person's name. The pack counts them anyway: the "+
			"number itself identifies the person and can be matched to a name, and more notice is never "+
			"unlawful. If counsel finds that no name can be linked, revise the determination.",
			list(labels(paired)))
	}
	return true
}

// §1.2 Exposed: unencrypted and unredacted, or encrypted/redacted with the key compromised.
func (a *inAssessment) exposed() bool {
	switch {
	case !a.d.Encrypted && !a.d.Redacted:
		a.because(CodeExposedUnencrypted, citeExposed, "The information was neither encrypted nor redacted, so it was exposed.")
		return true
	case a.d.KeyCompromised:
		a.because(CodeExposedKeyCompromised, citeExposed, "The information was %s, but someone with access to "+
			"the key was involved (the key is compromised), so it counts as exposed.", a.protection())
		return true
	default:
		a.because(CodeProtectedKeySafe, citeExposed, "The information was %s and the key was not compromised, "+
			"so it was not exposed: notification is not required, but it may still be given.", a.protection())
		return false
	}
}

func (a *inAssessment) protection() string {
	switch {
	case a.d.Encrypted && a.d.Redacted:
		return "encrypted and redacted"
	case a.d.Encrypted:
		return "encrypted"
	}
	return "redacted"
}

// §1.3 Risk of harm: only a documented "unlikely" review ends the duty.
func (a *inAssessment) riskOfHarm() bool {
	switch a.d.RiskOfHarm {
	case breach.RiskUnlikely:
		if strings.TrimSpace(a.d.RiskRationale) == "" {
			a.because(CodeRiskReviewUndocumented, citeRisk, "The risk of harm is recorded as unlikely, but no "+
				"rationale is written down. An undocumented finding is not a reasonable review of all the facts, "+
				"so notification is required. Record the review (risk_rationale) to revisit this.")
			return true
		}
		a.because(CodeRiskUnlikelyDocumented, citeRisk, "A documented review of all the facts (risk_rationale) "+
			"found that the breach has not caused and is not likely to cause a material risk of identity theft "+
			"or other fraud, or substantial loss or injury: notification is not required, but it may still be given.")
		a.because(CodeCounselReview, citeRisk, "Personal information was exposed, and notice is not required "+
			"only because of the risk review. The statute asks whether the acquisition could result in identity "+
			"theft or fraud, which is stricter than the guideline: have counsel review this decision before relying on it.")
		return false
	case breach.RiskLikely:
		a.because(CodeRiskLikely, citeRisk, "The risk of harm to the people affected is likely: notification is required.")
		return true
	default:
		a.because(CodeRiskUndetermined, citeRisk, "The risk of harm has not been determined. Until a documented "+
			"review finds harm unlikely, notification is required.")
		return true
	}
}

// holdRecords checks that each hold is documented (LAW.md §2: agency, officer, date, in writing).
func (a *inAssessment) holdRecords() {
	for _, h := range a.holds {
		var lacks []string
		if strings.TrimSpace(h.Agency) == "" {
			lacks = append(lacks, "does not name the agency")
		}
		if !h.InWriting {
			lacks = append(lacks, "was not requested in writing")
		}
		if len(lacks) == 0 {
			continue
		}
		a.because(CodeHoldUndocumented, citeHold, "The law-enforcement hold starting %s (%s) %s. A request to "+
			"delay notice should be documented: the agency, the officer, the date, in writing.",
			longDate(h.StartDate), agency(h), list(lacks))
	}
}

func agency(h breach.Hold) string {
	if s := strings.TrimSpace(h.Agency); s != "" {
		return s
	}
	return "agency not named"
}

// agencies lists the agencies of a period's holds, each once.
func agencies(p period) []string {
	names := make([]string, 0, len(p.holds))
	for _, h := range p.holds {
		if n := agency(h); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// describe names a period's holds for a reason, as the subject of a sentence, with the words
// that agree with it: "The law-enforcement hold (ISP)", "its", "has".
func describe(p period) (subject, its, has string) {
	names := agencies(p)
	if len(p.holds) == 1 {
		return "The law-enforcement hold (" + names[0] + ")", "its", "has"
	}
	return fmt.Sprintf("The %d law-enforcement holds (%s), which overlap or adjoin and count as one,",
		len(p.holds), list(names)), "their", "have"
}

// §2 The deadline: discovered_on + 45, unless a hold covers day 45.
func (a *inAssessment) deadline() {
	day45 := a.d.DiscoveredOn.AddDays(inNoticeDays)
	a.because(CodeDeadline45Days, citeDeadline, "Notice must go out in the most expedient time possible and "+
		"not later than 45 days after discovery. The breach was discovered on %s, so day 45 is %s.",
		longDate(a.d.DiscoveredOn), longDate(day45))

	deadline := day45
	for _, p := range a.periods {
		// Periods are in date order and disjoint: at most one covers day 45, and an open one is last.
		holds, its, has := describe(p)
		switch {
		case p.start.After(day45):
			a.because(CodeHoldStartedAfterDay45, citeHold, "%s began on %s, after the deadline of %s: a hold "+
				"that starts after day 45 cures nothing, and the deadline stays %s.",
				holds, longDate(p.start), longDate(deadline), longDate(deadline))
		case p.open():
			deadline = breach.Date{}
			a.because(CodeHoldOpenOverDay45, citeHold, "%s began on %s, on or before day 45, and %s not been "+
				"released. Notice is due on the day the agency says disclosure will no longer compromise its "+
				"investigation, so there is no deadline date until then: keep the letters staged and ready to go.",
				holds, longDate(p.start), has)
		case p.end.After(day45):
			deadline = p.end
			a.because(CodeHoldReleasedAfterDay45, citeHold, "%s ran from %s until %s release on %s, after day 45: "+
				"notice is due on the release date, %s.", holds, longDate(p.start), its, longDate(p.end), longDate(p.end))
		default:
			a.because(CodeHoldReleasedBeforeDay45, citeHold, "%s ran from %s until %s release on %s, no later than "+
				"day 45: it does not move the deadline, which stays %s.",
				holds, longDate(p.start), its, longDate(p.end), longDate(day45))
		}
	}
	a.plan.Deadline = deadline

	if deadline.IsZero() {
		a.because(CodeDeadlineAwaitingRelease, citeHold, "As of %s there is no deadline date: notice is due on "+
			"the day the hold is released.", longDate(a.asOf))
	} else {
		remaining := deadline.DaysSince(a.asOf)
		a.plan.DaysRemaining = &remaining
		a.plan.Overdue = a.asOf.After(deadline)
		switch {
		case a.plan.Overdue:
			then := "Send it as soon as possible."
			if a.plan.Held {
				then = "A hold is in effect now: send the moment it is released."
			}
			a.because(CodeDeadlineOverdue, citeDeadline, "As of %s the deadline, %s, passed %s ago: notice is "+
				"overdue. %s", longDate(a.asOf), longDate(deadline), days(-remaining), then)
		case remaining == 0:
			a.because(CodeDeadlineDaysRemaining, citeDeadline, "As of %s the deadline is today: notice must go "+
				"out today.", longDate(a.asOf))
		default:
			a.because(CodeDeadlineDaysRemaining, citeDeadline, "As of %s, %s remain until the deadline, %s.",
				longDate(a.asOf), days(remaining), longDate(deadline))
		}
		a.deadlineDay(deadline)
	}
	a.tolling(day45)
}

// deadlineDay warns when the deadline falls on a weekend or a federal holiday: the law does not
// move it, so mail has to go out earlier.
func (a *inAssessment) deadlineDay(deadline breach.Date) {
	switch wd := deadline.Weekday(); {
	case wd == time.Saturday || wd == time.Sunday:
		a.because(CodeDeadlineWeekend, citeHoliday, "The deadline, %s, falls on a weekend. The law does not move "+
			"it to the next business day: plan for notice to go out by %s.",
			longDate(deadline), longDate(previousBusinessDay(deadline)))
	default:
		if name, ok := FederalHoliday(deadline); ok {
			a.because(CodeDeadlineHoliday, citeHoliday, "The deadline, %s, is a federal holiday (%s) and post "+
				"offices are closed. The law does not move it to the next business day: plan for notice to go "+
				"out by %s.", longDate(deadline), name, longDate(previousBusinessDay(deadline)))
		}
	}
}

// tolling gives counsel the lenient reading of a hold — the 45 days pause and resume on release —
// as information, never as the deadline.
func (a *inAssessment) tolling(day45 breach.Date) {
	due, used, paused, open := tolledDeadline(a.d.DiscoveredOn, inNoticeDays, a.periods)
	if !paused {
		return
	}
	const lead = "For counsel only, not the deadline: under the more lenient \"tolling\" reading, the 45 days " +
		"would pause while a hold is in effect and resume on its release."
	const why = " The pack does not use this reading: nothing says the 45 days pause, and the statute asks " +
		"for notice as soon as possible after the release."
	left := inNoticeDays - used
	if open {
		a.because(CodeTollingReadingForCounsel, citeHold, lead+" %s of the 45 ran outside holds, so %s would "+
			"remain, counted from a release that has not happened yet."+why, count(used), days(left))
		return
	}
	a.because(CodeTollingReadingForCounsel, citeHold, lead+" %s of the 45 ran outside holds, so the remaining %s "+
		"would run from the release on %s, making notice due by %s."+why,
		count(used), days(left), longDate(due.AddDays(-left)), longDate(due))
}

// holdInEffect explains Held: while a hold is in effect nothing is sent.
func (a *inAssessment) holdInEffect() {
	p, ok := heldOn(a.periods, a.asOf)
	if !ok {
		return
	}
	span := "since " + longDate(p.start) + ", not yet released"
	if !p.open() {
		span = "from " + longDate(p.start) + " until its release on " + longDate(p.end)
	}
	a.because(CodeHoldInEffect, citeHold, "As of %s a law-enforcement hold is in effect (%s, %s): nothing may "+
		"be sent while it lasts.", longDate(a.asOf), list(agencies(p)), span)
}

// §5 Substitute notice.
func (a *inAssessment) substituteNotice() {
	s := &a.plan.SubstituteNotice
	n := a.d.AffectedCount
	if n > inSubstituteAffectedLimit {
		s.Triggers = append(s.Triggers, breach.TriggerAffectedOver500)
		a.because(CodeAffectedOver500, citeSubstitute, "%s are affected, more than 500: substitute notice is required.", people(n))
	} else {
		a.because(CodeAffected500OrFewer, citeSubstitute, "%s are affected, not more than 500: this does not "+
			"require substitute notice.", people(n))
	}

	cost := a.d.NoticeCostEstimate
	costOver := cost != nil && *cost > inSubstituteCostLimit
	switch {
	case cost == nil:
		a.because(CodeCostNotEstimated, citeSubstitute, "The cost of notice has not been estimated. An estimate "+
			"over $250,000 would require substitute notice and let it replace individual notice.")
	case costOver:
		s.Triggers = append(s.Triggers, breach.TriggerCostOver250000)
		a.because(CodeCostOver250000, citeSubstitute, "The estimated cost of notice, %s, exceeds $250,000: "+
			"substitute notice is required.", dollars(*cost))
	default:
		a.because(CodeCost250000OrLess, citeSubstitute, "The estimated cost of notice, %s, does not exceed "+
			"$250,000: this does not require substitute notice.", dollars(*cost))
	}

	if !a.d.ContactInfoSufficient {
		s.Triggers = append(s.Triggers, breach.TriggerInsufficientContact)
		a.because(CodeInsufficientContact, citeSubstitute, "The school lacks sufficient contact information for "+
			"some of the people affected: substitute notice is required so that they are reached.")
	} else {
		a.because(CodeContactSufficient, citeSubstitute, "The school has sufficient contact information for the "+
			"people affected.")
	}

	if len(s.Triggers) == 0 {
		a.because(CodeSubstituteNotRequired, citeSubstitute, "Substitute notice is not required: every affected "+
			"person gets an individual notice.")
		return
	}
	s.Required = true
	s.Methods = []breach.SubstituteMethod{breach.SubstituteEmail, breach.SubstituteWebsite, breach.SubstituteMedia}
	a.because(CodeSubstituteRequired, citeSubstitute, "Substitute notice is required, and it means all three of: "+
		"(A) email to every affected person with an address on file; (B) a conspicuous posting on the school's "+
		"web site; (C) notice to major media outlets whose combined readership, viewing or listening audience is "+
		"at least %d%% of Indiana's population, plus local media where the affected people live.", inMediaReachPercent)

	var because []string
	if n > inReplacesIndividualLimit {
		because = append(because, fmt.Sprintf("%s are affected, more than 500,000", people(n)))
	}
	if costOver {
		because = append(because, fmt.Sprintf("the cost of notice, %s, exceeds $250,000", dollars(*cost)))
	}
	switch {
	case len(because) > 0:
		s.ReplacesIndividual = true
		a.because(CodeSubstituteReplaces, citeReplaces, "Substitute notice may replace individual notice, as the "+
			"statute allows when more than 500,000 people are affected or the cost of notice exceeds $250,000: "+
			"here %s.", list(because))
	case len(s.Triggers) == 1 && s.Triggers[0] == breach.TriggerInsufficientContact:
		a.because(CodeSubstituteSupplements, citeReplaces, "Substitute notice does not replace individual notice: "+
			"everyone the school can reach still gets an individual notice, and the substitute notice covers the "+
			"people who cannot be reached.")
	default:
		a.because(CodeSubstituteSupplements, citeReplaces, "Substitute notice is given in addition to individual "+
			"notice, not instead of it. The guideline's 500 persons comes from a template whose source statutes "+
			"say 500,000; the pack keeps the guideline's 500, since more notice is never unlawful, but lets "+
			"substitute notice replace individual notice only where the statute does: more than 500,000 people "+
			"or a cost over $250,000. So every reachable person still gets an individual notice, and the "+
			"substitute notice reaches the rest and the public.")
	}
}

// §6 Consumer reporting agencies and the Attorney General: both count Indiana residents.
func (a *inAssessment) agencies() {
	est := Estimated(a.d)
	residents, assumed := est.IndianaResidents, ""
	if est.IndianaResidentsAssumed {
		assumed = " (assumed)"
		a.because(CodeResidentsAssumed, citeCRA, "The number of Indiana residents affected is not recorded, so the "+
			"pack assumes all %s may be residents (more notice is never unlawful). Record the number to refine "+
			"the agency notices.", people(a.d.AffectedCount))
	}
	due := "by " + longDate(a.plan.Deadline) + ", the deadline for the individual notices"
	if a.plan.Deadline.IsZero() {
		due = "by the day the individual notices are due (the hold's release)"
	}

	if residents > inCRAResidentsLimit {
		a.plan.ConsumerReportingAgencies = breach.AgencyNotice{Required: true, Due: a.plan.Deadline}
		a.because(CodeCRARequired, citeCRA, "%s Indiana residents%s are affected, more than 1,000: tell the three "+
			"nationwide consumer reporting agencies (Equifax, Experian, TransUnion) the timing, distribution and "+
			"content of the notices, %s. Never delay the individual notices for this.", count(residents), assumed, due)
	} else {
		a.because(CodeCRANotRequired, citeCRA, "%s Indiana residents%s are affected, not more than 1,000: the "+
			"consumer reporting agencies need not be told.", count(residents), assumed)
	}

	if residents > 0 {
		a.plan.AttorneyGeneral = breach.AgencyNotice{Required: true, Due: a.plan.Deadline}
		a.because(CodeAttorneyGeneralRequired, citeAG, "Notice goes to %s Indiana residents%s, so the Indiana "+
			"Attorney General must be notified too, %s. The statute asks for this whatever the number; the "+
			"guideline is silent.", count(residents), assumed, due)
	} else {
		a.because(CodeAttorneyGeneralNotRequired, citeAG, "No Indiana residents are affected, so the Indiana "+
			"Attorney General need not be notified. Other states' laws may apply to the people affected: ask counsel.")
	}
}

// §6 Indiana Office of Technology: a cybersecurity incident, whether or not personal information
// is involved, within two business days of discovery.
func (a *inAssessment) officeOfTechnology() {
	due := AddBusinessDays(a.d.DiscoveredOn, inOfficeOfTechnologyBusinessDays)
	when := fmt.Sprintf("within two business days of discovery (weekends and federal holidays do not count), by %s",
		longDate(due))
	switch c := a.d.Category; c {
	case breach.CategoryData, breach.CategoryInfrastructure, breach.CategoryUnauthorizedAccess:
		a.plan.OfficeOfTechnology = breach.AgencyNotice{Required: true, Due: due}
		a.because(CodeOfficeOfTechnologyRequired, citeOT, "The incident category is %s: the school corporation "+
			"must report this cybersecurity incident to the Indiana Office of Technology %s, whether or not "+
			"personal information is involved.", strings.ReplaceAll(string(c), "_", " "), when)
	case "":
		a.plan.OfficeOfTechnology = breach.AgencyNotice{Required: true, Due: due}
		a.because(CodeOfficeOfTechnologyAssumed, citeOT, "The incident category is not recorded, so the pack "+
			"assumes a cybersecurity incident: report it to the Indiana Office of Technology %s. Record the "+
			"category; only data, infrastructure and unauthorized-access incidents must be reported.", when)
	default:
		a.because(CodeOfficeOfTechnologyNotRequired, citeOT, "The incident category is %s: only data, "+
			"infrastructure and unauthorized-access incidents must be reported to the Indiana Office of "+
			"Technology. If systems or data were accessed electronically, change the category.", c)
	}
}

// FERPA: no notice duty, but a disclosure of education records is recorded.
func (a *inAssessment) ferpa() {
	if !a.has(breach.ElementStudentID) {
		return
	}
	a.because(CodeFERPADisclosureRecord, citeFERPA, "Student ID numbers were involved, so education records were "+
		"likely disclosed. FERPA adds no duty to notify, but the disclosure must be entered in each affected "+
		"student's record of disclosures.")
}

// §3 How individuals are told.
func (a *inAssessment) individualMethods() {
	phone := "Only when an actual, direct conversation with the person happens within 72 hours (3 days) of the " +
		"first attempted call; a voicemail is never notice. With no conversation in that window the telephone " +
		"notice has failed and a letter is sent. A call first attempted less than 3 days before the deadline " +
		"gets a letter queued at once, in parallel"
	if dl := a.plan.Deadline; !dl.IsZero() {
		phone += " (here: a first attempt on or after " + longDate(dl.AddDays(-2)) + ")"
	}
	a.plan.IndividualMethods = []breach.IndividualMethod{
		{Method: breach.MethodLetter, Default: true, Citation: citeMethods,
			Condition: "Written notice to the address on record: the default, and what is sent whenever email " +
				"or telephone notice fails."},
		{Method: breach.MethodEmail, Citation: citeMethods,
			Condition: "Only when the school's primary method of communication with the person is electronic " +
				"and there is reason to believe the address is current. A bounce means a letter, inside the deadline."},
		{Method: breach.MethodPhone, Citation: citeMethods, Condition: phone + "."},
	}
	switch {
	case !a.plan.NotificationRequired:
		a.because(CodeIndividualMethods, citeMethods, "Notice is not required, but it may still be given; if it "+
			"is, it goes by letter unless the conditions for email or telephone are met.")
	case a.plan.SubstituteNotice.ReplacesIndividual:
		a.because(CodeIndividualMethods, citeMethods, "Substitute notice may replace individual notice; any "+
			"individual notice given goes by letter unless the conditions for email or telephone are met.")
	default:
		a.because(CodeIndividualMethods, citeMethods, "Each person affected gets an individual notice by letter, "+
			"unless the conditions for email or telephone are met.")
	}
	a.because(CodeSMSNeverCounts, citeNotification, "Text (SMS) and app messages may supplement a notice but never count as one.")
	a.because(CodeMinorsToParents, citeNotification, "For a person under 18, the notice goes to each parent or "+
		"guardian of record; a student who is 18 receives it directly. Thresholds count the people affected, "+
		"never letters: two parents of one child are one person affected.")
}

// §4 What every notice must say.
func (a *inAssessment) content() {
	blank := func(s string) bool { return strings.TrimSpace(s) == "" }
	var missing []string
	add := func(e breach.ContentElement, what string) {
		a.plan.MissingContent = append(a.plan.MissingContent, e)
		missing = append(missing, fmt.Sprintf("%s (%s)", e, what))
	}
	if blank(a.d.Description) {
		add(breach.ContentDescription, "A, a general description of the breach")
	}
	if len(a.d.DataElements) == 0 {
		add(breach.ContentDataElements, "B, the type of information that may have been accessed")
	}
	if blank(a.d.Remediation) {
		add(breach.ContentRemediation, "C, the measures taken to stop further breaches")
	}
	if blank(a.d.AssistancePhone) {
		add(breach.ContentAssistancePhone, "D, a telephone number for assistance")
	}
	if len(missing) > 0 {
		a.because(CodeContentMissing, citeNotification, "Every notice must say what happened, what information "+
			"was involved, what was done, and where to call, and remind people to watch for fraud. Missing: %s. "+
			"No notice can be sent until these are filled in.", list(missing))
		return
	}
	a.because(CodeContentComplete, citeNotification, "The determination supplies everything a notice must say: "+
		"(A) a description, (B) the information involved, (C) the measures taken and (D) a telephone number; "+
		"(E) the reminder to watch for fraud is fixed text.")
}

// approval decides whether the plan may be dispatched: notice is required, nothing is missing,
// no hold is in effect, and no hold is open (an open hold not yet in effect is still a request to
// delay).
func (a *inAssessment) approval() {
	var blockers []string
	if !a.plan.NotificationRequired {
		blockers = append(blockers, "notification is not required")
	}
	if len(a.plan.MissingContent) > 0 {
		blockers = append(blockers, "the notice content is incomplete")
	}
	if a.plan.Held {
		blockers = append(blockers, "a law-enforcement hold is in effect")
	} else if n := len(a.periods); n > 0 && a.periods[n-1].open() {
		blockers = append(blockers, "a law-enforcement hold starting "+longDate(a.periods[n-1].start)+" is open")
	}
	if len(blockers) > 0 {
		a.because(CodeNotApprovable, citeNotification, "The plan cannot be approved for dispatch: %s.", list(blockers))
		return
	}
	a.plan.Approvable = true
	if a.plan.Overdue {
		a.because(CodeApprovable, citeNotification, "The plan may be approved for dispatch, and should be at once: notice is overdue.")
		return
	}
	a.because(CodeApprovable, citeNotification, "The plan may be approved for dispatch.")
}
