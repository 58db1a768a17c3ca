package dsn_test

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/notify/dsn"
	"github.com/breachd/breachd/notify/dsn/imaptest"
	"github.com/breachd/breachd/notify/email/smtptest"
)

func appendFile(t *testing.T, s *imaptest.Server, name string) uint32 {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return s.Append(t, raw)
}

func newMailbox(t *testing.T, s *imaptest.Server, mod func(*dsn.Config)) *dsn.Mailbox {
	t.Helper()
	cfg := dsn.Config{Host: s.Host, Port: s.Port, Username: imaptest.Username, Password: imaptest.Password,
		TLS: dsn.TLSNone, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	m, err := dsn.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMailboxPoll: a real IMAP server; what the handler records is marked \Seen with its outcome,
// what it fails on stays unread for the next poll, and a second poll reads nothing again.
func TestMailboxPoll(t *testing.T) {
	s := imaptest.New(t)
	postfix := appendFile(t, s, "postfix-failed.eml")
	junk := appendFile(t, s, "malformed-binary.eml")
	unmatched := appendFile(t, s, "unmatched.eml")
	m := newMailbox(t, s, nil)
	ctx := context.Background()

	var seen []breach.BounceMessage
	failOn := unmatched
	handle := func(bm breach.BounceMessage) (breach.BounceOutcome, error) {
		seen = append(seen, bm)
		switch {
		case bm.UID == failOn:
			return "", errors.New("the store is down")
		case bm.Err != nil:
			return breach.BounceMalformed, nil
		}
		return breach.BounceRecorded, nil
	}
	if err := m.Poll(ctx, handle); err == nil || err.Error() != "the store is down" {
		t.Fatalf("poll: %v", err)
	}
	if len(seen) != 3 || seen[0].UID != postfix || seen[0].DSN == nil || seen[0].DSN.OriginalNoticeID != sampleNotice ||
		seen[1].UID != junk || !errors.Is(seen[1].Err, dsn.ErrNotDSN) || len(seen[0].SHA256) != 64 {
		t.Fatalf("read %+v", seen)
	}
	want := map[uint32][]string{postfix: {`$breachd-recorded`, `\Seen`}, junk: {`$breachd-malformed`, `\Seen`}, unmatched: nil}
	if got := s.Flags(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("flags after the first poll %v, want %v", got, want)
	}

	seen, failOn = nil, 0
	if err := m.Poll(ctx, handle); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0].UID != unmatched || seen[0].DSN == nil {
		t.Fatalf("second poll read %+v", seen)
	}
	seen = nil
	if err := m.Poll(ctx, handle); err != nil || len(seen) != 0 {
		t.Fatalf("third poll: %v, read %d", err, len(seen))
	}
	// The same message read twice hashes the same (what makes recording idempotent).
	raw, _ := os.ReadFile("testdata/unmatched.eml")
	again := s.Append(t, raw)
	if err := m.Poll(ctx, handle); err != nil || len(seen) != 1 || seen[0].UID != again {
		t.Fatalf("poll of the copy: %v %+v", err, seen)
	}
}

// TestMailboxSTARTTLS: TLS mandatory on a port other than 993 is STARTTLS, with the certificate
// checked; an untrusted certificate is refused.
func TestMailboxSTARTTLS(t *testing.T) {
	cert, pool := smtptest.SelfSigned(t)
	s := imaptest.New(t, imaptest.WithTLS(cert))
	appendFile(t, s, "exim-failed.eml")
	n := 0
	handle := func(bm breach.BounceMessage) (breach.BounceOutcome, error) { n++; return breach.BounceRecorded, nil }
	m := newMailbox(t, s, func(c *dsn.Config) { c.TLS = dsn.TLSMandatory; c.TLSConfig = &tls.Config{RootCAs: pool} })
	if err := m.Poll(context.Background(), handle); err != nil || n != 1 {
		t.Fatalf("poll: %v, %d read", err, n)
	}
	untrusted := newMailbox(t, s, func(c *dsn.Config) { c.TLS = dsn.TLSMandatory })
	if err := untrusted.Poll(context.Background(), handle); breach.ErrorCode(err) != breach.EUNAVAILABLE {
		t.Fatalf("an untrusted certificate: %v", err)
	}
	plain := newMailbox(t, s, nil)
	if err := plain.Poll(context.Background(), handle); breach.ErrorCode(err) != breach.EUNAVAILABLE {
		t.Fatalf("a plain login where the server asks for TLS: %v", err)
	}
}

func TestMailboxUnavailable(t *testing.T) {
	s := imaptest.New(t)
	handle := func(breach.BounceMessage) (breach.BounceOutcome, error) { return breach.BounceRecorded, nil }
	for name, mod := range map[string]func(*dsn.Config){
		"wrong password": func(c *dsn.Config) { c.Password = "wrong" },
		"no mailbox":     func(c *dsn.Config) { c.Mailbox = "Bounces" },
		"nobody listens": func(c *dsn.Config) { c.Port = 1 },
	} {
		t.Run(name, func(t *testing.T) {
			err := newMailbox(t, s, mod).Poll(context.Background(), handle)
			if breach.ErrorCode(err) != breach.EUNAVAILABLE {
				t.Fatalf("%v", err)
			}
			if e := err.Error(); strings.Contains(e, imaptest.Password) || strings.Contains(e, "wrong\"") {
				t.Fatalf("the error shows the password: %s", e)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	_, err := dsn.New(dsn.Config{TLS: "maybe", Port: 70000})
	var be *breach.Error
	if !errors.As(err, &be) || be.Code != breach.EINVALID {
		t.Fatalf("%v", err)
	}
	var fields []string
	for _, f := range be.Fields {
		fields = append(fields, f.Field)
	}
	if !reflect.DeepEqual(fields, []string{"TLS", "Host", "Port", "Username", "Password"}) {
		t.Fatalf("fields %v", fields)
	}
}
