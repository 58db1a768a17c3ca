package breach

import (
	"regexp"
	"slices"
	"strings"
)

var (
	emailLike = regexp.MustCompile(`[^\s<>"'()\[\],;:]+@[^\s<>"'()\[\],;:]+`)
	phoneLike = regexp.MustCompile(`\+?\d[\d ().-]{6,}\d`)
)

// RedactContact replaces what looks like an email address or a telephone number in free text
// that goes into the audit trail, which is not encrypted and must hold no personal data (a
// clerk's note on a bounce or a returned letter, say).
func RedactContact(s string) string {
	s = emailLike.ReplaceAllString(s, "[address]")
	return phoneLike.ReplaceAllStringFunc(s, func(m string) string {
		digits := 0
		for i := range len(m) {
			if m[i] >= '0' && m[i] <= '9' {
				digits++
			}
		}
		if digits < 7 { // an SMTP status such as "550 5.1.1", not a telephone number
			return m
		}
		return "[number]"
	})
}

// smtpCodeLike is an SMTP reply code (RFC 5321 §4.2: 2yz to 5yz) or an enhanced status code
// (RFC 3463: class.subject.detail).
var smtpCodeLike = regexp.MustCompile(`^(?:[245][0-5][0-9]|[245]\.[0-9]{1,3}\.[0-9]{1,3})$`)

// SMTPCodes returns the SMTP reply and enhanced status codes in a bounce message, e.g. "550 5.1.1"
// from "550 5.1.1 mailbox of Ava Smith unknown", and "" when it has none. They say why the mail
// bounced without saying to whom, so they may be kept where free text may not. Telephone numbers
// are taken out first, so that their digits are never read as codes.
func SMTPCodes(s string) string {
	var codes []string
	tokens := strings.FieldsFunc(RedactContact(s), func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	for _, t := range tokens {
		if t = strings.Trim(t, "."); smtpCodeLike.MatchString(t) && !slices.Contains(codes, t) && len(codes) < 4 {
			codes = append(codes, t)
		}
	}
	return strings.Join(codes, " ")
}
