package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// uploadEvents returns the data of the breach's recipients.uploaded events, oldest first.
func uploadEvents(t *testing.T, e *env, id string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, ev := range allEventsOf(t, e, id) {
		if ev.Type == breach.EventRecipientsUploaded {
			ev.Data["summary"] = ev.Summary
			out = append(out, ev.Data)
		}
	}
	return out
}

// csvRowsText returns n valid rows of the upload, numbered from first.
func csvRowsText(first, n int) string {
	var b strings.Builder
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "P-%d,Lee\n", i)
	}
	return b.String()
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestCSVHeaderAmplification: a header of megabytes of unknown columns once became a 449 MB 422
// and 2.3 GB of server memory. Now the header is bounded (size and columns) and so is every list of
// problems, and what the server allocates does not grow with the header.
func TestCSVHeaderAmplification(t *testing.T) {
	e := newEnv(t)
	b := createBreach(t, e, nil)
	path := "/v1/breaches/" + b.ID + "/recipients"

	var huge bytes.Buffer
	huge.WriteString("external_id")
	for i := 0; huge.Len() < 3<<20; i++ {
		fmt.Fprintf(&huge, ",unknown_column_%d", i)
	}
	huge.WriteString("\nA-1,x\n")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := e.doContentType("POST", path, breach.RoleAdmin, huge.Bytes(), "text/csv")
	runtime.ReadMemStats(&after)
	if r.Status != 422 {
		t.Fatalf("3 MiB header: %d %s", r.Status, r.Body)
	}
	if f := r.fields(t); !strings.Contains(f["header"], "longer than 64 KiB") {
		t.Fatalf("3 MiB header: %v", f)
	}
	if len(r.Body) > 4<<10 {
		t.Fatalf("3 MiB header: a %d-byte answer", len(r.Body))
	}
	// The request's 3 MiB body is the test's own; the server's part (the bounded header, its
	// buffers, the answer) is far below the hundreds of MB it once took.
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("a %d-byte header: a %d-byte 422; %d KiB allocated by the exchange", huge.Len(), len(r.Body), alloc>>10)
	if alloc > 24<<20 {
		t.Fatalf("a 3 MiB header allocated %d MiB", alloc>>20)
	}

	// Under the byte limit but over the column limit: one problem, not one per column.
	var wide strings.Builder
	wide.WriteString("external_id")
	for i := range 5000 {
		fmt.Fprintf(&wide, ",c%d", i)
	}
	r = e.doContentType("POST", path, breach.RoleAdmin, wide.String()+"\n", "text/csv")
	if r.Status != 422 || len(*r.problem(t).Errors) != 1 || !strings.Contains(r.fields(t)["header"], "has 5001 columns; at most 100") {
		t.Fatalf("5001 columns: %d %s", r.Status, r.Body)
	}

	// A long unknown name is quoted back cut short.
	r = e.doContentType("POST", path, breach.RoleAdmin, "external_id,"+strings.Repeat("z", 20000)+"\n", "text/csv")
	if r.Status != 422 || len(r.Body) > 2<<10 {
		t.Fatalf("a 20,000-character column name: %d, %d bytes", r.Status, len(r.Body))
	}
}

// TestUploadProblemListsAreCapped: each list carries its first 1,000 entries and counts the rest,
// and the audit event counts them all.
func TestUploadProblemListsAreCapped(t *testing.T) {
	e := newEnv(t)
	b := createBreach(t, e, nil)
	path := "/v1/breaches/" + b.ID + "/recipients"
	var file strings.Builder
	file.WriteString("external_id,last_name,email\n")
	for i := range 1500 {
		fmt.Fprintf(&file, "B-%d,Lee,not-an-address\n", i) // rejected: email
	}
	for i := range 1200 {
		fmt.Fprintf(&file, "P-%d,Lee,\n", i)
	}
	if r := e.doContentType("POST", path, breach.RoleAdmin, file.String(), "text/csv"); r.Status != 200 {
		t.Fatalf("first upload: %d %s", r.Status, r.Body)
	}
	r := e.doContentType("POST", path, breach.RoleAdmin, file.String(), "text/csv") // every good row again
	if r.Status != 200 {
		t.Fatalf("second upload: %d %s", r.Status, r.Body)
	}
	var rep breach.UploadReport
	r.json(t, &rep)
	if len(rep.Rejected) != 1000 || len(rep.Duplicates) != 1000 || rep.Omitted == nil ||
		*rep.Omitted != (breach.UploadOmitted{Rejected: 500, Duplicates: 200}) {
		t.Fatalf("rejected %d, duplicates %d, omitted %+v", len(rep.Rejected), len(rep.Duplicates), rep.Omitted)
	}
	evs := uploadEvents(t, e, b.ID)
	if last := evs[len(evs)-1]; last["duplicates"] != 1200.0 || last["rejected_rows"] != 1500.0 || last["complete"] != true {
		t.Fatalf("event %v", last)
	}
}

// TestUploadCutShortIsAudited: an upload that ends half-way (over the size limit, or its client
// gone) still leaves an event with what it kept, marked incomplete; a client that leaves is logged
// as a disconnect (WARN, 499), not as a failure of the service.
func TestUploadCutShortIsAudited(t *testing.T) {
	t.Run("over the size limit", func(t *testing.T) {
		e := newEnv(t, func(c *api.Config) { c.MaxUploadBytes = 20 << 10 })
		b := createBreach(t, e, nil)
		r := e.doContentType("POST", "/v1/breaches/"+b.ID+"/recipients", breach.RoleAdmin,
			"external_id,last_name\n"+csvRowsText(0, 5000), "text/csv")
		if r.Status != 413 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		evs := uploadEvents(t, e, b.ID)
		if len(evs) != 1 || evs[0]["complete"] != false || evs[0]["accepted"].(float64) < 1000 ||
			!strings.Contains(evs[0]["summary"].(string), "cut short") {
			t.Fatalf("events %v", evs)
		}
	})
	t.Run("client gone", func(t *testing.T) {
		e := newEnv(t)
		b := createBreach(t, e, nil)
		conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		body := "external_id,last_name\n" + csvRowsText(0, 1500)
		fmt.Fprintf(conn, "POST /v1/breaches/%s/recipients HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: text/csv\r\nContent-Length: %d\r\n\r\n%s", b.ID, testKeys[breach.RoleAdmin], len(body)+1<<20, body)
		time.Sleep(200 * time.Millisecond) // the server reads what was sent and waits for the rest
		conn.Close()
		var evs []map[string]any
		for deadline := time.Now().Add(5 * time.Second); len(evs) == 0 && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
			evs = uploadEvents(t, e, b.ID)
		}
		if len(evs) != 1 || evs[0]["complete"] != false || evs[0]["accepted"] != 1500.0 || evs[0]["rows"] != 1500.0 {
			t.Fatalf("events %v", evs)
		}
		logs := e.logs.String()
		if !strings.Contains(logs, `"msg":"client disconnected"`) || !strings.Contains(logs, `"stored":"1500 rows read, 1500 accepted"`) ||
			strings.Contains(logs, `"level":"ERROR"`) {
			t.Fatalf("logs:\n%s", logs)
		}
		m := e.do("GET", "/metrics", noKey, nil)
		if !strings.Contains(string(m.Body), `route="/v1/breaches/:id/recipients",status="499"`) || strings.Contains(string(m.Body), `status="500"`) {
			t.Fatalf("metrics:\n%s", grepLines(string(m.Body), "breachd_http_requests_total"))
		}
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// slowBody sends parts, each after pause, through a pipe.
func slowBody(parts []string, pause time.Duration) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		for _, p := range parts {
			time.Sleep(pause)
			if _, err := io.WriteString(pw, p); err != nil {
				return
			}
		}
		pw.Close()
	}()
	return pr
}

// TestSlowUpload: an upload longer than the server's ReadTimeout and WriteTimeout works so long as
// data keeps coming (an idle timeout, not a total one); one that stalls ends in a 408 saying what
// was kept, and the trail says the upload is incomplete.
func TestSlowUpload(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.UploadIdleTimeout = 600 * time.Millisecond })
	srv := httptest.NewUnstartedServer(e.handler)
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 500*time.Millisecond, 500*time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	b := createBreach(t, e, nil)
	post := func(body io.Reader) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/v1/breaches/"+b.ID+"/recipients", body)
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+testKeys[breach.RoleAdmin])
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		got, _ := io.ReadAll(res.Body)
		return res, got
	}
	parts := []string{"external_id,last_name\n"}
	for i := range 8 {
		parts = append(parts, csvRowsText(i*10, 10))
	}
	start := time.Now()
	res, got := post(slowBody(parts, 200*time.Millisecond)) // 1.8 s in all, never 600 ms idle
	if res.StatusCode != 200 {
		t.Fatalf("slow upload: %d %s", res.StatusCode, got)
	}
	if took := time.Since(start); took < time.Second {
		t.Fatalf("the upload took %s: not slower than the server's timeouts", took)
	}
	var rep breach.UploadReport
	if err := json.Unmarshal(got, &rep); err != nil || rep.Accepted != 80 {
		t.Fatalf("slow upload: %s", got)
	}

	// Stalled: the second part comes after 1.5 s of nothing.
	pr, pw := io.Pipe()
	go func() {
		io.WriteString(pw, "external_id,last_name\n"+csvRowsText(100, 20))
		time.Sleep(1500 * time.Millisecond)
		io.WriteString(pw, csvRowsText(200, 20))
		pw.Close()
	}()
	res, got = post(pr)
	if res.StatusCode != 408 || res.Header.Get("Content-Type") != "application/problem+json" ||
		!strings.Contains(string(got), "rows 1 to 20 were processed (20 accepted") {
		t.Fatalf("stalled upload: %d %s\n%s", res.StatusCode, got, e.logs.String())
	}
	evs := uploadEvents(t, e, b.ID)
	if len(evs) != 2 || evs[1]["complete"] != false || evs[1]["accepted"] != 20.0 {
		t.Fatalf("events %v", evs)
	}
}

// TestNDJSONInvalidUTF8: bytes that are not UTF-8 are refused, naming the field, as in a CSV file;
// encoding/json would have stored them as U+FFFD.
func TestNDJSONInvalidUTF8(t *testing.T) {
	e := newEnv(t)
	b := createBreach(t, e, nil)
	body := "{\"external_id\":\"N-1\",\"last_name\":\"L\xff\xfee\"}\n{\"external_id\":\"N-2\",\"last_name\":\"Lee\"}\n"
	r := e.doContentType("POST", "/v1/breaches/"+b.ID+"/recipients", breach.RoleAdmin, body, "application/x-ndjson")
	var rep breach.UploadReport
	r.json(t, &rep)
	if r.Status != 200 || rep.Accepted != 1 || len(rep.Rejected) != 1 || rep.Rejected[0].Field != "last_name" ||
		!strings.Contains(rep.Rejected[0].Reason, "UTF-8") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}

// TestMetricsCardinality: invented methods and paths fold into one label value each.
func TestMetricsCardinality(t *testing.T) {
	e := newEnv(t)
	for i := range 30 {
		for _, target := range []string{"/v1/breaches", fmt.Sprintf("/no/such/route/%d", i)} {
			req, _ := http.NewRequest(fmt.Sprintf("ANYTHING%d", i), e.srv.URL+target, nil)
			res, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
		}
	}
	m := string(e.do("GET", "/metrics", noKey, nil).Body)
	lines := grepLines(m, "breachd_http_requests_total{")
	if strings.Contains(m, "ANYTHING") || strings.Contains(m, "/no/such") {
		t.Fatalf("metrics grew:\n%s", lines)
	}
	if n := strings.Count(lines, "\n") + 1; n > 4 {
		t.Fatalf("%d series for 60 requests:\n%s", n, lines)
	}
	if !strings.Contains(lines, `method="other"`) {
		t.Fatalf("no folded series:\n%s", lines)
	}
}

// TestResponseHeaders: a 405 says what the route takes; every /v1 answer may not be cached or
// sniffed; a text answer says it is UTF-8.
func TestResponseHeaders(t *testing.T) {
	e := newEnv(t)
	r := e.do("DELETE", "/v1/breaches", breach.RoleAdmin, nil)
	if r.Status != 405 || r.Header.Get("Allow") != "GET, POST" {
		t.Fatalf("405: Allow %q", r.Header.Get("Allow"))
	}
	b := createBreach(t, e, nil)
	for _, c := range []struct {
		path, ct string
	}{
		{"/v1/breaches/" + b.ID, "application/json"},
		{"/v1/breaches/" + b.ID + "/notices.csv", "text/csv; charset=utf-8"},
		{"/v1/breaches/nope", "application/problem+json"},
	} {
		r := e.do("GET", c.path, breach.RoleAdmin, nil)
		if got := r.Header.Get("Content-Type"); got != c.ct {
			t.Errorf("%s: Content-Type %q, want %q", c.path, got, c.ct)
		}
		if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", c.path, r.Header)
		}
	}
}

// TestInvalidInputNamesItsField: each of these once got a 422 naming no field (or no 422 at all).
func TestInvalidInputNamesItsField(t *testing.T) {
	e := newEnv(t)
	b := createBreach(t, e, nil)
	raw := func(affected string, extra string) string {
		return `{"determination":{"title":"x","discovered_on":"2026-03-03","data_elements":["ssn"],"risk_of_harm":"likely","affected_count":` +
			affected + extra + `}}`
	}
	for _, c := range []struct {
		name, method, path string
		body               any
		field, reason      string
	}{
		{"integer written 1.0", "POST", "/v1/breaches", raw("1.0", ""), "determination.affected_count", "whole number"},
		{"integer written 1e3", "POST", "/v1/breaches", raw("1e3", ""), "determination.affected_count", "whole number"},
		{"integer written -0.0", "POST", "/v1/breaches", raw("-0.0", ""), "determination.affected_count", "whole number"},
		{"null for a non-nullable field", "POST", "/v1/breaches", raw("5", `,"reporter":null`), "determination.reporter", "not nullable"},
		{"the server's own zone", "POST", "/v1/breaches", raw("5", `,"time_zone":"Local"`), "determination.time_zone", "IANA"},
		{"a future discovery", "POST", "/v1/breaches", map[string]any{"determination": determination(map[string]any{"discovered_on": "2027-06-01", "occurred_on": nil})},
			"determination.discovered_on", "is in the future (today is 2026-03-20"},
		{"year 10000", "POST", "/v1/breaches", map[string]any{"determination": determination(map[string]any{"discovered_on": "10000-01-01"})},
			"determination.discovered_on", ""},
		{"year 9999", "POST", "/v1/assessments", map[string]any{"determination": determination(nil), "as_of": "9999-12-31"}, "as_of", "outside the years 1900 to 9899"},
		{"year 1899", "POST", "/v1/assessments", map[string]any{"determination": determination(map[string]any{"occurred_on": "1899-12-31"})},
			"determination.occurred_on", "outside the years"},
		{"a repeated query parameter", "GET", "/v1/breaches?limit=1&limit=2", nil, "limit", "more than once"},
		{"a garbage breach cursor", "GET", "/v1/breaches?cursor=garbage", nil, "cursor", "not a cursor"},
		{"a garbage recipient cursor", "GET", "/v1/breaches/" + b.ID + "/recipients?cursor=garbage", nil, "cursor", "not a cursor"},
		{"a garbage notice cursor", "GET", "/v1/breaches/" + b.ID + "/notices?cursor=garbage", nil, "cursor", "not a cursor"},
		{"a title of 201 characters", "POST", "/v1/breaches", map[string]any{"determination": determination(map[string]any{"title": strings.Repeat("ệ", 201)})},
			"determination.title", "200"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, breach.RoleAdmin, c.body)
			if r.Status != 422 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			f := r.fields(t)
			reason, ok := f[c.field]
			if !ok || !strings.Contains(reason, c.reason) {
				t.Fatalf("fields %v, want %s: …%s…", f, c.field, c.reason)
			}
		})
	}
}

// TestLengthsCountCharacters: the contract's limits are in characters; Vietnamese takes three
// bytes a letter.
func TestLengthsCountCharacters(t *testing.T) {
	e := newEnv(t)
	title := strings.Repeat("ệ", 200) // 200 characters, 600 bytes
	b := createBreach(t, e, map[string]any{"title": title})
	name := strings.Repeat("Nguyễn", 33) // 198 characters, 264 bytes
	r := e.doContentType("POST", "/v1/breaches/"+b.ID+"/recipients", breach.RoleAdmin,
		"external_id,last_name\nV-1,"+name+"\nV-2,"+name+"ễễễ\n", "text/csv")
	var rep breach.UploadReport
	r.json(t, &rep)
	if rep.Accepted != 1 || len(rep.Rejected) != 1 || rep.Rejected[0].Row != 2 || !strings.Contains(rep.Rejected[0].Reason, "200 characters") {
		t.Fatalf("%s", r.Body)
	}
}

// TestDaysRemainingDoesNotSaturate: a day count across the years accepted is exact (a Duration
// would stop at ±106,751 days).
func TestDaysRemainingDoesNotSaturate(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/v1/assessments", breach.RoleAdmin, map[string]any{
		"determination": determination(map[string]any{"discovered_on": "9899-11-01", "occurred_on": nil}), "as_of": "9899-12-31"})
	var p breach.Plan
	r.json(t, &p)
	if r.Status != 200 || p.Deadline.String() != "9899-12-16" || p.DaysRemaining == nil || *p.DaysRemaining != -15 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	r = e.do("POST", "/v1/assessments", breach.RoleAdmin, map[string]any{
		"determination": determination(map[string]any{"discovered_on": "1900-01-01", "occurred_on": nil}), "as_of": "9899-12-31"})
	r.json(t, &p)
	want := breach.MustDate("1900-02-15").Time().Unix()/86400 - breach.MustDate("9899-12-31").Time().Unix()/86400
	if r.Status != 200 || p.DaysRemaining == nil || int64(*p.DaysRemaining) != want {
		t.Fatalf("days_remaining %v, want %d: %s", p.DaysRemaining, want, r.Body)
	}
}
