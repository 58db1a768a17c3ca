package web_test

import (
	"bytes"
	"encoding/csv"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Three adults reached by letter, and two who prefer the phone.
const (
	letterPeople = "external_id,first_name,last_name,address_line1,city,state,postal_code,date_of_birth\n" +
		"L-1,Hồng,Nguyễn,4120 N Keystone Ave,Indianapolis,IN,46205,1970-01-01\n" +
		"L-2,Ana,Lopez,1 Main St,Carmel,IN,46032,1971-02-02\n" +
		"L-3,Sam,Okafor,9 Oak St,Fishers,IN,46037,1972-03-03\n"
	phonePeople = "external_id,first_name,last_name,address_line1,city,state,postal_code,phone,preferred_channel,language,date_of_birth\n" +
		"P-1,Ana,Ruiz,12 Elm St,Carmel,IN,46032,(317) 555-0141,phone,en,1975-05-05\n" +
		"P-2,Ben,Cole,14 Elm St,Carmel,IN,46032,(317) 555-0142,phone,en,1978-07-07\n"
)

// dispatched records a breach as dana, uploads people and sends the notices.
func (e *env) dispatched(dana *browser, people string) string {
	e.t.Helper()
	id := e.createBreach(dana)
	dana.get("/breaches/" + id + "/people")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", dana.csrf)
	fw, _ := mw.CreateFormFile("file", "people.csv")
	fw.Write([]byte(people))
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+"/breaches/"+id+"/people", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if p := dana.do(req); p.Status != http.StatusOK || strings.Contains(p.Body, "Rows not added") {
		e.t.Fatalf("upload: %d %s", p.Status, p.Body)
	}
	if p := dana.post("/breaches/"+id+"/dispatch", nil); p.Status != http.StatusOK || !strings.Contains(p.Body, "Notices queued") {
		e.t.Fatalf("dispatch: %d %s", p.Status, p.Body)
	}
	return id
}

// checkPage: the security headers, one h1 and labelled controls (as TestEveryPage checks).
func checkPage(t *testing.T, what string, p page) {
	t.Helper()
	checkHeaders(t, what, p)
	if n := len(h1RE.FindAllString(p.Body, -1)); n != 1 {
		t.Errorf("%s has %d h1", what, n)
	}
	checkLabels(t, what, p.Body)
}

// TestLinksByRole: the per-breach links and forms are offered only to the roles the contract's
// x-roles allow for the operation behind them.
func TestLinksByRole(t *testing.T) {
	e := newEnv(t)
	dana := e.signIn("dana")
	id := e.createBreach(dana)
	sam, avery := e.signIn("sam"), e.signIn("avery")
	links := map[string][]string{ // link → who sees it
		`href="/breaches/` + id + `/dispatch"`:      {"dana"},
		`href="/breaches/` + id + `/print"`:         {"dana", "sam", "avery"},
		`href="/breaches/` + id + `/calls"`:         {"dana", "sam"},
		`href="/breaches/` + id + `/determination"`: {"dana"},
		`href="/breaches/` + id + `/close"`:         {"dana"},
		`href="/breaches/` + id + `/notices.csv"`:   {"dana", "avery"},
		`href="/breaches/` + id + `/people"`:        {"dana", "sam", "avery"},
	}
	for name, b := range map[string]*browser{"dana": dana, "sam": sam, "avery": avery} {
		body := b.get("/breaches/" + id).Body
		for link, who := range links {
			want := strings.Contains(strings.Join(who, ","), name)
			if got := strings.Contains(body, link); got != want {
				t.Errorf("%s sees %s: %v, want %v", name, link, got, want)
			}
		}
		// A link shown is a page the role may open; a link hidden is one it may not.
		for _, path := range []string{"/dispatch", "/calls"} {
			p := b.get("/breaches/" + id + path)
			if shown := strings.Contains(body, `href="/breaches/`+id+path+`"`); shown != (p.Status == http.StatusOK) {
				t.Errorf("%s: link to %s shown %v, page answers %d", name, path, shown, p.Status)
			}
		}
		people := b.get("/breaches/" + id + "/people").Body
		if got := strings.Contains(people, "Upload people"); got != (name == "dana") {
			t.Errorf("%s sees the upload form: %v", name, got)
		}
	}
}

var manifestIDRE = regexp.MustCompile(`nt_[0-9A-Z]{26}`)

func TestPrintRoom(t *testing.T) {
	e := newEnv(t)
	dana := e.signIn("dana")
	id := e.dispatched(dana, letterPeople)
	sam, avery := e.signIn("sam"), e.signIn("avery")
	room := "/breaches/" + id + "/print"

	p := sam.get(room)
	if p.Status != http.StatusOK {
		t.Fatalf("print room: %d", p.Status)
	}
	checkPage(t, "clerk print room", p)
	mustContain(t, p.Body, "<h1>Print room</h1>", "3</span> letters are waiting", ">Make a print batch</button>", "No batch has been made yet",
		"Record returned mail", "Reprint one letter")

	// A form without the session's token is refused and makes nothing.
	if p := sam.post(room, url.Values{"csrf": {"forged"}}); p.Status != http.StatusForbidden {
		t.Errorf("make a batch without CSRF: %d", p.Status)
	}
	if p := sam.get(room); !strings.Contains(p.Body, "No batch has been made yet") {
		t.Fatal("a refused form made a batch")
	}
	// An auditor sees the batches (x-roles allow it) but is offered and allowed no change.
	if p := avery.get(room); p.Status != http.StatusOK || strings.Contains(p.Body, ">Make a print batch</button>") ||
		strings.Contains(p.Body, "Record returned mail") {
		t.Errorf("auditor print room: %d, or offered a change", p.Status)
	}
	if p := avery.post(room, nil); p.Status != http.StatusForbidden {
		t.Errorf("auditor makes a batch: %d", p.Status)
	}

	p = sam.post(room, nil)
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), room+"#batch-") {
		t.Fatalf("make a batch: %d %s", p.Status, p.Header.Get("Location"))
	}
	bid := strings.TrimPrefix(p.Header.Get("Location"), room+"#batch-")
	p = sam.get(room)
	if strings.Contains(p.Body, ">Make a print batch</button>") {
		t.Error("a batch is offered with no letter waiting")
	}
	mustContain(t, p.Body, "Batch 1 is made: 3 letters", "<h3 id=\"batch-"+bid+"-title\">Batch 1</h3>", "Not yet mailed",
		"Download the PDF of batch 1", "Download the manifest of batch 1 (CSV)", ">Mark mailed</button>",
		`value="2026-03-20"`) // the date field defaults to today in the breach's time zone
	checkPage(t, "print room with a batch", p)

	// The downloads stream the API's files.
	pdf := sam.get(room + "/" + bid + "/batch.pdf")
	if pdf.Status != http.StatusOK || pdf.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf.Body, "%PDF") {
		t.Errorf("batch PDF: %d %s", pdf.Status, pdf.Header.Get("Content-Type"))
	}
	man := sam.get(room + "/" + bid + "/manifest.csv")
	if man.Status != http.StatusOK || !strings.HasPrefix(man.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("manifest: %d %s", man.Status, man.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(man.Body)).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("manifest rows: %d %v", len(rows), err)
	}
	nid := manifestIDRE.FindString(man.Body)

	// Another batch: nothing is waiting, and the page says so in the API's words.
	p = sam.post(room, nil)
	if p.Status != http.StatusConflict {
		t.Errorf("a second batch with nothing waiting: %d", p.Status)
	}
	mustContain(t, p.Body, "There is a problem", "is waiting to be printed")

	// Mailed in the future: the API's refusal beside that batch's date, named by batch in the summary.
	mailed := room + "/" + bid + "/mailed"
	p = sam.post(mailed, url.Values{"mailed_on": {"2026-04-01"}, "number": {"1"}})
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("mailed in the future: %d", p.Status)
	}
	mustContain(t, p.Body, `href="#f-mailed_on-`+bid+`"`, "Batch 1 mailed on: ", `id="f-mailed_on-`+bid+`-error"`, `value="2026-04-01"`)
	if p := avery.post(mailed, url.Values{"mailed_on": {"2026-03-20"}}); p.Status != http.StatusForbidden {
		t.Errorf("auditor marks mailed: %d", p.Status)
	}
	if p := sam.post(mailed, url.Values{"mailed_on": {"2026-03-20"}, "number": {"1"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("mark mailed: %d %s", p.Status, p.Body)
	}
	p = sam.get(room)
	mustContain(t, p.Body, "Batch 1 is marked mailed on 20 March 2026", `<span class="met">Friday 20 March 2026</span>, recorded by user:sam`)
	if strings.Contains(p.Body, ">Mark mailed</button>") {
		t.Error("a mailed batch still offers Mark mailed")
	}

	// Returned mail: the notice number is checked by the API; a good one is recorded.
	ret := room + "/returned"
	p = sam.post(ret, url.Values{"notice": {""}, "returned_on": {"2026-03-20"}})
	mustContain(t, p.Body, "Enter the notice number printed on the returned letter", `href="#f-notice"`)
	p = sam.post(ret, url.Values{"notice": {"nt_nope"}, "returned_on": {"2026-03-20"}})
	if p.Status != http.StatusUnprocessableEntity {
		t.Errorf("a malformed notice number: %d", p.Status)
	}
	mustContain(t, p.Body, `href="#f-notice"`, `id="f-notice-error"`, `value="nt_nope"`)
	p = sam.post(ret, url.Values{"notice": {nid}, "returned_on": {"2026-03-20"}, "reason": {"Moved, left no address"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("returned: %d %s", p.Status, p.Body)
	}
	mustContain(t, sam.get(room).Body, "Letter "+nid+" is recorded as returned.")

	// Reprint: the page shows the hash the API sends with the letter, and that it matches.
	p = sam.get(room + "/reprint?reprint_notice=" + nid)
	if p.Status != http.StatusOK {
		t.Fatalf("reprint: %d", p.Status)
	}
	letter := sam.get("/notices/" + nid + "/letter.pdf")
	sum := letter.Header.Get("X-Letter-SHA256")
	if letter.Status != http.StatusOK || sum == "" || !strings.HasPrefix(letter.Body, "%PDF") {
		t.Fatalf("letter: %d %q", letter.Status, sum)
	}
	mustContain(t, p.Body, `<span class="hash" id="reprint-hash">`+sum+`</span>`, "The reprint matches the printed letter.",
		`href="/notices/`+nid+`/letter.pdf"`)
	checkPage(t, "reprint", p)
	p = sam.get(room + "/reprint?reprint_notice=nt_00000000000000000000000000")
	if p.Status != http.StatusNotFound {
		t.Errorf("reprint of no notice: %d", p.Status)
	}
	mustContain(t, p.Body, "No notice has this number", `href="#f-reprint_notice"`)

	// The notice page shows the whole history, for every role.
	for name, b := range map[string]*browser{"dana": dana, "sam": sam, "avery": avery} {
		p := b.get("/notices/" + nid)
		if p.Status != http.StatusOK {
			t.Fatalf("%s notice page: %d", name, p.Status)
		}
		checkPage(t, name+" notice", p)
		mustContain(t, p.Body, "<h1>Notice to ", "<h2>History</h2>", "notice.queued", "notice.sent", "notice.mailed", "notice.returned")
	}
	if p := sam.get("/notices/nt_00000000000000000000000000"); p.Status != http.StatusNotFound {
		t.Errorf("unknown notice: %d", p.Status)
	}
	// The status page links each count to the notices behind it, and they to their pages.
	st := avery.get("/breaches/" + id + "/status").Body
	mustContain(t, st, `href="/breaches/`+id+`/notices?channel=letter&amp;status=mailed"`)
	p = avery.get("/breaches/" + id + "/notices?channel=letter&status=returned")
	checkPage(t, "notices", p)
	mustContain(t, p.Body, `href="/notices/`+nid+`"`)
	if strings.Count(p.Body, `href="/notices/nt_`) != 1 {
		t.Errorf("the returned list shows %d notices, want 1", strings.Count(p.Body, `href="/notices/nt_`))
	}
	if p := avery.get("/breaches/" + id + "/notices?status=lost"); p.Status != http.StatusUnprocessableEntity {
		t.Errorf("a status the contract lacks: %d", p.Status)
	}
}

var callRE = regexp.MustCompile(`action="/breaches/br_[0-9A-Z]+/calls/(nt_[0-9A-Z]{26})"`)

func TestCallList(t *testing.T) {
	e := newEnv(t)
	dana := e.signIn("dana")
	id := e.dispatched(dana, phonePeople)
	sam, avery := e.signIn("sam"), e.signIn("avery")
	calls := "/breaches/" + id + "/calls"
	if p := avery.get(calls); p.Status != http.StatusForbidden {
		t.Errorf("auditor call list: %d", p.Status)
	}
	p := sam.get(calls)
	if p.Status != http.StatusOK {
		t.Fatalf("call list: %d", p.Status)
	}
	checkPage(t, "call list", p)
	mustContain(t, p.Body, "<h1>Call list</h1>", "Read this script", "Record outcome", "A said — ", "E said — ",
		">Conversation</button>", ">Wrong number</button>", ">No answer</button>", ">Voicemail</button>", "Waiting to be called")
	m := callRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatal("no call form")
	}
	first := m[1]
	// The script is marked with its language, so a screen reader reads it in that language.
	if !strings.Contains(p.Body, `<div class="script" lang="en">`) {
		t.Error("the script has no lang")
	}

	// A conversation with a part not ticked: the API's 422 naming parts_delivered is shown, the
	// same person stays on screen and what was ticked is kept.
	if p := sam.post(calls+"/"+first, url.Values{"csrf": {"forged"}, "outcome": {"conversation"}}); p.Status != http.StatusForbidden {
		t.Errorf("call outcome without CSRF: %d", p.Status)
	}
	p = sam.post(calls+"/"+first, url.Values{"outcome": {"conversation"}, "part": {"A", "B", "C", "D"}})
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("four parts: %d", p.Status)
	}
	mustContain(t, p.Body, `href="#f-parts_delivered"`, `id="parts-error"`, ">What you said (for a conversation): ", `/calls/`+first+`"`, `value="D" checked`)
	if strings.Contains(p.Body, `value="E" checked`) {
		t.Error("a part not ticked is shown ticked")
	}
	if p := avery.post(calls+"/"+first, url.Values{"outcome": {"conversation"}, "part": {"A", "B", "C", "D", "E"}}); p.Status != http.StatusForbidden {
		t.Errorf("auditor records a call: %d", p.Status)
	}

	// All five: notice given.
	p = sam.post(calls+"/"+first, url.Values{"outcome": {"conversation"}, "part": {"A", "B", "C", "D", "E"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("conversation: %d %s", p.Status, p.Body)
	}
	p = sam.get(p.Header.Get("Location"))
	mustContain(t, p.Body, "Notice given by telephone.", `href="/notices/`+first+`"`)
	m = callRE.FindStringSubmatch(p.Body)
	if m == nil || m[1] == first {
		t.Fatalf("the next call is not another person: %v", m)
	}
	second := m[1]

	// A wrong number: the page says a letter was queued and links to it.
	p = sam.post(calls+"/"+second, url.Values{"outcome": {"wrong_number"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("wrong number: %d %s", p.Status, p.Body)
	}
	p = sam.get(p.Header.Get("Location"))
	mustContain(t, p.Body, "Wrong number. A letter was queued for this person instead", "Nobody is waiting to be called")
	letter := regexp.MustCompile(`notice <a href="/notices/(nt_[0-9A-Z]{26})">`).FindStringSubmatch(p.Body)
	if letter == nil {
		t.Fatal("no link to the letter queued")
	}
	n := sam.get("/notices/" + letter[1])
	mustContain(t, n.Body, "letter", "Replaces", `href="/notices/`+second+`"`)
	mustContain(t, sam.get("/notices/"+second).Body, "Replaced by", "call.attempt")
}

// TestTimeline: the breach page draws discovery, a hold, the deadline and today, and says it in words.
func TestTimeline(t *testing.T) {
	e := newEnv(t)
	dana := e.signIn("dana")
	id := e.createBreach(dana)
	p := dana.get("/breaches/" + id)
	mustContain(t, p.Body, `<svg class="timeline wide"`, `<svg class="timeline narrow"`, `role="img"`, ">Discovered 3 Mar</text>", ">Deadline 17 Apr</text>", ">Today 20 Mar</text>",
		"Discovered on 3 March 2026; deadline 17 April 2026; today is 20 March 2026.")
	if p := dana.post("/breaches/"+id+"/holds", url.Values{"agency": {"FBI"}, "start_date": {"2026-03-10"}, "in_writing": {"on"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("hold: %d", p.Status)
	}
	p = dana.get("/breaches/" + id)
	mustContain(t, p.Body, "<rect ", ">Hold 10 Mar – still open</text>", "hold 10 Mar – still open", ">Day 45 17 Apr</text>", "day 45 is 17 April 2026")
	checkPage(t, "breach with timeline", p)
}
