// Package dsn reads bounces: delivery status notifications (RFC 3464) that mail servers send
// after the SMTP session, from an IMAP mailbox (Mailbox, go-imap v2), parsed as MIME with
// go-message (Parse). It implements breach.BounceMailbox; the jobs package matches each report to
// its notice and records it.
//
// Parse is written for hostile input: any message a stranger can send to the bounce address
// reaches it. It never panics (FuzzParse), bounds what it reads, and its errors say what is wrong
// with the structure without quoting the message (they are logged, and a bounce quotes addresses).
package dsn

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"

	breach "github.com/breachd/breachd"
)

// Limits on what Parse reads.
const (
	// MaxMessageBytes is the largest message Parse reads; a DSN that returns a whole message with
	// attachments can be large, but the fields it needs come first.
	MaxMessageBytes = 4 << 20
	// maxStatusBytes bounds the message/delivery-status part.
	maxStatusBytes = 64 << 10
	// maxHeaderBytes bounds each header block read (the report's, a part's, the returned one's).
	maxHeaderBytes = 64 << 10
	// maxParts bounds how many MIME parts are looked at, and maxDepth how deeply they nest.
	maxParts = 50
	maxDepth = 3
	// maxRecipients bounds the per-recipient blocks kept.
	maxRecipients = 100
	// maxFieldLen bounds a field value kept, in bytes.
	maxFieldLen = 1000
)

// ErrNotDSN is wrapped by every error of Parse: the message is not a readable DSN.
var ErrNotDSN = errors.New("not a delivery status notification")

// statusPattern is an enhanced status code (RFC 3463): class.subject.detail.
var statusPattern = regexp.MustCompile(`^[245]\.[0-9]{1,3}\.[0-9]{1,3}$`)

// actions are the values of Action (RFC 3464 §2.3.3).
var actions = map[string]bool{"failed": true, "delayed": true, "delivered": true, "relayed": true, "expanded": true}

func notDSN(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotDSN, fmt.Sprintf(format, args...))
}

// Parse reads one message as an RFC 3464 report: a multipart/report (report-type
// delivery-status) with a message/delivery-status part and, usually, the returned message or its
// headers (message/rfc822 or text/rfc822-headers), from which the Message-ID and the
// X-Breachd-Notice header are read. A report nested one level down (in a multipart/mixed that a
// relay wrapped it in) is found too. message/global-delivery-status (RFC 6533) is read alike.
//
// A per-recipient block without Final-Recipient, a known Action or a valid Status is skipped; a
// report with no valid block is an error. Every error wraps ErrNotDSN.
func Parse(r io.Reader) (*breach.DSN, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxMessageBytes+1))
	if err != nil {
		return nil, notDSN("read: %v", err)
	}
	if len(raw) > MaxMessageBytes {
		return nil, notDSN("larger than %d bytes", MaxMessageBytes)
	}
	e, err := message.ReadWithOptions(bytes.NewReader(raw), &message.ReadOptions{MaxHeaderBytes: maxHeaderBytes})
	if e == nil {
		return nil, notDSN("header: %s", safeErr(err))
	}
	d := &breach.DSN{MessageID: messageID(e.Header.Get("Message-Id"))}
	p := &parser{dsn: d}
	if err := p.walk(e, 0); err != nil {
		return nil, err
	}
	if !p.report {
		return nil, notDSN("no multipart/report with report-type delivery-status")
	}
	if !p.status {
		return nil, notDSN("no message/delivery-status part")
	}
	if len(d.Recipients) == 0 {
		return nil, notDSN("no per-recipient block with Final-Recipient, Action and Status")
	}
	return d, nil
}

type parser struct {
	dsn    *breach.DSN
	parts  int
	report bool // a multipart/report; report-type=delivery-status was seen
	status bool // its delivery-status part was read
	orig   bool // the returned message or headers were read
}

// walk looks through e and its parts for the report's parts.
func (p *parser) walk(e *message.Entity, depth int) error {
	p.parts++
	if p.parts > maxParts {
		return notDSN("more than %d MIME parts", maxParts)
	}
	mt, params, _ := e.Header.ContentType()
	switch {
	case mt == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status"),
		mt == "multipart/report" && strings.EqualFold(params["report-type"], "global-delivery-status"):
		if p.report {
			return nil // a second report (inside a returned message): not this one's
		}
		p.report = true
		return p.readParts(e, depth, true)
	case strings.HasPrefix(mt, "multipart/") && !p.report:
		return p.readParts(e, depth, false)
	}
	return nil
}

// readParts reads the parts of a multipart entity; inReport says whether e is the report.
func (p *parser) readParts(e *message.Entity, depth int, inReport bool) error {
	if depth >= maxDepth {
		return notDSN("MIME parts nested deeper than %d", maxDepth)
	}
	mr := e.MultipartReader()
	if mr == nil {
		return notDSN("multipart without parts")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if part == nil {
			if inReport && p.status {
				return nil // a report cut short after its status part still says what it must
			}
			return notDSN("MIME structure: %s", safeErr(err))
		}
		mt, _, _ := part.Header.ContentType()
		switch {
		case inReport && (mt == "message/delivery-status" || mt == "message/global-delivery-status"):
			if p.status {
				continue
			}
			if err := p.readStatus(part.Body); err != nil {
				return err
			}
			p.status = true
		case inReport && (mt == "message/rfc822" || mt == "text/rfc822-headers" || mt == "message/global" ||
			mt == "message/global-headers"):
			if !p.orig {
				p.readOriginal(part.Body)
				p.orig = true
			}
		case !inReport:
			if err := p.walk(part, depth+1); err != nil {
				return err
			}
			if p.report {
				return nil
			}
		}
	}
}

// readOriginal reads the Message-ID and X-Breachd-Notice of the returned message (its headers
// are enough). A returned message whose headers cannot be read leaves both empty: the report may
// still match by its envelope ID, or is recorded as unmatched.
func (p *parser) readOriginal(body io.Reader) {
	h, _ := textproto.ReadHeader(bufio.NewReader(io.LimitReader(body, maxHeaderBytes)))
	if id := messageID(h.Get("Message-Id")); id != "" {
		p.dsn.OriginalMessageID = id
	}
	p.dsn.OriginalNoticeID = clean(h.Get("X-Breachd-Notice"))
}

// readStatus reads the message/delivery-status part: blocks of fields separated by blank lines,
// the first per-message, each further one per-recipient (RFC 3464 §2.1).
func (p *parser) readStatus(body io.Reader) error {
	raw, err := io.ReadAll(io.LimitReader(body, maxStatusBytes+1))
	if err != nil {
		return notDSN("delivery-status part: %s", safeErr(err))
	}
	if len(raw) > maxStatusBytes {
		return notDSN("delivery-status part larger than %d bytes", maxStatusBytes)
	}
	blocks := fieldBlocks(raw)
	if len(blocks) == 0 {
		return notDSN("empty delivery-status part")
	}
	msg := blocks[0]
	p.dsn.EnvelopeID = clean(msg["original-envelope-id"])
	p.dsn.ReportingMTA = typed(msg["reporting-mta"])
	// Gmail names the returned message here as well; the returned headers, when present, win.
	if id := messageID(msg["x-original-message-id"]); id != "" && p.dsn.OriginalMessageID == "" {
		p.dsn.OriginalMessageID = id
	}
	for _, b := range blocks[1:] {
		if len(p.dsn.Recipients) == maxRecipients {
			break
		}
		r := breach.DSNRecipient{
			FinalRecipient: typed(b["final-recipient"]),
			Action:         strings.ToLower(clean(b["action"])),
			Status:         firstWord(b["status"]),
			DiagnosticCode: typed(b["diagnostic-code"]),
			RemoteMTA:      typed(b["remote-mta"]),
		}
		if r.FinalRecipient == "" || !actions[r.Action] || !statusPattern.MatchString(r.Status) {
			continue
		}
		p.dsn.Recipients = append(p.dsn.Recipients, r)
	}
	return nil
}

// fieldBlocks splits a delivery-status body into blocks of "Name: value" fields (names lower
// case, folded lines unfolded, the first value of a repeated name kept). Lines that are not
// fields are ignored.
func fieldBlocks(raw []byte) []map[string]string {
	var blocks []map[string]string
	var cur map[string]string
	last := ""
	for _, line := range strings.Split(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			cur, last = nil, ""
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && cur != nil && last != "" {
			if len(cur[last]) < maxFieldLen {
				cur[last] += " " + strings.TrimSpace(line)
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			last = ""
			continue
		}
		if cur == nil {
			cur = map[string]string{}
			blocks = append(blocks, cur)
		}
		last = ""
		if _, seen := cur[name]; !seen {
			cur[name] = strings.TrimSpace(value)
			last = name
		}
	}
	return blocks
}

// typed is a typed field's value without its type ("rfc822; ava@example.org" → the address,
// "smtp; 550 …" → the reply); a value without a type is kept whole.
func typed(v string) string {
	if _, rest, ok := strings.Cut(v, ";"); ok {
		v = rest
	}
	return clean(v)
}

// firstWord is a Status value without a trailing comment ("5.1.1 (bad mailbox)").
func firstWord(v string) string {
	if f := strings.Fields(v); len(f) > 0 {
		return f[0]
	}
	return ""
}

// messageID is a Message-ID without its angle brackets or comments.
func messageID(v string) string {
	v = clean(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return clean(v[i+1 : i+j])
		}
	}
	return firstWord(v)
}

// clean makes a field value safe to keep: valid UTF-8, no control characters, spaces collapsed,
// at most maxFieldLen bytes.
func clean(v string) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, v)
	v = strings.Join(strings.Fields(v), " ")
	if len(v) > maxFieldLen {
		v = v[:maxFieldLen]
		for !utf8.ValidString(v) {
			v = v[:len(v)-1]
		}
	}
	return v
}

// safeErr names what went wrong without quoting the message: go-message's errors quote the line
// they failed on, and a bounce's lines hold addresses.
func safeErr(err error) string {
	switch {
	case err == nil:
		return "unreadable"
	case strings.Contains(err.Error(), "exceeds maximum size"):
		return "too large"
	case strings.Contains(err.Error(), "EOF"):
		return "cut short"
	}
	return "malformed"
}
