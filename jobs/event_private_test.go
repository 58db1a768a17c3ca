package jobs_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
)

// TestEventPrivateText: an event's private text reads back whole, and it is sealed in the stream
// entry under the breach's own key, with or without a service key (its field starts with the
// byte of that format, and no plain text is there): the retention purge destroys that key.
func TestEventPrivateText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, key := range [][]byte{nil, bytes.Repeat([]byte{9}, 32)} {
		rdb := redistest.New(t)
		var opts []jobs.Option
		if key != nil {
			opts = append(opts, jobs.WithEncryptionKey(key))
		}
		s := jobs.NewStore(rdb, opts...)
		b := newBreach(newID(0))
		mustCreate(t, s, b)
		const note = "mailbox of Ava Quillfeather unknown"
		if _, err := s.UpdateBreach(ctx, b.ID, func(b *breach.Breach) (breach.Event, error) {
			return breach.Event{Type: breach.EventNoticeBounced, Actor: "clerk-1", Role: breach.RoleClerk, Summary: "bounced",
				Private: map[string]string{"reason": note}}, nil
		}); err != nil {
			t.Fatal(err)
		}
		evs := allEvents(t, s, b.ID)
		if got := evs[len(evs)-1].Private["reason"]; got != note {
			t.Fatalf("key %v: private reads back %q", key != nil, got)
		}
		msgs := rdb.XRange(ctx, "breachd:breach:{"+b.ID+"}:events", "-", "+").Val()
		if len(msgs) == 0 {
			t.Fatal("no stream entries")
		}
		raw, _ := msgs[len(msgs)-1].Values["private"].(string)
		if raw == "" || raw[0] != 0x02 || strings.Contains(raw, "Quillfeather") {
			t.Fatalf("sealed stream field %q", raw)
		}
	}
}
