package web

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// Choices the determination form offers, with the words shown for each. The values are the
// contract's enums; the API refuses anything else.
var (
	dataElementChoices = []choice{
		{"ssn", "Social Security number"}, {"drivers_license", "Driver's licence number"}, {"state_id", "State identification number"},
		{"financial_account", "Financial account number"}, {"credit_card", "Credit card number"}, {"debit_card", "Debit card number"},
		{"security_code", "Security or access code, or password, for a financial account"}, {"name", "Name"},
		{"date_of_birth", "Date of birth"}, {"student_id", "Student ID"}, {"medical", "Medical information"}, {"other", "Other"},
	}
	riskChoices = []choice{
		{"likely", "Likely: the breach has caused or is likely to cause identity theft, fraud, or substantial loss or injury"},
		{"unlikely", "Unlikely: a reasonable review of all the facts found no material risk (write the review below)"},
		{"undetermined", "Not yet determined"},
	}
	categoryChoices = []choice{{"", "Not set"}, {"data", "Data"}, {"infrastructure", "Infrastructure"},
		{"unauthorized_access", "Unauthorised access"}, {"physical", "Physical"}, {"other", "Other"}}
	severityChoices = []choice{{"", "Not set"}, {"minor", "Minor"}, {"major", "Major"}, {"critical", "Critical"}}
)

type choice struct{ Value, Label string }

type determinationData struct {
	Editing bool
	// Languages are the fieldsets of notice text in other languages: Spanish always, then every
	// other tag the form carries (a revised determination's translations), by tag.
	Languages  []langFieldset
	B          *api.BreachView
	Form       url.Values
	Preview    *breach.Plan
	Groups     []reasonGroup
	Elements   []choice
	Risks      []choice
	Categories []choice
	Severities []choice
}

func newDeterminationData(form url.Values) *determinationData {
	d := &determinationData{Form: form, Elements: dataElementChoices, Risks: riskChoices,
		Categories: categoryChoices, Severities: severityChoices}
	for _, tag := range formTranslationTags(form) {
		name := breach.LanguageName(breach.PrimaryLanguage(tag))
		legend := name + " (" + tag + ")"
		if name == breach.PrimaryLanguage(tag) { // a language breachd has no name for: the tag alone
			legend, name = tag, tag
		}
		d.Languages = append(d.Languages, langFieldset{Tag: tag, Legend: legend, Name: name})
	}
	return d
}

// langFieldset is one language's notice text on the determination form.
type langFieldset struct{ Tag, Legend, Name string }

// translationFields are the form's names of a translation's parts, as the contract names them.
var translationFields = []string{"description", "remediation", "media_contact"}

// The generic row of the form: a language code and its text, for a language with no fieldset.
const extraLang = "extra.lang"

// formTranslationTags lists the tags whose text the form carries ("translations.<tag>.<part>"):
// Spanish always first, as every Indiana school's upload has Spanish readers, then the others by tag.
func formTranslationTags(f url.Values) []string {
	seen := map[string]bool{"es": true}
	tags := []string{}
	for k := range f {
		rest, ok := strings.CutPrefix(k, "translations.")
		if !ok {
			continue
		}
		if i := strings.LastIndex(rest, "."); i > 0 && !seen[rest[:i]] {
			seen[rest[:i]] = true
			tags = append(tags, rest[:i])
		}
	}
	sort.Strings(tags)
	return append([]string{"es"}, tags...)
}

// translationsBody builds the contract's translations from the form: a language whose parts are
// all empty is left out (the whole section is optional), one with any part is sent as typed so
// the API says which part is missing. The generic row is sent under the code typed in it.
func translationsBody(f url.Values) map[string]any {
	out := map[string]any{}
	add := func(tag string, part func(string) string) {
		tr, any := map[string]any{}, false
		for _, p := range translationFields {
			v := strings.TrimSpace(part(p))
			if v != "" {
				any = true
			}
			if v != "" {
				tr[p] = v
			}
		}
		if any {
			out[tag] = tr
		}
	}
	for _, tag := range formTranslationTags(f) {
		add(tag, func(p string) string { return f.Get("translations." + tag + "." + p) })
	}
	// The generic row without a code is refused before the API is asked (extraClash): a
	// translation cannot be keyed by nothing.
	if tag := strings.TrimSpace(f.Get(extraLang)); tag != "" {
		add(tag, func(p string) string { return f.Get("extra." + p) })
		if _, ok := out[tag]; !ok {
			out[tag] = map[string]any{} // a code with no text: sent, for the API to say what it needs
		}
	}
	return out
}

func extraHasText(f url.Values) bool {
	for _, p := range translationFields {
		if strings.TrimSpace(f.Get("extra."+p)) != "" {
			return true
		}
	}
	return false
}

// extraClash is the reason the generic row cannot be sent: it has text but no code, or its code
// names a language that has its own fieldset above (a determination holds one text per language).
func extraClash(f url.Values) string {
	tag := strings.TrimSpace(f.Get(extraLang))
	if tag == "" {
		if extraHasText(f) {
			return "Enter the language code of this text, e.g. vi or pt-BR"
		}
		return ""
	}
	for _, t := range formTranslationTags(f) {
		if t == tag && (t != "es" || formHasText(f, t)) {
			return "Is already given above: write its text there"
		}
	}
	return ""
}

func formHasText(f url.Values, tag string) bool {
	for _, p := range translationFields {
		if strings.TrimSpace(f.Get("translations."+tag+"."+p)) != "" {
			return true
		}
	}
	return false
}

// translationErrors names the generic row's fields in the API's errors: the API names the
// translation by the code typed ("translations.vi.description"), the form by its row. The
// summary names each language field by its label.
func translationErrors(errs *formErrors, f url.Values) *formErrors {
	if errs == nil {
		return nil
	}
	tag := strings.TrimSpace(f.Get(extraLang))
	own := "translations." + tag
	out := &formErrors{}
	for _, fe := range errs.List {
		switch {
		case tag != "" && fe.Field == own:
			fe.Field = extraLang
		case tag != "" && strings.HasPrefix(fe.Field, own+"."):
			fe.Field = "extra." + strings.TrimPrefix(fe.Field, own+".")
		}
		if l := translationLabel(fe.Field); l != words(fe.Field) {
			out.addLabelled(fe.Field, l, fe.Reason)
		} else {
			out.add(fe.Field, fe.Reason) // named by the label the page shows (shownLabels)
		}
	}
	return out
}

var partLabels = map[string]string{"description": "Description", "remediation": "Measures taken", "media_contact": "Media contact"}

// translationLabel is the label of a language field of the form, or the field's words for another.
func translationLabel(field string) string {
	if field == extraLang {
		return "Language code"
	}
	if part, ok := strings.CutPrefix(field, "extra."); ok && partLabels[part] != "" {
		return partLabels[part] + " in the other language"
	}
	if rest, ok := strings.CutPrefix(field, "translations."); ok {
		tag, part := rest, ""
		if i := strings.LastIndex(rest, "."); i > 0 {
			tag, part = rest[:i], rest[i+1:]
		}
		name := breach.LanguageName(breach.PrimaryLanguage(tag))
		if name == breach.PrimaryLanguage(tag) {
			name = tag
		}
		if l := partLabels[part]; l != "" {
			return l + " in " + name
		}
		return name
	}
	return words(field)
}

// determinationBody builds the contract's Determination from the form, as a REST client would.
// It decides nothing: a value the form cannot turn into a number is sent as the text typed, so
// the API's validation names the field and says why, in the one place that rule lives.
func determinationBody(f url.Values) map[string]any {
	d := map[string]any{}
	text := func(key string) string { return strings.TrimSpace(f.Get(key)) }
	d["title"] = text("title")
	for _, k := range []string{"jurisdiction", "time_zone", "discovered_on", "occurred_on", "description", "risk_of_harm",
		"risk_rationale", "notice_cost_estimate", "remediation", "assistance_phone", "media_contact", "category", "severity", "actions_taken"} {
		if v := text(k); v != "" {
			d[k] = v
		}
	}
	for _, k := range []string{"affected_count", "indiana_residents"} {
		v := text(k)
		if v == "" {
			continue
		}
		if n, err := strconv.ParseInt(strings.ReplaceAll(v, ",", ""), 10, 64); err == nil {
			d[k] = n
		} else {
			d[k] = v
		}
	}
	d["data_elements"] = append([]string{}, f["data_elements"]...)
	for _, k := range []string{"encrypted", "redacted", "key_compromised", "contact_info_sufficient"} {
		d[k] = f.Get(k) != ""
	}
	var systems []string
	for _, line := range strings.Split(f.Get("systems_affected"), "\n") {
		if s := strings.TrimSpace(line); s != "" {
			systems = append(systems, s)
		}
	}
	if len(systems) > 0 {
		d["systems_affected"] = systems
	}
	if tr := translationsBody(f); len(tr) > 0 {
		d["translations"] = tr
	}
	rep := map[string]any{}
	for _, k := range []string{"name", "role", "email", "phone"} {
		if v := text("reporter." + k); v != "" {
			rep[k] = v
		}
	}
	if f.Get("reporter.anonymous") != "" {
		rep["anonymous"] = true
	}
	if len(rep) > 0 {
		d["reporter"] = rep
	}
	return d
}

// determinationForm is the stored determination as the form shows it.
func determinationForm(d breach.Determination) url.Values {
	f := url.Values{}
	set := func(k, v string) {
		if v != "" {
			f.Set(k, v)
		}
	}
	set("title", d.Title)
	set("jurisdiction", d.Jurisdiction)
	set("time_zone", d.TimeZone)
	if !d.DiscoveredOn.IsZero() {
		f.Set("discovered_on", d.DiscoveredOn.String())
	}
	if !d.OccurredOn.IsZero() {
		f.Set("occurred_on", d.OccurredOn.String())
	}
	set("description", d.Description)
	for _, e := range d.DataElements {
		f.Add("data_elements", string(e))
	}
	for k, v := range map[string]bool{"encrypted": d.Encrypted, "redacted": d.Redacted, "key_compromised": d.KeyCompromised,
		"contact_info_sufficient": d.ContactInfoSufficient, "reporter.anonymous": d.Reporter.Anonymous} {
		if v {
			f.Set(k, "on")
		}
	}
	set("risk_of_harm", string(d.RiskOfHarm))
	set("risk_rationale", d.RiskRationale)
	f.Set("affected_count", strconv.Itoa(d.AffectedCount))
	if d.IndianaResidents != nil {
		f.Set("indiana_residents", strconv.Itoa(*d.IndianaResidents))
	}
	if d.NoticeCostEstimate != nil {
		f.Set("notice_cost_estimate", d.NoticeCostEstimate.String())
	}
	set("remediation", d.Remediation)
	set("assistance_phone", d.AssistancePhone)
	set("media_contact", d.MediaContact)
	for tag, tr := range d.Translations {
		// Every part is set, even empty, so that a translation with no media contact keeps its fieldset.
		f.Set("translations."+tag+".description", tr.Description)
		f.Set("translations."+tag+".remediation", tr.Remediation)
		f.Set("translations."+tag+".media_contact", tr.MediaContact)
	}
	set("reporter.name", d.Reporter.Name)
	set("reporter.role", d.Reporter.Role)
	set("reporter.email", d.Reporter.Email)
	set("reporter.phone", d.Reporter.Phone)
	set("category", string(d.Category))
	set("severity", string(d.Severity))
	set("systems_affected", strings.Join(d.SystemsAffected, "\n"))
	set("actions_taken", d.ActionsTaken)
	return f
}

func (c *Console) newBreachPage(w http.ResponseWriter, r *http.Request, st *state) {
	f := url.Values{"contact_info_sufficient": {"on"}, "risk_of_harm": {"undetermined"}}
	c.render(w, r, st, http.StatusOK, "determination", "Record a new breach", newDeterminationData(f), nil)
}

// preview asks the API what the law requires for the determination on the form (and the breach's
// holds, when editing), storing nothing. On a refusal it returns the errors instead.
func (c *Console) preview(r *http.Request, st *state, det map[string]any, b *api.BreachView) (*breach.Plan, *result) {
	body := map[string]any{"determination": det}
	if b != nil && len(b.Holds) > 0 {
		holds := make([]map[string]any, 0, len(b.Holds))
		for _, h := range b.Holds {
			hd := map[string]any{"agency": h.Agency, "start_date": h.StartDate.String()}
			if !h.EndDate.IsZero() {
				hd["end_date"] = h.EndDate.String()
			}
			holds = append(holds, hd)
		}
		body["holds"] = holds
	}
	res := c.call(r, st, "POST", "/v1/assessments", body)
	if !res.ok() {
		return nil, res
	}
	var p breach.Plan
	if err := res.decode(&p); err != nil {
		return nil, &result{Status: http.StatusInternalServerError}
	}
	return &p, nil
}

func (c *Console) newBreach(w http.ResponseWriter, r *http.Request, st *state) {
	_ = r.ParseForm()
	d := newDeterminationData(r.PostForm)
	det := determinationBody(r.PostForm)
	if c.clashed(w, r, st, d, "Record a new breach") {
		return
	}
	if r.PostForm.Get("action") == "preview" {
		c.showPreview(w, r, st, d, det, "Record a new breach")
		return
	}
	res := c.call(r, st, "POST", "/v1/breaches", map[string]any{"determination": det})
	if !res.ok() {
		if res.Status >= 500 || res.Status == http.StatusForbidden {
			c.apiErrorPage(w, r, st, res)
			return
		}
		c.render(w, r, st, res.Status, "determination", "Record a new breach", d, translationErrors(problemErrors(res.problem(), "determination."), d.Form))
		return
	}
	var v api.BreachView
	if err := res.decode(&v); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	c.flash(w, "The breach is recorded. Below is what the law requires.")
	http.Redirect(w, r, "/breaches/"+url.PathEscape(v.ID), http.StatusSeeOther)
}

func (c *Console) showPreview(w http.ResponseWriter, r *http.Request, st *state, d *determinationData, det map[string]any, title string) {
	plan, res := c.preview(r, st, det, d.B)
	if res != nil {
		if res.Status >= 500 {
			c.apiErrorPage(w, r, st, res)
			return
		}
		c.render(w, r, st, res.Status, "determination", title, d, translationErrors(problemErrors(res.problem(), "determination."), d.Form))
		return
	}
	d.Preview, d.Groups = plan, reasonGroups(plan.Reasons)
	c.render(w, r, st, http.StatusOK, "determination", title, d, nil)
}

func (c *Console) editDeterminationPage(w http.ResponseWriter, r *http.Request, st *state) {
	v, ok := c.loadBreach(w, r, st)
	if !ok {
		return
	}
	d := newDeterminationData(determinationForm(v.Determination))
	d.Editing, d.B = true, &v
	c.render(w, r, st, http.StatusOK, "determination", "Revise the determination", d, nil)
}

func (c *Console) editDetermination(w http.ResponseWriter, r *http.Request, st *state) {
	v, ok := c.loadBreach(w, r, st)
	if !ok {
		return
	}
	_ = r.ParseForm()
	d := newDeterminationData(r.PostForm)
	d.Editing, d.B = true, &v
	det := determinationBody(r.PostForm)
	const title = "Revise the determination"
	if c.clashed(w, r, st, d, title) {
		return
	}
	if r.PostForm.Get("action") == "preview" {
		c.showPreview(w, r, st, d, det, title)
		return
	}
	res := c.call(r, st, "PUT", "/v1/breaches/"+url.PathEscape(v.ID)+"/determination", det)
	if !res.ok() {
		if res.Status >= 500 || res.Status == http.StatusForbidden || res.Status == http.StatusNotFound {
			c.apiErrorPage(w, r, st, res)
			return
		}
		c.render(w, r, st, res.Status, "determination", title, d, translationErrors(problemErrors(res.problem(), "determination."), d.Form))
		return
	}
	c.flash(w, "The determination is revised; the earlier version is kept.")
	http.Redirect(w, r, "/breaches/"+url.PathEscape(v.ID), http.StatusSeeOther)
}

// clashed shows the form again, asking nothing of the API, when the generic language row repeats
// a language given above: sent, one text would silently replace the other.
func (c *Console) clashed(w http.ResponseWriter, r *http.Request, st *state, d *determinationData, title string) bool {
	reason := extraClash(d.Form)
	if reason == "" {
		return false
	}
	errs := &formErrors{}
	errs.addLabelled(extraLang, translationLabel(extraLang), reason)
	c.render(w, r, st, http.StatusUnprocessableEntity, "determination", title, d, errs)
	return true
}
