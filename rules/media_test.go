package rules_test

import (
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

func TestMediaReach(t *testing.T) {
	// 75% of 6,785,528 is 5,089,146: that audience reaches, one person fewer does not.
	exact := (rules.IndianaPopulation*75 + 99) / 100
	cases := []struct {
		name    string
		outlets []breach.MediaOutlet
		reaches bool
		bp      int
		codes   []string
	}{
		{"none", nil, false, 0, []string{rules.CodeMediaShort, rules.CodeMediaLocal}},
		{"exactly 75%", []breach.MediaOutlet{{Name: "Statewide TV", Audience: exact - 100_000}, {Name: "Kokomo Tribune", Audience: 100_000, Local: true}},
			true, 7500, []string{rules.CodeMediaReach}},
		{"one person short", []breach.MediaOutlet{{Name: "Statewide TV", Audience: exact - 1, Local: true}}, false, 7499, []string{rules.CodeMediaShort}},
		{"reaches but nothing local", []breach.MediaOutlet{{Name: "Statewide TV", Audience: rules.IndianaPopulation}}, true, 10000,
			[]string{rules.CodeMediaReach, rules.CodeMediaLocal}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, bp, reaches, reasons := rules.MediaReach(c.outlets)
			if reaches != c.reaches || bp != c.bp {
				t.Fatalf("reaches %v (%d bp), want %v (%d bp)", reaches, bp, c.reaches, c.bp)
			}
			if len(reasons) != len(c.codes) {
				t.Fatalf("reasons %v, want codes %v", reasons, c.codes)
			}
			for i, r := range reasons {
				if r.Code != c.codes[i] || r.Text == "" || r.Citation == "" {
					t.Errorf("reason %d: %+v, want %s", i, r, c.codes[i])
				}
			}
		})
	}
}

func TestWithSubstituteRecord(t *testing.T) {
	p := breach.Plan{SubstituteNotice: breach.SubstituteNotice{Required: true}, Reasons: []breach.Reason{{Code: "x"}}}
	got := rules.WithSubstituteRecord(p, breach.SubstituteRecord{Outlets: []breach.MediaOutlet{{Name: "WTHR", Audience: rules.IndianaPopulation, Local: true}}})
	if len(got.Reasons) != 2 || got.Reasons[1].Code != rules.CodeMediaReach || len(p.Reasons) != 1 {
		t.Fatalf("required: %+v (input changed: %v)", got.Reasons, len(p.Reasons) != 1)
	}
	p.SubstituteNotice.Required = false
	if got := rules.WithSubstituteRecord(p, breach.SubstituteRecord{}); len(got.Reasons) != 1 {
		t.Fatalf("not required: %+v", got.Reasons)
	}
}
