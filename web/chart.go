package web

import (
	"fmt"
	"html/template"
	"strings"

	breach "github.com/breachd/breachd"
)

// givenPoint is one day of the chart of notices given: how many became given that day (net) and
// how many had been given by its end.
type givenPoint struct {
	Day         breach.Date
	Change, Sum int
}

// givenSeries runs the API's given-by-day counts up day by day from lo to hi (both included):
// the last point is the status's given count when the days add up to it, and below it by the
// notices given before the per-day counters were kept (statusData.Unplaced).
func givenSeries(days []breach.GivenOnDay, lo, hi breach.Date) []givenPoint {
	for _, d := range days { // a day outside the range still counts: widen it
		if d.Day.Before(lo) {
			lo = d.Day
		}
		if d.Day.After(hi) {
			hi = d.Day
		}
	}
	by := make(map[breach.Date]int, len(days))
	for _, d := range days {
		by[d.Day] += d.Given
	}
	var out []givenPoint
	sum := 0
	for d := lo; !d.After(hi); d = d.AddDays(1) {
		sum += by[d]
		out = append(out, givenPoint{Day: d, Change: by[d], Sum: sum})
	}
	return out
}

// The chart's drawing box; a phone gets a narrower one so its labels stay readable (see timeline).
const (
	chWide, chNarrow       = 600, 340
	chHeight               = 240
	chLeft, chRight, chTop = 44, 14, 24
	chBottom               = 44
)

// givenChart draws the cumulative notices given from discovery to today, the deadline marked, as
// inline SVG with presentation attributes only (the CSP allows no inline style). Its title and
// description say in words what it shows; the page's table gives every number.
func givenChart(d statusData) template.HTML {
	if len(d.Series) == 0 {
		return ""
	}
	return drawGivenChart(d, chWide, "wide") + drawGivenChart(d, chNarrow, "narrow")
}

func drawGivenChart(d statusData, width int, class string) template.HTML {
	pts := d.Series
	lo, hi := pts[0].Day, pts[len(pts)-1].Day
	if !d.Deadline.IsZero() && d.Deadline.After(hi) {
		hi = d.Deadline
	}
	span := hi.DaysSince(lo) + 1 // days, the last included
	top := max(d.Total, d.Done, 1)
	for _, p := range pts {
		top = max(top, p.Sum)
	}
	plotW, plotH := float64(width-chLeft-chRight), float64(chHeight-chTop-chBottom)
	x := func(day breach.Date) float64 { return chLeft + float64(day.DaysSince(lo))/float64(span)*plotW }
	y := func(n int) float64 { return chTop + plotH - float64(n)/float64(top)*plotH }
	short := func(day breach.Date) string { return day.Time().Format("2 Jan") }
	var b strings.Builder
	// Axes, the total as a dashed line, and the counts at both ends of the scale.
	fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#505a5f" stroke-width="2"/>`, chLeft, y(0), width-chRight, y(0))
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%.1f" stroke="#505a5f" stroke-width="2"/>`, chLeft, chTop, chLeft, y(0))
	fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" font-size="14" fill="#0b0c0c">0</text>`, chLeft-6, y(0)+5)
	fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" font-size="14" fill="#0b0c0c">%d</text>`, chLeft-6, y(top)+5, top)
	if d.Total > 0 {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#505a5f" stroke-dasharray="6 4"/>`, chLeft, y(d.Total), width-chRight, y(d.Total))
	}
	// The given notices, a step for each day.
	var path strings.Builder
	fmt.Fprintf(&path, "M%.1f %.1f", x(pts[0].Day), y(0))
	for _, p := range pts {
		fmt.Fprintf(&path, " V%.1f H%.1f", y(p.Sum), x(p.Day.AddDays(1)))
	}
	fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="#00703c" stroke-width="3"/>`, path.String())
	last := pts[len(pts)-1]
	end := last.Sum + d.Unplaced // the status's given count
	if d.Unplaced > 0 {
		// The notices on no day rise at today's end, dashed, so that the line ends on the given
		// count without placing them on a day; the words are in the description and under the chart.
		ex := x(last.Day.AddDays(1))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#00703c" stroke-width="3" stroke-dasharray="4 3"/>`, ex, y(last.Sum), ex, y(end))
		tx, anchor := ex-8, "end" // left of the rise, unless that is the axis (today near discovery)
		if ex-chLeft < 110 {
			tx, anchor = ex+8, "start"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="%s" font-size="14" fill="#0b0c0c">+%d on no day</text>`, tx, (y(last.Sum)+y(end))/2+5, anchor, d.Unplaced)
	}
	fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="5" fill="#00703c"/>`, x(last.Day.AddDays(1)), y(end))
	// The deadline.
	if !d.Deadline.IsZero() {
		dx := x(d.Deadline.AddDays(1)) // the end of its day
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#d4351c" stroke-width="3"/>`, dx, chTop-8, dx, y(0))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="end" font-size="14" font-weight="700" fill="#d4351c">Deadline %s</text>`, dx-4, chTop+20, short(d.Deadline)) // under the total's line
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" fill="#0b0c0c">%s</text>`, chLeft, chHeight-chBottom+22, short(lo))
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="end" font-size="14" fill="#0b0c0c">Today %s</text>`,
		min(x(last.Day.AddDays(1)), float64(width-chRight)), chHeight-chBottom+40, short(last.Day))

	desc := fmt.Sprintf("%d of %d notices given by %s, counted day by day from %s", end, d.Total,
		last.Day.Time().Format("2 January 2006"), lo.Time().Format("2 January 2006"))
	if note := d.UnplacedNote(); note != "" {
		desc += "; " + note
	}
	if !d.Deadline.IsZero() {
		desc += "; the deadline is " + d.Deadline.Time().Format("2 January 2006")
	}
	svg := fmt.Sprintf(`<svg class="chart %[1]s" viewBox="0 0 %[2]d %[3]d" role="img" aria-labelledby="ch-title-%[1]s ch-desc-%[1]s" xmlns="http://www.w3.org/2000/svg">`+
		`<title id="ch-title-%[1]s">Notices given over time</title><desc id="ch-desc-%[1]s">%[4]s.</desc>%[5]s</svg>`,
		class, width, chHeight, template.HTMLEscapeString(desc), b.String())
	return template.HTML(svg)
}
