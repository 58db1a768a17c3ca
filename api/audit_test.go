package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// testSigningKey signs the test service's checkpoints.
var testSigningKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, ed25519.SeedSize))

// The auditor's session of the README: verify the chain, fetch one person's proof (JSON and PDF),
// export and verify offline; then an event edited in Redis is found at its place.
func TestAuditTrailAndProofOfNotice(t *testing.T) {
	e := newEnv(t)
	if err := e.worker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.worker.Shutdown)
	b := dispatchSample(t, e)
	emails := waitFor(t, "both emails sent", func() ([]breach.Notice, bool) {
		var l api.NoticeList
		e.do("GET", "/v1/breaches/"+b.ID+"/notices?channel=email&status=sent", breach.RoleClerk, nil).json(t, &l)
		return l.Items, len(l.Items) == 2
	})
	var lukasz breach.Notice
	for _, n := range emails {
		if n.Email == "lukasz.zolc@example.org" {
			lukasz = n
		}
	}
	if r := e.do("POST", "/v1/notices/"+lukasz.ID+"/bounced", breach.RoleClerk, map[string]any{"reason": "550 5.1.1 mailbox unavailable"}); r.Status != 200 {
		t.Fatalf("bounce: %d %s", r.Status, r.Body)
	}

	// 1. Verify the chain.
	var v breach.ChainVerification
	if r := e.do("GET", "/v1/breaches/"+b.ID+"/events/verify", breach.RoleAuditor, nil); r.Status != 200 {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	} else {
		r.json(t, &v)
	}
	if !v.Verified || v.Events == 0 || v.Chained != v.Events || v.FirstBad != nil {
		t.Fatalf("verification of an untouched breach: %+v", v)
	}

	// 2. One person's proof.
	var p breach.NoticeProof
	if r := e.do("GET", "/v1/notices/"+lukasz.ID+"/proof", breach.RoleAuditor, nil); r.Status != 200 {
		t.Fatalf("proof: %d %s", r.Status, r.Body)
	} else {
		r.json(t, &p)
	}
	if p.Contact.Kind != "email" || p.Contact.Value != "lukasz.zolc@example.org" || !strings.Contains(p.Contact.Source, "upload row ") ||
		len(p.Who.People) != 1 || p.Who.People[0].Row == 0 || p.Who.People[0].Upload != breach.NotRecorded {
		t.Fatalf("who and contact: %+v %+v", p.Who, p.Contact)
	}
	if p.Route.RulePack.ID != "in-school-guideline" || p.Route.Citation == "" || !strings.Contains(strings.Join(p.Route.Codes, ","), "email_primary") || p.Deadline.String() != "2026-04-17" {
		t.Fatalf("route and deadline: %+v %s", p.Route, p.Deadline)
	}
	types := map[breach.EventType]breach.ProofItem{}
	for _, it := range p.Items {
		if it.ChainPosition == 0 || len(it.EventHash) != 64 || it.EventID == "" {
			t.Fatalf("item without its place in the chain: %+v", it)
		}
		types[it.Type] = it
	}
	for _, want := range []breach.EventType{breach.EventNoticeQueued, breach.EventNoticeSent, breach.EventNoticeBounced, breach.EventNoticeFallback} {
		if _, ok := types[want]; !ok {
			t.Fatalf("the proof has no %s item: %+v", want, p.Items)
		}
	}
	if sent := types[breach.EventNoticeSent]; !strings.Contains(strings.Join(sent.NotRecorded, ","), "smtp_final_reply") {
		t.Fatalf("the sent item does not say what is not recorded: %+v", sent)
	}
	if bounced := types[breach.EventNoticeBounced]; bounced.Evidence["smtp_status"] != "550 5.1.1" {
		t.Fatalf("the bounce's evidence: %+v", bounced.Evidence)
	}
	if p.Disposition.Given || p.Fallback.FallbackID == "" || !strings.Contains(p.Disposition.How, p.Fallback.FallbackID) {
		t.Fatalf("disposition %+v, fallback %+v", p.Disposition, p.Fallback)
	}
	var letter breach.NoticeProof
	e.do("GET", "/v1/notices/"+p.Fallback.FallbackID+"/proof", breach.RoleAdmin, nil).json(t, &letter)
	if letter.Fallback.FallbackFor != lukasz.ID || letter.Contact.Kind != "postal_address" || !strings.Contains(letter.Contact.Source, "address_line1") {
		t.Fatalf("the fallback letter's proof: %+v %+v", letter.Fallback, letter.Contact)
	}

	// The same on one page.
	r := e.do("GET", "/v1/notices/"+lukasz.ID+"/proof.pdf", breach.RoleAuditor, nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("proof.pdf: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	if dir := os.Getenv("BREACHD_PROOF_PDF_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "proof.pdf"), r.Body, 0o644)
	}
	if n := bytes.Count(r.Body, []byte("/Type /Page\n")) + bytes.Count(r.Body, []byte("/Type /Page ")); n > 1 {
		t.Fatalf("the proof has %d pages, want 1", n)
	}
	mustContainAll(t, pdfText(t, r.Body), "Proof of notice", lukasz.ID, "smtp_status: 550 5.1.1", "NOT GIVEN")

	// 3. Export and verify offline.
	r = e.do("GET", "/v1/breaches/"+b.ID+"/events/export", breach.RoleAuditor, nil)
	if r.Status != 200 {
		t.Fatalf("export: %d %s", r.Status, r.Body)
	}
	var key struct {
		PublicKey string `json:"public_key"`
	}
	e.do("GET", "/v1/signing-key", "", nil).json(t, &key)
	pub, err := breach.ParsePublicKey(key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if rep := breach.VerifyExport(bytes.NewReader(r.Body), pub); !rep.Verified || rep.Events != v.Events {
		t.Fatalf("offline verification of the export: %+v", rep)
	}

	// An event edited in Redis: the bounce's SMTP status rewritten.
	ctx := context.Background()
	key2 := "breachd:breach:{" + b.ID + "}:events"
	raw, err := e.rdb.Do(ctx, "XRANGE", key2, "-", "+").Slice()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.rdb.Del(ctx, key2).Err(); err != nil {
		t.Fatal(err)
	}
	bad := ""
	for _, x := range raw {
		pair := x.([]any)
		fields := pair[1].([]any)
		for i := 0; i+1 < len(fields); i += 2 {
			if bad == "" && fields[i] == "data" && strings.Contains(fields[i+1].(string), `"smtp_status":"550 5.1.1"`) {
				fields[i+1] = strings.Replace(fields[i+1].(string), "550 5.1.1", "250 2.0.0", 1)
				bad = pair[0].(string)
			}
		}
		if err := e.rdb.Do(ctx, append([]any{"XADD", key2, pair[0]}, fields...)...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	e.do("GET", "/v1/breaches/"+b.ID+"/events/verify", breach.RoleAdmin, nil).json(t, &v)
	if v.Verified || v.FirstBad == nil || v.FirstBad.EventID != bad || v.FirstBad.Position != types[breach.EventNoticeBounced].ChainPosition {
		t.Fatalf("after the bounce event was edited: %+v (first bad %+v), want %s at %d", v, v.FirstBad, bad, types[breach.EventNoticeBounced].ChainPosition)
	}
	// The old export still verifies (it was signed before the edit); a new one shows the edit at its line.
	r = e.do("GET", "/v1/breaches/"+b.ID+"/events/export", breach.RoleAuditor, nil)
	if rep := breach.VerifyExport(bytes.NewReader(r.Body), pub); rep.Verified || rep.Line != v.FirstBad.Position+1 {
		t.Fatalf("export after the edit: %+v, want line %d", rep, v.FirstBad.Position+1)
	}
}

// A checkpoint is signed on every close, and on demand.
func TestCheckpointOnCloseAndOnDemand(t *testing.T) {
	e := newEnv(t)
	b := createBreach(t, e, nil)
	var cp breach.SignedCheckpoint
	if r := e.do("POST", "/v1/breaches/"+b.ID+"/events/checkpoints", breach.RoleAuditor, nil); r.Status != 201 {
		t.Fatalf("checkpoint: %d %s", r.Status, r.Body)
	} else {
		r.json(t, &cp)
	}
	if cp.Reason != breach.CheckpointOnDemand || cp.EventCount != 1 || cp.Verify(testSigningKey.Public().(ed25519.PublicKey)) != nil {
		t.Fatalf("on-demand checkpoint %+v", cp)
	}
	if r := e.do("POST", "/v1/breaches/"+b.ID+"/close", breach.RoleAdmin,
		map[string]any{"summary": "tabletop exercise", "waivers": waiveOpen(t, e, b.ID, "tabletop exercise, no notice")}); r.Status != 200 {
		t.Fatalf("close: %d %s", r.Status, r.Body)
	}
	var v breach.ChainVerification
	e.do("GET", "/v1/breaches/"+b.ID+"/events/verify", breach.RoleAuditor, nil).json(t, &v)
	if !v.Verified || v.Checkpoints != 2 || v.CheckpointsVerified != 2 {
		t.Fatalf("after close: %+v, want two verified checkpoints (on demand, close)", v)
	}
	if r := e.do("GET", "/v1/breaches/br_01JQ6Z8Y3T9V5K2M4N7P0R1S2T/events/verify", breach.RoleAuditor, nil); r.Status != 404 {
		t.Fatalf("unknown breach: %d", r.Status)
	}
}
