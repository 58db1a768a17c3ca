package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/internal/gen"
)

// BenchmarkUploadCSV streams a generated upload through the whole HTTP path into a real Redis:
// parse, validate, encrypt, store with dedupe and counters. Run the million-row case with
//
//	go test ./api -run XXX -bench 'UploadCSV/rows=1000000' -benchtime 1x
//
// It reports rows/s and the peak Go heap while uploading (sampled every 10 ms).
func BenchmarkUploadCSV(b *testing.B) {
	for _, rows := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			var file bytes.Buffer
			if err := gen.Write(&file, gen.Options{Rows: rows, Seed: 7}); err != nil {
				b.Fatal(err)
			}
			e := newEnv(b) // records encrypted, as in production
			rdb, h := e.rdb, e.handler
			b.ResetTimer()
			var peak atomic.Uint64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				rdb.FlushDB(b.Context())
				id := createBenchBreach(b, h)
				runtime.GC()
				stop := sampleHeap(&peak)
				b.StartTimer()
				req, _ := http.NewRequest("POST", "/v1/breaches/"+id+"/recipients", bytes.NewReader(file.Bytes()))
				req.Header.Set("Content-Type", "text/csv")
				req.Header.Set("Authorization", "Bearer "+testKeys[breach.RoleAdmin])
				rec := &discardRecorder{header: http.Header{}}
				h.ServeHTTP(rec, req)
				b.StopTimer()
				stop()
				if rec.status != 200 {
					b.Fatalf("upload: %d %s", rec.status, rec.body.String())
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		})
	}
}

func createBenchBreach(b *testing.B, h http.Handler) string {
	b.Helper()
	body := `{"determination": {"title": "bench", "discovered_on": "2026-03-03", "data_elements": ["ssn"], "affected_count": 1}}`
	req, _ := http.NewRequest("POST", "/v1/breaches", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testKeys[breach.RoleAdmin])
	rec := &discardRecorder{header: http.Header{}}
	h.ServeHTTP(rec, req)
	if rec.status != 201 {
		b.Fatalf("create: %d %s", rec.status, rec.body.String())
	}
	var v struct{ ID string }
	if err := jsonUnmarshal(rec.body.Bytes(), &v); err != nil {
		b.Fatal(err)
	}
	return v.ID
}

// sampleHeap records the largest HeapInuse seen until stop is called.
func sampleHeap(peak *atomic.Uint64) (stop func()) {
	var ms runtime.MemStats
	return sampleMax(peak, func() uint64 {
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	})
}

// sampleMax records the largest value read returns, every 10 ms, until stop is called.
func sampleMax(peak *atomic.Uint64, read func() uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// discardRecorder is a ResponseWriter that keeps the body small enough for a million-row report.
type discardRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (d *discardRecorder) Header() http.Header { return d.header }
func (d *discardRecorder) WriteHeader(s int)   { d.status = s }
func (d *discardRecorder) Write(p []byte) (int, error) {
	if d.status == 0 {
		d.status = 200
	}
	if d.body.Len() < 1<<16 {
		d.body.Write(p)
	}
	return len(p), nil
}

var _ io.Writer = (*discardRecorder)(nil)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
