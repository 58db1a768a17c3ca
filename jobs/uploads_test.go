package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
)

// TestUploadInterrupted follows an upload whose process dies after storing two batches: while its
// lease holds nothing closes it; once the lease is gone (its key deleted here, as expiry would)
// the sweep closes it once, with an upload.interrupted event whose counts are what the store
// holds; it keeps the list unfinished until an upload ends complete. The breach's next upload
// closes such an upload too.
func TestUploadInterrupted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.New(t)
	s := jobs.NewStore(rdb, jobs.WithEncryptionKey(make([]byte, jobs.KeySize)))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	start := func(id string) func() {
		t.Helper()
		u := breach.UploadStart{ID: id, Format: "text/csv", File: "people.csv", At: t0}
		stop, err := s.StartUpload(ctx, b.ID, u, breach.Event{Type: breach.EventUploadStarted, Actor: "key-admin-1", Role: breach.RoleAdmin,
			At: t0, Summary: "upload started", Data: map[string]any{"upload_id": id}})
		if err != nil {
			t.Fatal(err)
		}
		return stop
	}
	// The lease key's shape is a persisted contract (uploads.go); deleting it is what its expiry does.
	die := func(id string) {
		t.Helper()
		if err := rdb.Del(ctx, fmt.Sprintf("breachd:breach:{%s}:upload:%s:alive", b.ID, id)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	people := func(from, to int) []breach.Recipient {
		var rs []breach.Recipient
		for n := from; n < to; n++ {
			rs = append(rs, mixRecipient(n))
		}
		return rs
	}

	stop := start("up_1")
	// Two batches: 100 new people read among 103 rows (3 rejected), then 50 of which 20 were kept already.
	if _, err := s.AddUploadRows(ctx, b.ID, "up_1", people(0, 100), breach.UploadStep{Rows: 103, Rejected: 3}); err != nil {
		t.Fatal(err)
	}
	again := people(80, 130)
	for i := range again {
		again[i].ID = fmt.Sprintf("rc_x%025d", i)
	}
	dups, err := s.AddUploadRows(ctx, b.ID, "up_1", again, breach.UploadStep{Rows: 50})
	if err != nil || len(dups) != 20 {
		t.Fatalf("second batch: %d duplicates, %v", len(dups), err)
	}
	stop() // the process stops renewing; its lease still holds
	if n, err := s.CloseAllInterruptedUploads(ctx); err != nil || n != 0 {
		t.Fatalf("closed %d uploads whose lease holds (%v)", n, err)
	}
	if un, err := s.UnfinishedUploads(ctx, b.ID); err != nil || len(un) != 1 || !un[0].Open || un[0].Accepted != 130 {
		t.Fatalf("unfinished while open: %+v, %v", un, err)
	}
	die("up_1")
	if n, err := s.CloseAllInterruptedUploads(ctx); err != nil || n != 1 {
		t.Fatalf("closed %d interrupted uploads (%v), want 1", n, err)
	}
	if n, err := s.CloseAllInterruptedUploads(ctx); err != nil || n != 0 {
		t.Fatalf("closed an interrupted upload twice: %d (%v)", n, err)
	}
	counts, err := s.RecipientCounts(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	ev := lastEvent(t, s, b.ID)
	want := map[string]any{"upload_id": "up_1", "format": "text/csv", "rows": float64(153),
		"accepted": float64(counts.Affected), "duplicates": float64(20), "rejected_rows": float64(3), "complete": false}
	// The file name is free text that may name a person: only in the sealed private part.
	if ev.Type != breach.EventUploadInterrupted || fmt.Sprint(ev.Data) != fmt.Sprint(want) || ev.Private["file"] != "people.csv" ||
		strings.Contains(ev.Summary, "people.csv") {
		t.Fatalf("last event %s %v %v %q, want upload.interrupted %v, file people.csv in private only", ev.Type, ev.Data, ev.Private, ev.Summary, want)
	}
	if counts.Affected != 130 {
		t.Errorf("%d people stored, want 130", counts.Affected)
	}
	t.Logf("%s", ev.Summary)
	un, err := s.UnfinishedUploads(ctx, b.ID)
	if err != nil || len(un) != 1 || un[0].Open || un[0].ID != "up_1" || un[0].Accepted != 130 || un[0].File != "people.csv" {
		t.Fatalf("unfinished after the close: %+v, %v", un, err)
	}

	// The next upload of the breach closes an interrupted one before it starts.
	start("up_2")()
	die("up_2")
	stop = start("up_3")
	defer stop()
	if ev := lastEvent(t, s, b.ID); ev.Type != breach.EventUploadStarted {
		t.Fatalf("last event %s", ev.Type)
	}
	if un, err := s.UnfinishedUploads(ctx, b.ID); err != nil || len(un) != 3 || un[0].ID != "up_1" || un[2].ID != "up_3" || !un[2].Open || un[1].Open {
		t.Fatalf("unfinished: %+v, %v", un, err)
	}
	// An upload that ends complete: nothing is unfinished any more.
	finished := func(bb *breach.Breach) (breach.Event, error) {
		bb.UpdatedAt = time.Now()
		return breach.Event{Type: breach.EventRecipientsUploaded, Actor: "key-admin-1", Role: breach.RoleAdmin, Summary: "uploaded"}, nil
	}
	if err := s.FinishUpload(ctx, b.ID, "up_3", true, finished); err != nil {
		t.Fatal(err)
	}
	if un, err := s.UnfinishedUploads(ctx, b.ID); err != nil || len(un) != 0 {
		t.Fatalf("unfinished after a complete upload: %+v, %v", un, err)
	}
	if n, err := s.CloseAllInterruptedUploads(ctx); err != nil || n != 0 {
		t.Fatalf("closed %d after every upload ended (%v)", n, err)
	}
}

// lastEvent is the newest event of the breach.
func lastEvent(t *testing.T, s *jobs.Store, id string) breach.Event {
	t.Helper()
	var last breach.Event
	for cursor := ""; ; {
		evs, next, err := s.Events(context.Background(), id, cursor, 200)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) > 0 {
			last = evs[len(evs)-1]
		}
		if next == "" {
			return last
		}
		cursor = next
	}
}
