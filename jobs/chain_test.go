package jobs_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
)

// testSigningKey is a fixed Ed25519 key for the chain tests.
var testSigningKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// chainedBreach stores a breach with n-1 more events after its creation and returns the store.
func chainedBreach(t testing.TB, n int) (*jobs.Store, *redis.Client, string) {
	t.Helper()
	rdb := redistest.New(t)
	s := jobs.NewStore(rdb, jobs.WithSigningKey(testSigningKey), jobs.WithEncryptionKey(bytes.Repeat([]byte{1}, 32)))
	ctx := context.Background()
	id := newID(1)
	if err := s.CreateBreach(ctx, newBreach(id), breach.Event{Type: breach.EventBreachCreated, Actor: "key-admin-1", Role: breach.RoleAdmin, Summary: "created"}); err != nil {
		t.Fatal(err)
	}
	addEvents(t, s, id, n-1)
	return s, rdb, id
}

func addEvents(t testing.TB, s *jobs.Store, id string, n int) {
	t.Helper()
	for i := range n {
		if _, err := s.UpdateBreach(context.Background(), id, func(b *breach.Breach) (breach.Event, error) {
			return breach.Event{Type: breach.EventObligationRecorded, Actor: "key-admin-1", Role: breach.RoleAdmin,
				Summary: fmt.Sprintf("step %d", i), Data: map[string]any{"step": i}, Private: map[string]string{"note": "Ava Smith called"}}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func eventsKey(id string) string { return "breachd:breach:{" + id + "}:events" }

// streamIDs returns the IDs of the breach's events, oldest first.
func streamIDs(t *testing.T, rdb *redis.Client, id string) []string {
	t.Helper()
	msgs, err := rdb.XRange(context.Background(), eventsKey(id), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	return ids
}

// rewriteStream replaces the stream with its entries, the one with ID edit changed by change (raw
// field/value pairs in stored order): XADD cannot edit, so an attacker deletes the stream and adds
// every entry back with its own ID.
func rewriteStream(t *testing.T, rdb *redis.Client, id, edit string, change func([]any) []any) {
	t.Helper()
	ctx := context.Background()
	res, err := rdb.Do(ctx, "XRANGE", eventsKey(id), "-", "+").Slice()
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, eventsKey(id)).Err(); err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		pair := r.([]any)
		eid, fields := pair[0].(string), pair[1].([]any)
		if eid == edit {
			fields = change(fields)
		}
		if err := rdb.Do(ctx, append([]any{"XADD", eventsKey(id), eid}, fields...)...).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

func verify(t *testing.T, s *jobs.Store, id string) breach.ChainVerification {
	t.Helper()
	v, err := s.VerifyChain(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestChainVerifiesUntouchedTrail(t *testing.T) {
	s, _, id := chainedBreach(t, 6)
	if _, err := s.Checkpoint(context.Background(), id, breach.CheckpointOnDemand); err != nil {
		t.Fatal(err)
	}
	v := verify(t, s, id)
	if !v.Verified || v.Events != 6 || v.Chained != 6 || v.FirstBad != nil || v.Checkpoints != 1 || v.CheckpointsVerified != 1 {
		t.Fatalf("verification = %+v, want 6 events, all chained, verified, 1 checkpoint verified", v)
	}
	// Chaining again adds nothing: it is idempotent.
	if n, err := s.Chain(context.Background(), id); err != nil || n != 0 {
		t.Fatalf("second Chain = %d, %v; want 0, nil", n, err)
	}
}

func TestChainFindsEditedEvent(t *testing.T) {
	s, rdb, id := chainedBreach(t, 6)
	if _, err := s.Chain(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	ids := streamIDs(t, rdb, id)
	rewriteStream(t, rdb, id, ids[2], func(f []any) []any {
		for i := 0; i+1 < len(f); i += 2 {
			if f[i] == "summary" {
				f[i+1] = "step 1 (nothing happened)"
			}
		}
		return f
	})
	v := verify(t, s, id)
	if v.Verified || v.FirstBad == nil || v.FirstBad.Position != 3 || v.FirstBad.EventID != ids[2] || !strings.Contains(v.FirstBad.Reason, "edited") {
		t.Fatalf("verification = %+v (first bad %+v), want the edited third event", v, v.FirstBad)
	}
}

func TestChainFindsDeletedEvent(t *testing.T) {
	s, rdb, id := chainedBreach(t, 6)
	if _, err := s.Chain(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	ids := streamIDs(t, rdb, id)
	for _, c := range []struct {
		name string
		del  int
	}{{"a middle event", 1}, {"the last event", 5}} {
		if err := rdb.XDel(context.Background(), eventsKey(id), ids[c.del]).Err(); err != nil {
			t.Fatal(err)
		}
		v := verify(t, s, id)
		if v.Verified || v.FirstBad == nil || v.FirstBad.Position != 2 || v.FirstBad.EventID != ids[1] || !strings.Contains(v.FirstBad.Reason, "deleted") {
			t.Fatalf("%s deleted: verification = %+v (first bad %+v), want position 2, %s deleted", c.name, v, v.FirstBad, ids[1])
		}
		if v.Chained != 6 {
			t.Fatalf("%s deleted: chained = %d, want 6", c.name, v.Chained)
		}
	}
}

// An attacker who can write Redis edits an event and recomputes the chain: the chain agrees with
// the stream, but not with the signed checkpoint.
func TestChainRewrittenChainFailsCheckpoint(t *testing.T) {
	s, rdb, id := chainedBreach(t, 4)
	ctx := context.Background()
	if _, err := s.Checkpoint(ctx, id, breach.CheckpointClose); err != nil {
		t.Fatal(err)
	}
	ids := streamIDs(t, rdb, id)
	rewriteStream(t, rdb, id, ids[1], func(f []any) []any { return append(f, "extra", "x") })
	if err := rdb.Del(ctx, "breachd:breach:{"+id+"}:events:chain").Err(); err != nil {
		t.Fatal(err)
	}
	v := verify(t, s, id) // chains the edited stream afresh
	if v.Verified || v.FirstBad == nil || v.FirstBad.Position != 4 || !strings.Contains(v.FirstBad.Reason, "checkpoint 1") || v.CheckpointsVerified != 0 {
		t.Fatalf("verification = %+v (first bad %+v), want checkpoint 1 at position 4 failing", v, v.FirstBad)
	}
}

func TestChainUnchainedBefore(t *testing.T) {
	s, rdb, id := chainedBreach(t, 3)
	ctx := context.Background()
	// A breach recorded before breachd chained events: no chain, no chain metadata.
	if err := rdb.Del(ctx, "breachd:breach:{"+id+"}:events:chain", "breachd:breach:{"+id+"}:events:chain:meta").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Chain(ctx, id); err != nil {
		t.Fatal(err)
	}
	addEvents(t, s, id, 2)
	v := verify(t, s, id)
	if v.Verified || v.UnchainedBefore == nil || v.UnchainedEvents != 3 || v.Chained != 2 || v.Events != 5 || v.FirstBad != nil {
		t.Fatalf("verification = %+v, want 3 unchained events (unchained_before set), 2 chained, not verified", v)
	}
	var buf bytes.Buffer
	if _, err := s.ExportChain(ctx, id, &buf); err != nil {
		t.Fatal(err)
	}
	if rep := breach.VerifyExport(&buf, testSigningKey.Public().(ed25519.PublicKey)); rep.Verified || rep.Line != 1 || !strings.Contains(rep.Reason, "not verified") {
		t.Fatalf("export of a partly unchained breach: %+v, want not verified at line 1", rep)
	}
}

// Writers and chainers run at once: every event ends up chained once, in order.
func TestChainConcurrentWritersAndChainers(t *testing.T) {
	s, _, id := chainedBreach(t, 1)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 15 {
				if _, err := s.UpdateBreach(ctx, id, func(b *breach.Breach) (breach.Event, error) {
					return breach.Event{Type: breach.EventObligationRecorded, Actor: "w", Role: breach.RoleAdmin, Summary: fmt.Sprintf("w%d-%d", w, i)}, nil
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := s.Chain(ctx, id); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	v := verify(t, s, id)
	if !v.Verified || v.Events != 61 || v.Chained != 61 {
		t.Fatalf("verification = %+v (first bad %+v), want 61 events chained and verified", v, v.FirstBad)
	}
}

func exportLines(t *testing.T, s *jobs.Store, id string) []string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := s.ExportChain(context.Background(), id, &buf); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

func TestChainExportVerifiesOffline(t *testing.T) {
	s, rdb, id := chainedBreach(t, 5)
	pub := testSigningKey.Public().(ed25519.PublicKey)
	lines := exportLines(t, s, id) // header, 5 events, checkpoint
	if len(lines) != 7 {
		t.Fatalf("export has %d lines, want 7:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	check := func(name string, ls []string, key ed25519.PublicKey, wantLine int, wantReason string) {
		t.Helper()
		rep := breach.VerifyExport(strings.NewReader(strings.Join(ls, "\n")+"\n"), key)
		if wantLine == 0 {
			if !rep.Verified || rep.Events != 5 {
				t.Fatalf("%s: %+v, want verified with 5 events", name, rep)
			}
			return
		}
		if rep.Verified || rep.Line != wantLine || !strings.Contains(rep.Reason, wantReason) {
			t.Fatalf("%s: %+v, want line %d: %q", name, rep, wantLine, wantReason)
		}
	}
	with := func(f func(ls []string) []string) []string { return f(append([]string(nil), lines...)) }
	check("untouched, pinned key", lines, pub, 0, "")
	check("untouched, the file's key", lines, nil, 0, "")
	check("edited event", with(func(ls []string) []string {
		ls[3] = strings.Replace(ls[3], "step 1", "step one", 1)
		return ls
	}), pub, 4, "edited")
	check("a line removed", with(func(ls []string) []string { return append(ls[:2], ls[3:]...) }), pub, 3, "position 3 where 2")
	check("two lines swapped", with(func(ls []string) []string { ls[2], ls[3] = ls[3], ls[2]; return ls }), pub, 3, "position 3 where 2")
	check("truncated before the checkpoint", lines[:4], pub, 5, "truncated")
	check("the last event dropped", with(func(ls []string) []string { return append(ls[:5], ls[6]) }), pub, 6, "truncated or padded")
	check("data after the checkpoint", append(with(func(ls []string) []string { return ls }), lines[2]), pub, 8, "after the signed checkpoint")
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	check("another key", lines, other.Public().(ed25519.PublicKey), 7, "another key")
	check("checkpoint altered", with(func(ls []string) []string {
		ls[6] = strings.Replace(ls[6], `"reason":"export"`, `"reason":"close"`, 1)
		return ls
	}), pub, 7, "does not verify")

	// A stored event edited in Redis shows in the next export at its line.
	ids := streamIDs(t, rdb, id)
	rewriteStream(t, rdb, id, ids[3], func(f []any) []any { return f[:len(f)-2] })
	check("edited in Redis", exportLines(t, s, id), pub, 5, "edited")
}

// Chaining indexes the events that name a notice, so a proof reads them without a scan.
func TestChainNoticeEvents(t *testing.T) {
	s, _, id := chainedBreach(t, 1)
	ctx := context.Background()
	for _, d := range []map[string]any{
		{"notice_ids": []string{"nt_A", "nt_B"}, "channel": "email"},
		{"notice_id": "nt_B", "channel": "email"},
		{"notice_id": "nt_A", "fallback_id": "nt_C"},
	} {
		if _, err := s.UpdateBreach(ctx, id, func(b *breach.Breach) (breach.Event, error) {
			return breach.Event{Type: breach.EventNoticeSent, Actor: "worker", Role: "system", Summary: "x", Data: d}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string][]int{}
	for _, nid := range []string{"nt_A", "nt_B", "nt_C", "nt_D"} {
		evs, err := s.NoticeEvents(ctx, id, nid)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if len(e.Hash) != 64 || e.Event.ID == "" {
				t.Fatalf("%s: event %+v has no hash or ID", nid, e)
			}
			got[nid] = append(got[nid], e.Position)
		}
	}
	want := map[string][]int{"nt_A": {2, 4}, "nt_B": {2, 3}, "nt_C": {4}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("positions = %v, want %v", got, want)
	}
}

// BenchmarkChain measures the chainer over events already written (each naming one notice, as
// the worker's events do): events chained per second.
func BenchmarkChain(b *testing.B) {
	s, rdb, id := chainedBreach(b, 1)
	ctx := context.Background()
	const n = 20000
	if _, err := s.Chain(ctx, id); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		pipe := rdb.Pipeline()
		for i := range n {
			pipe.XAdd(ctx, &redis.XAddArgs{Stream: eventsKey(id), Values: []any{"type", "notice.sent", "actor", "worker", "role", "system",
				"at", "2026-03-20T15:00:00Z", "summary", "Email notice accepted by the mail server",
				"data", fmt.Sprintf(`{"channel":"email","notice_id":"nt_%026d"}`, i)}})
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if got, err := s.Chain(ctx, id); err != nil || got != n {
			b.Fatalf("chained %d, %v", got, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}
