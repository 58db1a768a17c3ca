package letters

import (
	"bytes"
	"context"
	"io"
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
		{"רחוב הרצל 12", "12 לצרה בוחר"},             // digits stay left to right
		{"דירה 3 (קומה 2)", "(2 המוק) 3 הריד"},       // brackets mirrored
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

// readBack is pdftotext's text with the marks it puts around right-to-left runs removed.
func readBack(t *testing.T, path string) string {
	t.Helper()
	return strings.NewReplacer("\u202b", "", "\u202c", "").Replace(pdfPlainText(t, path))
}

// printedAs is a name as read back: Arabic in the joined forms it was drawn in.
func printedAs(name string) string { return shapeArabic(name) }

func TestScriptsPrintInABatch(t *testing.T) {
	r := testRenderer(t)
	m := testMailing()
	ls := append(scriptLetters(), adultLetter("N-L1", "Zoë O'Brien-Ångström", "en"))
	var pdf, manifest bytes.Buffer
	res, err := r.RenderBatch(&pdf, &manifest, m, BatchInfo{BreachID: "B-42", BreachTitle: "翔平 大谷 — student records", Number: 1, Of: 1}, ls)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) != 0 || len(res.Letters) != len(ls) {
		t.Fatalf("printed %d, rejected %v; want all %d", len(res.Letters), res.Rejected, len(ls))
	}
	path := writeTemp(t, "scripts-batch.pdf", pdf.Bytes())
	text := readBack(t, path)
	for _, want := range []string{"7 letters, sorted by postal code", "Breach 翔平 大谷 — student records (B-42)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the cover sheet lacks %q:\n%s", want, text)
		}
	}
	for _, l := range ls {
		if n := printedAs(l.Addressee.Name[0]); strings.Count(text, "Dear "+n) != 1 {
			t.Errorf("the batch does not hold the letter to %q once", n)
		}
		if !strings.Contains(manifest.String(), ","+l.Addressee.Name[0]+",") {
			t.Errorf("the manifest lacks %q:\n%s", l.Addressee.Name[0], manifest.String())
		}
	}
	if strings.Contains(manifest.String(), "cannot print") {
		t.Errorf("the manifest reports an error:\n%s", manifest.String())
	}
}

// TestCJKKeepsDocumentsSmall: a document that prints CJK embeds only the glyphs it prints, and
// one that prints none does not load the CJK font at all.
func TestCJKKeepsDocumentsSmall(t *testing.T) {
	r := testRenderer(t)
	m := testMailing()
	latin := benchLetters(100)
	withCJK := benchLetters(100)
	withCJK[7] = adultLetter(withCJK[7].NoticeID, "翔平 大谷", "en")
	size := func(ls []Letter) (int, string) {
		var pdf bytes.Buffer
		if _, err := r.RenderBatch(&pdf, io.Discard, m, BatchInfo{BreachID: "B-1", BreachTitle: "Export", Number: 1}, ls); err != nil {
			t.Fatal(err)
		}
		return pdf.Len(), poppler(t, "pdffonts", writeTemp(t, "size.pdf", pdf.Bytes()))
	}
	a, fontsA := size(latin)
	b, fontsB := size(withCJK)
	t.Logf("batch of 100 letters: %d bytes Latin only, %d bytes with one CJK name (+%d)", a, b, b-a)
	if strings.Contains(fontsA, "droidsansfallback") || !strings.Contains(fontsB, "droidsansfallback") {
		t.Errorf("the CJK font is embedded only where CJK is printed:\n%s\n%s", fontsA, fontsB)
	}
	if b-a > 20_000 {
		t.Errorf("one CJK name adds %d bytes to a batch; its four glyphs should take a few KB", b-a)
	}
	var one bytes.Buffer
	if _, err := r.RenderLetter(&one, m, adultLetter("N-1", "翔平 大谷", "en")); err != nil {
		t.Fatal(err)
	}
	t.Logf("one letter to 翔平 大谷: %d bytes", one.Len())
	if one.Len() > 200_000 {
		t.Errorf("one letter with a CJK name is %d bytes", one.Len())
	}
}

func TestScriptsPrintInTheClosureReport(t *testing.T) {
	docs := testDocuments(t)
	r := closureReport(t, 5)
	r.Breach.Determination.Title = "翔平 大谷 の記録"
	r.Breach.Determination.Reporter.Anonymous = false
	r.Breach.Determination.Reporter.Name = "דוד כהן"
	r.Outcome.Summary = "Letters reached Γιώργος Παπαδόπουλος, Анна Иванова, 김민준 and محمد الأحمد."
	path, _ := writePDF(t, "closure-scripts", func(w io.Writer) error { return docs.ClosureReport(context.Background(), w, r) })
	if *pngDir != "" {
		b, _ := os.ReadFile(path)
		writeTemp(t, "closure-scripts.pdf", b)
	}
	text := readBack(t, path)
	for _, n := range append(scriptNames, "翔平 大谷 の記録") {
		if !strings.Contains(text, printedAs(n)) {
			t.Errorf("the closure report lacks %q:\n%s", n, text)
		}
	}
}
