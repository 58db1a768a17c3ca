package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	givenCountRE = regexp.MustCompile(`<span class="n">(\d+)</span> given`)
	// The chart's table: its last row is today, with the notices given so far.
	givenRowRE = regexp.MustCompile(`<tr><td>([^<]+)</td><td class="num">(-?\d+)</td><td class="num">(\d+)</td></tr>`)
)

// TestStatusChart: the status page's chart of notices given over time ends on the page's given
// count (both come from the store's counters), is drawn with its words for a screen reader and a
// table of its numbers, and marks the deadline.
func TestStatusChart(t *testing.T) {
	e := newEnv(t)
	dana := e.signIn("dana")
	id := e.dispatched(dana, letterPeople)
	sam, avery := e.signIn("sam"), e.signIn("avery")
	status := "/breaches/" + id + "/status"

	p := avery.get(status)
	if p.Status != http.StatusOK {
		t.Fatalf("status: %d", p.Status)
	}
	checkPage(t, "status before anything is given", p)
	mustContain(t, p.Body, "Notices given over time", `<title id="ch-title-wide">Notices given over time</title>`,
		"0 of 3 notices given by 20 March 2026, counted day by day from 3 March 2026; the deadline is", "Deadline 17 Apr")
	wantFinal(t, p.Body, 0, "20 Mar 2026")

	mailBatch(t, sam, id, "2026-03-20")
	// Two days later the letters still count on the day they went to the post.
	e.advance(48 * time.Hour)
	p = e.signIn("avery").get(status) // a new session: the first has expired meanwhile
	wantFinal(t, p.Body, 3, "22 Mar 2026")
	mustContain(t, p.Body, "<tr><td>20 Mar 2026</td><td class=\"num\">3</td><td class=\"num\">3</td></tr>",
		"3 of 3 notices given by 22 March 2026")
}

// wantFinal checks that the chart's last point is the page's given count, and is want.
func wantFinal(t *testing.T, body string, want int, today string) {
	t.Helper()
	m := givenCountRE.FindStringSubmatch(body)
	rows := givenRowRE.FindAllStringSubmatch(body, -1)
	if m == nil || len(rows) == 0 {
		t.Fatalf("no given count (%v) or no chart table (%d rows)", m != nil, len(rows))
	}
	given, _ := strconv.Atoi(m[1])
	final, _ := strconv.Atoi(rows[len(rows)-1][3])
	if final != given || given != want {
		t.Errorf("the chart ends on %d, the page counts %d given; want %d", final, given, want)
	}
	if day := rows[len(rows)-1][1]; day != today {
		t.Errorf("the chart's last day is %s, not today", day)
	}
}

// TestPeopleSearch: the people page searches by name or ID through the API's q, keeps the
// search and the list shown across pages, and says why the API refused a search.
func TestPeopleSearch(t *testing.T) {
	e := newEnv(t)
	dana := e.signIn("dana")
	id := e.dispatched(dana, letterPeople)
	sam := e.signIn("sam")
	people := "/breaches/" + id + "/people"

	p := sam.get(people + "?q=NGUYEN")
	if p.Status != http.StatusOK {
		t.Fatalf("search: %d", p.Status)
	}
	checkPage(t, "people searched", p)
	mustContain(t, p.Body, `<label for="f-q">Search by name or ID</label>`, `value="NGUYEN"`, "Hồng Nguyễn", "Clear the search")
	// On a phone each person is a card of stacked cells, each named by its column (console.css).
	mustContain(t, p.Body, `<table class="stacked">`, `<th scope="row">Hồng Nguyễn`, `<td data-label="External ID">`, `<td data-label="Language">`)
	if strings.Contains(p.Body, "Ana Lopez") || strings.Contains(p.Body, "Sam Okafor") {
		t.Error("the search lists people it does not match")
	}
	if p := sam.get(people + "?q=l-3"); !strings.Contains(p.Body, "Sam Okafor") || strings.Contains(p.Body, "Ana Lopez") {
		t.Error("the search by external ID does not find L-3 alone")
	}
	if p := sam.get(people + "?q=smith"); !strings.Contains(p.Body, "No one matches the search.") {
		t.Error("a search with no match does not say so")
	}
	if p := sam.get(people + "?q=lopez&show=out_of_state"); !strings.Contains(p.Body, "No one matches the search.") {
		t.Error("the search ignores the list shown")
	}
	p = sam.get(people + "?q=" + strings.Repeat("x", 101))
	if p.Status != http.StatusOK {
		t.Fatalf("a search too long: %d", p.Status)
	}
	mustContain(t, p.Body, `id="f-q-error"`, `aria-invalid="true"`)
	checkPage(t, "people with a refused search", p)
}

// TestStatusChartOlderBreach: a breach whose notices were given before the per-day counters were
// kept (its counters written in Redis as such a breach has them: given more than the days add
// up to) has a chart and a table that say, in words, how many are on no day, and end on the
// page's given count.
func TestStatusChartOlderBreach(t *testing.T) {
	e := newEnv(t)
	dana := e.signIn("dana")
	id := e.dispatched(dana, letterPeople)
	sam := e.signIn("sam")
	mailBatch(t, sam, id, "2026-03-20")
	// Two of the three letters were mailed before the day was counted: the day holds one.
	days := "breachd:breach:{" + id + "}:notices:given-by-day"
	if err := e.rdb.Del(t.Context(), days).Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.rdb.HSet(t.Context(), days, "2026-03-20", 1).Err(); err != nil {
		t.Fatal(err)
	}

	p := e.signIn("avery").get("/breaches/" + id + "/status")
	if p.Status != http.StatusOK {
		t.Fatalf("status: %d", p.Status)
	}
	checkPage(t, "status of an older breach", p)
	note := "2 notices given before daily counts were kept are not placed on a day"
	mustContain(t, p.Body,
		"3 of 3 notices given by 20 March 2026, counted day by day from 3 March 2026; "+note, // the chart's words
		`<p class="chart-note">The chart ends on the 3 notices given: `+note,                 // under it
		"+2 on no day", // on it
		`<tr><td>20 Mar 2026</td><td class="num">1</td><td class="num">1</td></tr>`,
		`<tfoot><tr><th scope="row">`+note+`</th><td class="num">2</td><td class="num">3</td></tr></tfoot>`)
	m := givenCountRE.FindStringSubmatch(p.Body)
	if m == nil || m[1] != "3" {
		t.Errorf("the page counts %v given, not 3", m)
	}
	// The line ends on the given count, here the total's dashed line, wide and narrow.
	totals := regexp.MustCompile(`<line x1="\d+" y1="([\d.]+)" x2="\d+" y2="[\d.]+" stroke="#505a5f" stroke-dasharray="6 4"/>`).FindAllStringSubmatch(p.Body, -1)
	ends := regexp.MustCompile(`<circle cx="[\d.]+" cy="([\d.]+)" r="5"`).FindAllStringSubmatch(p.Body, -1)
	if len(totals) != 2 || len(ends) != 2 || totals[0][1] != ends[0][1] || totals[1][1] != ends[1][1] {
		t.Errorf("the chart's line does not end on the given count: total at %v, end at %v", totals, ends)
	}
	if strings.Count(p.Body, "+2 on no day") != 2 {
		t.Error("the chart does not mark the notices on no day, wide and narrow")
	}
}

// mailBatch has clerk sam make a print batch of breach id in the print room and mark it mailed on
// day.
func mailBatch(t *testing.T, sam *browser, id, day string) {
	t.Helper()
	room := "/breaches/" + id + "/print"
	sam.get(room)
	b := sam.post(room, nil)
	bid := strings.TrimPrefix(b.Header.Get("Location"), room+"#batch-")
	if p := sam.post(room+"/"+bid+"/mailed", url.Values{"mailed_on": {day}, "number": {"1"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("mark mailed: %d %s", p.Status, p.Body)
	}
}
