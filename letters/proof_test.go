package letters

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
)

// callProof is the proof of a phone notice called through Twilio once for each outcome, each call
// with its four status callbacks: with two calls or more, more items than one page holds.
func callProof(outcomes ...string) breach.NoticeProof {
	at := time.Date(2026, 4, 1, 14, 0, 0, 0, time.UTC)
	pos := 0
	item := func(t breach.EventType, actor string, ev map[string]string) breach.ProofItem {
		pos++
		at = at.Add(time.Minute)
		return breach.ProofItem{Type: t, At: at, Actor: actor, Role: "system", Summary: string(t), Evidence: ev,
			EventID: fmt.Sprintf("%d-0", pos), ChainPosition: pos, EventHash: strings.Repeat(fmt.Sprintf("%x", pos%16), 64)}
	}
	p := breach.NoticeProof{NoticeID: "nt_01J9Z3M5Q8R2T4V6X8Z0B2D4F6", BreachID: "br_01J9Z3M2A4C6E8G0J2L4N6Q8S0", GeneratedAt: at,
		Channel: breach.MethodPhone, Status: breach.NoticeDelivered, Language: "en",
		Who:         breach.ProofWho{Addressee: "Zoë O'Brien", People: []breach.ProofPerson{{RecipientID: "rc_1", ExternalID: "E-2002", Name: "Zoë O'Brien", Row: 5, Upload: breach.NotRecorded}}},
		Contact:     breach.ProofContact{Kind: "phone", Value: "+13125550190", Source: "upload row 5, column phone"},
		Route:       breach.ProofRoute{RulePack: breach.RulePack{ID: "in-school-guideline", Version: "2009-11-13", Jurisdiction: "IN"}, Codes: []string{"adult_direct", "phone_call_task"}},
		Disposition: breach.ProofDisposition{Given: true, How: "telephone conversation with all five parts said", Text: "Notice was given."}}
	p.Items = append(p.Items, item(breach.EventNoticeQueued, "admin-1b3af7d2", map[string]string{"channel": "phone"}))
	for call, outcome := range outcomes {
		sid := fmt.Sprintf("CA%032d", call+1)
		p.Items = append(p.Items, item(breach.EventNoticeSent, "worker", map[string]string{"call_sid": sid, "attempt": fmt.Sprint(call + 1)}))
		var cbs []string
		for seq, st := range []string{"initiated", "ringing", "in-progress", "completed"} {
			ev := map[string]string{"call_sid": sid, "call_status": st, "sequence": fmt.Sprint(seq), "provider_timestamp": at.Format(time.RFC3339)}
			if seq >= 2 {
				ev["answered_by"] = "human"
			}
			it := item(breach.EventCallStatus, "twilio", ev)
			p.Items = append(p.Items, it)
			cbs = append(cbs, fmt.Sprintf("%s %s (#%d)", st, it.At.Format(time.RFC3339), it.ChainPosition))
		}
		p.Items = append(p.Items, item(breach.EventCallAttempt, "twilio", map[string]string{"call_sid": sid, "outcome": outcome, "by": "twilio",
			"answered_by": "human", "duration_seconds": "95", "call_status": "completed", "status_callbacks": strings.Join(cbs, "; ")}))
	}
	p.Items = append(p.Items, item(breach.EventNoticeDelivered, "twilio", map[string]string{}))
	return p
}

// A proof with more items than the page holds folds Twilio's status callbacks into their calls'
// rows first (each call.attempt lists them with their chain positions), and says so; every call's
// outcome stays on the page.
func TestProofOfNoticeFoldsStatusCallbacks(t *testing.T) {
	p := callProof("voicemail", "conversation")
	var buf bytes.Buffer
	if err := testDocuments(t).ProofOfNotice(context.Background(), &buf, p); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "proof.pdf")
	if dir := os.Getenv("LETTERS_PNG_DIR"); dir != "" {
		path = filepath.Join(dir, "proof-calls.pdf")
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := pdfPages(t, path); n != 1 {
		t.Fatalf("%d pages, want 1", n)
	}
	text := strings.Join(strings.Fields(poppler(t, "pdftotext", path, "-")), " ")
	for _, want := range []string{"8 status callbacks of Twilio (call.status events) are listed on the call.attempt row",
		"outcome: voicemail", "outcome: conversation", "status_callbacks: initiated", "notice.delivered"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "left out") {
		t.Errorf("an event other than a status callback was left out:\n%s", text)
	}
}

func TestProofRows(t *testing.T) {
	all := callProof("no_answer", "voicemail", "conversation").Items // 1 queued, 3 × (sent, 4 callbacks, attempt), 1 delivered = 20
	count := func(items []breach.ProofItem, typ breach.EventType) (n int) {
		for _, it := range items {
			if it.Type == typ {
				n++
			}
		}
		return n
	}
	tests := []struct {
		keep, folded, left, callbacks int
	}{
		{keep: 20, folded: 0, left: 0, callbacks: 12},
		{keep: 15, folded: 5, left: 0, callbacks: 7},
		{keep: 8, folded: 12, left: 0, callbacks: 0},
		{keep: 5, folded: 12, left: 3, callbacks: 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint("keep ", tc.keep), func(t *testing.T) {
			items, folded, left := proofRows(all, tc.keep)
			if len(items) != tc.keep || folded != tc.folded || left != tc.left || count(items, breach.EventCallStatus) != tc.callbacks {
				t.Fatalf("%d items, %d folded, %d left out, %d callbacks; want %+v", len(items), folded, left, count(items, breach.EventCallStatus), tc)
			}
			if tc.left > 0 && (items[0].Type != breach.EventNoticeQueued || items[len(items)-1].Type != breach.EventNoticeDelivered) {
				t.Fatalf("the first and the newest must stay: %v … %v", items[0].Type, items[len(items)-1].Type)
			}
		})
	}
	// A callback whose call.attempt does not list it (recorded before breachd listed them) is an
	// event like any other: it is never folded.
	old := callProof("no_answer", "voicemail", "conversation").Items
	for i := range old {
		delete(old[i].Evidence, breach.EvidenceStatusCallbacks)
	}
	if _, folded, left := proofRows(old, 15); folded != 0 || left != 5 {
		t.Fatalf("unlisted callbacks: %d folded, %d left out", folded, left)
	}
}
