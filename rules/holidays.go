package rules

import (
	"time"

	breach "github.com/breachd/breachd"
)

// FederalHoliday reports whether d is a US federal holiday as observed by federal offices
// (5 U.S.C. 6103 and OPM's observance rule): a holiday that falls on a Saturday is observed on
// the Friday before, one that falls on a Sunday on the Monday after. The name says "(observed)"
// for the moved day; the Saturday or Sunday itself is reported too, under the holiday's name.
//
// The list is the one in force since 2021 (Juneteenth is counted from 2021 on); earlier years
// use the same rules otherwise, which is all a breach notice ever needs.
func FederalHoliday(d breach.Date) (name string, ok bool) {
	// A fixed-date holiday observed on d falls on d, on d+1 (moved back from a Saturday) or
	// on d-1 (moved forward from a Sunday). New Year's Day of the next year can be observed
	// on 31 December, so the candidates are checked by date, not by d's year alone.
	switch d.Weekday() {
	case time.Saturday, time.Sunday:
		// A weekend day is never the observed day, but it is still the holiday itself
		// (e.g. 4 July on a Saturday); naming it makes the deadline warning clearer.
		if n, ok := fixedHoliday(d); ok {
			return n, true
		}
		return "", false
	case time.Friday:
		if n, ok := fixedHoliday(d.AddDays(1)); ok {
			return n + " (observed)", true
		}
	case time.Monday:
		if n, ok := fixedHoliday(d.AddDays(-1)); ok {
			return n + " (observed)", true
		}
	}
	if n, ok := fixedHoliday(d); ok {
		return n, true
	}
	return floatingHoliday(d)
}

// fixedHoliday names the holiday fixed to d's month and day, if any.
func fixedHoliday(d breach.Date) (string, bool) {
	switch m, day := d.Month(), d.Day(); {
	case m == time.January && day == 1:
		return "New Year's Day", true
	case m == time.June && day == 19 && d.Year() >= 2021:
		return "Juneteenth National Independence Day", true
	case m == time.July && day == 4:
		return "Independence Day", true
	case m == time.November && day == 11:
		return "Veterans Day", true
	case m == time.December && day == 25:
		return "Christmas Day", true
	}
	return "", false
}

// floatingHoliday names the holiday fixed to the nth weekday of a month that falls on d, if any.
func floatingHoliday(d breach.Date) (string, bool) {
	nth := (d.Day()-1)/7 + 1                  // 1 for days 1–7, 2 for 8–14, ...
	last := d.AddDays(7).Month() != d.Month() // the last such weekday of the month
	switch m, wd := d.Month(), d.Weekday(); {
	case m == time.January && wd == time.Monday && nth == 3:
		return "Birthday of Martin Luther King, Jr.", true
	case m == time.February && wd == time.Monday && nth == 3:
		return "Washington's Birthday", true
	case m == time.May && wd == time.Monday && last:
		return "Memorial Day", true
	case m == time.September && wd == time.Monday && nth == 1:
		return "Labor Day", true
	case m == time.October && wd == time.Monday && nth == 2:
		return "Columbus Day", true
	case m == time.November && wd == time.Thursday && nth == 4:
		return "Thanksgiving Day", true
	}
	return "", false
}

// IsBusinessDay reports whether d is a weekday that is not a federal holiday.
func IsBusinessDay(d breach.Date) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, holiday := FederalHoliday(d)
	return !holiday
}

// AddBusinessDays returns the nth business day after d (d itself never counts): two business days
// after a Friday is the Tuesday, or the Wednesday when that Monday is a federal holiday. n must
// not be negative.
func AddBusinessDays(d breach.Date, n int) breach.Date {
	for n > 0 {
		d = d.AddDays(1)
		if IsBusinessDay(d) {
			n--
		}
	}
	return d
}

// previousBusinessDay returns the last business day before d.
func previousBusinessDay(d breach.Date) breach.Date {
	for {
		d = d.AddDays(-1)
		if IsBusinessDay(d) {
			return d
		}
	}
}
