package rules

import (
	"testing"

	breach "github.com/breachd/breachd"
)

func TestFederalHoliday(t *testing.T) {
	tests := []struct {
		date string
		want string // "" when not a holiday
	}{
		{"2026-01-01", "New Year's Day"},
		{"2026-01-19", "Birthday of Martin Luther King, Jr."}, // third Monday of January
		{"2026-01-12", ""},                                    // second Monday of January
		{"2026-02-16", "Washington's Birthday"},
		{"2026-05-25", "Memorial Day"}, // last Monday of May
		{"2026-05-18", ""},             // a Monday, not the last
		{"2027-05-31", "Memorial Day"},
		{"2026-06-19", "Juneteenth National Independence Day"},
		{"2020-06-19", ""},                                                // before Juneteenth became a federal holiday
		{"2027-06-18", "Juneteenth National Independence Day (observed)"}, // 19 June 2027 is a Saturday
		{"2026-07-03", "Independence Day (observed)"},                     // 4 July 2026 is a Saturday
		{"2026-07-04", "Independence Day"},                                // the Saturday itself is named too
		{"2027-07-05", "Independence Day (observed)"},                     // 4 July 2027 is a Sunday
		{"2026-09-07", "Labor Day"},
		{"2026-10-12", "Columbus Day"},
		{"2026-11-11", "Veterans Day"},
		{"2026-11-26", "Thanksgiving Day"}, // fourth Thursday of November
		{"2026-11-19", ""},                 // third Thursday
		{"2026-12-25", "Christmas Day"},
		{"2027-12-24", "Christmas Day (observed)"},  // 25 December 2027 is a Saturday
		{"2027-12-31", "New Year's Day (observed)"}, // 1 January 2028 is a Saturday
		{"2026-12-31", ""},
		{"2026-04-17", ""},
		{"2026-03-02", ""},
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			name, ok := FederalHoliday(breach.MustDate(tt.date))
			if ok != (tt.want != "") || name != tt.want {
				t.Errorf("FederalHoliday(%s) = %q, %v; want %q", tt.date, name, ok, tt.want)
			}
		})
	}
}

func TestAddBusinessDays(t *testing.T) {
	tests := []struct {
		name string
		from string
		n    int
		want string
	}{
		{name: "Tuesday plus two is Thursday", from: "2026-03-03", n: 2, want: "2026-03-05"},
		{name: "Friday skips the weekend", from: "2026-03-06", n: 2, want: "2026-03-10"},
		{name: "Saturday counts from Monday", from: "2026-03-07", n: 2, want: "2026-03-10"},
		{name: "Friday before Martin Luther King Day skips the weekend and the holiday", from: "2026-01-16", n: 2, want: "2026-01-21"},
		{name: "Wednesday before Thanksgiving", from: "2026-11-25", n: 2, want: "2026-11-30"},
		{name: "observed Independence Day on a Friday", from: "2026-07-02", n: 2, want: "2026-07-07"},
		{name: "observed Christmas 2027 on a Friday", from: "2027-12-23", n: 2, want: "2027-12-28"},
		{name: "observed New Year of 2028 on Friday 31 December", from: "2027-12-29", n: 2, want: "2028-01-03"},
		{name: "zero days is the same day", from: "2026-03-07", n: 0, want: "2026-03-07"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AddBusinessDays(breach.MustDate(tt.from), tt.n)
			if got.String() != tt.want {
				t.Errorf("AddBusinessDays(%s, %d) = %s (%s); want %s", tt.from, tt.n, got, got.Weekday(), tt.want)
			}
		})
	}
}

func TestPreviousBusinessDay(t *testing.T) {
	for from, want := range map[string]string{
		"2028-03-05": "2028-03-03", // Sunday → Friday
		"2026-07-04": "2026-07-02", // Saturday; Friday 3 July is the observed holiday
		"2026-01-20": "2026-01-16", // Tuesday after Martin Luther King Day
		"2026-04-17": "2026-04-16",
	} {
		if got := previousBusinessDay(breach.MustDate(from)); got.String() != want {
			t.Errorf("previousBusinessDay(%s) = %s; want %s", from, got, want)
		}
	}
}
