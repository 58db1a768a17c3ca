package jobs_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
)

const benchBatch = 1000

// genRecipient is the n-th generated recipient: a realistic row (about 400 bytes of JSON), most
// in Indiana, some children with a guardian, a few without contact details.
func genRecipient(n int) breach.Recipient {
	r := breach.Recipient{
		ID: fmt.Sprintf("rc_%026d", n), Row: n + 1, ExternalID: fmt.Sprintf("S-%08d", n),
		FirstName: "Hồng", LastName: fmt.Sprintf("Nguyễn Thị %d", n),
		Address: breach.PostalAddress{Line1: fmt.Sprintf("%d N Keystone Ave", 100+n%9000), Line2: "Apt 3B",
			City: "Indianapolis", State: "IN", PostalCode: "46205"},
		Email: fmt.Sprintf("person%d@example.org", n), Phone: "+13175550111",
		PreferredChannel: breach.PreferMail, EmailCurrent: true, Language: "en",
		DateOfBirth: breach.NewDate(1990+n%30, time.Month(1+n%12), 1+n%28),
	}
	if n%2 == 0 {
		r.Guardian = breach.Guardian{Name: "Nguyễn Văn Minh", Email: "minh.nguyen@example.org", Phone: "+13175550112"}
	}
	if n%10 == 0 {
		r.Address.State = "OH"
	}
	if n%100 == 0 {
		r.Address, r.Email, r.Phone, r.Guardian = breach.PostalAddress{}, "", "", breach.Guardian{}
	}
	return r
}

// fillBatch makes dst the recipients first.. first+len(dst)-1.
func fillBatch(dst []breach.Recipient, first int) {
	for i := range dst {
		dst[i] = genRecipient(first + i)
	}
}

func benchStore(b *testing.B) (*jobs.Store, *redis.Client, string) {
	b.Helper()
	rdb := redistest.New(b)
	s := jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{7}, jobs.KeySize)))
	br := newBreach(newID(0))
	if err := s.CreateBreach(context.Background(), br, createdEvent(br)); err != nil {
		b.Fatal(err)
	}
	return s, rdb, br.ID
}

func reportRate(b *testing.B, recipients int) {
	b.ReportMetric(float64(recipients)/b.Elapsed().Seconds(), "recipients/s")
}

// BenchmarkAddRecipients: one call (one round trip) per batch of 1,000, sealed, as an upload does.
// Generating the rows (the API's parsing) is not timed.
func BenchmarkAddRecipients(b *testing.B) {
	s, _, id := benchStore(b)
	ctx := context.Background()
	batch := make([]breach.Recipient, benchBatch)
	n := 0
	for b.Loop() {
		b.StopTimer()
		fillBatch(batch, n)
		b.StartTimer()
		dups, err := s.AddRecipients(ctx, id, batch)
		if err != nil || len(dups) != 0 {
			b.Fatalf("dups %d, %v", len(dups), err)
		}
		n += benchBatch
	}
	reportRate(b, n)
}

// BenchmarkAddRecipientsParallel: two uploads (or one upload keeping two batches in flight), so
// that the Go side encodes one batch while Redis runs the script of the other.
func BenchmarkAddRecipientsParallel(b *testing.B) {
	s, _, id := benchStore(b)
	ctx := context.Background()
	var next atomic.Int64
	b.SetParallelism(1) // GOMAXPROCS goroutines: 2 on the reference machine
	b.RunParallel(func(pb *testing.PB) {
		batch := make([]breach.Recipient, benchBatch)
		for pb.Next() {
			first := int(next.Add(benchBatch)) - benchBatch
			fillBatch(batch, first) // timed here: it cannot be paused per goroutine
			if dups, err := s.AddRecipients(ctx, id, batch); err != nil || len(dups) != 0 {
				b.Errorf("dups %d, %v", len(dups), err)
				return
			}
		}
	})
	reportRate(b, int(next.Load()))
}

// BenchmarkAddRecipientsOneByOne is the baseline: one call (one round trip) per recipient.
func BenchmarkAddRecipientsOneByOne(b *testing.B) {
	s, _, id := benchStore(b)
	ctx := context.Background()
	batch := make([]breach.Recipient, benchBatch)
	n := 0
	for b.Loop() {
		b.StopTimer()
		fillBatch(batch, n)
		b.StartTimer()
		for i := range batch {
			if dups, err := s.AddRecipients(ctx, id, batch[i:i+1]); err != nil || len(dups) != 0 {
				b.Fatalf("dups %d, %v", len(dups), err)
			}
		}
		n += benchBatch
	}
	reportRate(b, n)
}

// TestAddMillionRecipients uploads 1,000,000 generated recipients in batches of 1,000 and logs
// the time and Redis's memory. It runs only with BREACHD_BIG=1 (about a minute and a gigabyte):
//
//	BREACHD_BIG=1 go test -run TestAddMillionRecipients -v -timeout 30m ./jobs/
func TestAddMillionRecipients(t *testing.T) {
	if os.Getenv("BREACHD_BIG") != "1" {
		t.Skip("set BREACHD_BIG=1 to upload a million recipients")
	}
	const total = 1_000_000
	ctx := context.Background()
	rdb := redistest.New(t)
	s := jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{7}, jobs.KeySize)))
	br := newBreach(newID(0))
	mustCreate(t, s, br)
	before := usedMemory(t, rdb)

	// Two batches in flight, as BenchmarkAddRecipientsParallel; generating rows is timed too.
	start := time.Now()
	const inFlight = 2
	errs := make(chan error, inFlight)
	for w := range inFlight {
		go func() {
			batch := make([]breach.Recipient, benchBatch)
			for first := w * benchBatch; first < total; first += inFlight * benchBatch {
				fillBatch(batch, first)
				if dups, err := s.AddRecipients(ctx, br.ID, batch); err != nil || len(dups) != 0 {
					errs <- fmt.Errorf("batch at %d: dups %d, %w", first, len(dups), err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range inFlight {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	after := usedMemory(t, rdb)

	c := mustCounts(t, s, br.ID)
	want := breach.RecipientCounts{Affected: total, IndianaResidents: total - total/10,
		InsufficientContact: total / 100, Languages: map[string]int{"en": total}}
	for n := range total {
		if genRecipient(n).Minor(discovered) {
			want.Minors++
		}
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("counts %+v, want %+v", c, want)
	}
	t.Logf("%d recipients in %v: %.0f recipients/s; Redis used_memory %.0f MiB more (%.0f bytes per recipient)",
		total, elapsed.Round(time.Millisecond), total/elapsed.Seconds(),
		float64(after-before)/(1<<20), float64(after-before)/total)

	for _, suffix := range []string{"", ":external", ":index", ":adult_on", ":out_of_state", ":no_contact", ":counts"} {
		key := "breachd:breach:{" + br.ID + "}:recipients" + suffix
		n, err := rdb.MemoryUsage(ctx, key, 0).Result() // SAMPLES 0: every element
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("MEMORY USAGE %-50s %7.1f MiB", key, float64(n)/(1<<20))
	}

	// Reading at this size stays cheap.
	t0 := time.Now()
	if _, err := s.RecipientCounts(ctx, br.ID); err != nil {
		t.Fatal(err)
	}
	page, next, err := s.Recipients(ctx, br.ID, breach.RecipientFilter{HasContact: boolPtr(false), Limit: jobs.MaxLimit})
	if err != nil || len(page) != jobs.MaxLimit || next == "" {
		t.Fatalf("no-contact page: %d, %q, %v", len(page), next, err)
	}
	t.Logf("counts and one page of 200 without contact in %v", time.Since(t0).Round(time.Microsecond))
}

func usedMemory(t *testing.T, rdb *redis.Client) int64 {
	t.Helper()
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			var n int64
			fmt.Sscan(v, &n)
			return n
		}
	}
	t.Fatal("INFO memory has no used_memory")
	return 0
}
