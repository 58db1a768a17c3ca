package rules

import (
	"slices"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
)

func TestNotificationRequired(t *testing.T) {
	els := func(e ...breach.DataElement) []breach.DataElement { return e }
	const (
		ssn  = breach.ElementSSN
		name = breach.ElementName
	)
	tests := []struct {
		name     string
		edit     func(*breach.Determination)
		required bool
		// codes are the §1 reasons, in order, up to the one that decides.
		codes []string
	}{
		{"SSN alone is personal information", func(d *breach.Determination) { d.DataElements = els(ssn) },
			true, []string{CodePersonalInformation, CodeExposedUnencrypted, CodeRiskLikely}},
		{"name with driver's license is personal information",
			func(d *breach.Determination) { d.DataElements = els(name, breach.ElementDriversLicense) },
			true, []string{CodePersonalInformation, CodeExposedUnencrypted, CodeRiskLikely}},
		{"name with state ID", func(d *breach.Determination) { d.DataElements = els(name, breach.ElementStateID) },
			true, []string{CodePersonalInformation, CodeExposedUnencrypted, CodeRiskLikely}},
		{"name with financial account", func(d *breach.Determination) { d.DataElements = els(breach.ElementFinancialAccount, name) },
			true, []string{CodePersonalInformation, CodeExposedUnencrypted, CodeRiskLikely}},
		{"name with credit card", func(d *breach.Determination) { d.DataElements = els(name, breach.ElementCreditCard) },
			true, []string{CodePersonalInformation, CodeExposedUnencrypted, CodeRiskLikely}},
		{"name with debit card", func(d *breach.Determination) { d.DataElements = els(name, breach.ElementDebitCard) },
			true, []string{CodePersonalInformation, CodeExposedUnencrypted, CodeRiskLikely}},
		{"name with security code", func(d *breach.Determination) { d.DataElements = els(name, breach.ElementSecurityCode) },
			true, []string{CodePersonalInformation, CodeExposedUnencrypted, CodeRiskLikely}},
		{"driver's license without a name is assumed to identify a person",
			func(d *breach.Determination) { d.DataElements = els(breach.ElementDriversLicense) },
			true, []string{CodePersonalInformation, CodeNameAssumed, CodeExposedUnencrypted, CodeRiskLikely}},
		{"name alone is not personal information", func(d *breach.Determination) { d.DataElements = els(name) },
			false, []string{CodeNoPersonalInformation}},
		{"name, birth date, student ID, medical and other are not personal information",
			func(d *breach.Determination) {
				d.DataElements = els(name, breach.ElementDateOfBirth, breach.ElementStudentID, breach.ElementMedical, breach.ElementOther)
			},
			false, []string{CodeNoPersonalInformation}},
		{"no data elements listed", func(d *breach.Determination) { d.DataElements = nil },
			false, []string{CodeNoPersonalInformation}},
		{"no personal information decides before encryption is looked at",
			func(d *breach.Determination) { d.DataElements, d.Encrypted = els(breach.ElementMedical), true },
			false, []string{CodeNoPersonalInformation}},
		{"encrypted with the key safe", func(d *breach.Determination) { d.Encrypted = true },
			false, []string{CodePersonalInformation, CodeProtectedKeySafe}},
		{"redacted with the key safe", func(d *breach.Determination) { d.Redacted = true },
			false, []string{CodePersonalInformation, CodeProtectedKeySafe}},
		{"encrypted with the key compromised", func(d *breach.Determination) { d.Encrypted, d.KeyCompromised = true, true },
			true, []string{CodePersonalInformation, CodeExposedKeyCompromised, CodeRiskLikely}},
		{"redacted with the key compromised", func(d *breach.Determination) { d.Redacted, d.KeyCompromised = true, true },
			true, []string{CodePersonalInformation, CodeExposedKeyCompromised, CodeRiskLikely}},
		{"key compromised but nothing encrypted is plainly exposed", func(d *breach.Determination) { d.KeyCompromised = true },
			true, []string{CodePersonalInformation, CodeExposedUnencrypted, CodeRiskLikely}},
		{"risk unlikely with a written review", func(d *breach.Determination) {
			d.RiskOfHarm, d.RiskRationale = breach.RiskUnlikely, "The laptop was recovered sealed; forensics found no access."
		}, false, []string{CodePersonalInformation, CodeExposedUnencrypted, CodeRiskUnlikelyDocumented, CodeCounselReview}},
		{"risk unlikely without a review", func(d *breach.Determination) { d.RiskOfHarm = breach.RiskUnlikely },
			true, []string{CodePersonalInformation, CodeExposedUnencrypted, CodeRiskReviewUndocumented}},
		{"risk unlikely with a blank review", func(d *breach.Determination) { d.RiskOfHarm, d.RiskRationale = breach.RiskUnlikely, " \n\t" },
			true, []string{CodePersonalInformation, CodeExposedUnencrypted, CodeRiskReviewUndocumented}},
		{"risk undetermined", func(d *breach.Determination) { d.RiskOfHarm = breach.RiskUndetermined },
			true, []string{CodePersonalInformation, CodeExposedUnencrypted, CodeRiskUndetermined}},
		{"risk not recorded is undetermined", func(d *breach.Determination) { d.RiskOfHarm = "" },
			true, []string{CodePersonalInformation, CodeExposedUnencrypted, CodeRiskUndetermined}},
		{"rationale with risk likely changes nothing", func(d *breach.Determination) { d.RiskRationale = "looked at it" },
			true, []string{CodePersonalInformation, CodeExposedUnencrypted, CodeRiskLikely}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := required()
			tt.edit(&d)
			p := assess(t, d, nil, "2026-03-10")
			if p.NotificationRequired != tt.required {
				t.Fatalf("notification required = %v; want %v (reasons %v)", p.NotificationRequired, tt.required, codes(p))
			}
			if got := codes(p)[:len(tt.codes)]; !slices.Equal(got, tt.codes) {
				t.Errorf("first reasons = %v; want %v", got, tt.codes)
			}
			if tt.required {
				if p.Deadline != date("2026-04-17") || !p.AttorneyGeneral.Required {
					t.Errorf("deadline %s, attorney general %v; want 2026-04-17 and required", p.Deadline, p.AttorneyGeneral.Required)
				}
				return
			}
			// Not required: nothing that hangs on notice applies, and the reasons say so.
			if next := codes(p)[len(tt.codes)]; next != CodeNoObligations {
				t.Errorf("reason after the decision = %s; want %s", next, CodeNoObligations)
			}
			var said bool
			for _, c := range tt.codes {
				said = said || strings.Contains(reason(t, p, c).Text, "may still be given")
			}
			if !said {
				t.Errorf("no reason says notice may still be given")
			}
			if p.Approvable || !p.Deadline.IsZero() || p.DaysRemaining != nil || p.SubstituteNotice.Required ||
				p.ConsumerReportingAgencies.Required || p.AttorneyGeneral.Required {
				t.Errorf("plan applies obligations though notice is not required: %+v", p)
			}
			for _, c := range []string{CodeDeadline45Days, CodeSubstituteRequired, CodeSubstituteNotRequired, CodeCRANotRequired, CodeAttorneyGeneralNotRequired} {
				if hasReason(p, c) {
					t.Errorf("reason %s given though notice is not required", c)
				}
			}
		})
	}
}

func TestPersonalInformationReasonNamesTheElements(t *testing.T) {
	d := required()
	d.DataElements = []breach.DataElement{breach.ElementName, breach.ElementCreditCard, breach.ElementSSN}
	got := reason(t, assess(t, d, nil, "2026-03-10"), CodePersonalInformation).Text
	want := "The data involved includes personal information: Social Security numbers and names together with credit card numbers."
	if got != want {
		t.Errorf("text = %q\nwant   %q", got, want)
	}
	d.DataElements = []breach.DataElement{breach.ElementStudentID, breach.ElementDateOfBirth}
	d.Title = "x"
	got = reason(t, assess(t, d, nil, "2026-03-10"), CodeNoPersonalInformation).Text
	if !strings.Contains(got, "(student ID numbers and dates of birth)") {
		t.Errorf("text %q does not name the elements", got)
	}
}

// hold is a documented hold; end "" leaves it open.
func hold(agency, start, end string) breach.Hold {
	h := breach.Hold{Agency: agency, InWriting: true, StartDate: date(start)}
	if end != "" {
		h.EndDate = date(end)
	}
	return h
}

func TestDeadline(t *testing.T) {
	const null = ""
	tests := []struct {
		name       string
		discovered string
		holds      []breach.Hold
		asOf       string
		deadline   string // null when none
		days       int    // ignored when deadline is null
		overdue    bool
		held       bool
		holdCode   string // the hold reason expected, if any
	}{
		// The worked example of LAW.md §2.
		{name: "discovered 2026-03-03 is due 2026-04-17", discovered: "2026-03-03", asOf: "2026-03-03",
			deadline: "2026-04-17", days: 45},
		{name: "hold released before day 45 keeps the deadline", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-03-10", "2026-03-31")}, asOf: "2026-04-01",
			deadline: "2026-04-17", days: 16, holdCode: CodeHoldReleasedBeforeDay45},
		{name: "hold released after day 45 makes notice due on release", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-03-10", "2026-05-12")}, asOf: "2026-05-12",
			deadline: "2026-05-12", days: 0, holdCode: CodeHoldReleasedAfterDay45},

		{name: "day 45 is the deadline day, not overdue", discovered: "2026-03-03", asOf: "2026-04-17",
			deadline: "2026-04-17", days: 0},
		{name: "day 46 is overdue", discovered: "2026-03-03", asOf: "2026-04-18",
			deadline: "2026-04-17", days: -1, overdue: true},
		{name: "as of before discovery counts more than 45 days", discovered: "2026-03-03", asOf: "2026-03-01",
			deadline: "2026-04-17", days: 47},
		{name: "across a month end", discovered: "2026-12-20", asOf: "2026-12-20", deadline: "2027-02-03", days: 45},
		{name: "across a leap day", discovered: "2028-01-20", asOf: "2028-01-20", deadline: "2028-03-05", days: 45},
		{name: "across 28 February in a common year", discovered: "2027-01-20", asOf: "2027-01-20", deadline: "2027-03-06", days: 45},

		{name: "open hold covering day 45 leaves no deadline", discovered: "2026-03-03",
			holds: []breach.Hold{hold("FBI", "2026-03-10", "")}, asOf: "2026-03-20",
			deadline: null, held: true, holdCode: CodeHoldOpenOverDay45},
		{name: "open hold long after day 45 is not overdue", discovered: "2026-03-03",
			holds: []breach.Hold{hold("FBI", "2026-03-10", "")}, asOf: "2026-09-01",
			deadline: null, held: true, holdCode: CodeHoldOpenOverDay45},
		{name: "open hold starting on day 45 leaves no deadline", discovered: "2026-03-03",
			holds: []breach.Hold{hold("FBI", "2026-04-17", "")}, asOf: "2026-04-17",
			deadline: null, held: true, holdCode: CodeHoldOpenOverDay45},
		{name: "hold still in effect before its release date", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-03-10", "2026-05-12")}, asOf: "2026-05-11",
			deadline: "2026-05-12", days: 1, held: true, holdCode: CodeHoldReleasedAfterDay45},
		{name: "the day after release is overdue", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-03-10", "2026-05-12")}, asOf: "2026-05-13",
			deadline: "2026-05-12", days: -1, overdue: true, holdCode: CodeHoldReleasedAfterDay45},
		{name: "hold released on day 45 keeps the deadline", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-03-10", "2026-04-17")}, asOf: "2026-04-17",
			deadline: "2026-04-17", days: 0, holdCode: CodeHoldReleasedBeforeDay45},
		{name: "hold starting on day 45 covers it", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-04-17", "2026-05-01")}, asOf: "2026-04-20",
			deadline: "2026-05-01", days: 11, held: true, holdCode: CodeHoldReleasedAfterDay45},
		{name: "hold starting on day 46 cures nothing", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-04-18", "2026-05-01")}, asOf: "2026-04-20",
			deadline: "2026-04-17", days: -3, overdue: true, held: true, holdCode: CodeHoldStartedAfterDay45},
		{name: "open hold starting after day 45 cures nothing", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-05-01", "")}, asOf: "2026-05-04",
			deadline: "2026-04-17", days: -17, overdue: true, held: true, holdCode: CodeHoldStartedAfterDay45},
		{name: "hold starting on the discovery day", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-03-03", "2026-04-30")}, asOf: "2026-03-03",
			deadline: "2026-04-30", days: 58, held: true, holdCode: CodeHoldReleasedAfterDay45},
		{name: "hold released the day it started changes nothing", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-04-17", "2026-04-17")}, asOf: "2026-04-17",
			deadline: "2026-04-17", days: 0, holdCode: CodeHoldReleasedBeforeDay45},
		{name: "not held on the release date", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-03-10", "2026-03-31")}, asOf: "2026-03-31",
			deadline: "2026-04-17", days: 17, holdCode: CodeHoldReleasedBeforeDay45},
		{name: "held on the start date", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-03-10", "2026-03-31")}, asOf: "2026-03-10",
			deadline: "2026-04-17", days: 38, held: true, holdCode: CodeHoldReleasedBeforeDay45},
		{name: "open hold not yet started is not in effect", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-03-10", "")}, asOf: "2026-03-05",
			deadline: null, holdCode: CodeHoldOpenOverDay45},

		{name: "several holds all released before day 45", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-03-20", "2026-03-25"), hold("FBI", "2026-03-05", "2026-03-10")},
			asOf:  "2026-03-22", deadline: "2026-04-17", days: 26, held: true, holdCode: CodeHoldReleasedBeforeDay45},
		{name: "overlapping holds covering day 45 run to the last release", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-03-10", "2026-04-10"), hold("FBI", "2026-04-05", "2026-04-25")},
			asOf:  "2026-04-20", deadline: "2026-04-25", days: 5, held: true, holdCode: CodeHoldReleasedAfterDay45},
		{name: "a hold inside another does not shorten it", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-03-10", "2026-05-20"), hold("FBI", "2026-03-15", "2026-04-01")},
			asOf:  "2026-04-20", deadline: "2026-05-20", days: 30, held: true, holdCode: CodeHoldReleasedAfterDay45},
		{name: "adjacent holds merge: a hold placed on the release day extends it", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-03-10", "2026-04-20"), hold("FBI", "2026-04-20", "2026-05-15")},
			asOf:  "2026-04-20", deadline: "2026-05-15", days: 25, held: true, holdCode: CodeHoldReleasedAfterDay45},
		{name: "adjacent open hold leaves no deadline", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-03-10", "2026-04-20"), hold("FBI", "2026-04-20", "")},
			asOf:  "2026-04-25", deadline: null, held: true, holdCode: CodeHoldOpenOverDay45},
		{name: "a one-day gap after release leaves the notice due on release", discovered: "2026-03-03",
			holds: []breach.Hold{hold("ISP", "2026-03-10", "2026-04-20"), hold("FBI", "2026-04-21", "2026-05-15")},
			asOf:  "2026-04-22", deadline: "2026-04-20", days: -2, overdue: true, held: true, holdCode: CodeHoldStartedAfterDay45},
		{name: "holds across a leap day: released before day 45", discovered: "2028-01-20",
			holds: []breach.Hold{hold("ISP", "2028-02-27", "2028-03-02")}, asOf: "2028-02-29",
			deadline: "2028-03-05", days: 5, held: true, holdCode: CodeHoldReleasedBeforeDay45},
		{name: "holds across a leap day: released after day 45", discovered: "2028-01-20",
			holds: []breach.Hold{hold("ISP", "2028-02-28", "2028-03-06")}, asOf: "2028-02-29",
			deadline: "2028-03-06", days: 6, held: true, holdCode: CodeHoldReleasedAfterDay45},
		{name: "hold across a month end and a year end", discovered: "2026-12-20",
			holds: []breach.Hold{hold("ISP", "2026-12-30", "2027-02-10")}, asOf: "2027-01-31",
			deadline: "2027-02-10", days: 10, held: true, holdCode: CodeHoldReleasedAfterDay45},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := required()
			d.DiscoveredOn = date(tt.discovered)
			p := assess(t, d, tt.holds, tt.asOf)
			if got := p.Deadline.String(); (tt.deadline == null) != p.Deadline.IsZero() || (tt.deadline != null && got != tt.deadline) {
				t.Errorf("deadline = %q; want %q", got, tt.deadline)
			}
			switch {
			case tt.deadline == null && p.DaysRemaining != nil:
				t.Errorf("days remaining = %d; want null", *p.DaysRemaining)
			case tt.deadline != null && (p.DaysRemaining == nil || *p.DaysRemaining != tt.days):
				t.Errorf("days remaining = %v; want %d", p.DaysRemaining, tt.days)
			}
			if p.Overdue != tt.overdue || p.Held != tt.held {
				t.Errorf("overdue, held = %v, %v; want %v, %v", p.Overdue, p.Held, tt.overdue, tt.held)
			}
			if p.Held != hasReason(p, CodeHoldInEffect) {
				t.Errorf("held = %v but hold_in_effect reason given = %v", p.Held, !p.Held)
			}
			if tt.holdCode != "" && !hasReason(p, tt.holdCode) {
				t.Errorf("reasons %v lack %s", codes(p), tt.holdCode)
			}
			if tt.overdue != hasReason(p, CodeDeadlineOverdue) {
				t.Errorf("overdue reason given = %v; want %v", !tt.overdue, tt.overdue)
			}
			if tt.deadline == null && (!hasReason(p, CodeDeadlineAwaitingRelease) || p.Approvable) {
				t.Errorf("no deadline: want %s and not approvable; got %v, approvable %v", CodeDeadlineAwaitingRelease, codes(p), p.Approvable)
			}
			// Holds never make the deadline earlier than without them.
			if !p.Deadline.IsZero() && p.Deadline.Before(date(tt.discovered).AddDays(45)) {
				t.Errorf("deadline %s before day 45", p.Deadline)
			}
		})
	}
}

func TestDeadlineReasonTexts(t *testing.T) {
	p := assess(t, required(), []breach.Hold{hold("Indiana State Police", "2026-03-10", "2026-05-12")}, "2026-03-20")
	for code, want := range map[string]string{
		CodeDeadline45Days:         "discovered on Tuesday, March 3, 2026, so day 45 is Friday, April 17, 2026",
		CodeHoldReleasedAfterDay45: "(Indiana State Police) ran from Tuesday, March 10, 2026 until its release on Tuesday, May 12, 2026",
		CodeDeadlineDaysRemaining:  "As of Friday, March 20, 2026, 53 days remain until the deadline, Tuesday, May 12, 2026.",
		// 7 days ran before the hold; 38 remain from the release on 12 May: 19 June.
		CodeTollingReadingForCounsel: "7 of the 45 ran outside holds, so the remaining 38 days would run from the release on Tuesday, May 12, 2026, making notice due by Friday, June 19, 2026",
		CodeHoldInEffect:             "(Indiana State Police, from Tuesday, March 10, 2026 until its release on Tuesday, May 12, 2026)",
	} {
		if got := reason(t, p, code).Text; !strings.Contains(got, want) {
			t.Errorf("%s: %q\ndoes not contain %q", code, got, want)
		}
	}

	p = assess(t, required(), nil, "2026-04-20")
	if got, want := reason(t, p, CodeDeadlineOverdue).Text, "the deadline, Friday, April 17, 2026, passed 3 days ago"; !strings.Contains(got, want) {
		t.Errorf("overdue text %q does not contain %q", got, want)
	}
	p = assess(t, required(), nil, "2026-04-16")
	if got, want := reason(t, p, CodeDeadlineDaysRemaining).Text, "1 day remain"; !strings.Contains(got, want) {
		t.Errorf("text %q does not contain %q", got, want)
	}
	p = assess(t, required(), nil, "2026-04-17")
	if got, want := reason(t, p, CodeDeadlineDaysRemaining).Text, "the deadline is today"; !strings.Contains(got, want) {
		t.Errorf("text %q does not contain %q", got, want)
	}
}

func TestTollingReading(t *testing.T) {
	tests := []struct {
		name  string
		holds []breach.Hold
		want  string // "" when no tolling reason is given
	}{
		{"no hold, no tolling reading", nil, ""},
		{"hold starting after day 45 pauses nothing", []breach.Hold{hold("ISP", "2026-04-20", "2026-05-01")}, ""},
		{"hold released before day 45 adds its days", []breach.Hold{hold("ISP", "2026-03-10", "2026-03-31")},
			"making notice due by Friday, May 8, 2026"}, // 21 held days after 17 April
		{"two holds add both", []breach.Hold{hold("ISP", "2026-03-05", "2026-03-10"), hold("FBI", "2026-03-20", "2026-03-25")},
			"12 of the 45 ran outside holds, so the remaining 33 days would run from the release on Wednesday, March 25, 2026, making notice due by Monday, April 27, 2026"},
		{"open hold has no tolled date", []breach.Hold{hold("FBI", "2026-03-10", "")},
			"7 of the 45 ran outside holds, so 38 days would remain, counted from a release that has not happened yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := assess(t, required(), tt.holds, "2026-03-20")
			if tt.want == "" {
				if hasReason(p, CodeTollingReadingForCounsel) {
					t.Errorf("tolling reason given: %v", codes(p))
				}
				return
			}
			r := reason(t, p, CodeTollingReadingForCounsel)
			if !strings.Contains(r.Text, tt.want) || !strings.Contains(r.Text, "not the deadline") {
				t.Errorf("text %q\ndoes not contain %q", r.Text, tt.want)
			}
		})
	}
}

func TestHoldUndocumented(t *testing.T) {
	holds := []breach.Hold{
		{Agency: "ISP", StartDate: date("2026-03-10"), InWriting: true},
		{Agency: "FBI", StartDate: date("2026-03-12")},
		{StartDate: date("2026-03-14"), InWriting: true},
	}
	p := assess(t, required(), holds, "2026-03-20")
	var texts []string
	for _, r := range p.Reasons {
		if r.Code == CodeHoldUndocumented {
			texts = append(texts, r.Text)
		}
	}
	if len(texts) != 2 || !strings.Contains(texts[0], "(FBI) was not requested in writing") ||
		!strings.Contains(texts[1], "(agency not named) does not name the agency") {
		t.Errorf("undocumented-hold reasons = %q", texts)
	}
}

func TestDeadlineOnWeekendOrHoliday(t *testing.T) {
	tests := []struct {
		name       string
		discovered string
		code       string // "" for no warning
		want       string
	}{
		{"Sunday deadline after a leap day", "2028-01-20", CodeDeadlineWeekend,
			"The deadline, Sunday, March 5, 2028, falls on a weekend. The law does not move it to the next business day: plan for notice to go out by Friday, March 3, 2028."},
		{"Saturday deadline", "2026-03-04", CodeDeadlineWeekend, "plan for notice to go out by Friday, April 17, 2026"},
		{"observed Independence Day", "2026-05-19", CodeDeadlineHoliday,
			"The deadline, Friday, July 3, 2026, is a federal holiday (Independence Day (observed))"},
		{"Thanksgiving", "2026-10-12", CodeDeadlineHoliday, "Thursday, November 26, 2026, is a federal holiday (Thanksgiving Day)"},
		{"ordinary Friday", "2026-03-03", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := required()
			d.DiscoveredOn = date(tt.discovered)
			p := assess(t, d, nil, tt.discovered)
			for _, c := range []string{CodeDeadlineWeekend, CodeDeadlineHoliday} {
				if hasReason(p, c) != (c == tt.code) {
					t.Errorf("reason %s given = %v; want %v", c, hasReason(p, c), c == tt.code)
				}
			}
			if tt.code != "" && !strings.Contains(reason(t, p, tt.code).Text, tt.want) {
				t.Errorf("text %q\ndoes not contain %q", reason(t, p, tt.code).Text, tt.want)
			}
		})
	}
}

func TestSubstituteNotice(t *testing.T) {
	type trig = breach.SubstituteTrigger
	tests := []struct {
		name     string
		affected int
		cost     *breach.Money
		contact  bool
		triggers []trig
		replaces bool
		codes    []string // the §5 reasons in order
	}{
		{"500 affected do not trigger it", 500, nil, true, nil, false,
			[]string{CodeAffected500OrFewer, CodeCostNotEstimated, CodeContactSufficient, CodeSubstituteNotRequired}},
		{"501 affected trigger substitute notice", 501, nil, true, []trig{breach.TriggerAffectedOver500}, false,
			[]string{CodeAffectedOver500, CodeCostNotEstimated, CodeContactSufficient, CodeSubstituteRequired, CodeSubstituteSupplements}},
		{"500,000 affected do not let it replace individual notice", 500_000, nil, true, []trig{breach.TriggerAffectedOver500}, false,
			[]string{CodeAffectedOver500, CodeCostNotEstimated, CodeContactSufficient, CodeSubstituteRequired, CodeSubstituteSupplements}},
		{"500,001 affected let it replace individual notice", 500_001, nil, true, []trig{breach.TriggerAffectedOver500}, true,
			[]string{CodeAffectedOver500, CodeCostNotEstimated, CodeContactSufficient, CodeSubstituteRequired, CodeSubstituteReplaces}},
		{"cost of $250,000.00 does not trigger it", 10, ptr(breach.Money(25_000_000)), true, nil, false,
			[]string{CodeAffected500OrFewer, CodeCost250000OrLess, CodeContactSufficient, CodeSubstituteNotRequired}},
		{"cost of $250,000.01 triggers it and lets it replace individual notice", 10, ptr(breach.Money(25_000_001)), true,
			[]trig{breach.TriggerCostOver250000}, true,
			[]string{CodeAffected500OrFewer, CodeCostOver250000, CodeContactSufficient, CodeSubstituteRequired, CodeSubstituteReplaces}},
		{"insufficient contact triggers it for the unreachable", 10, ptr(breach.Dollars(800)), false,
			[]trig{breach.TriggerInsufficientContact}, false,
			[]string{CodeAffected500OrFewer, CodeCost250000OrLess, CodeInsufficientContact, CodeSubstituteRequired, CodeSubstituteSupplements}},
		{"all three triggers in order", 600_000, ptr(breach.Money(30_000_000)), false,
			[]trig{breach.TriggerAffectedOver500, breach.TriggerCostOver250000, breach.TriggerInsufficientContact}, true,
			[]string{CodeAffectedOver500, CodeCostOver250000, CodeInsufficientContact, CodeSubstituteRequired, CodeSubstituteReplaces}},
		{"no one affected", 0, nil, true, nil, false,
			[]string{CodeAffected500OrFewer, CodeCostNotEstimated, CodeContactSufficient, CodeSubstituteNotRequired}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := required()
			d.AffectedCount, d.IndianaResidents, d.NoticeCostEstimate, d.ContactInfoSufficient = tt.affected, nil, tt.cost, tt.contact
			p := assess(t, d, nil, "2026-03-10")
			s := p.SubstituteNotice
			if s.Required != (len(tt.triggers) > 0) || !slices.Equal(s.Triggers, tt.triggers) || s.ReplacesIndividual != tt.replaces {
				t.Errorf("substitute notice = %+v; want triggers %v, replaces %v", s, tt.triggers, tt.replaces)
			}
			wantMethods := []breach.SubstituteMethod{}
			if s.Required {
				wantMethods = []breach.SubstituteMethod{breach.SubstituteEmail, breach.SubstituteWebsite, breach.SubstituteMedia}
			}
			if !slices.Equal(s.Methods, wantMethods) {
				t.Errorf("methods = %v; want %v", s.Methods, wantMethods)
			}
			var got []string
			for _, c := range codes(p) {
				if slices.Contains([]string{CodeAffectedOver500, CodeAffected500OrFewer, CodeCostOver250000, CodeCost250000OrLess,
					CodeCostNotEstimated, CodeInsufficientContact, CodeContactSufficient, CodeSubstituteRequired,
					CodeSubstituteNotRequired, CodeSubstituteReplaces, CodeSubstituteSupplements}, c) {
					got = append(got, c)
				}
			}
			if !slices.Equal(got, tt.codes) {
				t.Errorf("substitute reasons = %v; want %v", got, tt.codes)
			}
		})
	}
}

func TestSubstituteNoticeReasonTexts(t *testing.T) {
	d := required()
	d.AffectedCount, d.NoticeCostEstimate = 501, ptr(breach.Money(25_000_001))
	p := assess(t, d, nil, "2026-03-10")
	for code, want := range map[string]string{
		CodeAffectedOver500:    "501 people are affected, more than 500",
		CodeCostOver250000:     "The estimated cost of notice, $250,000.01, exceeds $250,000",
		CodeSubstituteRequired: "at least 75% of Indiana's population",
		CodeSubstituteReplaces: "here the cost of notice, $250,000.01, exceeds $250,000",
	} {
		if got := reason(t, p, code).Text; !strings.Contains(got, want) {
			t.Errorf("%s: %q\ndoes not contain %q", code, got, want)
		}
	}
	d.NoticeCostEstimate = ptr(breach.Money(25_000_000))
	p = assess(t, d, nil, "2026-03-10")
	if got := reason(t, p, CodeSubstituteSupplements).Text; !strings.Contains(got, "500,000") || !strings.Contains(got, "guideline's 500") {
		t.Errorf("the 500 vs 500,000 discrepancy is not explained: %q", got)
	}
	if got := reason(t, p, CodeCost250000OrLess).Text; !strings.Contains(got, "$250,000.00, does not exceed") {
		t.Errorf("cost text %q", got)
	}
}

func TestAgencies(t *testing.T) {
	tests := []struct {
		name      string
		affected  int
		residents *int
		cra, ag   bool
		assumed   bool
	}{
		{"1,000 residents do not require the consumer reporting agencies", 1500, ptr(1000), false, true, false},
		{"1,001 residents require the consumer reporting agencies", 1500, ptr(1001), true, true, false},
		{"one resident requires the Attorney General", 1500, ptr(1), false, true, false},
		{"no residents require neither", 1500, ptr(0), false, false, false},
		{"unknown residents are assumed to be all 1,001 affected", 1001, nil, true, true, true},
		{"unknown residents are assumed to be all 1,000 affected", 1000, nil, false, true, true},
		{"unknown residents with no one affected", 0, nil, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := required()
			d.AffectedCount, d.IndianaResidents = tt.affected, tt.residents
			p := assess(t, d, nil, "2026-03-10")
			want := func(req bool) breach.AgencyNotice {
				if req {
					return breach.AgencyNotice{Required: true, Due: date("2026-04-17")}
				}
				return breach.AgencyNotice{}
			}
			if p.ConsumerReportingAgencies != want(tt.cra) || p.AttorneyGeneral != want(tt.ag) {
				t.Errorf("CRA %+v, AG %+v; want required %v, %v due 2026-04-17", p.ConsumerReportingAgencies, p.AttorneyGeneral, tt.cra, tt.ag)
			}
			if hasReason(p, CodeResidentsAssumed) != tt.assumed {
				t.Errorf("residents_assumed given = %v; want %v", !tt.assumed, tt.assumed)
			}
			if hasReason(p, CodeCRARequired) != tt.cra || hasReason(p, CodeCRANotRequired) == tt.cra {
				t.Errorf("CRA reasons %v do not match required %v", codes(p), tt.cra)
			}
			if hasReason(p, CodeAttorneyGeneralRequired) != tt.ag || hasReason(p, CodeAttorneyGeneralNotRequired) == tt.ag {
				t.Errorf("AG reasons %v do not match required %v", codes(p), tt.ag)
			}
		})
	}

	t.Run("agencies are due with the notices: none while an open hold covers day 45", func(t *testing.T) {
		d := required()
		d.AffectedCount, d.IndianaResidents = 2000, nil
		p := assess(t, d, []breach.Hold{hold("FBI", "2026-03-10", "")}, "2026-03-20")
		if !p.ConsumerReportingAgencies.Required || !p.ConsumerReportingAgencies.Due.IsZero() ||
			!p.AttorneyGeneral.Required || !p.AttorneyGeneral.Due.IsZero() {
			t.Errorf("CRA %+v, AG %+v; want required with no due date", p.ConsumerReportingAgencies, p.AttorneyGeneral)
		}
		if got := reason(t, p, CodeResidentsAssumed).Text; !strings.Contains(got, "all 2,000 people") {
			t.Errorf("residents_assumed text %q does not give the number", got)
		}
	})
}

func TestOfficeOfTechnology(t *testing.T) {
	tests := []struct {
		name       string
		category   breach.Category
		discovered string
		due        string // "" when not required
		code       string
	}{
		{"data incident, Tuesday discovery", breach.CategoryData, "2026-03-03", "2026-03-05", CodeOfficeOfTechnologyRequired},
		{"infrastructure incident across a weekend", breach.CategoryInfrastructure, "2026-03-06", "2026-03-10", CodeOfficeOfTechnologyRequired},
		{"unauthorized access across a weekend and Martin Luther King Day", breach.CategoryUnauthorizedAccess, "2026-01-16", "2026-01-21", CodeOfficeOfTechnologyRequired},
		{"discovered on a Sunday", breach.CategoryData, "2026-03-08", "2026-03-10", CodeOfficeOfTechnologyRequired},
		{"category not recorded is assumed", "", "2026-03-03", "2026-03-05", CodeOfficeOfTechnologyAssumed},
		{"physical incident", breach.CategoryPhysical, "2026-03-03", "", CodeOfficeOfTechnologyNotRequired},
		{"other incident", breach.CategoryOther, "2026-03-03", "", CodeOfficeOfTechnologyNotRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, pi := range []bool{true, false} { // whatever personal information is involved
				d := required()
				d.Category, d.DiscoveredOn = tt.category, date(tt.discovered)
				if !pi {
					d.DataElements = []breach.DataElement{breach.ElementStudentID}
				}
				p := assess(t, d, nil, tt.discovered)
				want := breach.AgencyNotice{}
				if tt.due != "" {
					want = breach.AgencyNotice{Required: true, Due: date(tt.due)}
				}
				if p.OfficeOfTechnology != want || !hasReason(p, tt.code) {
					t.Errorf("PI %v: office of technology %+v (reasons %v); want %+v and %s", pi, p.OfficeOfTechnology, codes(p), want, tt.code)
				}
				if tt.due != "" && !strings.Contains(reason(t, p, tt.code).Text, longDate(date(tt.due))) {
					t.Errorf("reason does not give the due date: %q", reason(t, p, tt.code).Text)
				}
			}
		})
	}
}

func TestFERPA(t *testing.T) {
	d := required()
	if hasReason(assess(t, d, nil, "2026-03-03"), CodeFERPADisclosureRecord) {
		t.Error("FERPA reason without student records")
	}
	d.DataElements = append(d.DataElements, breach.ElementStudentID)
	if r := reason(t, assess(t, d, nil, "2026-03-03"), CodeFERPADisclosureRecord); r.Citation != "34 CFR 99.32" {
		t.Errorf("FERPA citation = %q", r.Citation)
	}
}

func TestIndividualMethods(t *testing.T) {
	p := assess(t, required(), nil, "2026-03-10")
	want := []breach.Method{breach.MethodLetter, breach.MethodEmail, breach.MethodPhone}
	for i, m := range p.IndividualMethods {
		if m.Method != want[i] || m.Default != (i == 0) || m.Condition == "" || m.Citation == "" {
			t.Errorf("method %d = %+v", i, m)
		}
	}
	email, phone := p.IndividualMethods[1].Condition, p.IndividualMethods[2].Condition
	for _, s := range []string{"primary method of communication", "electronic", "current", "bounce"} {
		if !strings.Contains(email, s) {
			t.Errorf("email condition lacks %q: %q", s, email)
		}
	}
	for _, s := range []string{"72 hours", "voicemail is never notice", "letter", "in parallel", "on or after Wednesday, April 15, 2026"} {
		if !strings.Contains(phone, s) {
			t.Errorf("phone condition lacks %q: %q", s, phone)
		}
	}
	if !hasReason(p, CodeSMSNeverCounts) || !hasReason(p, CodeMinorsToParents) {
		t.Errorf("reasons %v lack the SMS or minors reason", codes(p))
	}

	d := required()
	d.DataElements = []breach.DataElement{breach.ElementName}
	p = assess(t, d, nil, "2026-03-10")
	if len(p.IndividualMethods) != 3 || !strings.Contains(reason(t, p, CodeIndividualMethods).Text, "may still be given") {
		t.Errorf("not required: methods %+v, reason %q", p.IndividualMethods, reason(t, p, CodeIndividualMethods).Text)
	}
}

func TestParallelLetterNeeded(t *testing.T) {
	loc, err := time.LoadLocation(breach.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	deadline := date("2026-04-17")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		attempt string
		want    bool
	}{
		{"2026-04-13 09:00", false},
		{"2026-04-14 09:00", false}, // the 72 hours end at 09:00 on the deadline day
		{"2026-04-14 23:59", false},
		{"2026-04-15 00:00", true}, // the window reaches past the deadline day
		{"2026-04-17 08:00", true},
		{"2026-04-20 08:00", true},
	}
	for _, tt := range tests {
		if got := ParallelLetterNeeded(at(tt.attempt), deadline, loc); got != tt.want {
			t.Errorf("first attempt %s: parallel letter = %v; want %v", tt.attempt, got, tt.want)
		}
	}
	if ParallelLetterNeeded(at("2026-04-16 08:00"), breach.Date{}, loc) {
		t.Error("parallel letter with no deadline")
	}
}

func TestMissingContentAndApproval(t *testing.T) {
	all := []breach.ContentElement{breach.ContentDescription, breach.ContentDataElements, breach.ContentRemediation, breach.ContentAssistancePhone}
	tests := []struct {
		name       string
		edit       func(*breach.Determination)
		holds      []breach.Hold
		asOf       string
		missing    []breach.ContentElement
		approvable bool
		blocker    string // in the not_approvable reason
	}{
		{name: "complete plan is approvable", edit: func(*breach.Determination) {}, asOf: "2026-03-10",
			missing: []breach.ContentElement{}, approvable: true},
		{name: "overdue plan is still approvable", edit: func(*breach.Determination) {}, asOf: "2026-05-01",
			missing: []breach.ContentElement{}, approvable: true},
		{name: "everything missing, in order", asOf: "2026-03-10", edit: func(d *breach.Determination) {
			d.Description, d.Remediation, d.AssistancePhone = "", "", ""
			d.DataElements = nil
		}, missing: all, blocker: "notification is not required and the notice content is incomplete"},
		{name: "blank text counts as missing", asOf: "2026-03-10", edit: func(d *breach.Determination) {
			d.Description, d.AssistancePhone = "  \n", "\t"
		}, missing: []breach.ContentElement{breach.ContentDescription, breach.ContentAssistancePhone},
			blocker: "the notice content is incomplete"},
		{name: "only remediation missing", asOf: "2026-03-10", edit: func(d *breach.Determination) { d.Remediation = "" },
			missing: []breach.ContentElement{breach.ContentRemediation}, blocker: "the notice content is incomplete"},
		{name: "held plan is not approvable", edit: func(*breach.Determination) {}, asOf: "2026-03-20",
			holds:   []breach.Hold{hold("ISP", "2026-03-10", "2026-03-31")},
			missing: []breach.ContentElement{}, blocker: "a law-enforcement hold is in effect"},
		{name: "released hold does not block approval", edit: func(*breach.Determination) {}, asOf: "2026-04-01",
			holds:   []breach.Hold{hold("ISP", "2026-03-10", "2026-03-31")},
			missing: []breach.ContentElement{}, approvable: true},
		{name: "open hold not yet in effect blocks approval", edit: func(*breach.Determination) {}, asOf: "2026-03-05",
			holds:   []breach.Hold{hold("ISP", "2026-03-10", "")},
			missing: []breach.ContentElement{}, blocker: "a law-enforcement hold starting Tuesday, March 10, 2026 is open"},
		{name: "not required is not approvable", asOf: "2026-03-10",
			edit:    func(d *breach.Determination) { d.Encrypted = true },
			missing: []breach.ContentElement{}, blocker: "notification is not required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := required()
			tt.edit(&d)
			p := assess(t, d, tt.holds, tt.asOf)
			if !slices.Equal(p.MissingContent, tt.missing) || p.Approvable != tt.approvable {
				t.Errorf("missing %v, approvable %v; want %v, %v", p.MissingContent, p.Approvable, tt.missing, tt.approvable)
			}
			if len(tt.missing) > 0 {
				text := reason(t, p, CodeContentMissing).Text
				for _, m := range tt.missing {
					if !strings.Contains(text, string(m)+" (") {
						t.Errorf("content_missing text %q does not name %s", text, m)
					}
				}
			} else if !hasReason(p, CodeContentComplete) {
				t.Errorf("reasons %v lack %s", codes(p), CodeContentComplete)
			}
			if tt.approvable {
				reason(t, p, CodeApprovable)
			} else if got := reason(t, p, CodeNotApprovable).Text; !strings.Contains(got, tt.blocker) {
				t.Errorf("not_approvable text %q does not contain %q", got, tt.blocker)
			}
		})
	}
}

// TestReasonOrder pins the order the rules are checked in, for a plan that exercises them all.
func TestReasonOrder(t *testing.T) {
	d := required()
	d.DataElements = []breach.DataElement{breach.ElementDriversLicense, breach.ElementStudentID}
	d.AffectedCount, d.IndianaResidents = 1200, nil
	holds := []breach.Hold{{Agency: "ISP", StartDate: date("2026-03-10"), EndDate: date("2026-05-09")}}
	p := assess(t, d, holds, "2026-03-20")
	want := []string{
		CodePersonalInformation, CodeNameAssumed, CodeExposedUnencrypted, CodeRiskLikely,
		CodeHoldUndocumented,
		CodeDeadline45Days, CodeHoldReleasedAfterDay45, CodeDeadlineDaysRemaining, CodeDeadlineWeekend,
		CodeTollingReadingForCounsel, CodeHoldInEffect,
		CodeAffectedOver500, CodeCostNotEstimated, CodeContactSufficient, CodeSubstituteRequired, CodeSubstituteSupplements,
		CodeResidentsAssumed, CodeCRARequired, CodeAttorneyGeneralRequired,
		CodeOfficeOfTechnologyRequired, CodeFERPADisclosureRecord,
		CodeIndividualMethods, CodeSMSNeverCounts, CodeMinorsToParents,
		CodeContentComplete, CodeNotApprovable,
	}
	if got := codes(p); !slices.Equal(got, want) {
		t.Errorf("reasons\n got %v\nwant %v", got, want)
	}
}
