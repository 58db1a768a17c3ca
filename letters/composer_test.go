package letters

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
)

func testComposer() *Composer { return NewComposer(testMailing().Sender) }

func emailNotice(lang string, guardian bool) breach.Notice {
	n := breach.Notice{ID: "N-0101", BreachID: "B-42", Channel: breach.MethodEmail, AddresseeName: "Ava Brown",
		Email: "ava@example.com", Language: lang}
	if guardian {
		n.AddresseeName, n.ToGuardian = "Nguyễn Văn Minh", true
		n.Children = []string{"Nguyễn Thị Hồng", "Nguyễn Thị Lan"}
	}
	return n
}

func phoneNotice(lang string, guardian bool) breach.Notice {
	n := emailNotice(lang, guardian)
	n.ID, n.Channel, n.Email, n.Phone = "N-0201", breach.MethodPhone, "", "+13175550123"
	return n
}

// elementsIn is the text of each required element (LAW.md §4) a notice in lang must carry, as the
// reader sees it; spoken is the same for a call script.
func elementsIn(lang string, spoken bool) map[string][]string {
	d := testDetermination()
	phone := "(317) 555-0100"
	if spoken {
		phone = "3 1 7, 5 5 5, 0 1 0 0"
	}
	w := map[string][]string{
		"A description": {d.Description},
		"C remediation": {d.Remediation},
		"D phone":       {phone},
	}
	switch lang {
	case "en":
		w["A description"] = append(w["A description"], "We discovered the incident on March 3, 2026.")
		w["B data elements"] = []string{"name, Social Security number, date of birth, and medical information"}
		w["E vigilance"] = []string{"remain vigilant against fraud and identity theft"}
	case "es": // (A) and (C) from the Spanish translation, never the English text
		es := d.Translations["es"]
		w["A description"] = []string{es.Description, "Descubrimos el incidente el 3 de marzo de 2026."}
		w["C remediation"] = []string{es.Remediation}
		w["B data elements"] = []string{"nombre, número de Seguro Social, fecha de nacimiento e información médica"}
		w["E vigilance"] = []string{"mantenerse alerta ante el fraude y el robo de identidad"}
	}
	return w
}

func TestEmailFiveElements(t *testing.T) {
	c, b := testComposer(), testBreach()
	for _, lang := range []string{"en", "es"} {
		t.Run(lang, func(t *testing.T) {
			m, err := c.Email(b, emailNotice(lang, false))
			if err != nil {
				t.Fatal(err)
			}
			if m.Language != lang || m.NoticeID != "N-0101" || m.To != "ava@example.com" || m.ToName != "Ava Brown" {
				t.Errorf("message header fields: %+v", m)
			}
			for element, texts := range elementsIn(lang, false) {
				for _, s := range texts {
					if !strings.Contains(m.Text, s) {
						t.Errorf("text body lacks %s: %q", element, s)
					}
					if !strings.Contains(m.HTML, s) {
						t.Errorf("HTML body lacks %s: %q", element, s)
					}
				}
			}
			if d := testDetermination(); lang != "en" && (strings.Contains(m.Text+m.HTML, d.Description) ||
				strings.Contains(m.Text+m.HTML, d.Remediation)) {
				t.Errorf("the %s email carries the English text", lang)
			}
		})
	}
}

func TestEmailSubjectAndLanguage(t *testing.T) {
	c, b := testComposer(), testBreach()
	tests := []struct{ lang, subject, language, salutation string }{
		{"en", "Notice of Data Breach — Metropolitan School District of Pike Creek", "en", "Dear Ava Brown:"},
		{"es-MX", "Aviso de violación de datos — Metropolitan School District of Pike Creek", "es", "Estimado/a Ava Brown:"},
		{"vi", "Notice of Data Breach — Metropolitan School District of Pike Creek", "en", "Dear Ava Brown:"}, // no template
		{"", "Notice of Data Breach — Metropolitan School District of Pike Creek", "en", "Dear Ava Brown:"},
	}
	for _, tc := range tests {
		m, err := c.Email(b, emailNotice(tc.lang, false))
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != tc.subject || m.Language != tc.language || !strings.Contains(m.Text, tc.salutation) {
			t.Errorf("language %q: subject %q, Language %q; want %q, %q, %q", tc.lang, m.Subject, m.Language,
				tc.subject, tc.language, tc.salutation)
		}
		if got, fell := TemplateLanguage(tc.lang); got != tc.language || fell != (tc.lang == "vi") {
			t.Errorf("TemplateLanguage(%q) = %q, %v", tc.lang, got, fell)
		}
	}
}

// A Spanish email whose breach has no Spanish text is English throughout, never Spanish headings
// around English text; so is its call script.
func TestUntranslatedIsEnglish(t *testing.T) {
	c, b := testComposer(), testBreach()
	b.Determination.Translations = nil
	m, err := c.Email(b, emailNotice("es", false))
	if err != nil {
		t.Fatal(err)
	}
	if m.Language != "en" || !strings.HasPrefix(m.Subject, "Notice of Data Breach") || !strings.Contains(m.Text, "Dear Ava Brown:") ||
		strings.Contains(m.Text, "Qué") || strings.Contains(m.HTML, `lang="es"`) {
		t.Errorf("email: Language %q, subject %q:\n%s", m.Language, m.Subject, m.Text)
	}
	s, err := c.CallScript(b, phoneNotice("es", false))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Text, "Hello.") || strings.Contains(s.Text, "Hola") {
		t.Errorf("call script:\n%s", s)
	}
}

func TestEmailGuardianSalutation(t *testing.T) {
	c, b := testComposer(), testBreach()
	for lang, want := range map[string]string{
		"en": "Dear parent or guardian of Nguyễn Thị Hồng and Nguyễn Thị Lan:",
		"es": "Estimado padre, madre o tutor de Nguyễn Thị Hồng y Nguyễn Thị Lan:",
	} {
		m, err := c.Email(b, emailNotice(lang, true))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, "<p>"+want+"</p>") {
			t.Errorf("%s: the salutation %q is not in both bodies", lang, want)
		}
		if m.ToName != "Nguyễn Văn Minh" {
			t.Errorf("%s: ToName %q, want the guardian", lang, m.ToName)
		}
	}
	// A guardian known only as "Parent or Guardian of …" is greeted by the child's name.
	n := emailNotice("en", false)
	n.AddresseeName, n.ToGuardian = "Parent or Guardian of Sofia García", true
	m, err := c.Email(b, n)
	if err != nil || !strings.Contains(m.Text, "Dear parent or guardian of Sofia García:") {
		t.Errorf("guardian by the child's name: %v\n%s", err, m.Text)
	}
}

func TestEmailHTMLIsEscaped(t *testing.T) {
	c, b := testComposer(), testBreach()
	b.Determination.Description = `A file named <script>alert("x")</script> & "notes" was copied.`
	m, err := c.Email(b, emailNotice("en", false))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, `alert("x")`) {
		t.Errorf("the description reached the HTML unescaped:\n%s", m.HTML)
	}
	if !strings.Contains(m.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;notes&#34;") {
		t.Errorf("the HTML does not show the description escaped:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, b.Determination.Description) {
		t.Error("the text body does not carry the description as written")
	}
}

func TestComposerErrors(t *testing.T) {
	c, b := testComposer(), testBreach()
	letter := emailNotice("en", false)
	letter.Channel = breach.MethodLetter
	if _, err := c.Email(b, letter); breach.ErrorCode(err) != breach.EINVALID || !strings.Contains(err.Error(), "N-0101") {
		t.Errorf("Email of a letter notice: %v", err)
	}
	if _, err := c.CallScript(b, letter); breach.ErrorCode(err) != breach.EINVALID || !strings.Contains(err.Error(), "N-0101") {
		t.Errorf("CallScript of a letter notice: %v", err)
	}
	other := emailNotice("en", false)
	other.BreachID = "B-7"
	if _, err := c.Email(b, other); breach.ErrorCode(err) != breach.EINVALID {
		t.Errorf("Email of another breach's notice: %v", err)
	}

	tests := []struct {
		name  string
		edit  func(b *breach.Breach, n *breach.Notice)
		field string
		err   error
	}{
		{"no address", func(_ *breach.Breach, n *breach.Notice) { n.Email = " " }, "email", ErrMissing},
		{"no remediation", func(b *breach.Breach, _ *breach.Notice) { b.Determination.Remediation = "" }, "content.remediation", ErrMissing},
		{"no phone", func(b *breach.Breach, _ *breach.Notice) { b.Determination.AssistancePhone = "" }, "content.assistance_phone", ErrMissing},
		{"unknown element", func(b *breach.Breach, _ *breach.Notice) {
			b.Determination.DataElements = []breach.DataElement{"shoe_size"}
		}, "content.data_elements[0]", ErrUnknown},
		{"guardian without children", func(_ *breach.Breach, n *breach.Notice) { n.ToGuardian = true }, "addressee.children", ErrMissing},
		{"control character in name", func(_ *breach.Breach, n *breach.Notice) { n.AddresseeName = "Ava\rBrown" }, "addressee.name[0]", ErrUnrenderable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, n := testBreach(), emailNotice("en", false)
			tc.edit(b, &n)
			_, err := c.Email(b, n)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, tc.err) || fe.NoticeID != "N-0101" {
				t.Fatalf("err = %v, want %s %v", err, tc.field, tc.err)
			}
			if breach.ErrorCode(err) != breach.EINVALID || breach.ErrorMessage(err) != "the email cannot be written" {
				t.Errorf("code %q, message %q", breach.ErrorCode(err), breach.ErrorMessage(err))
			}
		})
	}
	// Names in any script are fine in an email or a call.
	n := emailNotice("en", false)
	n.AddresseeName = "王小明"
	if m, err := c.Email(b, n); err != nil || !strings.Contains(m.Text, "Dear 王小明:") {
		t.Errorf("Email to 王小明: %v", err)
	}
}

func TestCallScript(t *testing.T) {
	c := NewComposer(Sender{Organization: "Metropolitan School District of Pike Creek",
		Website: "https://www.pikecreek.k12.in.us/breach-notice"})
	b := testBreach()
	b.Determination.Remediation += " Updates: https://pikecreek.k12.in.us/updates?x=1, or www.example.org."
	es := b.Determination.Translations["es"]
	es.Remediation += " Novedades: https://pikecreek.k12.in.us/updates?x=1, o www.example.org."
	b.Determination.Translations = map[string]breach.Translation{"es": es}
	for _, lang := range []string{"en", "es"} {
		for _, guardian := range []bool{false, true} {
			cs, err := c.CallScript(b, phoneNotice(lang, guardian))
			if err != nil {
				t.Fatal(err)
			}
			s := cs.Text
			if cs.Language != lang {
				t.Errorf("%s guardian=%v: script language %q", lang, guardian, cs.Language)
			}
			if len(cs.Parts) != 5 {
				t.Fatalf("%s guardian=%v: %d parts, want A to E", lang, guardian, len(cs.Parts))
			}
			for i, p := range cs.Parts {
				if p.Part != breach.NoticeParts[i] || p.Title == "" || p.Text == "" {
					t.Errorf("%s guardian=%v: part %d is %+v, want %s with a title and text", lang, guardian, i, p, breach.NoticeParts[i])
				}
				if p.Title != tmplOf(lang).headings[i] {
					t.Errorf("%s: part %s is titled %q, want the letter's heading %q", lang, p.Part, p.Title, tmplOf(lang).headings[i])
				}
			}
			for element, texts := range elementsIn(lang, true) {
				part := cs.Parts[element[0]-'A'] // "A description" is part A, and so on
				for _, want := range texts {
					if !strings.Contains(part.Text, want) {
						t.Errorf("%s guardian=%v: part %s lacks %s: %q", lang, guardian, part.Part, element, want)
					}
					if !strings.Contains(s, want) {
						t.Errorf("%s guardian=%v: the script lacks %s: %q", lang, guardian, element, want)
					}
				}
			}
			// What is read is the greeting, the parts in order and the closing, nothing else.
			read := []string{cs.Greeting}
			for _, p := range cs.Parts {
				read = append(read, p.Text)
			}
			if want := strings.Join(append(read, cs.Closing), "\n\n") + "\n"; s != want {
				t.Errorf("%s guardian=%v: the text is not the parts in order:\n%s\nwant\n%s", lang, guardian, s, want)
			}
			if !strings.HasPrefix(cs.Greeting, map[string]string{"en": "Hello.", "es": "Hola."}[lang]) ||
				cs.Closing != tmplOf(lang).callGoodbye {
				t.Errorf("%s: greeting %q, closing %q", lang, cs.Greeting, cs.Closing)
			}
			for _, bad := range []string{"http", "www", "/", "(317)", "555-0100", "1-877"} {
				if strings.Contains(s, bad) {
					t.Errorf("%s guardian=%v: the script contains %q:\n%s", lang, guardian, bad, s)
				}
			}
			if !strings.Contains(s, "pikecreek "+map[string]string{"en": "dot", "es": "punto"}[lang]+" k12") {
				t.Errorf("%s: the website is not read as a host name:\n%s", lang, s)
			}
			if guardian && !strings.Contains(s, "Nguyễn Thị Hồng") {
				t.Errorf("%s: the guardian's script does not name the children", lang)
			}
		}
	}
	long := testBreach()
	long.Determination.Description = strings.Repeat("A sentence that is much too long to be read on a call. ", 40)
	_, err := c.CallScript(long, phoneNotice("en", false))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "content.description" || !errors.Is(err, ErrDoesNotFit) {
		t.Errorf("an overlong script: %v", err)
	}
}

// tmplOf is the template a test expects for lang, which has one.
func tmplOf(lang string) *template { t, _ := templateFor(lang); return t }

func TestSpokenNumber(t *testing.T) {
	for in, want := range map[string]string{
		"(317) 555-0100":       "3 1 7, 5 5 5, 0 1 0 0",
		"317.555.0100":         "3 1 7, 5 5 5, 0 1 0 0",
		"3175550100":           "3 1 7, 5 5 5, 0 1 0 0",
		"+1 317 555 0100":      "1, 3 1 7, 5 5 5, 0 1 0 0",
		"13175550100":          "1, 3 1 7, 5 5 5, 0 1 0 0",
		"1-877-322-8228":       "1, 8 7 7, 3 2 2, 8 2 2 8",
		"(317) 555-0100 x12":   "3 1 7, 5 5 5, 0 1 0 0, extension, 1 2",
		"317-555-0100 ext. 45": "3 1 7, 5 5 5, 0 1 0 0, extension, 4 5",
		"1-800-FLOWERS":        "1, 8 0 0, FLOWERS",
	} {
		if got := spokenNumber(english, in); got != want {
			t.Errorf("spokenNumber(%q) = %q, want %q", in, got, want)
		}
	}
	if got := spokenNumber(spanish, "555-0100 ext 7"); got != "5 5 5, 0 1 0 0, extensión, 7" {
		t.Errorf("Spanish: %q", got)
	}
}

func TestSpokenURLs(t *testing.T) {
	for in, want := range map[string]string{
		"Visit https://www.pikecreek.k12.in.us/notice?id=3.": "Visit pikecreek dot k12 dot in dot us.",
		"See www.example.org, then call.":                    "See example dot org, then call.",
		"Go to IdentityTheft.gov/steps today":                "Go to IdentityTheft dot gov today",
		"Version 3.5, e.g. the report":                       "Version 3.5, e.g. the report",
		"(http://x.example.com)":                             "(x dot example dot com)",
	} {
		if got := spokenURLs(english, in); got != want {
			t.Errorf("spokenURLs(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestComposerGolden keeps the full text of email and call notices in testdata; run with -update
// to accept a change in wording.
func TestComposerGolden(t *testing.T) {
	c, b := testComposer(), testBreach()
	outputs := map[string]func() (string, error){
		"email-en.txt":  func() (string, error) { m, err := c.Email(b, emailNotice("en", false)); return m.Text, err },
		"email-en.html": func() (string, error) { m, err := c.Email(b, emailNotice("en", false)); return m.HTML, err },
		"email-es-guardian.txt": func() (string, error) {
			m, err := c.Email(b, emailNotice("es", true))
			return m.Text, err
		},
		"call-en-guardian.txt": func() (string, error) { s, err := c.CallScript(b, phoneNotice("en", true)); return s.Text, err },
		"call-es.txt":          func() (string, error) { s, err := c.CallScript(b, phoneNotice("es", false)); return s.Text, err },
		// The structure a clerk's call task carries: parts A to E under the letter's headings.
		"call-es.json": func() (string, error) {
			s, err := c.CallScript(b, phoneNotice("es", false))
			if err != nil {
				return "", err
			}
			out, err := json.MarshalIndent(s, "", "  ")
			return string(out) + "\n", err
		},
	}
	for name, f := range outputs {
		got, err := f()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		golden := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./letters -run TestComposerGolden -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from the golden file:\n%s", name, got)
		}
	}
}
