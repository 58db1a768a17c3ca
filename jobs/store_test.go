package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
)

var t0 = time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)

// newID returns the breach ID made at t0 plus n minutes (always the same one for n), so that IDs
// sort as n does.
func newID(n int) string {
	ms := ulid.Timestamp(t0.Add(time.Duration(n) * time.Minute))
	return "br_" + ulid.MustNew(ms, bytes.NewReader(make([]byte, 10))).String()
}

const reporterName = "Dana Whitfield"

func newBreach(id string) *breach.Breach {
	residents := 40
	return &breach.Breach{
		ID:     id,
		Status: breach.StatusOpen,
		Determination: breach.Determination{
			Jurisdiction:          "IN",
			Title:                 "Lost laptop with gradebook export",
			DiscoveredOn:          breach.MustDate("2026-03-01"),
			DataElements:          []breach.DataElement{breach.ElementSSN, breach.ElementName},
			RiskOfHarm:            breach.RiskLikely,
			AffectedCount:         42,
			IndianaResidents:      &residents,
			ContactInfoSufficient: true,
			Reporter: breach.Reporter{Name: reporterName, Role: "teacher",
				Email: "dana.whitfield@example.org", Phone: "+13175550123"},
		},
		DeterminationVersion: 1,
		Holds:                []breach.Hold{},
		CreatedAt:            t0,
		CreatedBy:            "key-admin-1",
		UpdatedAt:            t0,
	}
}

func createdEvent(b *breach.Breach) breach.Event {
	return breach.Event{Type: breach.EventBreachCreated, Actor: b.CreatedBy, Role: breach.RoleAdmin,
		At: b.CreatedAt, Summary: "breach recorded"}
}

func mustCreate(t *testing.T, s *jobs.Store, b *breach.Breach) {
	t.Helper()
	if err := s.CreateBreach(context.Background(), b, createdEvent(b)); err != nil {
		t.Fatalf("CreateBreach(%s): %v", b.ID, err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := breach.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (err %v), want %q", got, err, code)
	}
}

func wantInvalidField(t *testing.T, err error, field string) {
	t.Helper()
	wantCode(t, err, breach.EINVALID)
	var be *breach.Error
	errors.As(err, &be)
	if len(be.Fields) != 1 || be.Fields[0].Field != field {
		t.Fatalf("fields = %+v, want one on %q", be.Fields, field)
	}
}

func equalJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

func allEvents(t *testing.T, s *jobs.Store, id string) []breach.Event {
	t.Helper()
	evs, next, err := s.Events(context.Background(), id, "", jobs.MaxLimit)
	if err != nil || next != "" {
		t.Fatalf("Events(%s) = next %q, err %v", id, next, err)
	}
	return evs
}

func TestCreateAndGet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)

	got, err := s.Breach(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	equalJSON(t, "breach", got, b)

	evs := allEvents(t, s, b.ID)
	if len(evs) != 1 || evs[0].ID == "" {
		t.Fatalf("events = %+v, want the one created event with an ID", evs)
	}
	want := createdEvent(b)
	want.ID = evs[0].ID
	equalJSON(t, "event", evs[0], want)

	vs, err := s.DeterminationVersions(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	equalJSON(t, "versions", vs, []breach.DeterminationVersion{
		{Version: 1, Determination: b.Determination, RecordedAt: t0, RecordedBy: "key-admin-1"}})
}

func TestCreateDuplicateConflicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)

	other := newBreach(b.ID)
	other.Determination.Title = "something else"
	wantCode(t, s.CreateBreach(ctx, other, createdEvent(other)), breach.ECONFLICT)

	got, err := s.Breach(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Determination.Title != b.Determination.Title {
		t.Errorf("title = %q: the duplicate overwrote the record", got.Determination.Title)
	}
	if n := len(allEvents(t, s, b.ID)); n != 1 {
		t.Errorf("%d events, want 1: the duplicate appended an event", n)
	}
	all, _, err := s.Breaches(ctx, breach.BreachFilter{})
	if err != nil || len(all) != 1 {
		t.Errorf("Breaches = %d, %v; want 1", len(all), err)
	}
}

func TestCreateRefusesBadID(t *testing.T) {
	t.Parallel()
	s := jobs.NewStore(redistest.New(t))
	for _, id := range []string{"", "br_{x}", "br 1", string(make([]byte, 65))} {
		b := newBreach(id)
		wantInvalidField(t, s.CreateBreach(context.Background(), b, createdEvent(b)), "id")
	}
}

func TestUnknownBreachNotFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	for _, id := range []string{newID(0), "br_{bad}"} {
		_, err := s.Breach(ctx, id)
		wantCode(t, err, breach.ENOTFOUND)
		_, _, err = s.Events(ctx, id, "", 10)
		wantCode(t, err, breach.ENOTFOUND)
		_, err = s.DeterminationVersions(ctx, id)
		wantCode(t, err, breach.ENOTFOUND)
		called := false
		_, err = s.UpdateBreach(ctx, id, func(*breach.Breach) (breach.Event, error) {
			called = true
			return breach.Event{}, nil
		})
		wantCode(t, err, breach.ENOTFOUND)
		if called {
			t.Error("UpdateBreach called fn for an unknown breach")
		}
	}
}

func ids(bs []*breach.Breach) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.ID
	}
	return out
}

func TestBreachesNewestFirstPaged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	id := make([]string, 7)
	for i := range id {
		id[i] = newID(i)
	}
	// Created out of order: the order of the list is the IDs' (creation time), not insertion's.
	for _, i := range []int{3, 0, 6, 1, 5, 2, 4} {
		mustCreate(t, s, newBreach(id[i]))
	}
	// Breaches 1 and 4 come under a law-enforcement hold.
	for _, i := range []int{1, 4} {
		if _, err := s.UpdateBreach(ctx, id[i], func(b *breach.Breach) (breach.Event, error) {
			b.Status = breach.StatusHeld
			return breach.Event{Type: breach.EventHoldPlaced, Actor: "key-admin-1", Role: breach.RoleAdmin}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		name   string
		filter breach.BreachFilter
		pages  [][]string
	}{
		{"all, limit 3", breach.BreachFilter{Limit: 3}, [][]string{
			{id[6], id[5], id[4]}, {id[3], id[2], id[1]}, {id[0]}}},
		{"all, default limit", breach.BreachFilter{}, [][]string{
			{id[6], id[5], id[4], id[3], id[2], id[1], id[0]}}},
		{"limit 7 exactly, no empty next page", breach.BreachFilter{Limit: 7}, [][]string{
			{id[6], id[5], id[4], id[3], id[2], id[1], id[0]}}},
		{"held, limit 1", breach.BreachFilter{Status: breach.StatusHeld, Limit: 1}, [][]string{
			{id[4]}, {id[1]}}},
		{"open, limit 3", breach.BreachFilter{Status: breach.StatusOpen, Limit: 3}, [][]string{
			{id[6], id[5], id[3]}, {id[2], id[0]}}},
		{"closed: none", breach.BreachFilter{Status: breach.StatusClosed}, [][]string{{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.filter
			for i, want := range tc.pages {
				got, next, err := s.Breaches(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ids(got), want) {
					t.Fatalf("page %d = %v, want %v", i+1, ids(got), want)
				}
				last := i == len(tc.pages)-1
				if last && next != "" {
					t.Fatalf("last page %d has next cursor %q", i+1, next)
				}
				if !last && next != want[len(want)-1] {
					t.Fatalf("page %d next = %q, want its last ID", i+1, next)
				}
				f.Cursor = next
			}
		})
	}

	if got, _, err := s.Breaches(ctx, breach.BreachFilter{Status: "lost"}); err == nil {
		t.Fatalf("unknown status listed %v", ids(got))
	} else {
		wantInvalidField(t, err, "status")
	}
}

func TestMalformedCursorInvalid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	for _, c := range []string{"br_{x}", "not a cursor", "br_01J\n"} {
		_, _, err := s.Breaches(ctx, breach.BreachFilter{Cursor: c})
		wantInvalidField(t, err, "cursor")
	}
	for _, c := range []string{"abc", "1-2-3", "-1", "1-", "99999999999999999999-0", "+1-0", "18446744073709551615-18446744073709551615"} {
		_, _, err := s.Events(ctx, b.ID, c, 10)
		wantInvalidField(t, err, "cursor")
	}
}

func TestRevisedDeterminationKeepsVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	v1 := b.Determination

	revise := func(title, actor string, at time.Time) breach.Determination {
		t.Helper()
		got, err := s.UpdateBreach(ctx, b.ID, func(b *breach.Breach) (breach.Event, error) {
			b.Determination.Title = title
			// Changed in place: the kept version must not see this.
			b.Determination.DataElements[0] = breach.ElementMedical
			b.DeterminationVersion++
			b.UpdatedAt = at
			return breach.Event{Type: breach.EventDeterminationRevised, Actor: actor, Role: breach.RoleAdmin,
				At: at, Summary: "determination revised", Data: map[string]any{"version": b.DeterminationVersion}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got.Determination
	}
	t2, t3 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	v2 := revise("Second look", "key-admin-2", t2)
	v3 := revise("Third look", "key-admin-3", t3)
	if v1.DataElements[0] != breach.ElementSSN || v2.DataElements[0] != breach.ElementMedical {
		t.Fatalf("test setup: v1 %v, v2 %v", v1.DataElements, v2.DataElements)
	}

	vs, err := s.DeterminationVersions(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	equalJSON(t, "versions", vs, []breach.DeterminationVersion{
		{Version: 1, Determination: v1, RecordedAt: t0, RecordedBy: "key-admin-1"},
		{Version: 2, Determination: v2, RecordedAt: t2, RecordedBy: "key-admin-2"},
		{Version: 3, Determination: v3, RecordedAt: t3, RecordedBy: "key-admin-3"},
	})
	if vs[0].Determination.Title != "Lost laptop with gradebook export" || vs[1].Determination.Title != "Second look" ||
		vs[2].Determination.Title != "Third look" {
		t.Fatalf("titles %q %q %q", vs[0].Determination.Title, vs[1].Determination.Title, vs[2].Determination.Title)
	}

	got, err := s.Breach(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.DeterminationVersion != 3 || got.Determination.Title != "Third look" || !got.UpdatedAt.Equal(t3) {
		t.Fatalf("record = v%d %q updated %v", got.DeterminationVersion, got.Determination.Title, got.UpdatedAt)
	}
	evs := allEvents(t, s, b.ID)
	types := make([]breach.EventType, len(evs))
	for i, e := range evs {
		types[i] = e.Type
	}
	if !slices.Equal(types, []breach.EventType{breach.EventBreachCreated, breach.EventDeterminationRevised,
		breach.EventDeterminationRevised}) {
		t.Fatalf("event types %v", types)
	}
	// Data round-trips as JSON: numbers come back as float64.
	if evs[2].Data["version"] != float64(3) || evs[2].Actor != "key-admin-3" || !evs[2].At.Equal(t3) {
		t.Fatalf("last event %+v", evs[2])
	}
}

func TestUpdateFnErrorStoresNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)

	refusal := breach.Errorf(breach.ECONFLICT, "no open hold to release")
	got, err := s.UpdateBreach(ctx, b.ID, func(b *breach.Breach) (breach.Event, error) {
		b.Status = breach.StatusClosed
		b.DeterminationVersion++
		b.Determination.Title = "changed"
		return breach.Event{Type: breach.EventHoldReleased}, refusal
	})
	if got != nil || err != error(refusal) {
		t.Fatalf("UpdateBreach = %v, %v; want nil and fn's error as-is", got, err)
	}
	after, err := s.Breach(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	equalJSON(t, "record after refused update", after, b)
	if n := len(allEvents(t, s, b.ID)); n != 1 {
		t.Errorf("%d events, want 1", n)
	}
	if vs, err := s.DeterminationVersions(ctx, b.ID); err != nil || len(vs) != 1 {
		t.Errorf("versions = %d, %v; want 1", len(vs), err)
	}
	if closed, _, err := s.Breaches(ctx, breach.BreachFilter{Status: breach.StatusClosed}); err != nil || len(closed) != 0 {
		t.Errorf("closed list = %v, %v; want empty", ids(closed), err)
	}
}

func placeHold(hid string) func(b *breach.Breach) (breach.Event, error) {
	return func(b *breach.Breach) (breach.Event, error) {
		b.Holds = append(b.Holds, breach.Hold{ID: hid, Agency: "State Police", StartDate: breach.MustDate("2026-03-03")})
		b.Status = breach.StatusHeld
		return breach.Event{Type: breach.EventHoldPlaced, Actor: "key-admin-1", Role: breach.RoleAdmin,
			Summary: "hold placed", Data: map[string]any{"hold_id": hid}}, nil
	}
}

func holdIDs(b *breach.Breach) []string {
	var out []string
	for _, h := range b.Holds {
		out = append(out, h.ID)
	}
	slices.Sort(out)
	return out
}

func TestConcurrentUpdatesAllApplied(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)

	const n = 10
	var calls atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			hold := placeHold(fmt.Sprintf("hold-%02d", i))
			_, errs[i] = s.UpdateBreach(ctx, b.ID, func(b *breach.Breach) (breach.Event, error) {
				calls.Add(1)
				return hold(b)
			})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
	}
	got, err := s.Breach(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("hold-%02d", i))
	}
	if !slices.Equal(holdIDs(got), want) {
		t.Fatalf("holds = %v, want %v", holdIDs(got), want)
	}
	if evs := allEvents(t, s, b.ID); len(evs) != n+1 {
		t.Fatalf("%d events, want %d", len(evs), n+1)
	}
	t.Logf("%d updates called fn %d times", n, calls.Load())
}

// TestUpdateRetriesAfterConcurrentWrite makes the race happen on purpose: while the first attempt's
// fn runs, another writer changes the breach, so EXEC must fail and fn must run again on the
// fresh record.
func TestUpdateRetriesAfterConcurrentWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)

	var seen [][]string
	_, err := s.UpdateBreach(ctx, b.ID, func(cur *breach.Breach) (breach.Event, error) {
		seen = append(seen, holdIDs(cur))
		if len(seen) == 1 {
			if _, err := s.UpdateBreach(ctx, b.ID, placeHold("intruder")); err != nil {
				t.Errorf("inner update: %v", err)
			}
		}
		return placeHold("mine")(cur)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(seen, [][]string{nil, {"intruder"}}) {
		t.Fatalf("fn saw holds %v, want a first call on the old record and a second on the fresh one", seen)
	}
	got, err := s.Breach(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(holdIDs(got), []string{"intruder", "mine"}) {
		t.Fatalf("holds = %v", holdIDs(got))
	}
	if n := len(allEvents(t, s, b.ID)); n != 3 {
		t.Fatalf("%d events, want 3", n)
	}
}

func TestUpdateGivesUpWithConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	calls := 0
	_, err := s.UpdateBreach(ctx, b.ID, func(cur *breach.Breach) (breach.Event, error) {
		calls++
		// Every attempt loses: someone else always writes in between.
		if _, err := s.UpdateBreach(ctx, b.ID, placeHold(fmt.Sprintf("other-%d", calls))); err != nil {
			t.Errorf("inner update: %v", err)
		}
		return placeHold("mine")(cur)
	})
	wantCode(t, err, breach.ECONFLICT)
	if calls != 10 {
		t.Errorf("fn called %d times, want 10", calls)
	}
}

func TestEventsPaged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	for i := 1; i <= 5; i++ {
		if _, err := s.UpdateBreach(ctx, b.ID, placeHold(fmt.Sprintf("h%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	all := allEvents(t, s, b.ID)
	if len(all) != 6 {
		t.Fatalf("%d events, want 6", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Data["hold_id"] != fmt.Sprintf("h%d", i) {
			t.Fatalf("event %d data %v", i, all[i].Data)
		}
	}

	p1, next, err := s.Events(ctx, b.ID, "", 3)
	if err != nil {
		t.Fatal(err)
	}
	equalJSON(t, "page 1", p1, all[:3])
	if next != all[2].ID {
		t.Fatalf("page 1 next = %q, want %q", next, all[2].ID)
	}
	p2, next, err := s.Events(ctx, b.ID, next, 3)
	if err != nil {
		t.Fatal(err)
	}
	// The cursor is exclusive, and an exactly full last page has no next cursor.
	equalJSON(t, "page 2", p2, all[3:])
	if next != "" {
		t.Fatalf("page 2 next = %q, want none: nothing follows", next)
	}

	// A later event is found from the last ID seen.
	if _, err := s.UpdateBreach(ctx, b.ID, placeHold("h6")); err != nil {
		t.Fatal(err)
	}
	p3, next, err := s.Events(ctx, b.ID, p2[len(p2)-1].ID, 3)
	if err != nil || next != "" || len(p3) != 1 || p3[0].Data["hold_id"] != "h6" {
		t.Fatalf("page 3 = %+v, %q, %v", p3, next, err)
	}
}

func TestEncryptedAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.New(t)
	key := bytes.Repeat([]byte{7}, jobs.KeySize)
	s := jobs.NewStore(rdb, jobs.WithEncryptionKey(key))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	if _, err := s.UpdateBreach(ctx, b.ID, func(b *breach.Breach) (breach.Event, error) {
		b.DeterminationVersion++
		b.Determination.Title = "revised"
		return breach.Event{Type: breach.EventDeterminationRevised, Actor: "key-admin-1"}, nil
	}); err != nil {
		t.Fatal(err)
	}

	recKey := "breachd:breach:{" + b.ID + "}"
	raw, err := rdb.Get(ctx, recKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	kept, err := rdb.LRange(ctx, recKey+":determinations", 0, -1).Result()
	if err != nil || len(kept) != 1 {
		t.Fatalf("kept versions %d, %v", len(kept), err)
	}
	for what, v := range map[string][]byte{"record": raw, "kept version": []byte(kept[0])} {
		if v[0] != 0x01 {
			t.Errorf("%s starts with %#x, want the sealed-v1 prefix", what, v[0])
		}
		for _, pii := range []string{reporterName, "dana.whitfield@example.org", "+13175550123"} {
			if bytes.Contains(v, []byte(pii)) {
				t.Errorf("%s holds %q in the clear", what, pii)
			}
		}
	}

	got, err := s.Breach(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Determination.Reporter.Name != reporterName || got.Determination.Title != "revised" {
		t.Fatalf("read back %+v", got.Determination)
	}
	vs, err := s.DeterminationVersions(ctx, b.ID)
	if err != nil || len(vs) != 2 || vs[0].Determination.Reporter.Name != reporterName {
		t.Fatalf("versions %+v, %v", vs, err)
	}

	// The wrong key, or none, cannot read it; neither error is the caller's fault.
	for name, other := range map[string]*jobs.Store{
		"wrong key": jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{8}, jobs.KeySize))),
		"no key":    jobs.NewStore(rdb),
	} {
		if _, err := other.Breach(ctx, b.ID); err == nil {
			t.Errorf("%s: read the sealed record", name)
		} else {
			wantCode(t, err, breach.EINTERNAL)
		}
		if _, err := other.DeterminationVersions(ctx, b.ID); err == nil {
			t.Errorf("%s: read the sealed versions", name)
		}
	}

	// A sealed record moved under another breach's key does not open: the key is bound in.
	b2 := newBreach(newID(1))
	mustCreate(t, s, b2)
	if err := rdb.Set(ctx, "breachd:breach:{"+b2.ID+"}", raw, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Breach(ctx, b2.ID); err == nil {
		t.Error("a record sealed for one breach opened under another")
	}
}

func TestPlainRecordsWithoutKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.New(t)
	plain := jobs.NewStore(rdb)
	b := newBreach(newID(0))
	mustCreate(t, plain, b)
	raw, err := rdb.Get(ctx, "breachd:breach:{"+b.ID+"}").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if raw[0] != '{' || !bytes.Contains(raw, []byte(reporterName)) {
		t.Fatalf("plain record %.40q…", raw)
	}
	// A store given a key later still reads what was written before.
	sealed := jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{7}, jobs.KeySize)))
	got, err := sealed.Breach(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	equalJSON(t, "breach", got, b)
}

func TestParseEncryptionKey(t *testing.T) {
	t.Parallel()
	key := make([]byte, jobs.KeySize)
	for i := range key {
		key[i] = byte(i * 7)
	}
	for _, s := range []string{
		"00070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9",
		"AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=",
		"AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK-2vcTL0tk",
	} {
		got, err := jobs.ParseEncryptionKey(s)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("ParseEncryptionKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "short", "AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL", "zz"} {
		if _, err := jobs.ParseEncryptionKey(s); err == nil {
			t.Errorf("ParseEncryptionKey(%q) accepted", s)
		}
	}
}

// closedAddr returns a local address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestRedisDownUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: closedAddr(t), MaxRetries: -1, DialerRetries: 1,
		DialTimeout: time.Second})
	t.Cleanup(func() { rdb.Close() })
	s := jobs.NewStore(rdb)
	id := newID(0)
	b := newBreach(id)

	_, err1 := s.Breach(ctx, id)
	_, _, err2 := s.Breaches(ctx, breach.BreachFilter{})
	err3 := s.CreateBreach(ctx, b, createdEvent(b))
	_, err4 := s.UpdateBreach(ctx, id, placeHold("h"))
	_, _, err5 := s.Events(ctx, id, "", 10)
	_, err6 := s.DeterminationVersions(ctx, id)
	err7 := s.Ping(ctx)
	_, _, err8 := s.Persistence(ctx)
	for i, err := range []error{err1, err2, err3, err4, err5, err6, err7, err8} {
		wantCode(t, err, breach.EUNAVAILABLE)
		var op *net.OpError
		if !errors.As(err, &op) {
			t.Errorf("call %d: the cause is not kept for the log: %v", i+1, err)
		}
	}
	t.Logf("as logged: %v", err1)
}

func TestPing(t *testing.T) {
	t.Parallel()
	if err := jobs.NewStore(redistest.New(t)).Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestPersistence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.New(t)
	aof, snap, err := jobs.NewStore(rdb).Persistence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The documented test server runs with --save '' --appendonly no; any other server is
	// checked against what it says itself.
	wantAOF := configGet(t, rdb, "appendonly") == "yes"
	wantRDB := configGet(t, rdb, "save") != ""
	if aof != wantAOF || snap != wantRDB {
		t.Fatalf("Persistence = aof %v, rdb %v; server says %v, %v", aof, snap, wantAOF, wantRDB)
	}
	t.Logf("test server persistence: aof %v, rdb %v", aof, snap)
}

// configGet reads one server setting with a raw command (RESP2 answers a list, RESP3 a map).
func configGet(t *testing.T, rdb *redis.Client, param string) string {
	t.Helper()
	raw, err := rdb.Do(context.Background(), "CONFIG", "GET", param).Result()
	if err != nil {
		t.Fatalf("CONFIG GET %s: %v", param, err)
	}
	switch v := raw.(type) {
	case map[any]any:
		if s, ok := v[param].(string); ok {
			return s
		}
	case []any:
		if len(v) == 2 {
			if s, ok := v[1].(string); ok {
				return s
			}
		}
	}
	t.Fatalf("CONFIG GET %s answered %#v", param, raw)
	return ""
}

// TestNoCrossTalk checks the redistest promise the other tests rely on: two helpers get two
// databases.
func TestNoCrossTalk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := redistest.New(t), redistest.New(t)
	k := fmt.Sprintf("k%d", rand.Int())
	if err := a.Set(ctx, k, "a", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Exists(ctx, k).Result(); err != nil || n != 0 {
		t.Fatalf("second database sees the first's key: %d, %v", n, err)
	}
}

func TestUpdateRefusesVersionJump(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	for _, v := range []int{0, 3} {
		_, err := s.UpdateBreach(ctx, b.ID, func(b *breach.Breach) (breach.Event, error) {
			b.DeterminationVersion = v
			return breach.Event{Type: breach.EventDeterminationRevised}, nil
		})
		if err == nil {
			t.Fatalf("version 1 -> %d accepted", v)
		}
	}
	if vs, err := s.DeterminationVersions(ctx, b.ID); err != nil || len(vs) != 1 || len(allEvents(t, s, b.ID)) != 1 {
		t.Fatalf("versions %d, %v after refused updates", len(vs), err)
	}
}
