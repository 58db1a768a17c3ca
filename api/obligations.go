package api

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

func (h *handlers) ListObligations(ctx context.Context, req ListObligationsRequestObject) (ListObligationsResponseObject, error) {
	s, err := h.load(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return ListObligations200JSONResponse(obligationList(s)), nil
}

func obligationList(s *state) ObligationList {
	open := 0
	for _, o := range s.obligations {
		if o.Status == breach.ObligationOpen {
			open++
		}
	}
	return ObligationList{BreachId: s.b.ID, AsOf: s.today, Open: open, Items: s.obligations}
}

func (h *handlers) RecordObligation(ctx context.Context, req RecordObligationRequestObject) (RecordObligationResponseObject, error) {
	actor := actorFrom(ctx)
	id := breach.ObligationID(req.Oid)
	status := breach.ObligationStatus(req.Body.Status)
	reason, evidence := strings.TrimSpace(deref(req.Body.Reason)), strings.TrimSpace(deref(req.Body.Evidence))
	if status != breach.ObligationDone && reason == "" {
		return nil, breach.InvalidFields([]breach.FieldError{{Field: "reason", Reason: fmt.Sprintf("is required to record %s", status)}})
	}
	// The closure report prints both.
	if err := breach.InvalidFields(printable([2]string{"reason", reason}, [2]string{"evidence", evidence})); err != nil {
		return nil, err
	}
	// The ledger depends on the notice counters, read once before the breach is updated; the
	// breach's own records are re-read in the transaction.
	s, err := h.load(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	b, err := h.cfg.Store.UpdateBreach(ctx, req.Id, func(b *breach.Breach) (breach.Event, error) {
		if b.Status == breach.StatusClosed {
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "breach %s is closed: a correction of its record is a new note, not a change to the ledger", b.ID)
		}
		current := itemOf(rules.Obligations(s.plan, b, s.progress), id)
		last, recorded := rules.LatestRecord(b, id)
		switch {
		case current.Status == breach.ObligationNotRequired:
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "%s is not required: %s", id, current.Reason)
		case recorded && last.Status == status:
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "%s was already recorded as %s on %s", id, status, last.At.Format(time.RFC3339))
		case status == breach.ObligationOpen && (!recorded || last.Status == breach.ObligationOpen):
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "%s has no record to withdraw", id)
		case status == breach.ObligationDone && !rules.ManualDone(id):
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "%s is not recorded as done by hand: %s", id, rules.HowToRecord(id))
		case status != breach.ObligationOpen && current.Status != breach.ObligationOpen:
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "%s is %s already: %s", id, current.Status, current.Reason)
		}
		now := h.cfg.Now().UTC()
		b.Obligations = append(b.Obligations, breach.ObligationRecord{Obligation: id, Status: status, Reason: reason,
			Evidence: evidence, By: actor.ID, At: now})
		b.UpdatedAt = now
		summary := map[breach.ObligationStatus]string{breach.ObligationDone: "recorded as done",
			breach.ObligationWaived: "waived", breach.ObligationOpen: "record withdrawn; open again"}[status]
		return h.event(actor, breach.EventObligationRecorded, fmt.Sprintf("%s: %s", current.Title, summary),
			map[string]any{"obligation": string(id), "status": string(status), "reason": reason, "evidence": evidence}), nil
	})
	if err != nil {
		return nil, err
	}
	plan, _, err := h.planOf(ctx, b, s.today)
	if err != nil {
		return nil, err
	}
	return RecordObligation200JSONResponse(itemOf(rules.Obligations(plan, b, s.progress), id)), nil
}

func itemOf(items []breach.Obligation, id breach.ObligationID) breach.Obligation {
	for _, o := range items {
		if o.ID == id {
			return o
		}
	}
	return breach.Obligation{ID: id}
}

// ListDueObligations walks every breach (only those not closed when open items are asked for) and
// returns the matching items, earliest due first.
func (h *handlers) ListDueObligations(ctx context.Context, req ListDueObligationsRequestObject) (ListDueObligationsResponseObject, error) {
	var want breach.ObligationStatus
	if req.Params.Status != nil {
		want = breach.ObligationStatus(*req.Params.Status)
	}
	var statuses []breach.Status // which breach indexes to walk
	if want == breach.ObligationOpen {
		statuses = []breach.Status{breach.StatusOpen, breach.StatusHeld, breach.StatusDispatched}
	} else {
		statuses = []breach.Status{""}
	}
	out := DueObligationList{}
	type item = struct {
		BreachId     string       `json:"breach_id"`
		BreachStatus BreachStatus `json:"breach_status"`
		BreachTitle  string       `json:"breach_title"`
		Obligation   Obligation   `json:"obligation"`
	}
	out.Items = []item{}
	for _, st := range statuses {
		cursor := ""
		for {
			page, next, err := h.cfg.Store.Breaches(ctx, breach.BreachFilter{Status: st, Cursor: cursor, Limit: 200})
			if err != nil {
				return nil, err
			}
			for _, b := range page {
				s, err := h.loadBreach(ctx, b)
				if err != nil {
					return nil, err
				}
				for _, o := range s.obligations {
					if want != "" && o.Status != want {
						continue
					}
					if req.Params.DueBefore != nil && (o.Due.IsZero() || o.Due.After(breach.DateOf(req.Params.DueBefore.Time, time.UTC))) {
						continue
					}
					out.Items = append(out.Items, item{BreachId: b.ID, BreachStatus: BreachStatus(b.Status), BreachTitle: b.Determination.Title, Obligation: o})
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	slices.SortStableFunc(out.Items, func(a, b item) int {
		da, db := a.Obligation.Due, b.Obligation.Due
		switch {
		case da.IsZero() && db.IsZero():
			return 0
		case da.IsZero():
			return 1
		case db.IsZero():
			return -1
		}
		return cmp.Compare(da.String(), db.String())
	})
	return ListDueObligations200JSONResponse(out), nil
}

// openDuties is what stands between a breach and its close: the open obligations not waived in
// the request, and the notices not yet given. It returns the waivers as records, or a 422 naming
// the waiver that is wrong.
func openDuties(items []breach.Obligation, progress breach.NoticeProgress, waivers []Waiver, actor breach.Actor, now time.Time) ([]breach.ObligationRecord, *breach.OpenDuties, error) {
	var fe []breach.FieldError
	waived := map[breach.ObligationID]string{}
	for i, w := range waivers {
		id := breach.ObligationID(w.Obligation)
		field := fmt.Sprintf("waivers[%d]", i)
		switch o := itemOf(items, id); {
		case strings.TrimSpace(w.Reason) == "":
			fe = append(fe, breach.FieldError{Field: field + ".reason", Reason: "is required: say why the duty is not done"})
		case waived[id] != "":
			fe = append(fe, breach.FieldError{Field: field + ".obligation", Reason: "is waived twice"})
		case o.Status != breach.ObligationOpen:
			fe = append(fe, breach.FieldError{Field: field + ".obligation", Reason: fmt.Sprintf("is not open (%s): only open duties are waived", o.Status)})
		default:
			waived[id] = strings.TrimSpace(w.Reason)
		}
	}
	if err := breach.InvalidFields(fe); err != nil {
		return nil, nil, err
	}
	var records []breach.ObligationRecord
	open := &breach.OpenDuties{Obligations: []breach.Obligation{}, NoticesNotGiven: rules.NoticesNotGiven(progress)}
	for _, o := range items {
		if o.Status != breach.ObligationOpen {
			continue
		}
		if r, ok := waived[o.ID]; ok {
			records = append(records, breach.ObligationRecord{Obligation: o.ID, Status: breach.ObligationWaived, Reason: r,
				By: actor.ID, At: now, AtClose: true})
			continue
		}
		open.Obligations = append(open.Obligations, o)
	}
	if len(open.Obligations) == 0 {
		return records, nil, nil
	}
	return records, open, nil
}

// plural writes "1 obligation is" or "3 obligations are".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
