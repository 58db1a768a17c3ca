package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// TestEveryLanguageFully is the story: the sample export has Spanish and Vietnamese people;
// until the Spanish text is given and the Vietnamese people's English fallback recorded, nothing
// is dispatched and the refusal names both; then the Spanish letter, web-site notice and press
// release carry the Spanish text — never the English — and the Vietnamese family gets English.
func TestEveryLanguageFully(t *testing.T) {
	e := newEnv(t)
	b := createBreach(t, e, map[string]any{"translations": nil}) // English text only
	path := "/v1/breaches/" + b.ID
	uploadSample(t, e, b.ID)

	// Both languages are missing: the plan says so, and dispatch is refused naming each.
	var v api.BreachView
	e.do("GET", path, breach.RoleClerk, nil).json(t, &v)
	if !slices.Equal(v.Plan.MissingContent, []breach.ContentElement{"translation:es", "translation:vi"}) || v.Plan.Approvable ||
		!slices.Equal(v.Plan.Languages, []breach.LanguageNeed{{Language: "es", People: 2, Text: breach.TextMissing},
			{Language: "vi", People: 2, Text: breach.TextMissing}}) {
		t.Fatalf("plan: missing %v languages %v approvable %v", v.Plan.MissingContent, v.Plan.Languages, v.Plan.Approvable)
	}
	r := e.do("POST", path+"/dispatch", breach.RoleAdmin, nil)
	if r.Status != http.StatusConflict {
		t.Fatalf("dispatch with languages missing: %d %s", r.Status, r.Body)
	}
	mustContainAll(t, r.problem(t).Detail,
		"Spanish (es) text is missing for 2 people: add determination.translations.es or record an English fallback",
		"Vietnamese (vi) text is missing for 2 people")
	// Nor can the public documents be had in a language without its text or template.
	for _, doc := range []string{"website.html", "website.txt", "media.pdf"} {
		for _, lang := range []string{"es", "vi"} {
			if r := e.do("GET", path+"/substitute-notice/"+doc+"?lang="+lang, breach.RoleClerk, nil); r.Status != 422 || r.fields(t)["lang"] == "" {
				t.Errorf("%s?lang=%s: %d %s", doc, lang, r.Status, r.Body)
			}
		}
	}
	if r := e.do("GET", path+"/substitute-notice/website.html?lang=Spanish", breach.RoleClerk, nil); r.Status != 422 || r.fields(t)["lang"] == "" {
		t.Errorf("lang=Spanish: %d %s", r.Status, r.Body)
	}

	// Bad translations are refused, each naming its field.
	es := map[string]any{"description": spanishDescription, "remediation": spanishRemediation,
		"media_contact": "Lee Park, directora de comunicaciones, (317) 555-0150"}
	for key, tr := range map[string]map[string]any{
		"Spanish": es, "es_MX": es, "es-mx": es, "EN": es, "en": es, "en-US": es, "x-klingon": es,
		"es": {"description": spanishDescription, "remediation": "   "},
	} {
		r := e.do("PUT", path+"/determination", breach.RoleAdmin, determination(map[string]any{"translations": map[string]any{key: tr}}))
		want := "translations." + key // the body of PUT …/determination is the determination
		if key == "es" {
			want += ".remediation"
		}
		if r.Status != 422 || r.fields(t)[want] == "" {
			t.Errorf("translation %q: %d %s", key, r.Status, r.Body)
		}
	}
	r = e.do("POST", "/v1/breaches", breach.RoleAdmin, map[string]any{"determination": determination(map[string]any{
		"translations": map[string]any{"Spanish": es}})})
	if r.Status != 422 || !strings.Contains(r.fields(t)["determination.translations.Spanish"], "BCP 47") {
		t.Errorf("create with a bad tag: %d %s", r.Status, r.Body)
	}
	long := strings.Repeat("ñ", 20001) // characters, not bytes: 20,000 ñ are 40,000 bytes and allowed
	if r := e.do("PUT", path+"/determination", breach.RoleAdmin, determination(map[string]any{"translations": map[string]any{
		"es": map[string]any{"description": long, "remediation": "r"}}})); r.Status != 422 {
		t.Errorf("a description of 20,001 characters: %d", r.Status)
	}

	// The two ways out: the Spanish text, and the Vietnamese people's English fallback.
	r = e.do("PUT", path+"/determination", breach.RoleAdmin, determination(map[string]any{
		"media_contact": "Lee Park, Communications Director, (317) 555-0150",
		"translations":  map[string]any{"es-MX": es}}))
	if r.Status != 200 {
		t.Fatalf("revise with the Spanish text: %d %s", r.Status, r.Body)
	}
	r.json(t, &v)
	if !slices.Equal(v.Plan.MissingContent, []breach.ContentElement{"translation:vi"}) {
		t.Fatalf("after the Spanish text: missing %v", v.Plan.MissingContent)
	}
	fallback := func(lang string, body any) response {
		return e.do("POST", path+"/languages/"+lang+"/english-fallback", breach.RoleAdmin, body)
	}
	for _, tc := range []struct {
		lang  string
		body  any
		field string
	}{
		{"vi", map[string]any{}, "reason"},
		{"vi", map[string]any{"reason": "  "}, "reason"},
		{"VI", map[string]any{"reason": "x"}, "lang"},
		{"vie", map[string]any{"reason": "x"}, "lang"},
		{"en", map[string]any{"reason": "x"}, "lang"},
	} {
		if r := fallback(tc.lang, tc.body); r.Status != 422 || r.fields(t)[tc.field] == "" {
			t.Errorf("fallback %s %v: %d %s", tc.lang, tc.body, r.Status, r.Body)
		}
	}
	if r := e.do("POST", path+"/languages/vi/english-fallback", breach.RoleClerk, map[string]any{"reason": "x"}); r.Status != 403 {
		t.Errorf("a clerk records a fallback: %d", r.Status)
	}
	r = fallback("vi", map[string]any{"reason": "No Vietnamese translator before the deadline; the family liaison will call."})
	if r.Status != 200 {
		t.Fatalf("fallback: %d %s", r.Status, r.Body)
	}
	r.json(t, &v)
	if len(v.EnglishFallbacks) != 1 || v.EnglishFallbacks[0].Language != "vi" || v.EnglishFallbacks[0].People != 2 ||
		v.EnglishFallbacks[0].By == "" || v.EnglishFallbacks[0].At.IsZero() || !v.Plan.Approvable ||
		!slices.Equal(v.Plan.Languages, []breach.LanguageNeed{{Language: "es", People: 2, Text: breach.TextTranslated},
			{Language: "vi", People: 2, Text: breach.TextEnglishFallback}}) {
		t.Fatalf("after the fallback: fallbacks %+v languages %v approvable %v", v.EnglishFallbacks, v.Plan.Languages, v.Plan.Approvable)
	}
	if r := fallback("vi", map[string]any{"reason": "again"}); r.Status != http.StatusConflict {
		t.Errorf("a second fallback: %d %s", r.Status, r.Body)
	}
	var events api.EventList
	e.do("GET", path+"/events", breach.RoleAuditor, nil).json(t, &events)
	if last := events.Items[len(events.Items)-1]; last.Type != breach.EventEnglishFallback || last.Data["language"] != "vi" {
		t.Errorf("last event %+v", last)
	}

	// The documents list their languages; Spanish is now one.
	var st api.SubstituteStatus
	e.do("GET", path+"/substitute-notice", breach.RoleClerk, nil).json(t, &st)
	if !slices.Equal(st.Languages, []api.DocumentLanguage{{Language: "en", People: 6, Available: true},
		{Language: "es", People: 2, Available: true}, {Language: "vi", People: 2, Available: false}}) {
		t.Errorf("substitute-notice languages %+v", st.Languages)
	}

	if r := e.do("POST", path+"/dispatch", breach.RoleAdmin, nil); r.Status != 200 {
		t.Fatalf("dispatch: %d %s", r.Status, r.Body)
	}

	// Sofia García's guardian reads Spanish: the letter says (A) and (C) in Spanish, never in English.
	var letters api.NoticeList
	e.do("GET", path+"/notices?channel=letter", breach.RoleClerk, nil).json(t, &letters)
	letterText := func(lang string) string {
		t.Helper()
		for _, n := range letters.Items {
			if n.Language == lang {
				r := e.do("GET", "/v1/notices/"+n.ID+"/letter.pdf", breach.RoleClerk, nil)
				if r.Status != 200 {
					t.Fatalf("letter %s: %d %s", n.ID, r.Status, r.Body)
				}
				return oneLine(pdfText(t, r.Body))
			}
		}
		t.Fatalf("no %s letter among %d", lang, len(letters.Items))
		return ""
	}
	english := determination(nil)
	spanish := letterText("es")
	mustContainAll(t, spanish, "Qué sucedió", spanishDescription, "Qué estamos haciendo", spanishRemediation)
	for _, s := range []string{english["description"].(string), english["remediation"].(string), "What happened"} {
		if strings.Contains(spanish, s) {
			t.Errorf("the Spanish letter carries English %q:\n%s", s, spanish)
		}
	}
	// The Nguyễn family (Vietnamese, recorded fallback) gets the English letter, wholly.
	vietnamese := letterText("vi")
	mustContainAll(t, vietnamese, "What happened", english["description"].(string), english["remediation"].(string))
	if strings.Contains(vietnamese, "Qué") {
		t.Errorf("the Vietnamese family's letter mixes in Spanish:\n%s", vietnamese)
	}

	// The Spanish web-site notice and press release.
	r = e.do("GET", path+"/substitute-notice/website.html?lang=es", breach.RoleClerk, nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("website.html?lang=es: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	page := string(r.Body)
	mustContainAll(t, page, `<html lang="es">`, "<h1", "Aviso de violación de datos", spanishDescription, spanishRemediation)
	if strings.Contains(page, english["description"].(string)) || strings.Contains(page, "Publicado") {
		t.Errorf("the Spanish page carries English text or claims a posting not recorded:\n%s", page)
	}
	if r := e.do("GET", path+"/substitute-notice/website.txt", breach.RoleClerk, nil); !strings.Contains(string(r.Body), english["description"].(string)) {
		t.Errorf("the English text notice (the default) lacks the English description: %s", r.Body)
	}
	r = e.do("GET", path+"/substitute-notice/media.pdf?lang=es", breach.RoleClerk, nil)
	if r.Status != 200 {
		t.Fatalf("media.pdf?lang=es: %d %s", r.Status, r.Body)
	}
	press := oneLine(pdfText(t, r.Body))
	mustContainAll(t, press, "PARA DIFUSIÓN INMEDIATA", spanishDescription, spanishRemediation,
		"Contacto para los medios: Lee Park, directora de comunicaciones, (317) 555-0150")
	if strings.Contains(press, english["description"].(string)) {
		t.Errorf("the Spanish press release carries the English description:\n%s", press)
	}
	// Posted once recorded, and then the page says so.
	if r := e.do("POST", path+"/substitute-notice/website/posted", breach.RoleAdmin, map[string]any{}); r.Status != 200 {
		t.Fatalf("posted: %d %s", r.Status, r.Body)
	}
	r = e.do("GET", path+"/substitute-notice/website.html?lang=es", breach.RoleClerk, nil)
	mustContainAll(t, string(r.Body), "Publicado el 20 de marzo de 2026")
}

// oneLine joins a text's white space, as pdftotext breaks lines where the PDF does.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
