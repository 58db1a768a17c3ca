package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// TestObligationRecords: what a person may record about a duty, and every refusal naming its field
// or its reason. Nothing recorded is rewritten: a correction is a new record.
func TestObligationRecords(t *testing.T) {
	e := newEnv(t)
	// Student IDs are involved: the FERPA disclosure record is owed.
	b := createBreach(t, e, map[string]any{"data_elements": []string{"name", "ssn", "student_id"}})
	base := "/v1/breaches/" + b.ID + "/obligations"
	item := func(r response) breach.Obligation {
		t.Helper()
		if r.Status != http.StatusOK {
			t.Fatalf("record: %d %s", r.Status, r.Body)
		}
		var o breach.Obligation
		r.json(t, &o)
		return o
	}
	ledger := func() api.ObligationList {
		t.Helper()
		var l api.ObligationList
		e.do("GET", base, breach.RoleClerk, nil).json(t, &l)
		return l
	}
	if l := ledger(); l.Open != 12 || len(l.Items) != len(breach.ObligationIDs) {
		t.Fatalf("a new breach: %d open of %d", l.Open, len(l.Items))
	}

	// The FERPA record is done by hand, with its evidence.
	o := item(e.do("POST", base+"/ferpa.disclosure_record/records", breach.RoleAdmin,
		map[string]any{"status": "done", "evidence": "Entered in each student's record of disclosures."}))
	if o.Status != breach.ObligationDone || o.RecordedBy == "" || o.Evidence.Note == "" {
		t.Fatalf("FERPA done: %+v", o)
	}
	if r := e.do("POST", base+"/ferpa.disclosure_record/records", breach.RoleAdmin, map[string]any{"status": "done"}); r.Status != http.StatusConflict {
		t.Fatalf("recorded twice: %d %s", r.Status, r.Body)
	}
	// A duty with its own evidence is not done by hand: the refusal says how it is done.
	if r := e.do("POST", base+"/agency.equifax/records", breach.RoleAdmin, map[string]any{"status": "done"}); r.Status != http.StatusConflict ||
		!strings.Contains(r.problem(t).Detail, "agency-notices/equifax/sent") {
		t.Fatalf("equifax done by hand: %d %s", r.Status, r.Body)
	}
	// A waiver needs its reason; then it holds, and a correction withdraws it.
	if r := e.do("POST", base+"/agency.equifax/records", breach.RoleAdmin, map[string]any{"status": "waived", "reason": " "}); r.Status != 422 ||
		r.fields(t)["reason"] == "" {
		t.Fatalf("waiver without a reason: %d %s", r.Status, r.Body)
	}
	if o := item(e.do("POST", base+"/agency.equifax/records", breach.RoleAdmin, map[string]any{"status": "waived", "reason": "Counsel's advice of 2026-03-18"})); o.Status != breach.ObligationWaived || o.Waiver != "Counsel's advice of 2026-03-18" {
		t.Fatalf("waived: %+v", o)
	}
	if o := item(e.do("POST", base+"/agency.equifax/records", breach.RoleAdmin, map[string]any{"status": "open", "reason": "Waived by mistake"})); o.Status != breach.ObligationOpen {
		t.Fatalf("withdrawn: %+v", o)
	}
	if r := e.do("POST", base+"/agency.experian/records", breach.RoleAdmin, map[string]any{"status": "open", "reason": "x"}); r.Status != http.StatusConflict {
		t.Fatalf("withdrawing nothing: %d %s", r.Status, r.Body)
	}
	// Unknown obligations and statuses are refused naming the parameter or field.
	if r := e.do("POST", base+"/agency.innovis/records", breach.RoleAdmin, map[string]any{"status": "waived", "reason": "x"}); r.Status != 422 ||
		r.fields(t)["oid"] == "" {
		t.Fatalf("unknown obligation: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", base+"/agency.experian/records", breach.RoleAdmin, map[string]any{"status": "finished"}); r.Status != 422 ||
		r.fields(t)["status"] == "" {
		t.Fatalf("unknown status: %d %s", r.Status, r.Body)
	}
	// Only an admin records.
	for _, role := range []breach.Role{breach.RoleClerk, breach.RoleAuditor} {
		if r := e.do("POST", base+"/agency.experian/records", role, map[string]any{"status": "waived", "reason": "x"}); r.Status != http.StatusForbidden {
			t.Fatalf("%s recording: %d", role, r.Status)
		}
	}

	// The Attorney General's notice is recorded as sent like the agency letters, and is then done.
	if r := e.do("POST", "/v1/breaches/"+b.ID+"/agency-notices/attorney_general/sent", breach.RoleAdmin, map[string]any{"sent_on": "2026-03-19"}); r.Status != 200 {
		t.Fatalf("attorney general sent: %d %s", r.Status, r.Body)
	}
	l := ledger()
	byID := map[breach.ObligationID]breach.Obligation{}
	for _, o := range l.Items {
		byID[o.ID] = o
	}
	if o := byID[breach.ObligationAttorneyGeneral]; o.Status != breach.ObligationDone || o.RecordedAt.IsZero() {
		t.Fatalf("attorney general: %+v", o)
	}
	if l.Open != 10 {
		t.Fatalf("%d open, want 10 (FERPA and the Attorney General done)", l.Open)
	}

	// Every record is an event, and the breach keeps them in order.
	var events api.EventList
	e.do("GET", "/v1/breaches/"+b.ID+"/events", breach.RoleAuditor, nil).json(t, &events)
	n := 0
	for _, ev := range events.Items {
		if ev.Type == breach.EventObligationRecorded {
			n++
		}
	}
	var v api.BreachView
	e.do("GET", "/v1/breaches/"+b.ID, breach.RoleAuditor, nil).json(t, &v)
	if n != 3 || len(v.Obligations) != 3 || v.Obligations[2].Status != breach.ObligationOpen {
		t.Fatalf("%d obligation events, records %+v", n, v.Obligations)
	}

	// After closing, nothing more is recorded.
	if r := e.do("POST", "/v1/breaches/"+b.ID+"/close", breach.RoleAdmin, map[string]any{"summary": "Tabletop.", "waivers": waiveOpen(t, e, b.ID, "tabletop")}); r.Status != 200 {
		t.Fatalf("close: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", base+"/agency.experian/records", breach.RoleAdmin, map[string]any{"status": "waived", "reason": "x"}); r.Status != http.StatusConflict {
		t.Fatalf("recording after close: %d %s", r.Status, r.Body)
	}
	e.do("GET", base, breach.RoleClerk, nil).json(t, &l)
	for _, o := range l.Items {
		if o.Status == breach.ObligationOpen {
			t.Fatalf("closed breach with %s open", o.ID)
		}
	}
}

// TestDueObligations: the due-soon list across breaches is one query.
func TestDueObligations(t *testing.T) {
	e := newEnv(t)
	early := createBreach(t, e, map[string]any{"title": "Early", "discovered_on": "2026-03-03"}) // due 2026-04-17; OT 2026-03-05
	late := createBreach(t, e, map[string]any{"title": "Late", "discovered_on": "2026-03-16"})   // due 2026-04-30; OT 2026-03-18
	var l api.DueObligationList
	r := e.do("GET", "/v1/obligations?status=open&due_before=2026-03-31", breach.RoleAuditor, nil)
	if r.Status != 200 {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	r.json(t, &l)
	if len(l.Items) != 2 || l.Items[0].BreachId != early.ID || l.Items[1].BreachId != late.ID ||
		l.Items[0].Obligation.ID != breach.ObligationOfficeOfTechnology || l.Items[1].Obligation.Due != breach.MustDate("2026-03-18") {
		t.Fatalf("due before 2026-03-31: %+v", l.Items)
	}
	e.do("GET", "/v1/obligations?status=open", breach.RoleClerk, nil).json(t, &l)
	if len(l.Items) != 22 || l.Items[len(l.Items)-1].Obligation.Due != breach.MustDate("2026-04-30") {
		t.Fatalf("every open item, earliest first: %d, last %+v", len(l.Items), l.Items[len(l.Items)-1])
	}
	// A closed breach has no open duties; its waived ones are found by status.
	e.setNow(time.Date(2026, 3, 20, 16, 0, 0, 0, time.UTC))
	if r := e.do("POST", "/v1/breaches/"+early.ID+"/close", breach.RoleAdmin, map[string]any{"summary": "x", "waivers": waiveOpen(t, e, early.ID, "tabletop")}); r.Status != 200 {
		t.Fatalf("close: %d %s", r.Status, r.Body)
	}
	e.do("GET", "/v1/obligations?status=open", breach.RoleClerk, nil).json(t, &l)
	if len(l.Items) != 11 {
		t.Fatalf("open after one close: %d", len(l.Items))
	}
	e.do("GET", "/v1/obligations?status=waived", breach.RoleClerk, nil).json(t, &l)
	if len(l.Items) != 11 || l.Items[0].BreachId != early.ID || l.Items[0].BreachStatus != api.BreachStatusClosed {
		t.Fatalf("waived: %d %+v", len(l.Items), l.Items)
	}
	if r := e.do("GET", "/v1/obligations?due_before=2026-02-30", breach.RoleClerk, nil); r.Status != 422 || r.fields(t)["due_before"] == "" {
		t.Fatalf("bad date: %d %s", r.Status, r.Body)
	}
}
