package letters

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	breach "github.com/breachd/breachd"
)

// The names of every script the letters print, as uploaded (logical order).
var scriptNames = []string{"翔平 大谷", "Γιώργος Παπαδόπουλος", "Анна Иванова", "דוד כהן", "김민준", "محمد الأحمد"}

// TestFacesDrawEveryPrintableRune: every character breach.Printable admits is drawn by a font of
// both faces (Arabic letters in the joined forms they are drawn in), so what an upload accepts is
// what a letter prints.
func TestFacesDrawEveryPrintableRune(t *testing.T) {
	r, err := NewRenderer(Options{Clock: fixedClock, EmbedBold: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rg := range breach.PrintableRanges() {
		for c := rg[0]; c <= rg[1]; c++ {
			if !breach.Printable(c) {
				continue
			}
			n++
			drawn := []rune{c}
			if joins(c) { // every form the letter can take
				f := arabicForms[c]
				drawn = []rune{f.isolated, f.final, f.initial, f.medial}
			}
			for _, d := range drawn {
				if d == 0 {
					continue
				}
				for name, f := range map[string]*face{"regular": r.regular, "bold": r.bold} {
					if !f.has(d) || f.runeWidth(d) == 0 && !unicode.Is(unicode.Mn, d) {
						t.Errorf("%s face cannot draw %U %q (for %U)", name, d, d, c)
					}
				}
			}
		}
	}
	for _, lig := range lamAlef {
		for _, d := range []rune{lig, lig + 1} {
			if !r.regular.has(d) || !r.bold.has(d) {
				t.Errorf("no lam-alef ligature %U", d)
			}
		}
	}
	if n < 34000 {
		t.Errorf("only %d printable characters: the ranges lost a script", n)
	}
	t.Logf("%d printable characters, all drawn", n)
}

func TestVisualOrder(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Zoë O'Brien", "Zoë O'Brien"},
		{"翔平 大谷", "翔平 大谷"},
		{"דוד כהן", "ןהכ דוד"},
		{"Dear דוד כהן:", "Dear ןהכ דוד:"},
		{"דוד כהן, 12 Elm St", "12 ,ןהכ דוד Elm St"}, // the number joins the right-to-left run (UAX #9 W7, N1)
		{"רחוב הרצל 12", "12 לצרה בוחר"},       // digits stay left to right
		{"דירה 3 (קומה 2)", "(2 המוק) 3 הריד"}, // brackets mirrored
		{"Apt 3 דוד", "Apt 3 דוד"},
		// Arabic: joined (initial, medial, final forms; lam-alef) and reversed.
		{"محمد", "\uFEAA\uFEE4\uFEA4\uFEE3"},
		{"لا", "\uFEFB"},
		{"الأحمد", "\uFEAA\uFEE4\uFEA3\uFEF7\uFE8D"},
		{"(דוד)", "(דוד)"},
		{"Ann (דוד)", "Ann (דוד)"},
	} {
		if got := visual(c.in); got != c.want {
			t.Errorf("visual(%q) = %q %U, want %q %U", c.in, got, []rune(got), c.want, []rune(c.want))
		}
	}
}

// extracted is how pdftotext gives a name the letters printed. It reads a right-to-left run
// drawn in visual order back in logical order, between the embedding marks U+202B and U+202C (so
// a run drawn in logical order would come back reversed); Arabic comes back in the joined forms
// it was drawn in.
func extracted(name string) string {
	for _, c := range name {
		if rtl(c) {
			return "\u202b" + shapeArabic(name) + "\u202c"
		}
	}
	return name
}

// scriptLetters are letters to people in every printed script, with their postal codes in order.
func scriptLetters() []Letter {
	var ls []Letter
	for i, n := range scriptNames {
		l := adultLetter("N-S"+string(rune('1'+i)), n, "en")
		l.Addressee.PostalCode = "4660" + string(rune('1'+i))
		ls = append(ls, l)
	}
	return ls
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	dir := *pngDir
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestScriptsPrint(t *testing.T) {
	r := testRenderer(t)
	m := testMailing()
	for _, l := range scriptLetters() {
		var buf bytes.Buffer
		if _, err := r.RenderLetter(&buf, m, l); err != nil {
			t.Fatalf("%s: %v", l.Addressee.Name[0], err)
		}
		path := writeTemp(t, l.NoticeID+".pdf", buf.Bytes())
		text := pdfPlainText(t, path)
		if want := extracted(l.Addressee.Name[0]); !strings.Contains(text, "Dear "+want) {
			t.Errorf("letter to %s: pdftotext does not give %q:\n%s", l.Addressee.Name[0], want, text)
		}
	}
}
