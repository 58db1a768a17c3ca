package email_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/notify/email"
	"github.com/breachd/breachd/notify/email/smtptest"
)

// Each accepted message's receipt is the server's final reply as it came, the queue ID in it and
// the Message-ID the delivered message carries; a refused message has none.
func TestSendEachReceipts(t *testing.T) {
	replies := map[int]string{
		1: "Ok: queued as 4B7C21",                        // Postfix
		2: "OK id=1qAbCd-0001Xy-Ab",                      // Exim
		3: "Message accepted\nfor " + "<ok@example.org>", // multi-line, quoting the recipient
		4: "Message accepted for delivery",               // no queue ID
	}
	s := smtptest.New(t, smtptest.WithReply(func(n int) string { return replies[n] }))
	s.On("gone@example.org", smtptest.Reject)
	c := newSMTP(t, s)
	msgs := []breach.EmailMessage{
		notice("nt_1", "a@example.org", "Ana"),
		notice("nt_2", "b@example.org", "Ben"),
		notice("nt_gone", "gone@example.org", "Gus"),
		notice("nt_3", "OK@example.org", "Olu"),
		notice("nt_4", "d@example.org", "Dee"),
	}
	got := make([]breach.EmailReceipt, len(msgs))
	answered := make([]bool, len(msgs))
	errs, err := c.SendEach(context.Background(), msgs, nil, func(i int, r breach.EmailReceipt, err error) {
		got[i], answered[i] = r, true
		if (err == nil) != (r != breach.EmailReceipt{}) {
			t.Errorf("message %d: receipt %+v with error %v", i, r, err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	delivered := s.Messages()
	if len(delivered) != 4 {
		t.Fatalf("%d messages delivered, want 4", len(delivered))
	}
	wantQueue := map[string]string{"nt_1": "4B7C21", "nt_2": "1qAbCd-0001Xy-Ab"} // the others: none
	for i, d := 0, 0; i < len(msgs); i++ {
		if !answered[i] {
			t.Fatalf("after was not called for message %d", i)
		}
		if msgs[i].To == "gone@example.org" {
			if errs[i] == nil || got[i] != (breach.EmailReceipt{}) {
				t.Errorf("the refused message: error %v, receipt %+v", errs[i], got[i])
			}
			continue
		}
		m := delivered[d]
		d++
		wantReply := m.Reply
		if msgs[i].To == "OK@example.org" {
			// The server quoted the recipient (in other case): the receipt never holds the address.
			wantReply = "250-Message accepted\n250 2.0.0 for <[recipient]>"
			if m.Reply != "250-Message accepted\n250 2.0.0 for <ok@example.org>" {
				t.Fatalf("the server sent %q", m.Reply)
			}
		}
		if errs[i] != nil || got[i].Reply != wantReply {
			t.Errorf("message %d: error %v, reply %q, want %q", i, errs[i], got[i].Reply, wantReply)
		}
		if q := wantQueue[msgs[i].NoticeID]; got[i].QueueID != q {
			t.Errorf("message %d: queue ID %q, want %q (reply %q)", i, got[i].QueueID, q, got[i].Reply)
		}
		header := parse(t, m.Data).header.Get("Message-Id")
		if header == "" || "<"+got[i].MessageID+">" != header || got[i].MessageID != email.MessageID(msgs[i].NoticeID, from) {
			t.Errorf("message %d: Message-ID %q, header %q", i, got[i].MessageID, header)
		}
	}
	// Without WithReply the server says go-smtp's default, which names no queue ID.
	plain := smtptest.New(t)
	var r breach.EmailReceipt
	if _, err := newSMTP(t, plain).SendEach(context.Background(), msgs[:1], nil, func(_ int, rr breach.EmailReceipt, _ error) { r = rr }); err != nil {
		t.Fatal(err)
	}
	if r.Reply != "250 2.0.0 OK: queued" || r.QueueID != "" || r.Reply != plain.Messages()[0].Reply {
		t.Fatalf("default receipt %+v", r)
	}
}

func TestQueueID(t *testing.T) {
	const own = "notice-nt_1@lincoln.k12.example"
	tests := []struct {
		name, reply, want string
	}{
		{"postfix", "250 2.0.0 Ok: queued as 4B7C21", "4B7C21"},
		{"postfix long queue ID", "250 2.0.0 Ok: queued as 4QhYxN2Zr3z9tqC", "4QhYxN2Zr3z9tqC"},
		{"postfix with a trailing period", "250 2.0.0 Ok: queued as 4B7C21.", "4B7C21"},
		{"exim", "250 OK id=1qAbCd-0001Xy-Ab", "1qAbCd-0001Xy-Ab"},
		{"generic angle brackets", "250 2.0.0 <20260401140210.ab12@mx.example> accepted", "20260401140210.ab12@mx.example"},
		{"our own Message-ID echoed is no queue ID", "250 2.6.0 <" + own + "> Queued mail for delivery", ""},
		{"own echoed, then a queue ID", "250 2.6.0 <" + own + "> [InternalId=1] queued as AB12", "AB12"},
		{"multi-line", "250-mx.example\n250 2.0.0 Ok: queued as 9F00", "9F00"},
		{"none", "250 2.0.0 Message accepted for delivery", ""},
		{"gmail", "250 2.0.0 OK  1712345678 a1-20020a170902 - gsmtp", ""},
		{"empty", "", ""},
		{"redacted recipient in brackets", "250 2.0.0 <[recipient]> ok", ""},
		{"too long", "250 queued as " + strings.Repeat("A", 200), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := email.QueueID(tc.reply, own); got != tc.want {
				t.Fatalf("QueueID(%q) = %q, want %q", tc.reply, got, tc.want)
			}
		})
	}
}

func FuzzQueueID(f *testing.F) {
	for _, s := range []string{"250 2.0.0 Ok: queued as 4B7C21", "250 OK id=1qAbCd-0001Xy-Ab", "250 <a@b> x", "250 queued as ."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		id := email.QueueID(reply, "notice-x@y")
		if id == "" {
			return
		}
		if len(id) > 128 || !strings.Contains(reply, id) || strings.ContainsAny(id, " \r\n<>[]") || strings.HasSuffix(id, ".") {
			t.Fatalf("QueueID(%q) = %q", reply, id)
		}
	})
}

func ExampleQueueID() {
	fmt.Println(email.QueueID("250 2.0.0 Ok: queued as 4B7C21", "notice-nt_1@example.org"))
	fmt.Println(email.QueueID("250 OK id=1qAbCd-0001Xy-Ab", "notice-nt_1@example.org"))
	fmt.Println(email.QueueID("250 2.0.0 Message accepted", "notice-nt_1@example.org") == "")
	// Output:
	// 4B7C21
	// 1qAbCd-0001Xy-Ab
	// true
}
