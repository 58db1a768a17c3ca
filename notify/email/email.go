// Package email delivers email notices. SMTP sends them through any SMTP server (a school's relay,
// a provider, Mailpit in development) over one connection per batch; Outbox writes them as .eml
// files into a directory, the offline form for a school without SMTP. Both implement
// breach.Mailer and both produce the same RFC 5322 message, built by go-mail:
//
//   - multipart/alternative with the plain-text and HTML bodies, UTF-8, quoted-printable;
//   - a Message-ID derived from the notice ID (<notice-ID@domain-of-From>), so that a message
//     sent twice after a crash is recognisably the same message;
//   - Auto-Submitted: auto-generated, X-Breachd-Notice: ID, and Content-Language.
//
// Failures are reported as *breach.SendError whose Reason carries the stage and the SMTP code but
// never an address, because Reason is recorded in the audit log.
package email

import (
	"net/mail"
	"regexp"
	"strings"
	"time"

	breach "github.com/breachd/breachd"
	gomail "github.com/wneessen/go-mail"
)

var (
	_ breach.Mailer = (*SMTP)(nil)
	_ breach.Mailer = (*Outbox)(nil)
)

// Headers every notice carries besides the usual ones.
const (
	// HeaderNotice carries the notice ID, so a bounce or a copy can be matched to its notice.
	HeaderNotice = "X-Breachd-Notice"
	// headerAutoSubmitted (RFC 3834) asks auto-responders not to reply to a notice.
	headerAutoSubmitted = "Auto-Submitted"
)

// noticeIDPattern is what a notice ID may look like: dot-atom text (RFC 5322 §3.2.3) so that it can
// stand in a Message-ID, restricted further to characters safe in a file name.
var noticeIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

// maxNoticeID bounds the notice ID: it appears in a header line and a file name.
const maxNoticeID = 128

// languagePattern accepts a BCP 47 language tag (en, es-419, zh-Hant-TW) for Content-Language.
var languagePattern = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$`)

// sender is the From of every message and what a message is built from; SMTP and Outbox share it
// so that an .eml file is exactly the message SMTP would send.
type sender struct {
	from   mail.Address // Address is bare; Name may be empty
	domain string       // right side of the Message-ID
	now    func() time.Time
}

func newSender(field, from, name string) (sender, []breach.FieldError) {
	var errs []breach.FieldError
	addr, err := mail.ParseAddress(from)
	switch {
	case strings.TrimSpace(from) == "":
		errs = append(errs, breach.FieldError{Field: field, Reason: "is required"})
	case err != nil:
		errs = append(errs, breach.FieldError{Field: field, Reason: "is not an email address"})
	case addr.Name != "" || addr.Address != strings.TrimSpace(from):
		errs = append(errs, breach.FieldError{Field: field, Reason: "must be a bare address; put the name in " + field + "Name"})
	}
	if strings.ContainsAny(name, "\r\n") {
		errs = append(errs, breach.FieldError{Field: field + "Name", Reason: "must be one line"})
	}
	if len(errs) > 0 {
		return sender{}, errs
	}
	return sender{
		from:   mail.Address{Name: name, Address: addr.Address},
		domain: messageIDDomain(addr.Address),
		now:    time.Now,
	}, nil
}

// messageIDDomain is the domain of the From address when it can stand in a Message-ID, else
// "breachd".
func messageIDDomain(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	domain := strings.ToLower(addr[at+1:])
	if !noticeIDPattern.MatchString(domain) {
		return "breachd"
	}
	return domain
}

// MessageID returns the Message-ID (without angle brackets) of the notice's message when From is
// from. It is a pure function of the two, so a message sent again is recognisably the same.
func MessageID(noticeID, from string) string {
	return "notice-" + noticeID + "@" + messageIDDomain(from)
}

// build turns one notice into a go-mail message, or returns a permanent *breach.SendError naming
// what is wrong with it: a retry of the same message cannot succeed.
func (s sender) build(em breach.EmailMessage) (*gomail.Msg, error) {
	switch {
	case len(em.NoticeID) > maxNoticeID || !noticeIDPattern.MatchString(em.NoticeID):
		return nil, invalid("invalid notice ID")
	case em.Language != "" && !languagePattern.MatchString(em.Language):
		return nil, invalid("invalid language tag")
	case strings.ContainsAny(em.ToName, "\r\n"):
		return nil, invalid("invalid recipient name")
	case em.Text == "" && em.HTML == "":
		return nil, invalid("empty body")
	}
	to, err := mail.ParseAddress(em.To)
	if err != nil || to.Name != "" || to.Address != strings.TrimSpace(em.To) {
		return nil, &breach.SendError{Permanent: true, Reason: "invalid recipient address"}
	}

	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(&s.from)
	m.ToMailAddress(&mail.Address{Name: em.ToName, Address: to.Address})
	m.Subject(em.Subject)
	m.SetMessageIDWithValue(MessageID(em.NoticeID, s.from.Address))
	m.SetDateWithValue(s.now())
	m.SetGenHeader(headerAutoSubmitted, "auto-generated")
	m.SetGenHeader(HeaderNotice, em.NoticeID)
	if em.Language != "" {
		m.SetGenHeader(gomail.HeaderContentLang, em.Language)
	}
	// Plain text first: multipart/alternative lists parts in increasing preference (RFC 2046
	// §5.1.4), so a client that can show HTML shows it and every other one shows the text.
	switch {
	case em.HTML == "":
		m.SetBodyString(gomail.TypeTextPlain, em.Text)
	case em.Text == "":
		m.SetBodyString(gomail.TypeTextHTML, em.HTML)
	default:
		m.SetBodyString(gomail.TypeTextPlain, em.Text)
		m.AddAlternativeString(gomail.TypeTextHTML, em.HTML)
	}
	return m, nil
}

func invalid(reason string) *breach.SendError {
	return &breach.SendError{Permanent: true, Reason: reason}
}

func temporary(reason string, err error) *breach.SendError {
	return &breach.SendError{Reason: reason, Err: err}
}

// configError is an EINVALID *breach.Error whose message names every invalid field, so that a
// misconfigured service says all that is wrong at start.
func configError(errs []breach.FieldError) error {
	if len(errs) == 0 {
		return nil
	}
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Field + " " + e.Reason
	}
	return &breach.Error{
		Code:    breach.EINVALID,
		Message: "email config: " + strings.Join(parts, "; "),
		Fields:  errs,
	}
}
