package letters

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestFontCoverage(t *testing.T) {
	r := testRenderer(t)
	for _, name := range testNames {
		for _, c := range name {
			if !r.regular.has(c) {
				t.Errorf("%q: the letter font lacks %U %q", name, c, c)
			}
		}
	}
	// Scripts the letters do not print, emoji and controls are refused, never drawn as boxes.
	for _, c := range "रক😀\u0000" {
		if r.regular.has(c) {
			t.Errorf("the letter font claims %U %q", c, c)
		}
	}
	// Every character of every template, bold or not, is in the font.
	for lang, tm := range languages {
		var all strings.Builder
		for _, s := range tm.headings {
			all.WriteString(s)
		}
		for _, s := range tm.elements {
			all.WriteString(s)
		}
		all.WriteString(tm.title + tm.vigilant + tm.vigilantMinor + tm.closing + tm.intro("", true, 2, tm.thisLetter) +
			tm.intro("", true, 1, tm.thisLetter) + tm.intro("", false, 0, tm.thisLetter) + tm.pageOf(1, 2) + tm.call("", "x") + tm.involved("") +
			tm.discovered("") + tm.occurred("") + tm.dear("") + tm.dearGuardian("") + tm.noticeLabel + tm.phoneLabel +
			strings.Join(tm.months[:], "") + " ·…—")
		for _, c := range all.String() {
			if !r.regular.has(c) || !r.bold.has(c) {
				t.Errorf("%s template: %U %q is not in the font", lang, c, c)
			}
		}
	}
	// The widths the layout measures with are the cut font's, as fpdf will draw it.
	if w := r.regular.width("Nguyễn", 10); w < 30 || w > 45 {
		t.Errorf("width of Nguyễn at 10 pt = %.2f, want about 37", w)
	}
}

func TestEmbedBold(t *testing.T) {
	r, err := NewRenderer(Options{Clock: fixedClock, EmbedBold: true})
	if err != nil {
		t.Fatal(err)
	}
	path, _ := render(t, r, testMailing(), spanishLetter())
	fonts := poppler(t, "pdffonts", path)
	if strings.Count(fonts, "CID TrueType") != 2 {
		t.Errorf("EmbedBold: want two embedded fonts:\n%s", fonts)
	}
	if text := pdfText(t, path); !strings.Contains(text, "Qué información estuvo involucrada") {
		t.Errorf("EmbedBold letter lacks its bold heading:\n%s", text)
	}
}

// The layout measures text with its own width table; fpdf must agree, or right-aligned and
// wrapped text would not sit where the layout (and the window test) says it does.
func TestWidthsMatchFpdf(t *testing.T) {
	r := testRenderer(t)
	d := r.newDoc("t", "en", fixedClock())
	d.fonts()
	pdf := d.pdf
	pdf.AddPage()
	pdf.SetFont(fontFamily, "", 10)
	for _, s := range append(slices.Clone(testNames), "Nguyễn Văn Minh, 4120 N Keystone Ave — ¿Qué pasó? № 5") {
		if got, want := r.regular.width(s, 10), pdf.GetStringWidth(s); math.Abs(got-want) > 0.001 {
			t.Errorf("width(%q) = %.3f, fpdf says %.3f", s, got, want)
		}
	}
}

func TestConcurrentRenderingIsDeterministic(t *testing.T) {
	r := testRenderer(t)
	m := testMailing()
	want, err := r.RenderLetter(io.Discard, m, householdLetter())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			got, err := r.RenderLetter(io.Discard, m, householdLetter())
			if err == nil && got.SHA256 != want.SHA256 {
				err = fmt.Errorf("concurrent render gave %s, want %s", got.SHA256, want.SHA256)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// FuzzParseFont: the font parser never panics and never reads outside its input.
func FuzzParseFont(f *testing.F) {
	full, err := fontFiles.ReadFile("fonts/DejaVuSans.ttf")
	if err != nil {
		f.Fatal(err)
	}
	tables, err := tableDirectory(full)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(full[:4096])
	f.Add(tables["cmap"][:2048])
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 'c', 'm', 'a', 'p', 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		parseFont(b)
		cmapFormat4(b)
	})
}
