package jobs_test

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
)

// Upload affected people twice (the second time adds nothing), then count and list them.
func ExampleStore_AddRecipients() {
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
	b := &breach.Breach{ID: "br_01JNMZ1ZK8V6Q1W9YB4D4C3E2F", Status: breach.StatusOpen, DeterminationVersion: 1,
		Determination: breach.Determination{DiscoveredOn: breach.MustDate("2026-03-01")},
		CreatedAt:     now, CreatedBy: "key-admin", UpdatedAt: now}
	if err := s.CreateBreach(ctx, b, breach.Event{Type: breach.EventBreachCreated, Actor: "key-admin",
		Role: breach.RoleAdmin, At: now, Summary: "breach recorded"}); err != nil {
		panic(err)
	}

	rows := []breach.Recipient{
		{ID: "rc_01JNMZ2000000000000000000A", Row: 1, ExternalID: "S-1001", FirstName: "Hồng", LastName: "Nguyễn Thị",
			Address:     breach.PostalAddress{Line1: "4120 N Keystone Ave", City: "Indianapolis", State: "IN", PostalCode: "46205"},
			DateOfBirth: breach.MustDate("2012-04-09"), PreferredChannel: breach.PreferMail, Language: "vi"},
		{ID: "rc_01JNMZ2000000000000000000B", Row: 2, ExternalID: "S-1004", FirstName: "Ana", LastName: "Ruiz",
			PreferredChannel: breach.PreferMail, Language: "es"}, // no contact details at all
	}
	for upload := 1; upload <= 2; upload++ {
		dups, err := s.AddRecipients(ctx, b.ID, rows)
		if err != nil {
			panic(err)
		}
		fmt.Printf("upload %d: %d duplicates\n", upload, len(dups))
	}
	c, err := s.RecipientCounts(ctx, b.ID)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", c)
	noContact := false
	rs, next, err := s.Recipients(ctx, b.ID, breach.RecipientFilter{HasContact: &noContact})
	if err != nil {
		panic(err)
	}
	fmt.Println(rs[0].Name(), len(rs), next == "")
	// Output:
	// upload 1: 0 duplicates
	// upload 2: 2 duplicates
	// {Affected:2 IndianaResidents:1 InsufficientContact:1 Minors:1 Languages:map[es:1 vi:1]}
	// Ana Ruiz 1 true
}
