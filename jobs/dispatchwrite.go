package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
)

// How a dispatch writes its notices
//
// CreateNotices runs createNoticesScript: the existence check and every write in one Lua script.
// That is the right shape for a few notices, but a dispatch writes hundreds of thousands, and
// every byte that passes through a script is copied into Lua and out again, and every call from
// Lua into Redis has its own cost. The dispatch therefore writes with plain commands in a
// MULTI/EXEC transaction, which keeps the guarantee that matters — a notice's record, its
// notice→breach entry, its queued-log entry, its counter and its event appear together or not at
// all — while the decision "which of these notices are new" is made just before, under two
// guards:
//
//   - the breach's dispatch lock (keyDispatchLockFmt), so that no other dispatch of the breach is
//     creating the same notices at the same time (a second dispatch waits for ECONFLICT instead);
//   - WATCH on the lock and on the creation epoch (keyNoticesEpochFmt), so that the transaction
//     is refused, and the check is made again, if the lock was lost (it expired and another
//     dispatch took it) or if anybody created notices of the breach through the script meanwhile.
//
// Nothing else creates notices, and nothing deletes them, so a notice found new under these
// guards is still new when the transaction runs.

// dispatchLockTTL frees the dispatch lock should the process die; a running dispatch renews it
// every dispatchLockTTL/3. Short, so that a dispatch whose process died (or whose Redis went away
// and came back: the expiry is kept in the AOF) never blocks the next for more than seconds.
const dispatchLockTTL = 15 * time.Second

// unlockRetry is how often a lock whose release failed (Redis unreachable) is released again,
// until it expires by itself: once Redis answers, the next dispatch need not wait for the expiry.
const unlockRetry = 200 * time.Millisecond

// maxCreateAttempts bounds how often createUnderLock checks again after its transaction was
// refused because the epoch moved (a fallback letter was created meanwhile).
const maxCreateAttempts = 20

// dispatchLock is a held dispatch lock.
type dispatchLock struct {
	key, token string
	stop       chan struct{}
	done       chan struct{}
	// fresh says the breach had no notices when the lock was taken, and epoch is the creation
	// epoch then. While the epoch has not moved, every notice of the breach was created by this
	// dispatch, whose pages never share a notice, so a page need not ask which of its notices
	// exist: the usual first dispatch skips that read.
	fresh bool
	epoch string
}

// renewLock extends a lock's expiry if the lock is still the caller's; 1 when it was, else 0.
var renewLock = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`)

// lockDispatch takes the breach's dispatch lock and keeps it until unlock is called. ECONFLICT
// when another dispatch of the breach holds it.
func (s *Store) lockDispatch(ctx context.Context, keys noticeKeys, breachID string) (*dispatchLock, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	l := &dispatchLock{key: keys.lock, token: hex.EncodeToString(b[:]), stop: make(chan struct{}), done: make(chan struct{})}
	ok, err := s.rdb.SetNX(ctx, l.key, l.token, dispatchLockTTL).Result()
	if err != nil {
		return nil, storeErr("lock the dispatch of breach "+breachID, err)
	}
	if !ok {
		return nil, breach.Errorf(breach.ECONFLICT, "breach %s is being dispatched by another request; try again when it has finished", breachID)
	}
	var (
		n     *redis.IntCmd
		epoch *redis.StringCmd
		tag   *redis.BoolCmd
		owner *redis.StringCmd
	)
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		n = p.HLen(ctx, keys.records)
		epoch = p.Get(ctx, keys.epoch)
		tag = p.HSetNX(ctx, keyBreachTags, breachTag(breachID), breachID)
		owner = p.HGet(ctx, keyBreachTags, breachTag(breachID))
		return nil
	})
	if err == nil && owner.Val() != breachID {
		// Two breaches whose IDs hash to the same 50 bits: it does not happen, but if it did, the
		// notices of this one could not be told from the other's.
		err = fmt.Errorf("breach tag %s is taken by breach %s", breachTag(breachID), owner.Val())
	}
	if err != nil && !errors.Is(err, redis.Nil) || n.Err() != nil || tag.Err() != nil {
		s.release(ctx, l)
		return nil, storeErr("lock the dispatch of breach "+breachID, errors.Join(err, n.Err(), tag.Err()))
	}
	l.fresh, l.epoch = n.Val() == 0, epoch.Val()
	go func() {
		defer close(l.done)
		t := time.NewTicker(dispatchLockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				// A failed renewal is noticed by the writes: they refuse to run without the lock.
				_ = renewLock.Run(context.WithoutCancel(ctx), s.rdb, []string{l.key}, l.token, dispatchLockTTL.Milliseconds()).Err()
			}
		}
	}()
	return l, nil
}

// unlock stops renewing the lock and releases it if it is still the caller's.
func (s *Store) unlock(ctx context.Context, l *dispatchLock) {
	close(l.stop)
	<-l.done
	s.release(ctx, l)
}

// release deletes the lock if it is still the caller's; when Redis cannot be reached it keeps
// trying in the background until the lock would have expired anyway.
func (s *Store) release(ctx context.Context, l *dispatchLock) {
	ctx = context.WithoutCancel(ctx)
	if releaseLock.Run(ctx, s.rdb, []string{l.key}, l.token).Err() == nil {
		return
	}
	go func() {
		for end := time.Now().Add(dispatchLockTTL); time.Now().Before(end); time.Sleep(unlockRetry) {
			if releaseLock.Run(ctx, s.rdb, []string{l.key}, l.token).Err() == nil {
				return
			}
		}
	}()
}

// createUnderLock stores the notices of enc whose IDs are not stored yet, for a dispatch holding
// l, in one MULTI/EXEC transaction, and returns how many it stored by channel (see the comment at
// the top of this file). The notices of enc must have distinct IDs. ENOTFOUND for an unknown
// breach; ECONFLICT if the lock was lost.
func (s *Store) createUnderLock(ctx context.Context, keys noticeKeys, l *dispatchLock, breachID string, enc []encodedNotice, actor breach.Actor, at time.Time) ([3]int, error) {
	var created [3]int
	if len(enc) == 0 {
		return created, nil
	}
	ids := make([]string, len(enc))
	for i, e := range enc {
		ids[i] = e.id
	}
	atText := at.UTC().Format(time.RFC3339Nano)
	op := "create notices of breach " + breachID
	for range maxCreateAttempts {
		created = [3]int{}
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			var (
				exists      *redis.IntCmd
				lock, epoch *redis.StringCmd
			)
			_, _ = tx.Pipelined(ctx, func(p redis.Pipeliner) error {
				exists = p.Exists(ctx, keys.breach)
				lock = p.Get(ctx, l.key)
				epoch = p.Get(ctx, keys.epoch)
				return nil
			}) // each command's error is checked below (a missing key is redis.Nil)
			for _, err := range []error{exists.Err(), lock.Err(), epoch.Err()} {
				if err != nil && !errors.Is(err, redis.Nil) {
					return err
				}
			}
			switch {
			case exists.Val() == 0:
				return notFound(breachID)
			case lock.Val() != l.token:
				return breach.Errorf(breach.ECONFLICT, "the dispatch of breach %s lost its lock (it ran longer than %v without renewing it); dispatch again to finish", breachID, dispatchLockTTL)
			}
			held := make([]any, len(ids)) // nil: new
			if !l.fresh || epoch.Val() != l.epoch {
				var err error
				if held, err = tx.HMGet(ctx, keys.records, ids...).Result(); err != nil {
					return err
				}
				if len(held) != len(ids) {
					return fmt.Errorf("HMGET answered %d values for %d notices", len(held), len(ids))
				}
			}
			recs := make([]any, 0, 2*len(enc))
			var logs [3][]any
			for i, v := range held {
				if v != nil {
					continue // stored already: a second dispatch creates nothing twice
				}
				e := enc[i]
				var id any = e.id // boxed once for both commands
				recs = append(recs, id, e.record)
				logs[e.channel-1] = append(logs[e.channel-1], id)
			}
			if len(recs) == 0 {
				return nil
			}
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.HSet(ctx, keys.records, recs...)
				for c, log := range logs {
					if len(log) == 0 {
						continue
					}
					p.RPush(ctx, keys.queuedLog[c], log...)
					p.HIncrBy(ctx, keys.counts, noticeCountField(noticeChannels[c], breach.NoticeQueued), int64(len(log)))
					p.XAdd(ctx, &redis.XAddArgs{Stream: keys.events, Values: queuedEvent(noticeChannels[c], log, actor, atText)})
				}
				return nil
			})
			if err != nil {
				return err
			}
			for c, log := range logs {
				created[c] = len(log)
			}
			return nil
		}, l.key, keys.epoch)
		if errors.Is(err, redis.TxFailedErr) {
			continue // the lock or the epoch moved: check again
		}
		if err != nil {
			return [3]int{}, storeErr(op, err)
		}
		return created, nil
	}
	return [3]int{}, fmt.Errorf("%s: other writers kept creating notices; gave up after %d attempts", op, maxCreateAttempts)
}

// queuedEvent is the stream entry of a notice.queued event: one per channel per batch of new
// notices, listing them, in the layout of Store.eventValues (createNoticesScript writes the same
// data: {"channel","count","notice_ids"}, the order json.Marshal gives a map).
func queuedEvent(c breach.Method, ids []any, actor breach.Actor, at string) []any {
	data, _ := json.Marshal(map[string]any{"channel": string(c), "count": len(ids), "notice_ids": ids}) // cannot fail: strings and an int
	return []any{
		eventFieldType, string(breach.EventNoticeQueued),
		eventFieldActor, actor.ID,
		eventFieldRole, string(actor.Role),
		eventFieldAt, at,
		eventFieldSummary, queuedSummary(c, len(ids)),
		eventFieldData, string(data),
	}
}

// queuedSummary is the summary of a notice.queued event (createNoticesScript writes the same).
func queuedSummary(c breach.Method, n int) string {
	if n == 1 {
		return "1 " + string(c) + " notice queued"
	}
	return strconv.Itoa(n) + " " + string(c) + " notices queued"
}
