package api_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
	"github.com/breachd/breachd/internal/gen"
	"github.com/breachd/breachd/rules"
)

// TestSubstituteAgenciesAndClosure: the substitute notice (web site, media and their reach), the
// consumer reporting agencies, closing the breach, and the closure report.
func TestSubstituteAgenciesAndClosure(t *testing.T) {
	e := newEnv(t)
	b := createBreach(t, e, map[string]any{"description": "A staff laptop <b>holding</b> an unencrypted payroll export was stolen."})
	base := "/v1/breaches/" + b.ID

	var st api.SubstituteStatus
	e.do("GET", base+"/substitute-notice", breach.RoleClerk, nil).json(t, &st)
	if !st.Required || !slices.Equal(st.Triggers, []string{"affected_over_500"}) || st.Reaches75Percent || len(st.Outlets) != 0 {
		t.Fatalf("before anything: %+v", st)
	}

	// Media: 2,900,000 + 2,200,000 = 5,100,000 of 6,785,528 = 75.16%: enough, with a local paper.
	outlets := []map[string]any{
		{"name": "WTHR 13", "kind": "television", "audience": 2_900_000},
		{"name": "The Indianapolis Star", "kind": "newspaper", "audience": 2_200_000, "local": true, "notified_on": "2026-03-19"},
	}
	r := e.do("PUT", base+"/substitute-notice/outlets", breach.RoleAdmin, map[string]any{"outlets": outlets})
	if r.Status != 200 {
		t.Fatalf("outlets: %d %s", r.Status, r.Body)
	}
	r.json(t, &st)
	if !st.Reaches75Percent || st.Audience != 5_100_000 || st.ReachBasisPoints != 7515 || st.Reasons[0].Code != rules.CodeMediaReach {
		t.Fatalf("after outlets: %+v", st)
	}
	var plan breach.Plan
	e.do("GET", base+"/plan", breach.RoleAuditor, nil).json(t, &plan)
	if last := plan.Reasons[len(plan.Reasons)-1]; last.Code != rules.CodeMediaReach {
		t.Errorf("the plan does not show the media reach: last reason %+v", last)
	}
	for _, bad := range []struct {
		name  string
		body  any
		field string
	}{
		{"a name twice", map[string]any{"outlets": []map[string]any{{"name": "WTHR", "kind": "television", "audience": 1}, {"name": "wthr", "kind": "radio", "audience": 1}}}, "outlets[1].name"},
		{"audience as text", map[string]any{"outlets": []map[string]any{{"name": "WTHR", "kind": "television", "audience": "lots"}}}, "outlets[0].audience"},
		{"unknown kind", map[string]any{"outlets": []map[string]any{{"name": "WTHR", "kind": "carrier pigeon", "audience": 1}}}, "outlets[0].kind"},
	} {
		if r := e.do("PUT", base+"/substitute-notice/outlets", breach.RoleAdmin, bad.body); r.Status != 422 || r.fields(t)[bad.field] == "" {
			t.Errorf("%s: %d %s", bad.name, r.Status, r.Body)
		}
	}

	// The web site: posted once, taken down once.
	r = e.do("POST", base+"/substitute-notice/website/posted", breach.RoleAdmin, map[string]any{"url": "https://www.pikecreek.k12.in.us/data-incident"})
	if r.Status != 200 {
		t.Fatalf("posted: %d %s", r.Status, r.Body)
	}
	r.json(t, &st)
	if st.Website.PostedAt.IsZero() || st.Website.URL == "" {
		t.Fatalf("posting not recorded: %+v", st.Website)
	}
	if r := e.do("POST", base+"/substitute-notice/website/posted", breach.RoleAdmin, map[string]any{}); r.Status != 409 {
		t.Fatalf("posted twice: %d", r.Status)
	}
	html := e.do("GET", base+"/substitute-notice/website.html", breach.RoleAuditor, nil)
	if html.Status != 200 || strings.Contains(string(html.Body), "<b>holding</b>") || !strings.Contains(string(html.Body), "&lt;b&gt;holding") {
		t.Fatalf("website HTML must show the description escaped: %d %s", html.Status, html.Body)
	}
	text := e.do("GET", base+"/substitute-notice/website.txt", breach.RoleAuditor, nil)
	if !strings.Contains(string(text.Body), "317 555 0100") {
		t.Fatalf("website text lacks the assistance number: %s", text.Body)
	}
	if got := pdfText(t, e.do("GET", base+"/substitute-notice/media.pdf", breach.RoleClerk, nil).Body); !strings.Contains(got, "FOR IMMEDIATE RELEASE") {
		t.Fatalf("media notice: %s", got)
	}
	if r := e.do("POST", base+"/substitute-notice/website/taken-down", breach.RoleAdmin, nil); r.Status != 200 {
		t.Fatalf("taken down: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", base+"/substitute-notice/website/taken-down", breach.RoleAdmin, nil); r.Status != 409 {
		t.Fatalf("taken down twice: %d", r.Status)
	}

	// The three agencies (1,200 affected; residents not given, so assumed): letters and records.
	var ag api.AgencyNotices
	e.do("GET", base+"/agency-notices", breach.RoleAuditor, nil).json(t, &ag)
	if !ag.Required || len(ag.Items) != 5 || !ag.Items[0].SentOn.IsZero() || ag.Items[3].Agency != breach.AgencyAttorneyGeneral {
		t.Fatalf("agencies: %+v", ag)
	}
	if got := pdfText(t, e.do("GET", base+"/agency-notices/experian/letter.pdf", breach.RoleClerk, nil).Body); !strings.Contains(got, "Experian") || !strings.Contains(got, "Allen") {
		t.Fatalf("Experian letter: %s", got)
	}
	if r := e.do("GET", base+"/agency-notices/acme/letter.pdf", breach.RoleClerk, nil); r.Status != 422 {
		t.Fatalf("unknown agency: %d", r.Status)
	}
	if r := e.do("POST", base+"/agency-notices/equifax/sent", breach.RoleAdmin, map[string]any{"sent_on": "2026-03-21"}); r.Status != 422 {
		t.Fatalf("sent tomorrow: %d %s", r.Status, r.Body)
	}
	r = e.do("POST", base+"/agency-notices/equifax/sent", breach.RoleAdmin, map[string]any{"sent_on": "2026-03-19"})
	r.json(t, &ag)
	if r.Status != 200 || ag.Items[0].SentOn.String() != "2026-03-19" || !ag.Items[1].SentOn.IsZero() || len(ag.Items[0].DocumentSHA256) != 64 {
		t.Fatalf("sent: %d %+v", r.Status, ag)
	}
	if r := e.do("POST", base+"/agency-notices/equifax/sent", breach.RoleAdmin, map[string]any{"sent_on": "2026-03-19"}); r.Status != 409 {
		t.Fatalf("sent twice: %d", r.Status)
	}

	// Closing with duties open is refused, listing each one; a waiver with its reason for each
	// closes it, and the record says so.
	closeBody := map[string]any{"summary": "Every affected person was told by 2026-04-10.", "lessons_learned": "Encrypt every laptop."}
	r = e.do("POST", base+"/close", breach.RoleAdmin, closeBody)
	if r.Status != 409 {
		t.Fatalf("close with duties open: %d %s", r.Status, r.Body)
	}
	p := r.problem(t)
	if p.OpenObligations == nil || p.NoticesNotGiven == nil {
		t.Fatalf("refused close lists nothing: %s", r.Body)
	}
	var waivers []map[string]any
	var openIDs []string
	for _, o := range *p.OpenObligations {
		openIDs = append(openIDs, string(o.ID))
		waivers = append(waivers, map[string]any{"obligation": o.ID, "reason": "tabletop exercise: " + string(o.ID)})
	}
	if !slices.Contains(openIDs, "agency.experian") || slices.Contains(openIDs, "agency.equifax") || slices.Contains(openIDs, "substitute.website_posting") {
		t.Fatalf("open obligations %v: experian open; equifax sent and the posting recorded are done", openIDs)
	}
	closeBody["waivers"] = waivers[1:]
	if r := e.do("POST", base+"/close", breach.RoleAdmin, closeBody); r.Status != 409 || len(*r.problem(t).OpenObligations) != 1 {
		t.Fatalf("close with one duty not waived: %d %s", r.Status, r.Body)
	}
	closeBody["waivers"] = append(waivers, map[string]any{"obligation": "agency.equifax", "reason": "x"})
	if r := e.do("POST", base+"/close", breach.RoleAdmin, closeBody); r.Status != 422 || !strings.Contains(string(r.Body), "waivers[") {
		t.Fatalf("waiving a duty that is done: %d %s", r.Status, r.Body)
	}
	closeBody["waivers"] = append(waivers[1:], map[string]any{"obligation": waivers[0]["obligation"], "reason": "  "})
	if r := e.do("POST", base+"/close", breach.RoleAdmin, closeBody); r.Status != 422 || !strings.Contains(string(r.Body), ".reason") {
		t.Fatalf("waiver without a reason: %d %s", r.Status, r.Body)
	}
	closeBody["waivers"] = waivers
	r = e.do("POST", base+"/close", breach.RoleAdmin, closeBody)
	if r.Status != 200 {
		t.Fatalf("close: %d %s", r.Status, r.Body)
	}
	var closed api.BreachView
	r.json(t, &closed)
	if closed.Status != breach.StatusClosed || closed.Outcome == nil || closed.Outcome.ClosedBy == "" {
		t.Fatalf("closed: %+v", closed.Breach)
	}
	if r := e.do("POST", base+"/close", breach.RoleAdmin, map[string]any{"summary": "again"}); r.Status != 409 {
		t.Fatalf("closed twice: %d", r.Status)
	}
	if r := e.do("POST", base+"/substitute-notice/website/posted", breach.RoleAdmin, map[string]any{}); r.Status != 409 {
		t.Fatalf("posted after closing: %d", r.Status)
	}
	report := e.do("GET", base+"/closure-report.pdf", breach.RoleAuditor, nil)
	if report.Status != http.StatusOK || report.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("closure report: %d", report.Status)
	}
	got := pdfText(t, report.Body)
	for _, want := range []string{"deadline_45_days", "substitute.website_posted", "agency_notice.sent", "breach.closed", "Encrypt every laptop", "WTHR 13"} {
		if !strings.Contains(got, want) {
			t.Errorf("the closure report lacks %q", want)
		}
	}
}

// TestSubstituteEmails: with more than 500 people affected, the substitute notice's first part is
// an email to every affected person with an address on file whose individual notice goes another
// way (LAW.md §5 (A)); it is flagged, queued, sent, and never replaced by a letter.
func TestSubstituteEmails(t *testing.T) {
	e := newEnv(t)
	if err := e.worker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.worker.Shutdown)
	b := createBreach(t, e, nil)
	var file bytes.Buffer
	if err := gen.Write(&file, gen.Options{Rows: 600, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	if r := e.doContentType("POST", "/v1/breaches/"+b.ID+"/recipients", breach.RoleAdmin, file.Bytes(), "text/csv"); r.Status != 200 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	englishFallback(t, e, b.ID, "vi")
	r := e.do("POST", "/v1/breaches/"+b.ID+"/dispatch", breach.RoleAdmin, nil)
	var rep breach.DispatchReport
	r.json(t, &rep)
	if r.Status != 200 || rep.SubstituteEmails == 0 || rep.Created[breach.MethodEmail] <= rep.SubstituteEmails {
		t.Fatalf("dispatch: %d %+v", r.Status, rep)
	}
	// Every substitute email goes to someone whose individual notice is a letter or a call.
	var subs, individual []breach.Notice
	cursor := ""
	for {
		var page api.NoticeList
		e.do("GET", "/v1/breaches/"+b.ID+"/notices?limit=200&cursor="+cursor, breach.RoleAuditor, nil).json(t, &page)
		for _, n := range page.Items {
			if n.Substitute {
				subs = append(subs, n)
			} else {
				individual = append(individual, n)
			}
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if len(subs) != rep.SubstituteEmails {
		t.Fatalf("%d substitute notices listed, %d reported", len(subs), rep.SubstituteEmails)
	}
	channelOf := map[string]breach.Method{}
	for _, n := range individual {
		for _, rid := range n.RecipientIDs {
			channelOf[rid] = n.Channel
		}
	}
	for _, s := range subs {
		if s.Channel != breach.MethodEmail || s.Email == "" || len(s.RecipientIDs) != 1 {
			t.Fatalf("substitute notice %+v", s)
		}
		if ch := channelOf[s.RecipientIDs[0]]; ch == breach.MethodEmail || ch == "" {
			t.Fatalf("substitute email for a person whose individual notice is %q", ch)
		}
	}
	// They are sent like any email (to the outbox here).
	waitFor(t, "every email sent", func() (struct{}, bool) {
		var st api.DeliveryStatus
		e.do("GET", "/v1/breaches/"+b.ID+"/status", breach.RoleAuditor, nil).json(t, &st)
		return struct{}{}, st.Counts["email"]["queued"] == 0 && st.Counts["email"]["sent"] == rep.Created[breach.MethodEmail]
	})
}

// TestSubstituteStatusCountsUploadedPeople: every answer about the substitute notice is assessed as
// the plan is — with the people uploaded, not the determination's estimate.
func TestSubstituteStatusCountsUploadedPeople(t *testing.T) {
	e := newEnv(t)
	b := createBreach(t, e, nil) // the estimate: 1,200 affected
	uploadSample(t, e, b.ID)
	// 10 uploaded and declared complete, one unreachable: only insufficient_contact triggers the
	// substitute notice.
	want := []string{"insufficient_contact"}
	var st api.SubstituteStatus
	e.do("GET", "/v1/breaches/"+b.ID+"/substitute-notice", breach.RoleAuditor, nil).json(t, &st)
	if !slices.Equal(st.Triggers, want) {
		t.Fatalf("read: triggers %v, want %v", st.Triggers, want)
	}
	r := e.do("POST", "/v1/breaches/"+b.ID+"/substitute-notice/website/posted", breach.RoleAdmin, map[string]any{})
	r.json(t, &st)
	if r.Status != 200 || !slices.Equal(st.Triggers, want) {
		t.Fatalf("after posting: %d triggers %v, want %v", r.Status, st.Triggers, want)
	}
}
