package web

import (
	"net/http"
	"net/url"
	"strings"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

type breachRow struct {
	ID, Title     string
	Status        breach.Status
	DiscoveredOn  breach.Date
	Plan          breach.Plan
	OpenDuties    int
	OverdueDuties int
}

type breachesData struct {
	Rows       []breachRow
	NextCursor string
}

func (c *Console) breachesPage(w http.ResponseWriter, r *http.Request, st *state) {
	q := url.Values{"limit": {"50"}}
	if cur := r.URL.Query().Get("cursor"); cur != "" {
		q.Set("cursor", cur)
	}
	res := c.call(r, st, "GET", "/v1/breaches?"+q.Encode(), nil)
	if !res.ok() {
		c.apiErrorPage(w, r, st, res)
		return
	}
	var list struct {
		Items []struct {
			ID           string        `json:"id"`
			Status       breach.Status `json:"status"`
			Title        string        `json:"title"`
			DiscoveredOn breach.Date   `json:"discovered_on"`
		} `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	if err := res.decode(&list); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	// Open duties of every breach in one read of the cross-breach ledger.
	open := map[string][2]int{}
	if res := c.call(r, st, "GET", "/v1/obligations?status=open", nil); res.ok() {
		var due struct {
			Items []struct {
				BreachID   string            `json:"breach_id"`
				Obligation breach.Obligation `json:"obligation"`
			} `json:"items"`
		}
		if err := res.decode(&due); err == nil {
			for _, it := range due.Items {
				n := open[it.BreachID]
				n[0]++
				if it.Obligation.Overdue {
					n[1]++
				}
				open[it.BreachID] = n
			}
		}
	}
	d := breachesData{}
	if list.NextCursor != nil {
		d.NextCursor = *list.NextCursor
	}
	for _, it := range list.Items {
		row := breachRow{ID: it.ID, Title: it.Title, Status: it.Status, DiscoveredOn: it.DiscoveredOn,
			OpenDuties: open[it.ID][0], OverdueDuties: open[it.ID][1]}
		if res := c.call(r, st, "GET", "/v1/breaches/"+url.PathEscape(it.ID)+"/plan", nil); res.ok() {
			_ = res.decode(&row.Plan)
		}
		d.Rows = append(d.Rows, row)
	}
	c.render(w, r, st, http.StatusOK, "breaches", "Breaches", d, nil)
}

// reasonGroup is the plan's reasons about one question, in the plan's order.
type reasonGroup struct {
	Heading string
	Reasons []breach.Reason
}

// reasonGroups sorts the plan's reasons under the questions a reader asks, by the codes' prefixes
// (the codes are the rule pack's stable names). A code no group claims is kept under "Other".
func reasonGroups(reasons []breach.Reason) []reasonGroup {
	groups := []struct {
		heading  string
		prefixes []string
	}{
		{"Is notice required?", []string{"personal_information", "no_personal_information", "exposed_", "protected_", "risk_", "name_assumed", "counsel_", "no_deadline"}},
		{"The deadline and holds", []string{"deadline_", "hold_", "tolling_"}},
		{"How people are told", []string{"letter_", "email_", "phone_", "sms_", "minor", "individual_methods", "no_contact"}},
		{"Substitute notice", []string{"substitute_", "affected_", "cost_", "insufficient_contact", "contact_sufficient", "media_", "estimate_", "counts_from_upload", "upload_"}},
		{"Agencies, the Attorney General and the Office of Technology", []string{"consumer_reporting", "attorney_general", "office_of_technology", "residents_", "indiana_residents"}},
		{"What the notice must say", []string{"content_", "not_approvable", "ferpa_"}},
	}
	out := make([]reasonGroup, len(groups)+1)
	for i, g := range groups {
		out[i].Heading = g.heading
	}
	out[len(groups)].Heading = "Other"
next:
	for _, rs := range reasons {
		for i, g := range groups {
			for _, p := range g.prefixes {
				if strings.HasPrefix(rs.Code, p) {
					out[i].Reasons = append(out[i].Reasons, rs)
					continue next
				}
			}
		}
		out[len(groups)].Reasons = append(out[len(groups)].Reasons, rs)
	}
	kept := out[:0]
	for _, g := range out {
		if len(g.Reasons) > 0 {
			kept = append(kept, g)
		}
	}
	return kept
}

type breachData struct {
	B           api.BreachView
	Groups      []reasonGroup
	Obligations []breach.Obligation
	OpenDuties  int
	OpenHold    *breach.Hold
	// Recordable lists the duties an administrator may record as done by hand (the API refuses
	// others; the list only decides which buttons to offer).
	Recordable map[breach.ObligationID]bool
	Form       url.Values
	// MissingLanguages are the languages whose people have no notice text yet (the plan's
	// missing_content "translation:<lang>"): each gets a form to record an English fallback.
	MissingLanguages []string
}

// loadBreach reads the breach view; on a refusal it writes the page and returns false.
func (c *Console) loadBreach(w http.ResponseWriter, r *http.Request, st *state) (api.BreachView, bool) {
	var v api.BreachView
	res := c.call(r, st, "GET", "/v1/breaches/"+url.PathEscape(r.PathValue("id")), nil)
	if !res.ok() {
		c.apiErrorPage(w, r, st, res)
		return v, false
	}
	if err := res.decode(&v); err != nil {
		c.internalError(w, r, st, err)
		return v, false
	}
	return v, true
}

func (c *Console) breachData(w http.ResponseWriter, r *http.Request, st *state) (*breachData, bool) {
	v, ok := c.loadBreach(w, r, st)
	if !ok {
		return nil, false
	}
	d := &breachData{B: v, Groups: reasonGroups(v.Plan.Reasons), Form: url.Values{},
		Recordable: map[breach.ObligationID]bool{"ferpa.disclosure_record": true, "substitute.major_media": true}}
	if h, ok := v.OpenHold(); ok {
		d.OpenHold = &h
	}
	for _, m := range v.Plan.MissingContent {
		if lang, ok := strings.CutPrefix(string(m), "translation:"); ok {
			d.MissingLanguages = append(d.MissingLanguages, lang)
		}
	}
	res := c.call(r, st, "GET", "/v1/breaches/"+url.PathEscape(v.ID)+"/obligations", nil)
	if !res.ok() {
		c.apiErrorPage(w, r, st, res)
		return nil, false
	}
	var ol struct {
		Open  int                 `json:"open"`
		Items []breach.Obligation `json:"items"`
	}
	if err := res.decode(&ol); err != nil {
		c.internalError(w, r, st, err)
		return nil, false
	}
	d.Obligations, d.OpenDuties = ol.Items, ol.Open
	return d, true
}

func (c *Console) breachPage(w http.ResponseWriter, r *http.Request, st *state) {
	d, ok := c.breachData(w, r, st)
	if !ok {
		return
	}
	c.render(w, r, st, http.StatusOK, "breach", d.B.Determination.Title, d, nil)
}

// redisplayBreach shows the breach page again with the errors of a form on it.
func (c *Console) redisplayBreach(w http.ResponseWriter, r *http.Request, st *state, res *result, prefix string) {
	d, ok := c.breachData(w, r, st)
	if !ok {
		return
	}
	_ = r.ParseForm()
	d.Form = r.PostForm
	status := res.Status
	if status < 400 {
		status = http.StatusUnprocessableEntity
	}
	c.render(w, r, st, status, "breach", d.B.Determination.Title, d, problemErrors(res.problem(), prefix))
}

func (c *Console) placeHold(w http.ResponseWriter, r *http.Request, st *state) {
	body := map[string]any{
		"agency":     strings.TrimSpace(r.PostFormValue("agency")),
		"in_writing": r.PostFormValue("in_writing") != "",
	}
	if v := strings.TrimSpace(r.PostFormValue("start_date")); v != "" {
		body["start_date"] = v
	}
	for _, k := range []string{"contact", "reason"} {
		if v := strings.TrimSpace(r.PostFormValue(k)); v != "" {
			body[k] = v
		}
	}
	id := r.PathValue("id")
	res := c.call(r, st, "POST", "/v1/breaches/"+url.PathEscape(id)+"/holds", body)
	if !res.ok() {
		c.redisplayBreach(w, r, st, res, "")
		return
	}
	c.flash(w, "The hold is placed. Nothing is sent while it is open.")
	http.Redirect(w, r, "/breaches/"+url.PathEscape(id)+"#holds", http.StatusSeeOther)
}

func (c *Console) releaseHold(w http.ResponseWriter, r *http.Request, st *state) {
	body := map[string]any{}
	if v := strings.TrimSpace(r.PostFormValue("end_date")); v != "" {
		body["end_date"] = v
	}
	id := r.PathValue("id")
	res := c.call(r, st, "POST", "/v1/breaches/"+url.PathEscape(id)+"/holds/"+url.PathEscape(r.PathValue("hid"))+"/release", body)
	if !res.ok() {
		c.redisplayBreach(w, r, st, res, "")
		return
	}
	c.flash(w, "The hold is released.")
	http.Redirect(w, r, "/breaches/"+url.PathEscape(id)+"#holds", http.StatusSeeOther)
}

func (c *Console) recordObligation(w http.ResponseWriter, r *http.Request, st *state) {
	body := map[string]any{"status": r.PostFormValue("status")}
	for _, k := range []string{"reason", "evidence"} {
		if v := strings.TrimSpace(r.PostFormValue(k)); v != "" {
			body[k] = v
		}
	}
	id, oid := r.PathValue("id"), r.PathValue("oid")
	res := c.call(r, st, "POST", "/v1/breaches/"+url.PathEscape(id)+"/obligations/"+url.PathEscape(oid)+"/records", body)
	if !res.ok() {
		c.redisplayBreach(w, r, st, res, "")
		return
	}
	c.flash(w, "Recorded.")
	http.Redirect(w, r, "/breaches/"+url.PathEscape(id)+"#obligations", http.StatusSeeOther)
}

// recordFallback records that the people who need a language get the English notice. The form's
// reason field is named by its language, as the page has one such form per missing language.
func (c *Console) recordFallback(w http.ResponseWriter, r *http.Request, st *state) {
	id, lang := r.PathValue("id"), r.PathValue("lang")
	reasonField := "fallback." + lang + ".reason"
	// Sent as typed: the API decides what a reason is, and says why one is not.
	body := map[string]any{"reason": r.PostFormValue(reasonField)}
	res := c.call(r, st, "POST", "/v1/breaches/"+url.PathEscape(id)+"/languages/"+url.PathEscape(lang)+"/english-fallback", body)
	if !res.ok() {
		if res.Status >= 500 || res.Status == http.StatusForbidden || res.Status == http.StatusNotFound {
			c.apiErrorPage(w, r, st, res)
			return
		}
		d, ok := c.breachData(w, r, st)
		if !ok {
			return
		}
		d.Form = r.PostForm
		errs := &formErrors{}
		for _, fe := range problemErrors(res.problem(), "").List {
			switch fe.Field {
			case "reason":
				errs.addLabelled(reasonField, "Reason for "+breach.LanguageLabel(lang), fe.Reason)
			case "lang":
				errs.add("", "The language "+fe.Reason)
			default:
				errs.add(fe.Field, fe.Reason)
			}
		}
		c.render(w, r, st, res.Status, "breach", d.B.Determination.Title, d, errs)
		return
	}
	c.flash(w, "Recorded: the people who need "+breach.LanguageLabel(lang)+" get the notice in English.")
	http.Redirect(w, r, "/breaches/"+url.PathEscape(id)+"#languages", http.StatusSeeOther)
}

type closeData struct {
	B    api.BreachView
	Open []breach.Obligation
	// NoticesNotGiven is what the API counted when it refused the close.
	NoticesNotGiven *int
	Form            url.Values
}

func (c *Console) closePage(w http.ResponseWriter, r *http.Request, st *state) {
	d, ok := c.breachData(w, r, st)
	if !ok {
		return
	}
	cd := closeData{B: d.B, Form: url.Values{}}
	for _, o := range d.Obligations {
		if o.Status == breach.ObligationOpen {
			cd.Open = append(cd.Open, o)
		}
	}
	c.render(w, r, st, http.StatusOK, "close", "Close the case", cd, nil)
}

func (c *Console) closeBreach(w http.ResponseWriter, r *http.Request, st *state) {
	_ = r.ParseForm()
	f := r.PostForm
	body := map[string]any{"summary": strings.TrimSpace(f.Get("summary"))}
	if v := strings.TrimSpace(f.Get("lessons_learned")); v != "" {
		body["lessons_learned"] = v
	}
	var waivers []map[string]any
	for _, oid := range f["waive"] {
		waivers = append(waivers, map[string]any{"obligation": oid, "reason": strings.TrimSpace(f.Get("waiver." + oid))})
	}
	if len(waivers) > 0 {
		body["waivers"] = waivers
	}
	id := r.PathValue("id")
	res := c.call(r, st, "POST", "/v1/breaches/"+url.PathEscape(id)+"/close", body)
	if res.ok() {
		c.flash(w, "The case is closed. The closure report is ready to download.")
		http.Redirect(w, r, "/breaches/"+url.PathEscape(id), http.StatusSeeOther)
		return
	}
	if res.Status != http.StatusConflict && res.Status != http.StatusUnprocessableEntity {
		c.apiErrorPage(w, r, st, res)
		return
	}
	v, ok := c.loadBreach(w, r, st)
	if !ok {
		return
	}
	p := res.problem()
	cd := closeData{B: v, Open: p.OpenObligations, NoticesNotGiven: p.NoticesNotGiven, Form: f}
	if len(cd.Open) == 0 {
		// A 422 does not list them: read the ledger again.
		if d, ok := c.breachData(w, r, st); ok {
			for _, o := range d.Obligations {
				if o.Status == breach.ObligationOpen {
					cd.Open = append(cd.Open, o)
				}
			}
		} else {
			return
		}
	}
	errs := problemErrors(p, "")
	// Waivers are named by position in the request; name them by duty, as the form does.
	for i := range errs.List {
		fe := &errs.List[i]
		if strings.HasPrefix(fe.Field, "waivers[") {
			var n int
			rest := strings.TrimPrefix(fe.Field, "waivers[")
			if j := strings.Index(rest, "]"); j > 0 {
				for _, ch := range rest[:j] {
					n = n*10 + int(ch-'0')
				}
				if n < len(waivers) {
					fe.Field = "waiver." + waivers[n]["obligation"].(string)
				}
			}
		}
	}
	rebuilt := &formErrors{}
	for _, fe := range errs.List {
		rebuilt.add(fe.Field, fe.Reason)
	}
	c.render(w, r, st, res.Status, "close", "Close the case", cd, rebuilt)
}

func (c *Console) download(suffix string) func(http.ResponseWriter, *http.Request, *state) {
	return func(w http.ResponseWriter, r *http.Request, st *state) {
		c.passThrough(w, r, st, "/v1/breaches/"+url.PathEscape(r.PathValue("id"))+suffix)
	}
}
