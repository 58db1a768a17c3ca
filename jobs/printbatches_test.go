package jobs_test

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
)

// slowPrinter prints nothing, slowly, so that two batches are made at the same time.
type slowPrinter struct{}

func (slowPrinter) PrintBatch(_ context.Context, _, _ io.Writer, _ *breach.Breach, _ breach.PrintBatch, ns []breach.Notice) (breach.PrintResult, error) {
	time.Sleep(50 * time.Millisecond)
	res := breach.PrintResult{Pages: len(ns), SHA256: "x", Letters: map[string]string{}, Rejected: map[string]string{}}
	for _, n := range ns {
		res.Letters[n.ID] = "h-" + n.ID
	}
	return res, nil
}

func (slowPrinter) PrintLetter(context.Context, io.Writer, *breach.Breach, breach.Notice, breach.Date) (string, error) {
	return "", nil
}

// TestPrintBatchesNeverShareLetters: two clerks making a batch at once never take the same letter;
// the second is told to try again.
func TestPrintBatchesNeverShareLetters(t *testing.T) {
	rdb := redistest.New(t)
	s := jobs.NewStore(rdb)
	ctx := context.Background()
	now := time.Date(2026, 3, 20, 15, 0, 0, 0, time.UTC)
	b := &breach.Breach{ID: "br_01JQ6Z8Y3T9V5K2M4N7P0R1S2T", Status: breach.StatusDispatched, DeterminationVersion: 1,
		Determination: breach.Determination{Title: "t", DiscoveredOn: breach.MustDate("2026-03-03"), DataElements: []breach.DataElement{breach.ElementSSN}},
		CreatedAt:     now, UpdatedAt: now}
	if err := s.CreateBreach(ctx, b, breach.Event{Type: breach.EventBreachCreated, Actor: "a", Role: breach.RoleAdmin, At: now, Summary: "s"}); err != nil {
		t.Fatal(err)
	}
	var ns []breach.Notice
	for i := range 5 {
		ns = append(ns, breach.Notice{ID: fmt.Sprintf("nt_%026d", i), BreachID: b.ID, Channel: breach.MethodLetter, RecipientIDs: []string{fmt.Sprintf("rc_%026d", i)},
			AddresseeName: "Ann Lee", Address: breach.PostalAddress{Line1: "1 Main St", City: "Carmel", State: "IN", PostalCode: "46032"}, Language: "en",
			Status: breach.NoticeQueued, CreatedAt: now, UpdatedAt: now})
	}
	if _, err := s.CreateNotices(ctx, b.ID, ns, breach.Actor{ID: "a", Role: breach.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	seq := 0
	var mu sync.Mutex
	room := jobs.NewPrintRoom(s, slowPrinter{}, func() time.Time { return now }, func() string {
		mu.Lock()
		defer mu.Unlock()
		seq++
		return fmt.Sprintf("pb_%026d", seq)
	})
	var wg sync.WaitGroup
	results := make([]error, 2)
	batches := make([]*breach.PrintBatch, 2)
	for i := range 2 {
		wg.Go(func() {
			batches[i], _, results[i] = room.Create(ctx, b, 10, breach.Actor{ID: "c", Role: breach.RoleClerk})
		})
	}
	wg.Wait()
	made, refused := 0, 0
	for i, err := range results {
		switch {
		case err == nil:
			made++
			if len(batches[i].NoticeIDs) != 5 {
				t.Errorf("batch took %d letters, want 5", len(batches[i].NoticeIDs))
			}
		case breach.ErrorCode(err) == breach.ECONFLICT:
			refused++
		default:
			t.Fatal(err)
		}
	}
	if made != 1 || refused != 1 {
		t.Fatalf("%d batches made, %d refused; want one each", made, refused)
	}
	// The lock is released: the next attempt finds no letter waiting (409), not a held lock.
	if _, _, err := room.Create(ctx, b, 10, breach.Actor{ID: "c", Role: breach.RoleClerk}); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Fatalf("third batch: %v", err)
	}
	if err := rdb.Get(ctx, "breachd:breach:{"+b.ID+"}:print-batches:lock").Err(); err == nil {
		t.Fatal("the lock outlived the batch")
	}
}
