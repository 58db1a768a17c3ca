package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// createBreach records a breach as admin and returns its view.
func createBreach(t *testing.T, e *env, overrides map[string]any) api.BreachView {
	t.Helper()
	r := e.do("POST", "/v1/breaches", breach.RoleAdmin, map[string]any{"determination": determination(overrides)})
	if r.Status != http.StatusCreated {
		t.Fatalf("create breach: %d %s", r.Status, r.Body)
	}
	var v api.BreachView
	r.json(t, &v)
	if got, want := r.Header.Get("Location"), "/v1/breaches/"+v.ID; got != want {
		t.Fatalf("Location = %q, want %q", got, want)
	}
	return v
}

// TestEveryRouteChecksItsRole calls every operation of the contract with every role, with no key
// and with an unknown key. The allowed roles are written here by hand, from the issue: a wrong
// x-roles in openapi.yaml fails this test.
func TestEveryRouteChecksItsRole(t *testing.T) {
	e := newEnv(t)
	b := createBreach(t, e, nil)
	hold := e.do("POST", "/v1/breaches/"+b.ID+"/holds", breach.RoleAdmin,
		map[string]any{"agency": "Indiana State Police", "start_date": "2026-03-10"})
	if hold.Status != http.StatusCreated {
		t.Fatalf("place hold: %d %s", hold.Status, hold.Body)
	}
	var held api.BreachView
	hold.json(t, &held)
	holdID := held.Holds[0].ID
	up := e.doContentType("POST", "/v1/breaches/"+b.ID+"/recipients", breach.RoleAdmin, "external_id,last_name\nX-1,Lee\n", "text/csv")
	if up.Status != http.StatusOK {
		t.Fatalf("upload: %d %s", up.Status, up.Body)
	}
	var people api.RecipientList
	e.do("GET", "/v1/breaches/"+b.ID+"/recipients", breach.RoleAdmin, nil).json(t, &people)
	rid := people.Items[0].ID

	admin := []breach.Role{breach.RoleAdmin}
	clerks := []breach.Role{breach.RoleAdmin, breach.RoleClerk}
	everyone := []breach.Role{breach.RoleAdmin, breach.RoleClerk, breach.RoleAuditor}
	const noNotice, noBatch = "nt_01JQ6Z8Y3T9V5K2M4N7P0R1S2T", "pb_01JQ6Z8Y3T9V5K2M4N7P0R1S2T"
	cases := []struct {
		op, method, path string
		body             any
		allowed          []breach.Role // nil: public, no key needed
	}{
		{"getHealthz", "GET", "/healthz", nil, nil},
		{"getReadyz", "GET", "/readyz", nil, nil},
		{"getMetrics", "GET", "/metrics", nil, nil},
		{"getOpenAPI", "GET", "/openapi.yaml", nil, nil},
		{"createAssessment", "POST", "/v1/assessments", map[string]any{"determination": determination(nil)}, everyone},
		{"createBreach", "POST", "/v1/breaches", map[string]any{"determination": determination(nil)}, admin},
		{"listBreaches", "GET", "/v1/breaches", nil, everyone},
		{"getBreach", "GET", "/v1/breaches/" + b.ID, nil, everyone},
		{"reviseDetermination", "PUT", "/v1/breaches/" + b.ID + "/determination", determination(nil), admin},
		{"listDeterminations", "GET", "/v1/breaches/" + b.ID + "/determinations", nil, everyone},
		{"getPlan", "GET", "/v1/breaches/" + b.ID + "/plan", nil, everyone},
		// The hold is open, so a second one is refused (409) for admin: the role check passed.
		{"placeHold", "POST", "/v1/breaches/" + b.ID + "/holds", map[string]any{"agency": "FBI", "start_date": "2026-03-11"}, admin},
		{"releaseHold", "POST", "/v1/breaches/" + b.ID + "/holds/" + holdID + "/release", map[string]any{"end_date": "2026-03-31"}, admin},
		{"listEvents", "GET", "/v1/breaches/" + b.ID + "/events", nil, everyone},
		{"verifyEvents", "GET", "/v1/breaches/" + b.ID + "/events/verify", nil, []breach.Role{breach.RoleAdmin, breach.RoleAuditor}},
		{"exportEvents", "GET", "/v1/breaches/" + b.ID + "/events/export", nil, []breach.Role{breach.RoleAdmin, breach.RoleAuditor}},
		{"getEvidenceBundle", "GET", "/v1/breaches/" + b.ID + "/evidence.zip", nil, []breach.Role{breach.RoleAdmin, breach.RoleAuditor}},
		{"createCheckpoint", "POST", "/v1/breaches/" + b.ID + "/events/checkpoints", nil, []breach.Role{breach.RoleAdmin, breach.RoleAuditor}},
		{"getSigningKey", "GET", "/v1/signing-key", nil, nil},
		{"getNoticeProof", "GET", "/v1/notices/" + noNotice + "/proof", nil, []breach.Role{breach.RoleAdmin, breach.RoleAuditor}},
		{"getNoticeProofPDF", "GET", "/v1/notices/" + noNotice + "/proof.pdf", nil, []breach.Role{breach.RoleAdmin, breach.RoleAuditor}},
		{"uploadRecipients", "POST", "/v1/breaches/" + b.ID + "/recipients", "external_id,last_name\nX-2,Ng\n", admin},
		{"listRecipients", "GET", "/v1/breaches/" + b.ID + "/recipients", nil, everyone},
		{"getRecipient", "GET", "/v1/breaches/" + b.ID + "/recipients/" + rid, nil, everyone},
		// The hold is open, so dispatch is refused (409) for admin: the role check passed. The notice,
		// batch and task IDs below exist nowhere: an allowed role gets 404, never 401 or 403.
		{"dispatchBreach", "POST", "/v1/breaches/" + b.ID + "/dispatch", nil, admin},
		{"listNotices", "GET", "/v1/breaches/" + b.ID + "/notices", nil, everyone},
		{"getDeliveryStatus", "GET", "/v1/breaches/" + b.ID + "/status", nil, everyone},
		{"exportNotices", "GET", "/v1/breaches/" + b.ID + "/notices.csv", nil, []breach.Role{breach.RoleAdmin, breach.RoleAuditor}},
		{"getNotice", "GET", "/v1/notices/" + noNotice, nil, everyone},
		{"getLetterPDF", "GET", "/v1/notices/" + noNotice + "/letter.pdf", nil, everyone},
		{"recordBounce", "POST", "/v1/notices/" + noNotice + "/bounced", map[string]any{"reason": "550"}, clerks},
		{"recordReturnedMail", "POST", "/v1/notices/" + noNotice + "/returned", map[string]any{"returned_on": "2026-03-30"}, clerks},
		{"listCallTasks", "GET", "/v1/call-tasks?breach_id=" + b.ID, nil, clerks},
		{"completeRecipients", "POST", "/v1/breaches/" + b.ID + "/recipients/complete", nil, admin},
		{"recordEnglishFallback", "POST", "/v1/breaches/" + b.ID + "/languages/vi/english-fallback", map[string]any{"reason": "no translator"}, admin},
		{"recordCallAttempt", "POST", "/v1/call-tasks/" + noNotice + "/attempts", map[string]any{"outcome": "voicemail"}, clerks},
		{"listPrintBatches", "GET", "/v1/breaches/" + b.ID + "/print-batches", nil, everyone},
		{"createPrintBatch", "POST", "/v1/breaches/" + b.ID + "/print-batches", nil, clerks},
		{"getPrintBatchPDF", "GET", "/v1/breaches/" + b.ID + "/print-batches/" + noBatch + ".pdf", nil, everyone},
		{"getPrintBatchManifest", "GET", "/v1/breaches/" + b.ID + "/print-batches/" + noBatch + ".csv", nil, everyone},
		{"markPrintBatchMailed", "POST", "/v1/breaches/" + b.ID + "/print-batches/" + noBatch + "/mailed", map[string]any{"mailed_on": "2026-03-19"}, clerks},
		{"listDeadLetters", "GET", "/v1/dead-letters", nil, admin},
		{"retryDeadLetter", "POST", "/v1/dead-letters/no-such-task/retry", nil, admin},
		{"listUnmatchedBounces", "GET", "/v1/bounces/unmatched", nil, []breach.Role{breach.RoleAdmin, breach.RoleAuditor}},
		{"twilioStatusCallback", "POST", "/v1/webhooks/twilio?notice=" + noNotice, "CallSid=CA1", nil},
		// The hold was released above: these admin writes go through; the close is refused (409), as
		// obligations are open.
		{"getSubstituteNotice", "GET", "/v1/breaches/" + b.ID + "/substitute-notice", nil, everyone},
		{"getWebsiteNoticeHTML", "GET", "/v1/breaches/" + b.ID + "/substitute-notice/website.html", nil, everyone},
		{"getWebsiteNoticeText", "GET", "/v1/breaches/" + b.ID + "/substitute-notice/website.txt", nil, everyone},
		{"getMediaNotice", "GET", "/v1/breaches/" + b.ID + "/substitute-notice/media.pdf", nil, everyone},
		{"recordWebsitePosted", "POST", "/v1/breaches/" + b.ID + "/substitute-notice/website/posted", map[string]any{}, admin},
		{"recordWebsiteTakenDown", "POST", "/v1/breaches/" + b.ID + "/substitute-notice/website/taken-down", nil, admin},
		{"setMediaOutlets", "PUT", "/v1/breaches/" + b.ID + "/substitute-notice/outlets", map[string]any{"outlets": []any{}}, admin},
		{"listAgencyNotices", "GET", "/v1/breaches/" + b.ID + "/agency-notices", nil, everyone},
		{"getAgencyLetter", "GET", "/v1/breaches/" + b.ID + "/agency-notices/equifax/letter.pdf", nil, everyone},
		{"recordAgencyNoticeSent", "POST", "/v1/breaches/" + b.ID + "/agency-notices/equifax/sent", map[string]any{"sent_on": "2026-03-19"}, admin},
		{"listObligations", "GET", "/v1/breaches/" + b.ID + "/obligations", nil, everyone},
		{"recordObligation", "POST", "/v1/breaches/" + b.ID + "/obligations/agency.office_of_technology/records", map[string]any{"status": "waived", "reason": "tabletop"}, admin},
		{"listDueObligations", "GET", "/v1/obligations?status=open", nil, everyone},
		{"closeBreach", "POST", "/v1/breaches/" + b.ID + "/close", map[string]any{"summary": "done"}, admin},
		{"getClosureReport", "GET", "/v1/breaches/" + b.ID + "/closure-report.pdf", nil, everyone},
		{"purgeBreach", "POST", "/v1/breaches/" + b.ID + "/purge", nil, admin},
	}

	// Every operation in the contract must be in the table.
	doc, err := api.LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	var inSpec, inTable []string
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			inSpec = append(inSpec, op.OperationID)
		}
	}
	for _, c := range cases {
		inTable = append(inTable, c.op)
	}
	sort.Strings(inSpec)
	sort.Strings(inTable)
	if !slices.Equal(inSpec, inTable) {
		t.Fatalf("operations in openapi.yaml %v\n  differ from those tested %v", inSpec, inTable)
	}

	for _, c := range cases {
		for _, role := range []breach.Role{breach.RoleAdmin, breach.RoleClerk, breach.RoleAuditor, noKey, badKey} {
			t.Run(c.op+"/"+string(role), func(t *testing.T) {
				contentType := "application/json"
				switch c.op {
				case "uploadRecipients":
					contentType = "text/csv"
				case "twilioStatusCallback":
					contentType = "application/x-www-form-urlencoded"
				}
				r := e.doContentType(c.method, c.path, role, c.body, contentType)
				switch {
				case c.allowed == nil:
					// Public: no key needed, whatever key is sent. The webhook answers 404 here
					// (Twilio is not configured); the others 200.
					want := http.StatusOK
					if c.op == "twilioStatusCallback" {
						want = http.StatusNotFound
					}
					if r.Status != want {
						t.Fatalf("public route: %d, want %d: %s", r.Status, want, r.Body)
					}
				case role == noKey || role == badKey:
					if r.Status != http.StatusUnauthorized {
						t.Fatalf("status %d, want 401: %s", r.Status, r.Body)
					}
					if p := r.problem(t); p.Code != "unauthorized" {
						t.Fatalf("code %s", p.Code)
					}
				case !slices.Contains(c.allowed, role):
					if r.Status != http.StatusForbidden {
						t.Fatalf("status %d, want 403: %s", r.Status, r.Body)
					}
					mustContainAll(t, r.problem(t).Detail, string(role), c.op)
				default:
					if r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden || r.Status >= 500 {
						t.Fatalf("allowed role got %d: %s", r.Status, r.Body)
					}
				}
			})
		}
	}
	// A refused write changed nothing: only the admin's create, hold and revise are recorded.
	var events api.EventList
	e.do("GET", "/v1/breaches/"+b.ID+"/events", breach.RoleAuditor, nil).json(t, &events)
	var types []string
	for _, ev := range events.Items {
		types = append(types, string(ev.Type))
		if ev.Role != breach.RoleAdmin {
			t.Errorf("event %s recorded for role %s", ev.Type, ev.Role)
		}
	}
	want := []string{"breach.created", "hold.placed", "upload.started", "recipients.uploaded", "determination.revised", "hold.released", "upload.started", "recipients.uploaded",
		"recipients.completed", "language.english_fallback", "substitute.website_posted", "substitute.website_taken_down", "substitute.media_outlets", "agency_notice.sent", "obligation.recorded"}
	if !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
}

// TestAssessmentWorkedExamples runs LAW.md §2's worked dates through the API.
func TestAssessmentWorkedExamples(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name         string
		holds        []map[string]any
		asOf         string
		wantDeadline string // "" = null
		wantHeld     bool
		wantDays     *int
		wantOverdue  bool
	}{
		{"no hold: day 45", nil, "2026-03-20", "2026-04-17", false, intp(28), false},
		{"deadline day itself: 0 days, not overdue", nil, "2026-04-17", "2026-04-17", false, intp(0), false},
		{"day 46 is overdue", nil, "2026-04-18", "2026-04-17", false, intp(-1), true},
		{"hold released before day 45 keeps the deadline",
			[]map[string]any{{"agency": "IMPD", "start_date": "2026-03-10", "end_date": "2026-03-31"}}, "2026-04-01", "2026-04-17", false, intp(16), false},
		{"hold covering day 45 makes notice due on release",
			[]map[string]any{{"agency": "IMPD", "start_date": "2026-03-10", "end_date": "2026-05-12"}}, "2026-05-12", "2026-05-12", false, intp(0), false},
		{"open hold covering day 45: no deadline, held",
			[]map[string]any{{"agency": "IMPD", "start_date": "2026-03-10"}}, "2026-04-20", "", true, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := map[string]any{"determination": determination(nil), "as_of": c.asOf}
			if c.holds != nil {
				body["holds"] = c.holds
			}
			r := e.do("POST", "/v1/assessments", breach.RoleClerk, body)
			if r.Status != http.StatusOK {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			var p breach.Plan
			r.json(t, &p)
			if got := dateString(p.Deadline); got != c.wantDeadline {
				t.Errorf("deadline %q, want %q", got, c.wantDeadline)
			}
			if p.Held != c.wantHeld || p.Overdue != c.wantOverdue {
				t.Errorf("held %v overdue %v, want %v %v", p.Held, p.Overdue, c.wantHeld, c.wantOverdue)
			}
			if (p.DaysRemaining == nil) != (c.wantDays == nil) || (p.DaysRemaining != nil && *p.DaysRemaining != *c.wantDays) {
				t.Errorf("days_remaining %v, want %v", ptrString(p.DaysRemaining), ptrString(c.wantDays))
			}
			if !p.NotificationRequired || !p.SubstituteNotice.Required || !p.ConsumerReportingAgencies.Required {
				t.Errorf("1,200 affected with SSNs: want notice, substitute notice and CRA notice; got %+v", p)
			}
			if len(p.Reasons) == 0 || p.RulePack.ID != "in-school-guideline" {
				t.Errorf("plan without reasons or rule pack: %+v", p)
			}
		})
	}
	// Nothing was stored by any assessment.
	var list api.BreachList
	e.do("GET", "/v1/breaches", breach.RoleAuditor, nil).json(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("assessments stored %d breaches", len(list.Items))
	}
}

// TestAssessmentDefaultsToToday uses the determination's zone: at 02:00 UTC it is still the
// previous day in Indianapolis.
func TestAssessmentDefaultsToToday(t *testing.T) {
	e := newEnv(t)
	e.setNow(time.Date(2026, 4, 18, 2, 0, 0, 0, time.UTC)) // 22:00 on April 17 in Indianapolis
	var p breach.Plan
	r := e.do("POST", "/v1/assessments", breach.RoleAuditor, map[string]any{"determination": determination(nil)})
	r.json(t, &p)
	if p.AsOf.String() != "2026-04-17" || p.Overdue || *p.DaysRemaining != 0 {
		t.Fatalf("as_of %s overdue %v days %v; want 2026-04-17, not overdue, 0", p.AsOf, p.Overdue, ptrString(p.DaysRemaining))
	}
	r = e.do("POST", "/v1/assessments", breach.RoleAuditor, map[string]any{"determination": determination(map[string]any{"time_zone": "UTC"})})
	r.json(t, &p)
	if p.AsOf.String() != "2026-04-18" || !p.Overdue {
		t.Fatalf("in UTC: as_of %s overdue %v; want 2026-04-18 and overdue", p.AsOf, p.Overdue)
	}
}

// TestInvalidInput: every bad input is a 4xx naming each invalid field; never a 500.
func TestInvalidInput(t *testing.T) {
	e := newEnv(t)
	assess := func(d map[string]any, extra map[string]any) map[string]any {
		b := map[string]any{"determination": d}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	cases := []struct {
		name   string
		body   any
		status int
		fields []string // the exact set of invalid fields reported (422 only)
	}{
		{"malformed JSON", `{"determination": {`, 400, nil},
		{"not JSON at all", `hello`, 400, nil},
		{"empty body", ``, 400, nil},
		{"two JSON values", `{"determination": {}} {}`, 400, nil},
		{"unknown top-level field", assess(determination(nil), map[string]any{"dry_run": true}), 422, []string{"dry_run"}},
		{"unknown determination field", assess(determination(map[string]any{"affected": 3}), nil), 422, []string{"determination.affected"}},
		{"wrong type", assess(determination(map[string]any{"encrypted": "no"}), nil), 422, []string{"determination.encrypted"}},
		{"money as a JSON number", assess(determination(map[string]any{"notice_cost_estimate": 250000.01}), nil), 422, []string{"determination.notice_cost_estimate"}},
		{"money with three decimals", assess(determination(map[string]any{"notice_cost_estimate": "1.005"}), nil), 422, []string{"determination.notice_cost_estimate"}},
		{"impossible date", assess(determination(map[string]any{"discovered_on": "2025-02-30", "occurred_on": nil}), nil), 422, []string{"determination.discovered_on"}},
		{"not a date", assess(determination(map[string]any{"occurred_on": "03/01/2026"}), nil), 422, []string{"determination.occurred_on"}},
		{"discovery after as_of", assess(determination(nil), map[string]any{"as_of": "2026-03-02"}), 422, []string{"as_of"}},
		{"occurred after discovered", assess(determination(map[string]any{"occurred_on": "2026-03-04"}), nil), 422, []string{"determination.occurred_on"}},
		{"residents more than affected", assess(determination(map[string]any{"indiana_residents": 1201}), nil), 422, []string{"determination.indiana_residents"}},
		{"negative count", assess(determination(map[string]any{"affected_count": -1}), nil), 422, []string{"determination.affected_count"}},
		{"unknown enum value", assess(determination(map[string]any{"risk_of_harm": "maybe"}), nil), 422, []string{"determination.risk_of_harm"}},
		{"unknown data element", assess(determination(map[string]any{"data_elements": []string{"ssn", "passport"}}), nil), 422, []string{"determination.data_elements[1]"}},
		{"missing required fields", assess(map[string]any{"description": "x"}, nil), 422,
			[]string{"determination.title", "determination.discovered_on", "determination.data_elements", "determination.affected_count"}},
		{"unknown jurisdiction", assess(determination(map[string]any{"jurisdiction": "ZZ"}), nil), 422, []string{"determination.jurisdiction"}},
		{"unknown time zone", assess(determination(map[string]any{"time_zone": "Mars/Olympus"}), nil), 422, []string{"determination.time_zone"}},
		{"hold ends before it starts", assess(determination(nil), map[string]any{"holds": []map[string]any{{"agency": "FBI", "start_date": "2026-03-10", "end_date": "2026-03-09"}}}), 422, []string{"holds[0].end_date"}},
		{"hold before discovery", assess(determination(nil), map[string]any{"holds": []map[string]any{{"agency": "FBI", "start_date": "2026-03-01"}}}), 422, []string{"holds[0].start_date"}},
		{"every invalid field at once", assess(determination(map[string]any{
			"notice_cost_estimate": 12.5, "risk_of_harm": "maybe", "affected_count": -3, "colour": "red",
		}), nil), 422, []string{"determination.notice_cost_estimate", "determination.risk_of_harm", "determination.affected_count", "determination.colour"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v1/assessments", breach.RoleAdmin, c.body)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
			}
			got := r.fields(t)
			if c.status != 422 {
				return
			}
			var names []string
			for f, reason := range got {
				names = append(names, f)
				if reason == "" {
					t.Errorf("field %s has no reason", f)
				}
			}
			sort.Strings(names)
			want := slices.Clone(c.fields)
			sort.Strings(want)
			if !slices.Equal(names, want) {
				t.Fatalf("invalid fields %v, want %v (%s)", names, want, r.Body)
			}
		})
	}

	t.Run("reasons say why", func(t *testing.T) {
		r := e.do("POST", "/v1/assessments", breach.RoleAdmin, assess(determination(map[string]any{
			"notice_cost_estimate": 250000.01, "discovered_on": "2025-02-30", "occurred_on": nil}), nil))
		f := r.fields(t)
		mustContainAll(t, f["determination.notice_cost_estimate"], "decimal string", "not a number")
		mustContainAll(t, f["determination.discovered_on"], "2025-02-30", "not a calendar date")
	})
	t.Run("body over 1 MiB", func(t *testing.T) {
		big := `{"determination": {"title": "` + strings.Repeat("a", 1<<20) + `"}}`
		r := e.do("POST", "/v1/assessments", breach.RoleAdmin, big)
		if r.Status != http.StatusRequestEntityTooLarge || r.problem(t).Code != "too_large" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("not JSON content type", func(t *testing.T) {
		r := e.doContentType("POST", "/v1/assessments", breach.RoleAdmin, "title=x", "application/x-www-form-urlencoded")
		if r.Status != http.StatusUnsupportedMediaType {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("bad query parameters", func(t *testing.T) {
		r := e.do("GET", "/v1/breaches?limit=0&status=lost", breach.RoleAuditor, nil)
		if r.Status != 422 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		f := r.fields(t)
		if _, ok := f["limit"]; !ok {
			t.Errorf("limit not named: %v", f)
		}
		if _, ok := f["status"]; !ok {
			t.Errorf("status not named: %v", f)
		}
	})
	t.Run("malformed breach id", func(t *testing.T) {
		r := e.do("GET", "/v1/breaches/not-an-id", breach.RoleAuditor, nil)
		if f := r.fields(t); r.Status != 422 || f["id"] == "" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("unknown breach", func(t *testing.T) {
		r := e.do("GET", "/v1/breaches/br_01JQ6Z8Y3T9V5K2M4N7P0R1S2T", breach.RoleAuditor, nil)
		if r.Status != 404 || r.problem(t).Code != "not_found" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("unknown route and method", func(t *testing.T) {
		if r := e.do("GET", "/v1/nothing-here", breach.RoleAdmin, nil); r.Status != 404 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if r := e.do("DELETE", "/v1/breaches", breach.RoleAdmin, nil); r.Status != 405 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	if strings.Contains(e.logs.String(), `"status":500`) {
		t.Fatalf("a bad input caused a 500:\n%s", e.logs.String())
	}
}

// TestBreachLifecycle: create, read, revise, hold, release, and the audit trail of it all.
func TestBreachLifecycle(t *testing.T) {
	e := newEnv(t)
	b := createBreach(t, e, nil)
	if b.Status != breach.StatusOpen || b.DeterminationVersion != 1 || b.CreatedBy != "admin-"+fingerprint(testKeys[breach.RoleAdmin]) {
		t.Fatalf("created: %+v", b.Breach)
	}
	if b.Plan.Deadline.String() != "2026-04-17" || *b.Plan.DaysRemaining != 28 || !b.Plan.Approvable {
		t.Fatalf("plan as of 2026-03-20: %+v", b.Plan)
	}

	// Read it back as a clerk.
	var got api.BreachView
	e.do("GET", "/v1/breaches/"+b.ID, breach.RoleClerk, nil).json(t, &got)
	if got.Determination.Title != b.Determination.Title || got.Determination.AffectedCount != 1200 {
		t.Fatalf("read back: %+v", got.Determination)
	}

	// The plan as of another day.
	var plan breach.Plan
	e.do("GET", "/v1/breaches/"+b.ID+"/plan?as_of=2026-04-20", breach.RoleAuditor, nil).json(t, &plan)
	if !plan.Overdue || *plan.DaysRemaining != -3 {
		t.Fatalf("plan as of 2026-04-20: overdue %v days %v", plan.Overdue, ptrString(plan.DaysRemaining))
	}
	if r := e.do("GET", "/v1/breaches/"+b.ID+"/plan?as_of=2026-03-02", breach.RoleAuditor, nil); r.Status != 422 || r.fields(t)["as_of"] == "" {
		t.Fatalf("as_of before discovery: %d %s", r.Status, r.Body)
	}
	if r := e.do("GET", "/v1/breaches/"+b.ID+"/plan?as_of=2026-02-30", breach.RoleAuditor, nil); r.Status != 422 || r.fields(t)["as_of"] == "" {
		t.Fatalf("impossible as_of: %d %s", r.Status, r.Body)
	}

	// Revise: discovered a day later, 400 people. Version 2; the old version kept.
	e.setNow(time.Date(2026, 3, 21, 14, 0, 0, 0, time.UTC))
	r := e.do("PUT", "/v1/breaches/"+b.ID+"/determination", breach.RoleAdmin,
		determination(map[string]any{"discovered_on": "2026-03-04", "affected_count": 400, "indiana_residents": 380}))
	if r.Status != 200 {
		t.Fatalf("revise: %d %s", r.Status, r.Body)
	}
	var revised api.BreachView
	r.json(t, &revised)
	if revised.DeterminationVersion != 2 || revised.Plan.Deadline.String() != "2026-04-18" || revised.Plan.SubstituteNotice.Required {
		t.Fatalf("revised: version %d deadline %s substitute %v", revised.DeterminationVersion, revised.Plan.Deadline, revised.Plan.SubstituteNotice.Required)
	}
	var versions api.DeterminationVersionList
	e.do("GET", "/v1/breaches/"+b.ID+"/determinations", breach.RoleAuditor, nil).json(t, &versions)
	if len(versions.Items) != 2 || versions.Items[0].Version != 1 || versions.Items[0].Determination.AffectedCount != 1200 ||
		versions.Items[1].Version != 2 || versions.Items[1].Determination.AffectedCount != 400 {
		t.Fatalf("versions: %+v", versions.Items)
	}

	// Hold, then a second hold is refused while the first is open.
	r = e.do("POST", "/v1/breaches/"+b.ID+"/holds", breach.RoleAdmin, map[string]any{
		"agency": "Indiana State Police", "contact": "Det. R. Alvarez", "reason": "active investigation",
		"in_writing": true, "start_date": "2026-03-10"})
	if r.Status != http.StatusCreated {
		t.Fatalf("hold: %d %s", r.Status, r.Body)
	}
	var held api.BreachView
	r.json(t, &held)
	if held.Status != breach.StatusHeld || !held.Plan.Held || held.Plan.Approvable || len(held.Holds) != 1 || !held.Holds[0].InWriting {
		t.Fatalf("held: status %s plan.held %v approvable %v holds %+v", held.Status, held.Plan.Held, held.Plan.Approvable, held.Holds)
	}
	holdID := held.Holds[0].ID
	if r := e.do("POST", "/v1/breaches/"+b.ID+"/holds", breach.RoleAdmin, map[string]any{"agency": "FBI", "start_date": "2026-03-12"}); r.Status != 409 {
		t.Fatalf("second hold: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", "/v1/breaches/"+b.ID+"/holds", breach.RoleAdmin, map[string]any{"agency": "FBI"}); r.Status != 422 || r.fields(t)["start_date"] == "" {
		t.Fatalf("hold without start: %d %s", r.Status, r.Body)
	}

	// Revising discovery past the hold's start is refused: the hold would start before discovery.
	if r := e.do("PUT", "/v1/breaches/"+b.ID+"/determination", breach.RoleAdmin, determination(map[string]any{"discovered_on": "2026-03-11"})); r.Status != 422 || r.fields(t)["discovered_on"] == "" {
		t.Fatalf("revise past hold: %d %s", r.Status, r.Body)
	}

	// Release: an end before the start is refused; an unknown hold is 404; then released on 05-12,
	// after day 45 (04-18), so notice is due on the release date.
	if r := e.do("POST", "/v1/breaches/"+b.ID+"/holds/"+holdID+"/release", breach.RoleAdmin, map[string]any{"end_date": "2026-03-09"}); r.Status != 422 || r.fields(t)["end_date"] == "" {
		t.Fatalf("release before start: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", "/v1/breaches/"+b.ID+"/holds/hd_01JQ6Z8Y3T9V5K2M4N7P0R1S2T/release", breach.RoleAdmin, map[string]any{"end_date": "2026-03-19"}); r.Status != 404 {
		t.Fatalf("unknown hold: %d %s", r.Status, r.Body)
	}
	e.setNow(time.Date(2026, 5, 12, 16, 0, 0, 0, time.UTC))
	r = e.do("POST", "/v1/breaches/"+b.ID+"/holds/"+holdID+"/release", breach.RoleAdmin, map[string]any{"end_date": "2026-05-12"})
	if r.Status != 200 {
		t.Fatalf("release: %d %s", r.Status, r.Body)
	}
	var released api.BreachView
	r.json(t, &released)
	if released.Status != breach.StatusOpen || released.Plan.Held || released.Plan.Deadline.String() != "2026-05-12" || *released.Plan.DaysRemaining != 0 {
		t.Fatalf("released: status %s held %v deadline %s days %v", released.Status, released.Plan.Held, released.Plan.Deadline, ptrString(released.Plan.DaysRemaining))
	}
	if r := e.do("POST", "/v1/breaches/"+b.ID+"/holds/"+holdID+"/release", breach.RoleAdmin, map[string]any{"end_date": "2026-05-12"}); r.Status != 409 {
		t.Fatalf("release twice: %d %s", r.Status, r.Body)
	}

	// The audit trail: who, which role, what, in order; paged two at a time.
	var all []breach.Event
	cursor := ""
	for page := 0; ; page++ {
		path := "/v1/breaches/" + b.ID + "/events?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var list api.EventList
		e.do("GET", path, breach.RoleAuditor, nil).json(t, &list)
		all = append(all, list.Items...)
		if list.NextCursor == nil {
			break
		}
		cursor = *list.NextCursor
		if page > 10 {
			t.Fatal("events never end")
		}
	}
	var types []string
	for _, ev := range all {
		types = append(types, string(ev.Type))
		if ev.Actor != b.CreatedBy || ev.Role != breach.RoleAdmin || ev.At.IsZero() || ev.Summary == "" || ev.ID == "" {
			t.Errorf("event %+v lacks who/role/when/what", ev)
		}
	}
	want := []string{"breach.created", "determination.revised", "hold.placed", "hold.released"}
	if !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	if changed := fmt.Sprint(all[1].Data["changed_fields"]); !strings.Contains(changed, "discovered_on") || !strings.Contains(changed, "affected_count") || strings.Contains(changed, "title") {
		t.Errorf("revision event names changed fields %s", changed)
	}
	if !all[3].At.Equal(time.Date(2026, 5, 12, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("release recorded at %s", all[3].At)
	}

	// Listing with a status filter.
	var list api.BreachList
	e.do("GET", "/v1/breaches?status=held", breach.RoleClerk, nil).json(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("held breaches after release: %+v", list.Items)
	}
	e.do("GET", "/v1/breaches?status=open", breach.RoleClerk, nil).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].Id != b.ID || list.Items[0].DeterminationVersion != 2 {
		t.Fatalf("open breaches: %+v", list.Items)
	}
}

// TestListBreachesPaginates pages newest first with a cursor.
func TestListBreachesPaginates(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, createBreach(t, e, map[string]any{"title": fmt.Sprintf("breach %d", i)}).ID)
	}
	slices.Reverse(ids)
	var seen []string
	cursor := ""
	for range 5 {
		path := "/v1/breaches?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var list api.BreachList
		e.do("GET", path, breach.RoleAuditor, nil).json(t, &list)
		for _, it := range list.Items {
			seen = append(seen, it.Id)
		}
		if list.NextCursor == nil {
			break
		}
		cursor = *list.NextCursor
	}
	if !slices.Equal(seen, ids) {
		t.Fatalf("paged %v, want newest first %v", seen, ids)
	}
	if r := e.do("GET", "/v1/breaches?cursor=%7Bnot-a-cursor", breach.RoleAuditor, nil); r.Status != 422 || r.fields(t)["cursor"] == "" {
		t.Fatalf("bad cursor: %d %s", r.Status, r.Body)
	}
}

// TestAnonymousReporter: a reporter who asked for anonymity is known to admins only.
func TestAnonymousReporter(t *testing.T) {
	e := newEnv(t)
	b := createBreach(t, e, map[string]any{"reporter": map[string]any{"name": "Pat Informant", "email": "pat@example.org", "anonymous": true}})
	for _, role := range []breach.Role{breach.RoleAdmin, breach.RoleClerk, breach.RoleAuditor} {
		for _, path := range []string{"/v1/breaches/" + b.ID, "/v1/breaches/" + b.ID + "/determinations"} {
			r := e.do("GET", path, role, nil)
			shown := strings.Contains(string(r.Body), "Pat Informant") || strings.Contains(string(r.Body), "pat@example.org")
			if shown != (role == breach.RoleAdmin) {
				t.Errorf("%s %s: identity shown = %v", role, path, shown)
			}
			if !strings.Contains(string(r.Body), `"anonymous":true`) {
				t.Errorf("%s %s: anonymity not stated", role, path)
			}
		}
	}
}

// TestLogsCarryNoSecretsOrPII: request logs name routes and roles, never keys or personal data.
func TestLogsCarryNoSecretsOrPII(t *testing.T) {
	e := newEnv(t)
	b := createBreach(t, e, nil)
	e.do("GET", "/v1/breaches/"+b.ID, breach.RoleClerk, nil)
	e.do("POST", "/v1/breaches", breach.RoleAuditor, map[string]any{"determination": determination(nil)})
	e.do("GET", "/v1/breaches", badKey, nil)
	logs := e.logs.String()
	mustContainAll(t, logs, `"route":"/v1/breaches/:id"`, `"role":"clerk"`, `"status":403`)
	for _, secret := range []string{testKeys[breach.RoleAdmin], testKeys[breach.RoleClerk], testKeys[breach.RoleAuditor],
		"not-a-key-of-this-service", "Dana Whitfield", "dana.whitfield@example.org", "payroll export", b.ID} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}

func TestOperationsEndpoints(t *testing.T) {
	e := newEnv(t)
	if r := e.do("GET", "/healthz", noKey, nil); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	if r := e.do("GET", "/readyz", noKey, nil); r.Status != 200 {
		t.Fatalf("readyz %d %s", r.Status, r.Body)
	}
	e.do("GET", "/v1/breaches", breach.RoleAuditor, nil)
	r := e.do("GET", "/metrics", noKey, nil)
	mustContainAll(t, string(r.Body), `breachd_http_requests_total{method="GET",route="/v1/breaches",status="200"} 1`, "go_goroutines")
	r = e.do("GET", "/openapi.yaml", noKey, nil)
	if string(r.Body) != string(breach.OpenAPI) {
		t.Fatal("/openapi.yaml is not the embedded contract")
	}

	down := newEnv(t, func(c *api.Config) {
		c.Ready = func(context.Context) error { return errors.New("dial tcp: connection refused") }
	})
	r = down.do("GET", "/readyz", noKey, nil)
	if r.Status != 503 || r.problem(t).Code != "unavailable" {
		t.Fatalf("readyz with Redis down: %d %s", r.Status, r.Body)
	}
}

// TestStoreDownIs503: a store that cannot be reached is a 503 naming no internals.
func TestStoreDownIs503(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.Store = downStore{} })
	r := e.do("GET", "/v1/breaches", breach.RoleAuditor, nil)
	if r.Status != 503 || r.problem(t).Code != "unavailable" {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	r = e.do("POST", "/v1/breaches", breach.RoleAdmin, map[string]any{"determination": determination(nil)})
	if r.Status != 503 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}

type downStore struct{ breach.BreachStore }

func (downStore) Breaches(context.Context, breach.BreachFilter) ([]*breach.Breach, string, error) {
	return nil, "", &breach.Error{Code: breach.EUNAVAILABLE, Message: "the store cannot be reached"}
}

func (downStore) CreateBreach(context.Context, *breach.Breach, breach.Event) error {
	return &breach.Error{Code: breach.EUNAVAILABLE, Message: "the store cannot be reached"}
}

func intp(i int) *int { return &i }

func ptrString(p *int) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func dateString(d breach.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

func fingerprint(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:4])
}
