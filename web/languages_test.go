package web_test

import (
	"bytes"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
)

// withSpanish adds the media contact and the Spanish text of the README walk-through's breach.
func withSpanish(f url.Values) url.Values {
	f.Set("media_contact", "Pat Reyes, +1 317 555 0199")
	f.Set("translations.es.description", "Se robó de un automóvil una computadora portátil con un archivo de nómina sin cifrar.")
	f.Set("translations.es.remediation", "Las computadoras portátiles ahora están cifradas.")
	f.Set("translations.es.media_contact", "Pat Reyes (habla español), +1 317 555 0199")
	return f
}

// uploadSample sends the README's sample file (Spanish, Vietnamese and Japanese readers among them).
func (e *env) uploadSample(b *browser, id string) {
	e.t.Helper()
	csv, err := os.ReadFile("../examples/recipients-sample.csv")
	if err != nil {
		e.t.Fatal(err)
	}
	b.get("/breaches/" + id + "/people")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", b.csrf)
	fw, _ := mw.CreateFormFile("file", "recipients-sample.csv")
	fw.Write(csv)
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+"/breaches/"+id+"/people", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if p := b.do(req); p.Status != http.StatusOK {
		e.t.Fatalf("upload: %d %s", p.Status, p.Body)
	}
}

// TestDeterminationLanguages: the form sends the media contact and the translations as the
// contract has them, the API's refusals show beside the field they are about (the Spanish
// fieldset's and the generic row's), and revising shows and keeps them.
func TestDeterminationLanguages(t *testing.T) {
	e := newEnv(t)
	b := e.signIn("dana")
	p := b.get("/breaches/new")
	checkPage(t, "new breach", p)
	mustContain(t, p.Body, ">Media contact<", "Notice text in other languages", "<legend>Spanish (es)</legend>",
		">Description in Spanish<", ">Measures taken in Spanish<", ">Media contact in Spanish<",
		">Language code (e.g. vi, pt-BR)<", ">Description in the other language<")

	stored := func() int {
		list, _, err := e.store.Breaches(t.Context(), breach.BreachFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	refused := []struct {
		name  string
		edit  func(url.Values)
		field string // the id of the field the API's reason is beside
		want  string
	}{
		{"Spanish without its measures", func(f url.Values) { f.Del("translations.es.remediation") },
			"f-translations-es-remediation", "Measures taken in Spanish: is required"},
		{"another language with a tag that is not BCP 47", func(f url.Values) {
			f.Set("extra.lang", "vietnamese")
			f.Set("extra.description", "Mô tả.")
			f.Set("extra.remediation", "Biện pháp.")
		}, "f-extra-lang", "Is not a BCP 47 language tag"},
		{"another language with text but no code", func(f url.Values) { f.Set("extra.description", "Mô tả.") },
			"f-extra-lang", "Enter the language code of this text"},
		{"another language without its measures", func(f url.Values) {
			f.Set("extra.lang", "vi")
			f.Set("extra.description", "Mô tả.")
		}, "f-extra-remediation", "Is required"},
		{"another language that is English", func(f url.Values) {
			f.Set("extra.lang", "en-GB")
			f.Set("extra.description", "Described.")
			f.Set("extra.remediation", "Measures.")
		}, "f-extra-lang", "Is English"},
		{"another language repeating Spanish", func(f url.Values) {
			f.Set("extra.lang", "es")
			f.Set("extra.description", "Otra descripción.")
			f.Set("extra.remediation", "Otras medidas.")
		}, "f-extra-lang", "Is already given above"},
	}
	for _, c := range refused {
		f := withSpanish(determinationForm())
		c.edit(f)
		f.Set("action", "save")
		p := b.post("/breaches/new", f)
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", c.name, p.Status)
			continue
		}
		mustContain(t, p.Body, `href="#`+c.field+`"`, `id="`+c.field+`-error"`, c.want,
			"Se robó de un automóvil") // what was typed is kept
		if n := stored(); n != 0 {
			t.Fatalf("%s: a refused form stored %d breaches", c.name, n)
		}
	}

	// Filled, the Spanish and another language reach the API as translations.es and .vi.
	f := withSpanish(determinationForm())
	f.Set("extra.lang", "vi")
	f.Set("extra.description", "Một máy tính xách tay bị đánh cắp.")
	f.Set("extra.remediation", "Máy tính xách tay nay đã được mã hóa.")
	f.Set("action", "save")
	p = b.post("/breaches/new", f)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	id := strings.TrimPrefix(p.Header.Get("Location"), "/breaches/")
	got, err := e.store.Breach(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	d := got.Determination
	if d.MediaContact != "Pat Reyes, +1 317 555 0199" || len(d.Translations) != 2 ||
		d.Translations["es"].MediaContact != "Pat Reyes (habla español), +1 317 555 0199" ||
		d.Translations["vi"].Remediation != "Máy tính xách tay nay đã được mã hóa." || d.Translations["vi"].MediaContact != "" {
		t.Fatalf("stored determination: media %q, translations %+v", d.MediaContact, d.Translations)
	}
	// An empty section sends no translations at all (they are optional).
	plain := determinationForm()
	plain.Set("action", "preview")
	if p := b.post("/breaches/new", plain); p.Status != http.StatusOK {
		t.Errorf("preview without translations: %d", p.Status)
	}

	// Revising shows each stored language in its own fieldset, and keeps them.
	p = b.get("/breaches/" + id + "/determination")
	checkPage(t, "revise", p)
	mustContain(t, p.Body, "<legend>Spanish (es)</legend>", "<legend>Vietnamese (vi)</legend>", ">Description in Vietnamese<",
		"Las computadoras portátiles ahora están cifradas.", "Một máy tính xách tay bị đánh cắp.", `value="Pat Reyes, &#43;1 317 555 0199"`)
	form := formValues(p.Body)
	form.Set("title", "Stolen laptop (revised)")
	form.Set("action", "save")
	form.Set("translations.vi.remediation", "")
	// The PUT's refusal names translations.vi.remediation: beside that field.
	p = b.post("/breaches/"+id+"/determination", form)
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("revise without vi measures: %d", p.Status)
	}
	mustContain(t, p.Body, `id="f-translations-vi-remediation-error"`, "Is required")
	form.Set("translations.vi.remediation", "Máy tính xách tay nay đã được mã hóa.")
	if p := b.post("/breaches/"+id+"/determination", form); p.Status != http.StatusSeeOther {
		t.Fatalf("revise: %d %s", p.Status, p.Body)
	}
	got, _ = e.store.Breach(t.Context(), id)
	if got.Determination.Title != "Stolen laptop (revised)" || len(got.Determination.Translations) != 2 ||
		got.Determination.Translations["es"] != d.Translations["es"] || got.Determination.MediaContact != d.MediaContact {
		t.Errorf("the revision lost the languages: %+v", got.Determination)
	}
}

// TestEnglishFallback: the README walk-through in the browser. The sample's Vietnamese and
// Japanese readers have no notice text; dispatch is refused naming them; an administrator records
// the English fallback for each, with a reason, and dispatch goes.
func TestEnglishFallback(t *testing.T) {
	e := newEnv(t)
	dana, sam := e.signIn("dana"), e.signIn("sam")
	dana.get("/breaches/new")
	f := withSpanish(determinationForm())
	f.Set("action", "save")
	p := dana.post("/breaches/new", f)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	id := strings.TrimPrefix(p.Header.Get("Location"), "/breaches/")
	e.uploadSample(dana, id)

	p = dana.get("/breaches/" + id)
	checkPage(t, "breach", p)
	mustContain(t, p.Body, `<h2 id="languages">Languages</h2>`, "<td>Spanish (es)</td>", "translated",
		"<td>Vietnamese (vi)</td>", "<td>Japanese (ja)</td>", "missing",
		`action="/breaches/`+id+`/languages/vi/english-fallback"`, `action="/breaches/`+id+`/languages/ja/english-fallback"`,
		"Send these people the English notice", `<label for="f-fallback-vi-reason">Reason</label>`)
	if strings.Contains(p.Body, "/languages/es/english-fallback") {
		t.Error("a fallback form for Spanish, which has its text")
	}
	// A clerk sees the languages but not the forms, and the API refuses them the action.
	p = sam.get("/breaches/" + id)
	mustContain(t, p.Body, "<td>Vietnamese (vi)</td>")
	if strings.Contains(p.Body, "english-fallback") {
		t.Error("the clerk is offered the fallback form")
	}
	if p := sam.post("/breaches/"+id+"/languages/vi/english-fallback", url.Values{"fallback.vi.reason": {"No translator."}}); p.Status != http.StatusForbidden {
		t.Errorf("clerk records a fallback: %d", p.Status)
	}

	// Dispatch is refused, in words naming the languages, with a link to the section.
	dana.get("/breaches/" + id + "/dispatch")
	p = dana.post("/breaches/"+id+"/dispatch", nil)
	if p.Status != http.StatusConflict {
		t.Fatalf("dispatch with languages missing: %d %s", p.Status, p.Body)
	}
	mustContain(t, p.Body, "Vietnamese (vi): 1 person", "Japanese (ja): 1 person", `href="/breaches/`+id+`#languages"`,
		"Add the text or send these people the English notice")
	if strings.Contains(p.Body, "it is missing the Vietnamese") {
		t.Error("the send page asks for a Vietnamese text that no revision can give")
	}
	if strings.Contains(p.Body, "Spanish (es): 2") {
		t.Error("the refusal names Spanish, which has its text")
	}

	// Without a token, refused; without a reason, the API's message beside the reason.
	if p := dana.post("/breaches/"+id+"/languages/vi/english-fallback", url.Values{"csrf": {""}, "fallback.vi.reason": {"x"}}); p.Status != http.StatusForbidden {
		t.Errorf("fallback without CSRF token: %d", p.Status)
	}
	dana.get("/breaches/" + id)
	p = dana.post("/breaches/"+id+"/languages/vi/english-fallback", url.Values{"fallback.vi.reason": {"  "}})
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("fallback without a reason: %d", p.Status)
	}
	mustContain(t, p.Body, `href="#f-fallback-vi-reason"`, `id="f-fallback-vi-reason-error"`, "Is required: say why",
		"Reason for Vietnamese (vi): is required")
	p = dana.post("/breaches/"+id+"/languages/vi/english-fallback", url.Values{"fallback.vi.reason": {""}})
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("fallback with an empty reason: %d", p.Status)
	}
	mustContain(t, p.Body, `id="f-fallback-vi-reason-error"`)
	if b, _ := e.store.Breach(t.Context(), id); len(b.EnglishFallbacks) != 0 {
		t.Fatalf("a refused fallback was recorded: %+v", b.EnglishFallbacks)
	}

	const why = "No Vietnamese translator before the deadline; the family liaison will call."
	p = dana.post("/breaches/"+id+"/languages/vi/english-fallback", url.Values{"fallback.vi.reason": {why}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/breaches/"+id+"#languages" {
		t.Fatalf("fallback: %d %s", p.Status, p.Body)
	}
	b, _ := e.store.Breach(t.Context(), id)
	if len(b.EnglishFallbacks) != 1 || b.EnglishFallbacks[0].Language != "vi" || b.EnglishFallbacks[0].Reason != why ||
		b.EnglishFallbacks[0].By != "user:dana" || b.EnglishFallbacks[0].People != 1 {
		t.Fatalf("recorded: %+v", b.EnglishFallbacks)
	}
	p = dana.get("/breaches/" + id)
	mustContain(t, p.Body, "get the notice in English", "English fallback", why, "Recorded by user:dana")
	if strings.Contains(p.Body, "/languages/vi/english-fallback") {
		t.Error("the form is still offered for Vietnamese")
	}
	// The second record is the API's conflict, in its words.
	p = dana.post("/breaches/"+id+"/languages/vi/english-fallback", url.Values{"fallback.vi.reason": {"Again."}})
	if p.Status != http.StatusConflict {
		t.Fatalf("second fallback: %d", p.Status)
	}
	mustContain(t, p.Body, "An English fallback for Vietnamese (vi) was recorded on")

	if p := dana.post("/breaches/"+id+"/languages/ja/english-fallback", url.Values{"fallback.ja.reason": {"No Japanese translator."}}); p.Status != http.StatusSeeOther {
		t.Fatalf("fallback ja: %d %s", p.Status, p.Body)
	}
	p = dana.get("/breaches/" + id + "/dispatch")
	if strings.Contains(p.Body, "missing-languages") {
		t.Error("the dispatch page still names missing languages")
	}
	if p := dana.post("/breaches/"+id+"/dispatch", nil); p.Status != http.StatusOK || !strings.Contains(p.Body, "Notices queued") {
		t.Fatalf("dispatch after the fallbacks: %d %s", p.Status, p.Body)
	}
}

var (
	inputRE    = regexp.MustCompile(`<input ([^>]*)>`)
	attrRE     = regexp.MustCompile(`(\w+)(?:="([^"]*)")?`)
	textareaRE = regexp.MustCompile(`(?s)<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>`)
	selectRE   = regexp.MustCompile(`(?s)<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>`)
	selectedRE = regexp.MustCompile(`<option value="([^"]*)" selected>`)
)

// formValues is what a browser would submit from the page's determination form, unchanged: the
// test of "shown and kept" is that the page itself carries the values back.
func formValues(body string) url.Values {
	start := strings.Index(body, `id="determination-form"`)
	end := strings.Index(body[start:], "</form>")
	form := body[start : start+end]
	f := url.Values{}
	for _, m := range inputRE.FindAllStringSubmatch(form, -1) {
		a := map[string]string{}
		for _, kv := range attrRE.FindAllStringSubmatch(m[1], -1) {
			a[kv[1]] = html.UnescapeString(kv[2])
		}
		if _, checked := a["checked"]; (a["type"] == "checkbox" || a["type"] == "radio") && !checked {
			continue
		}
		if a["name"] != "" {
			f.Add(a["name"], a["value"])
		}
	}
	for _, m := range textareaRE.FindAllStringSubmatch(form, -1) {
		f.Set(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range selectRE.FindAllStringSubmatch(form, -1) {
		if s := selectedRE.FindStringSubmatch(m[2]); s != nil {
			f.Set(m[1], s[1])
		}
	}
	return f
}
