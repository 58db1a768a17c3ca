package jobs

// Retention: once a closed breach's retention period (BREACHD_RETENTION) has passed, the personal
// data of the people it notified is purged while everything an auditor checks stays verifiable.
//
// Why the chain still verifies. The chain hashes each event exactly as the stream stores it
// (breach.ChainHash over the entry's fields), and a stream entry cannot be rewritten in place:
// changing one would break the chain at that event. So no event is touched. The personal text an
// event may carry (breach.Event.Private: a bounce's address, a clerk's reason) is written to the
// stream only sealed, under a key of the breach's own (keyPrivateKeyFmt); the purge destroys that
// key. The sealed bytes stay where the chain hashed them, and no one can read them any more
// (crypto-shredding). Recipients and notices are records outside the stream, never hashed: their
// personal fields are overwritten (breach.PurgeRecipient, breach.PurgeNotice) with a
// compare-and-set on each record, so that a concurrent change of a notice (a late bounce) is
// neither lost nor brings the data back. IDs, statuses, channels, counters, letter hashes, batches
// and the whole stream stay, so the status counts, the chain and its checkpoints verify after the
// purge exactly as before. The purge ends with a chained breach.purged event and a signed
// checkpoint (reason purge).
//
// What it cannot remove: private text written before breaches had their own key (sealed under the
// service key, or plain when none was set) is part of the chained stream; it is kept and counted
// (Purge.LegacyPrivateTexts). The breach record itself (the determination, its reporter) is the
// school's own record of the incident and is kept.

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
)

// DefaultRetentionInterval is how often the retention sweep looks for breaches to purge.
const DefaultRetentionInterval = time.Hour

// retentionActor is who the sweep's purges are recorded as.
var retentionActor = breach.Actor{ID: "retention", Role: "system"}

// purgePage is how many records one purge step reads and rewrites.
const purgePage = 500

// minorAtDiscovery and adultAtDiscovery replace the scores of keyRecipientsAdultOnFmt (the day a
// person turns 18, which gives away the date of birth) on purge: the count of minors as of the
// discovery date — the only date a closed breach is counted on — stays what it was.
const (
	minorAtDiscovery = 99991231
	adultAtDiscovery = 0
)

// privateKey is the stored form of a breach's key for private texts (keyPrivateKeyFmt).
type privateKey struct {
	Key      []byte    `json:"key,omitempty"`
	PurgedAt time.Time `json:"purged_at,omitzero"`
}

// breachSealer seals and opens one breach's private texts; aead is nil once the key is purged.
type breachSealer struct {
	aead     cipher.AEAD
	purgedAt time.Time
}

func privateAD(breachID string) []byte { return []byte(eventPrivateAD + "#" + breachID) }

// privateKey loads the breach's key for private texts, making one when create is set and none
// exists. found is false when there is none (and create is not set).
func (s *Store) privateKey(ctx context.Context, breachID string, create bool) (k breachSealer, found bool, err error) {
	key := privateKeyKey(breachID)
	for range 3 {
		raw, err := s.rdb.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			if !create {
				return breachSealer{}, false, nil
			}
			secret := make([]byte, KeySize)
			rand.Read(secret) // never fails (crypto/rand)
			b, err := json.Marshal(privateKey{Key: secret})
			if err != nil {
				return breachSealer{}, false, err
			}
			ok, err := s.rdb.SetNX(ctx, key, s.seal([]byte(key), b), 0).Result()
			if err != nil {
				return breachSealer{}, false, storeErr("make the private-text key of breach "+breachID, err)
			}
			if !ok {
				continue // another writer made one first: use theirs
			}
			aead, err := newAEAD(secret)
			return breachSealer{aead: aead}, true, err
		}
		if err != nil {
			return breachSealer{}, false, storeErr("load the private-text key of breach "+breachID, err)
		}
		plain, err := s.open([]byte(key), raw)
		if err != nil {
			return breachSealer{}, false, err
		}
		var pk privateKey
		if err := json.Unmarshal(plain, &pk); err != nil {
			return breachSealer{}, false, fmt.Errorf("decode the private-text key of breach %s: %w", breachID, err)
		}
		if !pk.PurgedAt.IsZero() {
			return breachSealer{purgedAt: pk.PurgedAt}, true, nil
		}
		aead, err := newAEAD(pk.Key)
		if err != nil {
			return breachSealer{}, false, fmt.Errorf("the private-text key of breach %s: %w", breachID, err)
		}
		return breachSealer{aead: aead}, true, nil
	}
	return breachSealer{}, false, breach.Errorf(breach.ECONFLICT, "the private-text key of breach %s is being changed; try again", breachID)
}

// sealPrivate seals an event's private text under its breach's key (breachID "": the service
// key, as before breaches had their own). nil: the breach was purged, and the text is not kept —
// its retention period is over.
func (s *Store) sealPrivate(ctx context.Context, breachID string, private map[string]string) ([]byte, error) {
	plain, err := json.Marshal(private)
	if err != nil {
		return nil, fmt.Errorf("encode event private text: %w", err)
	}
	if breachID == "" || !validID(breachID) {
		return s.seal([]byte(eventPrivateAD), plain), nil
	}
	k, _, err := s.privateKey(ctx, breachID, true)
	if err != nil {
		return nil, err
	}
	if k.aead == nil {
		return nil, nil
	}
	ns := k.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+k.aead.Overhead())
	out[0] = sealedBreachV1
	rand.Read(out[1 : 1+ns])
	return k.aead.Seal(out, out[1:1+ns], plain, privateAD(breachID)), nil
}

// privateOpener opens the private texts of events, loading each breach's key once.
type privateOpener struct {
	s    *Store
	ctx  context.Context
	keys map[string]breachSealer
}

func (s *Store) privateOpener(ctx context.Context) *privateOpener {
	return &privateOpener{s: s, ctx: ctx, keys: map[string]breachSealer{}}
}

// open returns the private text sealed in an event of the breach; once the breach is purged,
// {breach.PurgedField: the date}.
func (po *privateOpener) open(breachID string, sealed []byte) (map[string]string, error) {
	var plain []byte
	if sealed[0] == sealedBreachV1 {
		k, ok := po.keys[breachID]
		if !ok {
			if !validID(breachID) {
				return nil, errors.New("sealed under a breach's key, and no breach is named")
			}
			var found bool
			var err error
			if k, found, err = po.s.privateKey(po.ctx, breachID, false); err != nil {
				return nil, err
			}
			if !found {
				return nil, fmt.Errorf("%w: the private-text key of breach %s is missing", errSealed, breachID)
			}
			po.keys[breachID] = k
		}
		if k.aead == nil {
			return breach.PurgedPrivate(k.purgedAt), nil
		}
		ns := k.aead.NonceSize()
		if len(sealed) < 1+ns+k.aead.Overhead() {
			return nil, fmt.Errorf("%w: value too short", errSealed)
		}
		var err error
		if plain, err = k.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], privateAD(breachID)); err != nil {
			return nil, fmt.Errorf("%w: wrong key or corrupted value", errSealed)
		}
	} else {
		var err error
		if plain, err = po.s.open([]byte(eventPrivateAD), sealed); err != nil {
			return nil, err
		}
	}
	var p map[string]string
	if err := json.Unmarshal(plain, &p); err != nil {
		return nil, err
	}
	return p, nil
}

// destroyPrivateKey replaces the breach's key for private texts with the record of its purge at
// at, and returns when it was purged (the first purge's time, should a purge run again).
func (s *Store) destroyPrivateKey(ctx context.Context, breachID string, at time.Time) (time.Time, error) {
	k, found, err := s.privateKey(ctx, breachID, false)
	if err != nil {
		return time.Time{}, err
	}
	if found && k.aead == nil {
		return k.purgedAt, nil
	}
	b, err := json.Marshal(privateKey{PurgedAt: at.UTC()})
	if err != nil {
		return time.Time{}, err
	}
	key := privateKeyKey(breachID)
	return at.UTC(), storeErr("destroy the private-text key of breach "+breachID, s.rdb.Set(ctx, key, s.seal([]byte(key), b), 0).Err())
}

// replaceFieldsScript sets each field of the hash KEYS[1] to its new value if it still holds the
// old one; it returns the fields that changed meanwhile (the caller reads them again).
// ARGV: triples of field, old value, new value.
var replaceFieldsScript = redis.NewScript(`
local changed = {}
for i = 1, #ARGV, 3 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
  else
    changed[#changed + 1] = ARGV[i]
  end
end
return changed
`)

// rewriteHash applies purge to every record of the hash key (a field's value, its ID) and stores
// the records it changed, each only if no one changed it meanwhile (then it is read and purged
// again). purge returns the new value, or nil when the record has nothing left to purge. It
// returns how many records the hash holds.
func (s *Store) rewriteHash(ctx context.Context, key string, purge func(id string, raw []byte) ([]byte, error)) (int, error) {
	var cursor uint64
	for {
		kv, next, err := s.rdb.HScan(ctx, key, cursor, "*", purgePage).Result()
		if err != nil {
			return 0, storeErr("purge "+key, err)
		}
		pending := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			pending[kv[i]] = kv[i+1]
		}
		for attempt := 1; len(pending) > 0; attempt++ {
			if attempt > maxUpdateAttempts {
				return 0, breach.Errorf(breach.ECONFLICT, "records of %s keep changing during the purge; try again", key)
			}
			var args []any
			for id, raw := range pending {
				nv, err := purge(id, []byte(raw))
				if err != nil {
					return 0, err
				}
				if nv != nil {
					args = append(args, id, raw, nv)
				}
			}
			if len(args) == 0 {
				break
			}
			changed, err := replaceFieldsScript.Run(ctx, s.rdb, []string{key}, args...).StringSlice()
			if err != nil {
				return 0, storeErr("purge "+key, err)
			}
			pending = map[string]string{}
			if len(changed) == 0 {
				break
			}
			vals, err := s.rdb.HMGet(ctx, key, changed...).Result()
			if err != nil {
				return 0, storeErr("purge "+key, err)
			}
			for i, v := range vals {
				if str, ok := v.(string); ok {
					pending[changed[i]] = str
				}
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	n, err := s.rdb.HLen(ctx, key).Result()
	return int(n), storeErr("purge "+key, err)
}

// purgeRecipients removes the personal fields of every recipient of the breach (and the dates of
// birth the minors index gives away) and returns how many recipients it holds.
func (s *Store) purgeRecipients(ctx context.Context, b *breach.Breach) (int, error) {
	keys := recipientKeysOf(b.ID)
	n, err := s.rewriteHash(ctx, keys.records, func(id string, raw []byte) ([]byte, error) {
		r, err := s.decodeRecipient(keys.records, id, raw)
		if err != nil {
			return nil, err
		}
		if !breach.PurgeRecipient(r) {
			return nil, nil
		}
		plain, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("encode recipient %s: %w", id, err)
		}
		return s.seal(fieldAD(keys.records, id), plain), nil
	})
	if err != nil {
		return 0, err
	}
	discovered := dateScore(b.Determination.DiscoveredOn)
	var cursor uint64
	for {
		kv, next, err := s.rdb.ZScan(ctx, keys.adultOn, cursor, "*", purgePage).Result()
		if err != nil {
			return 0, storeErr("purge the minors of breach "+b.ID, err)
		}
		var zs []redis.Z
		for i := 0; i+1 < len(kv); i += 2 {
			score, err := strconv.ParseFloat(kv[i+1], 64)
			if err != nil || score == minorAtDiscovery || score == adultAtDiscovery {
				continue
			}
			z := redis.Z{Member: kv[i], Score: adultAtDiscovery}
			if int(score) > discovered {
				z.Score = minorAtDiscovery
			}
			zs = append(zs, z)
		}
		if len(zs) > 0 {
			if err := s.rdb.ZAdd(ctx, keys.adultOn, zs...).Err(); err != nil {
				return 0, storeErr("purge the minors of breach "+b.ID, err)
			}
		}
		if cursor = next; cursor == 0 {
			return n, nil
		}
	}
}

// purgeNotices removes the personal fields of every notice of the breach and returns how many
// notices it holds.
func (s *Store) purgeNotices(ctx context.Context, breachID string, at time.Time) (int, error) {
	records := noticeKeysOf(breachID).records
	return s.rewriteHash(ctx, records, func(id string, raw []byte) ([]byte, error) {
		n, err := s.decodeNotice(records, id, raw)
		if err != nil {
			return nil, err
		}
		if !breach.PurgeNotice(n, at) {
			return nil, nil
		}
		return s.encodeNotice(records, n)
	})
}

// countPrivateTexts counts the breach's events with private text: sealed under its own key, and
// sealed otherwise (written before breaches had their own key).
func (s *Store) countPrivateTexts(ctx context.Context, breachID string) (own, legacy int, err error) {
	after := "-"
	for {
		es, err := s.rawRange(ctx, eventsKey(breachID), after, "+", chainPage)
		if err != nil {
			return 0, 0, storeErr("count the private texts of breach "+breachID, err)
		}
		for _, e := range es {
			switch p := e.field(eventFieldPrivate); {
			case p == "":
			case p[0] == sealedBreachV1:
				own++
			default:
				legacy++
			}
		}
		if len(es) < chainPage {
			return own, legacy, nil
		}
		after = "(" + es[len(es)-1].id
	}
}

// RetentionConfig configures Retention.
type RetentionConfig struct {
	Store *Store // required
	// Period is how long after closure personal data is kept; the zero value (off) purges nothing.
	Period breach.RetentionPeriod
	// Interval is the time between sweeps. Default DefaultRetentionInterval.
	Interval time.Duration
	Clock    func() time.Time // default time.Now
	Logger   *slog.Logger     // default slog.Default()
}

// Retention purges the personal data of closed breaches once their retention period has passed:
// on demand (Purge) and in a sweep every worker process runs (Run). Safe for concurrent use, and
// in several processes at once: every step is idempotent, and a breach is marked purged once.
type Retention struct {
	cfg RetentionConfig
}

// NewRetention returns a Retention; it needs a Store.
func NewRetention(cfg RetentionConfig) (*Retention, error) {
	if cfg.Store == nil {
		return nil, errors.New("jobs.NewRetention: a Store is required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultRetentionInterval
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Retention{cfg: cfg}, nil
}

// Period is the configured retention period.
func (r *Retention) Period() breach.RetentionPeriod { return r.cfg.Period }

var errAlreadyPurged = errors.New("already purged")

// Purge purges the breach's personal data if its retention period has passed, and returns the
// purge; purged is false when the breach had already been purged (nothing changes then). The
// purge is recorded as a breach.purged event by actor and a signed checkpoint (when the store has
// a signing key). ECONFLICT when the breach is not closed, the period has not passed or no period
// is configured; ENOTFOUND for an unknown breach.
func (r *Retention) Purge(ctx context.Context, id string, actor breach.Actor) (p breach.Purge, purged bool, err error) {
	s := r.cfg.Store
	b, err := s.Breach(ctx, id)
	if err != nil {
		return p, false, err
	}
	if b.Purged != nil {
		return *b.Purged, false, nil
	}
	now := r.cfg.Clock().UTC()
	period := r.cfg.Period
	switch {
	case period.Off():
		return p, false, breach.Errorf(breach.ECONFLICT,
			"no retention period is configured (BREACHD_RETENTION is off): personal data is kept until one is set")
	case b.Status != breach.StatusClosed || b.Outcome == nil:
		return p, false, breach.Errorf(breach.ECONFLICT,
			"breach %s is not closed: its personal data is kept until %s after it is closed", id, period)
	case now.Before(period.Ends(b.Outcome.ClosedAt)):
		return p, false, breach.Errorf(breach.ECONFLICT,
			"breach %s was closed on %s: its retention period (%s) ends on %s, and nothing is purged before",
			id, b.Outcome.ClosedAt.UTC().Format(time.DateOnly), period, period.Ends(b.Outcome.ClosedAt).Format(time.DateOnly))
	}
	at, err := s.destroyPrivateKey(ctx, id, now)
	if err != nil {
		return p, false, err
	}
	p = breach.Purge{At: at, Period: period.String(), By: actor.ID}
	if p.Recipients, err = s.purgeRecipients(ctx, b); err != nil {
		return p, false, err
	}
	if p.Notices, err = s.purgeNotices(ctx, id, at); err != nil {
		return p, false, err
	}
	if p.PrivateTexts, p.LegacyPrivateTexts, err = s.countPrivateTexts(ctx, id); err != nil {
		return p, false, err
	}
	updated, err := s.UpdateBreach(ctx, id, func(b *breach.Breach) (breach.Event, error) {
		if b.Purged != nil {
			return breach.Event{}, errAlreadyPurged
		}
		pc := p
		b.Purged, b.UpdatedAt = &pc, now
		summary := fmt.Sprintf("personal data purged %s after closure: %d recipients, %d notices, %d private texts",
			period, p.Recipients, p.Notices, p.PrivateTexts)
		if p.LegacyPrivateTexts > 0 {
			summary += fmt.Sprintf(" (%d older private texts kept: sealed under the service key, part of the chain)", p.LegacyPrivateTexts)
		}
		return breach.Event{Type: breach.EventBreachPurged, Actor: actor.ID, Role: actor.Role, At: now, Summary: summary,
			Data: map[string]any{"period": period.String(), "closed_at": b.Outcome.ClosedAt.UTC().Format(time.RFC3339),
				"purged_at": at.Format(time.RFC3339), "recipients": p.Recipients, "notices": p.Notices,
				"private_texts": p.PrivateTexts, "legacy_private_texts": p.LegacyPrivateTexts}}, nil
	})
	if errors.Is(err, errAlreadyPurged) {
		// Another process finished the same purge first.
		b, err := s.Breach(ctx, id)
		if err != nil {
			return p, false, err
		}
		return *b.Purged, false, nil
	}
	if err != nil {
		return p, false, err
	}
	if s.signer != nil {
		if _, err := s.Checkpoint(ctx, id, breach.CheckpointPurge); err != nil {
			r.cfg.Logger.Warn("the purge's checkpoint could not be made", "breach_id", id, "error", err.Error())
		}
	} else if _, err := s.Chain(ctx, id); err != nil {
		r.cfg.Logger.Warn("the purge event could not be chained yet", "breach_id", id, "error", err.Error())
	}
	return *updated.Purged, true, nil
}

// Sweep purges every closed breach whose retention period has passed and returns how many it
// purged; it returns the first error after trying all. Nothing happens while the period is off.
func (r *Retention) Sweep(ctx context.Context) (int, error) {
	if r.cfg.Period.Off() {
		return 0, nil
	}
	now := r.cfg.Clock()
	var first error
	purged := 0
	cursor := ""
	for {
		page, next, err := r.cfg.Store.Breaches(ctx, breach.BreachFilter{Status: breach.StatusClosed, Cursor: cursor, Limit: MaxLimit})
		if err != nil {
			return purged, err
		}
		for _, b := range page {
			if b.Purged != nil || b.Outcome == nil || now.Before(r.cfg.Period.Ends(b.Outcome.ClosedAt)) {
				continue
			}
			_, done, err := r.Purge(ctx, b.ID, retentionActor)
			switch {
			case err != nil && first == nil:
				first = fmt.Errorf("purge breach %s: %w", b.ID, err)
			case done:
				purged++
				r.cfg.Logger.Info("personal data purged", "breach_id", b.ID, "period", r.cfg.Period.String())
			}
		}
		if next == "" {
			return purged, first
		}
		cursor = next
	}
}

// Run sweeps once now and then every Interval until ctx is done. Errors are logged (breach IDs
// and Redis errors only).
func (r *Retention) Run(ctx context.Context) {
	runEvery(ctx, r.cfg.Interval, func() {
		if _, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("the retention sweep failed; will try again", "error", err.Error())
		}
	})
}
