package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
)

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	// Signed out, a page sends you to sign in and back.
	p := b.get("/breaches/new")
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/signin?next=%2Fbreaches%2Fnew" {
		t.Fatalf("signed out: %d %s", p.Status, p.Header.Get("Location"))
	}
	// A wrong password and an unknown user get the same answer.
	wrong := b.post("/signin", url.Values{"username": {"dana"}, "password": {"not the password"}})
	unknown := b.post("/signin", url.Values{"username": {"nobody"}, "password": {"not the password"}})
	for _, p := range []page{wrong, unknown} {
		if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "The username or password is not right.") {
			t.Errorf("bad sign-in: %d", p.Status)
		}
		if p.Header.Get("Set-Cookie") != "" {
			t.Errorf("bad sign-in set a cookie: %s", p.Header.Get("Set-Cookie"))
		}
	}
	// Empty fields are named.
	p = b.post("/signin", url.Values{"username": {""}, "password": {""}})
	mustContain(t, p.Body, "Enter your username", "Enter your password", `href="#f-username"`)

	p = b.post("/signin", url.Values{"username": {"Dana"}, "password": {password}, "next": {"/breaches/new"}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/breaches/new" {
		t.Fatalf("sign in: %d %s", p.Status, p.Header.Get("Location"))
	}
	ck := p.Header.Get("Set-Cookie")
	for _, want := range []string{"breachd_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(ck, want) {
			t.Errorf("cookie %q lacks %s", ck, want)
		}
	}
	if strings.Contains(ck, "Secure") {
		t.Errorf("cookie over plain http is Secure: %q", ck)
	}
	if p := b.get("/breaches/new"); p.Status != http.StatusOK {
		t.Fatalf("signed in: %d", p.Status)
	}
	// A link to another site after sign-in is not followed.
	b2 := e.browser()
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example"} {
		p := b2.post("/signin", url.Values{"username": {"sam"}, "password": {password}, "next": {next}})
		if p.Header.Get("Location") != "/breaches" {
			t.Errorf("next=%s → %s, want /breaches", next, p.Header.Get("Location"))
		}
	}
	// Sign-out ends the session on the server, not only in the browser.
	b.get("/breaches")
	old := b.client.Jar.Cookies(mustURL(e.srv.URL))
	if p := b.post("/signout", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", p.Status)
	}
	replay := e.browser()
	replay.client.Jar.SetCookies(mustURL(e.srv.URL), old)
	if p := replay.get("/breaches"); p.Status != http.StatusSeeOther {
		t.Errorf("the signed-out session still works: %d", p.Status)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestSecureCookieOverTLS(t *testing.T) {
	e := newEnv(t)
	tls := httptest.NewTLSServer(e.srv.Config.Handler)
	defer tls.Close()
	client := tls.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.PostForm(tls.URL+"/signin", url.Values{"username": {"dana"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if ck := res.Header.Get("Set-Cookie"); !strings.Contains(ck, "Secure") || !strings.Contains(ck, "HttpOnly") {
		t.Errorf("cookie over TLS = %q, want Secure and HttpOnly", ck)
	}
}

func TestSignInThrottled(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for i := 0; i < breach.SignInMaxFailures; i++ {
		if p := b.post("/signin", url.Values{"username": {"dana"}, "password": {"guess number " + string(rune('a'+i))}}); p.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, p.Status)
		}
	}
	// Now even the right password is refused, with a message saying why and for how long.
	p := b.post("/signin", url.Values{"username": {"dana"}, "password": {password}})
	if p.Status != http.StatusTooManyRequests || p.Header.Get("Set-Cookie") != "" {
		t.Fatalf("after 5 failures: %d", p.Status)
	}
	mustContain(t, p.Body, "Too many failed attempts. Wait 15 minutes")
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t)
	b := e.signIn("sam")
	e.advance(29 * time.Minute)
	if p := b.get("/breaches"); p.Status != http.StatusOK {
		t.Fatalf("after 29 min: %d", p.Status)
	}
	e.advance(breach.SessionIdle)
	p := b.get("/breaches")
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/signin") {
		t.Fatalf("idle 30 min: %d %s, want sent to sign in", p.Status, p.Header.Get("Location"))
	}
	// A disabled account is signed out at its next request.
	b = e.signIn("sam")
	if _, err := e.store.UpdateUser(t.Context(), "sam", func(u *breach.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/breaches"); p.Status != http.StatusSeeOther {
		t.Errorf("disabled account: %d, want sent to sign in", p.Status)
	}
	if p := e.browser().post("/signin", url.Values{"username": {"sam"}, "password": {password}}); p.Status != http.StatusUnauthorized {
		t.Errorf("disabled account signs in: %d", p.Status)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	b := e.signIn("dana")
	id := e.createBreach(b)
	f := determinationForm()
	f.Set("action", "save")
	// The wrong token differs from the session's in its first character (the tokens are base64url: a
	// fixed "x" would be the right token once in 64 sessions).
	wrong := map[bool]string{true: "y", false: "x"}[b.csrf[0] == 'x'] + b.csrf[1:]
	for name, token := range map[string][]string{"missing": nil, "wrong": {wrong}, "empty": {""}} {
		form := url.Values{}
		for k, v := range f {
			form[k] = v
		}
		if token != nil {
			form["csrf"] = token
		} else {
			form["csrf"] = []string{}
		}
		req, _ := http.NewRequest("POST", e.srv.URL+"/breaches/new", strings.NewReader(strings.ReplaceAll(form.Encode(), "csrf=&", "")))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if token == nil {
			form.Del("csrf")
			req, _ = http.NewRequest("POST", e.srv.URL+"/breaches/new", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if p := b.do(req); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "This form has expired") {
			t.Errorf("%s CSRF token: %d", name, p.Status)
		}
	}
	// Nothing was created by the refused posts: still one breach.
	list, _, err := e.store.Breaches(t.Context(), breach.BreachFilter{})
	if err != nil || len(list) != 1 {
		t.Errorf("breaches after refused posts: %d %v", len(list), err)
	}
	// Another session's token is refused too.
	other := e.signIn("dana")
	p := b.post("/breaches/"+id+"/holds", url.Values{"csrf": {other.csrf}, "agency": {"FBI"}, "start_date": {"2026-03-10"}})
	if p.Status != http.StatusForbidden {
		t.Errorf("another session's token: %d", p.Status)
	}
	// An upload without the token is refused before the file is read.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "people.csv")
	fw.Write([]byte("external_id,last_name\nX-1,Lee\n"))
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+"/breaches/"+id+"/people", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if p := b.do(req); p.Status != http.StatusForbidden {
		t.Errorf("upload without token: %d", p.Status)
	}
	if c, _ := e.store.RecipientCounts(t.Context(), id); c.Affected != 0 {
		t.Errorf("the refused upload stored %d people", c.Affected)
	}
}

var h1RE = regexp.MustCompile(`<h1[ >]`)

// TestEveryPage: every page, for every role that may see it, answers with the security headers,
// one h1, labelled controls; pages a role may not use are refused.
func TestEveryPage(t *testing.T) {
	e := newEnv(t)
	dana := e.signIn("dana")
	id := e.createBreach(dana)
	// A breach whose people need languages: the breach page then has its fallback forms, the
	// determination form its translations, the send page the missing languages.
	dana.get("/breaches/new")
	lf := withSpanish(determinationForm())
	lf.Set("extra.lang", "vi")
	lf.Set("extra.description", "Mô tả.")
	lf.Set("extra.remediation", "Biện pháp.")
	lf.Set("action", "save")
	lp := dana.post("/breaches/new", lf)
	if lp.Status != http.StatusSeeOther {
		t.Fatalf("breach with languages: %d", lp.Status)
	}
	lid := strings.TrimPrefix(lp.Header.Get("Location"), "/breaches/")
	e.uploadSample(dana, lid)
	pages := []struct {
		path    string
		allowed []string
	}{
		{"/breaches/" + lid, []string{"dana", "sam", "avery"}},
		{"/breaches/" + lid + "/determination", []string{"dana"}},
		{"/breaches/" + lid + "/dispatch", []string{"dana"}},
		{"/breaches", []string{"dana", "sam", "avery"}},
		{"/breaches/new", []string{"dana"}},
		{"/breaches/" + id, []string{"dana", "sam", "avery"}},
		{"/breaches/" + id + "/determination", []string{"dana"}},
		{"/breaches/" + id + "/close", []string{"dana"}},
		{"/breaches/" + id + "/people", []string{"dana", "sam", "avery"}},
		{"/breaches/" + id + "/dispatch", []string{"dana"}},
		{"/breaches/" + id + "/status", []string{"dana", "sam", "avery"}},
		{"/breaches/" + id + "/events", []string{"dana", "sam", "avery"}},
		{"/breaches/" + id + "/print", []string{"dana", "sam", "avery"}},
		{"/breaches/" + id + "/calls", []string{"dana", "sam"}},
		{"/breaches/" + id + "/notices", []string{"dana", "sam", "avery"}},
		{"/users", []string{"dana"}},
		{"/account/password", []string{"dana", "sam", "avery"}},
	}
	browsers := map[string]*browser{"dana": dana, "sam": e.signIn("sam"), "avery": e.signIn("avery")}
	signedOut := e.browser()
	for _, pg := range pages {
		for name, b := range browsers {
			p := b.get(pg.path)
			want := http.StatusForbidden
			for _, a := range pg.allowed {
				if a == name {
					want = http.StatusOK
				}
			}
			if p.Status != want {
				t.Errorf("%s GET %s = %d, want %d", name, pg.path, p.Status, want)
			}
			checkHeaders(t, name+" "+pg.path, p)
			if n := len(h1RE.FindAllString(p.Body, -1)); n != 1 {
				t.Errorf("%s %s has %d h1", name, pg.path, n)
			}
			checkLabels(t, name+" "+pg.path, p.Body)
		}
		if p := signedOut.get(pg.path); p.Status != http.StatusSeeOther {
			t.Errorf("signed out GET %s = %d, want 303 to sign in", pg.path, p.Status)
		}
	}
	for _, path := range []string{"/signin", "/no/such/page"} {
		p := signedOut.get(path)
		checkHeaders(t, path, p)
		if n := len(h1RE.FindAllString(p.Body, -1)); n != 1 {
			t.Errorf("%s has %d h1", path, n)
		}
	}
	// Assets come with the same headers (CSP, nosniff) and may be cached.
	p := signedOut.get("/assets/console.css")
	if p.Status != 200 || p.Header.Get("X-Content-Type-Options") != "nosniff" || p.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("asset: %d %v", p.Status, p.Header)
	}
	if p := signedOut.get("/assets/console.js"); p.Status != 200 || !strings.Contains(p.Header.Get("Content-Type"), "javascript") {
		t.Errorf("script: %d %s", p.Status, p.Header.Get("Content-Type"))
	}
}

func checkHeaders(t *testing.T, what string, p page) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := p.Header.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	if strings.Contains(p.Body, "<script>") || strings.Contains(p.Body, " style=") || strings.Contains(p.Body, " onclick=") {
		t.Errorf("%s has inline script or style", what)
	}
}

var (
	controlRE = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	idRE      = regexp.MustCompile(`\bid="([^"]+)"`)
)

// checkLabels: every visible control has a <label for> (or sits inside a label).
func checkLabels(t *testing.T, what, body string) {
	t.Helper()
	for _, m := range controlRE.FindAllStringIndex(body, -1) {
		tag := body[m[0]:m[1]]
		if strings.Contains(tag, `type="hidden"`) {
			continue
		}
		before := body[:m[0]]
		if open, close := strings.LastIndex(before, "<label"), strings.LastIndex(before, "</label>"); open > close {
			continue // inside its label
		}
		id := idRE.FindStringSubmatch(tag)
		if id == nil || !strings.Contains(body, `for="`+id[1]+`"`) {
			t.Errorf("%s: control without a label: %s", what, tag)
		}
	}
}

func TestRolesRefusedActions(t *testing.T) {
	e := newEnv(t)
	dana := e.signIn("dana")
	id := e.createBreach(dana)
	sam, avery := e.signIn("sam"), e.signIn("avery")
	posts := []struct {
		path string
		form url.Values
	}{
		{"/breaches/new", determinationForm()},
		{"/breaches/" + id + "/determination", determinationForm()},
		{"/breaches/" + id + "/holds", url.Values{"agency": {"FBI"}, "start_date": {"2026-03-10"}}},
		{"/breaches/" + id + "/dispatch", nil},
		{"/breaches/" + id + "/close", url.Values{"summary": {"done"}}},
		{"/breaches/" + id + "/people/complete", nil},
		{"/breaches/" + id + "/obligations/ferpa.disclosure_record", url.Values{"status": {"done"}}},
		{"/users", url.Values{"username": {"eve"}, "display_name": {"Eve"}, "role": {"admin"}, "password": {"a long password 1"}}},
		{"/users/dana", url.Values{"action": {"disable"}}},
	}
	for _, who := range []*browser{sam, avery} {
		for _, p := range posts {
			if got := who.post(p.path, p.form); got.Status != http.StatusForbidden {
				t.Errorf("POST %s by a non-admin = %d, want 403", p.path, got.Status)
			}
		}
	}
	// The export is for auditors (and admins), as the contract says; a clerk gets a page saying no.
	if p := sam.get("/breaches/" + id + "/notices.csv"); p.Status != http.StatusForbidden {
		t.Errorf("clerk export = %d", p.Status)
	}
	p := avery.get("/breaches/" + id + "/notices.csv")
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") || p.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("auditor export = %d %s", p.Status, p.Header.Get("Content-Type"))
	}
	// The navigation bar shows each role only what it may use.
	if strings.Contains(sam.get("/breaches").Body, `href="/users"`) || !strings.Contains(dana.get("/breaches").Body, `href="/users"`) {
		t.Error("the Users link is shown to a clerk, or not to an admin")
	}
}

func TestNewBreachForm(t *testing.T) {
	e := newEnv(t)
	b := e.signIn("dana")
	b.get("/breaches/new")
	f := determinationForm()
	f.Set("discovered_on", "2026-02-30")
	f.Set("affected_count", "lots")
	f.Del("data_elements")
	f.Set("action", "save")
	p := b.post("/breaches/new", f)
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad form: %d", p.Status)
	}
	// The API's own messages, at the top and beside each field, linked to it; what was typed is kept.
	mustContain(t, p.Body, "There is a problem", `href="#f-discovered_on"`, `href="#f-affected_count"`, `href="#f-data_elements"`,
		`id="f-discovered_on-error"`, "is not a calendar date", `value="lots"`, "Stolen laptop with payroll export", "<title>Error: ")
	// The summary names each field by the label the form shows it with, not by its code, and the
	// message beside the field stays.
	mustContain(t, p.Body, `<a href="#f-affected_count">Number of people affected: must be`, `<a href="#f-discovered_on">Discovered on: `,
		`<a href="#f-data_elements">(B) Information that may have been accessed: `, `id="f-affected_count-error"`)
	if strings.Contains(p.Body, ">affected count:") || strings.Contains(p.Body, ">discovered on:") {
		t.Error("the error summary or the preview names a field by its code")
	}
	if list, _, _ := e.store.Breaches(t.Context(), breach.BreachFilter{}); len(list) != 0 {
		t.Fatalf("a refused form stored %d breaches", len(list))
	}
	// The mistakes corrected, the preview shows the plan and stores nothing.
	f = determinationForm()
	f.Set("action", "preview")
	p = b.post("/breaches/new", f)
	if p.Status != http.StatusOK {
		t.Fatalf("preview: %d", p.Status)
	}
	mustContain(t, p.Body, "Notice is required.", "Friday 17 April 2026", "IC 24-4.9", "nothing is stored until you save")
	if list, _, _ := e.store.Breaches(t.Context(), breach.BreachFilter{}); len(list) != 0 {
		t.Fatalf("the preview stored %d breaches", len(list))
	}
	id := e.createBreach(b)
	p = b.get("/breaches/" + id)
	mustContain(t, p.Body, "Stolen laptop with payroll export", "Notice is required.", "Duties", "Attorney General", "Office of Technology")
	// The audit trail names the person.
	p = b.get("/breaches/" + id + "/events")
	mustContain(t, p.Body, "user:dana", "breach.created")
	// Revising keeps the API's rules: a clerk cannot, an admin can.
	f = determinationForm()
	f.Set("title", "Stolen laptop (revised)")
	f.Set("action", "save")
	if p := b.post("/breaches/"+id+"/determination", f); p.Status != http.StatusSeeOther {
		t.Fatalf("revise: %d %s", p.Status, p.Body)
	}
	mustContain(t, b.get("/breaches/"+id).Body, "Stolen laptop (revised)", "determination version 2")
}

func TestUploadAndClose(t *testing.T) {
	e := newEnv(t)
	b := e.signIn("dana")
	id := e.createBreach(b)
	b.get("/breaches/" + id + "/people")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", b.csrf)
	fw, _ := mw.CreateFormFile("file", "people.csv")
	fw.Write([]byte("external_id,first_name,last_name,address_line1,city,state,postal_code,email\n" +
		"S-1,Hồng,Nguyễn,4120 N Keystone Ave,Indianapolis,IN,46205,\n" +
		"S-2,Ana,Lopez,1 Main St,Carmel,IN,46032,not-an-email\n" +
		"S-1,Hồng,Nguyễn,4120 N Keystone Ave,Indianapolis,IN,46205,\n"))
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+"/breaches/"+id+"/people", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	p := b.do(req)
	if p.Status != http.StatusOK {
		t.Fatalf("upload: %d %s", p.Status, p.Body)
	}
	mustContain(t, p.Body, "What the upload did", "Rows not added", "is not an email address", "Already held", "Nguyễn")
	if p := b.post("/breaches/"+id+"/people/complete", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("complete: %d", p.Status)
	}
	mustContain(t, b.get("/breaches/"+id+"/people").Body, "declared complete by user:dana")

	// Closing with duties open is refused and lists them; waiving each with a reason closes it.
	b.get("/breaches/" + id + "/close")
	p = b.post("/breaches/"+id+"/close", url.Values{"summary": {"Handled."}})
	if p.Status != http.StatusConflict {
		t.Fatalf("close with duties open: %d", p.Status)
	}
	mustContain(t, p.Body, "Duties still open", "Waive:")
	waive := url.Values{"summary": {"Handled."}}
	for _, m := range regexp.MustCompile(`name="waive" value="([^"]+)"`).FindAllStringSubmatch(p.Body, -1) {
		waive.Add("waive", m[1])
		waive.Set("waiver."+m[1], "Counsel advised it is not owed in this case.")
	}
	if p := b.post("/breaches/"+id+"/close", waive); p.Status != http.StatusSeeOther {
		t.Fatalf("close with waivers: %d %s", p.Status, p.Body)
	}
	mustContain(t, b.get("/breaches/"+id).Body, "Closed by user:dana")

	// No personal data, password or token in the logs.
	logs := e.logs.String()
	for _, secret := range []string{"Nguyễn", "Lopez", "Keystone", "Dana Whitfield", "Dana Tester", password, b.csrf} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
	for _, ck := range b.client.Jar.Cookies(mustURL(e.srv.URL)) {
		if strings.Contains(logs, ck.Value) {
			t.Error("the logs contain the session token")
		}
	}
}
