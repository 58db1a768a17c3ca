package letters

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// Hebrew and Arabic are written right to left, and Arabic letters join: a PDF draws the glyphs it
// is given from left to right, with no shaping engine. So a line holding Hebrew or Arabic is
// turned into what the reader sees before it is drawn: Arabic letters replaced by their joined
// forms (Arabic Presentation Forms-B, which DejaVu Sans draws), then the line put in visual order
// by the Unicode bidirectional algorithm, reduced to what one line of a left-to-right document
// needs (UAX #9 rules W1, W7, N1, N2, I1, L2, L4): every right-to-left run reversed, numbers in it
// kept left to right, brackets in it mirrored. A line with neither script is drawn as it is.
//
// breach.Printable admits no Hebrew points or Arabic vowel signs: placing a combining mark over
// a right-to-left letter needs the font's positioning tables, which fpdf does not read.

// arabicForm holds a letter's presentation forms; initial and medial are 0 for a letter that
// joins only the letter before it (alef, dal, reh, waw …), final too for one that joins neither
// (hamza).
type arabicForm struct{ isolated, final, initial, medial rune }

var arabicForms = func() map[rune]arabicForm {
	m := make(map[rune]arabicForm, 44)
	// Presentation Forms-B lists the letters U+0621–U+064A in order from U+FE80: one form for
	// hamza, two (isolated, final) for a letter that joins only the letter before it, four
	// (isolated, final, initial, medial) for one that joins on both sides.
	rightOnly := map[rune]bool{0x0622: true, 0x0623: true, 0x0624: true, 0x0625: true, 0x0627: true, 0x0629: true,
		0x062F: true, 0x0630: true, 0x0631: true, 0x0632: true, 0x0648: true, 0x0649: true}
	next := rune(0xFE80)
	for r := rune(0x0621); r <= 0x064A; r++ {
		switch {
		case r >= 0x063B && r <= 0x0640:
			continue // not letters with forms (0x0640 is tatweel)
		case r == 0x0621:
			m[r] = arabicForm{isolated: next}
			next++
		case rightOnly[r]:
			m[r] = arabicForm{isolated: next, final: next + 1}
			next += 2
		default:
			m[r] = arabicForm{isolated: next, final: next + 1, initial: next + 2, medial: next + 3}
			next += 4
		}
	}
	// Persian letters, from Presentation Forms-A.
	for r, at := range map[rune]rune{0x067E: 0xFB56, 0x0686: 0xFB7A, 0x06A9: 0xFB8E, 0x06AF: 0xFB92, 0x06CC: 0xFBFC} {
		m[r] = arabicForm{isolated: at, final: at + 1, initial: at + 2, medial: at + 3}
	}
	m[0x0698] = arabicForm{isolated: 0xFB8A, final: 0xFB8B}
	return m
}()

// lamAlef is the isolated lam-alef ligature for each alef; the final form is the next code point.
var lamAlef = map[rune]rune{0x0622: 0xFEF5, 0x0623: 0xFEF7, 0x0625: 0xFEF9, 0x0627: 0xFEFB}

const tatweel = 0x0640

// joins reports whether r is an Arabic letter whose drawn form depends on its neighbours.
func joins(r rune) bool {
	if r < 0x0621 || r > 0x06CC {
		return false
	}
	_, ok := arabicForms[r]
	return ok || r == tatweel
}

// joinsNext reports whether r connects to the letter after it.
func joinsNext(r rune) bool { return r == tatweel || arabicForms[r].initial != 0 }

// joinsPrev reports whether r connects to the letter before it.
func joinsPrev(r rune) bool { return r == tatweel || arabicForms[r].final != 0 }

// shapeArabic replaces each Arabic letter of s by the form it takes between its neighbours, and
// lam followed by alef by their ligature. It works in logical order.
func shapeArabic(s string) string {
	rs := []rune(s)
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		f, ok := arabicForms[r]
		if !ok {
			out = append(out, r)
			continue
		}
		prev := i > 0 && joinsNext(rs[i-1])
		if lig, ok := lamAlef[next(rs, i)]; ok && r == 0x0644 {
			if prev {
				lig++
			}
			out = append(out, lig)
			i++
			continue
		}
		nxt := f.initial != 0 && i+1 < len(rs) && joinsPrev(rs[i+1])
		switch {
		case prev && nxt:
			out = append(out, f.medial)
		case prev && f.final != 0:
			out = append(out, f.final)
		case nxt:
			out = append(out, f.initial)
		default:
			out = append(out, f.isolated)
		}
	}
	return string(out)
}

func next(rs []rune, i int) rune {
	if i+1 < len(rs) {
		return rs[i+1]
	}
	return 0
}

// Bidirectional classes, as far as one left-to-right line needs them.
const (
	bidiL  = iota // strong left to right
	bidiR         // strong right to left (Hebrew, Arabic)
	bidiEN        // European number
	bidiAN        // Arabic number
	bidiN         // neutral: spaces, punctuation, symbols
)

func rtl(r rune) bool {
	return r >= 0x0590 && r <= 0x08FF || r >= 0xFB1D && r <= 0xFDFF || r >= 0xFE70 && r <= 0xFEFF
}

func bidiClass(r rune) uint8 {
	switch {
	case r >= '0' && r <= '9', r >= 0x06F0 && r <= 0x06F9, r >= 0xFF10 && r <= 0xFF19:
		return bidiEN
	case r >= 0x0660 && r <= 0x0669, r == 0x066B, r == 0x066C:
		return bidiAN
	case r == 0x060C: // Arabic comma: a separator
		return bidiN
	case rtl(r):
		return bidiR
	case unicode.IsLetter(r), unicode.IsDigit(r):
		return bidiL
	}
	return bidiN
}

var mirrored = map[rune]rune{'(': ')', ')': '(', '[': ']', ']': '[', '{': '}', '}': '{', '<': '>', '>': '<',
	'«': '»', '»': '«', '‹': '›', '›': '‹'}

// visual returns one line of text as it is drawn from left to right (see the comment at the top).
func visual(s string) string {
	hasRTL := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if rtl(r) {
			hasRTL = true
			break
		}
		i += n
	}
	if !hasRTL {
		return s
	}
	rs := []rune(shapeArabic(s))
	cls := make([]uint8, len(rs))
	for i, r := range rs {
		cls[i] = bidiClass(r)
		if unicode.Is(unicode.Mn, r) && i > 0 { // W1: a mark takes the class of what it is on
			cls[i] = cls[i-1]
		}
	}
	// W7: a European number after left-to-right text (or at the start of the line) is left to right.
	strong := uint8(bidiL)
	for i, c := range cls {
		switch c {
		case bidiL, bidiR:
			strong = c
		case bidiEN:
			if strong == bidiL {
				cls[i] = bidiL
			}
		}
	}
	// N0: a pair of brackets around right-to-left text, after right-to-left text (or a number),
	// is right to left, so that both brackets are drawn with what they enclose.
	for _, p := range bracketPairs(rs) {
		inside := uint8(bidiN)
		for _, c := range cls[p[0]+1 : p[1]] {
			if c == bidiL {
				inside = bidiL
				break
			}
			if c != bidiN {
				inside = bidiR
			}
		}
		if inside != bidiR {
			continue
		}
		before := uint8(bidiL)
		for k := p[0] - 1; k >= 0; k-- {
			if cls[k] != bidiN {
				before = cls[k]
				if before == bidiEN || before == bidiAN { // numbers count as right to left
					before = bidiR
				}
				break
			}
		}
		if before == bidiR {
			cls[p[0]], cls[p[1]] = bidiR, bidiR
		}
	}
	// N1, N2: neutrals between two runs of the same direction take it (numbers count as right to
	// left); any other neutral takes the line's, left to right.
	dir := func(c uint8) uint8 {
		if c == bidiEN || c == bidiAN {
			return bidiR
		}
		return c
	}
	for i := 0; i < len(cls); {
		if cls[i] != bidiN {
			i++
			continue
		}
		j := i
		for j < len(cls) && cls[j] == bidiN {
			j++
		}
		before, after := uint8(bidiL), uint8(bidiL)
		if i > 0 {
			before = dir(cls[i-1])
		}
		if j < len(cls) {
			after = dir(cls[j])
		}
		c := uint8(bidiL)
		if before == bidiR && after == bidiR {
			c = bidiR
		}
		for k := i; k < j; k++ {
			cls[k] = c
		}
		i = j
	}
	// I1: levels in a left-to-right line.
	levels := make([]uint8, len(cls))
	for i, c := range cls {
		switch c {
		case bidiR:
			levels[i] = 1
		case bidiEN, bidiAN:
			levels[i] = 2
		}
	}
	// L4: mirror brackets drawn right to left.
	for i, r := range rs {
		if levels[i] == 1 {
			if m, ok := mirrored[r]; ok {
				rs[i] = m
			}
		}
	}
	// L2: from the highest level down to 1, reverse every run at that level or higher. A mark
	// moves with the character it is on, so it is still drawn after it.
	for lvl := uint8(2); lvl >= 1; lvl-- {
		for i := 0; i < len(rs); {
			if levels[i] < lvl {
				i++
				continue
			}
			j := i
			for j < len(rs) && levels[j] >= lvl {
				j++
			}
			reverseClusters(rs[i:j], levels[i:j])
			i = j
		}
	}
	return string(rs)
}

// bracketPairs returns the index pairs of matching round, square and curly brackets, as UAX #9's
// BD16 finds them (a stack of 63; an unmatched closing bracket is skipped).
func bracketPairs(rs []rune) [][2]int {
	var stack []int
	var pairs [][2]int
	for i, r := range rs {
		switch r {
		case '(', '[', '{':
			if len(stack) == 63 {
				return pairs
			}
			stack = append(stack, i)
		case ')', ']', '}':
			for k := len(stack) - 1; k >= 0; k-- {
				if mirrored[rs[stack[k]]] == r {
					pairs = append(pairs, [2]int{stack[k], i})
					stack = stack[:k]
					break
				}
			}
		}
	}
	return pairs
}

// reverseClusters reverses rs (and its levels alongside) keeping each character's following
// combining marks after it.
func reverseClusters(rs []rune, levels []uint8) {
	slices.Reverse(rs)
	slices.Reverse(levels)
	for i := 0; i < len(rs); {
		j := i
		for j < len(rs) && unicode.Is(unicode.Mn, rs[j]) {
			j++
		}
		if j > i && j < len(rs) { // marks then their base: put the base first
			slices.Reverse(rs[i : j+1])
			slices.Reverse(levels[i : j+1])
			j++
		}
		i = max(j, i+1)
	}
}
