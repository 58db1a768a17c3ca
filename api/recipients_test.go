package api_test

import (
	"fmt"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
	"github.com/breachd/breachd/rules"
)

// TestUploadRecipients sends the sample export (every case real exports contain) through the API.
func TestUploadRecipients(t *testing.T) {
	e := newEnv(t)
	b := createBreach(t, e, nil) // discovered 2026-03-03; estimate 1,200 affected
	sample, err := os.ReadFile("testdata/recipients-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	upload := func() breach.UploadReport {
		t.Helper()
		r := e.doContentType("POST", "/v1/breaches/"+b.ID+"/recipients", breach.RoleAdmin, sample, "text/csv; charset=utf-8")
		if r.Status != http.StatusOK {
			t.Fatalf("upload: %d %s", r.Status, r.Body)
		}
		var rep breach.UploadReport
		r.json(t, &rep)
		return rep
	}

	rep := upload()
	if rep.Rows != 14 || rep.Accepted != 10 {
		t.Fatalf("rows %d accepted %d, want 14 and 10", rep.Rows, rep.Accepted)
	}
	if len(rep.Duplicates) != 1 || rep.Duplicates[0].Row != 12 || rep.Duplicates[0].ExternalID != "S-1003" {
		t.Fatalf("duplicates %+v, want row 12 (S-1003)", rep.Duplicates)
	}
	var rejected []string
	for _, p := range rep.Rejected {
		rejected = append(rejected, fmt.Sprintf("%d:%s:%s", p.Row, p.ExternalID, p.Field))
	}
	if want := []string{"9:E-2004:email", "10:E-2005:date_of_birth", "14:E-2007:state"}; !slices.Equal(rejected, want) {
		t.Fatalf("rejected %v, want %v", rejected, want)
	}
	// 10 people; 8 with an Indiana address (not Zoë in Chicago, not Emma with no address); Emma
	// cannot be reached; 6 minors on 2026-03-03 (Aiden turns 18 on 2026-03-15).
	want := breach.RecipientCounts{Affected: 10, IndianaResidents: 8, InsufficientContact: 1, Minors: 6,
		Languages: map[string]int{"en": 6, "es": 2, "vi": 2}}
	if !reflect.DeepEqual(rep.Counts, want) {
		t.Fatalf("counts %+v, want %+v", rep.Counts, want)
	}

	// Emma is a minor with no guardian of record: stored, and warned about. (Aiden is 18 on the
	// upload date, 2026-03-20; the other minors have a guardian.)
	if len(rep.Warnings) != 1 || rep.Warnings[0].Row != 8 || rep.Warnings[0].ExternalID != "S-1005" || rep.Warnings[0].Field != "guardian_name" {
		t.Fatalf("warnings %+v, want row 8 (S-1005) on guardian_name", rep.Warnings)
	}

	// Uploading the same file again adds nothing, and warns about nothing it did not add.
	again := upload()
	if again.Accepted != 0 || len(again.Duplicates) != 11 || !reflect.DeepEqual(again.Counts, want) || len(again.Warnings) != 0 {
		t.Fatalf("second upload: accepted %d duplicates %d warnings %d counts %+v", again.Accepted, len(again.Duplicates),
			len(again.Warnings), again.Counts)
	}

	// Until the list is declared complete the estimate (1,200) governs: a partial upload switches
	// no duty off.
	var v api.BreachView
	e.do("GET", "/v1/breaches/"+b.ID, breach.RoleClerk, nil).json(t, &v)
	if !reflect.DeepEqual(v.RecipientCounts, want) {
		t.Fatalf("breach counts %+v", v.RecipientCounts)
	}
	if v.Plan.Reasons[0].Code != rules.CodeEstimateGoverns || !slices.Contains(v.Plan.SubstituteNotice.Triggers, breach.TriggerAffectedOver500) {
		t.Fatalf("before completion: first reason %s, substitute %+v", v.Plan.Reasons[0].Code, v.Plan.SubstituteNotice)
	}
	// An auditor or clerk may not declare it complete; an admin may, once.
	for _, role := range []breach.Role{breach.RoleClerk, breach.RoleAuditor} {
		if r := e.do("POST", "/v1/breaches/"+b.ID+"/recipients/complete", role, nil); r.Status != http.StatusForbidden {
			t.Fatalf("%s completing: %d %s", role, r.Status, r.Body)
		}
	}
	r := e.do("POST", "/v1/breaches/"+b.ID+"/recipients/complete", breach.RoleAdmin, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	r.json(t, &v)
	if v.RecipientsComplete == nil || v.RecipientsComplete.Recipients != 10 {
		t.Fatalf("recipients_complete %+v", v.RecipientsComplete)
	}
	if r := e.do("POST", "/v1/breaches/"+b.ID+"/recipients/complete", breach.RoleAdmin, nil); r.Status != http.StatusConflict {
		t.Fatalf("completing twice: %d %s", r.Status, r.Body)
	}

	// The plan now counts the people uploaded, and says how they differ from the estimate.
	e.do("GET", "/v1/breaches/"+b.ID, breach.RoleClerk, nil).json(t, &v)
	var codes []string
	for _, r := range v.Plan.Reasons {
		codes = append(codes, r.Code)
	}
	for _, c := range []string{rules.CodeCountsFromUpload, rules.CodeAffectedCountDiffers, rules.CodeUploadInsufficientContact} {
		if !slices.Contains(codes, c) {
			t.Errorf("plan reasons %v lack %s", codes, c)
		}
	}
	if v.Plan.SubstituteNotice.Required != true || !slices.Equal(v.Plan.SubstituteNotice.Triggers, []breach.SubstituteTrigger{breach.TriggerInsufficientContact}) {
		t.Errorf("10 people, one unreachable: substitute %+v", v.Plan.SubstituteNotice)
	}
	if v.Plan.ConsumerReportingAgencies.Required {
		t.Error("8 residents triggered the consumer reporting agencies")
	}

	// Listing and filters.
	list := func(query string) []string {
		t.Helper()
		var l api.RecipientList
		r := e.do("GET", "/v1/breaches/"+b.ID+"/recipients"+query, breach.RoleClerk, nil)
		if r.Status != 200 {
			t.Fatalf("list %s: %d %s", query, r.Status, r.Body)
		}
		r.json(t, &l)
		var ids []string
		for _, it := range l.Items {
			ids = append(ids, it.ExternalID)
		}
		return ids
	}
	if got := list(""); len(got) != 10 || got[0] != "S-1001" || got[9] != "E-2006" {
		t.Fatalf("all: %v", got)
	}
	if got := list("?has_contact=false"); !slices.Equal(got, []string{"S-1005"}) {
		t.Fatalf("unreachable: %v", got)
	}
	if got := list("?indiana_resident=false"); !slices.Equal(got, []string{"E-2002", "S-1005"}) {
		t.Fatalf("out of state: %v", got)
	}
	var page api.RecipientList
	e.do("GET", "/v1/breaches/"+b.ID+"/recipients?limit=3", breach.RoleAuditor, nil).json(t, &page)
	if len(page.Items) != 3 || page.NextCursor == nil {
		t.Fatalf("first page: %d items, cursor %v", len(page.Items), page.NextCursor)
	}
	hong := page.Items[0]
	var got breach.Recipient
	e.do("GET", "/v1/breaches/"+b.ID+"/recipients/"+hong.ID, breach.RoleAuditor, nil).json(t, &got)
	if got.FirstName != "Hồng" || got.Guardian.Name != "Nguyễn Văn Minh" || got.Language != "vi" || got.Row != 1 {
		t.Fatalf("recipient: %+v", got)
	}
	if r := e.do("GET", "/v1/breaches/"+b.ID+"/recipients/rc_01JQ6Z8Y3T9V5K2M4N7P0R1S2T", breach.RoleAuditor, nil); r.Status != 404 {
		t.Fatalf("unknown recipient: %d", r.Status)
	}

	// The audit trail records the uploads by numbers, never names.
	var events api.EventList
	e.do("GET", "/v1/breaches/"+b.ID+"/events", breach.RoleAuditor, nil).json(t, &events)
	last := events.Items[len(events.Items)-2]
	if done := events.Items[len(events.Items)-1]; done.Type != breach.EventRecipientsCompleted || done.Data["affected"] != float64(10) {
		t.Fatalf("completion event %+v", done)
	}
	if last.Type != breach.EventRecipientsUploaded || !strings.Contains(last.Summary, "14 rows uploaded: 0 accepted, 11 duplicates, 3 rejected") {
		t.Fatalf("last event %+v", last)
	}
	if raw := fmt.Sprint(events.Items); strings.Contains(raw, "Nguyễn") || strings.Contains(raw, "S-1001") {
		t.Fatal("an event carries personal data")
	}
}

func TestUploadNDJSON(t *testing.T) {
	e := newEnv(t)
	b := createBreach(t, e, nil)
	body := `{"external_id": "E-1", "first_name": "Zoë", "last_name": "O'Brien-Ångström", "address_line1": "9 Lakeview Ct", "city": "Chicago", "state": "IL", "postal_code": "60614", "phone": "(312) 555-0190", "preferred_channel": "phone"}
{"external_id": "E-2", "last_name": "Lee", "email": "not-an-email"}
`
	r := e.doContentType("POST", "/v1/breaches/"+b.ID+"/recipients", breach.RoleAdmin, body, "application/x-ndjson")
	var rep breach.UploadReport
	r.json(t, &rep)
	if r.Status != 200 || rep.Accepted != 1 || len(rep.Rejected) != 1 || rep.Rejected[0].Field != "email" || rep.Counts.IndianaResidents != 0 {
		t.Fatalf("%d %+v", r.Status, rep)
	}
	var l api.RecipientList
	e.do("GET", "/v1/breaches/"+b.ID+"/recipients", breach.RoleAdmin, nil).json(t, &l)
	if l.Items[0].Phone != "+13125550190" || l.Items[0].LastName != "O'Brien-Ångström" {
		t.Fatalf("%+v", l.Items[0])
	}
}

func TestUploadRefusals(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.MaxUploadBytes = 4096 })
	b := createBreach(t, e, nil)
	path := "/v1/breaches/" + b.ID + "/recipients"

	r := e.doContentType("POST", path, breach.RoleAdmin, "external_id,shoe_size\nA,9\n", "text/csv")
	if r.Status != 422 || !strings.Contains(r.fields(t)["header"], "shoe_size") {
		t.Fatalf("unknown column: %d %s", r.Status, r.Body)
	}
	if r := e.doContentType("POST", path, breach.RoleAdmin, "external_id\nA\n", "application/vnd.ms-excel"); r.Status != 415 {
		t.Fatalf("spreadsheet: %d %s", r.Status, r.Body)
	}
	if r := e.doContentType("POST", path, breach.RoleAdmin, "", "text/csv"); r.Status != 400 {
		t.Fatalf("empty: %d %s", r.Status, r.Body)
	}
	if r := e.doContentType("POST", "/v1/breaches/br_01JQ6Z8Y3T9V5K2M4N7P0R1S2T/recipients", breach.RoleAdmin, "external_id\nA\n", "text/csv"); r.Status != 404 {
		t.Fatalf("unknown breach: %d %s", r.Status, r.Body)
	}

	// Over the limit: the rows before it are kept, and the answer says which.
	var big strings.Builder
	big.WriteString("external_id,last_name\n")
	for i := 1; big.Len() < 8192; i++ {
		fmt.Fprintf(&big, "P-%05d,Person\n", i)
	}
	r = e.doContentType("POST", path, breach.RoleAdmin, big.String(), "text/csv")
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("too large: %d %s", r.Status, r.Body)
	}
	p := r.problem(t)
	var rows, accepted int
	if _, err := fmt.Sscanf(p.Detail[strings.Index(p.Detail, "rows 1 to "):], "rows 1 to %d were processed (%d accepted", &rows, &accepted); err != nil {
		t.Fatalf("detail %q: %v", p.Detail, err)
	}
	var v api.BreachView
	e.do("GET", "/v1/breaches/"+b.ID, breach.RoleAdmin, nil).json(t, &v)
	if rows < 100 || accepted != rows || v.RecipientCounts.Affected != accepted {
		t.Fatalf("detail says %d rows, %d accepted; the store holds %d", rows, accepted, v.RecipientCounts.Affected)
	}
}

// TestUploadWarnsAboutMinorsWithoutGuardian: a row accepted whose person is a minor on the upload
// date (2026-03-20), by the minor column or else the date of birth, with no guardian name, email
// or phone, is stored and warned about; nothing else is.
func TestUploadWarnsAboutMinorsWithoutGuardian(t *testing.T) {
	e := newEnv(t)
	b := createBreach(t, e, nil)
	csv := `external_id,first_name,last_name,address_line1,city,state,postal_code,email,date_of_birth,minor,guardian_name,guardian_email,guardian_phone
M-1,Mia,Ford,1 Oak St,Carmel,IN,46032,,2012-04-01,,,,
M-2,Max,Ford,1 Oak St,Carmel,IN,46032,,,true,,,
M-3,Noa,Hill,2 Oak St,Carmel,IN,46032,,2012-04-01,,Ruth Hill,,
M-4,Ola,Hill,2 Oak St,Carmel,IN,46032,,2012-04-01,,,,+13175550177
M-5,Pat,Gray,3 Oak St,Carmel,IN,46032,,1990-01-01,,,,
M-6,Quin,Gray,3 Oak St,Carmel,IN,46032,,2008-03-20,,,,
M-7,Rae,Gray,3 Oak St,Carmel,IN,46032,,2012-04-01,false,,,
M-8,Sam,Park,4 Oak St,Carmel,IN,46032,not-an-email,2012-04-01,,,,
M-9,Tia,Park,4 Oak St,Carmel,IN,46032,,2008-03-21,,,,
M-1,Mia,Ford,1 Oak St,Carmel,IN,46032,,2012-04-01,,,,
`
	r := e.doContentType("POST", "/v1/breaches/"+b.ID+"/recipients", breach.RoleAdmin, csv, "text/csv")
	if r.Status != http.StatusOK {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	var rep breach.UploadReport
	r.json(t, &rep)
	var got []string
	for _, w := range rep.Warnings {
		got = append(got, fmt.Sprintf("%d:%s:%s", w.Row, w.ExternalID, w.Field))
		if !strings.Contains(w.Reason, "minor") || !strings.Contains(w.Reason, "2026-03-20") || strings.Contains(w.Reason, "Ford") {
			t.Errorf("reason %q: want the date it was judged on, and no name", w.Reason)
		}
	}
	// M-1 and M-2 (by date of birth, by the column) and M-9 (18 tomorrow); not M-3 or M-4 (a
	// guardian's name or phone), M-5 or M-6 (adults: 18 today), M-7 (the column says no), M-8
	// (rejected) or the second M-1 (a duplicate that added nothing).
	if want := []string{"1:M-1:guardian_name", "2:M-2:guardian_name", "9:M-9:guardian_name"}; !slices.Equal(got, want) {
		t.Fatalf("warnings %v, want %v", got, want)
	}
	if rep.Accepted != 8 || len(rep.Duplicates) != 1 || len(rep.Rejected) != 1 {
		t.Fatalf("accepted %d, duplicates %d, rejected %d: a warned row is stored", rep.Accepted, len(rep.Duplicates), len(rep.Rejected))
	}
	if r := e.do("GET", "/v1/breaches/"+b.ID+"/recipients?limit=200", breach.RoleAdmin, nil); !strings.Contains(string(r.Body), `"external_id":"M-2"`) {
		t.Fatal("the warned row M-2 was not stored")
	}
	var events api.EventList
	e.do("GET", "/v1/breaches/"+b.ID+"/events?limit=200", breach.RoleAuditor, nil).json(t, &events)
	i := slices.IndexFunc(events.Items, func(ev breach.Event) bool { return ev.Type == breach.EventRecipientsUploaded })
	if i < 0 || events.Items[i].Data["warnings"] != float64(3) {
		t.Fatalf("the upload's event does not count the warnings: %+v", events.Items)
	}
}
