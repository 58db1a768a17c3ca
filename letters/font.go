package letters

import (
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"codeberg.org/go-pdf/fpdf"
)

// The letter fonts are shipped in the binary so that a letter prints the same on every machine:
// DejaVu Sans (regular and bold; fonts/LICENSE, Bitstream Vera with public-domain changes) for
// Latin, Greek, Cyrillic, Hebrew and Arabic, and Droid Sans Fallback (fonts/LICENSE-DroidSansFallback,
// Apache 2.0, from Debian's fonts-droid-fallback) for Chinese, Japanese and Korean. Droid Sans
// Fallback has TrueType outlines, which fpdf can embed; Noto Sans CJK's CFF outlines it cannot.
//
//go:embed fonts/DejaVuSans.ttf fonts/DejaVuSans-Bold.ttf fonts/DroidSansFallback.ttf
var fontFiles embed.FS

// What the letters print is breach.Printable; these blocks say which font draws it. Each
// character is drawn with the first font of a face that has it, so a line of text is drawn as
// runs, one per font, each measured with the font it is drawn in.
//
// fpdf re-parses a font for every document it writes (it has no API to share a parsed font), and
// the cost of that parse grows with the font's character map: DejaVu Sans maps ~6,000 characters,
// Droid Sans Fallback ~33,000. So:
//   - NewRenderer cuts DejaVu Sans once into two fonts: latinBlocks (~115 KB instead of ~750 KB),
//     which every document loads, and scriptBlocks, which a document loads only when it prints
//     Greek, Cyrillic, Hebrew or Arabic;
//   - a document that prints CJK gets Droid Sans Fallback cut to the characters it prints, when it
//     is written (see doc.fonts); a document without CJK never loads it.
//
// A character outside breach.Printable is one the letters cannot print: it is refused when a
// person is uploaded, and a letter holding one anyway is a *FieldError, never drawn as a box.
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

// scriptBlocks are the other scripts DejaVu Sans draws, with the presentation forms Hebrew and
// Arabic are drawn in (see visual).
var scriptBlocks = [][2]rune{
	{0x0370, 0x03FF}, // Greek and Coptic
	{0x0400, 0x052F}, // Cyrillic, Cyrillic Supplement
	{0x0590, 0x05FF}, // Hebrew
	{0x0600, 0x06FF}, // Arabic
	{0x1F00, 0x1FFF}, // Greek Extended
	{0xFB1D, 0xFB4F}, // Hebrew presentation forms
	{0xFB50, 0xFDFF}, // Arabic Presentation Forms-A
	{0xFE70, 0xFEFF}, // Arabic Presentation Forms-B
}

// cjkBlocks are what Droid Sans Fallback draws for the letters.
var cjkBlocks = [][2]rune{
	{0x3000, 0x303F}, // CJK Symbols and Punctuation
	{0x3040, 0x309F}, // Hiragana
	{0x30A0, 0x30FF}, // Katakana
	{0x4E00, 0x9FFF}, // CJK Unified Ideographs
	{0xAC00, 0xD7AF}, // Hangul Syllables
	{0xFF00, 0xFFEF}, // Halfwidth and Fullwidth Forms
}

// font is one TrueType font a document may embed.
type font struct {
	family, style string // as registered with fpdf; style "B" is a real bold
	// ttf is the font as fpdf embeds it: cut to its blocks, or, when perDocument, the whole file,
	// cut for each document to the characters it prints.
	ttf         []byte
	perDocument bool
}

// face is what a piece of text is drawn with: fonts tried in order. The tables cover the Basic
// Multilingual Plane, the only plane fpdf maps.
type face struct {
	fonts  []*font
	of     [0x10000]uint8  // 1 + the index in fonts of the font that draws the character; 0: none
	widths [0x10000]uint16 // advance widths in thousandths of an em, rounded as fpdf rounds
}

func (f *face) has(r rune) bool { return r >= 0 && r < 0x10000 && f.of[r] != 0 }

// fontOf returns the font that draws r, or nil.
func (f *face) fontOf(r rune) *font {
	if !f.has(r) {
		return nil
	}
	return f.fonts[f.of[r]-1]
}

func (f *face) runeWidth(r rune) int {
	if r < 0 || r >= 0x10000 {
		return 0
	}
	return int(f.widths[r])
}

// width returns the width of s in points at size pt, as drawn: Arabic is measured joined.
func (f *face) width(s string, size float64) float64 {
	w := 0
	for _, r := range s {
		if joins(r) {
			return f.widthShaped(s, size)
		}
		w += f.runeWidth(r)
	}
	return float64(w) * size / 1000
}

func (f *face) widthShaped(s string, size float64) float64 {
	w := 0
	for _, r := range shapeArabic(s) {
		w += f.runeWidth(r)
	}
	return float64(w) * size / 1000
}

// add adds the characters of blocks that fnt's font file (parsed as s) maps and no earlier font
// of the face draws.
func (f *face) add(fnt *font, s *sfnt, blocks [][2]rune) {
	f.fonts = append(f.fonts, fnt)
	idx := uint8(len(f.fonts))
	for _, b := range blocks {
		for r := b[0]; r <= b[1]; r++ {
			g, ok := s.glyph[r]
			if !ok || f.of[r] != 0 {
				continue
			}
			f.of[r] = idx
			f.widths[r] = uint16(s.advance(g))
		}
	}
}

// cutFont reads an embedded font and cuts it to the characters of blocks it maps, returning the
// cut font and its parse.
func cutFont(name string, blocks [][2]rune) ([]byte, *sfnt, error) {
	full, all, err := readFont(name)
	if err != nil {
		return nil, nil, err
	}
	var cut strings.Builder
	for _, b := range blocks {
		for r := b[0]; r <= b[1]; r++ {
			if _, ok := all.glyph[r]; ok {
				cut.WriteRune(r)
			}
		}
	}
	ttf := fpdf.UTF8CutFont(full, cut.String())
	small, err := parseFont(ttf)
	if err != nil {
		return nil, nil, fmt.Errorf("font %s after cutting: %w", name, err)
	}
	return ttf, small, nil
}

// loadFace builds a face from a DejaVu Sans file (regular or bold) and the shared CJK font.
func loadFace(name, style string, cjk *font, cjkFont *sfnt) (*face, error) {
	f := &face{}
	for _, part := range []struct {
		family string
		blocks [][2]rune
	}{{fontFamily, latinBlocks}, {fontFamily + "Scripts", scriptBlocks}} {
		ttf, s, err := cutFont(name, part.blocks)
		if err != nil {
			return nil, err
		}
		f.add(&font{family: part.family, style: style, ttf: ttf}, s, part.blocks)
	}
	f.add(cjk, cjkFont, cjkBlocks)
	return f, nil
}

// loadCJK reads Droid Sans Fallback. It is not cut here: each document that prints CJK embeds it
// cut to the characters it prints.
func loadCJK() (*font, *sfnt, error) {
	full, s, err := readFont("DroidSansFallback.ttf")
	if err != nil {
		return nil, nil, err
	}
	return &font{family: "DroidSansFallback", ttf: full, perDocument: true}, s, nil
}

// readFont reads an embedded font whole and parses it.
func readFont(name string) ([]byte, *sfnt, error) {
	full, err := fontFiles.ReadFile("fonts/" + name)
	if err != nil {
		return nil, nil, fmt.Errorf("read embedded font %s: %w", name, err)
	}
	s, err := parseFont(full)
	if err != nil {
		return nil, nil, fmt.Errorf("font %s: %w", name, err)
	}
	return full, s, nil
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
