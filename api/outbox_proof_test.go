package api_test

import (
	"bytes"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
)

// An email written to the outbox has its Message-ID in its proof, the very header of its .eml
// file, and no server reply: no server answered, so the reply and queue ID stay not recorded.
func TestProofOfOutboxEmailHasItsMessageID(t *testing.T) {
	e := newEnv(t)
	_, emails := dispatchedSample(t, e)
	for addr, n := range emails {
		raw, err := os.ReadFile(filepath.Join(e.outbox, n.ID+".eml"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		header := strings.Trim(m.Header.Get("Message-Id"), "<>")
		var p breach.NoticeProof
		if r := e.do("GET", "/v1/notices/"+n.ID+"/proof", breach.RoleAuditor, nil); r.Status != 200 {
			t.Fatalf("proof of %s: %d %s", addr, r.Status, r.Body)
		} else {
			r.json(t, &p)
		}
		i := slices.IndexFunc(p.Items, func(it breach.ProofItem) bool { return it.Type == breach.EventNoticeSent })
		if i < 0 {
			t.Fatalf("the proof of %s has no %s item: %+v", addr, breach.EventNoticeSent, p.Items)
		}
		sent := p.Items[i]
		if header == "" || sent.Evidence[breach.EvidenceMessageID] != header {
			t.Errorf("%s: message_id %q, the file's Message-ID %q", addr, sent.Evidence[breach.EvidenceMessageID], header)
		}
		if want := []string{breach.EvidenceSMTPReply, breach.EvidenceSMTPQueueID}; !slices.Equal(sent.NotRecorded, want) {
			t.Errorf("%s: not recorded %q, want %q", addr, sent.NotRecorded, want)
		}
		for _, k := range []string{breach.EvidenceSMTPReply, breach.EvidenceSMTPQueueID} {
			if v, ok := sent.Evidence[k]; ok {
				t.Errorf("%s: the outbox email claims %s %q", addr, k, v)
			}
		}
		// Nor do the words: the record says the file was written, not that a server took it.
		if sent.Evidence[breach.EvidenceWrittenTo] != "outbox" || !strings.Contains(p.Disposition.How, "no mail server took it") ||
			strings.Contains(p.Disposition.How, "accepted by the mail server") {
			t.Errorf("%s: written_to %q, disposition %q: not said to be an outbox file", addr, sent.Evidence[breach.EvidenceWrittenTo], p.Disposition.How)
		}
	}
}
