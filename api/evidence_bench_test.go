package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/internal/gen"
)

// BenchmarkEvidenceBundle streams the evidence bundle of a breach with N people dispatched into
// notices through the HTTP handler, and, in the same run, the notices CSV export of the same
// breach (the baseline: the other download that reads every notice a page at a time). It
// reports each one's time and peak Go heap (HeapInuse sampled every 10 ms), and the bundle's
// size. Memory flat in the number of notices means the peaks do not grow with N.
//
//	go test ./api -run '^$' -bench EvidenceBundle -benchtime 1x -timeout 60m
//	BREACHD_EVIDENCE_PEOPLE=1000000 go test ./api -run '^$' -bench 'EvidenceBundle/people=env' -benchtime 1x -timeout 120m
//
// The setup (upload and dispatch, untimed) leaves the notices queued: no worker sends them, so
// each proof has the notice's creation and queueing in the chain. BREACHD_EVIDENCE_SENT=1 then
// records every notice as sent (a notice.sent event of its own, as the workers write it), so that
// each proof also reads an event no other notice shares:
//
//	BREACHD_EVIDENCE_SENT=1 go test ./api -run '^$' -bench 'EvidenceBundle/people=100000' -benchtime 1x
func BenchmarkEvidenceBundle(b *testing.B) {
	sizes := []string{"10000", "100000"}
	if v := os.Getenv("BREACHD_EVIDENCE_PEOPLE"); v != "" {
		sizes = []string{"env"}
	}
	for _, size := range sizes {
		b.Run("people="+size, func(b *testing.B) {
			people, err := strconv.Atoi(size)
			if size == "env" {
				people, err = strconv.Atoi(os.Getenv("BREACHD_EVIDENCE_PEOPLE"))
			}
			if err != nil || people <= 0 {
				b.Fatalf("people %q", size)
			}
			e := newEnv(b)
			id, notices := dispatchedBreach(b, e.handler, people)
			if os.Getenv("BREACHD_EVIDENCE_SENT") == "1" {
				markAllSent(b, e, id)
			}
			var csvPeak, zipPeak, csvLive, zipLive atomic.Uint64
			var csvTime, zipTime time.Duration
			var zipBytes, csvBytes int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d, n := download(b, e.handler, "/v1/breaches/"+id+"/notices.csv", &csvPeak, &csvLive)
				csvTime, csvBytes = csvTime+d, n
				d, n = download(b, e.handler, "/v1/breaches/"+id+"/evidence.zip", &zipPeak, &zipLive)
				zipTime, zipBytes = zipTime+d, n
			}
			b.StopTimer()
			b.ReportMetric(float64(notices), "notices")
			b.ReportMetric(zipTime.Seconds()/float64(b.N), "bundle-s")
			b.ReportMetric(float64(zipPeak.Load())/(1<<20), "bundle-peak-heap-MiB")
			b.ReportMetric(float64(zipLive.Load())/(1<<20), "bundle-peak-live-MiB")
			b.ReportMetric(float64(zipBytes)/(1<<20), "bundle-MiB")
			b.ReportMetric(csvTime.Seconds()/float64(b.N), "csv-s")
			b.ReportMetric(float64(csvPeak.Load())/(1<<20), "csv-peak-heap-MiB")
			b.ReportMetric(float64(csvLive.Load())/(1<<20), "csv-peak-live-MiB")
			b.ReportMetric(float64(csvBytes)/(1<<20), "csv-MiB")
		})
	}
}

// download GETs path as an auditor into a counter and returns the time and the bytes, with the
// peak heap in use (garbage not yet collected included) and the peak live heap (what the last
// collection found reachable) while it ran.
func download(b *testing.B, h http.Handler, path string, peak, live *atomic.Uint64) (time.Duration, int64) {
	b.Helper()
	runtime.GC()
	stop := sampleHeap(peak)
	stopLive := sampleLive(live)
	req, _ := http.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+testKeys[breach.RoleAuditor])
	rec := &countingRecorder{discardRecorder: discardRecorder{header: http.Header{}}}
	start := time.Now()
	h.ServeHTTP(rec, req)
	d := time.Since(start)
	stop()
	stopLive()
	if rec.status != 200 {
		b.Fatalf("%s: %d %s", path, rec.status, rec.body.String())
	}
	return d, rec.n
}

// sampleLive records the largest live heap (runtime/metrics /gc/heap/live:bytes) seen until stop.
func sampleLive(peak *atomic.Uint64) (stop func()) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	return sampleMax(peak, func() uint64 {
		metrics.Read(s)
		return s[0].Value.Uint64()
	})
}

type countingRecorder struct {
	discardRecorder
	n int64
}

func (c *countingRecorder) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.discardRecorder.Write(p)
}

// dispatchedBreach creates a breach, uploads a generated file of people and dispatches it; it
// returns the breach and how many notices it has.
func dispatchedBreach(b *testing.B, h http.Handler, people int) (string, int) {
	b.Helper()
	call := func(method, path, contentType string, body []byte) *discardRecorder {
		req, _ := http.NewRequest(method, path, bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("Authorization", "Bearer "+testKeys[breach.RoleAdmin])
		rec := &discardRecorder{header: http.Header{}}
		h.ServeHTTP(rec, req)
		return rec
	}
	det, _ := json.Marshal(map[string]any{"determination": determination(map[string]any{"affected_count": people})})
	rec := call("POST", "/v1/breaches", "application/json", det)
	if rec.status != 201 {
		b.Fatalf("create: %d %s", rec.status, rec.body.String())
	}
	var v struct{ ID string }
	if err := jsonUnmarshal(rec.body.Bytes(), &v); err != nil {
		b.Fatal(err)
	}
	var file bytes.Buffer
	if err := gen.Write(&file, gen.Options{Rows: people, Seed: 11}); err != nil {
		b.Fatal(err)
	}
	if rec := call("POST", "/v1/breaches/"+v.ID+"/recipients", "text/csv", file.Bytes()); rec.status != 200 {
		b.Fatalf("upload: %d %s", rec.status, rec.body.String())
	}
	call("POST", "/v1/breaches/"+v.ID+"/recipients/complete", "", nil)
	// The generator writes some people in Vietnamese, which has no notice text: they get English.
	call("POST", "/v1/breaches/"+v.ID+"/languages/vi/english-fallback", "application/json", []byte(`{"reason": "benchmark: no translator"}`))
	rec = call("POST", "/v1/breaches/"+v.ID+"/dispatch", "", nil)
	if rec.status != 200 {
		b.Fatalf("dispatch: %d %s", rec.status, rec.body.String())
	}
	var st struct {
		Total int `json:"total"`
	}
	if r := call("GET", "/v1/breaches/"+v.ID+"/status", "", nil); r.status != 200 || jsonUnmarshal(r.body.Bytes(), &st) != nil {
		b.Fatalf("status: %d %s", r.status, r.body.String())
	}
	if st.Total == 0 {
		b.Fatal(fmt.Errorf("no notices after dispatch"))
	}
	return v.ID, st.Total
}

// markAllSent records every notice of the breach as sent, with its notice.sent event, from a few
// goroutines, and chains the events.
func markAllSent(b *testing.B, e *env, id string) {
	b.Helper()
	ctx := b.Context()
	ids := make(chan string, 1000)
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for range 8 {
		wg.Go(func() {
			for nid := range ids {
				if _, err := e.store.UpdateNotice(ctx, nid, func(n *breach.Notice) ([]breach.Event, error) {
					now := time.Now().UTC()
					n.Status, n.SentAt, n.Attempts = breach.NoticeSent, now, n.Attempts+1
					return []breach.Event{{Type: breach.EventNoticeSent, Actor: "worker", Role: breach.RoleAdmin, At: now,
						Summary: "benchmark: sent", Data: map[string]any{"notice_id": n.ID, "channel": string(n.Channel),
							"message_id": "<" + n.ID + "@bench.example>"}}}, nil
				}); err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	cursor := ""
	for {
		page, next, err := e.store.Notices(ctx, id, breach.NoticeFilter{Cursor: cursor, Limit: 200})
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range page {
			ids <- n.ID
		}
		if next == "" {
			break
		}
		cursor = next
	}
	close(ids)
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	if _, err := e.store.Chain(ctx, id); err != nil {
		b.Fatal(err)
	}
}
