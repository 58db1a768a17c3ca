package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
)

// exportFile writes a real export of a breach with a few events and returns its lines.
func exportFile(t *testing.T, key ed25519.PrivateKey) []string {
	t.Helper()
	s := jobs.NewStore(redistest.New(t), jobs.WithSigningKey(key))
	ctx := context.Background()
	b := &breach.Breach{ID: "br_01JQ6Z8Y3T9V5K2M4N7P0R1S2T", Status: breach.StatusOpen, DeterminationVersion: 1,
		Determination: breach.Determination{Title: "t", DiscoveredOn: breach.MustDate("2026-03-01")}, CreatedAt: time.Now()}
	if err := s.CreateBreach(ctx, b, breach.Event{Type: breach.EventBreachCreated, Actor: "a", Role: breach.RoleAdmin, Summary: "created"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.UpdateBreach(ctx, b.ID, func(*breach.Breach) (breach.Event, error) {
			return breach.Event{Type: breach.EventObligationRecorded, Actor: "a", Role: breach.RoleAdmin, Summary: "step " + string(rune('a'+i))}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := s.ExportChain(ctx, b.ID, &buf); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

func TestVerifyCommand(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))
	pub := base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	other := base64.StdEncoding.EncodeToString(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32)).Public().(ed25519.PublicKey))
	lines := exportFile(t, key) // header, 4 events, checkpoint
	dir := t.TempDir()
	write := func(name string, ls []string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(ls, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	edited := append([]string(nil), lines...)
	edited[3] = strings.Replace(edited[3], "step b", "step B", 1)
	reordered := append([]string(nil), lines...)
	reordered[2], reordered[3] = reordered[3], reordered[2]
	for _, c := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"whole, pinned key", []string{"-key", pub, write("ok.ndjson", lines)}, 0, "VERIFIED: breach br_01JQ6Z8Y3T9V5K2M4N7P0R1S2T, 4 events"},
		{"whole, the file's key", []string{write("ok2.ndjson", lines)}, 0, "compare it with GET /v1/signing-key"},
		{"edited", []string{"-key", pub, write("edited.ndjson", edited)}, 1, "NOT VERIFIED: line 4: event"},
		{"reordered", []string{write("reordered.ndjson", reordered)}, 1, "NOT VERIFIED: line 3: position 3 where 2"},
		{"truncated", []string{write("truncated.ndjson", lines[:3])}, 1, "NOT VERIFIED: line 4: truncated"},
		{"another key", []string{"-key", other, write("ok3.ndjson", lines)}, 1, "NOT VERIFIED: line 6: the checkpoint was signed with another key"},
		{"no file", []string{}, 2, ""},
		{"bad key", []string{"-key", "nope", "x"}, 2, ""},
		{"missing file", []string{filepath.Join(dir, "none")}, 1, ""},
	} {
		var out, errb bytes.Buffer
		code, done := parseFlags(append([]string{"verify"}, c.args...), &out, &errb)
		if !done || code != c.code || !strings.Contains(out.String(), c.out) {
			t.Errorf("%s: exit %d (done %t), out %q err %q; want exit %d and %q", c.name, code, done, out.String(), errb.String(), c.code, c.out)
		}
	}
}

// The auditor's bundle, end to end: the real service (embedded mode) writes an evidence bundle of
// a dispatched breach; `breachd verify evidence.zip` says VERIFIED, and refuses with exit code 1,
// naming the member, a bundle with a member removed, one truncated, and one under another key.
func TestVerifyEvidenceBundle(t *testing.T) {
	s := start(t, map[string]string{"BREACHD_OUTBOX_DIR": t.TempDir()})
	m := regexp.MustCompile(`export BREACHD_KEY=([0-9a-f]{48})`).FindStringSubmatch(s.stderr.String())
	if m == nil {
		t.Fatalf("no generated admin key on stderr:\n%s", s.stderr.String())
	}
	key := m[1]
	code, b := s.call("POST", "/v1/breaches", key, map[string]any{"determination": map[string]any{
		"title": "Lost backup tape", "discovered_on": "2026-01-05", "data_elements": []string{"name", "ssn"},
		"risk_of_harm": "likely", "affected_count": 2, "description": "A backup tape was lost in transit.",
		"remediation": "Backups are now encrypted.", "assistance_phone": "+1 317 555 0100"}})
	if code != 201 {
		t.Fatalf("create: %d %v", code, b)
	}
	id := b["id"].(string)
	people := `{"external_id":"E-1","first_name":"Ana","last_name":"Ruiz","address_line1":"1 Main St","city":"Muncie","state":"IN","postal_code":"47305","preferred_channel":"mail"}
{"external_id":"E-2","first_name":"Bo","last_name":"Lee","email":"bo@example.org","email_current":true,"preferred_channel":"email"}
`
	if code, got := s.send("POST", "/v1/breaches/"+id+"/recipients", key, "application/x-ndjson", []byte(people)); code != 200 {
		t.Fatalf("upload: %d %v", code, got)
	}
	if code, got := s.call("POST", "/v1/breaches/"+id+"/dispatch", key, nil); code != 200 {
		t.Fatalf("dispatch: %d %v", code, got)
	}
	_, sk := s.call("GET", "/v1/signing-key", "", nil)
	pub, _ := sk["public_key"].(string)
	req, _ := http.NewRequest("GET", s.base+"/v1/breaches/"+id+"/evidence.zip", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	zipped, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("evidence.zip: %d %v", res.StatusCode, err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The same bundle without its obligations.json.
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatal(err)
	}
	var removed bytes.Buffer
	zw := zip.NewWriter(&removed)
	for _, f := range zr.File {
		if f.Name == breach.BundleObligations {
			continue
		}
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	other := base64.StdEncoding.EncodeToString(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32)).Public().(ed25519.PublicKey))
	for _, c := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"whole, pinned key", []string{"-key", pub, write("evidence.zip", zipped)}, 0, "VERIFIED: evidence bundle of breach " + id},
		{"whole, from standard input", []string{"-"}, 0, "VERIFIED: evidence bundle"},
		{"a member removed", []string{write("removed.zip", removed.Bytes())}, 1, "NOT VERIFIED: member 2 (obligations.json), line 2: obligations.json (manifest line 2) is missing"},
		{"truncated", []string{write("truncated.zip", zipped[:len(zipped)/2])}, 1, "NOT VERIFIED: member "},
		{"another key", []string{"-key", other, write("other.zip", zipped)}, 1, "NOT VERIFIED: member 9 (MANIFEST.checkpoint.json): the checkpoint was signed with another key"},
		{"as JSON", []string{"-json", write("removed2.zip", removed.Bytes())}, 1, `"file": "obligations.json"`},
	} {
		var out, errb bytes.Buffer
		if c.args[0] == "-" {
			f, err := os.Open(filepath.Join(dir, "evidence.zip"))
			if err != nil {
				t.Fatal(err)
			}
			old := os.Stdin
			os.Stdin = f
			code, _ := parseFlags(append([]string{"verify"}, c.args...), &out, &errb)
			os.Stdin = old
			f.Close()
			if code != c.code || !strings.Contains(out.String(), c.out) {
				t.Errorf("%s: exit %d, out %q err %q; want exit %d and %q", c.name, code, out.String(), errb.String(), c.code, c.out)
			}
			continue
		}
		code, done := parseFlags(append([]string{"verify"}, c.args...), &out, &errb)
		if !done || code != c.code || !strings.Contains(out.String(), c.out) {
			t.Errorf("%s: exit %d (done %t), out %q err %q; want exit %d and %q", c.name, code, done, out.String(), errb.String(), c.code, c.out)
		}
	}
}
