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
