package email_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/notify/email"
	"github.com/breachd/breachd/notify/email/smtptest"
)

func newOutbox(t *testing.T) *email.Outbox {
	t.Helper()
	o, err := email.NewOutbox(email.OutboxConfig{
		Dir:      filepath.Join(t.TempDir(), "outbox"),
		From:     from,
		FromName: "Distrito Escolar Unificado de Lincoln",
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOutboxWritesParsableFiles(t *testing.T) {
	o := newOutbox(t)
	msgs := []breach.EmailMessage{
		notice("01JABCDEF0000000000000001", "jose@example.org", "José Núñez-Peña"),
		notice("01JABCDEF0000000000000002", "van@example.org", "Nguyễn Văn An"),
		notice("bad/id", "x@example.org", "X"),
	}
	errs, err := o.Send(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	var se *breach.SendError
	if errs[0] != nil || errs[1] != nil || !errors.As(errs[2], &se) || !se.Permanent {
		t.Fatalf("errs = %v", errs)
	}
	entries, err := os.ReadDir(o.Dir())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s: mode %v, want 0600", e.Name(), perm)
		}
	}
	if want := "01JABCDEF0000000000000001.eml,01JABCDEF0000000000000002.eml"; strings.Join(names, ",") != want {
		t.Errorf("files %v, want %s (and no temporary files)", names, want)
	}
	for _, m := range msgs[:2] {
		raw, err := os.ReadFile(o.Path(m.NoticeID))
		if err != nil {
			t.Fatal(err)
		}
		checkMessage(t, raw, m)
	}
}

// The file is the message SMTP sends: the same headers and bodies, part for part.
func TestOutboxMatchesSMTP(t *testing.T) {
	s := smtptest.New(t)
	c := newSMTP(t, s)
	o := newOutbox(t)
	m := notice("n1", "jose@example.org", "José Núñez-Peña")
	if errs, err := c.Send(context.Background(), []breach.EmailMessage{m}); err != nil || errs[0] != nil {
		t.Fatal(errs, err)
	}
	if errs, err := o.Send(context.Background(), []breach.EmailMessage{m}); err != nil || errs[0] != nil {
		t.Fatal(errs, err)
	}
	file, err := os.ReadFile(o.Path("n1"))
	if err != nil {
		t.Fatal(err)
	}
	sent, saved := parse(t, s.Messages()[0].Data), parse(t, file)
	for _, h := range []string{"From", "To", "Subject", "Message-Id", "Auto-Submitted", "X-Breachd-Notice",
		"Content-Language", "Mime-Version"} {
		if sent.header.Get(h) != saved.header.Get(h) {
			t.Errorf("%s: sent %q, saved %q", h, sent.header.Get(h), saved.header.Get(h))
		}
	}
	if sent.text != saved.text || sent.html != saved.html {
		t.Error("bodies differ")
	}
}

func TestOutboxRewriteIsIdempotent(t *testing.T) {
	o := newOutbox(t)
	first := notice("n1", "jose@example.org", "José Núñez-Peña")
	second := first
	second.Subject = "Aviso (reenviado)"
	for _, m := range []breach.EmailMessage{first, second} {
		if errs, err := o.Send(context.Background(), []breach.EmailMessage{m}); err != nil || errs[0] != nil {
			t.Fatal(errs, err)
		}
	}
	entries, err := os.ReadDir(o.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("%d files after writing one notice twice, want 1", len(entries))
	}
	raw, err := os.ReadFile(o.Path("n1"))
	if err != nil {
		t.Fatal(err)
	}
	checkMessage(t, raw, second)
}

func TestOutboxUnwritable(t *testing.T) {
	o := newOutbox(t)
	// The directory is replaced by a file (a permission change would not stop root).
	if err := os.Remove(o.Dir()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(o.Dir(), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	errs, err := o.Send(context.Background(), []breach.EmailMessage{notice("n1", "a@example.org", "A")})
	var se *breach.SendError
	if err != nil || !errors.As(errs[0], &se) || se.Permanent {
		t.Fatalf("errs=%v err=%v, want a temporary per-message error", errs, err)
	}
}

func TestNewOutboxValidates(t *testing.T) {
	_, err := email.NewOutbox(email.OutboxConfig{})
	var be *breach.Error
	if !errors.As(err, &be) || len(be.Fields) != 2 {
		t.Fatalf("err = %v, want Dir and From named", err)
	}
}

// SendEach gives each written file a receipt with the file's own Message-ID and nothing a server
// would have said; a message that cannot be built gets its error and the zero receipt; before
// stops the batch as the SMTP mailer's does.
func TestOutboxSendEachReceipts(t *testing.T) {
	o := newOutbox(t)
	msgs := []breach.EmailMessage{
		notice("01JABCDEF0000000000000001", "jose@example.org", "José Núñez-Peña"),
		notice("01JABCDEF0000000000000002", "bad address", "X"),
		notice("01JABCDEF0000000000000003", "van@example.org", "Nguyễn Văn An"),
		notice("01JABCDEF0000000000000004", "ana@example.org", "Ana"),
	}
	var befores []int
	receipts := map[int]breach.EmailReceipt{}
	afterErrs := map[int]error{}
	stop := errors.New("stop here")
	errs, err := o.SendEach(context.Background(), msgs, func(i int) error {
		befores = append(befores, i)
		if i == 3 {
			return stop
		}
		return nil
	}, func(i int, r breach.EmailReceipt, err error) {
		if _, err := os.Stat(o.Path(msgs[i].NoticeID)); err == nil != (r != breach.EmailReceipt{}) {
			t.Errorf("after(%d): file there %v, receipt %+v", i, err == nil, r)
		}
		receipts[i], afterErrs[i] = r, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(befores) != "[0 1 2 3]" || len(receipts) != 3 {
		t.Fatalf("before ran for %v, after for %v", befores, receipts)
	}
	for _, i := range []int{0, 2} {
		raw, err := os.ReadFile(o.Path(msgs[i].NoticeID))
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		want := breach.EmailReceipt{MessageID: strings.Trim(m.Header.Get("Message-Id"), "<>"), Outbox: true}
		if errs[i] != nil || afterErrs[i] != nil || receipts[i] != want || want.MessageID == "" {
			t.Errorf("message %d: %v, %v, receipt %+v, want %+v", i, errs[i], afterErrs[i], receipts[i], want)
		}
	}
	var se *breach.SendError
	if !errors.As(errs[1], &se) || !se.Permanent || afterErrs[1] != errs[1] || receipts[1] != (breach.EmailReceipt{}) {
		t.Errorf("unbuildable message: %v, after %v %+v", errs[1], afterErrs[1], receipts[1])
	}
	if !errors.As(errs[3], &se) || se.Permanent || !errors.Is(errs[3], stop) {
		t.Errorf("stopped message: %v", errs[3])
	}
	if _, err := os.Stat(o.Path(msgs[3].NoticeID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stopped message was written: %v", err)
	}
}
