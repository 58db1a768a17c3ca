package rules_test

import (
	"slices"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

func TestAssessWithRecipients(t *testing.T) {
	base := breach.Determination{
		Title: "Roster export", DiscoveredOn: breach.MustDate("2026-03-03"),
		DataElements: []breach.DataElement{breach.ElementName, breach.ElementSSN}, RiskOfHarm: breach.RiskLikely,
		AffectedCount: 400, ContactInfoSufficient: true,
		Description: "d", Remediation: "r", AssistancePhone: "+1 317 555 0100",
	}
	residents := 400
	base.IndianaResidents = &residents
	asOf := breach.MustDate("2026-03-20")

	codes := func(p breach.Plan) []string {
		var c []string
		for _, r := range p.Reasons {
			c = append(c, r.Code)
		}
		return c
	}

	t.Run("nobody uploaded: exactly Assess", func(t *testing.T) {
		got, err := rules.AssessWithRecipients(base, breach.RecipientCounts{}, false, nil, asOf)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := rules.Assess(base, nil, asOf)
		if !slices.Equal(codes(got), codes(want)) {
			t.Fatalf("reasons %v, want %v", codes(got), codes(want))
		}
	})
	t.Run("501 uploaded against an estimate of 400 triggers substitute notice", func(t *testing.T) {
		p, err := rules.AssessWithRecipients(base, breach.RecipientCounts{Affected: 501, IndianaResidents: 450}, true, nil, asOf)
		if err != nil {
			t.Fatal(err)
		}
		if !p.SubstituteNotice.Required || !slices.Equal(p.SubstituteNotice.Triggers, []breach.SubstituteTrigger{breach.TriggerAffectedOver500}) {
			t.Fatalf("substitute %+v", p.SubstituteNotice)
		}
		c := codes(p)
		if c[0] != rules.CodeCountsFromUpload || c[1] != rules.CodeAffectedCountDiffers || c[2] != rules.CodeIndianaResidentsDiffer {
			t.Fatalf("leading reasons %v", c[:3])
		}
		if !strings.Contains(p.Reasons[1].Text, "400 people") || !strings.Contains(p.Reasons[1].Text, "501") {
			t.Errorf("difference not stated: %s", p.Reasons[1].Text)
		}
	})
	t.Run("1,001 uploaded residents trigger the agencies; 1,000 do not", func(t *testing.T) {
		p, _ := rules.AssessWithRecipients(base, breach.RecipientCounts{Affected: 1001, IndianaResidents: 1000}, true, nil, asOf)
		if p.ConsumerReportingAgencies.Required {
			t.Fatal("1,000 residents triggered the agencies")
		}
		p, _ = rules.AssessWithRecipients(base, breach.RecipientCounts{Affected: 1001, IndianaResidents: 1001}, true, nil, asOf)
		if !p.ConsumerReportingAgencies.Required {
			t.Fatal("1,001 residents did not trigger the agencies")
		}
	})
	t.Run("one uploaded person without contact sets insufficient_contact", func(t *testing.T) {
		p, _ := rules.AssessWithRecipients(base, breach.RecipientCounts{Affected: 400, IndianaResidents: 400, InsufficientContact: 1}, true, nil, asOf)
		if !slices.Contains(p.SubstituteNotice.Triggers, breach.TriggerInsufficientContact) {
			t.Fatalf("triggers %v", p.SubstituteNotice.Triggers)
		}
		c := codes(p)
		if slices.Contains(c, rules.CodeAffectedCountDiffers) || slices.Contains(c, rules.CodeIndianaResidentsDiffer) {
			t.Errorf("equal counts reported as different: %v", c)
		}
		if !slices.Contains(c, rules.CodeUploadInsufficientContact) {
			t.Errorf("no reason for the unreachable person: %v", c)
		}
	})
	t.Run("not required stays not required", func(t *testing.T) {
		d := base
		d.DataElements = []breach.DataElement{breach.ElementStudentID}
		p, _ := rules.AssessWithRecipients(d, breach.RecipientCounts{Affected: 2000, IndianaResidents: 2000}, true, nil, asOf)
		if p.NotificationRequired || p.SubstituteNotice.Required || p.ConsumerReportingAgencies.Required {
			t.Fatalf("student IDs alone: %+v", p)
		}
	})
	t.Run("a partial upload never switches a duty off until the list is declared complete", func(t *testing.T) {
		d := base
		d.AffectedCount = 1200
		est := 1150
		d.IndianaResidents = &est
		partial := breach.RecipientCounts{Affected: 10, IndianaResidents: 9}
		p, err := rules.AssessWithRecipients(d, partial, false, nil, asOf)
		if err != nil {
			t.Fatal(err)
		}
		if !p.ConsumerReportingAgencies.Required || !p.SubstituteNotice.Required ||
			!slices.Contains(p.SubstituteNotice.Triggers, breach.TriggerAffectedOver500) {
			t.Fatalf("partial upload switched duties off: CRA %v, substitute %+v", p.ConsumerReportingAgencies, p.SubstituteNotice)
		}
		if p.Reasons[0].Code != rules.CodeEstimateGoverns || !strings.Contains(p.Reasons[0].Text, "1,200 affected (the estimate)") ||
			!strings.Contains(p.Reasons[0].Text, "1,150 Indiana residents (the estimate)") {
			t.Errorf("first reason does not say the estimate governs: %+v", p.Reasons[0])
		}
		// More uploaded than estimated: the upload governs even before completion.
		p, _ = rules.AssessWithRecipients(d, breach.RecipientCounts{Affected: 1300, IndianaResidents: 1100}, false, nil, asOf)
		if !strings.Contains(p.Reasons[0].Text, "1,300 affected (the upload)") {
			t.Errorf("reason %s", p.Reasons[0].Text)
		}
		// Declared complete: the ten people govern, and the duties that depend on the counts end.
		p, _ = rules.AssessWithRecipients(d, partial, true, nil, asOf)
		if p.ConsumerReportingAgencies.Required || slices.Contains(p.SubstituteNotice.Triggers, breach.TriggerAffectedOver500) {
			t.Fatalf("complete list of 10 still triggers: CRA %v, substitute %+v", p.ConsumerReportingAgencies, p.SubstituteNotice)
		}
		if p.Reasons[0].Code != rules.CodeCountsFromUpload || !strings.Contains(p.Reasons[0].Text, "declared complete") {
			t.Errorf("first reason %+v", p.Reasons[0])
		}
	})
	t.Run("the plan says what it counted, and from what", func(t *testing.T) {
		unknown := base
		unknown.AffectedCount, unknown.IndianaResidents = 1200, nil
		estimated := base
		estimated.AffectedCount = 1200
		est := 1150
		estimated.IndianaResidents = &est
		for _, tc := range []struct {
			name     string
			d        breach.Determination
			c        breach.RecipientCounts
			complete bool
			want     breach.Counted
		}{
			{"nobody uploaded, residents not estimated: all affected assumed residents", unknown, breach.RecipientCounts{}, false,
				breach.Counted{Basis: breach.CountsEstimated, Affected: 1200, AffectedFrom: breach.FromEstimate,
					IndianaResidents: 1200, IndianaResidentsFrom: breach.FromEstimate, IndianaResidentsAssumed: true}},
			{"estimate above a partial upload", estimated, breach.RecipientCounts{Affected: 10, IndianaResidents: 9}, false,
				breach.Counted{Basis: breach.CountsPartialList, Affected: 1200, AffectedFrom: breach.FromEstimate,
					IndianaResidents: 1150, IndianaResidentsFrom: breach.FromEstimate}},
			{"a partial upload above the estimate of affected, matching the residents", estimated,
				breach.RecipientCounts{Affected: 1300, IndianaResidents: 1150}, false,
				breach.Counted{Basis: breach.CountsPartialList, Affected: 1300, AffectedFrom: breach.FromUpload,
					IndianaResidents: 1150, IndianaResidentsFrom: breach.FromEstimateAndUpload}},
			{"residents not estimated, a partial upload with fewer addresses: still assumed", unknown,
				breach.RecipientCounts{Affected: 10, IndianaResidents: 9}, false,
				breach.Counted{Basis: breach.CountsPartialList, Affected: 1200, AffectedFrom: breach.FromEstimate,
					IndianaResidents: 1200, IndianaResidentsFrom: breach.FromEstimate, IndianaResidentsAssumed: true}},
			{"the list declared complete: the people uploaded", unknown, breach.RecipientCounts{Affected: 10, IndianaResidents: 9}, true,
				breach.Counted{Basis: breach.CountsCompleteList, Affected: 10, AffectedFrom: breach.FromUpload,
					IndianaResidents: 9, IndianaResidentsFrom: breach.FromUpload}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p, err := rules.AssessWithRecipients(tc.d, tc.c, tc.complete, nil, asOf)
				if err != nil {
					t.Fatal(err)
				}
				if p.Counted != tc.want {
					t.Fatalf("counted %+v, want %+v", p.Counted, tc.want)
				}
				// The thresholds used the same numbers: more than 1,000 residents means the agencies.
				if p.ConsumerReportingAgencies.Required != (tc.want.IndianaResidents > 1000) {
					t.Errorf("agencies required %v with %d residents counted", p.ConsumerReportingAgencies.Required, tc.want.IndianaResidents)
				}
			})
		}
	})
}
