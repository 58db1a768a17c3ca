package web

import (
	"fmt"
	"html/template"
	"sort"
	"strings"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// The timeline's drawing box: a viewBox the page scales to its width (at most 760 px, by CSS). A
// phone gets a narrower box, so its labels stay readable once scaled down.
const (
	tlWide   = 600
	tlNarrow = 340
	tlPad    = 12
	tlAxisY  = 40
	tlLabelY = 86
	tlRow    = 22
)

type tlMark struct {
	date        breach.Date
	label, kind string
}

// timelineSVG draws discovery → holds → deadline → today for the breach page, server-side, as an
// inline SVG with presentation attributes only (the CSP allows no inline style). Its title and
// description say in words what it shows, for a screen reader.
func timelineSVG(v api.BreachView) template.HTML {
	return drawTimeline(v, tlWide, "wide") + drawTimeline(v, tlNarrow, "narrow")
}

func drawTimeline(v api.BreachView, tlWidth int, class string) template.HTML {
	p := v.Plan
	lo, hi := v.Determination.DiscoveredOn, p.AsOf
	if lo.IsZero() || hi.IsZero() {
		return ""
	}
	stretch := func(d breach.Date) {
		if !d.IsZero() && d.After(hi) {
			hi = d
		}
		if !d.IsZero() && d.Before(lo) {
			lo = d
		}
	}
	stretch(p.Deadline)
	// With a hold open over it, the plan has no deadline; day 45 is still what the hold covers.
	var day45 breach.Date
	if p.Deadline.IsZero() && p.NotificationRequired && p.Held {
		day45 = v.Determination.DiscoveredOn.AddDays(45)
		stretch(day45)
	}
	for _, h := range v.Holds {
		stretch(h.StartDate)
		stretch(h.EndDate)
	}
	span := hi.DaysSince(lo)
	if span < 1 {
		span = 1
	}
	x := func(d breach.Date) float64 {
		return tlPad + float64(d.DaysSince(lo))/float64(span)*float64(tlWidth-2*tlPad)
	}
	short := func(d breach.Date) string { return d.Time().Format("2 Jan") }
	var marks []tlMark
	marks = append(marks, tlMark{lo, "Discovered " + short(v.Determination.DiscoveredOn), "discovered"})
	var b strings.Builder
	var desc []string
	desc = append(desc, "Discovered on "+v.Determination.DiscoveredOn.Time().Format("2 January 2006"))
	for _, h := range v.Holds {
		end, open := h.EndDate, h.EndDate.IsZero()
		if open {
			end = p.AsOf
		}
		w := x(end) - x(h.StartDate)
		if w < 3 {
			w = 3
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="16" fill="#fff7bf" stroke="#594d00"/>`, x(h.StartDate), tlAxisY-8, w)
		label := "Hold " + short(h.StartDate) + " – " + map[bool]string{true: "still open", false: short(h.EndDate)}[open]
		marks = append(marks, tlMark{h.StartDate, label, "hold"})
		desc = append(desc, strings.ToLower(label[:1])+label[1:])
	}
	if !p.Deadline.IsZero() {
		marks = append(marks, tlMark{p.Deadline, "Deadline " + short(p.Deadline), "deadline"})
		desc = append(desc, "deadline "+p.Deadline.Time().Format("2 January 2006"))
	} else if !day45.IsZero() {
		marks = append(marks, tlMark{day45, "Day 45 " + short(day45), "day45"})
		desc = append(desc, "no deadline while the hold is open: notice is due on its release (day 45 is "+day45.Time().Format("2 January 2006")+")")
	}
	marks = append(marks, tlMark{p.AsOf, "Today " + short(p.AsOf), "today"})
	desc = append(desc, "today is "+p.AsOf.Time().Format("2 January 2006"))

	// Labels in the order of their dates, one row each, so a line down to its label crosses as few
	// others as it can.
	sort.SliceStable(marks, func(i, j int) bool { return marks[i].date.Before(marks[j].date) })
	colours := map[string]string{"discovered": "#0b0c0c", "hold": "#594d00", "deadline": "#d4351c", "today": "#1d70b8", "day45": "#505a5f"}
	for i, m := range marks {
		mx := x(m.date)
		y := tlLabelY + i*tlRow
		anchor, tx := "start", mx-2
		if mx > float64(tlWidth)/2 {
			anchor, tx = "end", mx+2
		}
		c := colours[m.kind]
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="3"/>`, mx, tlAxisY-18, mx, y-14, c)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="%s" fill="%s" font-size="15" font-weight="700">%s</text>`,
			tx, y, anchor, c, template.HTMLEscapeString(m.label))
	}
	height := tlLabelY + (len(marks)-1)*tlRow + 8
	svg := fmt.Sprintf(`<svg class="timeline %[1]s" viewBox="0 0 %[2]d %[3]d" role="img" aria-labelledby="tl-title-%[1]s tl-desc-%[1]s" xmlns="http://www.w3.org/2000/svg">`+
		`<title id="tl-title-%[1]s">Timeline of the breach</title><desc id="tl-desc-%[1]s">%[4]s.</desc>`+
		`<line x1="%[5]d" y1="%[6]d" x2="%[7]d" y2="%[6]d" stroke="#505a5f" stroke-width="2"/>%[8]s</svg>`,
		class, tlWidth, height, template.HTMLEscapeString(capitalise(strings.Join(desc, "; "))), tlPad, tlAxisY, tlWidth-tlPad, b.String())
	return template.HTML(svg)
}
