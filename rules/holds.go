package rules

import (
	"slices"

	breach "github.com/breachd/breachd"
)

// A period is a stretch of time during which at least one law-enforcement hold was in effect:
// overlapping or adjacent holds merged. It runs from start up to, not including, end — on the
// release date notice may go out again. A zero end means the period is still open.
type period struct {
	start, end breach.Date
	holds      []breach.Hold // the holds merged into it, by start date
}

func (p period) open() bool { return p.end.IsZero() }

// covers reports whether a hold is in effect on day: on or after the start and before the
// release (or not yet released).
func (p period) covers(day breach.Date) bool {
	return !day.Before(p.start) && (p.open() || day.Before(p.end))
}

// mergeHolds merges holds into periods, in date order. Two holds merge when the second starts on
// or before the day the first is released (so a hold placed on the day another is released
// leaves no gap); a hold starting the day after a release leaves a one-day gap on which notice
// was due, so it stays separate. Holds must be valid (see ValidateHolds).
func mergeHolds(holds []breach.Hold) []period {
	sorted := slices.Clone(holds)
	slices.SortStableFunc(sorted, func(a, b breach.Hold) int { return a.StartDate.Compare(b.StartDate) })
	var out []period
	for _, h := range sorted {
		if n := len(out); n > 0 && (out[n-1].open() || !h.StartDate.After(out[n-1].end)) {
			last := &out[n-1]
			last.holds = append(last.holds, h)
			if !last.open() && (h.Open() || h.EndDate.After(last.end)) {
				last.end = h.EndDate
			}
			continue
		}
		out = append(out, period{start: h.StartDate, end: h.EndDate, holds: []breach.Hold{h}})
	}
	return out
}

// heldOn returns the period in effect on day, if any.
func heldOn(periods []period, day breach.Date) (period, bool) {
	for _, p := range periods {
		if p.covers(day) {
			return p, true
		}
	}
	return period{}, false
}

// tolledDeadline is the lenient "tolling" reading of a hold, for counsel only: the days allowed
// stop running while a hold is in effect and resume on release. It returns the date notice would
// be due, or open = true when a hold that would pause the count is not yet released (then the
// remaining days are counted from a release that has not happened). paused reports whether any
// hold paused the count at all; used is the number of days that ran before the last pause.
func tolledDeadline(discovered breach.Date, days int, periods []period) (due breach.Date, used int, paused, open bool) {
	cursor, budget := discovered, days
	for _, p := range periods {
		if p.start.After(cursor.AddDays(budget)) {
			break // the days ran out before this hold began: it pauses nothing
		}
		paused = true
		spent := p.start.DaysSince(cursor)
		budget -= spent
		used = days - budget
		if p.open() {
			return breach.Date{}, used, true, true
		}
		cursor = p.end
	}
	return cursor.AddDays(budget), used, paused, false
}
