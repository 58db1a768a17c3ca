package api_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// TestPurgeAfterRetention: a breach with sent, bounced and fallback notices is closed; the purge is
// refused until 7 years have passed, then removes the people's data: the chain still verifies, the
// counts are unchanged, the CSV export and the proof say "purged <date>", letters can no longer be
// printed, and a second purge answers the same purge and records nothing.
func TestPurgeAfterRetention(t *testing.T) {
	e := newEnv(t)
	if err := e.worker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.worker.Shutdown)
	b := createBreach(t, e, nil)
	base := "/v1/breaches/" + b.ID
	sample, err := os.ReadFile("testdata/recipients-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	e.doContentType("POST", base+"/recipients", breach.RoleAdmin, sample, "text/csv")
	e.do("POST", base+"/recipients/complete", breach.RoleAdmin, nil)
	englishFallback(t, e, b.ID, "vi")
	if r := e.do("POST", base+"/dispatch", breach.RoleAdmin, nil); r.Status != 200 {
		t.Fatalf("dispatch: %d %s", r.Status, r.Body)
	}
	emails := waitFor(t, "both emails sent", func() ([]breach.Notice, bool) {
		var l api.NoticeList
		e.do("GET", base+"/notices?channel=email&status=sent", breach.RoleClerk, nil).json(t, &l)
		return l.Items, len(l.Items) == 2
	})
	var lukasz breach.Notice
	for _, n := range emails {
		if n.Email == "lukasz.zolc@example.org" {
			lukasz = n
		}
	}
	if r := e.do("POST", "/v1/notices/"+lukasz.ID+"/bounced", breach.RoleClerk,
		map[string]any{"reason": "550 5.1.1 mailbox of lukasz.zolc@example.org unavailable"}); r.Status != 200 {
		t.Fatalf("bounce: %d %s", r.Status, r.Body)
	}
	var bounced struct {
		Notice breach.Notice `json:"notice"`
	}
	e.do("GET", "/v1/notices/"+lukasz.ID, breach.RoleAdmin, nil).json(t, &bounced)
	letterID := bounced.Notice.FallbackID
	if r := e.do("GET", "/v1/notices/"+letterID+"/letter.pdf", breach.RoleClerk, nil); r.Status != 200 {
		t.Fatalf("the letter before the purge: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", base+"/purge", breach.RoleAdmin, nil); r.Status != 409 || !strings.Contains(r.problem(t).Detail, "not closed") {
		t.Fatalf("purge of an open breach: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", base+"/close", breach.RoleAdmin,
		map[string]any{"summary": "Everyone reachable was told.", "waivers": waiveOpen(t, e, b.ID, "tabletop")}); r.Status != 200 {
		t.Fatalf("close: %d %s", r.Status, r.Body)
	}
	status := func() any {
		var st map[string]any
		e.do("GET", base+"/status", breach.RoleAuditor, nil).json(t, &st)
		return st["counts"]
	}
	countsBefore := status()
	csvBefore := string(e.do("GET", base+"/notices.csv", breach.RoleAuditor, nil).Body)
	if !strings.Contains(csvBefore, "lukasz.zolc@example.org") || !strings.Contains(csvBefore, "Żółć") {
		t.Fatalf("the export before the purge names no one:\n%s", csvBefore)
	}

	e.setNow(time.Date(2033, 3, 19, 15, 0, 0, 0, time.UTC))
	if r := e.do("POST", base+"/purge", breach.RoleAdmin, nil); r.Status != 409 || !strings.Contains(r.problem(t).Detail, "ends on 2033-03-20") {
		t.Fatalf("purge a day early: %d %s", r.Status, r.Body)
	}
	e.setNow(time.Date(2033, 3, 20, 15, 0, 0, 0, time.UTC))
	r := e.do("POST", base+"/purge", breach.RoleAdmin, nil)
	if r.Status != 200 {
		t.Fatalf("purge: %d %s", r.Status, r.Body)
	}
	var p breach.Purge
	r.json(t, &p)
	if p.Period != "7y" || p.Recipients == 0 || p.Notices == 0 || p.PrivateTexts != 1 || !p.At.Equal(e.clock()) {
		t.Fatalf("purge %+v", p)
	}

	var v breach.ChainVerification
	e.do("GET", base+"/events/verify", breach.RoleAuditor, nil).json(t, &v)
	if !v.Verified || v.FirstBad != nil || v.Checkpoints < 2 || v.CheckpointsVerified != v.Checkpoints {
		t.Fatalf("verification after the purge: %+v", v)
	}
	exp := e.do("GET", base+"/events/export", breach.RoleAuditor, nil)
	if rep := breach.VerifyExport(bytes.NewReader(exp.Body), testSigningKey.Public().(ed25519.PublicKey)); exp.Status != 200 || !rep.Verified {
		t.Fatalf("the export after the purge does not verify offline: %d %+v", exp.Status, rep)
	}
	if r := e.do("GET", base+"/closure-report.pdf", breach.RoleAuditor, nil); r.Status != 200 {
		t.Fatalf("the closure report after the purge: %d %s", r.Status, r.Body)
	}
	if got := status(); !reflect.DeepEqual(got, countsBefore) {
		t.Fatalf("counts after the purge %v, before %v", got, countsBefore)
	}
	csvAfter := string(e.do("GET", base+"/notices.csv", breach.RoleAuditor, nil).Body)
	for _, gone := range []string{"lukasz.zolc@example.org", "Żółć", "Keystone", "+1317"} {
		if strings.Contains(csvAfter, gone) {
			t.Fatalf("the export after the purge still has %q:\n%s", gone, csvAfter)
		}
	}
	if !strings.Contains(csvAfter, "purged 2033-03-20") || !strings.Contains(csvAfter, lukasz.ID) ||
		strings.Count(csvAfter, "\n") != strings.Count(csvBefore, "\n") {
		t.Fatalf("the export after the purge:\n%s", csvAfter)
	}

	var proof breach.NoticeProof
	e.do("GET", "/v1/notices/"+lukasz.ID+"/proof", breach.RoleAuditor, nil).json(t, &proof)
	if proof.Who.Addressee != "purged 2033-03-20" || proof.Contact.Value != "purged 2033-03-20" || proof.Contact.Kind != "email" ||
		len(proof.Who.People) != 1 || proof.Who.People[0].Name != "purged 2033-03-20" || proof.Who.People[0].ExternalID == "" ||
		proof.Disposition.Given || proof.Fallback.FallbackID != letterID {
		t.Fatalf("the proof after the purge: %+v %+v %+v", proof.Who, proof.Contact, proof.Disposition)
	}
	for _, it := range proof.Items {
		if it.ChainPosition == 0 || len(it.EventHash) != 64 {
			t.Fatalf("a proof item lost its place in the chain: %+v", it)
		}
		if it.Type == breach.EventNoticeBounced && (it.Evidence["smtp_status"] != "550 5.1.1" || strings.Contains(it.Evidence["reason"], "lukasz")) {
			t.Fatalf("the bounce's evidence after the purge: %+v", it.Evidence)
		}
	}
	raw, _ := json.Marshal(proof)
	if bytes.Contains(raw, []byte("lukasz")) || bytes.Contains(raw, []byte("Żółć")) {
		t.Fatalf("the proof still names the person: %s", raw)
	}
	pdf := e.do("GET", "/v1/notices/"+lukasz.ID+"/proof.pdf", breach.RoleAuditor, nil)
	if pdf.Status != 200 {
		t.Fatalf("proof.pdf after the purge: %d %s", pdf.Status, pdf.Body)
	}
	if dir := os.Getenv("BREACHD_PROOF_PDF_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "proof-purged.pdf"), pdf.Body, 0o644)
	}
	mustContainAll(t, pdfText(t, pdf.Body), "Proof of notice", lukasz.ID, "purged 2033-03-20")

	if r := e.do("GET", "/v1/notices/"+letterID+"/letter.pdf", breach.RoleClerk, nil); r.Status != 409 ||
		!strings.Contains(r.problem(t).Detail, "purged on 2033-03-20") {
		t.Fatalf("reprint after the purge: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", base+"/print-batches", breach.RoleClerk, nil); r.Status != 409 || !strings.Contains(r.problem(t).Detail, "purged") {
		t.Fatalf("a print batch after the purge: %d %s", r.Status, r.Body)
	}

	var evs api.EventList
	e.do("GET", base+"/events?limit=200", breach.RoleAuditor, nil).json(t, &evs)
	last := evs.Items[len(evs.Items)-1]
	if last.Type != breach.EventBreachPurged || last.Role != breach.RoleAdmin {
		t.Fatalf("the last event %+v", last)
	}
	var view api.BreachView
	e.do("GET", base, breach.RoleAuditor, nil).json(t, &view)
	if view.Purged == nil || !reflect.DeepEqual(*view.Purged, p) {
		t.Fatalf("the breach's purge %+v, want %+v", view.Purged, p)
	}

	// Again: the same purge, nothing recorded.
	e.setNow(time.Date(2033, 4, 1, 15, 0, 0, 0, time.UTC))
	var again breach.Purge
	if r := e.do("POST", base+"/purge", breach.RoleAdmin, nil); r.Status != 200 {
		t.Fatalf("second purge: %d %s", r.Status, r.Body)
	} else {
		r.json(t, &again)
	}
	var evs2 api.EventList
	e.do("GET", base+"/events?limit=200", breach.RoleAuditor, nil).json(t, &evs2)
	if !reflect.DeepEqual(again, p) || len(evs2.Items) != len(evs.Items) {
		t.Fatalf("second purge %+v (first %+v), %d events (were %d)", again, p, len(evs2.Items), len(evs.Items))
	}
}
