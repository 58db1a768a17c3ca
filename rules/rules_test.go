package rules

import (
	"errors"
	"slices"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
)

func date(s string) breach.Date { return breach.MustDate(s) }

func ptr[T any](v T) *T { return &v }

// required is a determination that requires notice and supplies every content element: a stolen
// spreadsheet of 100 staff SSNs, discovered on Tuesday 3 March 2026 (day 45: Friday 17 April).
func required() breach.Determination {
	return breach.Determination{
		Jurisdiction:          "IN",
		Title:                 "Payroll spreadsheet emailed to an outside address",
		DiscoveredOn:          date("2026-03-03"),
		Description:           "A payroll spreadsheet was emailed to an outside address.",
		DataElements:          []breach.DataElement{breach.ElementName, breach.ElementSSN},
		RiskOfHarm:            breach.RiskLikely,
		AffectedCount:         100,
		IndianaResidents:      ptr(100),
		ContactInfoSufficient: true,
		Remediation:           "Outbound email of SSNs is now blocked.",
		AssistancePhone:       "+1 317 555 0100",
		Category:              breach.CategoryData,
	}
}

// assess runs Assess, fails the test on an error, and checks the invariants every plan keeps.
func assess(t *testing.T, d breach.Determination, holds []breach.Hold, asOf string) breach.Plan {
	t.Helper()
	p, err := Assess(d, holds, date(asOf))
	if err != nil {
		t.Fatalf("Assess: %v", err)
	}
	if msg := checkInvariants(d, p); msg != "" {
		t.Fatalf("invariant broken: %s\nreasons: %v", msg, codes(p))
	}
	return p
}

// checkInvariants returns what is wrong with a plan whatever its input, or "".
func checkInvariants(d breach.Determination, p breach.Plan) string {
	switch {
	case p.SubstituteNotice.Triggers == nil || p.SubstituteNotice.Methods == nil ||
		p.IndividualMethods == nil || p.MissingContent == nil || p.Reasons == nil:
		return "a nil slice"
	case p.RulePack.ID == "" || p.AsOf.IsZero():
		return "rule pack or as_of not set"
	case !p.Deadline.IsZero() && p.Deadline.Before(d.DiscoveredOn.AddDays(45)):
		return "deadline before discovered_on + 45"
	case p.Deadline.IsZero() != (p.DaysRemaining == nil):
		return "days_remaining set without a deadline or missing with one"
	case p.DaysRemaining != nil && *p.DaysRemaining != p.Deadline.DaysSince(p.AsOf):
		return "days_remaining is not deadline - as_of"
	case p.Overdue != (!p.Deadline.IsZero() && p.AsOf.After(p.Deadline)):
		return "overdue is not as_of > deadline"
	case p.SubstituteNotice.Required != (len(p.SubstituteNotice.Triggers) > 0):
		return "substitute notice required without a trigger or a trigger without it"
	case p.SubstituteNotice.Required != (len(p.SubstituteNotice.Methods) == 3):
		return "substitute notice methods do not match required"
	case p.SubstituteNotice.ReplacesIndividual && !p.SubstituteNotice.Required:
		return "replaces_individual without substitute notice"
	case p.ConsumerReportingAgencies.Due != p.Deadline && p.ConsumerReportingAgencies.Required:
		return "consumer reporting agencies due is not the deadline"
	case p.AttorneyGeneral.Due != p.Deadline && p.AttorneyGeneral.Required:
		return "attorney general due is not the deadline"
	case p.OfficeOfTechnology.Required != !p.OfficeOfTechnology.Due.IsZero():
		return "office of technology due does not match required"
	case p.Approvable && (!p.NotificationRequired || p.Held || len(p.MissingContent) > 0 || p.Deadline.IsZero()):
		return "approvable while not required, held, incomplete or without a deadline"
	case len(p.IndividualMethods) != 3 || p.IndividualMethods[0].Method != breach.MethodLetter || !p.IndividualMethods[0].Default:
		return "individual methods are not letter (default), email, phone"
	}
	if !p.NotificationRequired {
		switch {
		case !p.Deadline.IsZero() || p.DaysRemaining != nil || p.Overdue:
			return "a deadline without notification required"
		case p.SubstituteNotice.Required || p.ConsumerReportingAgencies.Required || p.AttorneyGeneral.Required:
			return "substitute or agency notice without notification required"
		}
	}
	for i, r := range p.Reasons {
		if r.Code == "" || r.Text == "" || r.Citation == "" {
			return "reason " + r.Code + " lacks a code, text or citation"
		}
		if strings.Contains(r.Text, "%!") {
			return "reason " + r.Code + " has a formatting error: " + r.Text
		}
		if i > 0 && r.Code == p.Reasons[i-1].Code && !strings.HasPrefix(r.Code, "hold_") && !strings.HasPrefix(r.Code, "language_") { // one per hold, one per language
			return "reason " + r.Code + " repeated"
		}
	}
	return ""
}

func codes(p breach.Plan) []string {
	out := make([]string, len(p.Reasons))
	for i, r := range p.Reasons {
		out[i] = r.Code
	}
	return out
}

// reason returns the first reason with the code, failing the test when there is none.
func reason(t *testing.T, p breach.Plan, code string) breach.Reason {
	t.Helper()
	for _, r := range p.Reasons {
		if r.Code == code {
			return r
		}
	}
	t.Fatalf("no reason %q in %v", code, codes(p))
	return breach.Reason{}
}

func hasReason(p breach.Plan, code string) bool { return slices.Contains(codes(p), code) }

// fieldErrors returns the fields of the EINVALID error err, failing the test otherwise.
func fieldErrors(t *testing.T, err error) []breach.FieldError {
	t.Helper()
	var e *breach.Error
	if !errors.As(err, &e) || e.Code != breach.EINVALID {
		t.Fatalf("error = %v; want an *breach.Error with code %s", err, breach.EINVALID)
	}
	return e.Fields
}

func TestAssessJurisdiction(t *testing.T) {
	t.Run("empty jurisdiction selects Indiana", func(t *testing.T) {
		d := required()
		d.Jurisdiction = ""
		p := assess(t, d, nil, "2026-03-03")
		want := breach.RulePack{ID: "in-school-guideline", Version: "2009-11-13", Jurisdiction: "IN"}
		if p.RulePack != want {
			t.Errorf("rule pack = %+v; want %+v", p.RulePack, want)
		}
	})
	for _, j := range []string{"OH", "in", "XX"} {
		t.Run("unknown jurisdiction "+j+" is invalid", func(t *testing.T) {
			d := required()
			d.Jurisdiction = j
			_, err := Assess(d, nil, date("2026-03-03"))
			fe := fieldErrors(t, err)
			if len(fe) != 1 || fe[0].Field != "determination.jurisdiction" || !strings.Contains(fe[0].Reason, "IN") {
				t.Errorf("fields = %+v; want one on determination.jurisdiction naming IN", fe)
			}
		})
	}
}

func TestPacks(t *testing.T) {
	got := Packs()
	want := []breach.RulePack{{ID: "in-school-guideline", Version: "2009-11-13", Jurisdiction: "IN"}}
	if !slices.Equal(got, want) {
		t.Errorf("Packs() = %+v; want %+v", got, want)
	}
	for _, j := range []string{"", "IN"} {
		if p, ok := LookupPack(j); !ok || p.RulePack() != want[0] {
			t.Errorf("LookupPack(%q) = %+v, %v; want the Indiana pack", j, p.RulePack(), ok)
		}
	}
	if _, ok := LookupPack("OH"); ok {
		t.Error("LookupPack(OH) found a pack")
	}
}

func TestAssessRejectsInvalidInput(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*breach.Determination)
		holds []breach.Hold
		asOf  string
		want  []breach.FieldError // Reason is matched as a prefix
	}{
		{
			name: "hold starting before discovery",
			holds: []breach.Hold{
				{Agency: "ISP", StartDate: date("2026-03-05")},
				{Agency: "FBI", StartDate: date("2026-03-02"), EndDate: date("2026-03-20")},
			},
			want: []breach.FieldError{{Field: "holds[1].start_date", Reason: "is before discovered_on (2026-03-03)"}},
		},
		{
			name:  "hold ending before it starts",
			holds: []breach.Hold{{Agency: "ISP", StartDate: date("2026-03-10"), EndDate: date("2026-03-09")}},
			want:  []breach.FieldError{{Field: "holds[0].end_date", Reason: "is before start_date (2026-03-10)"}},
		},
		{
			name:  "hold without a start date",
			holds: []breach.Hold{{Agency: "ISP"}},
			want:  []breach.FieldError{{Field: "holds[0].start_date", Reason: "is required"}},
		},
		{
			name:  "hold both before discovery and ending before it starts",
			holds: []breach.Hold{{Agency: "ISP", StartDate: date("2026-03-01"), EndDate: date("2026-02-28")}},
			want: []breach.FieldError{
				{Field: "holds[0].start_date", Reason: "is before discovered_on"},
				{Field: "holds[0].end_date", Reason: "is before start_date"},
			},
		},
		{
			name: "no discovery date",
			edit: func(d *breach.Determination) { d.DiscoveredOn = breach.Date{} },
			want: []breach.FieldError{{Field: "determination.discovered_on", Reason: "is required"}},
		},
		{
			name: "no as_of",
			asOf: "-",
			want: []breach.FieldError{{Field: "as_of", Reason: "is required"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := required()
			if tt.edit != nil {
				tt.edit(&d)
			}
			asOf := date("2026-03-20")
			if tt.asOf == "-" {
				asOf = breach.Date{}
			}
			_, err := Assess(d, tt.holds, asOf)
			got := fieldErrors(t, err)
			if len(got) != len(tt.want) {
				t.Fatalf("fields = %+v; want %+v", got, tt.want)
			}
			for i := range got {
				if got[i].Field != tt.want[i].Field || !strings.HasPrefix(got[i].Reason, tt.want[i].Reason) {
					t.Errorf("field %d = %+v; want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestValidateHoldsAcceptsValidHolds(t *testing.T) {
	holds := []breach.Hold{
		{Agency: "ISP", StartDate: date("2026-03-03")},                              // on the discovery day
		{Agency: "FBI", StartDate: date("2026-03-10"), EndDate: date("2026-03-10")}, // released the day it started
		{Agency: "FBI", StartDate: date("2026-03-11"), EndDate: date("2026-05-01")},
	}
	if fe := ValidateHolds(required(), holds); fe != nil {
		t.Errorf("ValidateHolds = %+v; want nil", fe)
	}
}

func BenchmarkAssess(b *testing.B) {
	d := required()
	d.AffectedCount, d.IndianaResidents = 1200, nil
	holds := []breach.Hold{
		{Agency: "ISP", StartDate: date("2026-03-05"), EndDate: date("2026-03-12"), InWriting: true},
		{Agency: "FBI", StartDate: date("2026-04-10"), EndDate: date("2026-05-12"), InWriting: true},
	}
	asOf := date("2026-04-20")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Assess(d, holds, asOf); err != nil {
			b.Fatal(err)
		}
	}
}
