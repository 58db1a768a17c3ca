package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

// BreachView is a breach as the API shows it: the record and its plan as of today, with an
// anonymous reporter's identity hidden from every role but admin.
type BreachView struct {
	*breach.Breach
	RecipientCounts breach.RecipientCounts `json:"recipient_counts"`
	Plan            breach.Plan            `json:"plan"`
}

// handlers implements StrictServerInterface. Each method translates between HTTP and the domain;
// decisions are made by package rules.
type handlers struct {
	cfg Config
}

var _ StrictServerInterface = (*handlers)(nil)

func (h *handlers) GetHealthz(context.Context, GetHealthzRequestObject) (GetHealthzResponseObject, error) {
	return GetHealthz200JSONResponse{Status: "ok"}, nil
}

func (h *handlers) GetReadyz(ctx context.Context, _ GetReadyzRequestObject) (GetReadyzResponseObject, error) {
	if err := h.cfg.Ready(ctx); err != nil {
		h.cfg.Logger.WarnContext(ctx, "not ready", "error", err.Error())
		p := newProblem(503, breach.EUNAVAILABLE, "the store cannot be reached; try again shortly")
		return GetReadyz503ApplicationProblemPlusJSONResponse{UnavailableApplicationProblemPlusJSONResponse(p)}, nil
	}
	res := GetReadyz200JSONResponse{Status: "ok"}
	if h.cfg.ReadyWarnings != nil {
		if w := h.cfg.ReadyWarnings(ctx); len(w) > 0 {
			res.Warnings = &w
		}
	}
	return res, nil
}

func (h *handlers) GetMetrics(context.Context, GetMetricsRequestObject) (GetMetricsResponseObject, error) {
	families, err := h.cfg.Registry.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather metrics: %w", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return nil, fmt.Errorf("encode metrics: %w", err)
		}
	}
	return GetMetrics200TextResponse(buf.String()), nil
}

func (h *handlers) GetOpenAPI(context.Context, GetOpenAPIRequestObject) (GetOpenAPIResponseObject, error) {
	return GetOpenAPI200ApplicationyamlResponse{Body: bytes.NewReader(breach.OpenAPI), ContentLength: int64(len(breach.OpenAPI))}, nil
}

// today is the calendar date now in the determination's time zone.
func (h *handlers) today(d breach.Determination) breach.Date {
	return breach.DateOf(h.cfg.Now(), d.Location())
}

// todayFor is today in the breach's zone, never before its discovery (a server clock in another
// zone can be a day behind): a plan cannot be made before the breach is discovered.
func (h *handlers) todayFor(b *breach.Breach) breach.Date {
	today := h.today(b.Determination)
	if today.Before(b.Determination.DiscoveredOn) {
		return b.Determination.DiscoveredOn
	}
	return today
}

// planOf is the one way a stored breach is assessed: as of asOf (zero: today), with the people
// uploaded (their counts replace the estimates) and the substitute notice recorded.
func (h *handlers) planOf(ctx context.Context, b *breach.Breach, asOf breach.Date) (breach.Plan, breach.RecipientCounts, error) {
	if asOf.IsZero() {
		asOf = h.todayFor(b)
	}
	counts, err := h.cfg.Recipients.RecipientCounts(ctx, b.ID)
	if err != nil {
		return breach.Plan{}, counts, err
	}
	if err := notBeforeDiscovery(b.Determination, asOf, "as_of"); err != nil {
		return breach.Plan{}, counts, err
	}
	plan, err := rules.AssessBreach(b, counts, asOf)
	return plan, counts, err
}

// assess runs the law engine, first refusing an as-of date before discovery.
func assess(d breach.Determination, holds []breach.Hold, asOf breach.Date, asOfField string) (breach.Plan, error) {
	if err := notBeforeDiscovery(d, asOf, asOfField); err != nil {
		return breach.Plan{}, err
	}
	return rules.Assess(d, holds, asOf)
}

// notBeforeDiscovery refuses an as-of date before the breach was discovered.
func notBeforeDiscovery(d breach.Determination, asOf breach.Date, asOfField string) error {
	if asOf.Before(d.DiscoveredOn) && strings.HasSuffix(asOfField, "discovered_on") {
		// asOf is today: it is the discovery that is wrong, not the day.
		return breach.InvalidFields([]breach.FieldError{{Field: asOfField,
			Reason: fmt.Sprintf("is in the future (today is %s in the breach's time zone)", asOf)}})
	}
	if asOf.Before(d.DiscoveredOn) {
		return breach.InvalidFields([]breach.FieldError{{Field: asOfField,
			Reason: fmt.Sprintf("is before discovered_on (%s): a plan cannot be made before the breach is discovered", d.DiscoveredOn)}})
	}
	return nil
}

func (h *handlers) CreateAssessment(_ context.Context, req CreateAssessmentRequestObject) (CreateAssessmentResponseObject, error) {
	d := req.Body.Determination
	if err := breach.InvalidFields(d.Validate("determination.")); err != nil {
		return nil, err
	}
	var holds []breach.Hold
	if req.Body.Holds != nil {
		holds = *req.Body.Holds
	}
	asOf := h.today(d)
	if req.Body.AsOf != nil {
		asOf = *req.Body.AsOf
	}
	plan, err := assess(d, holds, asOf, "as_of")
	if err != nil {
		return nil, err
	}
	return CreateAssessment200JSONResponse(plan), nil
}

func (h *handlers) CreateBreach(ctx context.Context, req CreateBreachRequestObject) (CreateBreachResponseObject, error) {
	d := req.Body.Determination
	if err := breach.InvalidFields(d.Validate("determination.")); err != nil {
		return nil, err
	}
	now := h.cfg.Now().UTC()
	plan, err := assess(d, nil, breach.DateOf(now, d.Location()), "determination.discovered_on")
	if err != nil {
		return nil, err
	}
	actor := actorFrom(ctx)
	b := &breach.Breach{
		ID:                   h.cfg.NewID("br"),
		Status:               breach.StatusOpen,
		Determination:        d,
		DeterminationVersion: 1,
		Holds:                []breach.Hold{},
		CreatedAt:            now,
		CreatedBy:            actor.ID,
		UpdatedAt:            now,
	}
	ev := h.event(actor, breach.EventBreachCreated, "breach recorded (determination version 1)", map[string]any{
		"determination_version": 1,
		"notification_required": plan.NotificationRequired,
		"deadline":              dateOrNil(plan.Deadline),
	})
	if err := h.cfg.Store.CreateBreach(ctx, b, ev); err != nil {
		return nil, err
	}
	return CreateBreach201JSONResponse{
		Body:    h.view(ctx, b, plan),
		Headers: CreateBreach201ResponseHeaders{Location: "/v1/breaches/" + b.ID},
	}, nil
}

func (h *handlers) GetBreach(ctx context.Context, req GetBreachRequestObject) (GetBreachResponseObject, error) {
	b, err := h.cfg.Store.Breach(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	v, err := h.viewToday(ctx, b)
	if err != nil {
		return nil, err
	}
	return GetBreach200JSONResponse(v), nil
}

func (h *handlers) ListBreaches(ctx context.Context, req ListBreachesRequestObject) (ListBreachesResponseObject, error) {
	f := breach.BreachFilter{Limit: 50}
	if req.Params.Status != nil {
		f.Status = breach.Status(*req.Params.Status)
	}
	if req.Params.Limit != nil {
		f.Limit = *req.Params.Limit
	}
	if req.Params.Cursor != nil {
		f.Cursor = *req.Params.Cursor
	}
	list, next, err := h.cfg.Store.Breaches(ctx, f)
	if err != nil {
		return nil, err
	}
	items := make([]BreachSummary, len(list))
	for i, b := range list {
		items[i] = BreachSummary{
			Id:                   b.ID,
			Status:               BreachStatus(b.Status),
			Title:                b.Determination.Title,
			DiscoveredOn:         b.Determination.DiscoveredOn,
			DeterminationVersion: b.DeterminationVersion,
			CreatedAt:            b.CreatedAt,
			UpdatedAt:            b.UpdatedAt,
		}
	}
	return ListBreaches200JSONResponse{Items: items, NextCursor: stringOrNil(next)}, nil
}

func (h *handlers) ReviseDetermination(ctx context.Context, req ReviseDeterminationRequestObject) (ReviseDeterminationResponseObject, error) {
	d := *req.Body
	if err := breach.InvalidFields(d.Validate("")); err != nil {
		return nil, err
	}
	actor := actorFrom(ctx)
	b, err := h.cfg.Store.UpdateBreach(ctx, req.Id, func(b *breach.Breach) (breach.Event, error) {
		if b.Status == breach.StatusClosed {
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "breach %s is closed; its determination can no longer change", b.ID)
		}
		if fe := rules.ValidateHolds(d, b.Holds); len(fe) > 0 {
			return breach.Event{}, breach.InvalidFields([]breach.FieldError{{Field: "discovered_on",
				Reason: "is after the start of a recorded law-enforcement hold; a hold cannot start before discovery"}})
		}
		if _, err := assess(d, b.Holds, d.DiscoveredOn, "discovered_on"); err != nil {
			return breach.Event{}, err
		}
		changed := changedFields(b.Determination, d)
		from := b.DeterminationVersion
		b.Determination = d
		b.DeterminationVersion++
		b.UpdatedAt = h.cfg.Now().UTC()
		return h.event(actor, breach.EventDeterminationRevised,
			fmt.Sprintf("determination revised (version %d to %d)", from, b.DeterminationVersion),
			map[string]any{"from_version": from, "to_version": b.DeterminationVersion, "changed_fields": changed}), nil
	})
	if err != nil {
		return nil, err
	}
	v, err := h.viewToday(ctx, b)
	if err != nil {
		return nil, err
	}
	return ReviseDetermination200JSONResponse(v), nil
}

func (h *handlers) ListDeterminations(ctx context.Context, req ListDeterminationsRequestObject) (ListDeterminationsResponseObject, error) {
	versions, err := h.cfg.Store.DeterminationVersions(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	admin := actorFrom(ctx).Role == breach.RoleAdmin
	for i := range versions {
		if !admin {
			versions[i].Determination.Reporter = hideAnonymous(versions[i].Determination.Reporter)
		}
	}
	if versions == nil {
		versions = []breach.DeterminationVersion{}
	}
	return ListDeterminations200JSONResponse{Items: versions}, nil
}

func (h *handlers) GetPlan(ctx context.Context, req GetPlanRequestObject) (GetPlanResponseObject, error) {
	b, err := h.cfg.Store.Breach(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	var asOf breach.Date
	if req.Params.AsOf != nil {
		asOf = breach.DateOf(req.Params.AsOf.Time, time.UTC)
	}
	plan, _, err := h.planOf(ctx, b, asOf)
	if err != nil {
		return nil, err
	}
	return GetPlan200JSONResponse(plan), nil
}

func (h *handlers) PlaceHold(ctx context.Context, req PlaceHoldRequestObject) (PlaceHoldResponseObject, error) {
	actor := actorFrom(ctx)
	hold := breach.Hold{
		ID:        h.cfg.NewID("hd"),
		Agency:    req.Body.Agency,
		Contact:   deref(req.Body.Contact),
		Reason:    deref(req.Body.Reason),
		InWriting: req.Body.InWriting != nil && *req.Body.InWriting,
		StartDate: req.Body.StartDate,
		PlacedBy:  actor.ID,
		PlacedAt:  h.cfg.Now().UTC(),
	}
	if err := breach.InvalidFields(printable([2]string{"agency", hold.Agency})); err != nil { // the closure report prints it
		return nil, err
	}
	b, err := h.cfg.Store.UpdateBreach(ctx, req.Id, func(b *breach.Breach) (breach.Event, error) {
		if b.Status == breach.StatusClosed {
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "breach %s is closed", b.ID)
		}
		if open, ok := b.OpenHold(); ok {
			return breach.Event{}, breach.Errorf(breach.ECONFLICT,
				"hold %s is already open; release it before placing another", open.ID)
		}
		holds := append(append([]breach.Hold{}, b.Holds...), hold)
		if fe := rules.ValidateHolds(b.Determination, holds); len(fe) > 0 {
			return breach.Event{}, breach.InvalidFields(bodyFields(fe, len(holds)-1))
		}
		b.Holds = holds
		if b.Status == breach.StatusOpen {
			b.Status = breach.StatusHeld
		}
		b.UpdatedAt = hold.PlacedAt
		return h.event(actor, breach.EventHoldPlaced, "law-enforcement hold placed: nothing may be sent while it is open",
			map[string]any{"hold_id": hold.ID, "agency": hold.Agency, "start_date": hold.StartDate.String(), "in_writing": hold.InWriting}), nil
	})
	if err != nil {
		return nil, err
	}
	v, err := h.viewToday(ctx, b)
	if err != nil {
		return nil, err
	}
	return PlaceHold201JSONResponse(v), nil
}

func (h *handlers) ReleaseHold(ctx context.Context, req ReleaseHoldRequestObject) (ReleaseHoldResponseObject, error) {
	actor := actorFrom(ctx)
	now := h.cfg.Now().UTC()
	b, err := h.cfg.Store.UpdateBreach(ctx, req.Id, func(b *breach.Breach) (breach.Event, error) {
		i := -1
		for j, hd := range b.Holds {
			if hd.ID == req.HoldId {
				i = j
			}
		}
		if i < 0 {
			return breach.Event{}, breach.Errorf(breach.ENOTFOUND, "hold %s not found on breach %s", req.HoldId, b.ID)
		}
		if !b.Holds[i].Open() {
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "hold %s was already released on %s", req.HoldId, b.Holds[i].EndDate)
		}
		holds := append([]breach.Hold{}, b.Holds...)
		holds[i].EndDate = req.Body.EndDate
		holds[i].ReleasedBy = actor.ID
		holds[i].ReleasedAt = now
		if fe := rules.ValidateHolds(b.Determination, holds); len(fe) > 0 {
			return breach.Event{}, breach.InvalidFields(bodyFields(fe, i))
		}
		b.Holds = holds
		if _, stillHeld := b.OpenHold(); !stillHeld && b.Status == breach.StatusHeld {
			b.Status = breach.StatusOpen
		}
		b.UpdatedAt = now
		return h.event(actor, breach.EventHoldReleased, "law-enforcement hold released",
			map[string]any{"hold_id": req.HoldId, "end_date": req.Body.EndDate.String()}), nil
	})
	if err != nil {
		return nil, err
	}
	v, err := h.viewToday(ctx, b)
	if err != nil {
		return nil, err
	}
	return ReleaseHold200JSONResponse(v), nil
}

func (h *handlers) ListEvents(ctx context.Context, req ListEventsRequestObject) (ListEventsResponseObject, error) {
	events, next, err := eventPage(ctx, req.Params.Limit, req.Params.Cursor,
		func(ctx context.Context, cursor string, limit int) ([]breach.Event, string, error) {
			return h.cfg.Store.Events(ctx, req.Id, cursor, limit)
		})
	if err != nil {
		return nil, err
	}
	return ListEvents200JSONResponse{Items: events, NextCursor: next}, nil
}

// eventPage reads the page of events a request asks for (50 by default) with read, never nil, each
// event's private text as the caller may see it (privateFor), and the cursor of the next page.
func eventPage(ctx context.Context, limit *Limit, cursor *Cursor,
	read func(ctx context.Context, cursor string, limit int) ([]breach.Event, string, error)) ([]breach.Event, *string, error) {
	n := 50
	if limit != nil {
		n = *limit
	}
	events, next, err := read(ctx, deref(cursor), n)
	if err != nil {
		return nil, nil, err
	}
	if events == nil {
		events = []breach.Event{}
	}
	for i := range events {
		events[i].Private = privateFor(ctx, events[i].Private)
	}
	return events, stringOrNil(next), nil
}

// privateFor is an event's private text (free text that may name a person) as the caller may see
// it: admins and auditors read it; others see that it exists, not what it says.
func privateFor(ctx context.Context, p map[string]string) map[string]string {
	if len(p) == 0 {
		return nil
	}
	if role := actorFrom(ctx).Role; role == breach.RoleAdmin || role == breach.RoleAuditor {
		return p
	}
	hidden := make(map[string]string, len(p))
	for k := range p {
		hidden[k] = "(withheld: readable by admins and auditors)"
	}
	return hidden
}

// viewToday assesses the stored breach as of today and shapes it for the caller's role.
func (h *handlers) viewToday(ctx context.Context, b *breach.Breach) (BreachView, error) {
	plan, counts, err := h.planOf(ctx, b, breach.Date{})
	if err != nil {
		return BreachView{}, fmt.Errorf("assess stored breach %s: %w", b.ID, err)
	}
	v := h.view(ctx, b, plan)
	v.RecipientCounts = counts
	return v, nil
}

func (h *handlers) view(ctx context.Context, b *breach.Breach, plan breach.Plan) BreachView {
	if actorFrom(ctx).Role != breach.RoleAdmin && b.Determination.Reporter.Anonymous {
		c := *b
		c.Determination.Reporter = hideAnonymous(c.Determination.Reporter)
		b = &c
	}
	if b.Holds == nil || b.AgencyNotices == nil || b.Substitute.Outlets == nil {
		c := *b
		if c.Holds == nil {
			c.Holds = []breach.Hold{}
		}
		if c.AgencyNotices == nil {
			c.AgencyNotices = []breach.AgencyNoticeRecord{}
		}
		if c.Substitute.Outlets == nil {
			c.Substitute.Outlets = []breach.MediaOutlet{}
		}
		b = &c
	}
	return BreachView{Breach: b, Plan: plan, RecipientCounts: breach.RecipientCounts{Languages: map[string]int{}}}
}

func (h *handlers) event(a breach.Actor, t breach.EventType, summary string, data map[string]any) breach.Event {
	return breach.Event{Type: t, Actor: a.ID, Role: a.Role, At: h.cfg.Now().UTC(), Summary: summary, Data: data}
}

// hideAnonymous keeps only the fact of anonymity: the reporter asked that their identity be protected.
func hideAnonymous(r breach.Reporter) breach.Reporter {
	if !r.Anonymous {
		return r
	}
	return breach.Reporter{Anonymous: true}
}

// changedFields names the determination fields that differ, for the audit trail (names, not values:
// values may be personal information).
func changedFields(old, new breach.Determination) []string {
	var a, b map[string]json.RawMessage
	oj, _ := json.Marshal(old)
	nj, _ := json.Marshal(new)
	_ = json.Unmarshal(oj, &a)
	_ = json.Unmarshal(nj, &b)
	changed := []string{}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[breach.Determination]()) {
		name, _, _ := bytes.Cut([]byte(f.Tag.Get("json")), []byte(","))
		if !bytes.Equal(a[string(name)], b[string(name)]) {
			changed = append(changed, string(name))
		}
	}
	return changed
}

// bodyFields rewrites the law engine's holds[i].x paths for a request whose body is hold i alone.
func bodyFields(fe []breach.FieldError, i int) []breach.FieldError {
	prefix := fmt.Sprintf("holds[%d].", i)
	out := make([]breach.FieldError, 0, len(fe))
	for _, f := range fe {
		if len(f.Field) > len(prefix) && f.Field[:len(prefix)] == prefix {
			f.Field = f.Field[len(prefix):]
		}
		out = append(out, f)
	}
	return out
}

func dateOrNil(d breach.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.String()
}

func stringOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
