package api

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

func (h *handlers) GetNoticeProof(ctx context.Context, req GetNoticeProofRequestObject) (GetNoticeProofResponseObject, error) {
	p, err := h.noticeProof(ctx, req.Nid)
	if err != nil {
		return nil, err
	}
	return GetNoticeProof200JSONResponse(p), nil
}

func (h *handlers) GetNoticeProofPDF(ctx context.Context, req GetNoticeProofPDFRequestObject) (GetNoticeProofPDFResponseObject, error) {
	if h.cfg.Proofs == nil {
		return nil, breach.Errorf(breach.EUNAVAILABLE, "proof documents are not configured")
	}
	p, err := h.noticeProof(ctx, req.Nid)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := h.cfg.Proofs.ProofOfNotice(ctx, &buf, p); err != nil {
		return nil, err
	}
	return GetNoticeProofPDF200ApplicationpdfResponse{Body: bytes.NewReader(buf.Bytes()), ContentLength: int64(buf.Len())}, nil
}

// noticeProof gathers the proof of one notice: the notice and its history, the people it covers
// (their upload rows), the plan's rule pack, deadline and channel conditions, and the notice's
// events in the breach's chain.
func (h *handlers) noticeProof(ctx context.Context, nid string) (breach.NoticeProof, error) {
	a, err := h.audit()
	if err != nil {
		return breach.NoticeProof{}, err
	}
	n, err := h.cfg.Notices.Notice(ctx, nid)
	if err != nil {
		return breach.NoticeProof{}, err
	}
	b, err := h.cfg.Store.Breach(ctx, n.BreachID)
	if err != nil {
		return breach.NoticeProof{}, err
	}
	pc, err := h.proofCaseOf(ctx, b)
	if err != nil {
		return breach.NoticeProof{}, err
	}
	chained, err := a.NoticeEvents(ctx, b.ID, n.ID)
	if err != nil {
		return breach.NoticeProof{}, err
	}
	people := make([]*breach.Recipient, 0, len(n.RecipientIDs))
	for _, rid := range n.RecipientIDs {
		r, err := h.cfg.Recipients.Recipient(ctx, b.ID, rid)
		if err != nil {
			return breach.NoticeProof{}, err
		}
		people = append(people, r)
	}
	return pc.proof(n, people, chained), nil
}

// proofCase is what the proofs of one breach's notices share: the breach and its plan, read once
// for a single proof or for the million of an evidence bundle.
type proofCase struct {
	b    *breach.Breach
	plan breach.Plan
	now  time.Time
	loc  *time.Location // the breach's zone, loaded once (LoadLocation reads the zone file)
}

func (h *handlers) proofCaseOf(ctx context.Context, b *breach.Breach) (*proofCase, error) {
	plan, _, err := h.planOf(ctx, b, breach.Date{})
	if err != nil {
		return nil, err
	}
	return h.newProofCase(b, plan), nil
}

// newProofCase is the proof case of a breach whose plan is already assessed (as of today).
func (h *handlers) newProofCase(b *breach.Breach, plan breach.Plan) *proofCase {
	return &proofCase{b: b, plan: plan, now: h.cfg.Now().UTC(), loc: b.Determination.Location()}
}

// proof assembles the proof of notice n from the people it covers (in n.RecipientIDs order) and
// its chained events, oldest first.
func (pc *proofCase) proof(n *breach.Notice, people []*breach.Recipient, chained []breach.ChainedEvent) breach.NoticeProof {
	b, plan := pc.b, pc.plan
	p := breach.NoticeProof{NoticeID: n.ID, BreachID: b.ID, GeneratedAt: pc.now, Channel: n.Channel,
		Status: n.Status, Language: n.Language, Substitute: n.Substitute, Deadline: plan.Deadline,
		Who:      breach.ProofWho{Addressee: n.AddresseeName, ToGuardian: n.ToGuardian, Children: n.Children, People: []breach.ProofPerson{}},
		Fallback: breach.ProofFallback{FallbackFor: n.FallbackFor, FallbackID: n.FallbackID},
		Items:    []breach.ProofItem{}}
	for _, r := range plan.Reasons {
		if r.Code == rules.CodeDeadline45Days {
			p.DeadlineCitation = r.Citation
		}
	}
	p.Route.RulePack = plan.RulePack
	for _, m := range plan.IndividualMethods {
		if m.Method == n.Channel {
			p.Route.Condition, p.Route.Citation = m.Condition, m.Citation
		}
	}
	var first *breach.Recipient
	for _, r := range people {
		if first == nil {
			first = r
		}
		p.Who.People = append(p.Who.People, breach.ProofPerson{RecipientID: r.ID, ExternalID: r.ExternalID, Name: r.Name(),
			Row: r.Row, Upload: breach.NotRecorded})
	}
	asOf := breach.DateOf(n.CreatedAt, pc.loc)
	p.Route.Codes = []string{}
	if first != nil {
		rt := rules.ChooseRoute(*first, asOf)
		if n.FallbackFor != "" {
			if fb, ok := rules.Fallback(*first, asOf); ok {
				rt = fb
			}
		}
		p.Route.Codes = rt.Codes
	}
	if n.Substitute {
		p.Route.Codes = append(p.Route.Codes, "substitute_email")
		p.Route.Condition = "The email part of the substitute notice: every affected person with an email address on file."
		for _, r := range plan.Reasons {
			if strings.HasPrefix(r.Code, "substitute") && r.Citation != "" {
				p.Route.Citation = r.Citation
				break
			}
		}
	}
	p.Contact = proofContact(n, first)
	p.Items = proofItems(n, chained)
	p.Disposition = disposition(n, p.Items)
	if len(chained) > 0 {
		p.ChainHead = chained[len(chained)-1].Hash
	}
	if b.Purged != nil {
		purgedProof(&p, breach.PurgedText(b.Purged.At))
	}
	return p
}

// purgedProof says, where a proof names a person or their contact, that the breach's personal
// data was purged.
func purgedProof(p *breach.NoticeProof, text string) {
	p.Who.Addressee = text
	if len(p.Who.Children) > 0 {
		p.Who.Children = []string{text}
	}
	for i := range p.Who.People {
		p.Who.People[i].Name = text
	}
	if p.Contact.Kind != "none" {
		p.Contact.Value = text
	}
}

// proofContact is the contact the notice used and the upload column it came from.
func proofContact(n *breach.Notice, r *breach.Recipient) breach.ProofContact {
	src := func(col string) string {
		if r == nil {
			return breach.NotRecorded
		}
		return fmt.Sprintf("upload row %d (recipient %s, external_id %s), column %s", r.Row, r.ID, r.ExternalID, col)
	}
	guardian := n.ToGuardian && r != nil
	switch n.Channel {
	case breach.MethodLetter:
		a := n.Address
		parts := slices.DeleteFunc([]string{a.Line1, a.Line2, a.City, a.State + " " + a.PostalCode}, func(s string) bool { return strings.TrimSpace(s) == "" })
		return breach.ProofContact{Kind: "postal_address", Value: strings.Join(parts, ", "),
			Source: src("address_line1, address_line2, city, state, postal_code")}
	case breach.MethodEmail:
		col := "email"
		if guardian && r.Guardian.Email == n.Email && n.Email != "" {
			col = "guardian_email"
		}
		return breach.ProofContact{Kind: "email", Value: n.Email, Source: src(col)}
	case breach.MethodPhone:
		col := "phone"
		if guardian && r.Guardian.Phone == n.Phone && n.Phone != "" {
			col = "guardian_phone"
		}
		return breach.ProofContact{Kind: "phone", Value: n.Phone, Source: src(col)}
	}
	return breach.ProofContact{Kind: "none", Value: "", Source: breach.NotRecorded}
}

// evidenceWanted is the provider evidence an auditor asks for, by event type and channel, that an
// event may not carry: what it lacks is listed as not recorded. A notice sent before breachd
// recorded some of it says so, item by item.
func evidenceWanted(t breach.EventType, ch breach.Method, data map[string]any) []string {
	switch {
	case t == breach.EventNoticeSent && ch == breach.MethodEmail:
		if _, ok := data[breach.EvidenceSMTPReply]; ok {
			// The queue ID is read from the reply: a reply without one is the whole evidence.
			return []string{breach.EvidenceSMTPReply, breach.EvidenceMessageID}
		}
		return []string{breach.EvidenceSMTPReply, breach.EvidenceSMTPQueueID, breach.EvidenceMessageID}
	case t == breach.EventNoticeSent && ch == breach.MethodPhone:
		return []string{breach.EvidenceCallSID}
	case t == breach.EventCallStatus:
		return []string{breach.EvidenceCallSID, breach.EvidenceCallStatus}
	case t == breach.EventCallAttempt && data["by"] == "twilio":
		want := []string{breach.EvidenceCallSID, breach.EvidenceDuration, breach.EvidenceStatusCallbacks}
		if s, ok := data[breach.EvidenceCallStatus]; !ok || s == "completed" {
			// Only an answered call has an AnsweredBy; a busy line or no answer has none to record.
			want = append(want, breach.EvidenceAnsweredBy)
		}
		return want
	case t == breach.EventCallAttempt && data["outcome"] == string(breach.CallConversation):
		return []string{"parts_delivered"}
	case t == breach.EventNoticeMailed:
		return []string{"batch_id", "mailed_on"}
	}
	return nil
}

// proofItems lists the notice's chained events in chain order, each with its evidence; a history
// entry of the notice with no chained event (deleted from the stream) is listed with position 0.
// Twilio's call.attempt lists the status callbacks of its call, each an item of its own.
func proofItems(n *breach.Notice, chained []breach.ChainedEvent) []breach.ProofItem {
	type entry struct {
		it   breach.ProofItem
		data map[string]any // the event's data, which says what evidence it should carry
	}
	entries := make([]entry, 0, len(chained)+len(n.History))
	matched := make([]bool, len(n.History))
	for _, ce := range chained {
		e := ce.Event
		it := breach.ProofItem{Type: e.Type, At: e.At, Actor: e.Actor, Role: e.Role, Summary: e.Summary,
			Evidence: evidence(e.Data, e.Private), EventID: e.ID, ChainPosition: ce.Position, EventHash: ce.Hash}
		for i, hi := range n.History {
			if !matched[i] && hi.Type == e.Type && hi.At.Equal(e.At) {
				matched[i] = true
				break
			}
		}
		entries = append(entries, entry{it, e.Data})
	}
	for i, hi := range n.History {
		if matched[i] {
			continue
		}
		it := breach.ProofItem{Type: hi.Type, At: hi.At, Actor: hi.Actor, Role: hi.Role, Summary: hi.Summary,
			Evidence: evidence(hi.Data, hi.Private), EventID: "", ChainPosition: 0, EventHash: "", NotRecorded: []string{"chained_event"}}
		entries = append(entries, entry{it, hi.Data})
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].it.At.Before(entries[j].it.At) })
	items := make([]breach.ProofItem, len(entries))
	for i, e := range entries {
		items[i] = e.it
	}
	statusCallbacks(items)
	for i, e := range entries {
		items[i].NotRecorded = append(missing(e.it.Type, n.Channel, e.data, items[i].Evidence), items[i].NotRecorded...)
	}
	if n.Channel == breach.MethodLetter && n.LetterSHA256 != "" {
		for i := range items {
			if items[i].Evidence["batch_id"] != "" {
				items[i].Evidence["letter_sha256"] = n.LetterSHA256
			}
		}
	}
	return items
}

// statusCallbacks gives each of Twilio's call.attempt items the list of its call's status
// callbacks (the call.status items with its call SID), in order, each with its status, time and
// chain position. A call.attempt without a call SID (recorded before breachd kept them)
// or whose call has no call.status item gets none.
func statusCallbacks(items []breach.ProofItem) {
	for _, it := range items {
		sid := it.Evidence[breach.EvidenceCallSID]
		if it.Type != breach.EventCallAttempt || it.Actor != "twilio" || sid == "" {
			continue
		}
		var cbs []string
		for _, cb := range items {
			if cb.Type != breach.EventCallStatus || cb.Evidence[breach.EvidenceCallSID] != sid {
				continue
			}
			place := "not in the chain"
			if cb.ChainPosition > 0 {
				place = fmt.Sprintf("#%d", cb.ChainPosition)
			}
			cbs = append(cbs, fmt.Sprintf("%s %s (%s)", cb.Evidence[breach.EvidenceCallStatus], cb.At.UTC().Format(time.RFC3339), place))
		}
		if len(cbs) > 0 {
			it.Evidence[breach.EvidenceStatusCallbacks] = strings.Join(cbs, "; ")
		}
	}
}

func missing(t breach.EventType, ch breach.Method, data map[string]any, ev map[string]string) []string {
	var out []string
	for _, k := range evidenceWanted(t, ch, data) {
		if _, ok := ev[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// evidence is an event's data as strings, without the notice lists (one queued event names a
// thousand notices), and its private text (the proof is for admins and auditors).
func evidence(data map[string]any, private map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range data {
		switch k {
		case "notice_ids", "notice_id":
			continue
		case "parts":
			k = "parts_delivered"
		}
		switch v := v.(type) {
		case string:
			out[k] = v
		case []any:
			s := make([]string, len(v))
			for i, x := range v {
				s[i] = fmt.Sprint(x)
			}
			out[k] = strings.Join(s, ", ")
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	for k, v := range private {
		out[k] = v
	}
	return out
}

// disposition says whether this notice gave notice, how and when.
func disposition(n *breach.Notice, items []breach.ProofItem) breach.ProofDisposition {
	at := func(types ...breach.EventType) *time.Time {
		for i := len(items) - 1; i >= 0; i-- {
			if slices.Contains(types, items[i].Type) {
				t := items[i].At
				return &t
			}
		}
		return nil
	}
	if breach.Delivered(n.Channel, n.Status) {
		d := breach.ProofDisposition{Given: true}
		switch n.Channel {
		case breach.MethodEmail:
			d.How, d.At = "email accepted by the mail server", at(breach.EventNoticeSent)
			for _, it := range items {
				if it.Type == breach.EventNoticeSent && it.Evidence[breach.EvidenceWrittenTo] == "outbox" {
					d.How = "email written to the outbox as an .eml file; no mail server took it, and breachd did not send it on"
				}
			}
			if d.At == nil && !n.SentAt.IsZero() {
				t := n.SentAt
				d.At = &t
			}
		case breach.MethodLetter:
			d.How, d.At = "letter mailed on "+n.MailedOn.String(), at(breach.EventNoticeMailed)
		case breach.MethodPhone:
			d.How, d.At = "telephone conversation with all five parts said", at(breach.EventNoticeDelivered, breach.EventCallAttempt)
		}
		d.Text = "Notice was given: " + d.How + "."
		if n.Status == breach.NoticeReturned {
			d.Text += " The letter later came back undelivered; a mailed letter is notice given."
		}
		return d
	}
	d := breach.ProofDisposition{Given: false, How: "not given"}
	switch {
	case n.FallbackID != "":
		d.How, d.At = "replaced by letter "+n.FallbackID, at(breach.EventNoticeFallback, breach.EventNoticeFailed, breach.EventNoticeBounced)
		d.Text = "This notice did not give notice; the letter " + n.FallbackID + " replaces it (see its own proof)."
	case n.Status == breach.NoticeFailed:
		d.Text = "This notice failed and no letter could replace it (no postal address): the substitute notice must reach this person."
	default:
		d.Text = "Not given yet: the notice is " + string(n.Status) + "."
	}
	return d
}
