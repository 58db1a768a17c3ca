package rules

import (
	"fmt"

	breach "github.com/breachd/breachd"
)

// Reason codes for a plan re-assessed with the uploaded people (a persisted contract, as in reasons.go).
const (
	CodeCountsFromUpload          = "counts_from_upload"
	CodeAffectedCountDiffers      = "affected_count_differs"
	CodeIndianaResidentsDiffer    = "indiana_residents_differ"
	CodeUploadInsufficientContact = "upload_insufficient_contact"
)

// AssessWithRecipients is Assess once the affected people have been uploaded: the plan counts the
// people uploaded in place of the determination's estimates (affected_count, indiana_residents),
// and any uploaded person with no usable postal address, email or telephone sets the
// insufficient_contact trigger, since only the substitute notice can reach them. The reasons say
// where the upload and the determination differ; they come first, as they explain the inputs.
// With nobody uploaded yet it is exactly Assess.
func AssessWithRecipients(d breach.Determination, c breach.RecipientCounts, holds []breach.Hold, asOf breach.Date) (breach.Plan, error) {
	if c.Affected == 0 {
		return Assess(d, holds, asOf)
	}
	const cite = citeSubstitute
	reasons := []breach.Reason{{Code: CodeCountsFromUpload, Citation: cite, Text: fmt.Sprintf(
		"The plan counts the %s uploaded (%s with an Indiana address) in place of the determination's estimates.",
		people(c.Affected), count(c.IndianaResidents))}}
	if d.AffectedCount != c.Affected {
		reasons = append(reasons, breach.Reason{Code: CodeAffectedCountDiffers, Citation: cite, Text: fmt.Sprintf(
			"The determination estimated %s affected; %s were uploaded. If the upload is incomplete, upload the rest; if the estimate was wrong, revise the determination.",
			people(d.AffectedCount), count(c.Affected))})
	}
	if d.IndianaResidents != nil && *d.IndianaResidents != c.IndianaResidents {
		reasons = append(reasons, breach.Reason{Code: CodeIndianaResidentsDiffer, Citation: "IC 24-4.9-3-1(b)", Text: fmt.Sprintf(
			"The determination estimated %s Indiana residents; the uploaded addresses show %s.",
			count(*d.IndianaResidents), count(c.IndianaResidents))})
	}
	if c.InsufficientContact > 0 {
		reasons = append(reasons, breach.Reason{Code: CodeUploadInsufficientContact, Citation: cite, Text: fmt.Sprintf(
			"Of the people uploaded, %s no complete postal address, email or telephone number: contact information is insufficient, and the substitute notice is what reaches them.",
			have(c.InsufficientContact))})
		d.ContactInfoSufficient = false
	}
	d.AffectedCount = c.Affected
	residents := c.IndianaResidents
	d.IndianaResidents = &residents
	plan, err := Assess(d, holds, asOf)
	if err != nil {
		return plan, err
	}
	plan.Reasons = append(reasons, plan.Reasons...)
	return plan, nil
}

// have writes "1 person has" or "3 people have".
func have(n int) string {
	if n == 1 {
		return "1 person has"
	}
	return people(n) + " have"
}
