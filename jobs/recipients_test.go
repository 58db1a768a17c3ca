package jobs_test

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
)

// discovered is newBreach's discovery date.
var discovered = breach.MustDate("2026-03-01")

// recipientID returns the recipient ID made at t0 plus n milliseconds: IDs sort as n does.
func recipientID(n int) string {
	ms := ulid.Timestamp(t0.Add(time.Duration(n) * time.Millisecond))
	return "rc_" + ulid.MustNew(ms, bytes.NewReader(make([]byte, 10))).String()
}

func boolPtr(b bool) *bool { return &b }

// fullRecipient has every field set, with names that are not ASCII.
func fullRecipient(breachID string, n int) breach.Recipient {
	return breach.Recipient{
		ID: recipientID(n), BreachID: breachID, Row: n + 1, ExternalID: fmt.Sprintf("S-%04d", n),
		FirstName: "Hồng", LastName: "Nguyễn Thị",
		Address: breach.PostalAddress{Line1: "4120 N Keystone Ave", Line2: "Apt 3B", City: "Indianapolis",
			State: "IN", PostalCode: "46205-1234"},
		Email: "hong.nguyen@example.org", Phone: "+13175550111",
		PreferredChannel: breach.PreferEmail, EmailCurrent: true, Language: "vi",
		DateOfBirth: breach.MustDate("2012-04-09"), MinorFlag: boolPtr(true),
		Guardian: breach.Guardian{Name: "Nguyễn Văn Minh", Email: "minh.nguyen@example.org", Phone: "+13175550112"},
	}
}

// plainRecipient is an adult Indiana resident reachable by mail, with no optional field set.
func plainRecipient(n int) breach.Recipient {
	return breach.Recipient{
		ID: recipientID(n), Row: n + 1, ExternalID: fmt.Sprintf("E-%d", n),
		FirstName: "José", LastName: "Núñez-Peña",
		Address:          breach.PostalAddress{Line1: "77 Calle Real Dr", City: "Kokomo", State: "IN", PostalCode: "46901"},
		PreferredChannel: breach.PreferMail, Language: "es",
	}
}

func mustAdd(t *testing.T, s *jobs.Store, breachID string, rs []breach.Recipient) []int {
	t.Helper()
	dups, err := s.AddRecipients(context.Background(), breachID, rs)
	if err != nil {
		t.Fatalf("AddRecipients(%d): %v", len(rs), err)
	}
	return dups
}

func mustCounts(t *testing.T, s *jobs.Store, breachID string) breach.RecipientCounts {
	t.Helper()
	c, err := s.RecipientCounts(context.Background(), breachID)
	if err != nil {
		t.Fatalf("RecipientCounts: %v", err)
	}
	return c
}

func recipientIDs(rs []breach.Recipient) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// allRecipients follows the cursors to the end and returns every ID, checking that no page is
// longer than limit.
func allRecipients(t *testing.T, s *jobs.Store, breachID string, f breach.RecipientFilter) []string {
	t.Helper()
	var out []string
	for pages := 0; ; pages++ {
		if pages > 100_000 {
			t.Fatal("the cursors never end")
		}
		page, next, err := s.Recipients(context.Background(), breachID, f)
		if err != nil {
			t.Fatalf("Recipients(%+v): %v", f, err)
		}
		if f.Limit > 0 && len(page) > f.Limit {
			t.Fatalf("page of %d, limit %d", len(page), f.Limit)
		}
		out = append(out, recipientIDs(page)...)
		if next == "" {
			return out
		}
		f.Cursor = next
	}
}

func TestRecipientRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, opts := range map[string][]jobs.Option{
		"plain":  nil,
		"sealed": {jobs.WithEncryptionKey(bytes.Repeat([]byte{7}, jobs.KeySize))},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := jobs.NewStore(redistest.New(t), opts...)
			b := newBreach(newID(0))
			mustCreate(t, s, b)
			full := fullRecipient(b.ID, 0)
			bare := plainRecipient(1) // BreachID left empty: the store sets it
			if dups := mustAdd(t, s, b.ID, []breach.Recipient{full, bare}); len(dups) != 0 {
				t.Fatalf("duplicates %v in a fresh breach", dups)
			}
			got, err := s.Recipient(ctx, b.ID, full.ID)
			if err != nil {
				t.Fatal(err)
			}
			equalJSON(t, "full recipient", got, &full)

			got, err = s.Recipient(ctx, b.ID, bare.ID)
			if err != nil {
				t.Fatal(err)
			}
			bare.BreachID = b.ID
			equalJSON(t, "bare recipient", got, &bare)
			if got.MinorFlag != nil || !got.DateOfBirth.IsZero() || got.Guardian != (breach.Guardian{}) {
				t.Errorf("unset fields came back set: %+v", got)
			}

			page, next, err := s.Recipients(ctx, b.ID, breach.RecipientFilter{})
			if err != nil || next != "" {
				t.Fatalf("Recipients: next %q, %v", next, err)
			}
			equalJSON(t, "listed", page, []breach.Recipient{full, bare})
		})
	}
}

func TestRecipientUnknownNotFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	mustAdd(t, s, b.ID, []breach.Recipient{plainRecipient(0)})

	for _, id := range []string{newID(1), "br_{bad}", ""} {
		_, err := s.AddRecipients(ctx, id, []breach.Recipient{plainRecipient(1)})
		wantCode(t, err, breach.ENOTFOUND)
		_, err = s.AddRecipients(ctx, id, nil)
		wantCode(t, err, breach.ENOTFOUND)
		_, err = s.Recipient(ctx, id, recipientID(0))
		wantCode(t, err, breach.ENOTFOUND)
		_, _, err = s.Recipients(ctx, id, breach.RecipientFilter{})
		wantCode(t, err, breach.ENOTFOUND)
		_, _, err = s.Recipients(ctx, id, breach.RecipientFilter{HasContact: boolPtr(true), IndianaResident: boolPtr(false)})
		wantCode(t, err, breach.ENOTFOUND)
		_, err = s.RecipientCounts(ctx, id)
		wantCode(t, err, breach.ENOTFOUND)
	}
	// The add to an unknown breach left nothing behind.
	if n, err := s.RecipientCounts(ctx, b.ID); err != nil || n.Affected != 1 {
		t.Fatalf("counts %+v, %v", n, err)
	}
	for _, id := range []string{recipientID(1), "rc_{x}", ""} {
		_, err := s.Recipient(ctx, b.ID, id)
		wantCode(t, err, breach.ENOTFOUND)
	}
	// An empty batch for a known breach is fine.
	if dups, err := s.AddRecipients(ctx, b.ID, nil); err != nil || len(dups) != 0 {
		t.Fatalf("empty batch: %v, %v", dups, err)
	}
}

func TestRecipientCountsEmpty(t *testing.T) {
	t.Parallel()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	if c := mustCounts(t, s, b.ID); !reflect.DeepEqual(c, breach.RecipientCounts{Languages: map[string]int{}}) {
		t.Fatalf("counts of a breach without recipients = %+v", c)
	}
}

func TestRecipientDedupe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.New(t)
	s := jobs.NewStore(rdb)
	b := newBreach(newID(0))
	mustCreate(t, s, b)

	batch := make([]breach.Recipient, 5)
	for i := range batch {
		batch[i] = plainRecipient(i)
	}
	if dups := mustAdd(t, s, b.ID, batch); len(dups) != 0 {
		t.Fatalf("first upload: duplicates %v", dups)
	}
	before := mustCounts(t, s, b.ID)
	if before.Affected != 5 {
		t.Fatalf("affected = %d, want 5", before.Affected)
	}

	// The same file again, with the fresh IDs a new upload gets: nothing is added.
	again := slices.Clone(batch)
	for i := range again {
		again[i].ID = recipientID(100 + i)
		again[i].FirstName = "Changed"
	}
	if dups := mustAdd(t, s, b.ID, again); !slices.Equal(dups, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("second upload: duplicates %v, want all five", dups)
	}
	if c := mustCounts(t, s, b.ID); !reflect.DeepEqual(c, before) {
		t.Fatalf("counts after the re-upload %+v, before %+v", c, before)
	}
	if _, err := s.Recipient(ctx, b.ID, again[0].ID); breach.ErrorCode(err) != breach.ENOTFOUND {
		t.Fatalf("a duplicate was stored under its new ID (err %v)", err)
	}
	if r, err := s.Recipient(ctx, b.ID, batch[0].ID); err != nil || r.FirstName != "José" {
		t.Fatalf("the first record was changed: %+v, %v", r, err)
	}

	// Inside one batch: the second of two rows with one external_id, and a row already stored.
	within := []breach.Recipient{plainRecipient(10), plainRecipient(11), plainRecipient(12), plainRecipient(13)}
	within[2].ExternalID = within[0].ExternalID
	within[3].ExternalID = batch[4].ExternalID
	if dups := mustAdd(t, s, b.ID, within); !slices.Equal(dups, []int{2, 3}) {
		t.Fatalf("duplicates %v, want [2 3]", dups)
	}
	if c := mustCounts(t, s, b.ID); c.Affected != 7 || c.IndianaResidents != 7 {
		t.Fatalf("counts %+v, want 7 affected and residents", c)
	}
	want := append(recipientIDs(batch), within[0].ID, within[1].ID)
	if got := allRecipients(t, s, b.ID, breach.RecipientFilter{}); !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	for key, n := range map[string]int64{
		"breachd:breach:{" + b.ID + "}:recipients":          7,
		"breachd:breach:{" + b.ID + "}:recipients:external": 7,
	} {
		if got := rdb.HLen(ctx, key).Val(); got != n {
			t.Errorf("HLEN %s = %d, want %d", key, got, n)
		}
	}
}

// Two uploads of overlapping files at once: every external_id ends up stored exactly once, by
// exactly one of them, and the counters agree.
func TestRecipientConcurrentUploads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.New(t)
	s := jobs.NewStore(rdb)
	b := newBreach(newID(0))
	mustCreate(t, s, b)

	const perUpload, overlap, batchSize = 3000, 2500, 100
	start := make(chan struct{})
	upload := func(u int) (accepted []string, err error) {
		<-start
		// Both start with the shared 0..2499, in step, then each has 500 of its own.
		for lo := 0; lo < perUpload; lo += batchSize {
			batch := make([]breach.Recipient, batchSize)
			for i := range batch {
				n := lo + i
				if n >= overlap {
					n += u * (perUpload - overlap)
				}
				r := plainRecipient(u*1_000_000 + lo + i) // IDs of their own per upload
				r.ExternalID = fmt.Sprintf("S-%05d", n)
				if n%3 == 0 {
					r.Address.State = "OH"
				}
				batch[i] = r
			}
			dups, err := s.AddRecipients(ctx, b.ID, batch)
			if err != nil {
				return nil, err
			}
			for i, r := range batch {
				if !slices.Contains(dups, i) {
					accepted = append(accepted, r.ExternalID)
				}
			}
		}
		return accepted, nil
	}
	var wg sync.WaitGroup
	got := make([][]string, 2)
	errs := make([]error, 2)
	for u := range 2 {
		wg.Go(func() { got[u], errs[u] = upload(u) })
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	const total = 2*perUpload - overlap
	all := append(slices.Clone(got[0]), got[1]...)
	slices.Sort(all)
	if len(all) != total || len(slices.Compact(all)) != total {
		t.Fatalf("accepted %d + %d external IDs, %d distinct; want %d, each once",
			len(got[0]), len(got[1]), len(slices.Compact(all)), total)
	}
	t.Logf("upload 0 stored %d, upload 1 stored %d", len(got[0]), len(got[1]))

	outOfState := 0
	for n := range total {
		if n%3 == 0 {
			outOfState++
		}
	}
	want := breach.RecipientCounts{Affected: total, IndianaResidents: total - outOfState, Languages: map[string]int{"es": total}}
	if c := mustCounts(t, s, b.ID); !reflect.DeepEqual(c, want) {
		t.Fatalf("counts %+v, want %+v", c, want)
	}
	listed := allRecipients(t, s, b.ID, breach.RecipientFilter{Limit: jobs.MaxLimit})
	if len(listed) != total {
		t.Fatalf("listed %d, want %d", len(listed), total)
	}
	// Each external_id points at a record that carries it.
	ext, err := rdb.HGetAll(ctx, "breachd:breach:{"+b.ID+"}:recipients:external").Result()
	if err != nil || len(ext) != total {
		t.Fatalf("external hash has %d entries, %v", len(ext), err)
	}
	for e, id := range ext {
		r, err := s.Recipient(ctx, b.ID, id)
		if err != nil || r.ExternalID != e {
			t.Fatalf("external %s → %s: %+v, %v", e, id, r, err)
		}
	}
	oos := allRecipients(t, s, b.ID, breach.RecipientFilter{IndianaResident: boolPtr(false)})
	if len(oos) != outOfState {
		t.Fatalf("listed %d out of state, want %d", len(oos), outOfState)
	}
}

func TestRecipientCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)

	eighteen := discovered.AddYears(-18) // turns 18 on the discovery date
	type row struct {
		name                          string
		edit                          func(r *breach.Recipient)
		resident, insufficient, minor bool
	}
	rows := []row{
		{"complete Indiana address", func(r *breach.Recipient) {}, true, false, false},
		{"Ohio address", func(r *breach.Recipient) { r.Address.State = "OH" }, false, false, false},
		{"lower-case state is not Indiana", func(r *breach.Recipient) { r.Address.State = "in" }, false, false, false},
		{"no address, email only", func(r *breach.Recipient) {
			r.Address = breach.PostalAddress{}
			r.Email = "a@example.org"
		}, false, false, false},
		{"no address, phone only", func(r *breach.Recipient) {
			r.Address = breach.PostalAddress{}
			r.Phone = "+13175550100"
		}, false, false, false},
		{"no address, guardian email only", func(r *breach.Recipient) {
			r.Address = breach.PostalAddress{}
			r.Guardian = breach.Guardian{Name: "G", Email: "g@example.org"}
		}, false, false, false},
		{"no address, guardian phone only", func(r *breach.Recipient) {
			r.Address = breach.PostalAddress{}
			r.Guardian = breach.Guardian{Phone: "+13175550101"}
		}, false, false, false},
		{"Indiana address without ZIP, nothing else", func(r *breach.Recipient) { r.Address.PostalCode = "" }, true, true, false},
		{"guardian name only", func(r *breach.Recipient) {
			r.Address = breach.PostalAddress{}
			r.Guardian = breach.Guardian{Name: "Minh"}
		}, false, true, false},
		{"nothing at all", func(r *breach.Recipient) { r.Address = breach.PostalAddress{} }, false, true, false},
		{"18 on the discovery date", func(r *breach.Recipient) { r.DateOfBirth = eighteen }, true, false, false},
		{"18 the day after discovery", func(r *breach.Recipient) { r.DateOfBirth = eighteen.AddDays(1) }, true, false, true},
		{"18 the day before discovery", func(r *breach.Recipient) { r.DateOfBirth = breach.MustDate("2008-02-28") }, true, false, false},
		{"born 29 February, 18 on 1 March: the discovery date", func(r *breach.Recipient) {
			r.DateOfBirth = breach.MustDate("2008-02-29")
		}, true, false, false},
		{"flagged minor though born long ago", func(r *breach.Recipient) {
			r.DateOfBirth = breach.MustDate("1980-01-01")
			r.MinorFlag = boolPtr(true)
		}, true, false, true},
		{"flagged adult though born recently", func(r *breach.Recipient) {
			r.DateOfBirth = breach.MustDate("2015-01-01")
			r.MinorFlag = boolPtr(false)
		}, true, false, false},
		{"flagged minor without date of birth", func(r *breach.Recipient) { r.MinorFlag = boolPtr(true) }, true, false, true},
		{"child out of state with no contact", func(r *breach.Recipient) {
			r.Address = breach.PostalAddress{City: "Chicago", State: "IL"}
			r.DateOfBirth = breach.MustDate("2014-09-30")
		}, false, true, true},
	}
	var rs []breach.Recipient
	want := breach.RecipientCounts{Languages: map[string]int{}}
	for i, c := range rows {
		r := plainRecipient(i)
		c.edit(&r)
		// The expectations are written by hand; check them against the root's definitions too.
		if r.IndianaResident() != c.resident || r.HasContact() == c.insufficient || r.Minor(discovered) != c.minor {
			t.Fatalf("%s: the case's expectations disagree with package breach", c.name)
		}
		rs = append(rs, r)
		want.Affected++
		want.Languages[r.Language]++
		if c.resident {
			want.IndianaResidents++
		}
		if c.insufficient {
			want.InsufficientContact++
		}
		if c.minor {
			want.Minors++
		}
	}
	mustAdd(t, s, b.ID, rs)
	if !reflect.DeepEqual(want, breach.RecipientCounts{Affected: 18, IndianaResidents: 9, InsufficientContact: 4, Minors: 4,
		Languages: map[string]int{"es": 18}}) {
		t.Fatalf("the table changed: %+v", want)
	}
	if c := mustCounts(t, s, b.ID); !reflect.DeepEqual(c, want) {
		t.Fatalf("counts %+v, want %+v", c, want)
	}

	// The count follows the current discovery date: a day earlier, the two turning 18 on the
	// original date are minors too; a day later, the one turning 18 the day after is not.
	revise := func(on breach.Date) {
		t.Helper()
		if _, err := s.UpdateBreach(ctx, b.ID, func(b *breach.Breach) (breach.Event, error) {
			b.DeterminationVersion++
			b.Determination.DiscoveredOn = on
			return breach.Event{Type: breach.EventDeterminationRevised, Actor: "key-admin-1"}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	revise(discovered.AddDays(-1))
	if c := mustCounts(t, s, b.ID); c.Minors != want.Minors+2 {
		t.Fatalf("discovered a day earlier: minors %d, want %d", c.Minors, want.Minors+2)
	}
	revise(discovered.AddDays(1))
	if c := mustCounts(t, s, b.ID); c.Minors != want.Minors-1 {
		t.Fatalf("discovered a day later: minors %d, want %d", c.Minors, want.Minors-1)
	}
}

// The 29 February child turns 18 on 1 March in a common year (breach.Date.AddYears).
func TestRecipientCountsLeapDayBirthday(t *testing.T) {
	t.Parallel()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	b.Determination.DiscoveredOn = breach.MustDate("2026-02-28")
	mustCreate(t, s, b)
	r := plainRecipient(0)
	r.DateOfBirth = breach.MustDate("2008-02-29")
	mustAdd(t, s, b.ID, []breach.Recipient{r})
	if c := mustCounts(t, s, b.ID); c.Minors != 1 {
		t.Fatalf("on 2026-02-28 minors = %d, want 1", c.Minors)
	}
	if _, err := s.UpdateBreach(context.Background(), b.ID, func(b *breach.Breach) (breach.Event, error) {
		b.Determination.DiscoveredOn = breach.MustDate("2026-03-01")
		return breach.Event{Type: breach.EventDeterminationRevised, Actor: "a"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if c := mustCounts(t, s, b.ID); c.Minors != 0 {
		t.Fatalf("on 2026-03-01 minors = %d, want 0", c.Minors)
	}
}

func TestRecipientsPaged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	// Added out of order over two batches: the list follows the IDs (upload order), not the calls.
	var rs []breach.Recipient
	for i := range 7 {
		rs = append(rs, plainRecipient(i))
	}
	mustAdd(t, s, b.ID, []breach.Recipient{rs[4], rs[6], rs[5]})
	mustAdd(t, s, b.ID, []breach.Recipient{rs[2], rs[0], rs[3], rs[1]})

	wantPages := [][]string{
		{recipientID(0), recipientID(1), recipientID(2)},
		{recipientID(3), recipientID(4), recipientID(5)},
		{recipientID(6)},
	}
	cursor := ""
	for i, want := range wantPages {
		page, next, err := s.Recipients(ctx, b.ID, breach.RecipientFilter{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if got := recipientIDs(page); !slices.Equal(got, want) {
			t.Fatalf("page %d = %v, want %v", i+1, got, want)
		}
		wantNext := ""
		if i < len(wantPages)-1 {
			wantNext = want[len(want)-1]
		}
		if next != wantNext {
			t.Fatalf("page %d next = %q, want %q", i+1, next, wantNext)
		}
		cursor = next
	}
	// Exactly a page's worth: no empty extra page.
	page, next, err := s.Recipients(ctx, b.ID, breach.RecipientFilter{Limit: 7})
	if err != nil || len(page) != 7 || next != "" {
		t.Fatalf("limit 7: %d, %q, %v", len(page), next, err)
	}
	// The default limit is 50 and the largest 200.
	var many []breach.Recipient
	for i := range 250 {
		many = append(many, plainRecipient(100+i))
	}
	mustAdd(t, s, b.ID, many)
	for limit, want := range map[int]int{0: jobs.DefaultLimit, -1: jobs.DefaultLimit, 1000: jobs.MaxLimit} {
		page, next, err := s.Recipients(ctx, b.ID, breach.RecipientFilter{Limit: limit})
		if err != nil || len(page) != want || next != page[want-1].ID {
			t.Fatalf("limit %d: %d recipients, next %q, %v; want %d", limit, len(page), next, err, want)
		}
	}
	// A cursor that names no recipient still works: the list goes on after it.
	page, _, err = s.Recipients(ctx, b.ID, breach.RecipientFilter{Limit: 2, Cursor: recipientID(3) + "0"})
	if err != nil || !slices.Equal(recipientIDs(page), []string{recipientID(4), recipientID(5)}) {
		t.Fatalf("after a foreign cursor: %v, %v", recipientIDs(page), err)
	}
}

func TestRecipientsMalformedCursor(t *testing.T) {
	t.Parallel()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	for _, c := range []string{"rc_{x}", "(rc_1", "[rc_1", "rc 1", string(make([]byte, 65))} {
		for _, f := range []breach.RecipientFilter{{Cursor: c}, {Cursor: c, HasContact: boolPtr(true)}} {
			_, _, err := s.Recipients(context.Background(), b.ID, f)
			wantInvalidField(t, err, "cursor")
		}
	}
}

func TestRecipientsFiltered(t *testing.T) {
	t.Parallel()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	// 24 recipients: out of state every 3rd, without contact every 4th, so every combination
	// occurs several times and interleaves with the others.
	var rs []breach.Recipient
	for i := range 24 {
		r := plainRecipient(i)
		if i%3 == 0 {
			r.Address.State = "OH"
		}
		if i%4 == 0 {
			r.Address.Line1 = ""
			r.Address.City = ""
			r.Address.PostalCode = ""
		}
		rs = append(rs, r)
	}
	mustAdd(t, s, b.ID, rs)

	pick := func(keep func(r breach.Recipient) bool) []string {
		var out []string
		for _, r := range rs {
			if keep(r) {
				out = append(out, r.ID)
			}
		}
		return out
	}
	tr, fa := boolPtr(true), boolPtr(false)
	for _, c := range []struct {
		name      string
		res, cont *bool
	}{
		{"all", nil, nil},
		{"residents", tr, nil},
		{"out of state", fa, nil},
		{"with contact", nil, tr},
		{"without contact", nil, fa},
		{"residents with contact", tr, tr},
		{"residents without contact", tr, fa},
		{"out of state with contact", fa, tr},
		{"out of state without contact", fa, fa},
	} {
		want := pick(func(r breach.Recipient) bool {
			return (c.res == nil || r.IndianaResident() == *c.res) && (c.cont == nil || r.HasContact() == *c.cont)
		})
		if len(want) == 0 || (c.res != nil || c.cont != nil) && len(want) == len(rs) {
			t.Fatalf("%s: the fixture does not exercise the filter (%d of %d)", c.name, len(want), len(rs))
		}
		for _, limit := range []int{1, 2, 5, 50} {
			got := allRecipients(t, s, b.ID, breach.RecipientFilter{IndianaResident: c.res, HasContact: c.cont, Limit: limit})
			if !slices.Equal(got, want) {
				t.Errorf("%s, limit %d: got %v\nwant %v", c.name, limit, got, want)
			}
		}
	}
}

// A filter that skips more recipients in a row than one call looks at returns a short page with a
// cursor; following the cursors finds every match.
func TestRecipientsFilterSkipsLongRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	const unreachable = 25_000
	batch := make([]breach.Recipient, 0, 1000)
	for i := range unreachable + 3 {
		r := plainRecipient(i)
		if i < unreachable {
			r.Address = breach.PostalAddress{}
		}
		batch = append(batch, r)
		if len(batch) == cap(batch) || i == unreachable+2 {
			mustAdd(t, s, b.ID, batch)
			batch = batch[:0]
		}
	}
	f := breach.RecipientFilter{HasContact: boolPtr(true), Limit: 2}
	page, next, err := s.Recipients(ctx, b.ID, f)
	if err != nil || len(page) != 0 || next == "" {
		t.Fatalf("first page: %d recipients, next %q, %v; want a short page and a cursor", len(page), next, err)
	}
	want := []string{recipientID(unreachable), recipientID(unreachable + 1), recipientID(unreachable + 2)}
	if got := allRecipients(t, s, b.ID, f); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestRecipientsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.New(t)
	s := jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{7}, jobs.KeySize)))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	r0, r1 := fullRecipient(b.ID, 0), fullRecipient(b.ID, 1)
	r1.ExternalID = "S-other"
	mustAdd(t, s, b.ID, []breach.Recipient{r0, r1})

	recs := "breachd:breach:{" + b.ID + "}:recipients"
	raw, err := rdb.HGet(ctx, recs, r0.ID).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if raw[0] != 0x01 {
		t.Errorf("record starts with %#x, want the sealed-v1 prefix", raw[0])
	}
	for _, pii := range []string{"Hồng", "Nguyễn", "hong.nguyen@example.org", "+13175550111", "Keystone",
		"minh.nguyen@example.org", "2012-04-09"} {
		if bytes.Contains(raw, []byte(pii)) {
			t.Errorf("the record holds %q in the clear", pii)
		}
	}
	// Without the key, or with another, the record does not open.
	for name, other := range map[string]*jobs.Store{
		"no key":    jobs.NewStore(rdb),
		"wrong key": jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{8}, jobs.KeySize))),
	} {
		if _, err := other.Recipient(ctx, b.ID, r0.ID); breach.ErrorCode(err) != breach.EINTERNAL {
			t.Errorf("%s: Recipient err = %v, want an internal error", name, err)
		}
	}
	// A sealed record copied to another recipient does not open there: the ID is bound in.
	if err := rdb.HSet(ctx, recs, r1.ID, raw).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recipient(ctx, b.ID, r1.ID); err == nil {
		t.Error("a record sealed for one recipient opened as another")
	}
	if got, err := s.Recipient(ctx, b.ID, r0.ID); err != nil || got.Name() != "Hồng Nguyễn Thị" {
		t.Fatalf("read back %+v, %v", got, err)
	}
}

func TestAddRecipientsRefusesBadBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)

	badID := plainRecipient(1)
	badID.ID = "rc_{1}"
	noExt := plainRecipient(2)
	noExt.ExternalID = ""
	twice := plainRecipient(3)
	twice.ExternalID = "other"
	twice.ID = recipientID(0)
	for name, c := range map[string]struct {
		rs    []breach.Recipient
		field string
	}{
		"malformed ID":        {[]breach.Recipient{plainRecipient(0), badID}, "recipients[1].id"},
		"missing external_id": {[]breach.Recipient{plainRecipient(0), noExt}, "recipients[1].external_id"},
		"ID given twice":      {[]breach.Recipient{plainRecipient(0), twice}, "recipients[1].id"},
	} {
		_, err := s.AddRecipients(ctx, b.ID, c.rs)
		wantInvalidField(t, err, c.field)
		if n := mustCounts(t, s, b.ID); n.Affected != 0 {
			t.Fatalf("%s: %d stored from a refused batch", name, n.Affected)
		}
	}
}

// A recipient ID already used by another stored recipient is a caller bug: it is reported, the
// record is not overwritten, and the rest of the batch is stored.
func TestAddRecipientsIDConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.New(t)
	s := jobs.NewStore(rdb)
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	mustAdd(t, s, b.ID, []breach.Recipient{plainRecipient(0)})

	reused := plainRecipient(0)
	reused.ExternalID = "S-new"
	reused.FirstName = "Other"
	again := plainRecipient(5) // a duplicate by external_id, under a fresh ID
	again.ExternalID = plainRecipient(0).ExternalID
	dups, err := s.AddRecipients(ctx, b.ID, []breach.Recipient{again, reused, plainRecipient(1)})
	if err == nil || breach.ErrorCode(err) != breach.EINTERNAL {
		t.Fatalf("err = %v, want an internal error", err)
	}
	if !slices.Equal(dups, []int{0}) {
		t.Errorf("duplicates %v, want [0]", dups)
	}
	if r, err := s.Recipient(ctx, b.ID, recipientID(0)); err != nil || r.FirstName != "José" {
		t.Fatalf("record 0 = %+v, %v: overwritten", r, err)
	}
	if rdb.HExists(ctx, "breachd:breach:{"+b.ID+"}:recipients:external", "S-new").Val() {
		t.Error("the refused external_id is held: a later upload of it would be called a duplicate")
	}
	if c := mustCounts(t, s, b.ID); c.Affected != 2 {
		t.Errorf("affected = %d, want 2", c.Affected)
	}
}

func TestRecipientsRedisDownUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: closedAddr(t), MaxRetries: -1, DialerRetries: 1,
		DialTimeout: time.Second})
	t.Cleanup(func() { rdb.Close() })
	s := jobs.NewStore(rdb)
	id := newID(0)
	_, err1 := s.AddRecipients(ctx, id, []breach.Recipient{plainRecipient(0)})
	_, err2 := s.Recipient(ctx, id, recipientID(0))
	_, _, err3 := s.Recipients(ctx, id, breach.RecipientFilter{})
	_, err4 := s.RecipientCounts(ctx, id)
	for i, err := range []error{err1, err2, err3, err4} {
		if got := breach.ErrorCode(err); got != breach.EUNAVAILABLE {
			t.Errorf("call %d: code %q (%v), want unavailable", i+1, got, err)
		}
	}
}

// The embedded (miniredis) mode runs the same scripts.
func TestRecipientsOnEmbedded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, _ := startEmbedded(t)
	s := jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{7}, jobs.KeySize)))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	full := fullRecipient(b.ID, 0)
	rs := []breach.Recipient{full}
	for i := 1; i < 6; i++ {
		r := plainRecipient(i)
		if i%2 == 0 {
			r.Address.State = "IL"
		}
		rs = append(rs, r)
	}
	if dups := mustAdd(t, s, b.ID, rs); len(dups) != 0 {
		t.Fatalf("duplicates %v", dups)
	}
	if dups := mustAdd(t, s, b.ID, rs[:2]); !slices.Equal(dups, []int{0, 1}) {
		t.Fatalf("duplicates %v on the re-upload", dups)
	}
	got, err := s.Recipient(ctx, b.ID, full.ID)
	if err != nil {
		t.Fatal(err)
	}
	equalJSON(t, "recipient", got, &full)
	// The re-upload counts nobody twice, languages included.
	if c := mustCounts(t, s, b.ID); !reflect.DeepEqual(c, breach.RecipientCounts{Affected: 6, IndianaResidents: 4, Minors: 1,
		Languages: map[string]int{"vi": 1, "es": 5}}) {
		t.Fatalf("counts %+v", c)
	}
	want := []string{recipientID(2), recipientID(4)}
	if ids := allRecipients(t, s, b.ID, breach.RecipientFilter{IndianaResident: boolPtr(false), Limit: 1}); !slices.Equal(ids, want) {
		t.Fatalf("out of state %v, want %v", ids, want)
	}
	want = []string{recipientID(0), recipientID(1), recipientID(3), recipientID(5)}
	if ids := allRecipients(t, s, b.ID, breach.RecipientFilter{IndianaResident: boolPtr(true), Limit: 3}); !slices.Equal(ids, want) {
		t.Fatalf("residents %v, want %v", ids, want)
	}
}

// A batch larger than the script's slices of arguments (4,000) is stored whole, duplicates
// across the slice boundaries included.
func TestAddRecipientsLargeBatch(t *testing.T) {
	t.Parallel()
	s := jobs.NewStore(redistest.New(t))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	const n, repeated = 9000, 500
	rs := make([]breach.Recipient, n)
	var want []int
	for i := range rs {
		rs[i] = plainRecipient(i)
		if i >= n-repeated { // the last 500 repeat the first 500's external IDs
			rs[i].ExternalID = rs[i-(n-repeated)].ExternalID
			want = append(want, i)
		}
	}
	if dups := mustAdd(t, s, b.ID, rs); !slices.Equal(dups, want) {
		t.Fatalf("%d duplicates (first %v), want %d from %d", len(dups), dups[:min(3, len(dups))], len(want), want[0])
	}
	if c := mustCounts(t, s, b.ID); c.Affected != n-repeated || c.IndianaResidents != n-repeated {
		t.Fatalf("counts %+v, want %d", c, n-repeated)
	}
	again := slices.Clone(rs[:4500])
	for i := range again {
		again[i].ID = recipientID(n + i)
	}
	if dups := mustAdd(t, s, b.ID, again); len(dups) != len(again) {
		t.Fatalf("re-upload: %d duplicates, want %d", len(dups), len(again))
	}
	if got := allRecipients(t, s, b.ID, breach.RecipientFilter{Limit: jobs.MaxLimit}); len(got) != n-repeated ||
		got[0] != recipientID(0) || got[len(got)-1] != recipientID(n-repeated-1) {
		t.Fatalf("listed %d", len(got))
	}
}

// A search keeps the people whose name or ID holds every word, in any case and with or without
// accents, across pages and with the other filters; records are sealed, so this reads them in Go.
func TestRecipientsSearch(t *testing.T) {
	t.Parallel()
	s := jobs.NewStore(redistest.New(t), jobs.WithEncryptionKey(bytes.Repeat([]byte{5}, jobs.KeySize)))
	b := newBreach(newID(0))
	mustCreate(t, s, b)
	var rs []breach.Recipient
	for i := range 1200 { // more than one chunk of the search
		r := plainRecipient(i)
		switch {
		case i%400 == 7:
			r.FirstName, r.LastName = "Hồng", "Nguyễn Thị"
		case i == 1101:
			r.FirstName, r.LastName, r.Address.State = "Łukasz", "Żółć", "OH"
		}
		rs = append(rs, r)
	}
	mustAdd(t, s, b.ID, rs)
	for _, c := range []struct {
		name string
		f    breach.RecipientFilter
		want []int
	}{
		{"a name without accents", breach.RecipientFilter{Query: "nguyen"}, []int{7, 407, 807}},
		{"two words, both needed", breach.RecipientFilter{Query: "HONG thi"}, []int{7, 407, 807}},
		{"a word that is not there", breach.RecipientFilter{Query: "hong smith"}, nil},
		{"an external ID", breach.RecipientFilter{Query: "e-1101"}, []int{1101}},
		{"breachd's ID", breach.RecipientFilter{Query: strings.ToLower(recipientID(407))}, []int{407}},
		{"letters that do not decompose", breach.RecipientFilter{Query: "zolc lukasz"}, []int{1101}},
		{"with another filter", breach.RecipientFilter{Query: "zolc", IndianaResident: boolPtr(true)}, nil},
		{"a page of one at a time", breach.RecipientFilter{Query: "nguyễn", Limit: 1}, []int{7, 407, 807}},
		{"blank is no search", breach.RecipientFilter{Query: "  ", Limit: 500}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := allRecipients(t, s, b.ID, c.f)
			if c.name == "blank is no search" {
				if len(got) != 1200 {
					t.Fatalf("a blank query lists %d of 1200", len(got))
				}
				return
			}
			var want []string
			for _, n := range c.want {
				want = append(want, recipientID(n))
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %d people %v, want %v", len(got), got, want)
			}
		})
	}
}
