package rules

import (
	"slices"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
)

func TestLanguages(t *testing.T) {
	spanish := breach.Translation{Description: "Se envió una hoja de cálculo.", Remediation: "Bloqueamos el envío."}
	fallback := func(lang string) breach.EnglishFallback {
		return breach.EnglishFallback{Language: lang, People: 1, Reason: "no translator", By: "key_1",
			At: time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)}
	}
	need := func(lang string, n int, text breach.LanguageText) breach.LanguageNeed {
		return breach.LanguageNeed{Language: lang, People: n, Text: text}
	}
	tests := []struct {
		name         string
		translations map[string]breach.Translation
		languages    map[string]int
		fallbacks    []breach.EnglishFallback
		missing      []breach.ContentElement
		needs        []breach.LanguageNeed
		approvable   bool
		says         []string // in the reasons, in order
	}{
		{name: "English-only upload is unaffected", languages: map[string]int{"en": 5},
			missing: []breach.ContentElement{}, needs: []breach.LanguageNeed{}, approvable: true},
		{name: "Spanish without a translation is missing", languages: map[string]int{"en": 5, "es": 3},
			missing: []breach.ContentElement{"translation:es"}, needs: []breach.LanguageNeed{need("es", 3, breach.TextMissing)},
			says: []string{"Of the people uploaded, 3 need Spanish (es), and the determination has no Spanish text", "determination.translations.es",
				"The plan cannot be approved for dispatch: the notice text is missing in Spanish (es)."}},
		{name: "Spanish with a translation is translated", languages: map[string]int{"en": 5, "es": 3},
			translations: map[string]breach.Translation{"es": spanish},
			missing:      []breach.ContentElement{}, needs: []breach.LanguageNeed{need("es", 3, breach.TextTranslated)}, approvable: true,
			says: []string{"Of the people uploaded, 3 need Spanish (es): their notices are written in Spanish", "The plan may be approved for dispatch."}},
		{name: "a regional Spanish translation serves es", languages: map[string]int{"es": 2},
			translations: map[string]breach.Translation{"es-MX": spanish},
			missing:      []breach.ContentElement{}, needs: []breach.LanguageNeed{need("es", 2, breach.TextTranslated)}, approvable: true},
		{name: "Vietnamese without a template and no fallback is missing", languages: map[string]int{"en": 5, "vi": 1},
			translations: map[string]breach.Translation{"vi": {Description: "d", Remediation: "r"}},
			missing:      []breach.ContentElement{"translation:vi"}, needs: []breach.LanguageNeed{need("vi", 1, breach.TextMissing)},
			says: []string{"Of the people uploaded, 1 needs Vietnamese (vi), for which breachd has no notice template", "get the notice in English",
				"the notice text is missing in Vietnamese (vi)"}},
		{name: "Vietnamese with a recorded fallback gets English", languages: map[string]int{"en": 5, "vi": 1},
			fallbacks: []breach.EnglishFallback{fallback("vi")},
			missing:   []breach.ContentElement{}, needs: []breach.LanguageNeed{need("vi", 1, breach.TextEnglishFallback)}, approvable: true,
			says: []string{"as an administrator recorded on Tuesday, March 10, 2026, they get the notice in English"}},
		{name: "Spanish fallback without a translation gets English", languages: map[string]int{"es": 4},
			fallbacks: []breach.EnglishFallback{fallback("es")},
			missing:   []breach.ContentElement{}, needs: []breach.LanguageNeed{need("es", 4, breach.TextEnglishFallback)}, approvable: true},
		{name: "a fallback for one language does not cover another", languages: map[string]int{"es": 3, "vi": 1},
			fallbacks: []breach.EnglishFallback{fallback("vi")},
			missing:   []breach.ContentElement{"translation:es"},
			needs:     []breach.LanguageNeed{need("es", 3, breach.TextMissing), need("vi", 1, breach.TextEnglishFallback)}},
		{name: "both missing are named", languages: map[string]int{"en": 1, "es": 3, "vi": 1},
			missing: []breach.ContentElement{"translation:es", "translation:vi"},
			needs:   []breach.LanguageNeed{need("es", 3, breach.TextMissing), need("vi", 1, breach.TextMissing)},
			says:    []string{"the notice text is missing in Spanish (es) and Vietnamese (vi)."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := required()
			d.Translations = tt.translations
			total := 0
			for _, n := range tt.languages {
				total += n
			}
			d.AffectedCount, d.IndianaResidents = total, ptr(total)
			b := &breach.Breach{Determination: d, EnglishFallbacks: tt.fallbacks}
			c := breach.RecipientCounts{Affected: total, IndianaResidents: total, Languages: tt.languages}
			p, err := AssessBreach(b, c, date("2026-03-20"))
			if err != nil {
				t.Fatal(err)
			}
			if msg := checkInvariants(d, p); msg != "" {
				t.Fatalf("invariant broken: %s\nreasons: %v", msg, codes(p))
			}
			if !slices.Equal(p.MissingContent, tt.missing) || !slices.Equal(p.Languages, tt.needs) || p.Approvable != tt.approvable {
				t.Errorf("missing %v, languages %v, approvable %v; want %v, %v, %v",
					p.MissingContent, p.Languages, p.Approvable, tt.missing, tt.needs, tt.approvable)
			}
			var text strings.Builder
			for _, r := range p.Reasons {
				text.WriteString(r.Text + "\n")
				if strings.HasPrefix(r.Code, "language_") && r.Citation != citeNotification {
					t.Errorf("reason %s cites %q", r.Code, r.Citation)
				}
			}
			at := 0
			for _, s := range tt.says {
				i := strings.Index(text.String()[at:], s)
				if i < 0 {
					t.Errorf("reasons lack %q (or out of order):\n%s", s, text.String())
					continue
				}
				at += i + len(s)
			}
			if last := p.Reasons[len(p.Reasons)-1].Code; last != CodeApprovable && last != CodeNotApprovable {
				t.Errorf("the approval reason is not last: %v", codes(p))
			}
		})
	}

	t.Run("a plan already blocked names the languages too", func(t *testing.T) {
		d := required()
		d.Remediation = ""
		p, err := AssessBreach(&breach.Breach{Determination: d}, breach.RecipientCounts{Affected: 100, IndianaResidents: 100,
			Languages: map[string]int{"en": 99, "vi": 1}}, date("2026-03-20"))
		if err != nil {
			t.Fatal(err)
		}
		got := reason(t, p, CodeNotApprovable).Text
		if !strings.Contains(got, "the notice content is incomplete; and the notice text is missing in Vietnamese (vi).") {
			t.Errorf("not_approvable = %q", got)
		}
		if !slices.Equal(p.MissingContent, []breach.ContentElement{breach.ContentRemediation, "translation:vi"}) {
			t.Errorf("missing %v", p.MissingContent)
		}
	})

	t.Run("refusal names each language and its people", func(t *testing.T) {
		p := breach.Plan{Languages: []breach.LanguageNeed{need("es", 3, breach.TextMissing),
			need("fr", 2, breach.TextTranslated), need("vi", 1, breach.TextMissing)}}
		got := strings.Join(MissingLanguages(p), "; ")
		want := "Spanish (es) text is missing for 3 people: add determination.translations.es or record an English fallback; " +
			"Vietnamese (vi) text is missing for 1 person: breachd has no Vietnamese template, so record an English fallback"
		if got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	})
}
