package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
)

var _ breach.UploadLedger = (*Store)(nil)

// Uploads in progress
//
// An upload is open from StartUpload (which writes upload.started) until FinishUpload (which
// writes recipients.uploaded in the same transaction). While it is open its counts (rows read,
// accepted, duplicates, rejected) grow in the same script that stores each batch of its rows, so
// they equal what the store holds at any moment, and the process handling it renews a lease. When
// that process dies, the lease runs out; the next process to look — at the breach's next upload,
// at start-up, or every uploadSweepInterval — closes the upload with an upload.interrupted event
// stating those counts. An upload that ends cut short or interrupted stays unfinished (it keeps the
// list of affected people from being declared complete) until an upload of the breach ends
// complete.

// Redis key shapes of uploads (persisted contracts, as in keys.go).
const (
	// keyUploadsOpenFmt is a HASH per breach: upload ID → the UploadStart (JSON) of each open upload.
	keyUploadsOpenFmt = "breachd:breach:{%s}:uploads:open"
	// keyUploadCountsFmt is a HASH per upload: rows, accepted, duplicates, rejected.
	keyUploadCountsFmt = "breachd:breach:{%s}:upload:%s:counts"
	// keyUploadAliveFmt is a STRING per open upload, expiring uploadLease after its process last
	// renewed it.
	keyUploadAliveFmt = "breachd:breach:{%s}:upload:%s:alive"
	// keyUploadsUnfinishedFmt is a HASH per breach: upload ID → UnfinishedUpload (JSON) of each
	// upload that ended cut short or interrupted since the breach's last complete upload.
	keyUploadsUnfinishedFmt = "breachd:breach:{%s}:uploads:unfinished"
	// keyUploadsOpenBreaches is a SET of the IDs of breaches that may have an open upload, for the
	// sweep.
	keyUploadsOpenBreaches = "breachd:uploads:open"
)

const (
	// uploadLease is how long an open upload outlives the last renewal by its process.
	uploadLease = 15 * time.Second
	// uploadRenew is how often a running upload renews its lease.
	uploadRenew = 5 * time.Second
	// UploadSweepInterval is how often RunUploadSweeper looks for interrupted uploads.
	UploadSweepInterval = 10 * time.Second
)

type uploadKeys struct{ open, unfinished string }

func uploadKeysOf(breachID string) uploadKeys {
	return uploadKeys{open: fmt.Sprintf(keyUploadsOpenFmt, breachID), unfinished: fmt.Sprintf(keyUploadsUnfinishedFmt, breachID)}
}

func uploadCountsKey(breachID, uploadID string) string {
	return fmt.Sprintf(keyUploadCountsFmt, breachID, uploadID)
}

func uploadAliveKey(breachID, uploadID string) string {
	return fmt.Sprintf(keyUploadAliveFmt, breachID, uploadID)
}

// StartUpload implements breach.UploadLedger. ENOTFOUND for an unknown breach, EINVALID for a
// malformed upload ID.
func (s *Store) StartUpload(ctx context.Context, breachID string, u breach.UploadStart, ev breach.Event) (func(), error) {
	if !validID(breachID) {
		return nil, notFound(breachID)
	}
	if !validID(u.ID) {
		return nil, breach.Errorf(breach.EINVALID, "upload ID %q is malformed", u.ID)
	}
	if _, err := s.CloseInterruptedUploads(ctx, breachID); err != nil {
		return nil, err
	}
	meta, err := json.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("encode upload: %w", err)
	}
	vals, err := s.eventValues(ctx, breachID, ev)
	if err != nil {
		return nil, err
	}
	// The sweep's set first: an open upload is always in it.
	if err := s.rdb.SAdd(ctx, keyUploadsOpenBreaches, breachID).Err(); err != nil {
		return nil, storeErr("start upload", err)
	}
	k, alive := uploadKeysOf(breachID), uploadAliveKey(breachID, u.ID)
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k.open, u.ID, meta)
		p.HSet(ctx, uploadCountsKey(breachID, u.ID), "rows", 0, "accepted", 0, "duplicates", 0, "rejected", 0)
		p.Set(ctx, alive, "1", uploadLease)
		p.XAdd(ctx, &redis.XAddArgs{Stream: eventsKey(breachID), Values: vals})
		return nil
	})
	if err != nil {
		return nil, storeErr("start upload", err)
	}
	stop := every(uploadRenew, func() { _ = s.rdb.Set(context.Background(), alive, "1", uploadLease).Err() })
	var once sync.Once
	return func() { once.Do(stop) }, nil
}

// runEvery calls fn at once and then every interval until ctx is done, returning then: the loop
// of the periodic jobs (the chainer, the upload sweeper, the retention sweep).
func runEvery(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// every calls fn every interval, in a goroutine of its own, until stop is called (once); stop
// returns when fn no longer runs.
func every(interval time.Duration, fn func()) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fn()
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// AddUploadRows implements breach.UploadLedger.
func (s *Store) AddUploadRows(ctx context.Context, breachID, uploadID string, rs []breach.Recipient, step breach.UploadStep) ([]int, error) {
	return s.addRecipients(ctx, breachID, rs, uploadCountsKey(breachID, uploadID), step)
}

// FinishUpload implements breach.UploadLedger.
func (s *Store) FinishUpload(ctx context.Context, breachID, uploadID string, complete bool, fn func(b *breach.Breach) (breach.Event, error)) error {
	k := uploadKeysOf(breachID)
	var unfinished []byte
	if !complete {
		// The counts of an upload cut short are what its event says; kept for UnfinishedUploads.
		uf, err := s.unfinished(ctx, breachID, uploadID)
		if err != nil {
			return err
		}
		if unfinished, err = json.Marshal(uf); err != nil {
			return fmt.Errorf("encode upload: %w", err)
		}
	}
	_, err := s.updateBreach(ctx, breachID, fn, func(p redis.Pipeliner) {
		p.HDel(ctx, k.open, uploadID)
		p.Del(ctx, uploadCountsKey(breachID, uploadID), uploadAliveKey(breachID, uploadID))
		if complete {
			p.Del(ctx, k.unfinished)
		} else {
			p.HSet(ctx, k.unfinished, uploadID, unfinished)
		}
	})
	return err
}

// unfinished reads an open upload with its counts.
func (s *Store) unfinished(ctx context.Context, breachID, uploadID string) (breach.UnfinishedUpload, error) {
	pipe := s.rdb.Pipeline()
	meta := pipe.HGet(ctx, uploadKeysOf(breachID).open, uploadID)
	counts := pipe.HGetAll(ctx, uploadCountsKey(breachID, uploadID))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return breach.UnfinishedUpload{}, storeErr("read upload "+uploadID, err)
	}
	u := breach.UnfinishedUpload{UploadStart: breach.UploadStart{ID: uploadID}}
	if raw, err := meta.Bytes(); err == nil {
		if err := json.Unmarshal(raw, &u.UploadStart); err != nil {
			return u, fmt.Errorf("decode upload %s: %w", uploadID, err)
		}
	}
	c := counts.Val()
	n := func(f string) int { v, _ := strconv.Atoi(c[f]); return v }
	u.Rows, u.Accepted, u.Duplicates, u.Rejected = n("rows"), n("accepted"), n("duplicates"), n("rejected")
	return u, nil
}

// UnfinishedUploads implements breach.UploadLedger: the open uploads (Open, with their counts so
// far), then those that ended unfinished, oldest first.
func (s *Store) UnfinishedUploads(ctx context.Context, breachID string) ([]breach.UnfinishedUpload, error) {
	k := uploadKeysOf(breachID)
	open, err := s.rdb.HKeys(ctx, k.open).Result()
	if err != nil {
		return nil, storeErr("read the uploads of breach "+breachID, err)
	}
	var out []breach.UnfinishedUpload
	for _, id := range open {
		u, err := s.unfinished(ctx, breachID, id)
		if err != nil {
			return nil, err
		}
		u.Open = true
		out = append(out, u)
	}
	ended, err := s.rdb.HVals(ctx, k.unfinished).Result()
	if err != nil {
		return nil, storeErr("read the uploads of breach "+breachID, err)
	}
	for _, raw := range ended {
		var u breach.UnfinishedUpload
		if err := json.Unmarshal([]byte(raw), &u); err != nil {
			return nil, fmt.Errorf("decode an unfinished upload of breach %s: %w", breachID, err)
		}
		u.Open = false
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b breach.UnfinishedUpload) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// closeUploadScript closes an open upload whose lease ran out, with its upload.interrupted event,
// unless it was renewed or closed meanwhile. It returns 1 when it closed it.
//
// KEYS: alive, open hash, counts, unfinished hash, events stream. ARGV: upload ID, the
// UnfinishedUpload JSON, then the event's field/value pairs.
var closeUploadScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('HDEL', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
redis.call('XADD', KEYS[5], '*', unpack(ARGV, 3))
return 1
`)

// CloseInterruptedUploads closes each open upload of the breach whose process died (its lease ran
// out) with an upload.interrupted event stating what it kept. It returns how many it closed.
func (s *Store) CloseInterruptedUploads(ctx context.Context, breachID string) (int, error) {
	k := uploadKeysOf(breachID)
	open, err := s.rdb.HKeys(ctx, k.open).Result()
	if err != nil {
		return 0, storeErr("read the uploads of breach "+breachID, err)
	}
	closed := 0
	for _, id := range open {
		alive, err := s.rdb.Exists(ctx, uploadAliveKey(breachID, id)).Result()
		if err != nil {
			return closed, storeErr("read upload "+id, err)
		}
		if alive == 1 {
			continue
		}
		u, err := s.unfinished(ctx, breachID, id)
		if err != nil {
			return closed, err
		}
		raw, err := json.Marshal(u)
		if err != nil {
			return closed, fmt.Errorf("encode upload: %w", err)
		}
		vals, err := s.eventValues(ctx, breachID, interruptedEvent(u, s.now()))
		if err != nil {
			return closed, err
		}
		args := append([]any{id, raw}, vals...)
		n, err := closeUploadScript.Run(ctx, s.rdb, []string{uploadAliveKey(breachID, id), k.open, uploadCountsKey(breachID, id),
			k.unfinished, eventsKey(breachID)}, args...).Int()
		if err != nil {
			return closed, storeErr("close upload "+id, err)
		}
		closed += n
	}
	return closed, nil
}

// interruptedEvent says what an interrupted upload kept (numbers only; the file name, free text
// that may name a person, only in the sealed private part).
func interruptedEvent(u breach.UnfinishedUpload, now time.Time) breach.Event {
	var private map[string]string
	if u.File != "" {
		private = map[string]string{"file": u.File}
	}
	return breach.Event{Type: breach.EventUploadInterrupted, Actor: workerActor.ID, Role: workerActor.Role, At: now,
		Summary: fmt.Sprintf("upload %s (%s, started %s) was interrupted: the process receiving it stopped after %d rows "+
			"(%d accepted, %d duplicates, %d rejected); the rest of the file was not read; upload the file again "+
			"(the rows already kept are reported as duplicates)", u.ID, u.Format, u.At.UTC().Format(time.RFC3339), u.Rows, u.Accepted, u.Duplicates, u.Rejected),
		Data: map[string]any{"upload_id": u.ID, "format": u.Format, "rows": u.Rows, "accepted": u.Accepted,
			"duplicates": u.Duplicates, "rejected_rows": u.Rejected, "complete": false}, Private: private}
}

// CloseAllInterruptedUploads runs CloseInterruptedUploads on every breach that may have an open
// upload, and forgets the breaches that have none. It returns the first error after trying all.
func (s *Store) CloseAllInterruptedUploads(ctx context.Context) (int, error) {
	ids, err := s.rdb.SMembers(ctx, keyUploadsOpenBreaches).Result()
	if err != nil {
		return 0, storeErr("list breaches with uploads", err)
	}
	var first error
	closed := 0
	for _, id := range ids {
		n, err := s.CloseInterruptedUploads(ctx, id)
		closed += n
		if n > 0 {
			// Chained now: no request of the API may write to this breach for a while.
			if _, cerr := s.Chain(ctx, id); cerr != nil && err == nil {
				err = cerr
			}
		}
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		left, err := s.rdb.HLen(ctx, uploadKeysOf(id).open).Result()
		if err != nil || left > 0 {
			continue
		}
		// No open upload left: forget the breach, unless one started meanwhile.
		if err := s.rdb.SRem(ctx, keyUploadsOpenBreaches, id).Err(); err == nil {
			if left, err := s.rdb.HLen(ctx, uploadKeysOf(id).open).Result(); err == nil && left > 0 {
				s.rdb.SAdd(ctx, keyUploadsOpenBreaches, id)
			}
		}
	}
	return closed, first
}

// RunUploadSweeper closes interrupted uploads now and every interval until ctx is done.
func (s *Store) RunUploadSweeper(ctx context.Context, interval time.Duration, log *slog.Logger) {
	runEvery(ctx, interval, func() {
		if n, err := s.CloseAllInterruptedUploads(ctx); err != nil && ctx.Err() == nil {
			log.Warn("closing interrupted uploads", "err", err)
		} else if n > 0 {
			log.Warn("closed interrupted uploads: their process stopped before they ended", "count", n)
		}
	})
}
