package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
)

// A store on the embedded Redis: record a breach, place a hold, and read the audit trail.
func ExampleStore() {
	addr, stop, err := jobs.StartEmbedded()
	if err != nil {
		panic(err)
	}
	defer stop()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	s := jobs.NewStore(rdb)
	ctx := context.Background()

	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	b := &breach.Breach{ID: "br_01JNMZ1ZK8V6Q1W9YB4D4C3E2F", Status: breach.StatusOpen,
		DeterminationVersion: 1, CreatedAt: now, CreatedBy: "key-admin", UpdatedAt: now}
	if err := s.CreateBreach(ctx, b, breach.Event{Type: breach.EventBreachCreated, Actor: "key-admin",
		Role: breach.RoleAdmin, At: now, Summary: "breach recorded"}); err != nil {
		panic(err)
	}

	_, err = s.UpdateBreach(ctx, b.ID, func(b *breach.Breach) (breach.Event, error) {
		if _, open := b.OpenHold(); open {
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "a hold is already open")
		}
		b.Holds = append(b.Holds, breach.Hold{ID: "hold_1", Agency: "State Police", StartDate: breach.MustDate("2026-03-02")})
		b.Status = breach.StatusHeld
		// Refer to people by ID only: events are not encrypted.
		return breach.Event{Type: breach.EventHoldPlaced, Actor: "key-admin", Role: breach.RoleAdmin,
			At: now.Add(time.Hour), Summary: "law-enforcement hold placed", Data: map[string]any{"hold_id": "hold_1"}}, nil
	})
	if err != nil {
		panic(err)
	}

	evs, _, err := s.Events(ctx, b.ID, "", 10)
	if err != nil {
		panic(err)
	}
	for _, ev := range evs {
		fmt.Println(ev.Type, ev.Summary)
	}
	_, err = s.Breach(ctx, "br_01JNMZ1ZK8V6Q1W9YB4D4C3E2G")
	var be *breach.Error
	fmt.Println(errors.As(err, &be), breach.ErrorCode(err))
	// Output:
	// breach.created breach recorded
	// hold.placed law-enforcement hold placed
	// true not_found
}
