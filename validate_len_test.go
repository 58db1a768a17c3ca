package breach

import (
	"strings"
	"testing"
)

// TestLengthsAreCharacters: the limits the contract states in characters are counted in runes.
func TestLengthsAreCharacters(t *testing.T) {
	d := Determination{Title: strings.Repeat("ệ", MaxTitleLen), Description: strings.Repeat("ữ", MaxTextLen)}
	for _, f := range d.Validate("") {
		if f.Field == "title" || f.Field == "description" {
			t.Errorf("%s: %s", f.Field, f.Reason)
		}
	}
	d.Title += "ệ"
	if !hasField(d.Validate(""), "title") {
		t.Error("201 characters accepted")
	}
	r := Recipient{ExternalID: "A", LastName: strings.Repeat("Ễ", MaxRecipientFieldLen)}
	for _, f := range r.Validate() {
		if f.Field == "last_name" {
			t.Errorf("%s: %s", f.Field, f.Reason)
		}
	}
}

// TestDateBounds: years outside MinYear..MaxYear are refused, and day counts across them are exact.
func TestDateBounds(t *testing.T) {
	for _, s := range []string{"1899-12-31", "9900-01-01", "10000-01-01", "0000-01-01"} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("%s accepted", s)
		}
	}
	a, b := MustDate("1900-01-01"), MustDate("9899-12-31")
	if got := b.DaysSince(a); got != 2921939 {
		t.Errorf("DaysSince = %d", got)
	}
	if got := a.DaysSince(b); got != -2921939 {
		t.Errorf("DaysSince = %d", got)
	}
}

func hasField(fe []FieldError, name string) bool {
	for _, f := range fe {
		if f.Field == name {
			return true
		}
	}
	return false
}
