package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
)

var ntActor = breach.Actor{ID: "key-admin-1", Role: breach.RoleAdmin}

// ntStore is an encrypting store on a fresh database with one breach.
func ntStore(t testing.TB) (*jobs.Store, *redis.Client, *breach.Breach) {
	t.Helper()
	rdb := redistest.New(t)
	s := jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{9}, jobs.KeySize)))
	b := newBreach(newID(0))
	if err := s.CreateBreach(context.Background(), b, createdEvent(b)); err != nil {
		t.Fatal(err)
	}
	return s, rdb, b
}

func ntNotice(n int, c breach.Method) breach.Notice {
	nt := breach.Notice{ID: fmt.Sprintf("nt_%04d", n), Channel: c, RecipientIDs: []string{recipientID(n)},
		AddresseeName: "Nguyễn Văn Minh", Language: "vi"}
	switch c {
	case breach.MethodLetter:
		nt.Address = breach.PostalAddress{Line1: "4120 N Keystone Ave", City: "Indianapolis", State: "IN", PostalCode: "46205"}
	case breach.MethodEmail:
		nt.Email = "minh.nguyen@example.org"
	case breach.MethodPhone:
		nt.Phone = "+13175550111"
	}
	return nt
}

func noticeIDs(ns []breach.Notice) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

func wantCounts(t *testing.T, s *jobs.Store, breachID string, want map[string]int) {
	t.Helper()
	c, _, err := s.NoticeCounts(context.Background(), breachID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for ch, byStatus := range c {
		for st, n := range byStatus {
			if n != 0 {
				got[string(ch)+":"+string(st)] = n
			}
		}
	}
	equalJSON(t, "counts", got, want)
}

func TestCreateNoticesOnceAndCounts(t *testing.T) {
	s, _, b := ntStore(t)
	ctx := context.Background()
	ns := []breach.Notice{ntNotice(1, breach.MethodLetter), ntNotice(2, breach.MethodEmail),
		ntNotice(3, breach.MethodPhone), ntNotice(4, breach.MethodEmail)}
	n, err := s.CreateNotices(ctx, b.ID, ns, ntActor)
	if err != nil || n != 4 {
		t.Fatalf("CreateNotices = %d, %v; want 4", n, err)
	}
	// Again, with one new notice and one given twice: only the new one is stored.
	again := append(slices.Clone(ns), ntNotice(5, breach.MethodLetter), ntNotice(5, breach.MethodLetter))
	if n, err := s.CreateNotices(ctx, b.ID, again, ntActor); err != nil || n != 1 {
		t.Fatalf("second CreateNotices = %d, %v; want 1", n, err)
	}
	wantCounts(t, s, b.ID, map[string]int{"letter:queued": 2, "email:queued": 2, "phone:queued": 1})

	got, err := s.Notice(ctx, "nt_0002")
	if err != nil {
		t.Fatal(err)
	}
	if got.BreachID != b.ID || got.Status != breach.NoticeQueued || got.Email != "minh.nguyen@example.org" ||
		got.CreatedAt.IsZero() || got.AddresseeName != "Nguyễn Văn Minh" {
		t.Fatalf("Notice = %+v", got)
	}
	// One notice.queued event per channel per call, listing the notices it created.
	var events []string
	for _, e := range allEvents(t, s, b.ID) {
		if e.Type == breach.EventNoticeQueued {
			if e.Actor != ntActor.ID || e.Role != ntActor.Role {
				t.Fatalf("queued event %+v", e)
			}
			events = append(events, fmt.Sprintf("%s: %v %v %v", e.Summary, e.Data["channel"], e.Data["count"], e.Data["notice_ids"]))
		}
	}
	want := []string{"1 letter notice queued: letter 1 [nt_0001]", "2 email notices queued: email 2 [nt_0002 nt_0004]",
		"1 phone notice queued: phone 1 [nt_0003]", "1 letter notice queued: letter 1 [nt_0005]"}
	if !slices.Equal(events, want) {
		t.Fatalf("notice.queued events %q, want %q", events, want)
	}
}

func TestCreateNoticesRefusesBadInput(t *testing.T) {
	s, _, b := ntStore(t)
	ctx := context.Background()
	bad := ntNotice(1, "fax")
	_, err := s.CreateNotices(ctx, b.ID, []breach.Notice{bad}, ntActor)
	wantInvalidField(t, err, "notices[0].channel")
	bad = ntNotice(1, breach.MethodLetter)
	bad.ID = "nt_{x}"
	_, err = s.CreateNotices(ctx, b.ID, []breach.Notice{bad}, ntActor)
	wantInvalidField(t, err, "notices[0].id")
	_, err = s.CreateNotices(ctx, newID(9), []breach.Notice{ntNotice(1, breach.MethodLetter)}, ntActor)
	wantCode(t, err, breach.ENOTFOUND)
	_, err = s.Notice(ctx, "nt_missing")
	wantCode(t, err, breach.ENOTFOUND)
	_, _, err = s.NoticeCounts(ctx, newID(9))
	wantCode(t, err, breach.ENOTFOUND)
}

func TestUpdateNoticeMovesStatusCountsAndEvents(t *testing.T) {
	s, _, b := ntStore(t)
	ctx := context.Background()
	if _, err := s.CreateNotices(ctx, b.ID, []breach.Notice{ntNotice(1, breach.MethodEmail), ntNotice(2, breach.MethodEmail)}, ntActor); err != nil {
		t.Fatal(err)
	}
	n, err := s.UpdateNotice(ctx, "nt_0001", func(n *breach.Notice) ([]breach.Event, error) {
		n.Status = breach.NoticeSent
		n.SentAt = t0
		return []breach.Event{{Type: breach.EventNoticeSent, Actor: "worker", Summary: "sent",
			Data: map[string]any{"notice_id": n.ID, "channel": "email"}}}, nil
	})
	if err != nil || n.Status != breach.NoticeSent {
		t.Fatalf("UpdateNotice = %+v, %v", n, err)
	}
	wantCounts(t, s, b.ID, map[string]int{"email:queued": 1, "email:sent": 1})
	sent, _, err := s.Notices(ctx, b.ID, breach.NoticeFilter{Status: breach.NoticeSent})
	if err != nil || !slices.Equal(noticeIDs(sent), []string{"nt_0001"}) {
		t.Fatalf("sent = %v, %v", noticeIDs(sent), err)
	}
	queued, _, err := s.Notices(ctx, b.ID, breach.NoticeFilter{Status: breach.NoticeQueued})
	if err != nil || !slices.Equal(noticeIDs(queued), []string{"nt_0002"}) {
		t.Fatalf("queued = %v, %v", noticeIDs(queued), err)
	}
	evs := allEvents(t, s, b.ID)
	if last := evs[len(evs)-1]; last.Type != breach.EventNoticeSent || last.Data["notice_id"] != "nt_0001" {
		t.Fatalf("last event %+v", last)
	}

	// fn's error stores nothing.
	boom := errors.New("boom")
	if _, err := s.UpdateNotice(ctx, "nt_0002", func(n *breach.Notice) ([]breach.Event, error) {
		n.Status = breach.NoticeFailed
		return nil, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	wantCounts(t, s, b.ID, map[string]int{"email:queued": 1, "email:sent": 1})
	// fn may not change the channel.
	if _, err := s.UpdateNotice(ctx, "nt_0002", func(n *breach.Notice) ([]breach.Event, error) {
		n.Channel = breach.MethodLetter
		return nil, nil
	}); err == nil {
		t.Fatal("changing the channel was allowed")
	}
	_, err = s.UpdateNotice(ctx, "nt_nope", func(n *breach.Notice) ([]breach.Event, error) { return nil, nil })
	wantCode(t, err, breach.ENOTFOUND)
}

// Concurrent updates of one notice are all applied, one after the other.
func TestUpdateNoticeConcurrent(t *testing.T) {
	s, _, b := ntStore(t)
	ctx := context.Background()
	if _, err := s.CreateNotices(ctx, b.ID, []breach.Notice{ntNotice(1, breach.MethodPhone)}, ntActor); err != nil {
		t.Fatal(err)
	}
	const workers = 8
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			_, err := s.UpdateNotice(ctx, "nt_0001", func(n *breach.Notice) ([]breach.Event, error) {
				n.Attempts++
				return []breach.Event{{Type: breach.EventCallAttempt, Actor: "clerk"}}, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n, err := s.Notice(ctx, "nt_0001")
	if err != nil || n.Attempts != workers {
		t.Fatalf("attempts %d, %v; want %d", n.Attempts, err, workers)
	}
	attempts := 0
	for _, e := range allEvents(t, s, b.ID) {
		if e.Type == breach.EventCallAttempt {
			attempts++
		}
	}
	if attempts != workers {
		t.Fatalf("%d call.attempt events, want %d", attempts, workers)
	}
}

func TestNoticesFilteredAndPaged(t *testing.T) {
	s, _, b := ntStore(t)
	ctx := context.Background()
	var ns []breach.Notice
	channels := []breach.Method{breach.MethodLetter, breach.MethodEmail, breach.MethodPhone}
	for i := range 30 {
		ns = append(ns, ntNotice(i, channels[i%3]))
	}
	if _, err := s.CreateNotices(ctx, b.ID, ns, ntActor); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"nt_0001", "nt_0004", "nt_0005"} {
		if _, err := s.UpdateNotice(ctx, id, func(n *breach.Notice) ([]breach.Event, error) {
			n.Status = breach.NoticeFailed
			return nil, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	all := func(f breach.NoticeFilter) []string {
		t.Helper()
		var out []string
		for {
			page, next, err := s.Notices(ctx, b.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > f.Limit {
				t.Fatalf("page of %d, limit %d", len(page), f.Limit)
			}
			out = append(out, noticeIDs(page)...)
			if next == "" {
				return out
			}
			f.Cursor = next
		}
	}
	want := noticeIDs(ns)
	if got := all(breach.NoticeFilter{Limit: 7}); !slices.Equal(got, want) {
		t.Fatalf("all = %v", got)
	}
	var emails []string
	for _, n := range ns {
		if n.Channel == breach.MethodEmail {
			emails = append(emails, n.ID)
		}
	}
	if got := all(breach.NoticeFilter{Channel: breach.MethodEmail, Limit: 3}); !slices.Equal(got, emails) {
		t.Fatalf("emails = %v, want %v", got, emails)
	}
	if got := all(breach.NoticeFilter{Status: breach.NoticeFailed, Limit: 2}); !slices.Equal(got, []string{"nt_0001", "nt_0004", "nt_0005"}) {
		t.Fatalf("failed = %v", got)
	}
	if got := all(breach.NoticeFilter{Status: breach.NoticeFailed, Channel: breach.MethodEmail, Limit: 5}); !slices.Equal(got, []string{"nt_0001", "nt_0004"}) {
		t.Fatalf("failed emails = %v", got)
	}
	if got := all(breach.NoticeFilter{Status: breach.NoticeQueued, Channel: breach.MethodPhone, Limit: 50}); len(got) != 9 {
		t.Fatalf("queued phone = %v", got)
	}
	_, _, err := s.Notices(ctx, b.ID, breach.NoticeFilter{Cursor: "{bad}"})
	wantInvalidField(t, err, "cursor")
	_, _, err = s.Notices(ctx, b.ID, breach.NoticeFilter{Status: "lost"})
	wantInvalidField(t, err, "status")
	_, _, err = s.Notices(ctx, b.ID, breach.NoticeFilter{Channel: "fax"})
	wantInvalidField(t, err, "channel")
	_, _, err = s.Notices(ctx, newID(5), breach.NoticeFilter{})
	wantCode(t, err, breach.ENOTFOUND)
	_, _, err = s.Notices(ctx, newID(5), breach.NoticeFilter{Status: breach.NoticeQueued})
	wantCode(t, err, breach.ENOTFOUND)
}

// Notices name people: nothing readable reaches Redis.
func TestNoticesEncryptedAtRest(t *testing.T) {
	s, rdb, b := ntStore(t)
	ctx := context.Background()
	if _, err := s.CreateNotices(ctx, b.ID, []breach.Notice{ntNotice(1, breach.MethodLetter)}, ntActor); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		typ, _ := rdb.Type(ctx, k).Result()
		var dump []string
		switch typ {
		case "hash":
			m, _ := rdb.HGetAll(ctx, k).Result()
			for f, v := range m {
				dump = append(dump, f, v)
			}
		case "string":
			v, _ := rdb.Get(ctx, k).Result()
			dump = append(dump, v)
		case "stream":
			msgs, _ := rdb.XRange(ctx, k, "-", "+").Result()
			for _, m := range msgs {
				dump = append(dump, fmt.Sprint(m.Values))
			}
		}
		for _, v := range dump {
			for _, pii := range []string{"Minh", "Keystone", "46205"} {
				if strings.Contains(v, pii) {
					t.Errorf("%s (%s) holds %q in the clear", k, typ, pii)
				}
			}
		}
	}
}

// The given-by-day counters move with the counts: a notice counts on the day it was given (a
// letter on its mailing day, an email when sent), one that stops counting comes off on the day it
// did, and the days add up to the given notices of the counts read with them.
func TestNoticeCountsByDay(t *testing.T) {
	rdb := redistest.New(t)
	now := time.Date(2026, 3, 12, 15, 0, 0, 0, time.UTC)
	s := jobs.NewStore(rdb, jobs.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	b := newBreach(newID(0))
	if err := s.CreateBreach(ctx, b, createdEvent(b)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateNotices(ctx, b.ID, []breach.Notice{ntNotice(1, breach.MethodLetter), ntNotice(2, breach.MethodLetter),
		ntNotice(3, breach.MethodEmail), ntNotice(4, breach.MethodPhone)}, ntActor); err != nil {
		t.Fatal(err)
	}
	set := func(id string, fn func(n *breach.Notice)) {
		t.Helper()
		if _, err := s.UpdateNotice(ctx, id, func(n *breach.Notice) ([]breach.Event, error) { fn(n); return nil, nil }); err != nil {
			t.Fatal(err)
		}
	}
	set("nt_0001", func(n *breach.Notice) {
		n.Status, n.MailedOn = breach.NoticeMailed, breach.DateOf(now.AddDate(0, 0, -2), time.UTC)
	})
	set("nt_0003", func(n *breach.Notice) {
		n.Status, n.SentAt = breach.NoticeSent, time.Date(2026, 3, 11, 23, 30, 0, 0, time.UTC)
	})
	set("nt_0001", func(n *breach.Notice) { n.Status = breach.NoticeReturned }) // still given
	now = now.AddDate(0, 0, 1)
	set("nt_0003", func(n *breach.Notice) { n.Status = breach.NoticeFailed }) // refused after all
	set("nt_0004", func(n *breach.Notice) { n.Status = breach.NoticeDelivered })
	set("nt_0002", func(n *breach.Notice) { n.Status, n.MailedOn = breach.NoticeMailed, breach.DateOf(now, time.UTC) })

	counts, _, days, err := s.NoticeCountsByDay(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	sum := 0
	for _, d := range days {
		got[d.Day.String()] = d.Given
		sum += d.Given
	}
	equalJSON(t, "given by day", got, map[string]int{"2026-03-10": 1, "2026-03-11": 1, "2026-03-13": 1})
	if given := counts.Progress(time.Time{}).Given; sum != given || given != 3 {
		t.Errorf("the days add up to %d; the counts give %d (want 3)", sum, given)
	}
	if !slices.IsSortedFunc(days, func(a, b breach.GivenOnDay) int { return a.Day.Time().Compare(b.Day.Time()) }) {
		t.Errorf("days not in order: %v", days)
	}
	_, _, _, err = s.NoticeCountsByDay(ctx, newID(9))
	wantCode(t, err, breach.ENOTFOUND)
}
