package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/notify/voice/twiliotest"
	"github.com/breachd/breachd/rules"
)

// partialUpload is the first ten people of a breach estimated at 1,200 (1,150 Indiana residents):
// a Spanish-speaking household of two children with one guardian, a Japanese name, a Spanish email,
// a call a person answers and one an answering machine takes, and five English letters (one out of
// state).
const partialUpload = `external_id,first_name,last_name,address_line1,address_line2,city,state,postal_code,email,phone,preferred_channel,email_current,language,date_of_birth,minor,guardian_name,guardian_email,guardian_phone
S-2001,Sofía,Ramírez,812 E Market St,,Indianapolis,IN,46202,,,mail,,es,2012-05-01,,Carmen Ramírez,,
S-2002,Mateo,Ramírez,812 E Market St,,Indianapolis,IN,46202,,,mail,,es,2014-09-12,,Carmen Ramírez,,
E-3001,翔平,大谷,55 Monument Cir,,Indianapolis,IN,46204,,,mail,,ja,,,,,
E-3002,Lucía,Gómez,,,,,,lucia.gomez@example.org,,email,true,es,,,,,
E-3003,Ben,Cole,,,,,,,+13175550142,phone,,en,,,,,
E-3004,Zoe,Park,9 N Meridian St,,Indianapolis,IN,46204,,+13175550143,phone,,en,,,,,
E-3005,Ava,Brown,100 S Capitol Ave,,Indianapolis,IN,46225,,,mail,,en,,,,,
E-3006,Noah,Smith,200 W Main St,,Carmel,IN,46032,,,mail,,en,,,,,
E-3007,Liam,Jones,300 N Main St,,Kokomo,IN,46901,,,mail,,en,,,,,
E-3008,Emma,Davis,400 Lake Shore Dr,,Chicago,IL,60611,,,mail,,en,,,,,
`

// TestEveryDutyTrackedToDone is the obligations issue's whole story: a breach of 1,200 estimated
// people with a 10-row partial upload keeps the consumer reporting agencies and the substitute
// notice; Spanish and Japanese-script people, a household, a call answered by a person and one by
// voicemail; a close that is refused while anything is open and succeeds once every duty is done;
// and every document printing the Spanish text, the Japanese name and counts that agree with the
// status endpoint.
func TestEveryDutyTrackedToDone(t *testing.T) {
	e, smtp, tw := newLiveEnv(t)
	ctx := context.Background()

	b := createBreach(t, e, map[string]any{"indiana_residents": 1150}) // 1,200 affected; Spanish text given
	base := "/v1/breaches/" + b.ID
	ledger := func() map[breach.ObligationID]breach.Obligation {
		t.Helper()
		var l api.ObligationList
		e.do("GET", base+"/obligations", breach.RoleAuditor, nil).json(t, &l)
		m := map[breach.ObligationID]breach.Obligation{}
		for _, o := range l.Items {
			m[o.ID] = o
		}
		return m
	}

	// 1. Ten of 1,200 uploaded: the estimate governs, and no duty is switched off.
	if r := e.doContentType("POST", base+"/recipients", breach.RoleAdmin, partialUpload, "text/csv"); r.Status != 200 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	var v api.BreachView
	e.do("GET", base, breach.RoleAuditor, nil).json(t, &v)
	if !v.Plan.ConsumerReportingAgencies.Required || !v.Plan.SubstituteNotice.Required || v.Plan.Reasons[0].Code != rules.CodeEstimateGoverns {
		t.Fatalf("partial upload: CRA %v, substitute %v, first reason %s", v.Plan.ConsumerReportingAgencies.Required,
			v.Plan.SubstituteNotice.Required, v.Plan.Reasons[0].Code)
	}
	m := ledger()
	for _, id := range []breach.ObligationID{breach.ObligationEquifax, breach.ObligationSubstituteWebsite, breach.ObligationAttorneyGeneral, breach.ObligationOfficeOfTechnology} {
		if m[id].Status != breach.ObligationOpen {
			t.Errorf("%s: %s after a partial upload", id, m[id].Status)
		}
	}
	// The Equifax letter says what governs: the estimate, not the ten uploaded.
	eq := flat(pdfText(t, e.do("GET", base+"/agency-notices/equifax/letter.pdf", breach.RoleClerk, nil).Body))
	if !strings.Contains(eq, "1,150 are Indiana residents") || strings.Contains(eq, "10 people are affected") {
		t.Errorf("the Equifax letter after a partial upload:\n%s", eq)
	}

	// 2. The Japanese name needs its language: dispatch names it until English is recorded.
	r := e.do("POST", base+"/dispatch", breach.RoleAdmin, nil)
	if r.Status != 409 || !strings.Contains(r.problem(t).Detail, "(ja)") || !strings.Contains(r.problem(t).Detail, "1 person") {
		t.Fatalf("dispatch with Japanese missing: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", base+"/languages/ja/english-fallback", breach.RoleAdmin, map[string]any{"reason": "No Japanese translation before the deadline; the family reads English."}); r.Status != 200 {
		t.Fatalf("english fallback: %d %s", r.Status, r.Body)
	}

	// 3. Dispatch the ten.
	r = e.do("POST", base+"/dispatch", breach.RoleAdmin, nil)
	if r.Status != 200 {
		t.Fatalf("dispatch: %d %s", r.Status, r.Body)
	}
	var rep breach.DispatchReport
	r.json(t, &rep)
	if rep.Created[breach.MethodLetter] != 6 || rep.Created[breach.MethodEmail] != 1 || rep.Created[breach.MethodPhone] != 2 || rep.Households != 1 {
		t.Fatalf("dispatch: %+v", rep)
	}

	// 4. Closing now is refused, listing every open duty and the notices not given.
	r = e.do("POST", base+"/close", breach.RoleAdmin, map[string]any{"summary": "Every person was told."})
	if r.Status != 409 {
		t.Fatalf("close with duties open: %d %s", r.Status, r.Body)
	}
	p := r.problem(t)
	var open []string
	for _, o := range *p.OpenObligations {
		open = append(open, string(o.ID))
	}
	for _, want := range []string{"individual_notice.letter", "individual_notice.phone", "substitute.website_posting", "agency.equifax", "agency.attorney_general", "agency.office_of_technology"} {
		if !slices.Contains(open, want) {
			t.Errorf("refused close does not list %s: %v", want, open)
		}
	}
	if *p.NoticesNotGiven == 0 {
		t.Error("refused close counts no notice not given")
	}

	// 5. The email goes; Ben answers; Zoe's answering machine takes the message, which is no notice.
	waitCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := smtp.WaitMessages(waitCtx, 1); err != nil {
		t.Fatal(err)
	}
	calls := waitFor(t, "two calls placed", func() (map[string]twiliotest.Request, bool) {
		placed := map[string]twiliotest.Request{}
		for _, rq := range tw.Requests() {
			if rq.SID != "" {
				placed[rq.To()] = rq
			}
		}
		return placed, len(placed) == 2
	})
	ben, zoe := calls["+13175550142"], calls["+13175550143"]
	zoeID := noticeParam(t, zoe.StatusCallback())
	if err := tw.Play(waitCtx, ben.SID, twiliotest.Conversation(80*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Play(waitCtx, zoe.SID, twiliotest.Voicemail()); err != nil {
		t.Fatal(err)
	}
	var zoeNotice api.NoticeDetail
	e.do("GET", "/v1/notices/"+zoeID, breach.RoleAuditor, nil).json(t, &zoeNotice)
	if zoeNotice.Notice.Status == breach.NoticeDelivered || zoeNotice.Notice.CallWindowEnds.IsZero() {
		t.Fatalf("after a voicemail: %+v", zoeNotice.Notice)
	}
	// The 72 hours pass without a conversation: the call fails and a letter replaces it.
	e.setNow(zoeNotice.Notice.CallWindowEnds.Add(time.Minute))
	payload, _ := json.Marshal(map[string]string{"breach_id": b.ID, "notice_id": zoeID})
	if err := e.worker.ProcessTask(ctx, asynq.NewTask(jobs.TypeCallWindow, payload)); err != nil {
		t.Fatal(err)
	}
	e.do("GET", "/v1/notices/"+zoeID, breach.RoleAuditor, nil).json(t, &zoeNotice)
	if zoeNotice.Notice.Status != breach.NoticeFailed || zoeNotice.Notice.FallbackID == "" {
		t.Fatalf("after the window: %+v", zoeNotice.Notice)
	}

	// 6. The rest of the 1,200 people are uploaded, and the list is declared complete: 1,150 in
	// Indiana, so the agencies are still owed.
	var rest bytes.Buffer
	rest.WriteString(partialUpload[:strings.IndexByte(partialUpload, '\n')+1])
	for i := range 1190 {
		state, zip := "IN", "46204"
		if i < 47 { // 7 of the first ten have an Indiana address: 1,143 more make 1,150
			state, zip = "OH", "43215"
		}
		fmt.Fprintf(&rest, "X-%04d,Person,Number %d,%d Washington St,,Springfield,%s,%s,,,mail,,en,,,,,\n", i, i, i+1, state, zip)
	}
	var up breach.UploadReport
	if r := e.doContentType("POST", base+"/recipients", breach.RoleAdmin, rest.String(), "text/csv"); r.Status != 200 {
		t.Fatalf("second upload: %d %s", r.Status, r.Body)
	} else {
		r.json(t, &up)
	}
	if up.Counts.Affected != 1200 || up.Counts.IndianaResidents != 1150 {
		t.Fatalf("counts after the whole upload: %+v", up.Counts)
	}
	if r := e.do("POST", base+"/recipients/complete", breach.RoleAdmin, nil); r.Status != 200 {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", base+"/dispatch", breach.RoleAdmin, nil); r.Status != 200 {
		t.Fatalf("dispatch of the rest: %d %s", r.Status, r.Body)
	}

	// 7. The clerks print and mail every letter (batches of at most 1,000).
	mailedOn := breach.DateOf(e.clock(), v.Determination.Location()).String()
	var batchPDFs [][]byte
	for {
		r := e.do("POST", base+"/print-batches", breach.RoleClerk, nil)
		if r.Status == 409 {
			break
		}
		if r.Status != 201 {
			t.Fatalf("print batch: %d %s", r.Status, r.Body)
		}
		var batch breach.PrintBatch
		r.json(t, &batch)
		batchPDFs = append(batchPDFs, e.do("GET", base+"/print-batches/"+batch.ID+".pdf", breach.RoleClerk, nil).Body)
		if r := e.do("POST", base+"/print-batches/"+batch.ID+"/mailed", breach.RoleClerk, map[string]any{"mailed_on": mailedOn}); r.Status != 200 {
			t.Fatalf("mailed: %d %s", r.Status, r.Body)
		}
	}
	if len(batchPDFs) != 2 {
		t.Fatalf("%d batches, want 2", len(batchPDFs))
	}
	// Every name accepted prints: the Japanese name and the household letter in Spanish, with the
	// Spanish description, never the English one.
	first := flat(pdfText(t, batchPDFs[0]) + pdfText(t, batchPDFs[1]))
	for _, want := range []string{"翔平 大谷", "Carmen Ramírez", "Sofía", "Mateo", flat(spanishDescription)} {
		if !strings.Contains(first, want) {
			t.Errorf("the letters lack %q", want)
		}
	}
	if strings.Contains(first, flat(determination(nil)["description"].(string))) == false {
		t.Error("no English letter carries the English description")
	}

	// 8. The substitute notice and the agencies.
	for _, r := range []response{
		e.do("POST", base+"/substitute-notice/website/posted", breach.RoleAdmin, map[string]any{"url": "https://www.pikecreek.k12.in.us/notice"}),
		e.do("PUT", base+"/substitute-notice/outlets", breach.RoleAdmin, map[string]any{"outlets": []map[string]any{
			{"name": "WTHR 13", "kind": "television", "audience": 2900000},
			{"name": "The Indianapolis Star", "kind": "newspaper", "audience": 2300000, "local": true}}}),
	} {
		if r.Status != 200 {
			t.Fatalf("substitute notice: %d %s", r.Status, r.Body)
		}
	}
	es := e.do("GET", base+"/substitute-notice/website.html?lang=es", breach.RoleClerk, nil)
	if es.Status != 200 || !strings.Contains(string(es.Body), spanishDescription) || !strings.Contains(string(es.Body), "Publicado") && !strings.Contains(string(es.Body), "publicado") {
		t.Errorf("the Spanish web-site notice: %d\n%s", es.Status, es.Body)
	}
	var st api.DeliveryStatus
	e.do("GET", base+"/status", breach.RoleAuditor, nil).json(t, &st)
	counted := fmt.Sprintf("%s of %s notices", thousands(st.Done), thousands(st.Total))
	for _, a := range breach.Agencies {
		doc := flat(pdfText(t, e.do("GET", base+"/agency-notices/"+string(a)+"/letter.pdf", breach.RoleClerk, nil).Body))
		if !strings.Contains(doc, counted) || !strings.Contains(doc, "1,150") {
			t.Errorf("the %s document lacks %q or the 1,150 residents:\n%s", a, counted, doc)
		}
		if strings.Contains(doc, "voluntary") {
			t.Errorf("the %s document calls a required notice voluntary", a)
		}
		if r := e.do("POST", base+"/agency-notices/"+string(a)+"/sent", breach.RoleAdmin, map[string]any{"sent_on": mailedOn}); r.Status != 200 {
			t.Fatalf("%s sent: %d %s", a, r.Status, r.Body)
		}
	}

	// 9. Every duty is done (or not required): the close goes through without a waiver.
	for id, o := range ledger() {
		if o.Status != breach.ObligationDone && o.Status != breach.ObligationNotRequired {
			t.Errorf("%s still %s: %s", id, o.Status, o.Reason)
		}
	}
	r = e.do("POST", base+"/close", breach.RoleAdmin, map[string]any{"summary": "Every person was told by mail, email or telephone."})
	if r.Status != 200 {
		t.Fatalf("close: %d %s", r.Status, r.Body)
	}
	e.do("GET", base+"/status", breach.RoleAuditor, nil).json(t, &st)
	report := flat(pdfText(t, e.do("GET", base+"/closure-report.pdf", breach.RoleAuditor, nil).Body))
	for _, want := range []string{"Notices given " + thousands(st.Done) + " of " + thousands(st.Total), "Obligations Duty Citation Due Status",
		"Notice to Equifax", "sent on " + mailedOn + "; document"} {
		if !strings.Contains(report, want) {
			t.Errorf("the closure report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "Closed with duties open") {
		t.Error("the closure report says duties were open")
	}
}

// flat joins a text's words with single spaces, as pdftotext's line breaks fall where they may.
func flat(s string) string {
	return strings.NewReplacer("\u202b", "", "\u202c", "").Replace(strings.Join(strings.Fields(s), " "))
}

// thousands writes 1200 as "1,200".
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
