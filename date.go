package breach

import (
	"encoding/json"
	"fmt"
	"time"
)

// DateLayout is the only date format breachd reads or writes (ISO 8601 calendar date).
const DateLayout = "2006-01-02"

// DefaultTimeZone is the zone in which an entity's calendar dates are read when its determination
// names none: the seed policies are Indiana's.
const DefaultTimeZone = "America/Indiana/Indianapolis"

// Date is a calendar date with no time of day and no zone: the law counts calendar days, and a
// deadline is a day, not an instant. The zero Date is "no date" (see IsZero).
type Date struct {
	t time.Time // always midnight UTC
}

// NewDate returns the date y-m-d, normalising out-of-range values as time.Date does.
func NewDate(y int, m time.Month, d int) Date {
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// DateOf returns the calendar date of the instant t as seen in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return NewDate(y, m, d)
}

// MinYear and MaxYear bound the dates breachd reads. Every date it works out from one (a deadline
// 45 days on, a birthday 18 years on) must still be written as YYYY-MM-DD, and a day count between
// two of them must not saturate (time.Duration holds only 292 years).
const (
	MinYear = 1900
	MaxYear = 9899
)

// ParseDate parses "YYYY-MM-DD" strictly: impossible dates such as 2025-02-30 are errors, and so are
// years outside MinYear to MaxYear.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a calendar date (YYYY-MM-DD)", s)
	}
	if y := t.Year(); y < MinYear || y > MaxYear {
		return Date{}, fmt.Errorf("%q is outside the years %d to %d", s, MinYear, MaxYear)
	}
	return Date{t}, nil
}

// MustDate is ParseDate for literals in tests and examples; it panics on a bad literal.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// IsZero reports whether d is the zero Date ("no date").
func (d Date) IsZero() bool { return d.t.IsZero() }

// AddDays returns the date n calendar days after d (before it when n is negative).
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// AddYears returns the same calendar day n years later; 29 February becomes 1 March in a year
// without one (so a person born on 29 February turns 18 on 1 March).
func (d Date) AddYears(n int) Date { return Date{d.t.AddDate(n, 0, 0)} }

// DaysSince returns the number of calendar days from e to d (negative when d is before e).
func (d Date) DaysSince(e Date) int {
	// Seconds, not time.Sub: a Duration saturates at about 292 years.
	return int((d.t.Unix() - e.t.Unix()) / 86400)
}

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// After reports whether d is strictly after e.
func (d Date) After(e Date) bool { return d.t.After(e.t) }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.t.Weekday() }

// Year, Month and Day return the parts of d.
func (d Date) Year() int          { return d.t.Year() }
func (d Date) Month() time.Month  { return d.t.Month() }
func (d Date) Day() int           { return d.t.Day() }
func (d Date) String() string     { return d.t.Format(DateLayout) }
func (d Date) Time() time.Time    { return d.t }
func (d Date) Compare(e Date) int { return d.t.Compare(e.t) }

// MarshalJSON writes "YYYY-MM-DD", and null for the zero Date ("no date").
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads "YYYY-MM-DD" strictly; null is the zero Date.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a date must be a string YYYY-MM-DD")
	}
	return d.UnmarshalText([]byte(s))
}

// MarshalText writes "YYYY-MM-DD"; the zero Date writes an empty string.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads "YYYY-MM-DD" strictly; an empty string is the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

var _ json.Marshaler = Money(0)

// Money is an exact amount of US dollars in cents. The law's thresholds are exact ($250,000.00
// does not trigger substitute notice, $250,000.01 does), so money is never a float.
type Money int64

// ParseMoney reads a decimal string of dollars with at most two decimal places, e.g. "250000.01".
func ParseMoney(s string) (Money, error) {
	if s == "" {
		return 0, fmt.Errorf("empty amount")
	}
	var dollars, cents int64
	i := 0
	for ; i < len(s) && s[i] != '.'; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a decimal amount of dollars (e.g. \"1250.50\")", s)
		}
		if dollars > (1<<62)/1000 {
			return 0, fmt.Errorf("%q is too large", s)
		}
		dollars = dollars*10 + int64(c-'0')
	}
	if i == 0 {
		return 0, fmt.Errorf("%q is not a decimal amount of dollars (e.g. \"1250.50\")", s)
	}
	if i < len(s) {
		frac := s[i+1:]
		if len(frac) == 0 || len(frac) > 2 {
			return 0, fmt.Errorf("%q must have one or two digits after the decimal point", s)
		}
		for j := 0; j < 2; j++ {
			cents *= 10
			if j < len(frac) {
				c := frac[j]
				if c < '0' || c > '9' {
					return 0, fmt.Errorf("%q is not a decimal amount of dollars (e.g. \"1250.50\")", s)
				}
				cents += int64(c - '0')
			}
		}
	}
	return Money(dollars*100 + cents), nil
}

// Dollars returns a whole-dollar amount as Money.
func Dollars(n int64) Money { return Money(n * 100) }

// String writes the amount as a decimal string with two places, e.g. "250000.01".
func (m Money) String() string {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// MarshalJSON writes Money as a JSON string, never a number.
func (m Money) MarshalJSON() ([]byte, error) { return json.Marshal(m.String()) }

// UnmarshalJSON reads Money from a JSON string only: a JSON number is refused, since a float
// cannot carry an exact amount.
func (m *Money) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("amount must be a decimal string such as \"1250.50\", not a number")
	}
	v, err := ParseMoney(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}
