package dsn_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/notify/dsn"
)

const sampleNotice = "nt_SAMPLE00000000000000000000"

func parseFile(t *testing.T, name string) (*breach.DSN, error) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return dsn.Parse(bytes.NewReader(raw))
}

// TestParseRealReports: the reports of Postfix, Exim, Gmail and Sendmail, as they arrive.
func TestParseRealReports(t *testing.T) {
	cases := []struct {
		file string
		want breach.DSN
	}{
		{"postfix-failed.eml", breach.DSN{
			MessageID:         "20260310190211.4F1A22C0123@mail.lincoln.example.org",
			OriginalMessageID: "notice-" + sampleNotice + "@lincoln.example.org",
			OriginalNoticeID:  sampleNotice,
			ReportingMTA:      "mail.lincoln.example.org",
			Recipients: []breach.DSNRecipient{{
				FinalRecipient: "ava.quillfeather@parents.example.net", Action: "failed", Status: "5.1.1",
				DiagnosticCode: "550 5.1.1 <ava.quillfeather@parents.example.net>: Recipient address rejected: User unknown in virtual mailbox table",
				RemoteMTA:      "mx.parents.example.net"}},
		}},
		{"exim-failed.eml", breach.DSN{
			MessageID:         "E1w3Qpz-000Kd2-1b@mx1.lincoln.example.org",
			OriginalMessageID: "notice-" + sampleNotice + "@lincoln.example.org",
			ReportingMTA:      "mx1.lincoln.example.org",
			Recipients: []breach.DSNRecipient{{
				FinalRecipient: "r.okonkwo@oldisp.example.com", Action: "failed", Status: "5.2.1",
				DiagnosticCode: "550 5.2.1 Mailbox disabled for this recipient", RemoteMTA: "mx.oldisp.example.com"}},
		}},
		{"gmail-failed.eml", breach.DSN{
			MessageID:         "65ef1a2c.a70a0220.1b2c3.9e2fSMTPIN_ADDED_MISSING@mx.google.com",
			OriginalMessageID: "notice-" + sampleNotice + "@lincoln.example.org",
			ReportingMTA:      "googlemail.com",
			Recipients: []breach.DSNRecipient{{
				FinalRecipient: "ghost.student@gmail.example", Action: "failed", Status: "5.1.1",
				DiagnosticCode: "550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser 41be03b00d2f7-5dc6b2f8b1esor1234567a12.65 - gsmtp",
				RemoteMTA:      "gmail-smtp-in.l.google.com. (142.250.1.26, the server for the domain gmail.example.)"}},
		}},
		{"postfix-delayed.eml", breach.DSN{
			MessageID:         "20260311190211.7B2C11D0456@mail.lincoln.example.org",
			OriginalMessageID: "notice-" + sampleNotice + "@lincoln.example.org",
			OriginalNoticeID:  sampleNotice,
			ReportingMTA:      "mail.lincoln.example.org",
			Recipients: []breach.DSNRecipient{{
				FinalRecipient: "later@farm.example.net", Action: "delayed", Status: "4.4.1",
				DiagnosticCode: "connect to mx.farm.example.net[203.0.113.9]:25: Connection timed out"}},
		}},
		{"sendmail-envid-4xx.eml", breach.DSN{
			MessageID:    "202603151905.62FJ50aa012345@relay.district.example.org",
			EnvelopeID:   sampleNotice,
			ReportingMTA: "relay.district.example.org",
			Recipients: []breach.DSNRecipient{{
				FinalRecipient: "full@farm.example.net", Action: "failed", Status: "4.2.2",
				DiagnosticCode: "452 4.2.2 Mailbox full", RemoteMTA: "mx.farm.example.net"}},
		}},
		{"unmatched.eml", breach.DSN{
			MessageID:         "20260310201000.9A8B7C6D5E@mail.lincoln.example.org",
			OriginalMessageID: "CAF3x9Q1-reply-to-the-board@lincoln.example.org",
			ReportingMTA:      "mail.lincoln.example.org",
			Recipients: []breach.DSNRecipient{{
				FinalRecipient: "board.member@county.example.gov", Action: "failed", Status: "5.1.2",
				DiagnosticCode: "550 5.1.2 Host unknown for board.member@county.example.gov"}},
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			got, err := parseFile(t, c.file)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, c.want) {
				t.Errorf("got  %+v\nwant %+v", *got, c.want)
			}
		})
	}
}

// TestParseCRLF: a message read over IMAP has CRLF line ends.
func TestParseCRLF(t *testing.T) {
	raw, err := os.ReadFile("testdata/postfix-failed.eml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := dsn.Parse(bytes.NewReader(bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))))
	if err != nil {
		t.Fatal(err)
	}
	if got.OriginalNoticeID != sampleNotice || len(got.Recipients) != 1 || got.Recipients[0].Status != "5.1.1" ||
		strings.ContainsAny(got.Recipients[0].DiagnosticCode, "\r\n") {
		t.Fatalf("%+v", got)
	}
}

// TestParseMalformed: what is not a readable report is an ErrNotDSN whose text quotes nothing of
// the message (it is logged).
func TestParseMalformed(t *testing.T) {
	cases := map[string]string{
		"malformed-plain-text.eml":     "no multipart/report",
		"malformed-no-status-part.eml": "no message/delivery-status part",
		"malformed-no-recipient.eml":   "no per-recipient block",
		"malformed-read-receipt.eml":   "no multipart/report",
		"malformed-truncated.eml":      "cut short",
		"malformed-binary.eml":         "header",
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			got, err := parseFile(t, file)
			if !errors.Is(err, dsn.ErrNotDSN) || got != nil {
				t.Fatalf("got %+v, %v; want ErrNotDSN", got, err)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
			if strings.Contains(err.Error(), "@") {
				t.Errorf("error %q quotes an address", err)
			}
		})
	}
}

func TestParseBounds(t *testing.T) {
	t.Run("too large", func(t *testing.T) {
		big := append([]byte("Content-Type: text/plain\n\n"), bytes.Repeat([]byte("x"), dsn.MaxMessageBytes)...)
		if _, err := dsn.Parse(bytes.NewReader(big)); !errors.Is(err, dsn.ErrNotDSN) || !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("nested too deep", func(t *testing.T) {
		var b strings.Builder
		for i := 0; i < 6; i++ {
			b.WriteString("Content-Type: multipart/mixed; boundary=b" + string(rune('0'+i)) + "\n\n--b" + string(rune('0'+i)) + "\n")
		}
		if _, err := dsn.Parse(strings.NewReader(b.String())); !errors.Is(err, dsn.ErrNotDSN) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("a long field is cut", func(t *testing.T) {
		raw, _ := os.ReadFile("testdata/unmatched.eml")
		long := strings.Replace(string(raw), "Host unknown", strings.Repeat("é", 3000), 1)
		d, err := dsn.Parse(strings.NewReader(long))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(d.Recipients[0].DiagnosticCode); n > 1000 || n < 900 {
			t.Fatalf("diagnostic of %d bytes", n)
		}
	})
}

// TestPermanent: failed with 5.x.x is permanent; delayed never; failed 4.x.x is temporary.
func TestPermanent(t *testing.T) {
	for _, c := range []struct {
		r    breach.DSNRecipient
		want bool
	}{
		{breach.DSNRecipient{Action: "failed", Status: "5.1.1"}, true},
		{breach.DSNRecipient{Action: "failed", Status: "4.2.2"}, false},
		{breach.DSNRecipient{Action: "delayed", Status: "4.4.1"}, false},
		{breach.DSNRecipient{Action: "delayed", Status: "5.4.1"}, false},
		{breach.DSNRecipient{Action: "delivered", Status: "2.0.0"}, false},
	} {
		if got := c.r.Permanent(); got != c.want {
			t.Errorf("%+v: Permanent() = %v", c.r, got)
		}
	}
}

// FuzzParse: no input panics, and what parses has at least one valid recipient block.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := dsn.Parse(bytes.NewReader(raw))
		if err != nil {
			if !errors.Is(err, dsn.ErrNotDSN) || d != nil {
				t.Fatalf("%v, %+v", err, d)
			}
			return
		}
		if len(d.Recipients) == 0 {
			t.Fatal("a report without recipients parsed")
		}
		for _, r := range d.Recipients {
			if r.FinalRecipient == "" || r.Status == "" || r.Action == "" {
				t.Fatalf("%+v", r)
			}
		}
	})
}
