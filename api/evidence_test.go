package api_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// evidenceBreach is a dispatched breach with its emails sent, one bounced, an agency notice, a
// web-site posting and media outlets recorded: something of every member of the bundle.
func evidenceBreach(t *testing.T, e *env) (api.BreachView, []breach.Notice) {
	t.Helper()
	b, emails := dispatchedSample(t, e)
	if r := e.do("POST", "/v1/notices/"+emails["lukasz.zolc@example.org"].ID+"/bounced", breach.RoleClerk, map[string]any{"reason": "550 5.1.1 mailbox unavailable"}); r.Status != 200 {
		t.Fatalf("bounce: %d %s", r.Status, r.Body)
	}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/agency-notices/attorney_general/sent", map[string]any{"sent_on": "2026-03-10"}},
		{"POST", "/substitute-notice/website/posted", map[string]any{"url": "https://schools.example.org/notice"}},
		{"POST", "/substitute-notice/website/taken-down", map[string]any{}},
		{"PUT", "/substitute-notice/outlets", map[string]any{"outlets": []map[string]any{{"name": "The Star Press", "kind": "newspaper", "audience": 21000, "local": true}}}},
	} {
		if r := e.do(c.method, "/v1/breaches/"+b.ID+c.path, breach.RoleAdmin, c.body); r.Status != 200 {
			t.Fatalf("%s: %d %s", c.path, r.Status, r.Body)
		}
	}
	var all []breach.Notice
	cursor := ""
	for {
		var l api.NoticeList
		e.do("GET", "/v1/breaches/"+b.ID+"/notices?limit=200&cursor="+cursor, breach.RoleAuditor, nil).json(t, &l)
		all = append(all, l.Items...)
		if l.NextCursor == nil || *l.NextCursor == "" {
			break
		}
		cursor = *l.NextCursor
	}
	return b, all
}

func unzip(t *testing.T, raw []byte) (names []string, files map[string][]byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	files = map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		names = append(names, f.Name)
		files[f.Name] = b
	}
	return names, files
}

// rezip writes members (name, body) in order as a new zip.
func rezip(t *testing.T, names []string, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The auditor downloads the bundle: it verifies under the service's key, holds every member
// the contract lists, one proof per notice exactly as GET /v1/notices/{nid}/proof gives it, the
// agency document as sent (the recorded hash) and the web-site posting with both times.
func TestEvidenceBundle(t *testing.T) {
	e := newEnv(t)
	b, notices := evidenceBreach(t, e)
	r := e.do("GET", "/v1/breaches/"+b.ID+"/evidence.zip", breach.RoleAuditor, nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/zip" ||
		r.Header.Get("Content-Disposition") != `attachment; filename="evidence-`+b.ID+`.zip"` {
		t.Fatalf("evidence.zip: %d %v %s", r.Status, r.Header, r.Body)
	}
	if dir := os.Getenv("BREACHD_EVIDENCE_DIR"); dir != "" {
		_ = os.WriteFile(dir+"/evidence.zip", r.Body, 0o644)
	}
	pub := testSigningKey.Public().(ed25519.PublicKey)
	rep := breach.VerifyBundle(bytes.NewReader(r.Body), int64(len(r.Body)), pub)
	if !rep.Verified || rep.BreachID != b.ID || rep.Events == 0 || rep.KeyFromFile {
		t.Fatalf("the bundle as downloaded: %+v", rep)
	}
	names, files := unzip(t, r.Body)
	want := []string{breach.BundleClosureReport, breach.BundleObligations, breach.BundleAgencyIndex,
		breach.BundleAgencyFile(breach.AgencyAttorneyGeneral), breach.BundlePostings, breach.BundleWebsiteFile("en"),
		breach.BundleWebsiteFile("es"), breach.BundleOutlets, breach.BundleProofs, breach.BundleEvents, breach.BundleManifest, breach.BundleCheckpoint}
	if !slices.Equal(names, want) {
		t.Fatalf("members %q, want %q", names, want)
	}
	if rep.Files != len(want)-2 {
		t.Fatalf("%d files checked, want %d", rep.Files, len(want)-2)
	}
	// The manifest is sha256sum's format, and says what the members are.
	for i, l := range strings.Split(strings.TrimSuffix(string(files[breach.BundleManifest]), "\n"), "\n") {
		sum := sha256.Sum256(files[want[i]])
		if l != hex.EncodeToString(sum[:])+"  "+want[i] {
			t.Fatalf("manifest line %d: %q", i+1, l)
		}
	}
	// Proofs: one per notice, in notice ID order, as the proof endpoint gives it.
	sc := bufio.NewScanner(bytes.NewReader(files[breach.BundleProofs]))
	sc.Buffer(nil, 1<<20)
	var ids []string
	for sc.Scan() {
		var p breach.NoticeProof
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.NoticeID)
		var single breach.NoticeProof
		e.do("GET", "/v1/notices/"+p.NoticeID+"/proof", breach.RoleAuditor, nil).json(t, &single)
		single.GeneratedAt = p.GeneratedAt
		// The bundle's events are those up to its checkpoint; a proof read now may be later.
		a, _ := json.Marshal(p)
		c, _ := json.Marshal(single)
		if !bytes.Equal(a, c) {
			t.Fatalf("the bundle's proof of %s differs from GET /proof:\n%s\n%s", p.NoticeID, a, c)
		}
	}
	var nids []string
	for _, n := range notices {
		nids = append(nids, n.ID)
	}
	if !slices.IsSorted(ids) || !slices.Equal(ids, nids) {
		t.Fatalf("proofs for %q, want every notice %q in ID order", ids, nids)
	}
	// The Attorney General's document as sent: the recorded hash is the file's.
	var idx []breach.BundleAgencyDocument
	if err := json.Unmarshal(files[breach.BundleAgencyIndex], &idx); err != nil {
		t.Fatal(err)
	}
	doc := files[breach.BundleAgencyFile(breach.AgencyAttorneyGeneral)]
	sum := sha256.Sum256(doc)
	if len(idx) != 1 || !idx[0].AsSent || idx[0].DocumentSHA256 != hex.EncodeToString(sum[:]) || !bytes.HasPrefix(doc, []byte("%PDF")) {
		t.Fatalf("agency index %+v, document sha %x", idx, sum)
	}
	var posts []breach.BundlePosting
	if err := json.Unmarshal(files[breach.BundlePostings], &posts); err != nil {
		t.Fatal(err)
	}
	if len(posts) != 1 || posts[0].URL != "https://schools.example.org/notice" || posts[0].PostedAt == "" || posts[0].TakenDownAt == "" ||
		posts[0].PostedEvent == "" || posts[0].TakenDownEvent == "" {
		t.Fatalf("postings %+v", posts)
	}
	var st api.SubstituteStatus
	if err := json.Unmarshal(files[breach.BundleOutlets], &st); err != nil || len(st.Outlets) != 1 || st.Outlets[0].Name != "The Star Press" {
		t.Fatalf("outlets %+v %v", st, err)
	}
	mustContainAll(t, string(files[breach.BundleWebsiteFile("es")]), spanishDescription)
	// The closure report counts notice events by type and lists the breach's own.
	text := pdfText(t, files[breach.BundleClosureReport])
	mustContainAll(t, text, "Notice events by type", "notice.queued", "notice.sent", "substitute.website_posted", "agency_notice.sent")
	// The bundle's checkpoint is kept with the breach's and verifies there too.
	var v breach.ChainVerification
	e.do("GET", "/v1/breaches/"+b.ID+"/events/verify", breach.RoleAuditor, nil).json(t, &v)
	if !v.Verified || v.Checkpoints < 2 || v.CheckpointsVerified != v.Checkpoints {
		t.Fatalf("the chain after the bundle: %+v", v)
	}
	// A notice recorded before breachd kept sent documents: the document is rendered again, and
	// the index says it is not the one sent.
	if err := e.rdb.Del(t.Context(), "breachd:breach:{"+b.ID+"}:documents").Err(); err != nil {
		t.Fatal(err)
	}
	older := e.do("GET", "/v1/breaches/"+b.ID+"/evidence.zip", breach.RoleAuditor, nil).Body
	if rep := breach.VerifyBundle(bytes.NewReader(older), int64(len(older)), pub); !rep.Verified {
		t.Fatalf("a bundle with a regenerated agency document: %+v", rep)
	}
	_, files = unzip(t, older)
	idx = nil
	if err := json.Unmarshal(files[breach.BundleAgencyIndex], &idx); err != nil {
		t.Fatal(err)
	}
	sum = sha256.Sum256(files[breach.BundleAgencyFile(breach.AgencyAttorneyGeneral)])
	// The case moved on after the Attorney General's notice was sent (the web-site notice, the
	// outlets, the ledger): rendered again today, the document differs from what was sent.
	if len(idx) != 1 || idx[0].AsSent || idx[0].Note == "" || idx[0].DocumentSHA256 == hex.EncodeToString(sum[:]) {
		t.Fatalf("agency index of a regenerated document: %+v (file sha %x)", idx, sum)
	}
	// Clerks may not download it; an unknown breach is 404 before any byte.
	if r := e.do("GET", "/v1/breaches/"+b.ID+"/evidence.zip", breach.RoleClerk, nil); r.Status != 403 {
		t.Fatalf("clerk: %d", r.Status)
	}
	if r := e.do("GET", "/v1/breaches/br_01JQ6Z8Y3T9V5K2M4N7P0R1S2T/evidence.zip", breach.RoleAuditor, nil); r.Status != 404 {
		t.Fatalf("unknown breach: %d", r.Status)
	}
	if r := e.do("GET", "/v1/breaches/not-an-id/evidence.zip", breach.RoleAuditor, nil); r.Status/100 != 4 ||
		r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("malformed breach ID: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
}

// A bundle changed after download is refused, naming the first bad member: a byte of a member,
// a member removed, moved or added, a manifest line, a truncated file, an event of the log, a
// checkpoint signed by another key. And an event edited in Redis before the bundle is made shows
// at its line of events.ndjson.
func TestEvidenceBundleTampered(t *testing.T) {
	e := newEnv(t)
	b, _ := evidenceBreach(t, e)
	good := e.do("GET", "/v1/breaches/"+b.ID+"/evidence.zip", breach.RoleAuditor, nil).Body
	pub := testSigningKey.Public().(ed25519.PublicKey)
	names, files := unzip(t, good)
	edit := func(fn func(names []string, files map[string][]byte) []string) []byte {
		ns := slices.Clone(names)
		fs := map[string][]byte{}
		for k, v := range files {
			fs[k] = slices.Clone(v)
		}
		return rezip(t, fn(ns, fs), fs)
	}
	eventsLines := strings.Split(string(files[breach.BundleEvents]), "\n")
	// The line of the bounce event in events.ndjson.
	bounceLine := slices.IndexFunc(eventsLines, func(l string) bool { return strings.Contains(l, `550 5.1.1`) }) + 1
	if bounceLine == 0 {
		t.Fatal("no bounce event in events.ndjson")
	}
	// A byte of the compressed data of proofs.ndjson, in the file as downloaded.
	zr, _ := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	var proofsAt int64
	for _, f := range zr.File {
		if f.Name == breach.BundleProofs {
			proofsAt, _ = f.DataOffset()
		}
	}
	flipped := slices.Clone(good)
	flipped[proofsAt+10] ^= 0x55
	otherKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))

	for _, c := range []struct {
		name     string
		bundle   []byte
		file     string
		line     int
		contains string
	}{
		{"one byte of a member's content changed", edit(func(n []string, f map[string][]byte) []string {
			f[breach.BundleObligations][20] ^= 1
			return n
		}), breach.BundleObligations, 0, "its SHA-256 is not the manifest's"},
		{"one byte of the zip flipped inside a member", flipped, breach.BundleProofs, 0, "cannot be read"},
		{"a member removed", edit(func(n []string, f map[string][]byte) []string {
			return slices.DeleteFunc(n, func(s string) bool { return s == breach.BundleAgencyFile(breach.AgencyAttorneyGeneral) })
		}), breach.BundleAgencyFile(breach.AgencyAttorneyGeneral), slices.Index(names, breach.BundleAgencyFile(breach.AgencyAttorneyGeneral)) + 1, "missing from the bundle"},
		{"two members swapped", edit(func(n []string, f map[string][]byte) []string {
			i, j := slices.Index(n, breach.BundleObligations), slices.Index(n, breach.BundleClosureReport)
			n[i], n[j] = n[j], n[i]
			return n
		}), breach.BundleObligations, 0, "reordered"},
		{"a member added", edit(func(n []string, f map[string][]byte) []string {
			f["extra.txt"] = []byte("planted")
			return slices.Insert(n, 1, "extra.txt")
		}), "extra.txt", 0, "not in the manifest"},
		{"a manifest line edited", edit(func(n []string, f map[string][]byte) []string {
			m := f[breach.BundleManifest]
			line := bytes.Index(m, []byte("  "+breach.BundleProofs))
			m[line-1] = map[bool]byte{true: 'b', false: 'a'}[m[line-1] == 'a']
			return n
		}), breach.BundleManifest, slices.Index(names, breach.BundleProofs) + 1, "edited after it was signed"},
		{"the member and its manifest line edited together", edit(func(n []string, f map[string][]byte) []string {
			f[breach.BundleOutlets] = []byte(`{"outlets":[]}`)
			sum := sha256.Sum256(f[breach.BundleOutlets])
			old := sha256.Sum256(files[breach.BundleOutlets])
			f[breach.BundleManifest] = bytes.Replace(f[breach.BundleManifest], []byte(hex.EncodeToString(old[:])), []byte(hex.EncodeToString(sum[:])), 1)
			return n
		}), breach.BundleManifest, 0, "edited after it was signed"},
		{"truncated in its directory", good[:len(good)-10], "", 0, "the zip's directory is damaged or truncated"},
		{"truncated inside a member", good[:proofsAt+40], breach.BundleProofs, 0, "not whole"},
		{"an event of the log edited", edit(func(n []string, f map[string][]byte) []string {
			f[breach.BundleEvents] = bytes.Replace(f[breach.BundleEvents], []byte("550 5.1.1"), []byte("250 2.0.0"), 1)
			return n
		}), breach.BundleEvents, bounceLine, "does not match its hash"},
		{"the checkpoint re-signed with another key", edit(func(n []string, f map[string][]byte) []string {
			var cp breach.SignedCheckpoint
			if err := json.Unmarshal(f[breach.BundleCheckpoint], &cp); err != nil {
				t.Fatal(err)
			}
			f[breach.BundleCheckpoint], _ = json.Marshal(breach.SignCheckpoint(cp.Checkpoint, otherKey))
			return n
		}), breach.BundleCheckpoint, 0, "another key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := breach.VerifyBundle(bytes.NewReader(c.bundle), int64(len(c.bundle)), pub)
			if rep.Verified || rep.File != c.file || rep.Line != c.line || !strings.Contains(rep.Reason, c.contains) {
				t.Fatalf("got %+v\nwant file %q line %d reason containing %q", rep, c.file, c.line, c.contains)
			}
		})
	}

	// An event edited in Redis before the bundle is made: the manifest matches (the file is what
	// the service holds) and the chain inside names the event's line.
	if editBounceEvent(t, e, b.ID) == "" {
		t.Fatal("no bounce event to edit")
	}
	after := e.do("GET", "/v1/breaches/"+b.ID+"/evidence.zip", breach.RoleAuditor, nil).Body
	rep := breach.VerifyBundle(bytes.NewReader(after), int64(len(after)), pub)
	if rep.Verified || rep.File != breach.BundleEvents || rep.Line != bounceLine || !strings.Contains(rep.Reason, "changed in the service's store") {
		t.Fatalf("a bundle of a breach whose event was edited in Redis: %+v, want events.ndjson line %d", rep, bounceLine)
	}
}
