package breach

import (
	"fmt"
	"unicode"
)

// printable holds the characters the letters can draw: every PDF breachd writes (letters, print
// batches, the closure report, the agency letters, the press release) prints them, and nothing
// else. It is the one definition both sides use: uploads and requests refuse other characters at
// the door, naming the field, and the letters package tests that its embedded fonts draw every
// character admitted here, so the two cannot drift apart.
//
// The ranges follow the Unicode blocks named in the comments, narrowed to what the fonts draw:
// DejaVu Sans (regular and bold) for Latin, Greek, Cyrillic, Hebrew and Arabic; Droid Sans
// Fallback for Japanese, Chinese and Korean. Code points a range spans that are unassigned or not
// graphic (format characters such as the bidirectional overrides) are refused by Unprintable all
// the same. Left out on purpose:
//   - combining marks the letters cannot place without a shaping engine: Hebrew points (niqqud),
//     Arabic vowel signs (harakat), the combining kana voicing marks (names use the precomposed
//     kana);
//   - Arabic letters whose joined forms the letters do not know (the letters join Arabic by its
//     presentation forms; the Persian letters پ چ ژ ک گ ی are known);
//   - CJK ideographs beyond the Unified block (Extension A and the supplementary planes), Hangul
//     jamo: the CJK font does not draw them.
var printable = &unicode.RangeTable{R16: []unicode.Range16{
	{0x0020, 0x007E, 1}, // Basic Latin
	{0x00A0, 0x00FF, 1}, // Latin-1 Supplement
	{0x0100, 0x02AF, 1}, // Latin Extended-A, Latin Extended-B, IPA Extensions
	// Spacing Modifier Letters (ʻokina, ʼ)
	{0x02B0, 0x02E9, 1}, {0x02EC, 0x02EE, 1}, {0x02F3, 0x02F3, 1}, {0x02F7, 0x02F7, 1},
	// Combining Diacritical Marks
	{0x0300, 0x034F, 1}, {0x0351, 0x0353, 1}, {0x0357, 0x0358, 1}, {0x035A, 0x035A, 1}, {0x035C, 0x0362, 1},
	{0x0370, 0x03FF, 1}, // Greek and Coptic
	{0x0400, 0x0525, 1}, // Cyrillic, Cyrillic Supplement
	// Hebrew: maqaf, paseq, sof pasuq, nun hafukha, the letters, the Yiddish ligatures, geresh and gershayim
	{0x05BE, 0x05BE, 1}, {0x05C0, 0x05C0, 1}, {0x05C3, 0x05C3, 1}, {0x05C6, 0x05C6, 1}, {0x05D0, 0x05EA, 1}, {0x05F0, 0x05F4, 1},
	// Arabic: comma, semicolon, question mark, the letters, tatweel, Arabic-Indic digits and
	// punctuation, پ چ ژ ک گ ی, extended Arabic-Indic digits
	{0x060C, 0x060C, 1}, {0x061B, 0x061B, 1}, {0x061F, 0x061F, 1}, {0x0621, 0x063A, 1}, {0x0640, 0x064A, 1},
	{0x0660, 0x066D, 1}, {0x067E, 0x067E, 1}, {0x0686, 0x0686, 1}, {0x0698, 0x0698, 1}, {0x06A9, 0x06A9, 1},
	{0x06AF, 0x06AF, 1}, {0x06CC, 0x06CC, 1}, {0x06F0, 0x06F9, 1},
	{0x1E00, 0x1EFB, 1}, // Latin Extended Additional (Vietnamese)
	{0x1F00, 0x1FFE, 1}, // Greek Extended
	{0x2000, 0x205F, 1}, // General Punctuation
	// Currency Symbols
	{0x20A0, 0x20B5, 1}, {0x20B8, 0x20BA, 1}, {0x20BD, 0x20BD, 1},
	// Letterlike Symbols (№, ™)
	{0x2100, 0x2109, 1}, {0x210B, 0x2149, 1}, {0x214B, 0x214B, 1}, {0x214E, 0x214E, 1},
	// Latin Extended-C
	{0x2C60, 0x2C77, 1}, {0x2C79, 0x2C7F, 1},
	// CJK Symbols and Punctuation (ideographic space, 、。「」 …)
	{0x3000, 0x3003, 1}, {0x3005, 0x3007, 1}, {0x300A, 0x3019, 1}, {0x301C, 0x301F, 1}, {0x3021, 0x3029, 1},
	{0x3041, 0x3094, 1}, {0x309B, 0x309E, 1}, // Hiragana
	{0x30A0, 0x30F6, 1}, {0x30FB, 0x30FE, 1}, // Katakana
	{0x4E00, 0x9FA5, 1}, // CJK Unified Ideographs
	// Latin Extended-D
	{0xA722, 0xA72B, 1}, {0xA730, 0xA741, 1}, {0xA746, 0xA74B, 1}, {0xA74E, 0xA753, 1}, {0xA756, 0xA757, 1},
	{0xA764, 0xA767, 1}, {0xA780, 0xA783, 1}, {0xA789, 0xA78E, 1}, {0xA790, 0xA791, 1}, {0xA7A0, 0xA7AA, 1},
	{0xA7F8, 0xA7FF, 1},
	{0xAC00, 0xD7A3, 1},                      // Hangul Syllables
	{0xFB00, 0xFB06, 1},                      // Latin ligatures
	{0xFB1D, 0xFB1D, 1}, {0xFB1F, 0xFB4F, 1}, // Hebrew presentation forms (precomposed letters)
	// Halfwidth and Fullwidth Forms
	{0xFF01, 0xFF5E, 1}, {0xFF61, 0xFF9F, 1}, {0xFFE0, 0xFFE6, 1},
}, LatinOffset: 2}

// Printable reports whether the letters can print r.
func Printable(r rune) bool {
	return unicode.Is(printable, r) && unicode.IsGraphic(r)
}

// PrintableRanges returns the ranges Printable admits characters from, lowest first, for a test
// that enumerates them. Within a range, Printable still refuses what is not graphic.
func PrintableRanges() [][2]rune {
	out := make([][2]rune, len(printable.R16))
	for i, r := range printable.R16 {
		out[i] = [2]rune{rune(r.Lo), rune(r.Hi)}
	}
	return out
}

// Unprintable returns the first character of s the letters cannot print (see Printable), and
// whether there is one. Line breaks and tabs are not reported: whether a field may hold them is
// that field's own rule.
func Unprintable(s string) (r rune, ok bool) {
	for _, r := range s {
		if r < 0x7F && r >= 0x20 || r == '\n' || r == '\r' || r == '\t' {
			continue
		}
		if !Printable(r) {
			return r, true
		}
	}
	return 0, false
}

// UnprintableReason returns why s cannot be printed, as a field error's reason, or "" when it can:
// `contains "𓀀" (U+13000), which the letters cannot print`.
func UnprintableReason(s string) string {
	r, ok := Unprintable(s)
	if !ok {
		return ""
	}
	return fmt.Sprintf("contains %q (%U), which the letters cannot print", string(r), r)
}
