package web

import (
	"crypto/subtle"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

type peopleData struct {
	B          api.BreachView
	People     []breach.Recipient
	NextCursor string
	Filter     string
	// Query is the search by name or ID (the API's q); Paged says a cursor brought this page.
	Query       string
	Paged       bool
	SearchError string
	Report      *breach.UploadReport
}

// PageLink is the address of this list with the filter and the search kept, after cursor.
func (d *peopleData) PageLink(cursor string) string {
	q := url.Values{}
	if d.Filter != "" {
		q.Set("show", d.Filter)
	}
	if d.Query != "" {
		q.Set("q", d.Query)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return "/breaches/" + url.PathEscape(d.B.ID) + "/people?" + q.Encode()
}

// peopleFilters are the lists the API can give, by the query the page takes.
var peopleFilters = map[string]string{"": "", "no_contact": "has_contact=false", "out_of_state": "indiana_resident=false"}

func (c *Console) peopleData(w http.ResponseWriter, r *http.Request, st *state) (*peopleData, bool) {
	v, ok := c.loadBreach(w, r, st)
	if !ok {
		return nil, false
	}
	d := &peopleData{B: v}
	filter := r.URL.Query().Get("show")
	q, known := peopleFilters[filter]
	if !known {
		filter, q = "", ""
	}
	d.Filter = filter
	qs := url.Values{"limit": {"100"}}
	if cur := r.URL.Query().Get("cursor"); cur != "" {
		qs.Set("cursor", cur)
		d.Paged = true
	}
	if query := strings.TrimSpace(r.URL.Query().Get("q")); query != "" {
		d.Query = query
		qs.Set("q", query)
	}
	if q != "" {
		k, val, _ := strings.Cut(q, "=")
		qs.Set(k, val)
	}
	res := c.call(r, st, "GET", "/v1/breaches/"+url.PathEscape(v.ID)+"/recipients?"+qs.Encode(), nil)
	if res.Status == http.StatusUnprocessableEntity && d.Query != "" {
		// The search the API refused (too long): its reason beside the search box, nobody listed.
		for _, fe := range res.problem().Errors {
			if fe.Field == "q" || d.SearchError == "" {
				d.SearchError = capitalise(fe.Reason)
			}
		}
		if d.SearchError == "" {
			d.SearchError = capitalise(res.problem().Detail)
		}
		return d, true
	}
	if !res.ok() {
		c.apiErrorPage(w, r, st, res)
		return nil, false
	}
	var list struct {
		Items      []breach.Recipient `json:"items"`
		NextCursor *string            `json:"next_cursor"`
	}
	if err := res.decode(&list); err != nil {
		c.internalError(w, r, st, err)
		return nil, false
	}
	d.People = list.Items
	if list.NextCursor != nil {
		d.NextCursor = *list.NextCursor
	}
	return d, true
}

func (c *Console) peoplePage(w http.ResponseWriter, r *http.Request, st *state) {
	d, ok := c.peopleData(w, r, st)
	if !ok {
		return
	}
	c.render(w, r, st, http.StatusOK, "people", "Affected people", d, nil)
}

// uploadPeople streams the file of a multipart form to the API's upload, never holding it: the
// form's first part is the CSRF token (checked here, since the page wrapper does not parse a
// multipart body), the second the file.
func (c *Console) uploadPeople(w http.ResponseWriter, r *http.Request, st *state) {
	id := r.PathValue("id")
	mr, err := r.MultipartReader()
	if err != nil {
		c.errorPage(w, r, st, http.StatusBadRequest, "Choose a file to upload", "The upload was not a file form. Go back and choose a file.")
		return
	}
	var file io.Reader
	var contentType string
	csrfOK := subtle.ConstantTimeCompare([]byte(r.Header.Get("X-CSRF-Token")), []byte(st.sess.CSRF)) == 1
parts:
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		switch part.FormName() {
		case "csrf":
			b, _ := io.ReadAll(io.LimitReader(part, 256))
			csrfOK = csrfOK || subtle.ConstantTimeCompare(b, []byte(st.sess.CSRF)) == 1
		case "file":
			// The token comes first in the form: a file is read only once the form is known to
			// come from this session.
			if csrfOK {
				file, contentType = part, uploadType(part.FileName(), part.Header.Get("Content-Type"))
			}
			break parts
		}
	}
	if !csrfOK {
		c.errorPage(w, r, st, http.StatusForbidden, "This form has expired",
			"The form was not sent from this session (its security token is missing or out of date). Go back, reload the page and try again.")
		return
	}
	if file == nil {
		d, ok := c.peopleData(w, r, st)
		if !ok {
			return
		}
		f := &formErrors{}
		f.add("file", "Choose a CSV or NDJSON file to upload")
		c.render(w, r, st, http.StatusUnprocessableEntity, "people", "Affected people", d, f)
		return
	}
	res := c.send(r, st, "POST", "/v1/breaches/"+url.PathEscape(id)+"/recipients", file, contentType)
	d, ok := c.peopleData(w, r, st)
	if !ok {
		return
	}
	if !res.ok() {
		if res.Status >= 500 || res.Status == http.StatusForbidden || res.Status == http.StatusNotFound {
			c.apiErrorPage(w, r, st, res)
			return
		}
		p := res.problem()
		f := &formErrors{}
		msg := capitalise(p.Detail)
		for _, fe := range p.Errors {
			msg += ". " + capitalise(fe.Field+": "+fe.Reason)
		}
		f.add("file", msg)
		c.render(w, r, st, res.Status, "people", "Affected people", d, f)
		return
	}
	var rep breach.UploadReport
	if err := res.decode(&rep); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	d.Report = &rep
	c.render(w, r, st, http.StatusOK, "people", "Upload report", d, nil)
}

// uploadType is the media type the API is sent: NDJSON by its name or type, else CSV.
func uploadType(name, declared string) string {
	mt, _, _ := mime.ParseMediaType(declared)
	switch ext := strings.ToLower(path.Ext(name)); {
	case ext == ".ndjson" || ext == ".jsonl" || mt == "application/x-ndjson":
		return "application/x-ndjson"
	default:
		return "text/csv"
	}
}

func (c *Console) completePeople(w http.ResponseWriter, r *http.Request, st *state) {
	id := r.PathValue("id")
	res := c.call(r, st, "POST", "/v1/breaches/"+url.PathEscape(id)+"/recipients/complete", nil)
	if !res.ok() {
		c.apiErrorPage(w, r, st, res)
		return
	}
	c.flash(w, "The list of affected people is declared complete.")
	http.Redirect(w, r, "/breaches/"+url.PathEscape(id)+"/people", http.StatusSeeOther)
}

type dispatchData struct {
	B      api.BreachView
	Report *breach.DispatchReport
	// Refusal is the API's reason, in its words, when it refused to dispatch.
	Refusal string
	// MissingLanguages are the plan's languages with no notice text: the page names them and links
	// to the breach page's language section, where the English fallback is recorded.
	MissingLanguages []breach.LanguageNeed
	// MissingParts are the rest of the plan's missing content, which revising the determination supplies.
	MissingParts []breach.ContentElement
}

func newDispatchData(v api.BreachView) dispatchData {
	d := dispatchData{B: v}
	for _, l := range v.Plan.Languages {
		if l.Text == breach.TextMissing {
			d.MissingLanguages = append(d.MissingLanguages, l)
		}
	}
	for _, m := range v.Plan.MissingContent {
		if !strings.HasPrefix(string(m), "translation:") {
			d.MissingParts = append(d.MissingParts, m)
		}
	}
	return d
}

func (c *Console) dispatchPage(w http.ResponseWriter, r *http.Request, st *state) {
	v, ok := c.loadBreach(w, r, st)
	if !ok {
		return
	}
	c.render(w, r, st, http.StatusOK, "dispatch", "Send the notices", newDispatchData(v), nil)
}

func (c *Console) dispatch(w http.ResponseWriter, r *http.Request, st *state) {
	id := r.PathValue("id")
	res := c.call(r, st, "POST", "/v1/breaches/"+url.PathEscape(id)+"/dispatch", nil)
	v, ok := c.loadBreach(w, r, st)
	if !ok {
		return
	}
	d := newDispatchData(v)
	if !res.ok() {
		if res.Status >= 500 || res.Status == http.StatusForbidden || res.Status == http.StatusNotFound {
			c.apiErrorPage(w, r, st, res)
			return
		}
		d.Refusal = capitalise(res.problem().Detail)
		f := &formErrors{}
		f.add("", d.Refusal)
		c.render(w, r, st, res.Status, "dispatch", "Send the notices", d, f)
		return
	}
	var rep breach.DispatchReport
	if err := res.decode(&rep); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	d.Report = &rep
	c.render(w, r, st, http.StatusOK, "dispatch", "Notices queued", d, nil)
}

type statusRow struct {
	Channel  string
	Statuses []statusCount
	Total    int
}

type statusCount struct {
	Status string
	N      int
}

type statusData struct {
	B           api.BreachView
	Rows        []statusRow
	Total       int
	Done        int
	Outstanding int
	Deadline    breach.Date
	DeadlineMet *bool
	AsOf        breach.Date
	// GivenByDay is the API's count of notices given each day; Series runs it up day by day from
	// discovery to today (the chart and its table). Unplaced are the given notices on no day: a
	// breach older than the per-day counters has notices given before they were kept, counted in
	// Done but in no day. The chart and its table end on Done all the same, and say so in words.
	GivenByDay []breach.GivenOnDay
	Series     []givenPoint
	Unplaced   int
}

// UnplacedNote says in words how many given notices are on no day of the chart, or is empty.
func (d statusData) UnplacedNote() string {
	switch d.Unplaced {
	case 0:
		return ""
	case 1:
		return "1 notice given before daily counts were kept is not placed on a day"
	}
	return fmt.Sprintf("%d notices given before daily counts were kept are not placed on a day", d.Unplaced)
}

// Changes are the days of the series on which the count changed, and today: the chart's table.
func (d statusData) Changes() []givenPoint {
	var out []givenPoint
	for i, p := range d.Series {
		if p.Change != 0 || i == len(d.Series)-1 {
			out = append(out, p)
		}
	}
	return out
}

// noticeStatuses are the columns of the status table, in the order a notice moves through them.
var noticeStatuses = []string{"queued", "sent", "mailed", "delivered", "failed", "returned"}

func (c *Console) statusPage(w http.ResponseWriter, r *http.Request, st *state) {
	v, ok := c.loadBreach(w, r, st)
	if !ok {
		return
	}
	res := c.call(r, st, "GET", "/v1/breaches/"+url.PathEscape(v.ID)+"/status", nil)
	if !res.ok() {
		c.apiErrorPage(w, r, st, res)
		return
	}
	d, err := statusOf(res)
	if err != nil {
		c.internalError(w, r, st, err)
		return
	}
	d.B = v
	if d.Total > 0 {
		d.Series = givenSeries(d.GivenByDay, v.Determination.DiscoveredOn, d.AsOf)
		if n := len(d.Series); n > 0 {
			d.Unplaced = max(d.Done-d.Series[n-1].Sum, 0)
		}
	}
	c.render(w, r, st, http.StatusOK, "status", "Delivery status", d, nil)
}

func statusOf(res *result) (statusData, error) {
	var s struct {
		Counts      map[string]map[string]int `json:"counts"`
		Total       int                       `json:"total"`
		Done        int                       `json:"done"`
		Outstanding int                       `json:"outstanding"`
		Deadline    *breach.Date              `json:"deadline"`
		DeadlineMet *bool                     `json:"deadline_met"`
		AsOf        breach.Date               `json:"as_of"`
		GivenByDay  []breach.GivenOnDay       `json:"given_by_day"`
	}
	if err := res.decode(&s); err != nil {
		return statusData{}, err
	}
	d := statusData{Total: s.Total, Done: s.Done, Outstanding: s.Outstanding, DeadlineMet: s.DeadlineMet, AsOf: s.AsOf,
		GivenByDay: s.GivenByDay}
	if s.Deadline != nil {
		d.Deadline = *s.Deadline
	}
	channels := make([]string, 0, len(s.Counts))
	for ch := range s.Counts {
		channels = append(channels, ch)
	}
	sort.Strings(channels)
	for _, ch := range channels {
		row := statusRow{Channel: ch}
		for _, stt := range noticeStatuses {
			n := s.Counts[ch][stt]
			row.Statuses = append(row.Statuses, statusCount{Status: stt, N: n})
			row.Total += n
		}
		d.Rows = append(d.Rows, row)
	}
	return d, nil
}

type auditData struct {
	B          api.BreachView
	Events     []breach.Event
	Types      []string
	Type       string
	NextCursor string
}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, st *state) {
	v, ok := c.loadBreach(w, r, st)
	if !ok {
		return
	}
	qs := url.Values{"limit": {"200"}}
	if cur := r.URL.Query().Get("cursor"); cur != "" {
		qs.Set("cursor", cur)
	}
	res := c.call(r, st, "GET", "/v1/breaches/"+url.PathEscape(v.ID)+"/events?"+qs.Encode(), nil)
	if !res.ok() {
		c.apiErrorPage(w, r, st, res)
		return
	}
	var list struct {
		Items      []breach.Event `json:"items"`
		NextCursor *string        `json:"next_cursor"`
	}
	if err := res.decode(&list); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	d := auditData{B: v, Type: r.URL.Query().Get("type")}
	if list.NextCursor != nil {
		d.NextCursor = *list.NextCursor
	}
	seen := map[string]bool{}
	for _, e := range list.Items {
		if !seen[string(e.Type)] {
			seen[string(e.Type)] = true
			d.Types = append(d.Types, string(e.Type))
		}
		if d.Type == "" || string(e.Type) == d.Type {
			d.Events = append(d.Events, e)
		}
	}
	sort.Strings(d.Types)
	c.render(w, r, st, http.StatusOK, "audit", "Audit trail", d, nil)
}
