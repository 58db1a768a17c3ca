package letters

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

// closureReport is the record of docBreach once closed: the plan as of the closing day, counts,
// a website posting, two outlets, three agency notices, an outcome and n events.
func closureReport(t *testing.T, n int) breach.ClosureReport {
	t.Helper()
	b := docBreach()
	b.Status = breach.StatusClosed
	counts, rc := docCounts()
	plan, err := rules.AssessBreach(b, rc, breach.MustDate("2026-05-01"))
	if err != nil {
		t.Fatal(err)
	}
	met := true
	closed := time.Date(2026, 5, 1, 17, 45, 0, 0, time.UTC)
	return breach.ClosureReport{
		Breach: b, Plan: plan, Recipients: rc, Notices: counts,
		Progress: counts.Progress(time.Date(2026, 4, 10, 15, 0, 0, 0, time.UTC)), DeadlineMet: &met,
		Substitute: breach.SubstituteRecord{
			Website: breach.WebsitePosting{URL: "https://www.pikecreek.k12.in.us/notice", PostedBy: "k-3f9a",
				PostedAt: time.Date(2026, 3, 20, 13, 0, 0, 0, time.UTC), TakenDownBy: "k-3f9a",
				TakenDownAt: time.Date(2026, 4, 30, 13, 0, 0, 0, time.UTC)},
			Outlets: []breach.MediaOutlet{
				{Name: "The Indianapolis Star", Kind: "newspaper", Audience: 3_900_000, NotifiedOn: breach.MustDate("2026-03-20")},
				{Name: "WTHR 13", Kind: "television", Audience: 1_400_000, Local: true, NotifiedOn: breach.MustDate("2026-03-20")},
			},
		},
		Agencies: []breach.AgencyNoticeRecord{
			{Agency: breach.AgencyEquifax, SentOn: breach.MustDate("2026-03-21"), SentBy: "k-3f9a"},
			{Agency: breach.AgencyExperian, SentOn: breach.MustDate("2026-03-21"), SentBy: "k-3f9a"},
			{Agency: breach.AgencyTransUnion, SentOn: breach.MustDate("2026-03-21"), SentBy: "k-3f9a",
				SentAt: time.Date(2026, 3, 21, 14, 0, 0, 0, time.UTC)},
		},
		Events: testEvents(n),
		Outcome: &breach.Outcome{
			Summary: "Every reachable person was told by April 10. The export was disabled and the staff retrained.\n" +
				"Four people with no contact details were covered by the web-site and media notice.",
			LessonsLearned: "Reports containing Social Security numbers need a second approval.",
			ClosedAt:       closed, ClosedBy: "k-3f9a",
		},
		GeneratedAt: closed.Add(time.Minute),
	}
}

// testEvents returns n events a realistic breach could have, oldest first; event i's summary
// names it ("event 7: ...") so the timeline can be checked entry by entry.
func testEvents(n int) []breach.Event {
	kinds := []struct {
		typ   breach.EventType
		actor string
		role  breach.Role
		what  string
	}{
		{breach.EventBreachCreated, "k-3f9a", breach.RoleAdmin, "breach recorded"},
		{breach.EventHoldPlaced, "k-3f9a", breach.RoleAdmin, "hold placed at the request of the Indiana State Police"},
		{breach.EventHoldReleased, "k-3f9a", breach.RoleAdmin, "hold released"},
		{breach.EventRecipientsUploaded, "k-77c1", breach.RoleClerk, "1,250 recipients uploaded"},
		{breach.EventDispatched, "k-3f9a", breach.RoleAdmin, "plan approved; notices created"},
		{breach.EventNoticeMailed, "k-77c1", breach.RoleClerk, "letter mailed in print batch 2"},
		{breach.EventNoticeFailed, "breachd", "", "email bounced: mailbox unavailable; a letter replaces it"},
		{breach.EventCallAttempt, "Zoë O'Brien-Ångström", breach.RoleClerk, "call answered: conversation held"},
	}
	start := time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)
	evs := make([]breach.Event, n)
	for i := range evs {
		k := kinds[i%len(kinds)]
		evs[i] = breach.Event{ID: strconv.Itoa(i + 1), Type: k.typ, Actor: k.actor, Role: k.role,
			At: start.Add(time.Duration(i) * 97 * time.Minute), Summary: fmt.Sprintf("event %d: %s", i+1, k.what)}
	}
	return evs
}

var closureSections = []string{"Closure report", "Determination", "Decisions of the plan", "Deadline",
	"Law-enforcement holds", "People affected", "Notices by channel and status", "Substitute notice",
	"Agency notices", "Outcome", "Timeline"}

func TestClosureReport(t *testing.T) {
	docs := testDocuments(t)
	r := closureReport(t, 30)
	path, _ := writePDF(t, "closure", func(w io.Writer) error { return docs.ClosureReport(context.Background(), w, r) })
	text := pdfLayoutPlain(t, path)
	want := append([]string{}, closureSections...)
	for _, rs := range r.Plan.Reasons {
		want = append(want, rs.Code)
	}
	for _, e := range r.Events {
		want = append(want, e.At.In(r.Breach.Determination.Location()).Format("2006-01-02 15:04 MST")+" ")
	}
	want = append(want,
		"Breach ID B-42", "School Metropolitan School District of Pike Creek", "Generated at 2026-05-01 13:46 EDT",
		"Reporter anonymous", "Notice cost estimate $18,750.50", "Indiana residents 1,200",
		"Counted 1,250 affected (estimate and upload agree), 1,203 Indiana residents (the upload)",
		"Deadline 2026-04-17", "Deadline met yes",
		"Indiana State Police Cybercrime Unit 2026-03-05 2026-03-12 yes",
		"Letter 12 0 812 0 0 9 833 821", "All 12 301 812 40 20 9 1,194 1,162",
		"Posted 2026-03-20 09:00 EDT by k-3f9a", "Taken down 2026-04-30 09:00 EDT by k-3f9a",
		"The Indianapolis Star newspaper 3,900,000", "WTHR 13 television 1,400,000 yes", "Total audience 5,300,000",
		"equifax 2026-03-21", "transunion 2026-03-21 2026-03-21 10:00 EDT k-3f9a",
		"Every reachable person was told by April 10.", "Lessons learned Reports containing Social Security numbers",
		"Closed at 2026-05-01 13:45 EDT", "Closed by k-3f9a",
		"2026-03-03 09:00 EST k-3f9a admin breach.created event 1: breach recorded",
		"Zoë", "O'Brien-Ångström", "Page 1 of")
	for _, s := range want {
		if !strings.Contains(text, s) {
			t.Errorf("closure report lacks %q", s)
		}
	}
	// Each entry's summary, read from the summary column alone so that wrapped cells read whole.
	summaries := summaryColumn(t, path, r.Events)
	for _, e := range r.Events {
		if !strings.Contains(summaries+" ", e.Summary+" ") { // "event 3: " is not a prefix of "event 30: "
			t.Errorf("timeline lacks %q", e.Summary)
		}
	}
	if strings.Contains(text, "Kim Søndergaard") || strings.Contains(text, "ksondergaard") {
		t.Error("the anonymous reporter's identity is printed")
	}
	if t.Failed() {
		t.Logf("text:\n%s", text)
	}
	info := poppler(t, "pdfinfo", path)
	if !regexp.MustCompile(`Title:\s+Closure report — Student information system export\n`).MatchString(info) {
		t.Errorf("pdfinfo title:\n%s", info)
	}

	t.Run("deadline open and no outcome", func(t *testing.T) {
		r := closureReport(t, 3)
		r.DeadlineMet, r.Outcome = nil, nil
		path, _ := writePDF(t, "open", func(w io.Writer) error { return docs.ClosureReport(context.Background(), w, r) })
		text := pdfLayoutPlain(t, path)
		for _, s := range []string{"Deadline met open", "No outcome is recorded"} {
			if !strings.Contains(text, s) {
				t.Errorf("lacks %q:\n%s", s, text)
			}
		}
	})

	t.Run("a reporter who is not anonymous", func(t *testing.T) {
		r := closureReport(t, 3)
		r.Breach.Determination.Reporter.Anonymous = false
		path, _ := writePDF(t, "named", func(w io.Writer) error { return docs.ClosureReport(context.Background(), w, r) })
		if s := "Reporter Kim Søndergaard, Registrar, ksondergaard@pikecreek.example"; !strings.Contains(pdfLayoutPlain(t, path), s) {
			t.Errorf("lacks %q", s)
		}
	})

	t.Run("unprintable character names the field", func(t *testing.T) {
		r := closureReport(t, 30)
		r.Events[12].Summary = "call answered by राम शर्मा"
		var buf bytes.Buffer
		err := docs.ClosureReport(context.Background(), &buf, r)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "events[12].summary" || fe.Rune != 'र' || breach.ErrorCode(err) != breach.EINVALID {
			t.Fatalf("err = %v, want events[12].summary unrenderable", err)
		}
		if buf.Len() != 0 {
			t.Error("a report that cannot be printed wrote bytes")
		}
		if msg := breach.ErrorMessage(err); msg != "the closure report cannot be written" {
			t.Errorf("message = %q, want it to say the closure report cannot be written", msg)
		}
	})
}

func TestClosureReportLongTimeline(t *testing.T) {
	docs := testDocuments(t)
	short := closureReport(t, 30)
	long := closureReport(t, 400)
	pShort, _ := writePDF(t, "short", func(w io.Writer) error { return docs.ClosureReport(context.Background(), w, short) })
	pLong, bytes1 := writePDF(t, "long", func(w io.Writer) error { return docs.ClosureReport(context.Background(), w, long) })
	nShort, nLong := pdfPages(t, pShort), pdfPages(t, pLong)
	if nLong <= nShort+5 {
		t.Errorf("400 events take %d pages, 30 take %d: want many more", nLong, nShort)
	}

	// Every page says which page it is of how many, and every page of the timeline after the first
	// repeats the running header and the table's header row.
	layoutText := pdfText(t, pLong)
	pages := strings.Split(layoutText, "\f")
	timelineStart := 0
	for i, p := range pages[:nLong] {
		if !strings.Contains(p, fmt.Sprintf("Page %d of %d", i+1, nLong)) {
			t.Errorf("page %d lacks %q", i+1, fmt.Sprintf("Page %d of %d", i+1, nLong))
		}
		if i > 0 && !strings.Contains(p, "Closure report · Breach B-42") {
			t.Errorf("page %d lacks the running header", i+1)
		}
		if timelineStart == 0 && regexp.MustCompile(`(?m)^\s*Timeline\s*$`).MatchString(p) {
			timelineStart = i
		}
	}
	if timelineStart == 0 {
		t.Fatal("no page starts the timeline")
	}
	header := regexp.MustCompile(`Time\s+Actor\s+Role\s+Type\s+Summary`)
	for i := timelineStart; i < nLong; i++ {
		if !header.MatchString(pages[i]) {
			t.Errorf("timeline page %d lacks the table header:\n%s", i+1, pages[i])
		}
	}
	summaries := summaryColumn(t, pLong, long.Events) + " "
	last := -1
	for _, e := range long.Events {
		i := strings.Index(summaries, e.Summary+" ")
		if i < 0 {
			t.Errorf("timeline lacks %q", e.Summary)
			continue
		}
		if i < last {
			t.Errorf("%q is out of order", e.Summary)
		}
		last = i
	}

	// Deterministic for a fixed GeneratedAt, whatever the renderer's clock says.
	other, err := NewRenderer(Options{Clock: func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := NewDocuments(other, testMailing().Sender).ClosureReport(context.Background(), &again, long); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes1, again.Bytes()) {
		t.Error("the same closure report rendered twice differs")
	}
	if info := poppler(t, "pdfinfo", pLong); !strings.Contains(info, "May  1 ") {
		t.Errorf("creation date is not GeneratedAt:\n%s", info)
	}
}

// pdfLayoutPlain is the text as pdftotext -layout reads it — a table row on one line — with every
// run of white space made one space.
func pdfLayoutPlain(t *testing.T, path string) string {
	t.Helper()
	return strings.Join(strings.Fields(pdfText(t, path)), " ")
}

// summaryColumn is the text of every page right of where the timeline's Summary column starts,
// with white space joined: wrapped summaries read whole.
func summaryColumn(t *testing.T, path string, events []breach.Event) string {
	t.Helper()
	// Time and Type are as wide as their widest cells need; Actor and Role take 24%.
	rep := newReport(testRenderer(t), checker{}, nil)
	tw := rep.fit([]string{"2026-03-03 09:00 EST"}, 0.22)
	types := make([]string, len(events))
	for i, e := range events {
		types[i] = string(e.Type)
	}
	yw := rep.fit(types, 0.26)
	x := int(float64(repMarginL) + (tw+0.24+yw)*float64(repWidth) - 2)
	return strings.Join(strings.Fields(poppler(t, "pdftotext", "-x", strconv.Itoa(x), "-y", "0",
		"-W", strconv.Itoa(612-x), "-H", "750", path, "-")), " ")
}

func pdfPages(t *testing.T, path string) int {
	t.Helper()
	m := regexp.MustCompile(`Pages:\s+(\d+)`).FindStringSubmatch(poppler(t, "pdfinfo", path))
	if m == nil {
		t.Fatalf("pdfinfo gives no page count for %s", path)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestDocumentsPNG renders the five agency documents, the press release and the closure report to PNG in
// $LETTERS_PNG_DIR for a person to look at; without the variable it only checks pdftoppm runs.
func TestDocumentsPNG(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("LETTERS_PNG_DIR"); d != "" {
		dir = d
	}
	docs := testDocuments(t)
	counts, rc := docCounts()
	long := closureReport(t, 60)
	renders := map[string]func(io.Writer) error{
		"press": func(w io.Writer) error {
			return docs.MediaNotice(context.Background(), w, docBreach(), "en", breach.MustDate("2026-03-20"))
		},
		"closure": func(w io.Writer) error { return docs.ClosureReport(context.Background(), w, long) },
		"closure-duties-open": func(w io.Writer) error {
			return docs.ClosureReport(context.Background(), w, withWaivers(closureReport(t, 12)))
		},
	}
	for _, a := range breach.Agencies {
		c := caseDocument(t, docBreach(), counts, rc, breach.MustDate("2026-03-20"))
		renders["agency-"+string(a)] = func(w io.Writer) error { return docs.AgencyDocument(context.Background(), w, a, c) }
	}
	partial := partialCase(t)
	renders["agency-partial-attorney_general"] = func(w io.Writer) error {
		return docs.AgencyDocument(context.Background(), w, breach.AgencyAttorneyGeneral, partial)
	}
	for name, render := range renders {
		path, _ := writePDF(t, name, render)
		poppler(t, "pdftoppm", "-png", "-r", "60", path, filepath.Join(dir, name))
	}
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Fatal(err)
	}
}

func TestDocumentsContext(t *testing.T) {
	docs := testDocuments(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	counts, rc := docCounts()
	for name, err := range map[string]error{
		"agency letter": docs.AgencyDocument(ctx, io.Discard, breach.AgencyEquifax, caseDocument(t, docBreach(), counts, rc, breach.MustDate("2026-03-20"))),
		"press release": docs.MediaNotice(ctx, io.Discard, docBreach(), "en", breach.MustDate("2026-03-20")),
		"closure":       docs.ClosureReport(ctx, io.Discard, closureReport(t, 30)),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", name, err)
		}
	}
	if err := docs.ClosureReport(context.Background(), io.Discard, breach.ClosureReport{}); breach.ErrorCode(err) != breach.EINVALID {
		t.Errorf("closure report without a breach: err = %v, want EINVALID", err)
	}
}

// withWaivers gives r a ledger in which two duties were waived: the media part of the substitute
// notice when the breach was closed (a record with at_close), and the FERPA record in the ledger.
func withWaivers(r breach.ClosureReport) breach.ClosureReport {
	at := time.Date(2026, 5, 1, 17, 40, 0, 0, time.UTC)
	r.Breach.Obligations = []breach.ObligationRecord{
		{Obligation: breach.ObligationSubstituteMedia, Status: breach.ObligationWaived, By: "k-3f9a", At: at.Add(-48 * time.Hour),
			Reason: "first waiver, later reopened"},
		{Obligation: breach.ObligationSubstituteMedia, Status: breach.ObligationOpen, By: "k-3f9a", At: at.Add(-24 * time.Hour)},
		{Obligation: breach.ObligationSubstituteMedia, Status: breach.ObligationWaived, AtClose: true, By: "k-3f9a", At: at,
			Reason: "The television station never confirmed the broadcast; counsel agreed to close."},
		{Obligation: breach.ObligationEquifax, Status: breach.ObligationWaived, AtClose: true, By: "k-3f9a", At: at.Add(-72 * time.Hour),
			Reason: "superseded"},
		{Obligation: breach.ObligationEquifax, Status: breach.ObligationDone, By: "k-3f9a", At: at.Add(-time.Hour)},
	}
	letters := r.Progress.ByChannel[breach.MethodLetter]
	calls := r.Progress.ByChannel[breach.MethodPhone]
	r.Obligations = []breach.Obligation{
		{ID: breach.ObligationNoticeLetter, Title: "Individual notice by letter", Citation: "IC 24-4.9-3-3",
			Due: breach.MustDate("2026-04-17"), Status: breach.ObligationOpen, Reason: "12 letters are not mailed yet",
			Evidence: breach.ObligationEvidence{Notices: &letters}},
		{ID: breach.ObligationSubstituteWebsite, Title: "Substitute notice: web-site posting", Citation: "IC 24-4.9-3-4(b)",
			Due: breach.MustDate("2026-04-17"), Status: breach.ObligationDone, RecordedBy: "k-3f9a",
			RecordedAt: time.Date(2026, 3, 20, 13, 0, 0, 0, time.UTC), Evidence: breach.ObligationEvidence{URL: "https://www.pikecreek.k12.in.us/notice"}},
		{ID: breach.ObligationOfficeOfTechnology, Title: "Report to the Indiana Office of Technology", Citation: "IC 4-13.1-2-9",
			Due: breach.MustDate("2026-03-05"), DueRule: "2 business days after discovery", Status: breach.ObligationDone, RecordedBy: "k-3f9a",
			RecordedAt: time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC), Evidence: breach.ObligationEvidence{DocumentSHA256: strings.Repeat("ab12", 16)}},
		{ID: breach.ObligationFERPARecord, Title: "FERPA record of disclosure", Citation: "34 CFR 99.32",
			Status: breach.ObligationWaived, RecordedBy: "k-77c1", RecordedAt: at.Add(-time.Hour),
			Waiver: "The registrar keeps the record in the student information system."},
		{ID: breach.ObligationNoticePhone, Title: "Individual notice by telephone", Citation: "IC 24-4.9-3-4(a)",
			Due: breach.MustDate("2026-04-17"), Status: breach.ObligationDone, Evidence: breach.ObligationEvidence{Notices: &calls}},
	}
	return r
}

func TestClosureReportObligations(t *testing.T) {
	docs := testDocuments(t)
	r := withWaivers(closureReport(t, 12))
	path, _ := writePDF(t, "ledger", func(w io.Writer) error { return docs.ClosureReport(context.Background(), w, r) })
	pages := strings.Split(pdfText(t, path), "\f")
	page1 := strings.Join(strings.Fields(pages[0]), " ")
	// The box is on page 1, above the determination, and names each waived duty with its reason.
	for _, s := range []string{"Closed with duties open", "The breach was closed with these duties not done.",
		"• FERPA record of disclosure (34 CFR 99.32)", "The registrar keeps the record in the student information system.",
		"• substitute.major_media", "The television station never confirmed the broadcast; counsel agreed to close.",
		"Waived by k-3f9a, 2026-05-01 13:40 EDT"} {
		if !strings.Contains(page1, s) {
			t.Errorf("page 1 lacks %q:\n%s", s, page1)
		}
	}
	if strings.Index(page1, "Closed with duties open") > strings.Index(page1, "Determination") {
		t.Error("the box is not above the determination")
	}
	for _, s := range []string{"first waiver, later reopened", "superseded"} { // not the record in force
		if strings.Contains(pdfLayoutPlain(t, path), s) {
			t.Errorf("the report prints %q, a waiver no longer in force", s)
		}
	}
	// The ledger: each duty with its citation, due date, status, who recorded it and its evidence.
	text := pdfLayoutPlain(t, path)
	for _, s := range []string{"Obligations", "Duty Citation Due Status Recorded Evidence",
		// pdftotext -layout reads a table row line by line: the first line of each cell.
		"Individual notice by IC 24-4.9-3-3 2026-04-17 open — 821 of 833 given, 12 outstanding",
		// a failed call is done by the letter that replaced it: the row says so, not "done, 6 failed"
		"Individual notice by IC 24-4.9-3-4(a) 2026-04-17 done — 40 of 46 given, 6 failed, each",
		"Report to the Indiana IC 4-13.1-2-9 2026-03-05 done k-3f9a 2026-03-04 document SHA-256",
		"FERPA record of 34 CFR 99.32 — waived k-77c1 2026-05-01 Waived: The registrar keeps the",
		"Notices given 1,162 of 1,194", "Notices outstanding 12", "Notices failed 20"} {
		if !strings.Contains(text, s) {
			t.Errorf("closure report lacks %q", s)
		}
	}
	if t.Failed() {
		t.Logf("text:\n%s", text)
	}

	t.Run("no waiver, no box", func(t *testing.T) {
		r := closureReport(t, 3)
		path, _ := writePDF(t, "nobox", func(w io.Writer) error { return docs.ClosureReport(context.Background(), w, r) })
		text := pdfLayoutPlain(t, path)
		if strings.Contains(text, "duties open") || strings.Contains(text, "Duties waived") {
			t.Error("a report with no waiver shows the box")
		}
		if !strings.Contains(text, "The obligations ledger is not available for this report.") {
			t.Error("an empty ledger is not said to be unavailable")
		}
	})

	t.Run("waived before closing", func(t *testing.T) {
		r := withWaivers(closureReport(t, 3))
		r.Breach.Status, r.Outcome = breach.StatusDispatched, nil
		path, _ := writePDF(t, "waived", func(w io.Writer) error { return docs.ClosureReport(context.Background(), w, r) })
		text := pdfLayoutPlain(t, path)
		if !strings.Contains(text, "Duties waived These duties were waived") || strings.Contains(text, "Closed with duties open") {
			t.Errorf("an open breach's waivers:\n%s", text)
		}
	})

	t.Run("a waiver the font cannot print", func(t *testing.T) {
		r := withWaivers(closureReport(t, 3))
		r.Obligations[3].Waiver = "दर्ज"
		err := docs.ClosureReport(context.Background(), io.Discard, r)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "obligations[3].waiver" {
			t.Errorf("err = %v, want obligations[3].waiver unrenderable", err)
		}
	})
}
