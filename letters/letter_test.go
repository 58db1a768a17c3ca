package letters

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"html"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestTestNamesPrintExactly(t *testing.T) {
	r := testRenderer(t)
	m := testMailing()
	for i, name := range testNames {
		t.Run(name, func(t *testing.T) {
			l := adultLetter("N-10"+strconv.Itoa(i), name, "en")
			path, res := render(t, r, m, l)
			text := pdfText(t, path)
			// In the window and in the salutation, each character as given.
			if got := strings.Count(text, name); got < 2 {
				t.Errorf("%q appears %d times in the letter, want the address and the salutation:\n%s", name, got, text)
			}
			if !strings.Contains(text, "Dear "+name+":") {
				t.Errorf("salutation %q missing", "Dear "+name+":")
			}
			if res.FellBack || res.Language != "en" {
				t.Errorf("Result = %+v, want English without fallback", res)
			}
			fonts := poppler(t, "pdffonts", path)
			lines := strings.Split(strings.TrimSpace(fonts), "\n")
			if len(lines) < 3 {
				t.Fatalf("pdffonts lists no font:\n%s", fonts)
			}
			for _, line := range lines[2:] { // name type encoding emb sub uni object ID
				f := strings.Fields(line)
				if len(f) < 6 || f[len(f)-5] != "yes" || !strings.Contains(line, "TrueType") {
					t.Errorf("font not embedded as TrueType: %s", line)
				}
			}
		})
	}
}

// The five required elements (LAW.md §4), in English and Spanish.
func TestFiveElements(t *testing.T) {
	r := testRenderer(t)
	m := testMailing()
	d := testDetermination()
	es := m.Content.Translations["es"]
	tests := []struct {
		name   string
		letter Letter
		want   []string // whitespace-normalised fragments, in order of the elements
	}{
		{"english adult", adultLetter("N-2001", "Łukasz Żółć", "en"), []string{
			"What happened", d.Description, "We discovered the incident on March 3, 2026.",
			"It took place on or about February 27, 2026.",
			"What information was involved",
			"includes: name, Social Security number, date of birth, and medical information.",
			"What we are doing", d.Remediation,
			"For more information", "please call (317) 555-0100 or visit www.pikecreek.k12.in.us.",
			"What you can do", "remain vigilant against fraud and identity theft",
			"monitoring your credit reports", "www.annualcreditreport.com",
			"Sincerely,", "Dr. Ana Ortiz-Bjørnsen",
		}},
		{"spanish guardian", spanishLetter(), []string{
			"Estimado padre, madre o tutor de José Núñez-Peña:",
			"Qué sucedió", es.Description, "Descubrimos el incidente el 3 de marzo de 2026.",
			"Qué información estuvo involucrada",
			"incluye: nombre, número de Seguro Social, fecha de nacimiento e información médica.",
			"Qué estamos haciendo", es.Remediation,
			"Para más información", "llame al (317) 555-0100 o visite www.pikecreek.k12.in.us.",
			"Qué puede hacer usted", "mantenerse alerta ante el fraude y el robo de identidad",
			"vigilando sus informes de crédito", "RobodeIdentidad.gov",
			"Los menores normalmente no tienen informe de crédito.",
			"Atentamente,",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path, _ := render(t, r, m, tc.letter)
			text := pdfPlainText(t, path)
			at := 0
			for _, w := range tc.want {
				w = strings.Join(strings.Fields(w), " ")
				i := strings.Index(text[at:], w)
				if i < 0 {
					t.Errorf("%q missing (or out of order) in:\n%s", w, text)
					continue
				}
				at += i + len(w)
			}
		})
	}
}

func TestGuardianSalutationNamesEveryChild(t *testing.T) {
	r := testRenderer(t)
	path, res := render(t, r, testMailing(), householdLetter())
	text := pdfPlainText(t, path)
	for _, w := range []string{
		"Dear parent or guardian of Nguyễn Thị Hồng and Nguyễn Thị Lan:",
		"personal information about your children named above",
		"in your child's name",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("%q missing in:\n%s", w, text)
		}
	}
	// The household's language (vi) has no template: English, and the result says so.
	if !res.FellBack || res.Language != "en" {
		t.Errorf("Result = %+v, want Language en and FellBack", res)
	}
}

func TestLanguageChoice(t *testing.T) {
	r := testRenderer(t)
	m := testMailing()
	for _, tc := range []struct {
		lang, want string
		fellBack   bool
	}{{"es", "es", false}, {"ES-mx", "es", false}, {"en-US", "en", false}, {"", "en", false},
		{"vi", "en", true}, {"pl", "en", true}} {
		l := adultLetter("N-3001", "Zoë O'Brien-Ångström", tc.lang)
		res, err := r.RenderLetter(&bytes.Buffer{}, m, l)
		if err != nil {
			t.Fatal(err)
		}
		if res.Language != tc.want || res.FellBack != tc.fellBack {
			t.Errorf("language %q: got %s fellBack=%v, want %s fellBack=%v", tc.lang, res.Language, res.FellBack,
				tc.want, tc.fellBack)
		}
	}
	// Spanish without a Spanish text of the breach: the whole letter is in English — never Spanish
	// headings around English text — and the result says so.
	m.Content.Translations = nil
	path, res := render(t, r, m, spanishLetter())
	if res.Language != "en" || !res.FellBack {
		t.Errorf("Result = %+v, want Language en and FellBack", res)
	}
	text := pdfPlainText(t, path)
	for _, s := range []string{"Qué sucedió", "Estimado", "Atentamente"} {
		if strings.Contains(text, s) {
			t.Errorf("an English letter says %q:\n%s", s, text)
		}
	}
	if !strings.Contains(text, "What happened") {
		t.Errorf("the English letter lacks its headings:\n%s", text)
	}
}

// A regional translation (es-MX) serves a person whose language is es, and a letter in Spanish
// prints the Spanish text of (A) and (C), never the English.
func TestRegionalTranslation(t *testing.T) {
	r := testRenderer(t)
	d := testDetermination()
	es := d.Translations["es"]
	d.Translations = map[string]breach.Translation{"es-MX": es, "es-US": {Description: "otra", Remediation: "otra"}}
	m := testMailing()
	m.Content = NewContent(d)
	path, res := render(t, r, m, spanishLetter())
	if res.Language != "es" || res.FellBack {
		t.Fatalf("Result = %+v, want Spanish", res)
	}
	text := pdfPlainText(t, path)
	for _, s := range []string{es.Description, es.Remediation} {
		if !strings.Contains(text, strings.Join(strings.Fields(s), " ")) {
			t.Errorf("the Spanish letter lacks %q:\n%s", s, text)
		}
	}
	if strings.Contains(text, "spreadsheet exported") || strings.Contains(text, "retrained") {
		t.Errorf("the Spanish letter prints the English text:\n%s", text)
	}
}

// The templates are exactly the languages the plan counts as having one (breach.NoticeLanguages),
// so the law engine and the letters cannot disagree about which people need a fallback.
func TestTemplatesAreNoticeLanguages(t *testing.T) {
	got := slices.Sorted(maps.Keys(languages))
	want := slices.Sorted(slices.Values(breach.NoticeLanguages))
	if !slices.Equal(got, want) {
		t.Fatalf("templates %v, breach.NoticeLanguages %v", got, want)
	}
	for lang, tmpl := range languages {
		if tmpl.lang != lang {
			t.Errorf("languages[%q].lang = %q", lang, tmpl.lang)
		}
		// Every fixed sentence is written: a template copied from another and not finished is caught.
		v := reflect.ValueOf(tmpl).Elem()
		for i := range v.NumField() {
			if f := v.Field(i); f.IsZero() && v.Type().Field(i).Name != "serialSep" {
				t.Errorf("%s template: %s is not written", lang, v.Type().Field(i).Name)
			}
		}
	}
}

// word is one word of pdftotext -bbox output, in points from the top-left corner.
type word struct {
	x0, y0, x1, y1 float64
	text           string
	page           int
}

var wordRE = regexp.MustCompile(`<word xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)">([^<]*)</word>`)

func pdfWords(t *testing.T, path string) []word {
	t.Helper()
	out := poppler(t, "pdftotext", "-bbox", "-enc", "UTF-8", path, "-")
	var words []word
	for i, pg := range strings.Split(out, "<page ")[1:] {
		for _, m := range wordRE.FindAllStringSubmatch(pg, -1) {
			f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
			words = append(words, word{f(m[1]), f(m[2]), f(m[3]), f(m[4]), html.UnescapeString(m[5]), i + 1})
		}
	}
	if len(words) == 0 {
		t.Fatalf("pdftotext -bbox found no words in %s", path)
	}
	return words
}

type rect struct{ x0, y0, x1, y1 float64 }

func (r rect) holds(w word) bool { return w.x0 >= r.x0 && w.x1 <= r.x1 && w.y0 >= r.y0 && w.y1 <= r.y1 }
func (r rect) meets(w word) bool { return w.x0 < r.x1 && w.x1 > r.x0 && w.y0 < r.y1 && w.y1 > r.y0 }

// The envelope windows, as the geometry comment in layout.go gives them, and the safe area ⅛"
// inside each that text keeps to.
var (
	recipientWindow = rect{0.875 * 72, 2.0 * 72, 5.375 * 72, 3.125 * 72}
	recipientSafe   = rect{1.0 * 72, 2.125 * 72, 5.25 * 72, 3.0 * 72}
	returnWindow    = rect{0.5 * 72, 0.5 * 72, 3.75 * 72, 1.375 * 72}
	returnSafe      = rect{0.625 * 72, 0.625*72 - 0.1, 3.625 * 72, 1.25 * 72}
)

func TestAddressInEnvelopeWindows(t *testing.T) {
	r := testRenderer(t)
	m := testMailing()
	long := adultLetter("N-4002", "Zoë Alexandra Beatriz O'Brien-Ångström de la Vega y Castellón-Sørensen", "en")
	full := adultLetter("N-4003", "Łukasz Żółć", "en") // five lines: the window's whole height
	full.Addressee.Address = []string{"c/o Đặng Văn Lâm", "Building 4, Room 12", "15 W Washington St", "South Bend IN 46601"}
	for _, l := range []Letter{householdLetter(), spanishLetter(), long, full} {
		t.Run(l.NoticeID, func(t *testing.T) {
			path, _ := render(t, r, m, l)
			words := pdfWords(t, path)
			want := map[string]bool{}
			for _, s := range slices.Concat(l.Addressee.Name, l.Addressee.Address) {
				for _, f := range strings.Fields(s) {
					want[f] = true
				}
			}
			retWant := map[string]bool{}
			for _, s := range append([]string{m.Sender.Organization}, m.Sender.ReturnAddress...) {
				for _, f := range strings.Fields(s) {
					retWant[f] = true
				}
			}
			found := map[string]bool{}
			for _, w := range words {
				if w.page != 1 {
					continue
				}
				switch {
				case recipientWindow.meets(w):
					if !want[w.text] {
						t.Errorf("%q shows through the recipient window", w.text)
					}
					if !recipientSafe.holds(w) {
						t.Errorf("%q at %+v is not ⅛\" inside the recipient window %+v", w.text, w, recipientSafe)
					}
					found[w.text] = true
				case returnWindow.meets(w):
					if !retWant[w.text] {
						t.Errorf("%q shows through the return-address window", w.text)
					}
					if !returnSafe.holds(w) {
						t.Errorf("%q at %+v is not inside the return window's safe area %+v", w.text, w, returnSafe)
					}
				}
			}
			for f := range want {
				if !found[f] {
					t.Errorf("%q is not in the recipient window", f)
				}
			}
		})
	}
}

func TestUnprintableTextIsAFieldError(t *testing.T) {
	r := testRenderer(t)
	m := testMailing()
	tests := []struct {
		name  string
		edit  func(l *Letter, m *Mailing)
		field string
		r     rune
	}{
		{"a script the letters do not print", func(l *Letter, _ *Mailing) { l.Addressee.Name = []string{"राम शर्मा"} }, "addressee.name[0]", 'र'},
		{"emoji in address", func(l *Letter, _ *Mailing) { l.Addressee.Address[0] = "12 Elm St 🏠" }, "addressee.address[0]", '🏠'},
		{"a child's name with a hieroglyph", func(l *Letter, _ *Mailing) {
			l.Addressee.Minor, l.Addressee.Children = true, []string{"Łukasz Żółć", "Ann\U00013000"}
		}, "addressee.children[1]", 0x13000},
		{"a bidirectional override", func(l *Letter, _ *Mailing) { l.Addressee.Name = []string{"Mary \u202eLee"} }, "addressee.name[0]", 0x202E},
		{"control character", func(l *Letter, _ *Mailing) { l.Addressee.Name = []string{"Ava\x00Brown"} }, "addressee.name[0]", 0},
		{"emoji in description", func(_ *Letter, m *Mailing) { m.Content.Description += " 🔥" }, "content.description", '🔥'},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, m := adultLetter("N-5001", "Ava Brown", "en"), *m
			tc.edit(&l, &m)
			var buf bytes.Buffer
			_, err := r.RenderLetter(&buf, &m, l)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FieldError", err)
			}
			if fe.Field != tc.field || fe.Rune != tc.r || !errors.Is(err, ErrUnrenderable) || fe.NoticeID != "N-5001" {
				t.Errorf("err = %#v, want field %s rune %U ErrUnrenderable", fe, tc.field, tc.r)
			}
			if breach.ErrorCode(err) != breach.EINVALID {
				t.Errorf("breach.ErrorCode = %q, want invalid", breach.ErrorCode(err))
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes for a letter that cannot be printed", buf.Len())
			}
		})
	}
}

func TestFieldErrors(t *testing.T) {
	r := testRenderer(t)
	base := testMailing()
	long := strings.Repeat("This sentence makes the description of the breach far too long for two pages. ", 90)
	tests := []struct {
		name  string
		edit  func(l *Letter, m *Mailing)
		field string
		err   error
	}{
		{"address needs six lines", func(l *Letter, _ *Mailing) {
			l.Addressee.Address = []string{"Building 4", "Room 12", "4120 N Keystone Ave", "Apt 3B", "Indianapolis IN 46205"}
		}, "addressee.address", ErrDoesNotFit},
		{"name wraps past the window", func(l *Letter, _ *Mailing) {
			l.Addressee.Name = []string{strings.Repeat("Ångström-Sørensen ", 12)}
		}, "addressee.name", ErrDoesNotFit},
		{"one word wider than the window", func(l *Letter, _ *Mailing) {
			l.Addressee.Name = []string{strings.Repeat("W", 60)}
		}, "addressee.name[0]", ErrDoesNotFit},
		{"minor without children", func(l *Letter, _ *Mailing) { l.Addressee.Minor = true }, "addressee.children", ErrMissing},
		{"no address", func(l *Letter, _ *Mailing) { l.Addressee.Address = nil }, "addressee.address", ErrMissing},
		{"no date", func(l *Letter, _ *Mailing) { l.Date = breach.Date{} }, "date", ErrMissing},
		{"no assistance phone", func(_ *Letter, m *Mailing) { m.Content.AssistancePhone = " " }, "content.assistance_phone", ErrMissing},
		{"no remediation", func(_ *Letter, m *Mailing) { m.Content.Remediation = "" }, "content.remediation", ErrMissing},
		{"no data elements", func(_ *Letter, m *Mailing) { m.Content.DataElements = nil }, "content.data_elements", ErrMissing},
		{"unknown data element", func(_ *Letter, m *Mailing) {
			m.Content.DataElements = []breach.DataElement{breach.ElementSSN, "shoe_size"}
		}, "content.data_elements[1]", ErrUnknown},
		{"three pages", func(_ *Letter, m *Mailing) { m.Content.Description = long }, "content.description", ErrDoesNotFit},
		{"return address too long", func(_ *Letter, m *Mailing) {
			m.Sender.ReturnAddress = []string{"Attn: Technology", "Building 4", "6901 Zionsville Rd", "Indianapolis IN 46268"}
		}, "sender.return_address", ErrDoesNotFit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, m := adultLetter("N-6001", "Ava Brown", "en"), *base
			m.Content.DataElements = append([]breach.DataElement(nil), m.Content.DataElements...)
			tc.edit(&l, &m)
			_, err := r.RenderLetter(&bytes.Buffer{}, &m, l)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %s %v", err, tc.field, tc.err)
			}
		})
	}
}

func TestSecondPageRepeatsRecipientAndPage(t *testing.T) {
	r := testRenderer(t)
	m := testMailing()
	m.Content.Description = strings.Repeat("A longer account of what happened, so that the letter runs to a second page. ", 14)
	l := adultLetter("N-7001", "Đặng Văn Lâm", "en")
	path, res := render(t, r, m, l)
	if res.Pages != 2 {
		t.Fatalf("Pages = %d, want 2", res.Pages)
	}
	if info := poppler(t, "pdfinfo", path); !regexp.MustCompile(`(?m)^Pages:\s+2$`).MatchString(info) {
		t.Errorf("pdfinfo does not report 2 pages:\n%s", info)
	}
	pages := strings.Split(pdfText(t, path), "\f")
	head := strings.SplitN(strings.TrimLeft(pages[1], "\n"), "\n", 2)[0]
	if !strings.Contains(head, "Đặng Văn Lâm") || !strings.Contains(head, "Page 2 of 2") {
		t.Errorf("page 2 begins %q, want the recipient's name and Page 2 of 2", head)
	}
	if !strings.Contains(pages[0], "Notice N-7001 · Page 1 of 2") {
		t.Errorf("page 1 has no footer Notice N-7001 · Page 1 of 2:\n%s", pages[0])
	}
}

func TestMetadataAndDeterminism(t *testing.T) {
	r := testRenderer(t)
	m := testMailing()
	l := spanishLetter()
	var a, b bytes.Buffer
	ra, err := r.RenderLetter(&a, m, l)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := r.RenderLetter(&b, m, l)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the same letter and clock gave different bytes")
	}
	sum := sha256.Sum256(a.Bytes())
	if ra.SHA256 != hex.EncodeToString(sum[:]) || rb.SHA256 != ra.SHA256 {
		t.Errorf("Result.SHA256 = %s, want the digest of the bytes written %x", ra.SHA256, sum)
	}

	path := filepath.Join(t.TempDir(), "es.pdf")
	if err := os.WriteFile(path, a.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	info := poppler(t, "pdfinfo", "-isodates", path)
	for _, w := range []string{"Aviso de violación de seguridad de datos — N-0002", "2026-03-20T14:30:00"} {
		if !strings.Contains(info, w) {
			t.Errorf("pdfinfo lacks %q:\n%s", w, info)
		}
	}

	// Another clock: another creation date, the same drawn content.
	later, err := NewRenderer(Options{Clock: func() time.Time { return fixedClock().Add(24 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	var c bytes.Buffer
	rc, err := later.RenderLetter(&c, m, l)
	if err != nil {
		t.Fatal(err)
	}
	if rc.SHA256 == ra.SHA256 || !bytes.Contains(c.Bytes(), []byte("/CreationDate (D:20260321143000)")) {
		t.Errorf("a later clock did not change the creation date")
	}
	if rc.ContentSHA256 != ra.ContentSHA256 {
		t.Errorf("ContentSHA256 depends on the clock")
	}
}

// Golden files: the text of each letter, and the SHA-256 of its bytes, for the fixed clock. A
// change in wording, layout or the PDF writer shows up here; run with -update to accept it.
func TestGolden(t *testing.T) {
	r := testRenderer(t)
	m := testMailing()
	var sums strings.Builder
	for _, l := range []Letter{householdLetter(), spanishLetter(), adultLetter("N-0003", "Zoë O'Brien-Ångström", "en")} {
		path, res := render(t, r, m, l)
		text := pdfText(t, path)
		golden := filepath.Join("testdata", l.NoticeID+".txt")
		if *update {
			if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./letters -run TestGolden -update to create it)", err)
		}
		if text != string(want) {
			t.Errorf("%s: text differs from %s:\n%s", l.NoticeID, golden, text)
		}
		sums.WriteString(res.SHA256 + "  " + l.NoticeID + ".pdf\n")
	}
	golden := filepath.Join("testdata", "letters.sha256")
	if *update {
		if err := os.WriteFile(golden, []byte(sums.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if sums.String() != string(want) {
		t.Errorf("PDF bytes changed:\n got %s\nwant %s", sums.String(), want)
	}
}
