package web

import (
	"net/http"
	"net/url"
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
	Editing    bool
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
	return &determinationData{Form: form, Elements: dataElementChoices, Risks: riskChoices,
		Categories: categoryChoices, Severities: severityChoices}
}

// determinationBody builds the contract's Determination from the form, as a REST client would.
// It decides nothing: a value the form cannot turn into a number is sent as the text typed, so
// the API's validation names the field and says why, in the one place that rule lives.
func determinationBody(f url.Values) map[string]any {
	d := map[string]any{}
	text := func(key string) string { return strings.TrimSpace(f.Get(key)) }
	d["title"] = text("title")
	for _, k := range []string{"jurisdiction", "time_zone", "discovered_on", "occurred_on", "description", "risk_of_harm",
		"risk_rationale", "notice_cost_estimate", "remediation", "assistance_phone", "category", "severity", "actions_taken"} {
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
		c.render(w, r, st, res.Status, "determination", "Record a new breach", d, problemErrors(res.problem(), "determination."))
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
		c.render(w, r, st, res.Status, "determination", title, d, problemErrors(res.problem(), "determination."))
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
		c.render(w, r, st, res.Status, "determination", title, d, problemErrors(res.problem(), "determination."))
		return
	}
	c.flash(w, "The determination is revised; the earlier version is kept.")
	http.Redirect(w, r, "/breaches/"+url.PathEscape(v.ID), http.StatusSeeOther)
}
