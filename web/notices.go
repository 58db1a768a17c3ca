package web

import (
	"net/http"
	"net/url"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

type noticeData struct {
	B       api.BreachView
	Notice  breach.Notice
	History []breach.Event
	loc     *time.Location
}

// Local is t in the breach's time zone.
func (d *noticeData) Local(t time.Time) string { return localTime(t, d.loc) }

// noticePage is one person's notice and every event about it, oldest first.
func (c *Console) noticePage(w http.ResponseWriter, r *http.Request, st *state) {
	res := c.call(r, st, "GET", "/v1/notices/"+url.PathEscape(r.PathValue("nid")), nil)
	if !res.ok() {
		c.apiErrorPage(w, r, st, res)
		return
	}
	var nd struct {
		Notice  breach.Notice  `json:"notice"`
		History []breach.Event `json:"history"`
	}
	if err := res.decode(&nd); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	res = c.call(r, st, "GET", "/v1/breaches/"+url.PathEscape(nd.Notice.BreachID), nil)
	if !res.ok() {
		c.apiErrorPage(w, r, st, res)
		return
	}
	d := &noticeData{Notice: nd.Notice, History: nd.History}
	if err := res.decode(&d.B); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	d.loc = d.B.Determination.Location()
	c.render(w, r, st, http.StatusOK, "notice", "Notice "+nd.Notice.ID, d, nil)
}

type noticesData struct {
	B                 api.BreachView
	Notices           []breach.Notice
	Status, Channel   string
	NextCursor        string
	Statuses, Methods []string
}

// noticesPage lists the breach's notices by status and channel, 50 at a time, each linked to its page.
func (c *Console) noticesPage(w http.ResponseWriter, r *http.Request, st *state) {
	v, ok := c.loadBreach(w, r, st)
	if !ok {
		return
	}
	in := r.URL.Query()
	d := &noticesData{B: v, Status: in.Get("status"), Channel: in.Get("channel"), Statuses: noticeStatuses,
		Methods: []string{string(breach.MethodLetter), string(breach.MethodEmail), string(breach.MethodPhone)}}
	q := url.Values{"limit": {"50"}}
	for k, val := range map[string]string{"status": d.Status, "channel": d.Channel, "cursor": in.Get("cursor")} {
		if val != "" {
			q.Set(k, val)
		}
	}
	res := c.call(r, st, "GET", "/v1/breaches/"+url.PathEscape(v.ID)+"/notices?"+q.Encode(), nil)
	if !res.ok() {
		if res.Status == http.StatusUnprocessableEntity {
			c.render(w, r, st, res.Status, "notices", "Notices", d, problemErrors(res.problem(), ""))
			return
		}
		c.apiErrorPage(w, r, st, res)
		return
	}
	var list struct {
		Items      []breach.Notice `json:"items"`
		NextCursor *string         `json:"next_cursor"`
	}
	if err := res.decode(&list); err != nil {
		c.internalError(w, r, st, err)
		return
	}
	d.Notices = list.Items
	if list.NextCursor != nil {
		d.NextCursor = *list.NextCursor
	}
	c.render(w, r, st, http.StatusOK, "notices", "Notices", d, nil)
}
