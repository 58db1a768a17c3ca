package web_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// BenchmarkBreachAndStatusPages renders the breach page and the status page of a breach whose
// counters say 1,000,000 notices (the counters only: the pages must read O(1) counters, never the
// notices, so none are created). It reports the p95 of each page in milliseconds.
func BenchmarkBreachAndStatusPages(b *testing.B) {
	e := newEnv(b)
	dana := e.signIn("dana")
	id := e.createBreach(dana)
	// The notice counters as the store keeps them (jobs keyNoticeCountsFmt, "<channel>:<status>").
	counts := map[string]any{
		"letter:queued": 20_000, "letter:mailed": 480_000, "letter:returned": 5_000, "letter:failed": 1_000,
		"email:queued": 4_000, "email:sent": 290_000, "email:failed": 6_000,
		"phone:queued": 10_000, "phone:delivered": 180_000, "phone:failed": 4_000,
	}
	total := 0
	for _, v := range counts {
		total += v.(int)
	}
	if total != 1_000_000 {
		b.Fatalf("counters add to %d", total)
	}
	if err := e.rdb.HSet(b.Context(), fmt.Sprintf("breachd:breach:{%s}:notices:counts", id), counts).Err(); err != nil {
		b.Fatal(err)
	}
	if p := dana.get("/breaches/" + id + "/status"); p.Status != http.StatusOK {
		b.Fatalf("status page: %d", p.Status)
	}
	mustContainB(b, dana.get("/breaches/"+id+"/status").Body, "1000000")
	for _, pg := range []struct{ name, path string }{{"breach", "/breaches/" + id}, {"status", "/breaches/" + id + "/status"}} {
		b.Run(pg.name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				start := time.Now()
				if p := dana.get(pg.path); p.Status != http.StatusOK {
					b.Fatalf("%s: %d", pg.path, p.Status)
				}
				times = append(times, time.Since(start))
			}
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			p95 := times[(len(times)*95)/100]
			b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
		})
	}
}

func mustContainB(b *testing.B, body, want string) {
	b.Helper()
	if !strings.Contains(body, want) {
		b.Fatalf("page does not contain %q", want)
	}
}
