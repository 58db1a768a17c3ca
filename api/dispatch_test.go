package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
	"github.com/breachd/breachd/letters"
	"github.com/breachd/breachd/notify/email"
	"github.com/breachd/breachd/notify/email/smtptest"
	"github.com/breachd/breachd/notify/voice"
	"github.com/breachd/breachd/notify/voice/twiliotest"
)

// TestDispatchEndToEnd is the dispatch half's whole story against real Redis, a real SMTP server
// and a server speaking the Twilio API: create a breach, upload the sample export (every channel,
// minors, bad rows), dispatch, the emails arrive, the calls are placed and answered by signed
// callbacks, a clerk's attempt makes a call fall back to a letter, the letters are printed and
// mailed, one comes back; the auditor's endpoints tell it all.
func TestDispatchEndToEnd(t *testing.T) {
	e, smtp, tw := newLiveEnv(t)

	b := createBreach(t, e, nil) // discovered 2026-03-03; as of 2026-03-20; deadline 2026-04-17
	// Every person is uploaded: the ten people, not the estimate of 1,200, govern the plan.
	uploadSample(t, e, b.ID)
	englishFallback(t, e, b.ID, "vi") // the Nguyễn family: no Vietnamese template

	// A hold stops everything; released before day 45, it leaves the deadline alone.
	r := e.do("POST", "/v1/breaches/"+b.ID+"/holds", breach.RoleAdmin, map[string]any{"agency": "Indiana State Police", "start_date": "2026-03-10"})
	var held api.BreachView
	r.json(t, &held)
	if r := e.do("POST", "/v1/breaches/"+b.ID+"/dispatch", breach.RoleAdmin, nil); r.Status != 409 || !strings.Contains(r.problem(t).Detail, "hold") {
		t.Fatalf("dispatch under a hold: %d %s", r.Status, r.Body)
	}
	e.do("POST", "/v1/breaches/"+b.ID+"/holds/"+held.Holds[0].ID+"/release", breach.RoleAdmin, map[string]any{"end_date": "2026-03-18"})

	// Dispatch: 10 people → 4 letters (one for the Nguyễn siblings' guardian), 2 emails (José's
	// guardian, Łukasz), 2 calls (Zoë, Đặng); Emma cannot be reached.
	r = e.do("POST", "/v1/breaches/"+b.ID+"/dispatch", breach.RoleAdmin, nil)
	if r.Status != 200 {
		t.Fatalf("dispatch: %d %s", r.Status, r.Body)
	}
	var rep breach.DispatchReport
	r.json(t, &rep)
	if rep.Created[breach.MethodLetter] != 4 || rep.Created[breach.MethodEmail] != 2 || rep.Created[breach.MethodPhone] != 2 ||
		rep.Households != 2 || rep.Unreachable != 1 { // guardian letters: the Nguyễn siblings, Sofia
		t.Fatalf("dispatch report %+v", rep)
	}
	r = e.do("POST", "/v1/breaches/"+b.ID+"/dispatch", breach.RoleAdmin, nil)
	if r.Status != 200 {
		t.Fatalf("second dispatch: %d %s", r.Status, r.Body)
	}
	var again breach.DispatchReport
	r.json(t, &again)
	if again.Created[breach.MethodLetter]+again.Created[breach.MethodEmail]+again.Created[breach.MethodPhone] != 0 || again.Existing != 8 {
		t.Fatalf("a second dispatch created %+v (existing %d, want 8)", again.Created, again.Existing)
	}

	// The guardian letter names both children.
	var letterList api.NoticeList
	e.do("GET", "/v1/breaches/"+b.ID+"/notices?channel=letter", breach.RoleClerk, nil).json(t, &letterList)
	var household breach.Notice
	for _, n := range letterList.Items {
		if len(n.Children) == 2 {
			household = n
		}
	}
	if household.AddresseeName != "Nguyễn Văn Minh" || !household.ToGuardian || len(household.RecipientIDs) != 2 {
		t.Fatalf("household letter %+v", household)
	}

	// The emails arrive at the SMTP server.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	msgs, err := smtp.WaitMessages(ctx, 2)
	if err != nil {
		t.Fatalf("emails: %v (status %s)", err, e.do("GET", "/v1/breaches/"+b.ID+"/status", breach.RoleAuditor, nil).Body)
	}
	var to []string
	for _, m := range msgs {
		to = append(to, m.To...)
		if !bytes.Contains(m.Data, []byte("317 555 0100")) {
			t.Errorf("email to %v lacks the assistance number", m.To)
		}
	}
	slices.Sort(to)
	if !slices.Equal(to, []string{"lukasz.zolc@example.org", "maria.pena@example.org"}) {
		t.Fatalf("emails went to %v", to)
	}

	// The calls are placed through Twilio; Zoë answers, Đặng does not.
	calls := waitFor(t, "two calls placed", func() ([]twiliotest.Request, bool) {
		var placed []twiliotest.Request
		for _, rq := range tw.Requests() {
			if rq.SID != "" {
				placed = append(placed, rq)
			}
		}
		return placed, len(placed) == 2
	})
	byTo := map[string]twiliotest.Request{}
	for _, c := range calls {
		byTo[c.To()] = c
	}
	zoe, dang := byTo["+13125550190"], byTo["+17655550142"]
	if zoe.SID == "" || dang.SID == "" {
		t.Fatalf("calls went to %v", byTo)
	}
	zoeID := noticeParam(t, zoe.StatusCallback())
	dangID := noticeParam(t, dang.StatusCallback())
	// Twilio reads each person the whole script, parts A to E, in the script's language.
	stored, err := e.store.Breach(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	for id, c := range map[string]twiliotest.Request{zoeID: zoe, dangID: dang} {
		n, err := e.store.Notice(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		script, err := letters.NewComposer(sender).CallScript(stored, *n)
		if err != nil {
			t.Fatal(err)
		}
		twiml := c.Twiml()
		if strings.Count(twiml, `<Say language="en-US" voice="Polly.Joanna">`) != 2 || len(script.Parts) != 5 {
			t.Errorf("call %s: TwiML %s", id, twiml)
		}
		for _, p := range script.Parts {
			var esc strings.Builder
			if err := xml.EscapeText(&esc, []byte(p.Text)); err != nil {
				t.Fatal(err)
			}
			if strings.Count(twiml, esc.String()) != 2 {
				t.Errorf("call %s: the TwiML does not read part %s twice", id, p.Part)
			}
		}
	}
	// Zoë answers and listens; Đặng's answering machine takes the message, which is no notice.
	if err := tw.Play(ctx, zoe.SID, twiliotest.Conversation(95*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Play(ctx, dang.SID, twiliotest.Voicemail()); err != nil {
		t.Fatal(err)
	}
	var n breach.Notice
	waitFor(t, "Zoë's call delivered", func() (struct{}, bool) {
		var d api.NoticeDetail
		e.do("GET", "/v1/notices/"+zoeID, breach.RoleAuditor, nil).json(t, &d)
		n = d.Notice
		return struct{}{}, n.Status == breach.NoticeDelivered
	})
	for id, want := range map[string]string{zoeID: "conversation [A B C D E]", dangID: "voicemail <nil>"} {
		var d api.NoticeDetail
		e.do("GET", "/v1/notices/"+id, breach.RoleAuditor, nil).json(t, &d)
		var got []string
		for _, ev := range d.History {
			if ev.Type == breach.EventCallAttempt && ev.Actor == "twilio" {
				got = append(got, fmt.Sprint(ev.Data["outcome"], " ", ev.Data["parts_delivered"]))
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("notice %s: Twilio's call attempts %v, want %q", id, got, want)
		}
		if id == dangID && d.Notice.Status == breach.NoticeDelivered {
			t.Error("a voicemail delivered the notice")
		}
	}

	// A forged callback is refused and records nothing.
	forged, _ := http.NewRequest("POST", e.srv.URL+"/v1/webhooks/twilio?notice="+dangID,
		strings.NewReader(url.Values{"CallSid": {dang.SID}, "CallStatus": {"completed"}, "AnsweredBy": {"human"}, "CallDuration": {"60"}}.Encode()))
	forged.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	forged.Header.Set("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl")
	res, err := http.DefaultClient.Do(forged)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Fatalf("forged callback: %d", res.StatusCode)
	}

	// Đặng's phone: a clerk reaches a wrong number, and a letter is queued at once.
	r = e.do("POST", "/v1/call-tasks/"+dangID+"/attempts", breach.RoleClerk, map[string]any{"outcome": "wrong_number"})
	if r.Status != 200 {
		t.Fatalf("clerk attempt: %d %s", r.Status, r.Body)
	}
	r.json(t, &n)
	if n.Status != breach.NoticeFailed || n.FallbackID == "" {
		t.Fatalf("after a wrong number: %+v", n)
	}
	var detail api.NoticeDetail
	e.do("GET", "/v1/notices/"+dangID, breach.RoleAuditor, nil).json(t, &detail)
	var types []string
	for _, ev := range detail.History {
		types = append(types, string(ev.Type))
	}
	for _, want := range []string{"notice.queued", "notice.sent", "call.attempt", "notice.failed", "notice.fallback"} {
		if !slices.Contains(types, want) {
			t.Errorf("history %v lacks %s", types, want)
		}
	}

	// Five letters now wait for the printer: a clerk prints a batch…
	r = e.do("POST", "/v1/breaches/"+b.ID+"/print-batches", breach.RoleClerk, nil)
	if r.Status != 201 {
		t.Fatalf("print batch: %d %s", r.Status, r.Body)
	}
	var batch breach.PrintBatch
	r.json(t, &batch)
	if len(batch.NoticeIDs) != 5 || batch.Number != 1 {
		t.Fatalf("batch %+v", batch)
	}
	pdf := e.do("GET", "/v1/breaches/"+b.ID+"/print-batches/"+batch.ID+".pdf", breach.RoleClerk, nil)
	if pdf.Status != 200 || pdf.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("batch pdf: %d %s", pdf.Status, pdf.Header)
	}
	text := pdfText(t, pdf.Body)
	for _, name := range []string{"Nguyễn Văn Minh", "Hồng", "Lan", "Aiden Miller", "Luis García", "Đặng Văn Lâm"} {
		if !strings.Contains(text, name) {
			t.Errorf("the batch does not print %q", name)
		}
	}
	if again := e.do("GET", "/v1/breaches/"+b.ID+"/print-batches/"+batch.ID+".pdf", breach.RoleAuditor, nil); !bytes.Equal(again.Body, pdf.Body) {
		t.Error("the batch PDF differs when downloaded again")
	}
	manifest := e.do("GET", "/v1/breaches/"+b.ID+"/print-batches/"+batch.ID+".csv", breach.RoleClerk, nil)
	rows, err := csv.NewReader(bytes.NewReader(manifest.Body)).ReadAll()
	if err != nil || len(rows) != 6 {
		t.Fatalf("manifest: %v %d rows", err, len(rows))
	}

	// …a reprint of one letter is the same letter…
	var printed breach.Notice
	e.do("GET", "/v1/notices/"+household.ID, breach.RoleClerk, nil).json(t, &detail)
	printed = detail.Notice
	reprint := e.do("GET", "/v1/notices/"+household.ID+"/letter.pdf", breach.RoleClerk, nil)
	if printed.LetterSHA256 == "" || reprint.Header.Get("X-Letter-SHA256") != printed.LetterSHA256 {
		t.Fatalf("reprint hash %q, printed %q", reprint.Header.Get("X-Letter-SHA256"), printed.LetterSHA256)
	}

	// …and marks the batch mailed on 2026-03-20; one letter comes back.
	r = e.do("POST", "/v1/breaches/"+b.ID+"/print-batches/"+batch.ID+"/mailed", breach.RoleClerk, map[string]any{"mailed_on": "2026-03-20"})
	if r.Status != 200 {
		t.Fatalf("mailed: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", "/v1/breaches/"+b.ID+"/print-batches/"+batch.ID+"/mailed", breach.RoleClerk, map[string]any{"mailed_on": "2026-03-20"}); r.Status != 409 {
		t.Fatalf("mailed twice: %d", r.Status)
	}
	r = e.do("POST", "/v1/notices/"+household.ID+"/returned", breach.RoleClerk, map[string]any{"returned_on": "2026-03-27", "reason": "Moved, left no address"})
	if r.Status != 200 {
		t.Fatalf("returned: %d %s", r.Status, r.Body)
	}

	// The auditor's view: exact counts, the deadline met, the history, the export.
	var st api.DeliveryStatus
	e.do("GET", "/v1/breaches/"+b.ID+"/status", breach.RoleAuditor, nil).json(t, &st)
	want := map[string]map[string]int{
		"email":  {"sent": 2},
		"phone":  {"delivered": 1, "failed": 1},
		"letter": {"mailed": 4, "returned": 1},
	}
	for ch, byStatus := range st.Counts {
		for s, got := range byStatus {
			if got != want[ch][s] {
				t.Errorf("status %s/%s = %d, want %d", ch, s, got, want[ch][s])
			}
		}
	}
	if st.Total != 9 || st.Done != 8 || st.Outstanding != 0 || st.DeadlineMet == nil || !*st.DeadlineMet || st.Deadline.String() != "2026-04-17" {
		t.Fatalf("status %+v (met %v)", st, st.DeadlineMet)
	}

	export := e.do("GET", "/v1/breaches/"+b.ID+"/notices.csv", breach.RoleAuditor, nil)
	all, err := csv.NewReader(bytes.NewReader(export.Body)).ReadAll()
	if err != nil || len(all) != 10 {
		t.Fatalf("export: %v, %d rows", err, len(all))
	}
	for _, row := range all {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("export cell %q could run as a formula", cell)
			}
		}
	}
	if !strings.Contains(string(export.Body), `'=HYPERLINK`) {
		t.Error("the =HYPERLINK name was not neutralised in the export")
	}

	var events api.EventList
	e.do("GET", "/v1/breaches/"+b.ID+"/events?limit=200", breach.RoleAuditor, nil).json(t, &events)
	seen := map[breach.EventType]int{}
	for _, ev := range events.Items {
		seen[ev.Type]++
	}
	for _, want := range []breach.EventType{breach.EventDispatched, breach.EventNoticeQueued, breach.EventNoticeSent, breach.EventNoticeDelivered,
		breach.EventCallAttempt, breach.EventNoticeFallback, breach.EventPrintBatch, breach.EventNoticeMailed, breach.EventPrintBatchMailed, breach.EventNoticeReturned} {
		if seen[want] == 0 {
			t.Errorf("the audit trail has no %s event (has %v)", want, seen)
		}
	}
	if raw := string(e.do("GET", "/v1/breaches/"+b.ID+"/events?limit=200", breach.RoleAuditor, nil).Body); strings.Contains(raw, "@example.org") || strings.Contains(raw, "+1312") {
		t.Error("the audit trail holds an email address or a phone number")
	}
	// Neither the API's nor the workers' logs carry personal data.
	logs := e.logs.String()
	for _, pii := range []string{"maria.pena@example.org", "lukasz.zolc@example.org", "+13125550190", "+17655550142", "Nguyễn", "Łukasz", "4120 N Keystone"} {
		if strings.Contains(logs, pii) {
			t.Errorf("the logs contain %q", pii)
		}
	}
}

// newLiveEnv is an env whose worker runs, sending email to a real SMTP server (started with
// opts) and placing calls through a server speaking the Twilio API.
func newLiveEnv(t *testing.T, opts ...smtptest.Option) (*env, *smtptest.Server, *twiliotest.Server) {
	t.Helper()
	smtp := smtptest.New(t, opts...)
	mailer, err := email.New(email.Config{Host: smtp.Host, Port: smtp.Port, From: "notices@pikecreek.example.org",
		FromName: sender.Organization, TLSPolicy: email.TLSNone})
	if err != nil {
		t.Fatal(err)
	}
	tw := twiliotest.NewServer(t)
	caller, err := voice.New(voice.Config{AccountSID: tw.AccountSID, AuthToken: tw.AuthToken, From: "+13175550100", BaseURL: tw.URL})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, channels{mailer: mailer, caller: caller, twilioToken: tw.AuthToken})
	if err := e.worker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.worker.Shutdown)
	return e, smtp, tw
}

// waitFor polls check until it says done, for at most 20 s.
func waitFor[T any](t *testing.T, what string, check func() (T, bool)) T {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, ok := check()
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func noticeParam(t *testing.T, callback string) string {
	t.Helper()
	u, err := url.Parse(callback)
	if err != nil || u.Query().Get("notice") == "" {
		t.Fatalf("callback URL %q has no notice", callback)
	}
	return u.Query().Get("notice")
}

// pdfText extracts a PDF's text with pdftotext (poppler-utils; .ci/run installs it).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext not found: install poppler-utils (apt-get install poppler-utils)")
	}
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// TestBounceMeansALetter: an email that bounces after the server accepted it fails, and a letter
// replaces it; what the clerk pastes from the bounce is recorded without addresses or numbers.
func TestBounceMeansALetter(t *testing.T) {
	e := newEnv(t)
	b, emails := dispatchedSample(t, e)
	lukasz := emails["lukasz.zolc@example.org"]
	r := e.do("POST", "/v1/notices/"+lukasz.ID+"/bounced", breach.RoleClerk,
		map[string]any{"reason": "550 5.1.1 <lukasz.zolc@example.org>: mailbox unavailable; call +1 (574) 555-0177"})
	if r.Status != 200 {
		t.Fatalf("bounce: %d %s", r.Status, r.Body)
	}
	var n breach.Notice
	r.json(t, &n)
	if n.Status != breach.NoticeFailed || n.FallbackID == "" || strings.Contains(n.LastError, "lukasz") || strings.Contains(n.LastError, "555") {
		t.Fatalf("after the bounce: %+v", n)
	}
	var letter api.NoticeDetail
	e.do("GET", "/v1/notices/"+n.FallbackID, breach.RoleAuditor, nil).json(t, &letter)
	if letter.Notice.Channel != breach.MethodLetter || letter.Notice.FallbackFor != n.ID || letter.Notice.Address.City != "South Bend" {
		t.Fatalf("fallback letter %+v", letter.Notice)
	}
	if h := letter.History[0]; h.Actor != "worker" || !strings.Contains(h.Summary, "replace notice "+n.ID) {
		t.Fatalf("the fallback letter's history begins %+v", h)
	}
	if r := e.do("POST", "/v1/notices/"+lukasz.ID+"/bounced", breach.RoleClerk, map[string]any{"reason": "again"}); r.Status != 409 {
		t.Fatalf("bounced twice: %d", r.Status)
	}
	if r := e.do("POST", "/v1/notices/"+n.FallbackID+"/bounced", breach.RoleClerk, map[string]any{"reason": "x"}); r.Status != 409 {
		t.Fatalf("a letter bounced: %d", r.Status)
	}
	events := string(e.do("GET", "/v1/breaches/"+b.ID+"/events?limit=200", breach.RoleAuditor, nil).Body)
	if !strings.Contains(events, "notice.bounced") || strings.Contains(events, "lukasz") || strings.Contains(events, "555-0177") {
		t.Fatal("the bounce is missing from the audit trail, or it carries the address or number")
	}
}
