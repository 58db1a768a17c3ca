package rules

import (
	"fmt"

	breach "github.com/breachd/breachd"
)

// IndianaPopulation is the population the media part of a substitute notice is measured against:
// the 2020 census count for Indiana (U.S. Census Bureau, 6,785,528). "Major media outlets whose
// cumulative readership, viewing or listening audience is at least 75% of the population of
// Indiana" (IN guideline §Notification; IC 24-4.9-3-4(b)).
const IndianaPopulation = 6_785_528

// MediaReachPercent is the share of Indiana's population the media notice must reach.
const MediaReachPercent = inMediaReachPercent

// CodeMediaReach and CodeMediaShort are the reason codes of MediaReach (a persisted contract).
const (
	CodeMediaReach = "media_reaches_75_percent"
	CodeMediaShort = "media_short_of_75_percent"
	CodeMediaLocal = "media_no_local_outlet"
)

// MediaReach adds up the outlets' audiences, as the statute does (cumulative audience; overlap is
// not subtracted because no school can measure it), and says whether they reach 75% of Indiana.
// It also says when no outlet serves the affected people's own area, which the statute asks for
// in addition. The percentage is in hundredths of a percent, exact.
func MediaReach(outlets []breach.MediaOutlet) (audience int, basisPoints int, reaches bool, reasons []breach.Reason) {
	local := false
	for _, o := range outlets {
		audience += o.Audience
		local = local || o.Local
	}
	basisPoints = int(int64(audience) * 10_000 / IndianaPopulation)
	reaches = int64(audience)*100 >= int64(IndianaPopulation)*MediaReachPercent
	const cite = citeSubstitute
	if reaches {
		reasons = append(reasons, breach.Reason{Code: CodeMediaReach, Citation: cite, Text: fmt.Sprintf(
			"The %d outlets recorded reach a cumulative audience of %s, %d.%02d%% of Indiana's %s people: at least 75%%.",
			len(outlets), count(audience), basisPoints/100, basisPoints%100, count(IndianaPopulation))})
	} else {
		need := (int64(IndianaPopulation)*MediaReachPercent + 99) / 100
		reasons = append(reasons, breach.Reason{Code: CodeMediaShort, Citation: cite, Text: fmt.Sprintf(
			"The %d outlets recorded reach a cumulative audience of %s, %d.%02d%% of Indiana's %s people; the media notice must reach at least 75%% (%s). Add outlets.",
			len(outlets), count(audience), basisPoints/100, basisPoints%100, count(IndianaPopulation), count(need))})
	}
	if !local {
		reasons = append(reasons, breach.Reason{Code: CodeMediaLocal, Citation: "IC 24-4.9-3-4(b)",
			Text: "No outlet recorded serves the area where the affected people live; add local media as the statute asks."})
	}
	return audience, basisPoints, reaches, reasons
}

// WithSubstituteRecord adds to a plan what the school has done for its substitute notice: when the
// plan requires one, whether the media outlets recorded reach 75% of Indiana (and a local outlet).
func WithSubstituteRecord(p breach.Plan, r breach.SubstituteRecord) breach.Plan {
	if !p.SubstituteNotice.Required {
		return p
	}
	_, _, _, reasons := MediaReach(r.Outlets)
	p.Reasons = append(p.Reasons, reasons...)
	return p
}
