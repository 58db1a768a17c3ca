package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// callOutcomes are the buttons of the call form, in the contract's words (CallAttemptRequest).
var callOutcomes = []choice{
	{"conversation", "Conversation"}, {"no_answer", "No answer"}, {"voicemail", "Voicemail"},
	{"busy", "Busy"}, {"wrong_number", "Wrong number"},
}

// callListSize is how many waiting calls the page reads: the next one and a few after it.
const callListSize = 20

type callsData struct {
	B api.BreachView
	// Task is the call to make now; Later the ones after it on this page of the list.
	Task  *api.CallTaskView
	Later []api.CallTaskView
	More  bool
	// Last is the notice of the call just recorded, and LastOutcome what the clerk pressed.
	Last        *breach.Notice
	LastOutcome string
	Outcomes    []choice
	Form        url.Values
	loc         *time.Location
}

// Local is t in the breach's time zone.
func (d *callsData) Local(t time.Time) string { return localTime(t, d.loc) }

// outcomeLabel is the button's words for an outcome code.
func outcomeLabel(code string) string {
	for _, o := range callOutcomes {
		if o.Value == code {
			return o.Label
		}
	}
	return ""
}

// callsData reads the waiting calls and picks the one to make: the one asked for (?task=), else
// the one after the call just recorded (so a clerk moves on after no answer), else the oldest.
func (c *Console) callsData(w http.ResponseWriter, r *http.Request, st *state, want string) (*callsData, bool) {
	v, ok := c.loadBreach(w, r, st)
	if !ok {
		return nil, false
	}
	d := &callsData{B: v, Outcomes: callOutcomes, Form: url.Values{}, loc: v.Determination.Location()}
	q := url.Values{"breach_id": {v.ID}, "limit": {strconv.Itoa(callListSize)}}
	res := c.call(r, st, "GET", "/v1/call-tasks?"+q.Encode(), nil)
	if !res.ok() {
		c.apiErrorPage(w, r, st, res)
		return nil, false
	}
	var list struct {
		Items      []api.CallTaskView `json:"items"`
		NextCursor *string            `json:"next_cursor"`
	}
	if err := res.decode(&list); err != nil {
		c.internalError(w, r, st, err)
		return nil, false
	}
	d.More = list.NextCursor != nil
	last := r.URL.Query().Get("last")
	if last != "" {
		if res := c.call(r, st, "GET", "/v1/notices/"+url.PathEscape(last), nil); res.ok() {
			var nd struct {
				Notice breach.Notice `json:"notice"`
			}
			if res.decode(&nd) == nil {
				d.Last = &nd.Notice
				d.LastOutcome = outcomeLabel(r.URL.Query().Get("outcome"))
			}
		}
	}
	pick := -1
	for i, t := range list.Items {
		if want != "" && t.ID == want {
			pick = i
		}
	}
	if pick < 0 && last != "" {
		for i, t := range list.Items {
			if t.ID == last && i+1 < len(list.Items) {
				pick = i + 1
			}
		}
	}
	if pick < 0 && len(list.Items) > 0 {
		pick = 0
	}
	if pick >= 0 {
		d.Task = &list.Items[pick]
		for i, t := range list.Items {
			if i != pick {
				d.Later = append(d.Later, t)
			}
		}
	}
	return d, true
}

func (c *Console) callsPage(w http.ResponseWriter, r *http.Request, st *state) {
	d, ok := c.callsData(w, r, st, r.URL.Query().Get("task"))
	if !ok {
		return
	}
	c.render(w, r, st, http.StatusOK, "calls", "Call list", d, nil)
}

// recordCall sends the clerk's outcome and the parts they ticked as the contract's request; the
// API decides whether that is notice (a conversation with all five parts said) and says why not.
func (c *Console) recordCall(w http.ResponseWriter, r *http.Request, st *state) {
	id, nid := r.PathValue("id"), r.PathValue("nid")
	_ = r.ParseForm()
	outcome := r.PostForm.Get("outcome")
	body := map[string]any{"outcome": outcome}
	if parts := r.PostForm["part"]; len(parts) > 0 {
		body["parts_delivered"] = parts
	}
	if v := strings.TrimSpace(r.PostForm.Get("note")); v != "" {
		body["note"] = v
	}
	res := c.call(r, st, "POST", "/v1/call-tasks/"+url.PathEscape(nid)+"/attempts", body)
	if res.ok() {
		q := url.Values{"last": {nid}, "outcome": {outcome}}
		http.Redirect(w, r, "/breaches/"+url.PathEscape(id)+"/calls?"+q.Encode()+"#last", http.StatusSeeOther)
		return
	}
	if res.Status >= 500 || res.Status == http.StatusForbidden {
		c.apiErrorPage(w, r, st, res)
		return
	}
	d, ok := c.callsData(w, r, st, nid)
	if !ok {
		return
	}
	d.Form = r.PostForm
	status := res.Status
	if status < 400 {
		status = http.StatusUnprocessableEntity
	}
	c.render(w, r, st, status, "calls", "Call list", d, problemErrors(res.problem(), ""))
}
