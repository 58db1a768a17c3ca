package letters

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	breach "github.com/breachd/breachd"
)

// ProofOfNotice writes one notice's proof (breach.NoticeProof) on one page: who was told and the
// people the notice covers with their upload rows, the contact and its source, the channel's rule
// and citation, the deadline, every event in order with its evidence, what was not recorded and
// its hash in the breach's chain, the fallback chain and the disposition. Times are UTC. When the
// events do not fit on one page the oldest and newest are kept and the page says how many are
// left out (the JSON proof has them all).
//
// It returns a *FieldError (EINVALID) naming the first field the font cannot print; errors from w
// and the context's error are returned wrapped.
func (d *Documents) ProofOfNotice(ctx context.Context, w io.Writer, p breach.NoticeProof) error {
	var lo *layout
	var err error
	// Fewer items until the page holds them: the page is one page.
	for keep := len(p.Items); ; keep-- {
		lo, err = d.layoutProof(p, keep)
		if err != nil {
			return err
		}
		if lo.pages == 1 || keep == 0 {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("proof of notice %s: %w", p.NoticeID, err)
	}
	pdf := d.r.newDoc("Proof of notice — "+p.NoticeID, "en", p.GeneratedAt)
	d.r.draw(pdf, lo)
	if _, err := output(pdf, ctxWriter{ctx, w}); err != nil {
		return fmt.Errorf("proof of notice %s: %w", p.NoticeID, err)
	}
	return nil
}

func (d *Documents) layoutProof(p breach.NoticeProof, keep int) (*layout, error) {
	ck := checker{face: d.r.regular}
	rep := newReport(d.r, ck, nil)
	c := rep.clean
	at := func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	section := func(s string) { rep.heading(s, 11) }

	rep.text(true, 16, repMarginL, "Proof of notice")
	rep.y += 22
	org := c("sender.organization", d.sender.Organization, false)
	rep.fields([][2]string{
		{"Notice", c("notice_id", p.NoticeID, false) + " · " + string(p.Channel) + " · " + string(p.Status)},
		{"Breach", c("breach_id", p.BreachID, false) + orEmpty(" · "+org, org)},
		{"Generated", at(p.GeneratedAt)},
	})

	section("Who was told")
	addressee := c("who.addressee", p.Who.Addressee, false)
	if p.Who.ToGuardian {
		addressee += " (parent or guardian of record)"
	}
	var people []string
	for i, pp := range p.Who.People {
		people = append(people, fmt.Sprintf("%s (%s, upload row %d; upload: %s)", c(fmt.Sprintf("who.people[%d].name", i), pp.Name, false),
			c(fmt.Sprintf("who.people[%d].external_id", i), pp.ExternalID, false), pp.Row, pp.Upload))
	}
	rep.fields([][2]string{
		{"Addressee", addressee},
		{"Affected people", orDash(strings.Join(people, "\n"))},
		{"Contact used", c("contact.value", p.Contact.Value, false) + " (" + strings.ReplaceAll(p.Contact.Kind, "_", " ") + ")"},
		{"Contact source", c("contact.source", p.Contact.Source, false)},
	})

	section("Why this channel, and by when")
	deadline := "none (not required, or a law-enforcement hold is open)"
	if !p.Deadline.IsZero() {
		deadline = p.Deadline.String() + orEmpty(" — "+p.DeadlineCitation, p.DeadlineCitation)
	}
	rep.fields([][2]string{
		{"Rule pack", p.Route.RulePack.ID + " version " + p.Route.RulePack.Version + " (" + p.Route.RulePack.Jurisdiction + ")"},
		{"Channel rule", orDash(strings.Join(p.Route.Codes, ", ")) + orEmpty(" — "+p.Route.Condition, p.Route.Condition)},
		{"Citation", orDash(p.Route.Citation)},
		{"Deadline", deadline},
	})

	section("Every attempt, in order")
	items, folded, left := proofRows(p.Items, keep)
	rows := make([][]string, 0, len(items))
	var types, actors, places []string
	for i, it := range items {
		types, actors = append(types, string(it.Type)), append(actors, it.Actor)
		keys := make([]string, 0, len(it.Evidence))
		for k, v := range it.Evidence {
			// What the row or the page says already: who did it, and the notice's channel.
			if (k == "by" && v == it.Actor) || (k == "channel" && v == string(p.Channel)) {
				continue
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var ev []string
		for _, k := range keys {
			ev = append(ev, k+": "+c(fmt.Sprintf("items[%d].evidence.%s", i, k), it.Evidence[k], false))
		}
		if len(it.NotRecorded) > 0 {
			ev = append(ev, "not recorded: "+strings.Join(it.NotRecorded, ", "))
		}
		hash := "not in the chain"
		if it.ChainPosition > 0 {
			hash = fmt.Sprintf("#%d %s…", it.ChainPosition, it.EventHash[:min(12, len(it.EventHash))])
		}
		places = append(places, hash)
		rows = append(rows, []string{it.At.UTC().Format("2006-01-02 15:04:05"), string(it.Type), c(fmt.Sprintf("items[%d].actor", i), it.Actor, false),
			orDash(strings.Join(ev, "\n")), hash}) // one "key: value" a line, never broken between the two
	}
	if len(rows) == 0 {
		rep.para("No event about this notice is in the chain.", false, repBodySize, repBodyLead, 0)
	} else {
		// The evidence (the SMTP reply, Twilio's callbacks) takes what the other columns leave.
		when, event, by := rep.fit([]string{"2006-01-02", "Time (UTC)"}, 0.13), rep.fit(types, 0.17), rep.fit(append(actors, "By"), 0.15)
		chain := rep.fit(append(places, "Chain position"), 0.19)
		rep.table([]column{{title: "Time (UTC)", width: when}, {title: "Event", width: event}, {title: "By", width: by},
			{title: "Evidence", width: 1 - when - event - by - chain}, {title: "Chain position and hash", width: chain}}, rows, nil)
	}
	if folded > 0 {
		rep.para(fmt.Sprintf("%s of Twilio (call.status events) %s on the call.attempt row with %s chain positions; the JSON proof (GET /v1/notices/%s/proof) lists each in full.",
			plural(folded, "status callback", "status callbacks"), pick(folded == 1, "is listed", "are listed"), pick(folded == 1, "its", "their"), p.NoticeID),
			false, repCellSize, repCellLead, 0)
	}
	if left > 0 {
		rep.para(fmt.Sprintf("%s left out to keep this proof on one page; the JSON proof (GET /v1/notices/%s/proof) lists every one.",
			plural(left, "event is", "events are"), p.NoticeID), false, repCellSize, repCellLead, 0)
	}

	section("Outcome")
	fallback := "—"
	switch {
	case p.Fallback.FallbackFor != "" && p.Fallback.FallbackID != "":
		fallback = "replaces " + p.Fallback.FallbackFor + "; replaced by " + p.Fallback.FallbackID
	case p.Fallback.FallbackFor != "":
		fallback = "this letter replaces notice " + p.Fallback.FallbackFor
	case p.Fallback.FallbackID != "":
		fallback = "replaced by letter " + p.Fallback.FallbackID
	}
	when := "—"
	if p.Disposition.At != nil {
		when = at(*p.Disposition.At)
	}
	given := "NOT GIVEN"
	if p.Disposition.Given {
		given = "GIVEN"
	}
	rep.fields([][2]string{
		{"Disposition", given + " — " + p.Disposition.Text},
		{"When", when},
		{"Fallback chain", fallback},
		{"Chain", "last event hash " + orDash(p.ChainHead) + ". Verify the breach's chain (GET /v1/breaches/" + p.BreachID +
			"/events/verify, or an export with breachd verify) to trust these hashes."},
	})
	if rep.err != nil {
		return nil, asDocument(rep.err, "proof of notice")
	}
	rep.footer("Proof of notice · " + p.NoticeID)
	rep.lo.round()
	return rep.lo, nil
}

// proofRows picks the keep items of a proof that its page shows, and says how many of the others
// are Twilio status callbacks folded into their call's call.attempt row (which lists them, with
// their chain positions) and how many are simply left out. Those callbacks go first; then the
// first two items (the notice's creation) and the newest are kept, what an auditor looks for first.
func proofRows(all []breach.ProofItem, keep int) (items []breach.ProofItem, folded, left int) {
	if keep >= len(all) {
		return all, 0, 0
	}
	listed := map[string]bool{} // call SIDs whose call.attempt lists its callbacks
	for _, it := range all {
		if it.Type == breach.EventCallAttempt && it.Evidence[breach.EvidenceStatusCallbacks] != "" {
			listed[it.Evidence[breach.EvidenceCallSID]] = true
		}
	}
	drop := len(all) - keep
	for _, it := range all {
		if drop > 0 && it.Type == breach.EventCallStatus && listed[it.Evidence[breach.EvidenceCallSID]] {
			folded++
			drop--
			continue
		}
		items = append(items, it)
	}
	if drop > 0 {
		head := min(2, keep)
		left = drop
		items = append(append([]breach.ProofItem{}, items[:head]...), items[len(items)-(keep-head):]...)
	}
	return items, folded, left
}

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// orEmpty is s when cond is not empty, else "".
func orEmpty(s, cond string) string {
	if cond == "" {
		return ""
	}
	return s
}
