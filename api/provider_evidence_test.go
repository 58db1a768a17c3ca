package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
	"github.com/breachd/breachd/notify/email/smtptest"
	"github.com/breachd/breachd/notify/voice/twiliotest"
)

// The proof of notice carries each provider's own evidence (issue 11): for an email, the SMTP
// server's final reply, the queue ID in it and the Message-ID of the message as delivered; for a
// call, Twilio's CallSid and every signed status callback, each an event in the breach's chain,
// and the answer and duration on the call's outcome. The chain still verifies.
func TestProofCarriesProviderEvidence(t *testing.T) {
	queueIDs := map[int]string{1: "4B7C21", 2: "9F00AB"}
	e, smtp, tw := newLiveEnv(t, smtptest.WithReply(func(n int) string { return "Ok: queued as " + queueIDs[n] }))
	b := dispatchSample(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	msgs, err := smtp.WaitMessages(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	emails := waitFor(t, "both emails recorded sent", func() ([]breach.Notice, bool) {
		var l api.NoticeList
		e.do("GET", "/v1/breaches/"+b.ID+"/notices?channel=email&status=sent", breach.RoleClerk, nil).json(t, &l)
		return l.Items, len(l.Items) == 2
	})

	// Email: the sent item holds what the server answered that very message, and the Message-ID
	// its header carries.
	for _, n := range emails {
		var delivered *smtptest.Message
		for i, m := range msgs {
			if len(m.To) == 1 && m.To[0] == n.Email {
				delivered = &msgs[i]
			}
		}
		if delivered == nil {
			t.Fatalf("no message to %s arrived", n.Email)
		}
		parsed, err := mail.ReadMessage(bytes.NewReader(delivered.Data))
		if err != nil {
			t.Fatal(err)
		}
		header := parsed.Header.Get("Message-Id")
		p := proof(t, e, n.ID)
		sent := itemsOf(p, breach.EventNoticeSent)
		if len(sent) != 1 {
			t.Fatalf("notice %s: %d sent items", n.ID, len(sent))
		}
		ev := sent[0].Evidence
		queueID := strings.TrimPrefix(delivered.Reply, "250 2.0.0 Ok: queued as ")
		if ev[breach.EvidenceSMTPReply] != delivered.Reply || !strings.HasPrefix(delivered.Reply, "250 2.0.0 Ok: queued as ") ||
			ev[breach.EvidenceSMTPQueueID] != queueID || (queueID != "4B7C21" && queueID != "9F00AB") {
			t.Errorf("notice %s: evidence %v, the server answered %q", n.ID, ev, delivered.Reply)
		}
		if header == "" || "<"+ev[breach.EvidenceMessageID]+">" != header {
			t.Errorf("notice %s: message_id %q, the delivered message's Message-ID %q", n.ID, ev[breach.EvidenceMessageID], header)
		}
		if len(sent[0].NotRecorded) != 0 || sent[0].ChainPosition == 0 || len(sent[0].EventHash) != 64 {
			t.Errorf("notice %s: the sent item %+v", n.ID, sent[0])
		}
		if strings.Contains(fmt.Sprint(ev), n.Email) {
			t.Errorf("notice %s: the evidence names the address: %v", n.ID, ev)
		}
	}

	// Telephone: Zoë answers and listens for 95 s.
	zoe := waitFor(t, "Zoë's call placed", func() (twiliotest.Request, bool) {
		for _, rq := range tw.Requests() {
			if rq.SID != "" && rq.To() == "+13125550190" {
				return rq, true
			}
		}
		return twiliotest.Request{}, false
	})
	zoeID := noticeParam(t, zoe.StatusCallback())
	waitFor(t, "Zoë's call recorded placed", func() (struct{}, bool) {
		return struct{}{}, len(itemsOf(proof(t, e, zoeID), breach.EventNoticeSent)) == 1
	})
	if err := tw.Play(ctx, zoe.SID, twiliotest.Conversation(95*time.Second)); err != nil {
		t.Fatal(err)
	}
	p := waitFor(t, "Zoë's call delivered", func() (breach.NoticeProof, bool) {
		p := proof(t, e, zoeID)
		return p, p.Status == breach.NoticeDelivered
	})
	if sent := itemsOf(p, breach.EventNoticeSent); len(sent) != 1 || sent[0].Evidence[breach.EvidenceCallSID] != zoe.SID || len(sent[0].NotRecorded) != 0 {
		t.Fatalf("the placed call's item: %+v", sent)
	}
	// Every callback twiliotest posted (initiated, ringing, in-progress, completed) is an item with
	// its place in the chain and what Twilio said.
	var statuses []string
	for _, it := range itemsOf(p, breach.EventCallStatus) {
		if it.ChainPosition == 0 || len(it.EventHash) != 64 || it.EventID == "" || it.Evidence[breach.EvidenceCallSID] != zoe.SID ||
			it.Evidence[breach.EvidenceProviderTime] == "" || len(it.NotRecorded) != 0 {
			t.Errorf("status callback item %+v", it)
		}
		st := it.Evidence[breach.EvidenceCallStatus]
		statuses = append(statuses, st)
		switch st {
		case "in-progress":
			if it.Evidence[breach.EvidenceAnsweredBy] != "human" {
				t.Errorf("in-progress: %v", it.Evidence)
			}
		case "completed":
			if it.Evidence[breach.EvidenceAnsweredBy] != "human" || it.Evidence[breach.EvidenceDuration] != "95" {
				t.Errorf("completed: %v", it.Evidence)
			}
		}
	}
	if strings.Join(statuses, ",") != "initiated,ringing,in-progress,completed" {
		t.Fatalf("status callbacks in the proof: %v", statuses)
	}
	attempts := itemsOf(p, breach.EventCallAttempt)
	if len(attempts) != 1 {
		t.Fatalf("%d call attempts", len(attempts))
	}
	a := attempts[0].Evidence
	if a[breach.EvidenceCallSID] != zoe.SID || a[breach.EvidenceAnsweredBy] != "human" || a[breach.EvidenceDuration] != "95" ||
		a["outcome"] != "conversation" || a["parts_delivered"] != "A, B, C, D, E" || len(attempts[0].NotRecorded) != 0 ||
		strings.Count(a[breach.EvidenceStatusCallbacks], "(#") != 4 || !strings.HasPrefix(a[breach.EvidenceStatusCallbacks], "initiated ") {
		t.Fatalf("the call's outcome: %v, not recorded %v", a, attempts[0].NotRecorded)
	}
	if !p.Disposition.Given {
		t.Fatalf("disposition %+v", p.Disposition)
	}

	// The chain, with the callbacks in it, verifies.
	var v breach.ChainVerification
	waitFor(t, "the chain verified", func() (struct{}, bool) {
		e.do("GET", "/v1/breaches/"+b.ID+"/events/verify", breach.RoleAuditor, nil).json(t, &v)
		return struct{}{}, v.Verified && v.Chained == v.Events
	})
	if v.FirstBad != nil || v.Events == 0 {
		t.Fatalf("verification %+v", v)
	}

	// The page shows the same evidence.
	r := e.do("GET", "/v1/notices/"+zoeID+"/proof.pdf", breach.RoleAuditor, nil)
	if r.Status != 200 {
		t.Fatalf("proof.pdf: %d", r.Status)
	}
	var emailPDF []byte
	if r := e.do("GET", "/v1/notices/"+emails[0].ID+"/proof.pdf", breach.RoleAuditor, nil); r.Status == 200 {
		emailPDF = r.Body
	}
	if dir := os.Getenv("BREACHD_PROOF_PDF_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "proof-call.pdf"), r.Body, 0o644)
		_ = os.WriteFile(filepath.Join(dir, "proof-email.pdf"), emailPDF, 0o644)
	}
	mustContainAll(t, pdfPlainText(t, r.Body), zoe.SID, "answered_by: human", "duration_seconds: 95", "status_callbacks: initiated")
	emailProof := proof(t, e, emails[0].ID)
	mustContainAll(t, pdfPlainText(t, emailPDF), "smtp_final_reply: 250 2.0.0 Ok: queued", "message_id:",
		"smtp_queue_id: "+itemsOf(emailProof, breach.EventNoticeSent)[0].Evidence[breach.EvidenceSMTPQueueID])
}

// pdfPlainText is a PDF's text in reading order (pdftotext without -layout, so that a table cell's
// lines follow each other) with every run of white space made one space: a cell's "key: value"
// is found wherever the column wraps it.
func pdfPlainText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext not found: install poppler-utils (apt-get install poppler-utils)")
	}
	cmd := exec.Command("pdftotext", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// proof fetches a notice's proof as an auditor.
func proof(t *testing.T, e *env, nid string) breach.NoticeProof {
	t.Helper()
	r := e.do("GET", "/v1/notices/"+nid+"/proof", breach.RoleAuditor, nil)
	if r.Status != 200 {
		t.Fatalf("proof of %s: %d %s", nid, r.Status, r.Body)
	}
	var p breach.NoticeProof
	r.json(t, &p)
	return p
}

func itemsOf(p breach.NoticeProof, typ breach.EventType) []breach.ProofItem {
	var out []breach.ProofItem
	for _, it := range p.Items {
		if it.Type == typ {
			out = append(out, it)
		}
	}
	return out
}
