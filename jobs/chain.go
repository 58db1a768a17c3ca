package jobs

// The chainer: the tamper-evident audit trail over each breach's event stream.
//
// Why a chainer and not a hash in every event. Events are appended by many writers at once, some
// inside Lua scripts (notice creation, notice updates) where Redis has no SHA-256, and the
// dispatch path is measured (BENCHMARKS.md): asking every writer to read the previous hash, hash
// and append under a lock would serialise them and slow dispatch. So writers stay as they are and
// a chainer, run right after writes (the API after each write request, the worker every few
// seconds), walks the stream in ID order from the chain's head and appends, for each new event,
// "<event_id> <hex hash>" to the breach's chain list, with hash = breach.ChainHash(previous hash,
// the entry's raw fields in stored order). Stream IDs only grow (Redis refuses an explicit ID at
// or below the stream's top, even after XDEL), so an event can never appear behind the head.
//
// Concurrent chainers are safe: the append is a compare-and-set script on the chain's last entry,
// so of two runs computing the same entries one wins and the other re-reads and finds nothing to
// do. Chaining is idempotent.
//
// What it proves: an event is tamper-evident from the moment it is chained (within seconds of
// being written); before that, whoever can write Redis can change it unseen. After it, an edit or
// deletion of the event breaks verification at that event. Whoever can write Redis can also
// rewrite the chain itself; the signed checkpoints (Ed25519, key from the configuration) are what
// they cannot forge, and a checkpoint kept outside Redis (an export file) pins every event before
// it.
//
// Breaches recorded before chaining existed have no chain: the first run marks the last event
// then written as the chain's start, and verification reports the events up to it as unchained
// (unchained_before), never as verified.

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
)

// Keys of the chain (persisted contracts, like keys.go).
const (
	// keyChainFmt is a LIST: one entry per chained event, in stream order, "<event_id> <hex hash>".
	keyChainFmt = "breachd:breach:{%s}:events:chain"
	// keyChainMetaFmt is a HASH: "start" is the last event written before the chain existed ("0-0"
	// when every event is chained: CreateBreach writes it), "unchained_before" (RFC 3339) when
	// the chain began after events had been written.
	keyChainMetaFmt = "breachd:breach:{%s}:events:chain:meta"
	// keyChainNoticesFmt is a HASH: notice ID → the chain positions (1-based, space separated) of
	// the events that name it (data.notice_id, data.notice_ids, data.fallback_id), so one person's
	// proof reads its events without scanning the stream. About 100 bytes per notice.
	keyChainNoticesFmt = "breachd:breach:{%s}:events:chain:notices"
	// keyCheckpointsFmt is a LIST of JSON breach.SignedCheckpoint, oldest first.
	keyCheckpointsFmt = "breachd:breach:{%s}:events:checkpoints"
)

const (
	chainMetaStart           = "start"
	chainMetaUnchainedBefore = "unchained_before"
	chainFromStart           = "0-0"
)

func chainKey(id string) string        { return fmt.Sprintf(keyChainFmt, id) }
func chainMetaKey(id string) string    { return fmt.Sprintf(keyChainMetaFmt, id) }
func chainNoticesKey(id string) string { return fmt.Sprintf(keyChainNoticesFmt, id) }
func checkpointsKey(id string) string  { return fmt.Sprintf(keyCheckpointsFmt, id) }

// chainPage is how many stream entries one chaining step reads.
const chainPage = 500

// walkPage is how many stream entries verification and export read at a time: fewer than a
// chaining step, since an export streams the entries on (a notice.queued event listing a thousand
// notices is 40 KB, so 500 of them held at once were 20 MB).
const walkPage = 100

// maxIndexArgs bounds the notice-index values one append script takes (unpack and Lua stack).
const maxIndexArgs = 20000

// WithSigningKey sets the Ed25519 key checkpoints are signed with. Without one, Checkpoint and
// the export answer EUNAVAILABLE.
func WithSigningKey(key ed25519.PrivateKey) Option {
	return func(s *Store) { s.signer = key }
}

// SigningPublicKey is the public key checkpoints verify under (base64), or "" without a key.
func (s *Store) SigningPublicKey() string {
	if s.signer == nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(s.signer.Public().(ed25519.PublicKey))
}

// chainStartScript returns the chain's start, recording it on the first run for a breach written
// before chaining existed: the last event then in the stream. false: no such breach.
//
// KEYS: breach record, chain meta, events. ARGV: now (RFC 3339).
var chainStartScript = redis.NewScript(`
local s = redis.call('HGET', KEYS[2], 'start')
if s then return s end
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
s = '0-0'
if #last > 0 then s = last[1][1] end
redis.call('HSET', KEYS[2], 'start', s)
if s ~= '0-0' then redis.call('HSET', KEYS[2], 'unchained_before', ARGV[1]) end
return s
`)

// chainAppendScript appends entries to the chain if its last entry is still the one read, and
// adds chain positions to the notice index. 1: appended; 0: someone else advanced the chain.
//
// KEYS: chain, notice index. ARGV: last entry read ("" when empty), n, n entries, then pairs of
// notice ID and position.
var chainAppendScript = redis.NewScript(`
local head = redis.call('LINDEX', KEYS[1], -1)
if not head then head = '' end
if head ~= ARGV[1] then return 0 end
local n = tonumber(ARGV[2])
for i = 3, 2 + n, 1000 do
  redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 999, 2 + n)))
end
for i = 3 + n, #ARGV, 2 do
  local v = redis.call('HGET', KEYS[2], ARGV[i])
  if v then v = v .. ' ' .. ARGV[i + 1] else v = ARGV[i + 1] end
  redis.call('HSET', KEYS[2], ARGV[i], v)
end
return 1
`)

// rawEntry is a stream entry as stored: its ID and its field/value strings in order.
type rawEntry struct {
	id     string
	fields []string
}

// rawRange reads up to count entries of a stream from start (inclusive unless prefixed "(")
// keeping the order of each entry's fields, which go-redis's XMessage (a map) loses.
func (s *Store) rawRange(ctx context.Context, key, start, end string, count int) ([]rawEntry, error) {
	res, err := s.rdb.Do(ctx, "XRANGE", key, start, end, "COUNT", count).Slice()
	if err != nil {
		return nil, err
	}
	out := make([]rawEntry, 0, len(res))
	for _, r := range res {
		pair, ok := r.([]any)
		if !ok || len(pair) != 2 {
			return nil, fmt.Errorf("XRANGE answered an entry of type %T", r)
		}
		id, _ := pair[0].(string)
		var vals []any
		switch v := pair[1].(type) {
		case []any:
			vals = v
		case nil: // an entry without fields cannot be written, but read it as one
		default:
			return nil, fmt.Errorf("XRANGE answered fields of type %T", pair[1])
		}
		e := rawEntry{id: id, fields: make([]string, len(vals))}
		for i, v := range vals {
			str, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("XRANGE answered a field of type %T", v)
			}
			e.fields[i] = str
		}
		out = append(out, e)
	}
	return out, nil
}

func (e rawEntry) field(name string) string {
	for i := 0; i+1 < len(e.fields); i += 2 {
		if e.fields[i] == name {
			return e.fields[i+1]
		}
	}
	return ""
}

// noticesNamed are the notice IDs an event's data names.
func noticesNamed(e rawEntry) []string {
	data := e.field(eventFieldData)
	if data == "" || !strings.Contains(data, "nt_") {
		return nil
	}
	var d struct {
		NoticeID   string   `json:"notice_id"`
		NoticeIDs  []string `json:"notice_ids"`
		FallbackID string   `json:"fallback_id"`
	}
	if json.Unmarshal([]byte(data), &d) != nil {
		return nil
	}
	out := d.NoticeIDs
	if d.NoticeID != "" {
		out = append(out, d.NoticeID)
	}
	if d.FallbackID != "" && d.FallbackID != d.NoticeID {
		out = append(out, d.FallbackID)
	}
	return out
}

// chainEntry is one parsed chain list entry.
type chainEntry struct {
	id   string
	hash [32]byte
}

func parseChainEntry(s string) (chainEntry, error) {
	id, hx, ok := strings.Cut(s, " ")
	b, err := hex.DecodeString(hx)
	if !ok || err != nil || len(b) != 32 {
		return chainEntry{}, fmt.Errorf("chain entry %q is malformed", s)
	}
	var e chainEntry
	e.id = id
	copy(e.hash[:], b)
	return e, nil
}

func (e chainEntry) String() string { return e.id + " " + hex.EncodeToString(e.hash[:]) }

// chainStart returns where the breach's chain starts (see keyChainMetaFmt), or ENOTFOUND.
func (s *Store) chainStart(ctx context.Context, id string) (string, error) {
	start, err := chainStartScript.Run(ctx, s.rdb, []string{breachKey(id), chainMetaKey(id), eventsKey(id)},
		s.now().UTC().Format(time.RFC3339)).Text()
	if errors.Is(err, redis.Nil) {
		return "", notFound(id)
	}
	if err != nil {
		return "", storeErr("chain events of breach "+id, err)
	}
	return start, nil
}

// Chain brings the breach's chain up to date with its event stream and returns how many events
// it chained. Safe to call at any time from any number of processes. ENOTFOUND for an unknown
// breach.
func (s *Store) Chain(ctx context.Context, id string) (int, error) {
	if !validID(id) {
		return 0, notFound(id)
	}
	start, err := s.chainStart(ctx, id)
	if err != nil {
		return 0, err
	}
	ckey, nkey, ekey := chainKey(id), chainNoticesKey(id), eventsKey(id)
	chained := 0
	for {
		pipe := s.rdb.Pipeline()
		headCmd := pipe.LIndex(ctx, ckey, -1)
		lenCmd := pipe.LLen(ctx, ckey)
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return chained, storeErr("chain events of breach "+id, err)
		}
		headRaw := headCmd.Val()
		prev, after := breach.ChainGenesis(id), start
		if headRaw != "" {
			head, err := parseChainEntry(headRaw)
			if err != nil {
				return chained, fmt.Errorf("breach %s: %w", id, err)
			}
			prev, after = head.hash, head.id
		}
		pos := int(lenCmd.Val())
		entries, err := s.rawRange(ctx, ekey, "("+after, "+", chainPage)
		if err != nil {
			return chained, storeErr("chain events of breach "+id, err)
		}
		if len(entries) == 0 {
			return chained, nil
		}
		args := []any{headRaw, 0}
		var index []any
		n := 0
		for _, e := range entries {
			named := noticesNamed(e)
			if n > 0 && len(index)+2*len(named) > maxIndexArgs {
				break // the rest in the next step
			}
			prev = breach.ChainHash(prev, e.id, e.fields)
			args = append(args, chainEntry{id: e.id, hash: prev}.String())
			n++
			p := strconv.Itoa(pos + n)
			for _, nid := range named {
				index = append(index, nid, p)
			}
		}
		args[1] = n
		ok, err := chainAppendScript.Run(ctx, s.rdb, []string{ckey, nkey}, append(args, index...)...).Int()
		if err != nil {
			return chained, storeErr("chain events of breach "+id, err)
		}
		if ok == 1 {
			chained += n
		}
		// Appended or lost to a concurrent run: either way read the head again.
	}
}

// ChainAll chains every breach once; it returns the first error after trying all.
func (s *Store) ChainAll(ctx context.Context) error {
	var first error
	cursor := ""
	for {
		max := "+"
		if cursor != "" {
			max = "(" + cursor
		}
		ids, err := s.rdb.ZRevRangeByLex(ctx, keyBreaches, &redis.ZRangeBy{Max: max, Min: "-", Count: 500}).Result()
		if err != nil {
			return storeErr("list breaches to chain", err)
		}
		for _, id := range ids {
			if _, err := s.Chain(ctx, id); err != nil && first == nil && breach.ErrorCode(err) != breach.ENOTFOUND {
				first = err
			}
		}
		if len(ids) < 500 {
			return first
		}
		cursor = ids[len(ids)-1]
	}
}

// RunChainer chains every breach every interval until ctx is done, so that events written by
// workers are chained within seconds. Errors are logged (no personal data: breach IDs and
// Redis errors only).
func (s *Store) RunChainer(ctx context.Context, every time.Duration, log *slog.Logger) {
	runEvery(ctx, every, func() {
		if err := s.ChainAll(ctx); err != nil && ctx.Err() == nil {
			log.Warn("chaining events failed; will try again", "error", err.Error())
		}
	})
}

// Checkpoint chains the breach's events and stores a checkpoint of the chain's head signed with
// the store's key. EUNAVAILABLE without a signing key; ENOTFOUND for an unknown breach.
func (s *Store) Checkpoint(ctx context.Context, id, reason string) (breach.SignedCheckpoint, error) {
	if s.signer == nil {
		return breach.SignedCheckpoint{}, breach.Errorf(breach.EUNAVAILABLE, "no signing key is configured (BREACHD_SIGNING_KEY)")
	}
	if _, err := s.Chain(ctx, id); err != nil {
		return breach.SignedCheckpoint{}, err
	}
	start, err := s.chainStart(ctx, id)
	if err != nil {
		return breach.SignedCheckpoint{}, err
	}
	// The head and the count in one transaction: a concurrent chainer may append between two reads.
	var headCmd *redis.StringCmd
	var lenCmd *redis.IntCmd
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		headCmd = p.LIndex(ctx, chainKey(id), -1)
		lenCmd = p.LLen(ctx, chainKey(id))
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return breach.SignedCheckpoint{}, storeErr("checkpoint breach "+id, err)
	}
	g := breach.ChainGenesis(id)
	cp := breach.Checkpoint{BreachID: id, HeadHash: hex.EncodeToString(g[:]), EventCount: int(lenCmd.Val()),
		At: s.now().UTC(), Reason: reason}
	if start != chainFromStart {
		cp.ChainStart = start
	}
	if raw := headCmd.Val(); raw != "" {
		head, err := parseChainEntry(raw)
		if err != nil {
			return breach.SignedCheckpoint{}, fmt.Errorf("breach %s: %w", id, err)
		}
		cp.HeadHash, cp.LastEventID = hex.EncodeToString(head.hash[:]), head.id
	}
	signed := breach.SignCheckpoint(cp, s.signer)
	b, err := json.Marshal(signed)
	if err != nil {
		return breach.SignedCheckpoint{}, fmt.Errorf("encode checkpoint: %w", err)
	}
	if err := s.rdb.RPush(ctx, checkpointsKey(id), b).Err(); err != nil {
		return breach.SignedCheckpoint{}, storeErr("checkpoint breach "+id, err)
	}
	return signed, nil
}

// Checkpoints returns the breach's stored checkpoints, oldest first.
func (s *Store) Checkpoints(ctx context.Context, id string) ([]breach.SignedCheckpoint, error) {
	if !validID(id) {
		return nil, notFound(id)
	}
	raw, err := s.rdb.LRange(ctx, checkpointsKey(id), 0, -1).Result()
	if err != nil {
		return nil, storeErr("load checkpoints of breach "+id, err)
	}
	out := make([]breach.SignedCheckpoint, 0, len(raw))
	for i, r := range raw {
		var c breach.SignedCheckpoint
		if err := json.Unmarshal([]byte(r), &c); err != nil {
			return nil, fmt.Errorf("decode checkpoint %d of breach %s: %w", i+1, id, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// chainMeta reads the chain's start and unchained_before.
func (s *Store) chainMeta(ctx context.Context, id string) (start string, before *time.Time, err error) {
	if start, err = s.chainStart(ctx, id); err != nil {
		return "", nil, err
	}
	if start == chainFromStart {
		return start, nil, nil
	}
	v, err := s.rdb.HGet(ctx, chainMetaKey(id), chainMetaUnchainedBefore).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", nil, storeErr("load chain of breach "+id, err)
	}
	if t, perr := time.Parse(time.RFC3339, v); perr == nil {
		before = &t
	}
	return start, before, nil
}

// chainWalker reads a breach's stream (after the chain's start) and its chain side by side.
type chainWalker struct {
	s          *Store
	ctx        context.Context
	id         string
	streamNext string // exclusive start of the next stream page
	stream     []rawEntry
	streamDone bool
	chainNext  int64
	chain      []chainEntry
	chainDone  bool
}

func (w *chainWalker) peekStream() (*rawEntry, error) {
	if len(w.stream) == 0 && !w.streamDone {
		es, err := w.s.rawRange(w.ctx, eventsKey(w.id), "("+w.streamNext, "+", walkPage)
		if err != nil {
			return nil, storeErr("load events of breach "+w.id, err)
		}
		w.stream, w.streamDone = es, len(es) < walkPage
		if len(es) > 0 {
			w.streamNext = es[len(es)-1].id
		}
	}
	if len(w.stream) == 0 {
		return nil, nil
	}
	return &w.stream[0], nil
}

func (w *chainWalker) peekChain() (*chainEntry, error) {
	if len(w.chain) == 0 && !w.chainDone {
		raw, err := w.s.rdb.LRange(w.ctx, chainKey(w.id), w.chainNext, w.chainNext+chainPage-1).Result()
		if err != nil {
			return nil, storeErr("load chain of breach "+w.id, err)
		}
		w.chainNext += int64(len(raw))
		w.chainDone = len(raw) < chainPage
		for _, r := range raw {
			e, err := parseChainEntry(r)
			if err != nil {
				return nil, fmt.Errorf("breach %s: %w", w.id, err)
			}
			w.chain = append(w.chain, e)
		}
	}
	if len(w.chain) == 0 {
		return nil, nil
	}
	return &w.chain[0], nil
}

// VerifyChain brings the chain up to date and checks it against the stream and the stored
// checkpoints: each chained event must still be in the stream with the same bytes, in order,
// and every checkpoint must verify under the store's key and match the chain at its count. It
// stops at the first fault. ENOTFOUND for an unknown breach.
func (s *Store) VerifyChain(ctx context.Context, id string) (breach.ChainVerification, error) {
	var v breach.ChainVerification
	if !validID(id) {
		return v, notFound(id)
	}
	if _, err := s.Chain(ctx, id); err != nil {
		return v, err
	}
	start, before, err := s.chainMeta(ctx, id)
	if err != nil {
		return v, err
	}
	total, err := s.rdb.XLen(ctx, eventsKey(id)).Result()
	if err != nil {
		return v, storeErr("load events of breach "+id, err)
	}
	v.Events = int(total)
	if start != chainFromStart {
		v.ChainStart, v.UnchainedBefore = start, before
		legacy, err := s.rawRange(ctx, eventsKey(id), "-", start, int(total)+1)
		if err != nil {
			return v, storeErr("load events of breach "+id, err)
		}
		v.UnchainedEvents = len(legacy)
	}
	g := breach.ChainGenesis(id)
	prev := g
	w := &chainWalker{s: s, ctx: ctx, id: id, streamNext: start}
	pos := 0
	hashes := map[int]chainEntry{} // positions the checkpoints name
	cps, err := s.Checkpoints(ctx, id)
	if err != nil {
		return v, err
	}
	for _, c := range cps {
		hashes[c.EventCount] = chainEntry{}
	}
	fault := func(p int, eid, reason string) {
		if v.FirstBad == nil {
			v.FirstBad = &breach.ChainFault{Position: p, EventID: eid, Reason: reason}
		}
	}
	for {
		se, err := w.peekStream()
		if err != nil {
			return v, err
		}
		ce, err := w.peekChain()
		if err != nil {
			return v, err
		}
		if ce == nil {
			if se != nil {
				v.Pending++
				w.stream = w.stream[1:]
				continue
			}
			break
		}
		pos++
		v.Chained = pos
		if _, ok := hashes[pos]; ok {
			hashes[pos] = *ce
		}
		if v.FirstBad == nil {
			switch {
			case se == nil || breach.CompareStreamIDs(se.id, ce.id) > 0:
				fault(pos, ce.id, "the chained event is missing from the stream: it was deleted")
			case breach.CompareStreamIDs(se.id, ce.id) < 0:
				fault(pos, se.id, "the event is in the stream but not in the chain where its ID places it: it was inserted after chaining")
			case breach.ChainHash(prev, se.id, se.fields) != ce.hash:
				fault(pos, ce.id, "the event does not match its chained hash: it was edited after it was chained")
			}
		}
		if se != nil && breach.CompareStreamIDs(se.id, ce.id) <= 0 {
			w.stream = w.stream[1:]
		}
		prev = ce.hash
		w.chain = w.chain[1:]
	}
	v.Head = hex.EncodeToString(prev[:])
	var key ed25519.PublicKey
	if s.signer != nil {
		key = s.signer.Public().(ed25519.PublicKey)
	}
	v.Checkpoints = len(cps)
	for i, c := range cps {
		at := hashes[c.EventCount]
		wantHead := hex.EncodeToString(at.hash[:])
		if c.EventCount == 0 {
			wantHead = hex.EncodeToString(g[:])
		}
		var reason string
		switch {
		case key == nil:
			reason = "no signing key is configured to verify it"
		case c.Verify(key) != nil:
			reason = c.Verify(key).Error()
		case c.BreachID != id:
			reason = "it names breach " + c.BreachID
		case c.EventCount > v.Chained:
			reason = fmt.Sprintf("it covers %d events, the chain has %d: chained events were removed", c.EventCount, v.Chained)
		case c.HeadHash != wantHead || (c.EventCount > 0 && c.LastEventID != at.id):
			reason = fmt.Sprintf("the chain at position %d is not what it signed: the chain was rewritten", c.EventCount)
		}
		if reason != "" {
			fault(c.EventCount, c.LastEventID, fmt.Sprintf("checkpoint %d (%s, %s): %s", i+1, c.Reason, c.At.Format(time.RFC3339), reason))
			continue
		}
		v.CheckpointsVerified++
	}
	v.Verified = v.FirstBad == nil && v.UnchainedEvents == 0 && start == chainFromStart
	return v, nil
}

// ExportChain writes the breach's chain as NDJSON (see breach.VerifyExport): a header, each
// chained event as stored with its chain hash, then a checkpoint made for the export. The lines
// are what Redis holds: an event edited or deleted in Redis shows in the file at its line. Events
// written after the checkpoint are left for the next export.
func (s *Store) ExportChain(ctx context.Context, id string, w io.Writer) (breach.SignedCheckpoint, error) {
	cp, err := s.Checkpoint(ctx, id, breach.CheckpointExport)
	if err != nil {
		return cp, err
	}
	start, before, err := s.chainMeta(ctx, id)
	if err != nil {
		return cp, err
	}
	g := breach.ChainGenesis(id)
	hdr := breach.ChainHeader{Format: breach.ChainFormat, BreachID: id, Genesis: hex.EncodeToString(g[:])}
	if start != chainFromStart {
		legacy, err := s.rawRange(ctx, eventsKey(id), "-", start, 1<<30)
		if err != nil {
			return cp, storeErr("load events of breach "+id, err)
		}
		hdr.ChainStart, hdr.UnchainedEvents, hdr.UnchainedBefore = start, len(legacy), before
	}
	enc := json.NewEncoder(w)
	if err := enc.Encode(hdr); err != nil {
		return cp, err
	}
	wk := &chainWalker{s: s, ctx: ctx, id: id, streamNext: start}
	for pos := 1; pos <= cp.EventCount; pos++ {
		ce, err := wk.peekChain()
		if err != nil {
			return cp, err
		}
		if ce == nil {
			break
		}
		// Stream entries the chain does not hold (inserted) are written with no hash.
		for {
			se, err := wk.peekStream()
			if err != nil {
				return cp, err
			}
			if se == nil || breach.CompareStreamIDs(se.id, ce.id) > 0 {
				break // the chained event was deleted: its line is missing, and the position skips
			}
			line := breach.ChainLine{Position: pos, EventID: se.id, Fields: breach.ChainFields(se.fields)}
			if se.id == ce.id {
				line.Hash = hex.EncodeToString(ce.hash[:])
			}
			wk.stream = wk.stream[1:]
			if err := enc.Encode(line); err != nil {
				return cp, err
			}
			if se.id == ce.id {
				break
			}
		}
		wk.chain = wk.chain[1:]
	}
	if err := enc.Encode(breach.CheckpointLine{Checkpoint: &cp}); err != nil {
		return cp, err
	}
	return cp, nil
}

// NoticeEvents returns the chained events that name the notice (its creation, its changes, its
// fallback), oldest first, after chaining the breach. An event deleted from the stream after it
// was chained is left out (VerifyChain reports it); the hash given is the one the chain holds.
func (s *Store) NoticeEvents(ctx context.Context, breachID, noticeID string) ([]breach.ChainedEvent, error) {
	if _, err := s.Chain(ctx, breachID); err != nil {
		return nil, err
	}
	v, err := s.rdb.HGet(ctx, chainNoticesKey(breachID), noticeID).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, storeErr("load events of notice "+noticeID, err)
	}
	var out []breach.ChainedEvent
	po := s.privateOpener(ctx)
	for _, f := range strings.Fields(v) {
		pos, err := strconv.Atoi(f)
		if err != nil || pos < 1 {
			continue
		}
		raw, err := s.rdb.LIndex(ctx, chainKey(breachID), int64(pos-1)).Result()
		if err != nil {
			continue
		}
		ce, err := parseChainEntry(raw)
		if err != nil {
			continue
		}
		msgs, err := s.rdb.XRange(ctx, eventsKey(breachID), ce.id, ce.id).Result()
		if err != nil || len(msgs) != 1 {
			continue
		}
		ev, err := s.decodeEvent(msgs[0], po, breachID)
		if err != nil {
			return nil, err
		}
		out = append(out, breach.ChainedEvent{Event: ev, Position: pos, Hash: hex.EncodeToString(ce.hash[:])})
	}
	return out, nil
}
