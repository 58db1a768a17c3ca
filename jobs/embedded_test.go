package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
)

func startEmbedded(t *testing.T) (*redis.Client, func()) {
	t.Helper()
	addr, stop, err := jobs.StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close(); stop() })
	return rdb, stop
}

func TestEmbeddedExpiresKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, _ := startEmbedded(t)
	if err := rdb.Set(ctx, "short", "lived", 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(ctx, "short").Result(); n != 1 {
		t.Fatal("the key is gone at once")
	}
	// Poll rather than sleep a fixed time: the clock moves every 100ms.
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := rdb.Exists(ctx, "short").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a 300ms TTL had not expired after 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEmbeddedStop(t *testing.T) {
	t.Parallel()
	rdb, stop := startEmbedded(t)
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	stop()
	stop() // twice is fine
	s := jobs.NewStore(rdb)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	wantCode(t, s.Ping(ctx), breach.EUNAVAILABLE)
}

// TestStoreOnEmbedded runs the store's whole surface on miniredis: the no-REDIS_URL mode must work.
func TestStoreOnEmbedded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, _ := startEmbedded(t)
	s := jobs.NewStore(rdb)
	for i := range 4 {
		mustCreate(t, s, newBreach(newID(i)))
	}
	id := newID(2)
	for i := range 3 {
		if _, err := s.UpdateBreach(ctx, id, placeHold(fmt.Sprintf("h%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.UpdateBreach(ctx, id, func(b *breach.Breach) (breach.Event, error) {
		b.DeterminationVersion++
		return breach.Event{Type: breach.EventDeterminationRevised, Actor: "key-admin-2"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	page, next, err := s.Breaches(ctx, breach.BreachFilter{Limit: 3})
	if err != nil || len(page) != 3 || page[0].ID != newID(3) || next != newID(1) {
		t.Fatalf("page 1 = %v, %q, %v", ids(page), next, err)
	}
	page, next, err = s.Breaches(ctx, breach.BreachFilter{Limit: 3, Cursor: next})
	if err != nil || len(page) != 1 || page[0].ID != newID(0) || next != "" {
		t.Fatalf("page 2 = %v, %q, %v", ids(page), next, err)
	}
	held, _, err := s.Breaches(ctx, breach.BreachFilter{Status: breach.StatusHeld})
	if err != nil || len(held) != 1 || held[0].ID != id {
		t.Fatalf("held = %v, %v", ids(held), err)
	}
	evs, next, err := s.Events(ctx, id, "", 2)
	if err != nil || len(evs) != 2 || next != evs[1].ID {
		t.Fatalf("events page 1 = %d, %q, %v", len(evs), next, err)
	}
	evs, next, err = s.Events(ctx, id, next, 2)
	if err != nil || len(evs) != 2 || next != evs[1].ID || evs[1].Data["hold_id"] != "h2" {
		t.Fatalf("events page 2 = %+v, %q, %v", evs, next, err)
	}
	evs, next, err = s.Events(ctx, id, next, 2)
	if err != nil || len(evs) != 1 || next != "" || evs[0].Type != breach.EventDeterminationRevised {
		t.Fatalf("events page 3 = %+v, %q, %v", evs, next, err)
	}
	vs, err := s.DeterminationVersions(ctx, id)
	if err != nil || len(vs) != 2 || vs[1].RecordedBy != "key-admin-2" {
		t.Fatalf("versions = %+v, %v", vs, err)
	}
	// miniredis has no CONFIG: Persistence says it cannot tell.
	if _, _, err := s.Persistence(ctx); err == nil {
		t.Error("Persistence on miniredis gave an answer")
	}
}
