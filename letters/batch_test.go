package letters

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBatchesOf2500(t *testing.T) {
	r, err := NewRenderer(Options{Clock: fixedClock}) // MaxPerFile defaults to 1,000
	if err != nil {
		t.Fatal(err)
	}
	m := testMailing()
	letters := benchLetters(2500)
	// A few letters that cannot be printed, spread through the run.
	letters[10].Addressee.Name = []string{"राम शर्मा"}
	letters[1500].Addressee.Address = []string{"1", "2", "3", "4", "5"}

	batches := r.Batches(letters)
	if len(batches) != 3 || len(batches[0]) != 1000 || len(batches[1]) != 1000 || len(batches[2]) != 500 {
		t.Fatalf("Batches: %d files, want 3 of 1000, 1000, 500", len(batches))
	}
	prev := ""
	for _, b := range batches {
		for _, l := range b {
			if l.Addressee.PostalCode < prev {
				t.Fatalf("postal code %s after %s: not sorted across files", l.Addressee.PostalCode, prev)
			}
			prev = l.Addressee.PostalCode
		}
	}

	dir := t.TempDir()
	printed, rejected := 0, 0
	for i, b := range batches {
		info := BatchInfo{BreachID: "B-42", BreachTitle: "Student information system export", Number: i + 1, Of: len(batches)}
		var pdf, manifest bytes.Buffer
		res, err := r.RenderBatch(&pdf, &manifest, m, info, b)
		if err != nil {
			t.Fatalf("batch %d: %v", i+1, err)
		}
		printed += len(res.Letters)
		rejected += len(res.Rejected)
		path := filepath.Join(dir, fmt.Sprintf("batch-%d.pdf", i+1))
		if err := os.WriteFile(path, pdf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		checkBatch(t, path, info, res, manifest.Bytes(), len(b))
	}
	if printed != 2498 || rejected != 2 {
		t.Errorf("printed %d, rejected %d; want 2498 and 2", printed, rejected)
	}
}

// checkBatch checks one batch file against its result and manifest: the page count, the cover
// sheet, and that every letter starts on the page the manifest gives.
func checkBatch(t *testing.T, path string, info BatchInfo, res BatchResult, manifest []byte, n int) {
	t.Helper()
	pi := poppler(t, "pdfinfo", path)
	if !regexp.MustCompile(`(?m)^Pages:\s+` + strconv.Itoa(res.Pages) + `$`).MatchString(pi) {
		t.Errorf("batch %d: pdfinfo disagrees with Pages=%d:\n%s", info.Number, res.Pages, pi)
	}
	if !strings.Contains(pi, fmt.Sprintf("Print batch %d of %d", info.Number, info.Of)) {
		t.Errorf("batch %d: title missing:\n%s", info.Number, pi)
	}
	pages := strings.Split(pdfText(t, path), "\f")
	cover := strings.Join(strings.Fields(pages[0]), " ")
	last := res.Letters[len(res.Letters)-1]
	for _, w := range []string{
		fmt.Sprintf("Print batch %d of %d", info.Number, info.Of),
		"Student information system export (B-42)",
		fmt.Sprintf("%d letters, sorted by postal code", len(res.Letters)),
		fmt.Sprintf("Pages 2–%d of this file (%d pages with this cover sheet)", last.FirstPage+last.Pages-1, res.Pages),
	} {
		if !strings.Contains(cover, w) {
			t.Errorf("batch %d: cover sheet lacks %q:\n%s", info.Number, w, cover)
		}
	}
	if len(res.Rejected) > 0 && !strings.Contains(cover, fmt.Sprintf("%d letters could not be printed", len(res.Rejected))) {
		t.Errorf("batch %d: cover sheet does not count the letters not printed:\n%s", info.Number, cover)
	}

	rows, err := csv.NewReader(bytes.NewReader(manifest)).ReadAll()
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if len(rows) != n+1 || strings.Join(rows[0], ",") != strings.Join(manifestHeader, ",") {
		t.Fatalf("manifest has %d rows (header %v), want a header and %d letters", len(rows), rows[0], n)
	}
	prev, entries := "", 0
	for _, row := range rows[1:] {
		id, postal, errCell := row[1], row[4], row[11]
		if postal < prev {
			t.Errorf("manifest not sorted by postal code: %s after %s", postal, prev)
		}
		prev = postal
		if errCell != "" {
			if row[5] != "" {
				t.Errorf("rejected %s has a page", id)
			}
			continue
		}
		first, _ := strconv.Atoi(row[5])
		count, _ := strconv.Atoi(row[7])
		if first < 2 || first+count-1 > len(pages) {
			t.Fatalf("%s: pages %d+%d outside the file", id, first, count)
		}
		want := fmt.Sprintf("Notice %s · Page 1 of %d", id, count)
		if row[8] == "es" {
			want = fmt.Sprintf("Aviso %s · Página 1 de %d", id, count)
		}
		if !strings.Contains(pages[first-1], want) {
			t.Errorf("%s: page %d of the file does not start the letter (no %q)", id, first, want)
		}
		if e := res.Letters[entries]; e.NoticeID != id || e.FirstPage != first {
			t.Errorf("manifest row %s page %d, result %s page %d", id, first, e.NoticeID, e.FirstPage)
		}
		entries++
	}
	if entries != len(res.Letters) {
		t.Errorf("manifest lists %d printed letters, result %d", entries, len(res.Letters))
	}
}

func TestBatchManifestNeutralisesFormulas(t *testing.T) {
	r := testRenderer(t)
	m := testMailing()
	ls := []Letter{
		adultLetter("N-1", `=HYPERLINK("http://x")`, "en"), // fixture E-2006
		adultLetter("N-2", "+1 Smith", "en"),
		adultLetter("N-3", "-Brown", "en"),
		adultLetter("N-4", "@Lee", "en"),
		adultLetter("N-5", "राम शर्मा", "en"),
	}
	var pdf, manifest bytes.Buffer
	res, err := r.RenderBatch(&pdf, &manifest, m, BatchInfo{BreachID: "B-1", BreachTitle: "T", Number: 1, Of: 1}, ls)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&manifest).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"N-1": `'=HYPERLINK("http://x")`, "N-2": "'+1 Smith", "N-3": "'-Brown", "N-4": "'@Lee", "N-5": "राम शर्मा"}
	for _, row := range rows[1:] {
		if row[2] != want[row[1]] {
			t.Errorf("%s: name cell %q, want %q", row[1], row[2], want[row[1]])
		}
	}
	if len(res.Rejected) != 1 || res.Rejected[0].NoticeID != "N-5" || !errors.Is(res.Rejected[0], ErrUnrenderable) {
		t.Errorf("Rejected = %v, want N-5 unrenderable", res.Rejected)
	}
	// The letter itself prints the name as written: it is the manifest that must not be a formula.
	path := filepath.Join(t.TempDir(), "b.pdf")
	if err := os.WriteFile(path, pdf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if text := pdfText(t, path); !strings.Contains(text, `=HYPERLINK("http://x")`) {
		t.Errorf("the letter does not print the name as written")
	}
}

func TestBatchLetterMatchesLetterAlone(t *testing.T) {
	r := testRenderer(t)
	m := testMailing()
	ls := []Letter{spanishLetter(), householdLetter()}
	res, err := r.RenderBatch(io.Discard, io.Discard, m, BatchInfo{BreachID: "B", BreachTitle: "T", Number: 1, Of: 1}, ls)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		alone, err := r.RenderLetter(io.Discard, m, l)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range res.Letters {
			if e.NoticeID == l.NoticeID {
				found = true
				if e.ContentSHA256 != alone.ContentSHA256 || e.Pages != alone.Pages || e.FellBack != alone.FellBack {
					t.Errorf("%s in a batch %+v, alone %+v", l.NoticeID, e, alone)
				}
			}
		}
		if !found {
			t.Errorf("%s missing from the batch", l.NoticeID)
		}
	}
	if _, err := r.RenderBatch(io.Discard, io.Discard, m, BatchInfo{}, make([]Letter, r.MaxPerFile()+1)); err == nil {
		t.Error("a batch over MaxPerFile was accepted")
	}
}

var memReport = flag.Int("memreport", 10_000, "how many letters BenchmarkBatchMemory renders (e.g. 100000)")

// BenchmarkBatchMemory renders -memreport letters as print batches of 1,000 to io.Discard,
// sampling the heap every 5 ms, and reports the peak: it should stay flat (one batch file at a
// time), not grow with the number of letters. Run:
//
//	go test ./letters -run '^$' -bench BatchMemory -benchtime 1x -memreport 100000
func BenchmarkBatchMemory(t *testing.B) {
	r := testRenderer(t)
	m := testMailing()
	letters := benchLetters(*memReport)
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	batches := r.Batches(letters)
	perBatch := make([]uint64, 0, len(batches))
	for i, b := range batches {
		info := BatchInfo{BreachID: "B", BreachTitle: "T", Number: i + 1, Of: len(batches)}
		if _, err := r.RenderBatch(io.Discard, io.Discard, m, info, b); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			perBatch = append(perBatch, peak.Load())
		}
	}
	elapsed := time.Since(start)
	close(stop)
	<-done
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d letters in %d files in %v (%.0f letters/s)", len(letters), len(batches), elapsed.Round(time.Millisecond),
		float64(len(letters))/elapsed.Seconds())
	t.Logf("peak live heap %.1f MiB; peak after every 10th file (MiB): %v; Sys %.1f MiB",
		float64(peak.Load())/(1<<20), mib(perBatch), float64(ms.Sys)/(1<<20))
	t.ReportMetric(float64(len(letters))/elapsed.Seconds(), "letters/s")
	t.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	t.ReportMetric(0, "ns/op")
}

func mib(v []uint64) []string {
	s := make([]string, len(v))
	for i, b := range v {
		s[i] = strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64)
	}
	return s
}

// TestPNGs rasterises a few letters and the first pages of a batch with pdftoppm, and keeps the
// PNGs for a person to look at when given a directory: go test ./letters -run TestPNGs -png DIR
func TestPNGs(t *testing.T) {
	dir := *pngDir
	if dir == "" {
		dir = t.TempDir()
	}
	r := testRenderer(t)
	m := testMailing()
	for _, l := range []Letter{householdLetter(), spanishLetter(), adultLetter("N-0003", "Zoë O'Brien-Ångström", "en")} {
		path, _ := render(t, r, m, l)
		if b, err := os.ReadFile(path); err != nil || os.WriteFile(filepath.Join(dir, l.NoticeID+".pdf"), b, 0o644) != nil {
			t.Fatalf("copy %s: %v", path, err)
		}
		poppler(t, "pdftoppm", "-png", "-r", "60", path, filepath.Join(dir, l.NoticeID))
	}
	var pdf bytes.Buffer
	if _, err := r.RenderBatch(&pdf, io.Discard, m, BatchInfo{BreachID: "B-42", BreachTitle: "Student information system export",
		Number: 2, Of: 3}, benchLetters(12)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "batch.pdf")
	if err := os.WriteFile(path, pdf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	poppler(t, "pdftoppm", "-png", "-r", "60", "-l", "2", path, filepath.Join(dir, "batch"))
	for _, name := range []string{"N-0001-1.png", "N-0003-1.png", "batch-01.png", "batch-02.png"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v (want a page image)", name, err)
		}
	}
}

var pngDir = flag.String("png", "", "directory to write page images to (TestPNGs)")
