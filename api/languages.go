package api

import (
	"context"
	"fmt"
	"slices"
	"strings"

	breach "github.com/breachd/breachd"
)

// RecordEnglishFallback records that the uploaded people whose language is req.Lang get the English
// notice: the plan then counts them as told (rules: withLanguages) instead of refusing dispatch.
// Recorded once, never rewritten: a second record is a conflict, and a translation added later
// simply wins.
func (h *handlers) RecordEnglishFallback(ctx context.Context, req RecordEnglishFallbackRequestObject) (RecordEnglishFallbackResponseObject, error) {
	actor := actorFrom(ctx)
	lang := req.Lang
	reason := strings.TrimSpace(req.Body.Reason)
	var fe []breach.FieldError
	if lang == "en" {
		fe = append(fe, breach.FieldError{Field: "lang", Reason: "is English: English notices need no fallback"})
	}
	if reason == "" {
		fe = append(fe, breach.FieldError{Field: "reason", Reason: "is required: say why these people get the notice in English"})
	}
	if err := breach.InvalidFields(fe); err != nil {
		return nil, err
	}
	counts, err := h.cfg.Recipients.RecipientCounts(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	people := counts.Languages[lang]
	b, err := h.cfg.Store.UpdateBreach(ctx, req.Id, func(b *breach.Breach) (breach.Event, error) {
		if b.Status == breach.StatusClosed {
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "breach %s is closed", b.ID)
		}
		if f, ok := b.EnglishFallbackFor(lang); ok {
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "an English fallback for %s was recorded on %s by %s",
				breach.LanguageLabel(lang), f.At.Format("2006-01-02"), f.By)
		}
		now := h.cfg.Now().UTC()
		// A new slice: the record read is never changed in place.
		b.EnglishFallbacks = append(slices.Clip(b.EnglishFallbacks), breach.EnglishFallback{Language: lang, People: people,
			Reason: reason, By: actor.ID, At: now})
		b.UpdatedAt = now
		return h.event(actor, breach.EventEnglishFallback,
			fmt.Sprintf("the notice goes in English to the %s %s", plural(people, "person who needs", "people who need"), breach.LanguageLabel(lang)),
			map[string]any{"language": lang, "people": people, "reason": reason}), nil
	})
	if err != nil {
		return nil, err
	}
	v, err := h.viewToday(ctx, b)
	if err != nil {
		return nil, err
	}
	return RecordEnglishFallback200JSONResponse(v), nil
}

// documentLanguages lists the languages of the web-site notice and the press release: English,
// every language they can be written in, and every language uploaded people need, in that order
// (English first, then by code).
func documentLanguages(d breach.Determination, c breach.RecipientCounts) []DocumentLanguage {
	langs := d.NoticeTextLanguages()
	for lang, n := range c.Languages {
		if n > 0 && !slices.Contains(langs, lang) {
			langs = append(langs, lang)
		}
	}
	slices.SortFunc(langs, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "en":
			return -1
		case b == "en":
			return 1
		}
		return strings.Compare(a, b)
	})
	out := make([]DocumentLanguage, len(langs))
	for i, l := range langs {
		out[i] = DocumentLanguage{Language: l, People: c.Languages[l], Available: d.HasNoticeText(l)}
	}
	return out
}
