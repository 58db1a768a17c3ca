package breach

import "testing"

func TestRedactContact(t *testing.T) {
	for in, want := range map[string]string{
		"550 5.1.1 <jane.doe@example.org>: user unknown": "550 5.1.1 <[address]>: user unknown",
		"call +1 (317) 555-0100 or 317.555.0101":         "call [number] or [number]",
		"Moved, left no address":                         "Moved, left no address",
		"returned 2026-03-27, box 12":                    "returned [number], box 12",
	} {
		if got := RedactContact(in); got != want {
			t.Errorf("RedactContact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSMTPCodes(t *testing.T) {
	for in, want := range map[string]string{
		"550 5.1.1 mailbox of Ava Smith unknown":          "550 5.1.1",
		"mailbox of Ava Smith unknown":                    "",
		"552-5.2.2 over quota; call (317) 555-0111":       "552 5.2.2",
		"Remote server said: 550 (user unknown) 5.1.1.":   "550 5.1.1",
		"room 212 at 4120 N Keystone Ave, 46205 returned": "212",
	} {
		if got := SMTPCodes(in); got != want {
			t.Errorf("SMTPCodes(%q) = %q, want %q", in, got, want)
		}
	}
}
