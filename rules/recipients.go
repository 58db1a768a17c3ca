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

// Reason codes for a plan re-assessed with the uploaded people (a persisted contract, as in reasons.go).
const (
	CodeEstimateGoverns = "estimate_governs"
)

// AssessBreach is the one way a stored breach is assessed: its determination, holds and uploaded
// people (see AssessWithRecipients; the list counts as complete once an administrator declared it
// so), the languages those people need and the English fallbacks recorded for them (see
// withLanguages), plus what the school recorded for its substitute notice. The API, the workers
// and the documents all call it, so none of them can disagree about what the law requires.
func AssessBreach(b *breach.Breach, c breach.RecipientCounts, asOf breach.Date) (breach.Plan, error) {
	plan, err := AssessWithRecipients(b.Determination, c, b.RecipientsComplete != nil, b.Holds, asOf)
	if err != nil {
		return plan, err
	}
	plan = withLanguages(plan, b.Determination, c, b.EnglishFallbacks)
	return WithSubstituteRecord(plan, b.Substitute), nil
}

// AssessWithRecipients is Assess once the affected people have been uploaded.
//
// Until the list is declared complete, a partial upload must never switch a duty off: every
// threshold counts the larger of the determination's estimate and the people uploaded (for Indiana
// residents, of the estimated residents — all affected when not estimated — and the uploaded
// Indiana addresses), and a reason says which governed. Once complete, the people uploaded govern.
// Any uploaded person with no usable postal address, email or telephone sets the
// insufficient_contact trigger either way, since only the substitute notice can reach them. The
// reasons say where the upload and the determination differ; they come first, as they explain the
// inputs. With nobody uploaded yet it is exactly Assess.
func AssessWithRecipients(d breach.Determination, c breach.RecipientCounts, complete bool, holds []breach.Hold, asOf breach.Date) (breach.Plan, error) {
	if c.Affected == 0 && !complete {
		return Assess(d, holds, asOf)
	}
	const cite = citeSubstitute
	var reasons []breach.Reason
	counted := breach.Counted{Basis: breach.CountsCompleteList, Affected: c.Affected, AffectedFrom: breach.FromUpload,
		IndianaResidents: c.IndianaResidents, IndianaResidentsFrom: breach.FromUpload}
	if complete {
		reasons = append(reasons, breach.Reason{Code: CodeCountsFromUpload, Citation: cite, Text: fmt.Sprintf(
			"The list of affected people was declared complete: the plan counts the %s uploaded (%s with an Indiana address) in place of the determination's estimates.",
			people(c.Affected), count(c.IndianaResidents))})
	} else {
		est := Estimated(d)
		counted = breach.Counted{Basis: breach.CountsPartialList}
		counted.Affected, counted.AffectedFrom = larger(est.Affected, c.Affected)
		counted.IndianaResidents, counted.IndianaResidentsFrom = larger(est.IndianaResidents, c.IndianaResidents)
		counted.IndianaResidentsAssumed = est.IndianaResidentsAssumed && counted.IndianaResidentsFrom != breach.FromUpload
		assumed := ""
		if est.IndianaResidentsAssumed {
			assumed = " (all affected, as the number of residents is not estimated)"
		}
		reasons = append(reasons, breach.Reason{Code: CodeEstimateGoverns, Citation: cite, Text: fmt.Sprintf(
			"The list of affected people is not declared complete (%s uploaded, %s with an Indiana address), so every "+
				"threshold counts the larger of the estimate and the upload: %s affected (%s), %s Indiana residents (%s). "+
				"A partial upload never switches a duty off; once every person is uploaded, declare the list complete.",
			count(c.Affected), count(c.IndianaResidents), count(counted.Affected), which(counted.AffectedFrom),
			count(counted.IndianaResidents), which(counted.IndianaResidentsFrom)+assumed)})
	}
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
	d.AffectedCount = counted.Affected
	d.IndianaResidents = &counted.IndianaResidents
	plan, err := Assess(d, holds, asOf)
	if err != nil {
		return plan, err
	}
	plan.Counted = counted
	plan.Reasons = append(reasons, plan.Reasons...)
	return plan, nil
}

// Estimated is what the determination alone counts: its estimate of the people affected and of
// the Indiana residents among them — all of them when it does not estimate the residents (more
// notice is never unlawful). It is the plan's count until people are uploaded.
func Estimated(d breach.Determination) breach.Counted {
	c := breach.Counted{Basis: breach.CountsEstimated, Affected: d.AffectedCount, AffectedFrom: breach.FromEstimate,
		IndianaResidents: d.AffectedCount, IndianaResidentsFrom: breach.FromEstimate, IndianaResidentsAssumed: true}
	if d.IndianaResidents != nil {
		c.IndianaResidents, c.IndianaResidentsAssumed = *d.IndianaResidents, false
	}
	return c
}

// larger is the count a partial upload leaves a threshold: the larger of the estimate and the
// upload, and which it was.
func larger(estimate, uploaded int) (int, breach.CountSource) {
	switch {
	case estimate == uploaded:
		return estimate, breach.FromEstimateAndUpload
	case estimate > uploaded:
		return estimate, breach.FromEstimate
	}
	return uploaded, breach.FromUpload
}

// which says, in a reason, whether the estimate or the upload gave the number used.
func which(from breach.CountSource) string {
	switch from {
	case breach.FromEstimateAndUpload:
		return "estimate and upload agree"
	case breach.FromEstimate:
		return "the estimate"
	}
	return "the upload"
}

// have writes "1 person has" or "3 people have".
func have(n int) string {
	if n == 1 {
		return "1 person has"
	}
	return people(n) + " have"
}
