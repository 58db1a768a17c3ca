package letters

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
)

func testDocuments(t *testing.T) *Documents {
	t.Helper()
	return NewDocuments(testRenderer(t), testMailing().Sender)
}

// docBreach is testBreach with what the documents print besides the notices: 1,250 people, a
// law-enforcement hold released before day 45, an incident record.
func docBreach() *breach.Breach {
	b := testBreach()
	d := &b.Determination
	d.AffectedCount = 1250
	residents := 1200
	d.IndianaResidents = &residents
	d.ContactInfoSufficient = true
	d.RiskOfHarm = breach.RiskLikely
	cost := breach.Money(1_875_050)
	d.NoticeCostEstimate = &cost
	d.Reporter = breach.Reporter{Name: "Kim Søndergaard", Role: "Registrar", Email: "ksondergaard@pikecreek.example", Anonymous: true}
	d.Category, d.Severity = breach.CategoryData, breach.SeverityMajor
	d.SystemsAffected = []string{"Student information system", "Staff email"}
	d.ActionsTaken = "Asked the recipient to delete the file; disabled the export."
	b.DeterminationVersion = 2
	b.CreatedAt = time.Date(2026, 3, 3, 15, 4, 0, 0, time.UTC)
	b.CreatedBy = "k-3f9a admin"
	b.Holds = []breach.Hold{{ID: "H-1", Agency: "Indiana State Police Cybercrime Unit", Contact: "Det. R. Alvarez",
		InWriting: true, StartDate: breach.MustDate("2026-03-05"), EndDate: breach.MustDate("2026-03-12"),
		PlacedBy: "k-3f9a", ReleasedBy: "k-3f9a"}}
	return b
}

func docCounts() (breach.NoticeCounts, breach.RecipientCounts) {
	return breach.NoticeCounts{
		breach.MethodLetter: {breach.NoticeMailed: 812, breach.NoticeQueued: 12, breach.NoticeReturned: 9},
		breach.MethodEmail:  {breach.NoticeSent: 301, breach.NoticeFailed: 14},
		breach.MethodPhone:  {breach.NoticeDelivered: 40, breach.NoticeFailed: 6},
	}, breach.RecipientCounts{Affected: 1250, IndianaResidents: 1203, InsufficientContact: 4, Minors: 980}
}

// writePDF writes a document to a file in a temporary directory and returns its path.
func writePDF(t *testing.T, name string, render func(w io.Writer) error) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	path := filepath.Join(t.TempDir(), name+".pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, buf.Bytes()
}

// fiveElements are what every document must say, as pdftotext reads them with white space joined.
func fiveElements(t *testing.T) []string {
	t.Helper()
	d := testDetermination()
	return []string{
		"spreadsheet exported from the student information system was sent by mistake", // (A)
		"Social Security number", "medical information", // (B)
		"required a second approval for any report containing Social Security numbers", // (C)
		"(317) 555-0100",                // (D)
		"remain vigilant against fraud", // (E)
		"We discovered the incident on March 3, 2026.", d.AssistancePhone,
	}
}

func TestWebsiteNotice(t *testing.T) {
	docs := testDocuments(t)
	b := docBreach()
	// Posted at 02:30 UTC on the 21st: still the 20th in Indianapolis, the date the notice gives.
	b.Substitute.Website.PostedAt = time.Date(2026, 3, 21, 2, 30, 0, 0, time.UTC)
	for _, asHTML := range []bool{true, false} {
		got, err := docs.WebsiteNotice(b, "en", asHTML)
		if err != nil {
			t.Fatal(err)
		}
		name := "website-en.txt"
		if asHTML {
			name = "website-en.html"
		}
		plain := got
		if asHTML {
			plain = xmlText(t, got)
		}
		plain = strings.Join(strings.Fields(plain), " ")
		for _, s := range append(fiveElements(t), "Notice of Data Breach", "Metropolitan School District of Pike Creek",
			"Posted on March 20, 2026", "www.pikecreek.k12.in.us") {
			if !strings.Contains(plain, s) {
				t.Errorf("%s lacks %q:\n%s", name, s, plain)
			}
		}
		golden(t, name, got)
	}

	t.Run("a standalone page", func(t *testing.T) {
		got, err := docs.WebsiteNotice(b, "en", true)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />") {
			t.Errorf("the page does not start with a doctype, its language and its charset:\n%.200s", got)
		}
		for _, s := range []string{`<meta name="viewport" content="width=device-width, initial-scale=1" />`,
			"@media print", `<h1 id="breach-notice-b-42-title">Notice of Data Breach</h1>`, "<title>Notice of Data Breach — ",
			"max-width: 42rem", "</html>"} {
			if !strings.Contains(got, s) {
				t.Errorf("the page lacks %s", s)
			}
		}
		if strings.Count(got, "<style>") != 1 || strings.Contains(got, "style=\"") {
			t.Errorf("styles are not all in one <style> element")
		}
	})

	t.Run("posted only once recorded", func(t *testing.T) {
		unposted := docBreach()
		for _, asHTML := range []bool{true, false} {
			got, err := docs.WebsiteNotice(unposted, "en", asHTML)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{"Posted", "posted on", "<time"} {
				if strings.Contains(got, s) {
					t.Errorf("html=%v: a notice whose posting is not recorded says %q:\n%s", asHTML, s, got)
				}
			}
		}
	})

	t.Run("in Spanish", func(t *testing.T) {
		es := b.Determination.Translations["es"]
		for _, asHTML := range []bool{true, false} {
			got, err := docs.WebsiteNotice(b, "es", asHTML)
			if err != nil {
				t.Fatal(err)
			}
			plain := got
			if asHTML {
				plain = xmlText(t, got)
				if !strings.Contains(got, `<html lang="es">`) {
					t.Errorf("the Spanish page is not marked lang=es")
				}
			}
			plain = strings.Join(strings.Fields(plain), " ")
			for _, s := range []string{"Aviso de violación de datos", "Publicado el 20 de marzo de 2026", "Qué sucedió",
				es.Description, "Qué estamos haciendo", es.Remediation, "publica este aviso", "Preguntas: llame al (317) 555-0100."} {
				if !strings.Contains(plain, strings.Join(strings.Fields(s), " ")) {
					t.Errorf("html=%v: the Spanish notice lacks %q:\n%s", asHTML, s, plain)
				}
			}
			d := testDetermination()
			for _, s := range []string{d.Description, d.Remediation, "What happened", "Posted"} {
				if strings.Contains(plain, strings.Join(strings.Fields(s), " ")) {
					t.Errorf("html=%v: the Spanish notice carries English %q", asHTML, s)
				}
			}
			if asHTML {
				golden(t, "website-es.html", got)
			}
		}
	})

	t.Run("languages it cannot be written in", func(t *testing.T) {
		untranslated := docBreach()
		untranslated.Determination.Translations = nil
		for _, tc := range []struct {
			b    *breach.Breach
			lang string
			says string
		}{
			{b, "vi", "no Vietnamese (vi) template"},
			{b, "pl", "no Polish (pl) template"},
			{untranslated, "es", "add determination.translations.es; available: en"},
		} {
			_, err := docs.WebsiteNotice(tc.b, tc.lang, true)
			var be *breach.Error
			if !errors.As(err, &be) || be.Code != breach.EINVALID || len(be.Fields) != 1 || be.Fields[0].Field != "lang" ||
				!strings.Contains(be.Fields[0].Reason, tc.says) {
				t.Errorf("lang %s: err = %#v, want EINVALID naming lang: %s", tc.lang, err, tc.says)
			}
			if err := docs.MediaNotice(context.Background(), io.Discard, tc.b, tc.lang, breach.MustDate("2026-03-20")); breach.ErrorCode(err) != breach.EINVALID {
				t.Errorf("press release in %s: err = %v, want EINVALID", tc.lang, err)
			}
		}
	})

	t.Run("html escapes the determination", func(t *testing.T) {
		evil := docBreach()
		evil.Substitute.Website.PostedAt = b.Substitute.Website.PostedAt
		evil.Determination.Description = `A file named <script>alert("x")</script> & "report.xlsx" was sent.`
		got, err := docs.WebsiteNotice(evil, "en", true)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(got, "<script") || !strings.Contains(got, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp;") {
			t.Errorf("description not escaped:\n%s", got)
		}
		if txt := xmlText(t, got); !strings.Contains(txt, `<script>alert("x")</script> & "report.xlsx"`) {
			t.Errorf("escaped text does not read back as written:\n%s", txt)
		}
		for _, s := range []string{`<a href="tel:+13175550100">(317) 555-0100</a>`, `aria-labelledby="breach-notice-b-42-title"`,
			`<time datetime="2026-03-20">`, `lang="en"`} {
			if !strings.Contains(html.UnescapeString(got), s) { // html/template writes + in a URL as &#43;
				t.Errorf("HTML lacks %s:\n%s", s, got)
			}
		}
		for _, s := range []string{"<link", "<img", "<script", "src=", "http://", "https://", "url("} {
			if strings.Contains(got, s) {
				t.Errorf("HTML refers to an outside asset or runs a script (%s):\n%s", s, got)
			}
		}
	})

	t.Run("missing content", func(t *testing.T) {
		bare := docBreach()
		bare.Determination.Remediation = ""
		_, err := docs.WebsiteNotice(bare, "en", false)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "content.remediation" || !errors.Is(err, ErrMissing) {
			t.Errorf("err = %v, want content.remediation missing", err)
		}
	})
}

// xmlText parses an HTML fragment as XML — the fragment is written to be well-formed — and returns
// its character data: proof that it parses and that the escaped text reads back as given.
func xmlText(t *testing.T, s string) string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	dec.Strict = true
	var b strings.Builder
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the HTML fragment does not parse: %v\n%s", err, s)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			b.Write(tok)
		}
	}
	if depth != 0 {
		t.Fatalf("unbalanced elements in\n%s", s)
	}
	return b.String()
}

// golden compares got with testdata/name; -update rewrites it.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./letters -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", name, got)
	}
}

func TestMediaNotice(t *testing.T) {
	docs := testDocuments(t)
	b := docBreach()
	path, pdf := writePDF(t, "press", func(w io.Writer) error {
		return docs.MediaNotice(context.Background(), w, b, "en", breach.MustDate("2026-03-20"))
	})
	text := pdfPlainText(t, path)
	for _, s := range append(fiveElements(t), "FOR IMMEDIATE RELEASE", "March 20, 2026",
		"Metropolitan School District of Pike Creek gives notice of a data security incident",
		"Media contact: Dr. Ana Ortiz-Bjørnsen, Superintendent, (317) 555-0199", "###") {
		if !strings.Contains(text, s) {
			t.Errorf("press release lacks %q:\n%s", s, text)
		}
	}
	if info := poppler(t, "pdfinfo", path); !strings.Contains(info, "Pages:           1\n") {
		t.Errorf("press release is not one page:\n%s", info)
	}
	var again bytes.Buffer
	if err := docs.MediaNotice(context.Background(), &again, b, "en", breach.MustDate("2026-03-20")); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pdf, again.Bytes()) {
		t.Error("the same press release rendered twice differs")
	}

	t.Run("in Spanish, with the media contact", func(t *testing.T) {
		es := docBreach()
		es.Determination.MediaContact = "Lee Park, Communications Director, (317) 555-0150"
		tr := es.Determination.Translations["es"]
		tr.MediaContact = "Lee Park, directora de comunicaciones, (317) 555-0150"
		es.Determination.Translations = map[string]breach.Translation{"es": tr}
		path, _ := writePDF(t, "press-es", func(w io.Writer) error {
			return docs.MediaNotice(context.Background(), w, es, "es", breach.MustDate("2026-03-20"))
		})
		text := pdfPlainText(t, path)
		for _, s := range []string{"PARA DIFUSIÓN INMEDIATA", "20 de marzo de 2026",
			"Contacto para los medios: Lee Park, directora de comunicaciones, (317) 555-0150",
			"Metropolitan School District of Pike Creek informa sobre un incidente de seguridad de datos",
			"da aviso público", "Qué sucedió", tr.Description, "Qué estamos haciendo", tr.Remediation,
			"Qué puede hacer usted", "###"} {
			if !strings.Contains(text, strings.Join(strings.Fields(s), " ")) {
				t.Errorf("the Spanish press release lacks %q:\n%s", s, text)
			}
		}
		d := testDetermination()
		for _, s := range []string{d.Description, d.Remediation, "FOR IMMEDIATE RELEASE", "What happened", d.Title} {
			if strings.Contains(text, strings.Join(strings.Fields(s), " ")) {
				t.Errorf("the Spanish press release carries English %q", s)
			}
		}
		if info := poppler(t, "pdfinfo", path); !strings.Contains(info, "Pages:           1\n") {
			t.Errorf("the Spanish press release is not one page:\n%s", info)
		}
		path, _ = writePDF(t, "press-en-contact", func(w io.Writer) error {
			return docs.MediaNotice(context.Background(), w, es, "en", breach.MustDate("2026-03-20"))
		})
		if text := pdfPlainText(t, path); !strings.Contains(text, "Media contact: Lee Park, Communications Director, (317) 555-0150") {
			t.Errorf("the English press release lacks the media contact:\n%s", text)
		}
	})

	t.Run("longer than a page", func(t *testing.T) {
		long := docBreach()
		long.Determination.Description = strings.Repeat("The export ran again and again. ", 150)
		err := docs.MediaNotice(context.Background(), io.Discard, long, "en", breach.MustDate("2026-03-20"))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "content.description" || !errors.Is(err, ErrDoesNotFit) {
			t.Errorf("err = %v, want content.description does not fit", err)
		}
	})
}
