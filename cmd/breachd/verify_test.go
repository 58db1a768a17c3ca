package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"os"
	"path/filepath"
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
