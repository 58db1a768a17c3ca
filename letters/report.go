package letters

import (
	"fmt"
	"strconv"
	"strings"
)

// Geometry of a report page (the press release and the closure report): plain US Letter with
// ¾" side margins, no envelope windows. A running header may sit above repTop and the footer
// below repBottom.
const (
	repMarginL   = 0.75 * inch
	repMarginR   = pageW - 0.75*inch
	repWidth     = repMarginR - repMarginL
	repTop       = 0.75 * inch // first line's top on a page without a running header
	repTopHeaded = 1.05 * inch // below the running header
	repHeaderY   = 0.6 * inch  // running header baseline
	repBottom    = 10.25 * inch
	repFooterY   = 10.6 * inch
	repBodySize  = 9.5
	repBodyLead  = 12.5
	repCellSize  = 8.0
	repCellLead  = 10.0
	repCellPad   = 4.0 // horizontal gap between table columns
)

// report lays out a document from top to bottom, breaking pages as it goes: paragraphs, headings
// that keep with what follows, label–value lists and tables whose header row is repeated on every
// page they continue on. Every string is checked with ck before it is laid out; the first that
// cannot be printed is kept in err (naming its field) and ends the report.
type report struct {
	reg, bold *face
	ck        checker
	lo        *layout
	y         float64 // top of the next line
	// running draws the running header of page p; nil: none. repeat draws the header row of the
	// table being laid out, at the top of a new page; nil outside a table.
	running func(p int)
	repeat  func()
	err     error
}

func newReport(r *Renderer, ck checker, running func(p int)) *report {
	d := &report{reg: r.regular, bold: r.bold, ck: ck, lo: &layout{tmpl: english, ops: make([]op, 0, 256)},
		running: running}
	d.newPage()
	return d
}

// clean checks one field (see checker.clean); after the first failure it returns "" and the
// report keeps that error.
func (d *report) clean(field, s string, multiline bool) string {
	if d.err != nil {
		return ""
	}
	s, err := d.ck.clean(field, strings.TrimSpace(s), multiline)
	if err != nil {
		d.err = err
		return ""
	}
	return s
}

func (d *report) newPage() {
	d.lo.pages++
	d.y = repTop
	if d.running != nil {
		d.y = repTopHeaded
		d.running(d.lo.pages)
	}
	if d.repeat != nil {
		d.repeat()
	}
}

// room starts a new page unless h more points fit on this one.
func (d *report) room(h float64) {
	if d.y+h > repBottom {
		d.newPage()
	}
}

func (d *report) face(b bool) *face {
	if b {
		return d.bold
	}
	return d.reg
}

// text draws s with its top at the cursor (its baseline one size below) without moving it.
func (d *report) text(b bool, size, x float64, s string) {
	if s != "" {
		d.lo.ops = append(d.lo.ops, op{page: d.lo.pages, bold: b, size: size, x: x, y: d.y + size*0.8, text: s})
	}
}

func (d *report) rule(x1, x2 float64) {
	d.lo.ops = append(d.lo.ops, op{page: d.lo.pages, line: true, x: x1, y: d.y, x2: x2, y2: d.y})
}

// lines draws wrapped lines at x, one lead apart, breaking the page between lines as needed.
func (d *report) lines(ls []string, b bool, size, lead, x float64) {
	for _, l := range ls {
		d.room(lead)
		d.text(b, size, x, l)
		d.y += lead
	}
}

// para lays out s, a paragraph per "\n", across the text width less indent.
func (d *report) para(s string, b bool, size, lead, indent float64) {
	for i, p := range strings.Split(s, "\n") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		if i > 0 {
			d.y += lead / 3
		}
		ls, _ := d.face(b).wrap(p, size, repWidth-indent)
		d.lines(ls, b, size, lead, repMarginL+indent)
	}
}

// heading lays out a section heading, kept on a page with at least three lines after it.
func (d *report) heading(s string, size float64) {
	d.y += size * 0.9
	d.room(size*1.5 + 3*repBodyLead)
	d.text(true, size, repMarginL, s)
	d.y += size * 1.5
}

// fields lays out label–value rows: the label in a column of its own, the value wrapped beside it.
func (d *report) fields(rows [][2]string) {
	const labelW = 2.0 * inch
	for _, row := range rows {
		labels, _ := d.reg.wrap(row[0], repBodySize, labelW-repCellPad)
		var ls []string
		for _, p := range strings.Split(row[1], "\n") {
			w, _ := d.reg.wrap(p, repBodySize, repWidth-labelW)
			ls = append(ls, w...)
		}
		d.room(repBodyLead * float64(min(max(len(ls), len(labels)), 3)))
		for i := range max(len(ls), len(labels)) {
			if i > 0 {
				d.room(repBodyLead)
			}
			if i < len(labels) {
				d.text(false, repBodySize, repMarginL, labels[i])
			}
			if i < len(ls) {
				d.text(false, repBodySize, repMarginL+labelW, ls[i])
			}
			d.y += repBodyLead
		}
	}
}

// column is one column of a table: its heading and its share of the text width.
type column struct {
	title string
	width float64 // fraction of repWidth
	right bool    // numbers: right-aligned
}

// fit returns the share of the text width the widest of cells needs in a table column (its
// padding included), at most most.
func (d *report) fit(cells []string, most float64) float64 {
	w := 0.0
	for _, c := range cells {
		w = max(w, d.reg.width(c, repCellSize), d.bold.width(c, repCellSize))
	}
	return min((w+repCellPad+1)/repWidth, most)
}

// table lays out rows under a header row that is drawn again at the top of every page the table
// continues on, and then foot (totals, in bold below a rule) unless it is nil. A row is kept on
// one page when it fits on one.
func (d *report) table(cols []column, rows [][]string, foot []string) {
	xs := make([]float64, len(cols)+1)
	xs[0] = repMarginL
	for i, c := range cols {
		xs[i+1] = xs[i] + c.width*repWidth
	}
	// A cell's "\n" starts a new line; each line wraps to the column.
	cell := func(b bool, i int, s string) []string {
		var ls []string
		for _, part := range strings.Split(s, "\n") {
			l, _ := d.face(b).wrap(part, repCellSize, xs[i+1]-xs[i]-repCellPad)
			ls = append(ls, l...)
		}
		return ls
	}
	draw := func(b bool, i int, l string) {
		x := xs[i]
		if cols[i].right {
			x = xs[i+1] - repCellPad - d.face(b).width(l, repCellSize)
		}
		d.text(b, repCellSize, x, l)
	}
	header := func() {
		var heads [][]string
		n := 1
		for i, c := range cols {
			heads = append(heads, cell(true, i, c.title))
			n = max(n, len(heads[i]))
		}
		for k := range n {
			for i := range cols {
				if k < len(heads[i]) {
					draw(true, i, heads[i][k])
				}
			}
			d.y += repCellLead
		}
		d.y += 1
		d.rule(repMarginL, repMarginR)
		d.y += 3
	}
	d.room(3 * repCellLead)
	header()
	d.repeat = header
	defer func() { d.repeat = nil }()
	if foot != nil {
		rows = append(rows, foot)
	}
	for r, row := range rows {
		b := foot != nil && r == len(rows)-1
		cells := make([][]string, len(cols))
		n := 1
		for i := range cols {
			if i < len(row) {
				cells[i] = cell(b, i, row[i])
			}
			n = max(n, len(cells[i]))
		}
		h := float64(n)*repCellLead + 2
		if b {
			h += 4
		}
		if d.y+h > repBottom && h <= repBottom-repTopHeaded-4*repCellLead {
			d.newPage()
		}
		if b {
			d.y += 1
			d.rule(repMarginL, repMarginR)
			d.y += 3
		}
		for k := range n {
			d.room(repCellLead)
			for i := range cols {
				if k < len(cells[i]) {
					draw(b, i, cells[i][k])
				}
			}
			d.y += repCellLead
		}
		d.y += 2
	}
}

// footer adds "left … Page N of M" at the foot of every page, once the number of pages is known.
func (d *report) footer(left string) {
	for p := 1; p <= d.lo.pages; p++ {
		n := english.pageOf(p, d.lo.pages)
		d.lo.ops = append(d.lo.ops,
			op{page: p, size: 8, x: repMarginL, y: repFooterY, text: left},
			op{page: p, size: 8, x: repMarginR - d.reg.width(n, 8), y: repFooterY, text: n})
	}
}

// thousands writes n with comma separators: 1,250.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// plural writes "1 notice", "2 notices", "1,250 notices".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%s %s", thousands(n), many)
}
