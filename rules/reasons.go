package rules

// Reason codes. They are a persisted contract (plans are shown, exported and compared by code):
// add new ones, never rename one. A plan's reasons appear in the order the rules are checked.
const (
	// §1 Is notification required?
	CodePersonalInformation    = "personal_information"       // PI involved: go on
	CodeNameAssumed            = "name_assumed"               // an identifying number without a name counted as PI
	CodeNoPersonalInformation  = "no_personal_information"    // not required
	CodeExposedUnencrypted     = "exposed_unencrypted"        // neither encrypted nor redacted: go on
	CodeExposedKeyCompromised  = "exposed_key_compromised"    // encrypted/redacted but key compromised: go on
	CodeProtectedKeySafe       = "protected_key_safe"         // not required
	CodeRiskLikely             = "risk_likely"                // required
	CodeRiskUndetermined       = "risk_undetermined"          // required
	CodeRiskReviewUndocumented = "risk_review_undocumented"   // "unlikely" without a rationale: required
	CodeRiskUnlikelyDocumented = "risk_unlikely_documented"   // not required
	CodeCounselReview          = "counsel_review_recommended" // "not required" for exposed PI
	CodeNoObligations          = "no_deadline_or_agency_notice"

	// §2 The deadline and law-enforcement holds.
	CodeHoldUndocumented         = "hold_undocumented" // not in writing, or no agency named
	CodeHoldInEffect             = "hold_in_effect"
	CodeDeadline45Days           = "deadline_45_days"
	CodeHoldReleasedBeforeDay45  = "hold_released_before_day_45"
	CodeHoldReleasedAfterDay45   = "hold_released_after_day_45" // deadline = release date
	CodeHoldOpenOverDay45        = "hold_open_over_day_45"      // deadline null until release
	CodeHoldStartedAfterDay45    = "hold_started_after_day_45"  // cures nothing
	CodeDeadlineDaysRemaining    = "deadline_days_remaining"
	CodeDeadlineOverdue          = "deadline_overdue"
	CodeDeadlineAwaitingRelease  = "deadline_awaiting_release"
	CodeDeadlineWeekend          = "deadline_on_weekend"
	CodeDeadlineHoliday          = "deadline_on_federal_holiday"
	CodeTollingReadingForCounsel = "tolling_reading_for_counsel"

	// §5 Substitute notice.
	CodeAffectedOver500       = "affected_over_500"
	CodeAffected500OrFewer    = "affected_500_or_fewer"
	CodeCostOver250000        = "cost_over_250000"
	CodeCost250000OrLess      = "cost_250000_or_less"
	CodeCostNotEstimated      = "cost_not_estimated"
	CodeInsufficientContact   = "insufficient_contact"
	CodeContactSufficient     = "contact_sufficient"
	CodeSubstituteRequired    = "substitute_notice_required"
	CodeSubstituteNotRequired = "substitute_notice_not_required"
	CodeSubstituteReplaces    = "substitute_replaces_individual"
	CodeSubstituteSupplements = "substitute_supplements_individual"

	// §6 Agencies and other records.
	CodeResidentsAssumed              = "residents_assumed"
	CodeCRARequired                   = "consumer_reporting_agencies_required"
	CodeCRANotRequired                = "consumer_reporting_agencies_not_required"
	CodeAttorneyGeneralRequired       = "attorney_general_required"
	CodeAttorneyGeneralNotRequired    = "attorney_general_not_required"
	CodeOfficeOfTechnologyRequired    = "office_of_technology_required"
	CodeOfficeOfTechnologyAssumed     = "office_of_technology_assumed" // category not recorded
	CodeOfficeOfTechnologyNotRequired = "office_of_technology_not_required"
	CodeFERPADisclosureRecord         = "ferpa_disclosure_record"

	// §3 How individuals are told.
	CodeIndividualMethods = "individual_methods"
	CodeSMSNeverCounts    = "sms_never_counts"
	CodeMinorsToParents   = "minors_to_parents"

	// §4 What every notice must say, and whether the plan may be dispatched.
	CodeContentMissing  = "content_missing"
	CodeContentComplete = "content_complete"
	CodeApprovable      = "approvable"
	CodeNotApprovable   = "not_approvable"
)
