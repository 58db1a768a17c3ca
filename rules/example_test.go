package rules_test

import (
	"fmt"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

// A stolen laptop held 1,200 students' unencrypted Social Security numbers; the state police asked
// for a delay from 10 March and released the hold on 12 May, after day 45 (17 April).
func ExampleAssess() {
	d := breach.Determination{
		Jurisdiction:          "IN",
		Title:                 "Counselor laptop stolen",
		DiscoveredOn:          breach.MustDate("2026-03-03"),
		Description:           "A counselor's laptop was stolen from a car.",
		DataElements:          []breach.DataElement{breach.ElementName, breach.ElementSSN},
		RiskOfHarm:            breach.RiskLikely,
		AffectedCount:         1200,
		ContactInfoSufficient: true,
		Remediation:           "Laptops are now encrypted.",
		AssistancePhone:       "+1 317 555 0142",
		Category:              breach.CategoryPhysical,
	}
	holds := []breach.Hold{{
		Agency:    "Indiana State Police",
		InWriting: true,
		StartDate: breach.MustDate("2026-03-10"),
		EndDate:   breach.MustDate("2026-05-12"),
	}}

	plan, err := rules.Assess(d, holds, breach.MustDate("2026-05-01"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("required:", plan.NotificationRequired)
	fmt.Println("deadline:", plan.Deadline, "days remaining:", *plan.DaysRemaining, "held:", plan.Held)
	fmt.Println("substitute notice:", plan.SubstituteNotice.Triggers, "replaces individual:", plan.SubstituteNotice.ReplacesIndividual)
	fmt.Println("consumer reporting agencies due:", plan.ConsumerReportingAgencies.Due)
	for _, r := range plan.Reasons {
		if r.Code == rules.CodeHoldReleasedAfterDay45 {
			fmt.Println(r.Text)
			fmt.Println("  —", r.Citation)
		}
	}

	// Output:
	// required: true
	// deadline: 2026-05-12 days remaining: 11 held: true
	// substitute notice: [affected_over_500] replaces individual: false
	// consumer reporting agencies due: 2026-05-12
	// The law-enforcement hold (Indiana State Police) ran from Tuesday, March 10, 2026 until its release on Tuesday, May 12, 2026, after day 45: notice is due on the release date, Tuesday, May 12, 2026.
	//   — IN guideline §Notification; IC 24-4.9-3-3(b)
}
