package api_test

import (
	"net/http"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// TestUploadTrail: every upload records its start (upload.started: its ID, format and the file
// name the client gave, no rows) and its end under the same upload ID; an upload cut short keeps
// the list from being declared complete until an upload ends complete.
func TestUploadTrail(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.MaxUploadBytes = 20 << 10 })
	b := createBreach(t, e, nil)
	path := "/v1/breaches/" + b.ID + "/recipients"

	// Cut short: over the size limit after some batches were stored.
	req, err := http.NewRequest("POST", e.srv.URL+path, strings.NewReader("external_id,last_name\n"+csvRowsText(0, 5000)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Content-Disposition", `attachment; filename="../exports/people 2026.csv"`)
	req.Header.Set("Authorization", "Bearer "+testKeys[breach.RoleAdmin])
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("over the limit: %d", res.StatusCode)
	}
	var started, ended []breach.Event
	for _, ev := range allEventsOf(t, e, b.ID) {
		switch ev.Type {
		case breach.EventUploadStarted:
			started = append(started, ev)
		case breach.EventRecipientsUploaded:
			ended = append(ended, ev)
		}
	}
	if len(started) != 1 || len(ended) != 1 || started[0].Data["upload_id"] != ended[0].Data["upload_id"] ||
		!strings.HasPrefix(started[0].Data["upload_id"].(string), "up_") || started[0].Data["format"] != "text/csv" ||
		started[0].Private["file"] != "people 2026.csv" || started[0].Data["file"] != nil || started[0].Role != breach.RoleAdmin {
		t.Fatalf("started %+v; ended %+v", started, ended)
	}
	kept := ended[0].Data["accepted"].(float64)

	r := e.do("POST", path+"/complete", breach.RoleAdmin, nil)
	if r.Status != 409 || !strings.Contains(string(r.Body), "ended before its whole file was read") ||
		!strings.Contains(string(r.Body), "people 2026.csv") {
		t.Fatalf("complete after an upload cut short: %d %s", r.Status, r.Body)
	}
	// The rest, uploaded whole: the list may be declared complete.
	r = e.doContentType("POST", path, breach.RoleAdmin, "external_id,last_name\n"+csvRowsText(int(kept), 100), "text/csv")
	if r.Status != 200 {
		t.Fatalf("the rest: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", path+"/complete", breach.RoleAdmin, nil); r.Status != 200 {
		t.Fatalf("complete after a complete upload: %d %s", r.Status, r.Body)
	}
}

// allEventsOf reads the breach's whole event stream.
func allEventsOf(t *testing.T, e *env, id string) []breach.Event {
	t.Helper()
	r := e.do("GET", "/v1/breaches/"+id+"/events?limit=200", breach.RoleAuditor, nil)
	if r.Status != 200 {
		t.Fatalf("events: %d %s", r.Status, r.Body)
	}
	var page struct {
		Items []breach.Event `json:"items"`
	}
	r.json(t, &page)
	return page.Items
}
