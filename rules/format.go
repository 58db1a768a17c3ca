package rules

import (
	"fmt"
	"strconv"
	"strings"

	breach "github.com/breachd/breachd"
)

// These helpers write numbers, money and dates the way a school clerk reads them in a reason.

// longDate writes "Friday, April 17, 2026".
func longDate(d breach.Date) string { return d.Time().Format("Monday, January 2, 2006") }

// count writes an integer with thousands separators: 1200 → "1,200".
func count[N int | int64](n N) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// people writes "1 person" or "1,200 people".
func people(n int) string {
	if n == 1 {
		return "1 person"
	}
	return count(n) + " people"
}

// days writes "1 day" or "17 days".
func days(n int) string {
	if n == 1 || n == -1 {
		return count(n) + " day"
	}
	return count(n) + " days"
}

// dollars writes Money as "$250,000.01".
func dollars(m breach.Money) string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return sign + "$" + count(int64(m/100)) + fmt.Sprintf(".%02d", int64(m%100))
}

// list joins items as "a", "a and b" or "a, b and c".
func list(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
