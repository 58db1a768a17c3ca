package rules

import (
	"fmt"
	"slices"
	"strings"

	breach "github.com/breachd/breachd"
)

// Reason codes for the languages the uploaded people need (a persisted contract, as in reasons.go).
const (
	CodeLanguageTranslated      = "language_translated"
	CodeLanguageEnglishFallback = "language_english_fallback"
	CodeLanguageMissing         = "language_missing"
)

// withLanguages checks that every person uploaded can be told in a language they read, which the
// guideline's "notice" presumes: a notice the person cannot read tells them nothing. For each
// language other than English the people need, the notice is written in it when breachd has its
// template (breach.NoticeLanguages) and the determination its text (the description and the
// measures taken); otherwise, the people get the English notice only when an administrator
// recorded that they do (an English fallback, with its reason). Anything else is missing content:
// "translation:<lang>" in missing_content, and the plan is not approvable until one of the two
// ways out is taken. The reasons come before the approval reason, which names the languages.
func withLanguages(p breach.Plan, d breach.Determination, c breach.RecipientCounts, fallbacks []breach.EnglishFallback) breach.Plan {
	langs := make([]string, 0, len(c.Languages))
	for lang, n := range c.Languages {
		if lang != "en" && n > 0 {
			langs = append(langs, lang)
		}
	}
	slices.Sort(langs)
	p.Languages = make([]breach.LanguageNeed, 0, len(langs))
	var reasons []breach.Reason
	var missing []string
	because := func(code, format string, args ...any) {
		reasons = append(reasons, breach.Reason{Code: code, Citation: citeNotification, Text: fmt.Sprintf(format, args...)})
	}
	for _, lang := range langs {
		n := c.Languages[lang]
		label, name := breach.LanguageLabel(lang), breach.LanguageName(lang)
		ln := breach.LanguageNeed{Language: lang, People: n}
		fb := slices.IndexFunc(fallbacks, func(f breach.EnglishFallback) bool { return f.Language == lang })
		switch {
		case d.HasNoticeText(lang):
			ln.Text = breach.TextTranslated
			because(CodeLanguageTranslated, "Of the people uploaded, %s %s: their notices are written in %s, from its "+
				"template and the determination's %s text.", need(n), label, name, name)
		case fb >= 0:
			ln.Text = breach.TextEnglishFallback
			because(CodeLanguageEnglishFallback, "Of the people uploaded, %s %s; as an administrator recorded on %s, "+
				"they get the notice in English.", need(n), label, longDate(breach.DateOf(fallbacks[fb].At, d.Location())))
		default:
			ln.Text = breach.TextMissing
			p.MissingContent = append(p.MissingContent, breach.ContentTranslation(lang))
			missing = append(missing, label)
			if slices.Contains(breach.NoticeLanguages, lang) {
				because(CodeLanguageMissing, "Of the people uploaded, %s %s, and the determination has no %s text of (A) "+
					"the description and (C) the measures taken. No notice can be sent until the determination gives it "+
					"(determination.translations.%s) or an administrator records that these people get the notice in English.",
					need(n), label, name, lang)
			} else {
				because(CodeLanguageMissing, "Of the people uploaded, %s %s, for which breachd has no notice template (the "+
					"headings and fixed sentences of the notice), so no %s notice can be written. No notice can be sent "+
					"until an administrator records that these people get the notice in English (or a %s template is added).",
					need(n), label, name, name)
			}
		}
		p.Languages = append(p.Languages, ln)
	}
	if len(reasons) == 0 {
		return p
	}
	// The approval reason is the pack's last word on the plan; the language reasons go before it.
	at := slices.IndexFunc(p.Reasons, func(r breach.Reason) bool {
		return r.Code == CodeApprovable || r.Code == CodeNotApprovable
	})
	if at < 0 {
		at = len(p.Reasons)
	}
	if len(missing) > 0 {
		blocker := "the notice text is missing in " + list(missing)
		p.Approvable = false
		switch {
		case at == len(p.Reasons):
			p.Reasons = append(p.Reasons, breach.Reason{})
			fallthrough
		case p.Reasons[at].Code == CodeApprovable:
			p.Reasons[at] = breach.Reason{Code: CodeNotApprovable, Citation: citeNotification,
				Text: "The plan cannot be approved for dispatch: " + blocker + "."}
		default:
			p.Reasons[at].Text = strings.TrimSuffix(p.Reasons[at].Text, ".") + "; and " + blocker + "."
		}
	}
	p.Reasons = slices.Insert(p.Reasons, at, reasons...)
	return p
}

// MissingLanguages says which languages' notice text is missing and for how many people, the way
// a refused dispatch explains it: "Spanish (es) text is missing for 3 people: add
// determination.translations.es or record an English fallback". It returns nil when none is.
func MissingLanguages(p breach.Plan) []string {
	var out []string
	for _, l := range p.Languages {
		if l.Text != breach.TextMissing {
			continue
		}
		label := breach.LanguageLabel(l.Language)
		if slices.Contains(breach.NoticeLanguages, l.Language) {
			out = append(out, fmt.Sprintf("%s text is missing for %s: add determination.translations.%s or record an English fallback",
				label, people(l.People), l.Language))
		} else {
			out = append(out, fmt.Sprintf("%s text is missing for %s: breachd has no %s template, so record an English fallback",
				label, people(l.People), breach.LanguageName(l.Language)))
		}
	}
	return out
}

// need writes "1 needs" or "1,200 need".
func need(n int) string {
	if n == 1 {
		return "1 needs"
	}
	return count(n) + " need"
}
