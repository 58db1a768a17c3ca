package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

// state is a stored breach with everything the law engine and the reports need about it now.
type state struct {
	b           *breach.Breach
	today       breach.Date
	rc          breach.RecipientCounts
	plan        breach.Plan
	counts      breach.NoticeCounts
	progress    breach.NoticeProgress // the one count of notices every answer and document gives
	obligations []breach.Obligation
	status      DeliveryStatus
	last        time.Time
}

// load reads a breach and assesses it as of today with its uploaded people and its notices.
func (h *handlers) load(ctx context.Context, id string) (*state, error) {
	b, err := h.cfg.Store.Breach(ctx, id)
	if err != nil {
		return nil, err
	}
	return h.loadBreach(ctx, b)
}

// loadBreach is load for a breach already read.
func (h *handlers) loadBreach(ctx context.Context, b *breach.Breach) (*state, error) {
	s := &state{b: b, today: h.todayFor(b)}
	var err error
	if s.plan, s.rc, err = h.planOf(ctx, b, s.today); err != nil {
		return nil, err
	}
	if s.counts, s.last, err = h.cfg.Notices.NoticeCounts(ctx, b.ID); err != nil {
		return nil, err
	}
	s.progress = s.counts.Progress(s.last)
	s.obligations = rules.Obligations(s.plan, b, s.progress)
	s.status = deliveryStatus(s)
	return s, nil
}

// deliveryStatus counts the notices and says whether every one went out by the deadline: met
// when none is outstanding and the last was delivered on or before the deadline; missed once the
// deadline has passed with notices outstanding (or none sent); open (nil) before that.
func deliveryStatus(s *state) DeliveryStatus {
	st := DeliveryStatus{AsOf: s.today, Counts: map[string]map[string]int{},
		Total: s.progress.Total, Done: s.progress.Given, Outstanding: s.progress.Outstanding}
	for ch, byStatus := range s.counts {
		st.Counts[string(ch)] = map[string]int{}
		for status, n := range byStatus {
			st.Counts[string(ch)][string(status)] = n
		}
	}
	d := s.plan.Deadline
	if d.IsZero() {
		return st
	}
	st.Deadline = &openapi_types.Date{Time: d.Time()}
	var met *bool
	switch {
	case st.Total > 0 && st.Outstanding == 0:
		v := !breach.DateOf(s.last, s.b.Determination.Location()).After(d)
		met = &v
	case s.today.After(d):
		met = new(bool)
	}
	st.DeadlineMet = met
	return st
}

func (h *handlers) GetSubstituteNotice(ctx context.Context, req GetSubstituteNoticeRequestObject) (GetSubstituteNoticeResponseObject, error) {
	s, err := h.load(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return GetSubstituteNotice200JSONResponse(substituteStatus(s.b, s.plan, s.rc)), nil
}

func substituteStatus(b *breach.Breach, plan breach.Plan, rc breach.RecipientCounts) SubstituteStatus {
	outlets := b.Substitute.Outlets
	if outlets == nil {
		outlets = []breach.MediaOutlet{}
	}
	audience, bp, reaches, reasons := rules.MediaReach(outlets)
	triggers := make([]string, len(plan.SubstituteNotice.Triggers))
	for i, t := range plan.SubstituteNotice.Triggers {
		triggers[i] = string(t)
	}
	return SubstituteStatus{Required: plan.SubstituteNotice.Required, Triggers: triggers, ReplacesIndividual: plan.SubstituteNotice.ReplacesIndividual,
		Website: b.Substitute.Website, Outlets: outlets, Audience: audience, ReachBasisPoints: bp, Reaches75Percent: reaches,
		Languages: documentLanguages(b.Determination, rc), Reasons: reasons}
}

func (h *handlers) GetWebsiteNoticeHTML(ctx context.Context, req GetWebsiteNoticeHTMLRequestObject) (GetWebsiteNoticeHTMLResponseObject, error) {
	b, err := h.cfg.Store.Breach(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	html, err := h.cfg.Documents.WebsiteNotice(b, deref(req.Params.Lang), true)
	if err != nil {
		return nil, err
	}
	return GetWebsiteNoticeHTML200TexthtmlResponse{Body: strings.NewReader(html), ContentLength: int64(len(html))}, nil
}

func (h *handlers) GetWebsiteNoticeText(ctx context.Context, req GetWebsiteNoticeTextRequestObject) (GetWebsiteNoticeTextResponseObject, error) {
	b, err := h.cfg.Store.Breach(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	text, err := h.cfg.Documents.WebsiteNotice(b, deref(req.Params.Lang), false)
	if err != nil {
		return nil, err
	}
	return GetWebsiteNoticeText200TextResponse(text), nil
}

func (h *handlers) GetMediaNotice(ctx context.Context, req GetMediaNoticeRequestObject) (GetMediaNoticeResponseObject, error) {
	b, err := h.cfg.Store.Breach(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := h.cfg.Documents.MediaNotice(ctx, &buf, b, deref(req.Params.Lang), h.today(b.Determination)); err != nil {
		return nil, err
	}
	return GetMediaNotice200ApplicationpdfResponse{Body: &buf, ContentLength: int64(buf.Len())}, nil
}

// notHeld refuses to record anything going out while a hold is open.
func notHeld(b *breach.Breach) error {
	if h, held := b.OpenHold(); held {
		return breach.Errorf(breach.ECONFLICT, "a law-enforcement hold (%s) is open: nothing may be published or sent until it is released", h.ID)
	}
	if b.Status == breach.StatusClosed {
		return breach.Errorf(breach.ECONFLICT, "breach %s is closed", b.ID)
	}
	return nil
}

func (h *handlers) RecordWebsitePosted(ctx context.Context, req RecordWebsitePostedRequestObject) (RecordWebsitePostedResponseObject, error) {
	actor := actorFrom(ctx)
	b, err := h.cfg.Store.UpdateBreach(ctx, req.Id, func(b *breach.Breach) (breach.Event, error) {
		if err := notHeld(b); err != nil {
			return breach.Event{}, err
		}
		w := b.Substitute.Website
		if !w.PostedAt.IsZero() && w.TakenDownAt.IsZero() {
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "the notice has been posted since %s", w.PostedAt.Format(time.RFC3339))
		}
		now := h.cfg.Now().UTC()
		b.Substitute.Website = breach.WebsitePosting{URL: deref(req.Body.Url), PostedAt: now, PostedBy: actor.ID}
		b.UpdatedAt = now
		return h.event(actor, breach.EventWebsitePosted, "substitute notice posted on the web site",
			map[string]any{"url": deref(req.Body.Url)}), nil
	})
	if err != nil {
		return nil, err
	}
	st, err := h.substituteNow(ctx, b)
	if err != nil {
		return nil, err
	}
	return RecordWebsitePosted200JSONResponse(st), nil
}

func (h *handlers) RecordWebsiteTakenDown(ctx context.Context, req RecordWebsiteTakenDownRequestObject) (RecordWebsiteTakenDownResponseObject, error) {
	actor := actorFrom(ctx)
	b, err := h.cfg.Store.UpdateBreach(ctx, req.Id, func(b *breach.Breach) (breach.Event, error) {
		w := &b.Substitute.Website
		if w.PostedAt.IsZero() || !w.TakenDownAt.IsZero() {
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "the notice is not posted")
		}
		now := h.cfg.Now().UTC()
		w.TakenDownAt, w.TakenDownBy = now, actor.ID
		b.UpdatedAt = now
		return h.event(actor, breach.EventWebsiteTakenDown, "substitute notice taken down from the web site",
			map[string]any{"posted_days": int(now.Sub(w.PostedAt).Hours() / 24)}), nil
	})
	if err != nil {
		return nil, err
	}
	st, err := h.substituteNow(ctx, b)
	if err != nil {
		return nil, err
	}
	return RecordWebsiteTakenDown200JSONResponse(st), nil
}

func (h *handlers) SetMediaOutlets(ctx context.Context, req SetMediaOutletsRequestObject) (SetMediaOutletsResponseObject, error) {
	actor := actorFrom(ctx)
	outlets := req.Body.Outlets
	var fe []breach.FieldError
	for i, o := range outlets {
		if strings.TrimSpace(o.Name) == "" {
			fe = append(fe, breach.FieldError{Field: fmt.Sprintf("outlets[%d].name", i), Reason: "is required"})
		}
		if slices.IndexFunc(outlets[:i], func(p breach.MediaOutlet) bool { return strings.EqualFold(p.Name, o.Name) }) >= 0 {
			fe = append(fe, breach.FieldError{Field: fmt.Sprintf("outlets[%d].name", i), Reason: "is listed twice"})
		}
		fe = append(fe, printable([2]string{fmt.Sprintf("outlets[%d].name", i), o.Name},
			[2]string{fmt.Sprintf("outlets[%d].kind", i), o.Kind})...)
	}
	if err := breach.InvalidFields(fe); err != nil {
		return nil, err
	}
	b, err := h.cfg.Store.UpdateBreach(ctx, req.Id, func(b *breach.Breach) (breach.Event, error) {
		if err := notHeld(b); err != nil {
			return breach.Event{}, err
		}
		b.Substitute.Outlets = outlets
		b.UpdatedAt = h.cfg.Now().UTC()
		audience, bp, reaches, _ := rules.MediaReach(outlets)
		return h.event(actor, breach.EventMediaOutlets, fmt.Sprintf("%d media outlets recorded: %d.%02d%% of Indiana", len(outlets), bp/100, bp%100),
			map[string]any{"outlets": len(outlets), "audience": audience, "reach_basis_points": bp, "reaches_75_percent": reaches}), nil
	})
	if err != nil {
		return nil, err
	}
	st, err := h.substituteNow(ctx, b)
	if err != nil {
		return nil, err
	}
	return SetMediaOutlets200JSONResponse(st), nil
}

// substituteNow is the substitute notice's status after a change, assessed as every plan is.
func (h *handlers) substituteNow(ctx context.Context, b *breach.Breach) (SubstituteStatus, error) {
	plan, rc, err := h.planOf(ctx, b, breach.Date{})
	return substituteStatus(b, plan, rc), err
}

func (h *handlers) ListAgencyNotices(ctx context.Context, req ListAgencyNoticesRequestObject) (ListAgencyNoticesResponseObject, error) {
	s, err := h.load(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return ListAgencyNotices200JSONResponse(agencyNotices(s.b, s.plan)), nil
}

// agencyNotices lists the three agencies, each with what was recorded for it.
func agencyNotices(b *breach.Breach, plan breach.Plan) AgencyNotices {
	items := make([]breach.AgencyNoticeRecord, 0, len(breach.Agencies))
	for _, a := range breach.Agencies {
		rec := breach.AgencyNoticeRecord{Agency: a}
		for _, r := range b.AgencyNotices {
			if r.Agency == a {
				rec = r
			}
		}
		items = append(items, rec)
	}
	return AgencyNotices{Required: plan.ConsumerReportingAgencies.Required, Items: items}
}

func (h *handlers) GetAgencyLetter(ctx context.Context, req GetAgencyLetterRequestObject) (GetAgencyLetterResponseObject, error) {
	s, err := h.load(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := h.cfg.Documents.AgencyDocument(ctx, &buf, breach.Agency(req.Agency), s.caseDocument(s.today)); err != nil {
		return nil, err
	}
	return GetAgencyLetter200ApplicationpdfResponse{Body: &buf, ContentLength: int64(buf.Len())}, nil
}

// caseDocument is what an agency document is written from: the same plan, progress and ledger
// every endpoint shows.
func (s *state) caseDocument(date breach.Date) breach.CaseDocument {
	return breach.CaseDocument{Breach: s.b, Plan: s.plan, Recipients: s.rc, Progress: s.progress, Obligations: s.obligations, Date: date}
}

func (h *handlers) RecordAgencyNoticeSent(ctx context.Context, req RecordAgencyNoticeSentRequestObject) (RecordAgencyNoticeSentResponseObject, error) {
	actor := actorFrom(ctx)
	agency := breach.Agency(req.Agency)
	// The evidence of what was sent: the document as it reads for the day it was sent, rendered
	// from the record as it stands now, and its SHA-256 kept with the record.
	s, err := h.load(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	var doc bytes.Buffer
	if !req.Body.SentOn.Before(s.b.Determination.DiscoveredOn) {
		if err := h.cfg.Documents.AgencyDocument(ctx, &doc, agency, s.caseDocument(req.Body.SentOn)); err != nil {
			return nil, err
		}
	}
	sum := sha256.Sum256(doc.Bytes())
	docHash := hex.EncodeToString(sum[:])
	// Kept before it is recorded as sent, so the evidence bundle holds the bytes the hash is of (a
	// document kept for a refused record is never listed).
	if h.cfg.Evidence != nil && doc.Len() > 0 {
		if _, err := h.cfg.Evidence.KeepDocument(ctx, s.b.ID, doc.Bytes()); err != nil {
			return nil, err
		}
	}
	b, err := h.cfg.Store.UpdateBreach(ctx, req.Id, func(b *breach.Breach) (breach.Event, error) {
		if err := notHeld(b); err != nil {
			return breach.Event{}, err
		}
		if req.Body.SentOn.Before(b.Determination.DiscoveredOn) || req.Body.SentOn.After(h.today(b.Determination)) {
			return breach.Event{}, breach.InvalidFields([]breach.FieldError{{Field: "sent_on", Reason: "must be between discovery and today"}})
		}
		for _, r := range b.AgencyNotices {
			if r.Agency == agency {
				return breach.Event{}, breach.Errorf(breach.ECONFLICT, "the notice to %s was recorded as sent on %s", agency, r.SentOn)
			}
		}
		now := h.cfg.Now().UTC()
		b.AgencyNotices = append(b.AgencyNotices, breach.AgencyNoticeRecord{Agency: agency, DocumentSHA256: docHash,
			SentOn: req.Body.SentOn, SentBy: actor.ID, SentAt: now})
		b.UpdatedAt = now
		return h.event(actor, breach.EventAgencyNoticeSent, "notice sent to "+string(agency)+" on "+req.Body.SentOn.String(),
			map[string]any{"agency": string(agency), "sent_on": req.Body.SentOn.String(), "document_sha256": docHash}), nil
	})
	if err != nil {
		return nil, err
	}
	plan, _, err := h.planOf(ctx, b, breach.Date{})
	if err != nil {
		return nil, err
	}
	return RecordAgencyNoticeSent200JSONResponse(agencyNotices(b, plan)), nil
}

func (h *handlers) CloseBreach(ctx context.Context, req CloseBreachRequestObject) (CloseBreachResponseObject, error) {
	actor := actorFrom(ctx)
	// The closure report prints the outcome and the waivers: refuse what it cannot print now, not
	// when an auditor downloads the report.
	texts := [][2]string{{"summary", req.Body.Summary}, {"lessons_learned", deref(req.Body.LessonsLearned)}}
	for i, w := range deref(req.Body.Waivers) {
		texts = append(texts, [2]string{fmt.Sprintf("waivers[%d].reason", i), w.Reason})
	}
	if err := breach.InvalidFields(printable(texts...)); err != nil {
		return nil, err
	}
	// The notice counters are read once; the breach's records are re-read in the transaction.
	s, err := h.load(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	b, err := h.cfg.Store.UpdateBreach(ctx, req.Id, func(b *breach.Breach) (breach.Event, error) {
		if b.Status == breach.StatusClosed {
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "breach %s was closed on %s", b.ID, b.Outcome.ClosedAt.Format(time.RFC3339))
		}
		if hd, held := b.OpenHold(); held {
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "a law-enforcement hold (%s) is open: release it before closing", hd.ID)
		}
		now := h.cfg.Now().UTC()
		waivers, open, err := openDuties(rules.Obligations(s.plan, b, s.progress), s.progress, deref(req.Body.Waivers), actor, now)
		if err != nil {
			return breach.Event{}, err
		}
		if open != nil {
			return breach.Event{}, &breach.Error{Code: breach.ECONFLICT, Open: open, Message: fmt.Sprintf(
				"%s open and %s not yet given: finish them, or close with a waiver and its reason for each",
				plural(len(open.Obligations), "obligation is", "obligations are"), plural(open.NoticesNotGiven, "notice is", "notices are"))}
		}
		b.Obligations = append(b.Obligations, waivers...)
		b.Outcome = &breach.Outcome{Summary: req.Body.Summary, LessonsLearned: deref(req.Body.LessonsLearned), ClosedAt: now, ClosedBy: actor.ID}
		b.Status, b.UpdatedAt = breach.StatusClosed, now
		if len(waivers) == 0 {
			return h.event(actor, breach.EventBreachClosed, "breach closed with its outcome report", nil), nil
		}
		data := make([]map[string]any, len(waivers))
		for i, w := range waivers {
			data[i] = map[string]any{"obligation": string(w.Obligation), "reason": w.Reason}
		}
		return h.event(actor, breach.EventBreachClosed, fmt.Sprintf("breach closed with duties open: %s waived",
			plural(len(waivers), "obligation", "obligations")), map[string]any{"waivers": data}), nil
	})
	if err != nil {
		return nil, err
	}
	h.checkpointClosed(ctx, b.ID)
	v, err := h.viewToday(ctx, b)
	if err != nil {
		return nil, err
	}
	return CloseBreach200JSONResponse(v), nil
}

func (h *handlers) GetClosureReport(ctx context.Context, req GetClosureReportRequestObject) (GetClosureReportResponseObject, error) {
	s, err := h.load(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	r, _, err := h.closureReport(ctx, s)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := h.cfg.Documents.ClosureReport(ctx, &buf, r); err != nil {
		return nil, err
	}
	return GetClosureReport200ApplicationpdfResponse{Body: &buf, ContentLength: int64(buf.Len())}, nil
}

// printable returns a field error for each {field, value} the letters cannot print (see
// breach.Printable): the closure report and the press release print these fields.
func printable(fields ...[2]string) []breach.FieldError {
	var fe []breach.FieldError
	for _, f := range fields {
		if reason := breach.UnprintableReason(f[1]); reason != "" {
			fe = append(fe, breach.FieldError{Field: f[0], Reason: reason})
		}
	}
	return fe
}
