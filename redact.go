package breach

import "regexp"

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
