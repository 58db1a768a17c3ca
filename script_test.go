package breach

import "testing"

func TestUnprintable(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		r    rune
		bad  bool
	}{
		{"Latin with diacritics", "Nguyễn Thị Hồng, Zoë O'Brien-Ångström", 0, false},
		{"Japanese", "翔平 大谷 やまだ タロウ", 0, false},
		{"Korean", "김민준", 0, false},
		{"Greek, Cyrillic", "Γιώργος Анна", 0, false},
		{"Hebrew and Arabic", "דוד כהן محمد", 0, false},
		{"line breaks and tabs are the field's own rule", "a\nb\r\tc", 0, false},
		{"hieroglyph", "Ann\U00013000", 0x13000, true},
		{"emoji", "Bo 🏠", 0x1F3E0, true},
		{"bidirectional override", "Mary \u202eLee", 0x202E, true},
		{"control character", "a\x01", 1, true},
		{"Hebrew point", "שָׁלוֹם", 0x05B8, true},
		{"Arabic vowel sign", "مُحَمَّد", 0x064F, true},
		{"CJK Extension B", "\U00020000", 0x20000, true},
		{"Devanagari", "राम", 'र', true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, bad := Unprintable(c.in)
			if r != c.r || bad != c.bad {
				t.Fatalf("Unprintable(%q) = %U, %v; want %U, %v", c.in, r, bad, c.r, c.bad)
			}
		})
	}
	if got, want := UnprintableReason("Ann\U00013000"), `contains "𓀀" (U+13000), which the letters cannot print`; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
	if got := UnprintableReason("翔平"); got != "" {
		t.Errorf("reason %q for a printable name", got)
	}
}

func TestPrintableRangesSorted(t *testing.T) {
	rs := PrintableRanges()
	for i, r := range rs {
		if r[0] > r[1] || i > 0 && r[0] <= rs[i-1][1] {
			t.Fatalf("range %d %U–%U is empty or not after %U", i, r[0], r[1], rs[i-1][1])
		}
	}
}
