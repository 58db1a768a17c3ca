package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
)

// dispatchBenchRecipients is how many people BenchmarkDispatch stores: BREACHD_DISPATCH_RECIPIENTS,
// else a million (the size).
func dispatchBenchRecipients(b *testing.B) int {
	if v := os.Getenv("BREACHD_DISPATCH_RECIPIENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("BREACHD_DISPATCH_RECIPIENTS=%q", v)
		}
		return n
	}
	return 1_000_000
}

// mixRecipient is the n-th person of a district-like mix, by n%10: 0–3 minors in households of
// two siblings (a guardian letter each), 4–5 adults reached by email, 6 adults who prefer the
// phone, 7 minors whose guardian prefers email, 8–9 adults by letter, except that one in a hundred
// has no contact details at all.
func mixRecipient(n int) breach.Recipient {
	r := breach.Recipient{
		ID: fmt.Sprintf("rc_%026d", n), Row: n + 1, ExternalID: fmt.Sprintf("S-%08d", n),
		FirstName: "Hồng", LastName: fmt.Sprintf("Nguyễn Thị %d", n),
		Address: breach.PostalAddress{Line1: fmt.Sprintf("%d N Keystone Ave", 100+n%9000), Line2: "Apt 3B",
			City: "Indianapolis", State: "IN", PostalCode: "46205"},
		PreferredChannel: breach.PreferMail, Language: "en", DateOfBirth: breach.NewDate(1980+n%20, time.Month(1+n%12), 1+n%28),
	}
	minor := breach.NewDate(2012+n%4, time.Month(1+n%12), 1+n%28)
	switch n % 10 {
	case 0, 1, 2, 3:
		h := n / 2 // siblings n and n+1 (even n) share the address and the guardian
		r.DateOfBirth = minor
		r.Address.Line1 = fmt.Sprintf("%d Calle Real Dr", h)
		r.Guardian = breach.Guardian{Name: fmt.Sprintf("María Peña %d", h), Phone: "+17655550123"}
		r.Language = "es"
	case 4, 5:
		r.Email, r.EmailCurrent, r.PreferredChannel = fmt.Sprintf("person%d@example.org", n), true, breach.PreferEmail
	case 6:
		r.Phone, r.PreferredChannel = "+13175550111", breach.PreferPhone
	case 7:
		r.DateOfBirth = minor
		r.Guardian = breach.Guardian{Name: "Nguyễn Văn Minh", Email: fmt.Sprintf("family%d@example.org", n)}
		r.EmailCurrent, r.PreferredChannel = true, breach.PreferEmail
	case 9:
		if n%100 == 99 {
			r.Address = breach.PostalAddress{}
		}
	}
	return r
}

// storeMix stores n mixRecipients, two batches in flight.
func storeMix(b *testing.B, s *jobs.Store, breachID string, n int) {
	b.Helper()
	const batch = 1000
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			rs := make([]breach.Recipient, 0, batch)
			for {
				first := int(next.Add(batch)) - batch
				if first >= n {
					return
				}
				rs = rs[:0]
				for i := first; i < min(first+batch, n); i++ {
					rs = append(rs, mixRecipient(i))
				}
				if dups, err := s.AddRecipients(context.Background(), breachID, rs); err != nil || len(dups) != 0 {
					b.Errorf("store recipients at %d: dups %d, %v", first, len(dups), err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}

// heapPeak samples the bytes of live and not yet swept heap objects every few milliseconds.
type heapPeak struct {
	stop chan struct{}
	done chan struct{}
	peak atomic.Uint64
}

func startHeapPeak() *heapPeak {
	h := &heapPeak{stop: make(chan struct{}), done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v > h.peak.Load() {
			h.peak.Store(v)
		}
	}
	go func() {
		defer close(h.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-h.stop:
				read()
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapPeak) Stop() uint64 {
	close(h.stop)
	<-h.done
	return h.peak.Load()
}

// clearNotices deletes what a dispatch wrote, so that the next one creates everything again.
func clearNotices(b *testing.B, rdb *redis.Client, breachID string) {
	b.Helper()
	ctx := context.Background()
	var keys []string
	for _, pattern := range []string{"breachd:breach:{" + breachID + "}:notices*", "asynq:*"} {
		ks, err := rdb.Keys(ctx, pattern).Result()
		if err != nil {
			b.Fatal(err)
		}
		keys = append(keys, ks...)
	}
	keys = append(keys, "breachd:notice-breach", "breachd:breach:{"+breachID+"}:events")
	if err := rdb.Del(ctx, keys...).Err(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDispatch dispatches a breach of a million stored people (BREACHD_DISPATCH_RECIPIENTS):
// every notice routed, sealed, stored with its index, status, counter and event entries, and the
// email batches queued. It reports notices/s and the peak Go heap during the dispatch, then, in the
// same run, the baseline of queueing work the plain way (one asynq task per notice, the fastest of
// three rounds of 20,000) and how many times faster the dispatch is. Storing the people first
// takes 15 to 20 seconds:
//
//	go test -run '^$' -bench BenchmarkDispatch -benchtime 1x -timeout 30m ./jobs/
func BenchmarkDispatch(b *testing.B) {
	total := dispatchBenchRecipients(b)
	ctx := context.Background()
	rdb := redistest.New(b)
	s := jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{7}, jobs.KeySize)))
	br := newBreach(newID(0))
	if err := s.CreateBreach(ctx, br, createdEvent(br)); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	storeMix(b, s, br.ID, total)
	b.Logf("stored %d recipients in %v", total, time.Since(start).Round(time.Millisecond))
	q := jobs.NewQueue(rdb)
	d := jobs.NewDispatcher(jobs.DispatcherConfig{Store: s, Queue: q})
	actor := breach.Actor{ID: "key-admin-1", Role: breach.RoleAdmin}

	var notices int
	var elapsed time.Duration
	var peak uint64
	var redisSeconds, goSeconds float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		clearNotices(b, rdb, br.ID)
		runtime.GC()
		cpu0, stats0, goCPU0 := redisCPU(b, rdb), redisCommandTime(b, rdb), processCPU(b)
		hp := startHeapPeak()
		b.StartTimer()
		if f := os.Getenv("BREACHD_DISPATCH_PROFILE"); f != "" {
			out, err := os.Create(f)
			if err != nil {
				b.Fatal(err)
			}
			pprof.StartCPUProfile(out)
		}
		t := time.Now()
		rep, err := d.Dispatch(ctx, br, breach.MustDate("2026-04-01"), actor)
		elapsed += time.Since(t)
		pprof.StopCPUProfile()
		b.StopTimer()
		peak = max(peak, hp.Stop())
		redisSeconds += redisCPU(b, rdb) - cpu0
		goSeconds += processCPU(b) - goCPU0
		if i == 0 {
			stats := redisCommandTime(b, rdb)
			var parts []string
			for cmd, us := range stats {
				if d := us - stats0[cmd]; d > 10_000 {
					parts = append(parts, fmt.Sprintf("%s %.0f ms", cmd, d/1000))
				}
			}
			slices.Sort(parts)
			b.Logf("Redis time by command (scripts include the commands they call): %s", strings.Join(parts, ", "))
		}
		if err != nil {
			b.Fatal(err)
		}
		created := 0
		for _, n := range rep.Created {
			created += n
		}
		notices += created
		if i == 0 {
			b.Logf("report: %+v", rep)
		}
		b.StartTimer()
	}
	b.StopTimer()
	rate := float64(notices) / elapsed.Seconds()
	b.ReportMetric(rate, "notices/s")
	b.ReportMetric(float64(total*b.N)/elapsed.Seconds(), "recipients/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(redisSeconds/elapsed.Seconds(), "redis-cpu-share")
	// CPU time per notice, of this process and of Redis: steadier than the rate when other work
	// shares the two cores, and the rate's ceiling is 2 cores / their sum.
	b.ReportMetric(goSeconds*1e6/float64(notices), "go-cpu-µs/notice")
	b.ReportMetric(redisSeconds*1e6/float64(notices), "redis-cpu-µs/notice")
	b.ReportMetric(0, "ns/op")

	// The baseline: one asynq task per notice, 20,000 of them, three rounds. The fastest round
	// counts, so that a slow moment on a shared machine cannot flatter the ratio.
	const baselineN = 20_000
	client := asynq.NewClientFromRedisClient(rdb)
	var baseline float64
	for round := range 3 {
		t := time.Now()
		for i := range baselineN {
			id := fmt.Sprintf("nt_%d_%026d", round, i)
			payload, _ := json.Marshal(map[string]string{"breach_id": br.ID, "notice_id": id})
			if _, err := client.Enqueue(asynq.NewTask("notice:email", payload), asynq.Queue("baseline"),
				asynq.TaskID("email:"+id), asynq.MaxRetry(jobs.DefaultMaxRetry)); err != nil {
				b.Fatal(err)
			}
		}
		baseline = max(baseline, baselineN/time.Since(t).Seconds())
	}
	b.ReportMetric(baseline, "baseline-notices/s")
	b.ReportMetric(rate/baseline, "x-baseline")
	b.Logf("dispatch: %d notices in %v = %.0f notices/s, peak heap %.0f MiB; baseline (one asynq task per notice): %.0f notices/s; %.1fx",
		notices, elapsed.Round(time.Millisecond), rate, float64(peak)/(1<<20), baseline, rate/baseline)
}

// processCPU is the CPU time this process has used, in seconds (user and system).
func processCPU(b *testing.B) float64 {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// redisCPU is the CPU time the Redis server has used, in seconds (user and system, main thread
// and others).
func redisCPU(b *testing.B, rdb *redis.Client) float64 {
	b.Helper()
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	total := 0.0
	for _, line := range strings.Split(info, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return total
}

// redisCommandTime is the server's time spent per command so far, in microseconds.
func redisCommandTime(b *testing.B, rdb *redis.Client) map[string]float64 {
	b.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(info, "\r\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":")
		if !ok || !strings.HasPrefix(line, "cmdstat_") {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "usec="); ok {
				out[name], _ = strconv.ParseFloat(v, 64)
			}
		}
	}
	return out
}
