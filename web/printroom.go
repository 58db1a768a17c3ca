package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// printData is the print room: the breach's batches, newest first, and the letters waiting.
type printData struct {
	B       api.BreachView
	Batches []breach.PrintBatch
	// Waiting is the letters queued for a batch, from the O(1) status counters.
	Waiting int
	// Today is the date in the breach's time zone: the default of every date field.
	Today breach.Date
	Form  url.Values
	// ErrBatch is the batch whose "Mailed on" form the API refused.
	ErrBatch string
	Reprint  *reprintView
}

// Local is t in the breach's time zone.
func (d *printData) Local(t time.Time) string { return localTime(t, d.B.Determination.Location()) }

// reprintView is one letter made again, with the hash of what it says.
type reprintView struct {
	Notice breach.Notice
	SHA256 string
	// Matches: the reprint says what the printed letter said (the notice's letter_sha256).
	Matches bool
}

func (c *Console) printData(w http.ResponseWriter, r *http.Request, st *state) (*printData, bool) {
	v, ok := c.loadBreach(w, r, st)
	if !ok {
		return nil, false
	}
	d := &printData{B: v, Today: breach.DateOf(c.cfg.Now(), v.Determination.Location())}
	d.Form = url.Values{"returned_on": {d.Today.String()}}
	res := c.call(r, st, "GET", "/v1/breaches/"+url.PathEscape(v.ID)+"/print-batches", nil)
	if !res.ok() {
		c.apiErrorPage(w, r, st, res)
		return nil, false
	}
	var list struct {
		Items []breach.PrintBatch `json:"items"`
	}
	if err := res.decode(&list); err != nil {
		c.internalError(w, r, st, err)
		return nil, false
	}
	for i := len(list.Items) - 1; i >= 0; i-- {
		d.Batches = append(d.Batches, list.Items[i])
	}
	if res := c.call(r, st, "GET", "/v1/breaches/"+url.PathEscape(v.ID)+"/status", nil); res.ok() {
		var s struct {
			Counts map[string]map[string]int `json:"counts"`
		}
		if res.decode(&s) == nil {
			d.Waiting = s.Counts[string(breach.MethodLetter)][string(breach.NoticeQueued)]
		}
	}
	return d, true
}

func (c *Console) printPage(w http.ResponseWriter, r *http.Request, st *state) {
	d, ok := c.printData(w, r, st)
	if !ok {
		return
	}
	c.render(w, r, st, http.StatusOK, "print", "Print room", d, nil)
}

// redisplayPrint shows the print room again with what the API said about one of its forms.
func (c *Console) redisplayPrint(w http.ResponseWriter, r *http.Request, st *state, res *result, errs *formErrors, adjust func(*printData)) {
	if res.Status >= 500 || res.Status == http.StatusForbidden {
		c.apiErrorPage(w, r, st, res)
		return
	}
	d, ok := c.printData(w, r, st)
	if !ok {
		return
	}
	_ = r.ParseForm()
	for k, v := range r.Form {
		d.Form[k] = v
	}
	if adjust != nil {
		adjust(d)
	}
	status := res.Status
	if status < 400 {
		status = http.StatusUnprocessableEntity
	}
	c.render(w, r, st, status, "print", "Print room", d, errs)
}

func (c *Console) makeBatch(w http.ResponseWriter, r *http.Request, st *state) {
	id := r.PathValue("id")
	res := c.call(r, st, "POST", "/v1/breaches/"+url.PathEscape(id)+"/print-batches", nil)
	if !res.ok() {
		c.redisplayPrint(w, r, st, res, problemErrors(res.problem(), ""), nil)
		return
	}
	var b breach.PrintBatch
	if err := res.decode(&b); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	c.flash(w, fmt.Sprintf("Batch %d is made: %d %s on %d %s. Download its PDF and manifest, print it, then mark it mailed.",
		b.Number, len(b.NoticeIDs), plural(len(b.NoticeIDs), "letter", "letters"), b.Pages, plural(b.Pages, "page", "pages")))
	http.Redirect(w, r, "/breaches/"+url.PathEscape(id)+"/print#batch-"+url.PathEscape(b.ID), http.StatusSeeOther)
}

func (c *Console) markMailed(w http.ResponseWriter, r *http.Request, st *state) {
	id, bid := r.PathValue("id"), r.PathValue("bid")
	body := map[string]any{}
	if v := strings.TrimSpace(r.PostFormValue("mailed_on")); v != "" {
		body["mailed_on"] = v
	}
	res := c.call(r, st, "POST", "/v1/breaches/"+url.PathEscape(id)+"/print-batches/"+url.PathEscape(bid)+"/mailed", body)
	if !res.ok() {
		label := "Mailed on"
		if n := r.PostFormValue("number"); n != "" {
			label = "Batch " + n + " mailed on"
		}
		errs := &formErrors{}
		p := res.problem()
		for _, fe := range p.Errors {
			if fe.Field == "mailed_on" {
				errs.addLabelled("mailed_on."+bid, label, capitalise(fe.Reason))
			} else {
				errs.add("", capitalise(fe.Field+": "+fe.Reason))
			}
		}
		if len(errs.List) == 0 {
			errs.addLabelled("mailed_on."+bid, label, capitalise(p.Detail))
		}
		c.redisplayPrint(w, r, st, res, errs, func(d *printData) { d.ErrBatch = bid })
		return
	}
	var b breach.PrintBatch
	if err := res.decode(&b); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	c.flash(w, fmt.Sprintf("Batch %d is marked mailed on %s: its %d letters count as given.", b.Number, b.MailedOn.Time().Format("2 January 2006"), len(b.NoticeIDs)))
	http.Redirect(w, r, "/breaches/"+url.PathEscape(id)+"/print#batch-"+url.PathEscape(bid), http.StatusSeeOther)
}

// noticeFieldErrors names the notice-number field for the API's complaints about the path (a
// number of the wrong shape) or an unknown notice.
func noticeFieldErrors(res *result, field string, rename map[string]string) *formErrors {
	p := res.problem()
	errs := &formErrors{}
	for _, fe := range p.Errors {
		f := fe.Field
		if f == "nid" {
			f = field
		} else if to, ok := rename[f]; ok {
			f = to
		}
		errs.add(f, capitalise(fe.Reason))
	}
	if len(errs.List) == 0 {
		if res.Status == http.StatusNotFound {
			errs.add(field, "No notice has this number. Check it against the letter")
		} else {
			errs.add(field, capitalise(p.Detail))
		}
	}
	return errs
}

func (c *Console) recordReturned(w http.ResponseWriter, r *http.Request, st *state) {
	id := r.PathValue("id")
	nid := strings.TrimSpace(r.PostFormValue("notice"))
	if nid == "" {
		errs := &formErrors{}
		errs.add("notice", "Enter the notice number printed on the returned letter")
		c.redisplayPrint(w, r, st, &result{Status: http.StatusUnprocessableEntity}, errs, nil)
		return
	}
	body := map[string]any{}
	if v := strings.TrimSpace(r.PostFormValue("returned_on")); v != "" {
		body["returned_on"] = v
	}
	if v := strings.TrimSpace(r.PostFormValue("reason")); v != "" {
		body["reason"] = v
	}
	res := c.call(r, st, "POST", "/v1/notices/"+url.PathEscape(nid)+"/returned", body)
	if !res.ok() {
		c.redisplayPrint(w, r, st, res, noticeFieldErrors(res, "notice", nil), nil)
		return
	}
	c.flash(w, "Letter "+nid+" is recorded as returned.")
	http.Redirect(w, r, "/breaches/"+url.PathEscape(id)+"/print#returned", http.StatusSeeOther)
}

// reprintPage makes one letter again through the API and shows the hash of what it says, so the
// clerk can see that the reprint is the letter that was printed.
func (c *Console) reprintPage(w http.ResponseWriter, r *http.Request, st *state) {
	nid := strings.TrimSpace(r.URL.Query().Get("reprint_notice"))
	if nid == "" {
		errs := &formErrors{}
		errs.add("reprint_notice", "Enter the notice number of the letter to reprint")
		c.redisplayPrint(w, r, st, &result{Status: http.StatusUnprocessableEntity}, errs, nil)
		return
	}
	res := c.call(r, st, "GET", "/v1/notices/"+url.PathEscape(nid), nil)
	if !res.ok() {
		c.redisplayPrint(w, r, st, res, noticeFieldErrors(res, "reprint_notice", nil), nil)
		return
	}
	var nd struct {
		Notice breach.Notice `json:"notice"`
	}
	if err := res.decode(&nd); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	pdf := c.call(r, st, "GET", "/v1/notices/"+url.PathEscape(nid)+"/letter.pdf", nil)
	if !pdf.ok() {
		c.redisplayPrint(w, r, st, pdf, noticeFieldErrors(pdf, "reprint_notice", nil), nil)
		return
	}
	d, ok := c.printData(w, r, st)
	if !ok {
		return
	}
	d.Form.Set("reprint_notice", nid)
	sum := pdf.Header.Get("X-Letter-SHA256")
	d.Reprint = &reprintView{Notice: nd.Notice, SHA256: sum, Matches: nd.Notice.LetterSHA256 != "" && nd.Notice.LetterSHA256 == sum}
	c.render(w, r, st, http.StatusOK, "print", "Print room", d, nil)
}

func (c *Console) batchDownload(ext string) func(http.ResponseWriter, *http.Request, *state) {
	return func(w http.ResponseWriter, r *http.Request, st *state) {
		c.passThrough(w, r, st, "/v1/breaches/"+url.PathEscape(r.PathValue("id"))+"/print-batches/"+url.PathEscape(r.PathValue("bid"))+ext)
	}
}

func (c *Console) letterDownload(w http.ResponseWriter, r *http.Request, st *state) {
	c.passThrough(w, r, st, "/v1/notices/"+url.PathEscape(r.PathValue("nid"))+"/letter.pdf")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// localTime formats t in the breach's time zone, for a clerk reading the times of calls.
func localTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(loc).Format("Mon 2 Jan 2006 15:04 MST")
}
