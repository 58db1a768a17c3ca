// Package rules is breachd's law engine: it turns a breach determination, the law-enforcement holds
// and a calendar date into a breach.Plan — whether the affected people must be told, by when, how,
// whether substitute notice and agency notices are owed, and what the notice still lacks — with
// every decision carrying a plain-English reason and the citation it rests on.
//
// Assess is a pure function: it does no I/O, reads no clock and logs nothing, so a plan can be
// recomputed for any date and tested exhaustively. "Today" is the caller's business.
//
// The law of each jurisdiction is a rule pack (see Pack). The Indiana school-corporation guideline
// (LAW.md) is the first, in indiana.go; a second jurisdiction is a new file and one line in the
// packs list.
//
// Where LAW.md leaves a choice, the Indiana pack takes these readings (each also stated in a reason
// when it applies):
//   - A driver's licence, state ID, card, account number or security code counts as personal
//     information even when names are not listed (reason name_assumed): the number identifies the
//     person, and more notice is never unlawful.
//   - An unknown or empty risk_of_harm is "undetermined"; a risk_rationale of only spaces is no
//     rationale.
//   - Holds are intervals [start_date, end_date): on the release date notice may go out. Holds
//     merge when one starts on or before the other's release; a one-day gap does not merge.
//     Holds are applied as recorded, whatever as_of is; Held alone depends on as_of.
//   - A plan is approvable only when notice is required, no content is missing, no hold is in
//     effect on as_of and no hold is open at all (an open hold that starts later is still a request
//     to delay). An overdue plan stays approvable: notice must still go out.
//   - An empty incident category is assumed to be a cybersecurity incident for the Office of
//     Technology report (reason office_of_technology_assumed); physical and other are not.
//   - The FERPA reason is given when student IDs are among the data elements.
//   - The deadline warning names the last business day before a weekend or federal-holiday
//     deadline; the deadline itself never moves.
package rules

import (
	"fmt"
	"slices"
	"strings"

	breach "github.com/breachd/breachd"
)

// DefaultJurisdiction is the jurisdiction of a determination that names none.
const DefaultJurisdiction = "IN"

// Pack is one jurisdiction's encoded law.
type Pack struct {
	ID           string // stable identifier, e.g. "in-school-guideline"
	Version      string // the date of the text encoded, e.g. "2009-11-13"
	Jurisdiction string // what Determination.Jurisdiction selects it by, e.g. "IN"

	// assess applies the law to input that Assess has already validated. It fills every field
	// of the plan except RulePack and AsOf.
	assess func(d breach.Determination, holds []breach.Hold, asOf breach.Date) breach.Plan
}

// RulePack returns the pack's identity as recorded in a plan.
func (p Pack) RulePack() breach.RulePack {
	return breach.RulePack{ID: p.ID, Version: p.Version, Jurisdiction: p.Jurisdiction}
}

// packs is every rule pack, one per jurisdiction.
var packs = []Pack{indiana}

// Packs lists the identity of every rule pack, in jurisdiction order.
func Packs() []breach.RulePack {
	out := make([]breach.RulePack, 0, len(packs))
	for _, p := range packs {
		out = append(out, p.RulePack())
	}
	slices.SortFunc(out, func(a, b breach.RulePack) int { return strings.Compare(a.Jurisdiction, b.Jurisdiction) })
	return out
}

// LookupPack returns the rule pack for a jurisdiction ("" means DefaultJurisdiction). Validate
// uses it to reject an unknown jurisdiction before a determination is stored.
func LookupPack(jurisdiction string) (Pack, bool) {
	if jurisdiction == "" {
		jurisdiction = DefaultJurisdiction
	}
	for _, p := range packs {
		if p.Jurisdiction == jurisdiction {
			return p, true
		}
	}
	return Pack{}, false
}

// Assess applies the law of d's jurisdiction to the determination and its holds as of a date.
//
// It returns an *breach.Error with code EINVALID, naming each field, when the jurisdiction has no
// rule pack ("determination.jurisdiction"), discovered_on or asOf is missing, or a hold is invalid
// (see ValidateHolds). Other facts are taken as given: callers validate a determination with
// breach.Determination.Validate before storing it.
//
// Every slice in the plan is non-nil, so JSON shows [] rather than null.
func Assess(d breach.Determination, holds []breach.Hold, asOf breach.Date) (breach.Plan, error) {
	p, ok := LookupPack(d.Jurisdiction)
	if !ok {
		known := make([]string, 0, len(packs))
		for _, rp := range Packs() {
			known = append(known, rp.Jurisdiction)
		}
		return breach.Plan{}, &breach.Error{
			Code:    breach.EINVALID,
			Message: fmt.Sprintf("there is no rule pack for jurisdiction %q", d.Jurisdiction),
			Fields: []breach.FieldError{{Field: "determination.jurisdiction",
				Reason: "has no rule pack; known jurisdictions: " + strings.Join(known, ", ")}},
		}
	}
	var fe []breach.FieldError
	if d.DiscoveredOn.IsZero() {
		fe = append(fe, breach.FieldError{Field: "determination.discovered_on", Reason: "is required"})
	}
	if asOf.IsZero() {
		fe = append(fe, breach.FieldError{Field: "as_of", Reason: "is required"})
	}
	fe = append(fe, ValidateHolds(d, holds)...)
	if err := breach.InvalidFields(fe); err != nil {
		return breach.Plan{}, err
	}
	plan := p.assess(d, holds, asOf)
	plan.Counted = Estimated(d)              // AssessWithRecipients replaces it once people are uploaded
	plan.Languages = []breach.LanguageNeed{} // the people's languages are AssessBreach's (languages.go)
	plan.RulePack = p.RulePack()
	plan.AsOf = asOf
	return plan, nil
}

// ValidateHolds checks law-enforcement holds against the determination: a hold needs a start date,
// may not start before the breach was discovered, nor end before it starts. Field paths are
// "holds[i].start_date" and "holds[i].end_date", i being the index in holds. It returns nil when
// every hold is valid. The API prefixes the paths as its request body requires.
func ValidateHolds(d breach.Determination, holds []breach.Hold) []breach.FieldError {
	var fe []breach.FieldError
	for i, h := range holds {
		field := func(name string) string { return fmt.Sprintf("holds[%d].%s", i, name) }
		switch {
		case h.StartDate.IsZero():
			fe = append(fe, breach.FieldError{Field: field("start_date"), Reason: "is required"})
		case !d.DiscoveredOn.IsZero() && h.StartDate.Before(d.DiscoveredOn):
			fe = append(fe, breach.FieldError{Field: field("start_date"), Reason: fmt.Sprintf(
				"is before discovered_on (%s): a hold may not start before the breach was discovered", d.DiscoveredOn)})
		}
		if !h.StartDate.IsZero() && !h.Open() && h.EndDate.Before(h.StartDate) {
			fe = append(fe, breach.FieldError{Field: field("end_date"), Reason: fmt.Sprintf(
				"is before start_date (%s): a hold may not end before it starts", h.StartDate)})
		}
	}
	return fe
}
