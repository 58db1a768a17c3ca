package breach

// Reason explains one decision of the law engine: a stable code, a sentence a clerk can read, and
// the citation it rests on.
type Reason struct {
	Code     string `json:"code"`
	Text     string `json:"text"`
	Citation string `json:"citation"`
}

// RulePack identifies the encoded law a plan was made under.
type RulePack struct {
	ID           string `json:"id"`
	Version      string `json:"version"`
	Jurisdiction string `json:"jurisdiction"`
}

// SubstituteTrigger is one reason substitute notice is required.
type SubstituteTrigger string

const (
	TriggerAffectedOver500     SubstituteTrigger = "affected_over_500"
	TriggerCostOver250000      SubstituteTrigger = "cost_over_250000"
	TriggerInsufficientContact SubstituteTrigger = "insufficient_contact"
)

// SubstituteMethod is one of the three parts of a substitute notice; all three are required.
type SubstituteMethod string

const (
	SubstituteEmail   SubstituteMethod = "email"           // email to everyone with an address on file
	SubstituteWebsite SubstituteMethod = "website_posting" // conspicuous posting on the school's web site
	SubstituteMedia   SubstituteMethod = "major_media"     // media reaching at least 75% of the state
)

// SubstituteNotice is the plan's decision on substitute notice.
type SubstituteNotice struct {
	Required bool                `json:"required"`
	Triggers []SubstituteTrigger `json:"triggers"`
	Methods  []SubstituteMethod  `json:"methods"`
	// ReplacesIndividual is true only where the statute lets substitute notice replace individual
	// notice (more than 500,000 people, or cost over $250,000); otherwise everyone reachable still
	// gets an individual notice.
	ReplacesIndividual bool `json:"replaces_individual"`
}

// AgencyNotice is a notice owed to an agency rather than to the people affected.
type AgencyNotice struct {
	Required bool `json:"required"`
	Due      Date `json:"due,omitzero"`
}

// Method is a way of giving an individual notice.
type Method string

const (
	MethodLetter Method = "letter"
	MethodEmail  Method = "email"
	MethodPhone  Method = "phone"
)

// IndividualMethod is a method the law allows for individual notice and the condition on it.
type IndividualMethod struct {
	Method    Method `json:"method"`
	Default   bool   `json:"default"`
	Condition string `json:"condition"`
	Citation  string `json:"citation"`
}

// ContentElement is one of the things every notice must say (LAW.md §4), named by the
// determination field that supplies it.
type ContentElement string

const (
	ContentDescription     ContentElement = "description"      // (A) what happened
	ContentDataElements    ContentElement = "data_elements"    // (B) which information
	ContentRemediation     ContentElement = "remediation"      // (C) what was done
	ContentAssistancePhone ContentElement = "assistance_phone" // (D) a number to call
)

// ContentTranslation is the missing-content entry for the notice text in a language other than
// English that uploaded people need: "translation:es".
func ContentTranslation(lang string) ContentElement { return ContentElement("translation:" + lang) }

// LanguageText is how the people who need a language are given their notice.
type LanguageText string

const (
	TextTranslated      LanguageText = "translated"       // a template and the determination's text
	TextEnglishFallback LanguageText = "english_fallback" // an English notice, as recorded
	TextMissing         LanguageText = "missing"          // neither: nothing may be dispatched
)

// LanguageNeed is one language other than English that uploaded people need.
type LanguageNeed struct {
	Language string       `json:"language"`
	People   int          `json:"people"`
	Text     LanguageText `json:"text"`
}

// CountBasis is what the numbers of people a plan counted rest on.
type CountBasis string

const (
	CountsEstimated    CountBasis = "estimate"       // nobody is uploaded yet: the determination's estimates
	CountsPartialList  CountBasis = "partial_upload" // the list is not declared complete: each number the larger of estimate and upload
	CountsCompleteList CountBasis = "complete"       // the list is declared complete: the people uploaded
)

// CountSource is which number one count of a plan took.
type CountSource string

const (
	FromEstimate          CountSource = "estimate"            // the determination's estimate
	FromUpload            CountSource = "upload"              // the people uploaded
	FromEstimateAndUpload CountSource = "estimate_and_upload" // the list is not complete, and it matches the estimate
)

// Counted is how many people a plan counted, and from what: the numbers every threshold of the
// plan used. Only rules sets it; a document says these numbers rather than counting again.
type Counted struct {
	Basis                CountBasis  `json:"basis"`
	Affected             int         `json:"affected"`
	AffectedFrom         CountSource `json:"affected_from"`
	IndianaResidents     int         `json:"indiana_residents"`
	IndianaResidentsFrom CountSource `json:"indiana_residents_from"`
	// IndianaResidentsAssumed is true when the number of Indiana residents is not known: it was
	// not estimated, and no upload shows more, so every person affected is counted as one.
	IndianaResidentsAssumed bool `json:"indiana_residents_assumed"`
}

// Plan is what the law requires for a breach as of a date. It is produced by rules.Assess and
// never stored as truth: it is recomputed from the determination and holds whenever it is read.
type Plan struct {
	RulePack RulePack `json:"rule_pack"`
	AsOf     Date     `json:"as_of"`

	NotificationRequired bool `json:"notification_required"`
	// Deadline is the last day individual notice may go out; zero (null in JSON) when no notice
	// is required or a hold covering day 45 is still open.
	Deadline      Date `json:"deadline"`
	DaysRemaining *int `json:"days_remaining"`
	Overdue       bool `json:"overdue"`
	Held          bool `json:"held"`
	// Counted is the number of people affected and of Indiana residents every threshold counted.
	Counted Counted `json:"counted"`

	SubstituteNotice          SubstituteNotice `json:"substitute_notice"`
	ConsumerReportingAgencies AgencyNotice     `json:"consumer_reporting_agencies"`
	AttorneyGeneral           AgencyNotice     `json:"attorney_general"`
	OfficeOfTechnology        AgencyNotice     `json:"office_of_technology"`

	IndividualMethods []IndividualMethod `json:"individual_methods"`
	MissingContent    []ContentElement   `json:"missing_content"`
	// Languages lists the languages other than English the uploaded people need, by language.
	Languages []LanguageNeed `json:"languages"`
	// Approvable is true when notice is required, nothing is missing and no hold is open: the plan
	// may be approved for dispatch.
	Approvable bool     `json:"approvable"`
	Reasons    []Reason `json:"reasons"`
}
