package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs/redistest"
)

// lockedStore is an encrypting store with one breach whose dispatch lock is held by the test.
func lockedStore(t *testing.T) (*Store, noticeKeys, *dispatchLock, string) {
	t.Helper()
	ctx := context.Background()
	rdb := redistest.New(t)
	s := NewStore(rdb, WithEncryptionKey(bytes.Repeat([]byte{3}, KeySize)))
	const id = "br_LOCKED"
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	b := &breach.Breach{ID: id, Status: breach.StatusOpen, CreatedAt: at, UpdatedAt: at, CreatedBy: "key-admin-1"}
	if err := s.CreateBreach(ctx, b, breach.Event{Type: breach.EventBreachCreated, Actor: "key-admin-1", Role: breach.RoleAdmin, At: at}); err != nil {
		t.Fatal(err)
	}
	keys := noticeKeysOf(id)
	l, err := s.lockDispatch(ctx, keys, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.unlock(ctx, l) })
	if !l.fresh {
		t.Fatal("a breach without notices is not fresh")
	}
	return s, keys, l, id
}

func lockedNotices(t *testing.T, s *Store, keys noticeKeys, id string, ids ...string) []encodedNotice {
	t.Helper()
	var enc []encodedNotice
	for _, nid := range ids {
		n := breach.Notice{ID: nid, Channel: breach.MethodLetter, RecipientIDs: []string{"rc_" + nid}, AddresseeName: "Lan",
			Address: breach.PostalAddress{Line1: "1 Main St", City: "Muncie", State: "IN", PostalCode: "47305"}, Language: "en"}
		e, err := s.prepareNotice(keys.records, id, &n, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		enc = append(enc, e)
	}
	return enc
}

// A notice created through the script while a dispatch holds its lock (a fallback letter, say)
// moves the epoch: the dispatch then asks which of its notices exist and leaves that one alone,
// although it began on a breach without notices and skips the question while nothing moves.
func TestCreateUnderLockLeavesNoticesCreatedMeanwhile(t *testing.T) {
	s, keys, l, id := lockedStore(t)
	ctx := context.Background()
	actor := breach.Actor{ID: "key-admin-1", Role: breach.RoleAdmin}
	if got, err := s.createUnderLock(ctx, keys, l, id, lockedNotices(t, s, keys, id, "nt_A"), actor, time.Now()); err != nil || got != [3]int{1, 0, 0} {
		t.Fatalf("first page: %v, %v", got, err)
	}
	if _, err := s.CreateNotices(ctx, id, []breach.Notice{{ID: "nt_B", Channel: breach.MethodLetter, Language: "en"}}, actor); err != nil {
		t.Fatal(err)
	}
	before, err := s.rdb.HGet(ctx, keys.records, "nt_B").Result()
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.createUnderLock(ctx, keys, l, id, lockedNotices(t, s, keys, id, "nt_B", "nt_C"), actor, time.Now())
	if err != nil || got != [3]int{1, 0, 0} {
		t.Fatalf("second page: %v, %v; want only nt_C created", got, err)
	}
	if after, _ := s.rdb.HGet(ctx, keys.records, "nt_B").Result(); after != before {
		t.Fatal("the dispatch overwrote a notice created meanwhile")
	}
	counts, _, err := s.NoticeCounts(ctx, id)
	if err != nil || counts[breach.MethodLetter][breach.NoticeQueued] != 3 {
		t.Fatalf("counts %v, %v; want 3 queued letters", counts, err)
	}
	// The same page again: everything exists.
	if got, err := s.createUnderLock(ctx, keys, l, id, lockedNotices(t, s, keys, id, "nt_A", "nt_B", "nt_C"), actor, time.Now()); err != nil || got != [3]int{} {
		t.Fatalf("page again: %v, %v; want nothing created", got, err)
	}
}

// A dispatch whose lock expired and was taken by another writes nothing.
func TestCreateUnderLockRefusesWithoutTheLock(t *testing.T) {
	s, keys, l, id := lockedStore(t)
	ctx := context.Background()
	if err := s.rdb.Set(ctx, keys.lock, "somebody else", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	_, err := s.createUnderLock(ctx, keys, l, id, lockedNotices(t, s, keys, id, "nt_A"), breach.Actor{ID: "a", Role: breach.RoleAdmin}, time.Now())
	var be *breach.Error
	if !errors.As(err, &be) || be.Code != breach.ECONFLICT {
		t.Fatalf("err %v, want ECONFLICT", err)
	}
	if n, _ := s.rdb.HLen(ctx, keys.records).Result(); n != 0 {
		t.Fatalf("%d records written without the lock", n)
	}
	// And a second dispatch cannot take a lock that is held.
	if _, err := s.lockDispatch(ctx, keys, id); !errors.As(err, &be) || be.Code != breach.ECONFLICT {
		t.Fatalf("second lock: %v, want ECONFLICT", err)
	}
}

// A dispatch's notices have no notice→breach entry: the breach tag in the ID finds them.
func TestNoticeFoundByItsBreachTag(t *testing.T) {
	s, keys, l, id := lockedStore(t)
	ctx := context.Background()
	nid := noticeID(id, breach.MethodLetter, personKey("rc_1"), dispatchGeneration)
	if _, err := s.createUnderLock(ctx, keys, l, id, lockedNotices(t, s, keys, id, nid), breach.Actor{ID: "a", Role: breach.RoleAdmin}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Notice(ctx, nid); err != nil || n.BreachID != id {
		t.Fatalf("Notice(%s) = %+v, %v", nid, n, err)
	}
	if ok, _ := s.rdb.HExists(ctx, keyNoticeBreach, nid).Result(); ok {
		t.Error("a dispatched notice has a notice→breach entry")
	}
	evs, _, err := s.Events(ctx, id, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.Type != breach.EventNoticeQueued || last.Summary != "1 letter notice queued" || last.Actor != "a" ||
		last.Data["count"] != float64(1) || fmt.Sprint(last.Data["notice_ids"]) != "["+nid+"]" || last.Data["channel"] != "letter" {
		t.Errorf("queued event %+v", last)
	}
	var be *breach.Error
	for _, missing := range []string{noticeID(id, breach.MethodLetter, personKey("rc_2"), dispatchGeneration), noticeID("br_OTHER", breach.MethodLetter, personKey("rc_1"), dispatchGeneration), "nt_x"} {
		if _, err := s.Notice(ctx, missing); !errors.As(err, &be) || be.Code != breach.ENOTFOUND {
			t.Errorf("Notice(%s): %v, want ENOTFOUND", missing, err)
		}
	}
}
