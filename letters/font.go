package letters

import (
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"codeberg.org/go-pdf/fpdf"
)

// The letter font is DejaVu Sans (regular and bold), shipped in the binary so that a letter prints
// the same on every machine; fonts/LICENSE is its licence (Bitstream Vera, public-domain changes).
//
//go:embed fonts/DejaVuSans.ttf fonts/DejaVuSans-Bold.ttf
var fontFiles embed.FS

// latinBlocks are the Unicode blocks a letter may print: every Latin-script block DejaVu Sans
// covers (Vietnamese lives in Latin Extended Additional, Polish in Extended-A), the combining
// diacritics, general punctuation, currency and letterlike symbols.
//
// fpdf re-parses a font for every document it writes (it has no API to share a parsed font), and
// the cost of that parse grows with the font's character map: DejaVu Sans maps ~6,000 characters.
// So NewRenderer cuts each font down to these blocks once, and every document loads the cut font
// (~115 KB instead of ~750 KB). A character outside these blocks is one the letters cannot print:
// it is reported as an error, never drawn as a box.
var latinBlocks = [][2]rune{
	{0x0020, 0x007E}, // Basic Latin
	{0x00A0, 0x00FF}, // Latin-1 Supplement
	{0x0100, 0x017F}, // Latin Extended-A
	{0x0180, 0x024F}, // Latin Extended-B
	{0x0250, 0x02AF}, // IPA Extensions (ɑ, ɛ, ɔ appear in some African Latin orthographies)
	{0x02B0, 0x02FF}, // Spacing Modifier Letters (ʻokina, ʼ)
	{0x0300, 0x036F}, // Combining Diacritical Marks
	{0x1E00, 0x1EFF}, // Latin Extended Additional (Vietnamese)
	{0x2000, 0x206F}, // General Punctuation
	{0x20A0, 0x20CF}, // Currency Symbols
	{0x2100, 0x214F}, // Letterlike Symbols (№, ™)
	{0x2C60, 0x2C7F}, // Latin Extended-C
	{0xA720, 0xA7FF}, // Latin Extended-D
	{0xFB00, 0xFB06}, // Latin ligatures
}

// face is one font, parsed once: the cut TrueType bytes fpdf embeds, which characters it can draw,
// and their advance widths in thousandths of an em (the unit fpdf measures in, rounded as fpdf
// rounds, so a line measured here is the line fpdf draws).
type face struct {
	ttf    []byte
	widths map[rune]int
}

func (f *face) has(r rune) bool {
	_, ok := f.widths[r]
	return ok
}

// width returns the width of s in points at size pt.
func (f *face) width(s string, size float64) float64 {
	w := 0
	for _, r := range s {
		w += f.widths[r]
	}
	return float64(w) * size / 1000
}

// loadFace reads an embedded font, cuts it to latinBlocks and reads the cut font's character map
// and widths.
func loadFace(name string) (*face, error) {
	full, err := fontFiles.ReadFile("fonts/" + name)
	if err != nil {
		return nil, fmt.Errorf("read embedded font %s: %w", name, err)
	}
	all, err := parseFont(full)
	if err != nil {
		return nil, fmt.Errorf("font %s: %w", name, err)
	}
	var cut strings.Builder
	for _, b := range latinBlocks {
		for r := b[0]; r <= b[1]; r++ {
			if _, ok := all.glyph[r]; ok {
				cut.WriteRune(r)
			}
		}
	}
	ttf := fpdf.UTF8CutFont(full, cut.String())
	small, err := parseFont(ttf)
	if err != nil {
		return nil, fmt.Errorf("font %s after cutting: %w", name, err)
	}
	f := &face{ttf: ttf, widths: make(map[rune]int, len(small.glyph))}
	for r, g := range small.glyph {
		f.widths[r] = small.advance(g)
	}
	return f, nil
}

// sfnt is what the letters need of a TrueType font: its Unicode character map and advance widths.
type sfnt struct {
	glyph      map[rune]uint16
	advances   []uint16
	unitsPerEm int
}

// advance returns the advance width of glyph g in thousandths of an em, rounded as fpdf rounds.
func (s *sfnt) advance(g uint16) int {
	var a int
	switch {
	case len(s.advances) == 0:
		return 0
	case int(g) < len(s.advances):
		a = int(s.advances[g])
	default: // glyphs past numberOfHMetrics share the last advance
		a = int(s.advances[len(s.advances)-1])
	}
	return int(float64(a)*1000/float64(s.unitsPerEm) + 0.5)
}

var errFont = errors.New("malformed TrueType font")

// parseFont reads the tables the letters need. Like fpdf it reads only the BMP character map of
// format 4 (platform 3 encoding 1, or platform 0): a character fpdf cannot map is one this map
// does not hold, so the check before drawing and the drawing agree.
func parseFont(b []byte) (*sfnt, error) {
	tables, err := tableDirectory(b)
	if err != nil {
		return nil, err
	}
	head, hhea, hmtx, cmap := tables["head"], tables["hhea"], tables["hmtx"], tables["cmap"]
	if len(head) < 54 || len(hhea) < 36 || cmap == nil {
		return nil, fmt.Errorf("%w: missing or short head, hhea or cmap table", errFont)
	}
	s := &sfnt{unitsPerEm: int(binary.BigEndian.Uint16(head[18:]))}
	if s.unitsPerEm == 0 {
		return nil, fmt.Errorf("%w: unitsPerEm is 0", errFont)
	}
	n := int(binary.BigEndian.Uint16(hhea[34:]))
	if len(hmtx) < 4*n {
		return nil, fmt.Errorf("%w: hmtx holds fewer than %d metrics", errFont, n)
	}
	s.advances = make([]uint16, n)
	for i := range n {
		s.advances[i] = binary.BigEndian.Uint16(hmtx[4*i:])
	}
	s.glyph, err = cmapFormat4(cmap)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func tableDirectory(b []byte) (map[string][]byte, error) {
	if len(b) < 12 {
		return nil, fmt.Errorf("%w: %d bytes", errFont, len(b))
	}
	if v := binary.BigEndian.Uint32(b); v != 0x00010000 && v != 0x74727565 { // 1.0 or 'true'
		return nil, fmt.Errorf("%w: not a TrueType outline font", errFont)
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if len(b) < 12+16*n {
		return nil, fmt.Errorf("%w: table directory truncated", errFont)
	}
	tables := make(map[string][]byte, n)
	for i := range n {
		rec := b[12+16*i:]
		off, size := uint64(binary.BigEndian.Uint32(rec[8:])), uint64(binary.BigEndian.Uint32(rec[12:]))
		if off+size > uint64(len(b)) {
			return nil, fmt.Errorf("%w: table %q lies outside the file", errFont, rec[:4])
		}
		tables[string(rec[:4])] = b[off : off+size]
	}
	return tables, nil
}

// cmapFormat4 returns every character the format-4 subtable maps to a glyph other than 0
// (.notdef, the box).
func cmapFormat4(cmap []byte) (map[rune]uint16, error) {
	if len(cmap) < 4 {
		return nil, fmt.Errorf("%w: cmap truncated", errFont)
	}
	n := int(binary.BigEndian.Uint16(cmap[2:]))
	if len(cmap) < 4+8*n {
		return nil, fmt.Errorf("%w: cmap records truncated", errFont)
	}
	var sub []byte
	for i := range n {
		rec := cmap[4+8*i:]
		platform, encoding := binary.BigEndian.Uint16(rec), binary.BigEndian.Uint16(rec[2:])
		off := uint64(binary.BigEndian.Uint32(rec[4:]))
		if (platform == 3 && encoding == 1) || platform == 0 {
			if off+2 <= uint64(len(cmap)) && binary.BigEndian.Uint16(cmap[off:]) == 4 {
				sub = cmap[off:]
				break
			}
		}
	}
	if len(sub) < 14 {
		return nil, fmt.Errorf("%w: no Unicode BMP character map (format 4)", errFont)
	}
	if l := int(binary.BigEndian.Uint16(sub[2:])); l <= len(sub) && l >= 14 {
		sub = sub[:l]
	}
	segs := int(binary.BigEndian.Uint16(sub[6:])) / 2
	// endCode[segs], pad, startCode[segs], idDelta[segs], idRangeOffset[segs], glyphIdArray...
	ends, starts, deltas, ranges := 14, 16+2*segs, 16+4*segs, 16+6*segs
	if len(sub) < ranges+2*segs {
		return nil, fmt.Errorf("%w: format 4 segments truncated", errFont)
	}
	u16 := func(at int) (uint16, bool) {
		if at < 0 || at+2 > len(sub) {
			return 0, false
		}
		return binary.BigEndian.Uint16(sub[at:]), true
	}
	m := make(map[rune]uint16)
	for i := range segs {
		end, _ := u16(ends + 2*i)
		start, _ := u16(starts + 2*i)
		delta, _ := u16(deltas + 2*i)
		rangeOff, _ := u16(ranges + 2*i)
		if start > end {
			continue
		}
		for c := int(start); c <= int(end) && c != 0xFFFF; c++ {
			var g uint16
			if rangeOff == 0 {
				g = uint16(c) + delta
			} else {
				v, ok := u16(ranges + 2*i + int(rangeOff) + 2*(c-int(start)))
				if !ok {
					return nil, fmt.Errorf("%w: format 4 glyph index outside the table", errFont)
				}
				if v != 0 {
					g = v + delta
				}
			}
			if g != 0 {
				m[rune(c)] = g
			}
		}
	}
	return m, nil
}
