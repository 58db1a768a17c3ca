package api_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/notify/dsn"
	"github.com/breachd/breachd/notify/dsn/imaptest"
)

// TestUnmatchedBouncesListed: DSNs read from a real IMAP mailbox that match no notice are listed
// for admins and auditors, a page at a time, with their evidence; clerks may not list them.
func TestUnmatchedBouncesListed(t *testing.T) {
	e := newEnv(t)
	box := imaptest.New(t)
	for _, name := range []string{"unmatched.eml", "postfix-failed.eml", "gmail-failed.eml"} {
		raw, err := os.ReadFile("../notify/dsn/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		box.Append(t, raw)
	}
	mb, err := dsn.New(dsn.Config{Host: box.Host, Port: box.Port, Username: imaptest.Username, Password: imaptest.Password,
		TLS: dsn.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p, err := jobs.NewBouncePoller(jobs.BouncePollerConfig{Worker: e.worker, Mailbox: mb})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}

	r := e.do("GET", "/v1/bounces/unmatched?limit=2", breach.RoleAuditor, nil)
	if r.Status != 200 {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	var page struct {
		Items      []breach.Event `json:"items"`
		NextCursor *string        `json:"next_cursor"`
	}
	r.json(t, &page)
	if len(page.Items) != 2 || page.NextCursor == nil {
		t.Fatalf("first page %s", r.Body)
	}
	first := page.Items[0]
	if first.Type != breach.EventDSNUnmatched || first.Actor != "imap" || first.Data["reason"] != "no_reference" ||
		first.Private["final_recipient_1"] != "board.member@county.example.gov" || strings.Contains(first.Summary, "@") {
		t.Fatalf("first unmatched %+v", first)
	}
	if page.Items[1].Data["reason"] != "no_notice" {
		t.Fatalf("second unmatched %+v", page.Items[1])
	}
	r = e.do("GET", "/v1/bounces/unmatched?limit=2&cursor="+*page.NextCursor, breach.RoleAdmin, nil)
	r.json(t, &page)
	if r.Status != 200 || len(page.Items) != 1 || page.NextCursor != nil || page.Items[0].Private["final_recipient_1"] != "ghost.student@gmail.example" {
		t.Fatalf("second page %d %s", r.Status, r.Body)
	}
	if r := e.do("GET", "/v1/bounces/unmatched", breach.RoleClerk, nil); r.Status != 403 {
		t.Fatalf("a clerk: %d", r.Status)
	}
	if r := e.do("GET", "/v1/bounces/unmatched?cursor=garbage", breach.RoleAdmin, nil); r.Status != 422 || !strings.Contains(string(r.Body), "cursor") {
		t.Fatalf("a garbage cursor: %d %s", r.Status, r.Body)
	}
}
