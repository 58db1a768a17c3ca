package letters

import (
	"fmt"
	"io"
	"testing"

	"codeberg.org/go-pdf/fpdf"
)

// BenchmarkLetterNaive is the baseline: every document loads and parses the full fonts (regular
// and bold, ~750 KB each), as a renderer that prepares nothing between letters would.
func BenchmarkLetterNaive(b *testing.B) {
	r := testRenderer(b)
	m, l := testMailing(), adultLetter("N-0003", "Zoë O'Brien-Ångström", "en")
	reg, err := fontFiles.ReadFile("fonts/DejaVuSans.ttf")
	if err != nil {
		b.Fatal(err)
	}
	bold, err := fontFiles.ReadFile("fonts/DejaVuSans-Bold.ttf")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		lo, err := r.layoutLetter(m, &l)
		if err != nil {
			b.Fatal(err)
		}
		pdf := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "P", UnitStr: "pt", SizeStr: "Letter"})
		pdf.SetCatalogSort(true)
		pdf.SetCreationDate(fixedClock())
		pdf.SetModificationDate(fixedClock())
		pdf.SetTitle(lo.title, true)
		pdf.SetAutoPageBreak(false, 0)
		pdf.AddUTF8FontFromBytes(fontFamily, "", reg)
		pdf.AddUTF8FontFromBytes(fontFamily, "B", bold)
		d := &doc{r: r, pdf: pdf} // the full fonts are registered first: the cut ones are then not added
		r.draw(d, lo)
		if _, err := output(d, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLetter renders one-letter PDFs with a shared Renderer: fonts parsed, cut to their
// repertoire and measured once in NewRenderer (fpdf itself still parses the small cut font per
// document: it has no API to share a parsed font).
func BenchmarkLetter(b *testing.B) {
	r := testRenderer(b)
	m := testMailing()
	for _, tc := range []struct {
		name string
		l    Letter
	}{{"en-1page", adultLetter("N-0003", "Zoë O'Brien-Ångström", "en")}, {"es-2pages", spanishLetter()},
		{"en-1page-cjk-name", adultLetter("N-0003", "翔平 大谷", "en")}, {"en-1page-hebrew-name", adultLetter("N-0003", "דוד כהן", "en")}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := r.RenderLetter(io.Discard, m, tc.l); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// With DejaVu Sans Bold embedded too (Options.EmbedBold): what a second font costs.
	rb, err := NewRenderer(Options{Clock: fixedClock, EmbedBold: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("en-1page-embedbold", func(b *testing.B) {
		l := adultLetter("N-0003", "Zoë O'Brien-Ångström", "en")
		for b.Loop() {
			if _, err := rb.RenderLetter(io.Discard, m, l); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchLetters makes n letters with varied names, languages and postal codes.
func benchLetters(n int) []Letter {
	ls := make([]Letter, n)
	for i := range ls {
		switch i % 4 {
		case 0:
			ls[i] = householdLetter()
		case 1:
			ls[i] = spanishLetter()
		default:
			ls[i] = adultLetter("", testNames[i%len(testNames)], "en")
		}
		ls[i].NoticeID = fmt.Sprintf("N-%07d", i)
		ls[i].Addressee.PostalCode = fmt.Sprintf("4%04d", (i*7919)%10000)
	}
	return ls
}

// BenchmarkBatch renders one print-batch file of 1,000 letters and reports letters per second.
func BenchmarkBatch(b *testing.B) {
	r := testRenderer(b)
	m := testMailing()
	ls := benchLetters(1000)
	info := BatchInfo{BreachID: "B-1", BreachTitle: "Student information system export", Number: 1, Of: 1}
	for b.Loop() {
		if _, err := r.RenderBatch(io.Discard, io.Discard, m, info, ls); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(ls))/b.Elapsed().Seconds(), "letters/s")
}

// BenchmarkBatchScripts is BenchmarkBatch with one letter in ten to a person named in another
// script (Japanese, Greek, Cyrillic, Hebrew, Korean, Arabic): the batch then loads DejaVu Sans's
// other scripts and Droid Sans Fallback cut to the characters it prints.
func BenchmarkBatchScripts(b *testing.B) {
	r := testRenderer(b)
	m := testMailing()
	ls := benchLetters(1000)
	for i := 0; i < len(ls); i += 10 {
		ls[i] = adultLetter(ls[i].NoticeID, scriptNames[(i/10)%len(scriptNames)], "en")
	}
	info := BatchInfo{BreachID: "B-1", BreachTitle: "Student information system export", Number: 1, Of: 1}
	for b.Loop() {
		if _, err := r.RenderBatch(io.Discard, io.Discard, m, info, ls); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(ls))/b.Elapsed().Seconds(), "letters/s")
}
