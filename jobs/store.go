// Package jobs is breachd's Redis adapter: Store keeps breaches, their kept determination
// versions and their append-only audit trails in Redis (it implements breach.BreachStore) and
// each breach's affected people with their counts (breach.RecipientStore; see recipients.go), and
// StartEmbedded runs an in-memory Redis for trying the service without a server.
//
// # Layout in Redis
//
// Each breach has a record (a string holding JSON), a list of its superseded determination
// versions and a stream of events; see the key constants in keys.go. Two sorted sets index the
// breaches for listing, newest first: one of every breach and one per status. Every change is one
// MULTI/EXEC transaction, so the record, the indexes, the kept versions and the event appended for
// the change are never seen half-written. Because the indexes are shared keys, the transaction
// spans slots: run one Redis primary (standalone or Sentinel), not Redis Cluster.
//
// # Personal information
//
// A record names the reporter and may hold other personal details. With WithEncryptionKey the
// record and each kept determination version are sealed with AES-256-GCM before they reach Redis.
// Events are not encrypted: callers must never put personal information (names, addresses,
// emails, phone numbers) in an event's Summary or Data — refer to people by ID.
package jobs

import (
	"context"
	"crypto/cipher"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
)

var _ breach.BreachStore = (*Store)(nil)

// Page sizes of Breaches and Events.
const (
	DefaultLimit = 50  // used when the limit is 0 or negative
	MaxLimit     = 200 // larger limits are cut to this
)

// maxUpdateAttempts bounds how often UpdateBreach retries fn when other writers keep changing the
// breach under it; after that it gives up with ECONFLICT.
const maxUpdateAttempts = 10

// Store is the Redis implementation of breach.BreachStore. It is safe for concurrent use; the
// caller owns the client and closes it.
type Store struct {
	rdb  redis.UniversalClient
	aead cipher.AEAD // nil: records are stored as plain JSON
	now  func() time.Time
	// signer signs the chain's checkpoints (see chain.go); nil: no checkpoints.
	signer ed25519.PrivateKey
}

// Option configures a Store.
type Option func(*Store)

// WithEncryptionKey seals every record and kept determination version with AES-256-GCM under key,
// which must be KeySize (32) bytes — NewStore panics otherwise; validate configuration with
// ParseEncryptionKey first. Records written without a key stay readable; records written with a
// key cannot be read without it. Default: no encryption.
func WithEncryptionKey(key []byte) Option {
	return func(s *Store) {
		aead, err := newAEAD(key)
		if err != nil {
			panic("jobs.WithEncryptionKey: " + err.Error())
		}
		s.aead = aead
	}
}

// WithClock sets the clock that stamps events whose At is zero. Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// NewStore returns a Store using rdb.
func NewStore(rdb redis.UniversalClient, opts ...Option) *Store {
	s := &Store{rdb: rdb, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// storedBreach is the persisted form of a breach record (the JSON at keyBreachFmt before
// sealing). Besides the breach it keeps who recorded the current determination version and when,
// so that the version can be kept with its provenance once it is superseded.
type storedBreach struct {
	Breach                  breach.Breach `json:"breach"`
	DeterminationRecordedAt time.Time     `json:"determination_recorded_at"`
	DeterminationRecordedBy string        `json:"determination_recorded_by"`
}

func (s *Store) encodeRecord(rec *storedBreach) ([]byte, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode breach %s: %w", rec.Breach.ID, err)
	}
	return s.seal([]byte(breachKey(rec.Breach.ID)), b), nil
}

func (s *Store) decodeRecord(id string, data []byte) (*storedBreach, error) {
	plain, err := s.open([]byte(breachKey(id)), data)
	if err != nil {
		return nil, err
	}
	var rec storedBreach
	if err := json.Unmarshal(plain, &rec); err != nil {
		return nil, fmt.Errorf("decode breach %s: %w", id, err)
	}
	return &rec, nil
}

// eventValues is the stream entry of an event of breach breachID ("" for the unmatched-bounce
// stream when the bounce names no breach).
func (s *Store) eventValues(ctx context.Context, breachID string, ev breach.Event) ([]any, error) {
	at := ev.At
	if at.IsZero() {
		at = s.now()
	}
	vals := []any{
		eventFieldType, string(ev.Type),
		eventFieldActor, ev.Actor,
		eventFieldRole, string(ev.Role),
		eventFieldAt, at.UTC().Format(time.RFC3339Nano),
		eventFieldSummary, ev.Summary,
	}
	if len(ev.Data) > 0 {
		data, err := json.Marshal(ev.Data)
		if err != nil {
			return nil, fmt.Errorf("encode event data: %w", err)
		}
		vals = append(vals, eventFieldData, string(data))
	}
	if len(ev.Private) > 0 {
		// Free text that may name a person: sealed under the breach's own key, never plain in
		// the stream (or the AOF), so that the retention purge can make it unreadable without
		// touching the bytes the chain hashes (see keyPrivateKeyFmt).
		sealed, err := s.sealPrivate(ctx, breachID, ev.Private)
		if err != nil {
			return nil, err
		}
		if sealed != nil {
			vals = append(vals, eventFieldPrivate, string(sealed))
		}
	}
	return vals, nil
}

// decodeEvent reads a stream entry of breach breachID ("" for the unmatched-bounce stream: the
// breach its data names, if any); po opens private texts and keeps the keys it loaded.
func (s *Store) decodeEvent(m redis.XMessage, po *privateOpener, breachID string) (breach.Event, error) {
	str := func(k string) string { v, _ := m.Values[k].(string); return v }
	ev := breach.Event{
		ID:      m.ID,
		Type:    breach.EventType(str(eventFieldType)),
		Actor:   str(eventFieldActor),
		Role:    breach.Role(str(eventFieldRole)),
		Summary: str(eventFieldSummary),
	}
	if at := str(eventFieldAt); at != "" {
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return breach.Event{}, fmt.Errorf("decode event %s: at: %w", m.ID, err)
		}
		ev.At = t
	}
	if data := str(eventFieldData); data != "" {
		if err := json.Unmarshal([]byte(data), &ev.Data); err != nil {
			return breach.Event{}, fmt.Errorf("decode event %s: data: %w", m.ID, err)
		}
	}
	if sealed := str(eventFieldPrivate); sealed != "" {
		if breachID == "" {
			breachID, _ = ev.Data["breach_id"].(string)
		}
		p, err := po.open(breachID, []byte(sealed))
		if err != nil {
			return breach.Event{}, fmt.Errorf("decode event %s: private: %w", m.ID, err)
		}
		ev.Private = p
	}
	return ev, nil
}

func validStatus(st breach.Status) bool { return slices.Contains(breach.Statuses, st) }

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// CreateBreach stores b, its index entries and its first event ev in one transaction. The ID must
// be 1 to 64 letters, digits, '_' or '-' and sort by creation time (a ULID-based ID does); b's
// current determination is recorded as made by b.CreatedBy at b.CreatedAt. It returns ECONFLICT
// when a breach with the ID exists, EINVALID for a bad ID.
func (s *Store) CreateBreach(ctx context.Context, b *breach.Breach, ev breach.Event) error {
	if b == nil {
		return errors.New("create breach: nil breach")
	}
	if !validID(b.ID) {
		return breach.InvalidFields([]breach.FieldError{{Field: "id",
			Reason: fmt.Sprintf("must be 1 to %d letters, digits, '_' or '-'", maxIDLen)}})
	}
	if !validStatus(b.Status) {
		return fmt.Errorf("create breach %s: unknown status %q", b.ID, b.Status)
	}
	val, err := s.encodeRecord(&storedBreach{Breach: *b,
		DeterminationRecordedAt: b.CreatedAt, DeterminationRecordedBy: b.CreatedBy})
	if err != nil {
		return err
	}
	evVals, err := s.eventValues(ctx, b.ID, ev)
	if err != nil {
		return fmt.Errorf("create breach %s: %w", b.ID, err)
	}
	key := breachKey(b.ID)
	exists := breach.Errorf(breach.ECONFLICT, "breach %s already exists", b.ID)
	err = s.rdb.Watch(ctx, func(tx *redis.Tx) error {
		n, err := tx.Exists(ctx, key).Result()
		if err != nil {
			return err
		}
		if n > 0 {
			return exists
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, val, 0)
			p.ZAdd(ctx, keyBreaches, redis.Z{Member: b.ID})
			p.ZAdd(ctx, statusKey(b.Status), redis.Z{Member: b.ID})
			p.XAdd(ctx, &redis.XAddArgs{Stream: eventsKey(b.ID), Values: evVals})
			// A new breach's chain covers every event (see chain.go).
			p.HSet(ctx, chainMetaKey(b.ID), chainMetaStart, chainFromStart)
			return nil
		})
		return err
	}, key)
	if errors.Is(err, redis.TxFailedErr) {
		// Someone wrote the key between our check and our write: they created it first.
		return exists
	}
	return storeErr("create breach "+b.ID, err)
}

// Breach returns the breach with the ID, or ENOTFOUND.
func (s *Store) Breach(ctx context.Context, id string) (*breach.Breach, error) {
	if !validID(id) {
		return nil, notFound(id)
	}
	data, err := s.rdb.Get(ctx, breachKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, storeErr("load breach "+id, err)
	}
	rec, err := s.decodeRecord(id, data)
	if err != nil {
		return nil, err
	}
	return &rec.Breach, nil
}

// Breaches lists breaches newest first (by ID, which sorts by creation time), optionally only
// those in one status. f.Limit of 0 means DefaultLimit; it is cut to MaxLimit. The cursor is the
// last ID of the previous page; a malformed cursor is EINVALID on field "cursor", an unknown
// status EINVALID on field "status".
func (s *Store) Breaches(ctx context.Context, f breach.BreachFilter) ([]*breach.Breach, string, error) {
	index := keyBreaches
	if f.Status != "" {
		if !validStatus(f.Status) {
			return nil, "", breach.InvalidFields([]breach.FieldError{{Field: "status",
				Reason: fmt.Sprintf("unknown status %q", f.Status)}})
		}
		index = statusKey(f.Status)
	}
	limit := clampLimit(f.Limit)
	max, err := afterCursor(f.Cursor, "+")
	if err != nil {
		return nil, "", err
	}
	ids, err := s.rdb.ZRevRangeByLex(ctx, index, &redis.ZRangeBy{Max: max, Min: "-", Count: int64(limit + 1)}).Result()
	if err != nil {
		return nil, "", storeErr("list breaches", err)
	}
	next := ""
	if len(ids) > limit {
		ids = ids[:limit]
		next = ids[limit-1]
	}
	if len(ids) == 0 {
		return []*breach.Breach{}, "", nil
	}
	// One GET per breach in a pipeline rather than MGET: the records live in different slots.
	pipe := s.rdb.Pipeline()
	gets := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		gets[i] = pipe.Get(ctx, breachKey(id))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, "", storeErr("list breaches", err)
	}
	out := make([]*breach.Breach, 0, len(ids))
	for i, get := range gets {
		data, err := get.Bytes()
		if errors.Is(err, redis.Nil) {
			continue // purged after the index was read
		}
		if err != nil {
			return nil, "", storeErr("list breaches", err)
		}
		rec, err := s.decodeRecord(ids[i], data)
		if err != nil {
			return nil, "", err
		}
		out = append(out, &rec.Breach)
	}
	return out, next, nil
}

// UpdateBreach implements breach.BreachStore. fn gets a freshly loaded breach on every attempt and
// must not keep it or act outside the store (it may run several times). When fn raises
// DeterminationVersion, the previous version is kept together with who recorded it and when, and
// the new version is recorded as made by the event's Actor at its At. fn may not change the ID,
// and may raise the version by 1 only. After maxUpdateAttempts lost races it returns ECONFLICT.
func (s *Store) UpdateBreach(ctx context.Context, id string, fn func(b *breach.Breach) (breach.Event, error)) (*breach.Breach, error) {
	return s.updateBreach(ctx, id, fn, nil)
}

// updateBreach is UpdateBreach that also queues also's writes in the same transaction.
func (s *Store) updateBreach(ctx context.Context, id string, fn func(b *breach.Breach) (breach.Event, error), also func(p redis.Pipeliner)) (*breach.Breach, error) {
	if !validID(id) {
		return nil, notFound(id)
	}
	key, dkey := breachKey(id), determinationsKey(id)
	for attempt := 1; ; attempt++ {
		var updated *breach.Breach
		var fnErr error
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			data, err := tx.Get(ctx, key).Bytes()
			if errors.Is(err, redis.Nil) {
				return notFound(id)
			}
			if err != nil {
				return err
			}
			// Decode twice: fn may change anything reachable from its copy, slices included,
			// and the previous determination must be kept as it was.
			old, err := s.decodeRecord(id, data)
			if err != nil {
				return err
			}
			cur, err := s.decodeRecord(id, data)
			if err != nil {
				return err
			}
			b := &cur.Breach
			ev, err := fn(b)
			if err != nil {
				fnErr = err
				return err
			}
			if ev.At.IsZero() {
				ev.At = s.now()
			}
			switch {
			case b.ID != id:
				return fmt.Errorf("update breach %s: fn changed the ID to %q", id, b.ID)
			case !validStatus(b.Status):
				return fmt.Errorf("update breach %s: unknown status %q", id, b.Status)
			case b.DeterminationVersion != old.Breach.DeterminationVersion &&
				b.DeterminationVersion != old.Breach.DeterminationVersion+1:
				return fmt.Errorf("update breach %s: fn changed the determination version from %d to %d; "+
					"a revision adds exactly 1", id, old.Breach.DeterminationVersion, b.DeterminationVersion)
			}
			var kept []byte
			if b.DeterminationVersion > old.Breach.DeterminationVersion {
				prev, err := json.Marshal(breach.DeterminationVersion{
					Version:       old.Breach.DeterminationVersion,
					Determination: old.Breach.Determination,
					RecordedAt:    old.DeterminationRecordedAt,
					RecordedBy:    old.DeterminationRecordedBy,
				})
				if err != nil {
					return fmt.Errorf("encode determination version: %w", err)
				}
				kept = s.seal([]byte(dkey), prev)
				cur.DeterminationRecordedAt, cur.DeterminationRecordedBy = ev.At, ev.Actor
			}
			val, err := s.encodeRecord(cur)
			if err != nil {
				return err
			}
			evVals, err := s.eventValues(ctx, id, ev)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, key, val, 0)
				if b.Status != old.Breach.Status {
					p.ZRem(ctx, statusKey(old.Breach.Status), id)
					p.ZAdd(ctx, statusKey(b.Status), redis.Z{Member: id})
				}
				if kept != nil {
					p.RPush(ctx, dkey, kept)
				}
				p.XAdd(ctx, &redis.XAddArgs{Stream: eventsKey(id), Values: evVals})
				if also != nil {
					also(p)
				}
				return nil
			})
			if err == nil {
				updated = b
			}
			return err
		}, key)
		switch {
		case fnErr != nil:
			return nil, fnErr
		case err == nil:
			return updated, nil
		case !errors.Is(err, redis.TxFailedErr):
			return nil, storeErr("update breach "+id, err)
		case attempt == maxUpdateAttempts:
			return nil, breach.Errorf(breach.ECONFLICT,
				"breach %s is being changed by others; try again", id)
		}
		// Lost a race: wait a little, with jitter so that the losers do not collide again.
		wait := time.Duration(attempt) * time.Millisecond
		wait += rand.N(wait)
		select {
		case <-ctx.Done():
			return nil, storeErr("update breach "+id, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// Events returns up to limit events of the breach after cursor (a stream entry ID returned by a
// previous call; "" from the start), oldest first, and the next cursor ("" when no more events
// exist). limit of 0 means DefaultLimit; it is cut to MaxLimit. ENOTFOUND for an unknown breach;
// EINVALID on field "cursor" for a malformed cursor.
func (s *Store) Events(ctx context.Context, id, cursor string, limit int) ([]breach.Event, string, error) {
	if !validID(id) {
		return nil, "", notFound(id)
	}
	start, err := streamStart(cursor)
	if err != nil {
		return nil, "", err
	}
	limit = clampLimit(limit)
	pipe := s.rdb.Pipeline()
	exists := pipe.Exists(ctx, breachKey(id))
	rng := pipe.XRangeN(ctx, eventsKey(id), start, "+", int64(limit+1))
	if _, err := pipe.Exec(ctx); err != nil {
		if redis.HasErrorPrefix(err, "invalid start ID") { // exclusive start after the largest ID
			return nil, "", invalidCursor()
		}
		return nil, "", storeErr("load events of breach "+id, err)
	}
	if exists.Val() == 0 {
		return nil, "", notFound(id)
	}
	return s.eventPage(ctx, rng.Val(), limit, id, "breach "+id)
}

// streamStart is where a page of a stream after cursor starts, for XRANGE: "-" from the beginning,
// else exclusive of the cursor's entry. EINVALID on field "cursor" for a malformed cursor.
func streamStart(cursor string) (string, error) {
	if cursor == "" {
		return "-", nil
	}
	if !validStreamID(cursor) {
		return "", invalidCursor()
	}
	return "(" + cursor, nil
}

// eventPage decodes a page of stream entries read with one more than limit: at most limit events,
// and the next cursor ("" when the extra entry was not there). id is the breach whose private key
// opens private text ("" for a stream of no one breach); what names the stream in errors.
func (s *Store) eventPage(ctx context.Context, msgs []redis.XMessage, limit int, id, what string) ([]breach.Event, string, error) {
	next := ""
	if len(msgs) > limit {
		msgs = msgs[:limit]
		next = msgs[limit-1].ID
	}
	evs := make([]breach.Event, len(msgs))
	po := s.privateOpener(ctx)
	for i, m := range msgs {
		ev, err := s.decodeEvent(m, po, id)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", what, err)
		}
		evs[i] = ev
	}
	return evs, next, nil
}

// DeterminationVersions returns every version of the breach's determination, oldest first; the
// last is the current one. ENOTFOUND for an unknown breach.
func (s *Store) DeterminationVersions(ctx context.Context, id string) ([]breach.DeterminationVersion, error) {
	if !validID(id) {
		return nil, notFound(id)
	}
	dkey := determinationsKey(id)
	pipe := s.rdb.Pipeline()
	get := pipe.Get(ctx, breachKey(id))
	lst := pipe.LRange(ctx, dkey, 0, -1)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, storeErr("load determination versions of breach "+id, err)
	}
	data, err := get.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, storeErr("load breach "+id, err)
	}
	rec, err := s.decodeRecord(id, data)
	if err != nil {
		return nil, err
	}
	kept := lst.Val()
	out := make([]breach.DeterminationVersion, 0, len(kept)+1)
	for i, v := range kept {
		plain, err := s.open([]byte(dkey), []byte(v))
		if err != nil {
			return nil, err
		}
		var dv breach.DeterminationVersion
		if err := json.Unmarshal(plain, &dv); err != nil {
			return nil, fmt.Errorf("decode determination version %d of breach %s: %w", i+1, id, err)
		}
		out = append(out, dv)
	}
	return append(out, breach.DeterminationVersion{
		Version:       rec.Breach.DeterminationVersion,
		Determination: rec.Breach.Determination,
		RecordedAt:    rec.DeterminationRecordedAt,
		RecordedBy:    rec.DeterminationRecordedBy,
	}), nil
}

// Ping checks that Redis answers, for /readyz. It returns EUNAVAILABLE when it does not.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w: %w", breach.Errorf(breach.EUNAVAILABLE, "the store cannot be reached"), err)
	}
	return nil
}

// Persistence reports whether the server writes an append-only file (appendonly yes) and whether
// it takes RDB snapshots (a non-empty save schedule), so that start-up can warn when Redis would
// lose everything on restart. It returns an error when CONFIG is disabled or renamed (managed
// Redis services often do that): the caller should then say persistence is unknown.
func (s *Store) Persistence(ctx context.Context) (aof bool, rdb bool, err error) {
	ao, err := s.config(ctx, "appendonly")
	if err != nil {
		return false, false, err
	}
	save, err := s.config(ctx, "save")
	if err != nil {
		return false, false, err
	}
	return ao == "yes", save != "", nil
}

// config reads one server setting (CONFIG GET).
func (s *Store) config(ctx context.Context, param string) (string, error) {
	m, err := s.rdb.ConfigGet(ctx, param).Result()
	if err != nil {
		return "", storeErr("read redis config "+param, err)
	}
	v, ok := m[param]
	if !ok {
		return "", fmt.Errorf("read redis config %s: the server did not answer it", param)
	}
	return v, nil
}
