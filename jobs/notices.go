package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
)

var _ breach.NoticeStore = (*Store)(nil)

// Notices of a breach
//
// Each notice is one field of a hash of sealed records. Eighteen sorted sets, one per status and
// channel, hold each notice ID (score 0, so lexicographic order) in the set of its current status
// and channel, so that a list by status or channel reads only the sets that match (a new notice
// is first appended to its channel's queued log, folded into the queued set before a list reads
// it: see keyNoticesQueuedLogFmt); a hash counts
// notices by "<channel>:<status>" so NoticeCounts is O(1) at any size. Creating notices is one Lua
// script per batch; changing one is a compare-and-set script on the record's stored bytes (a
// sealed record has a fresh random nonce on every write, so equal bytes mean nobody wrote in
// between). Either way the records, the sets, the counters and the events are written together.

// MaxNoticeBatch is the largest slice CreateNotices takes in one call (one script run).
const MaxNoticeBatch = 1000

// createNoticesScript stores the notices of a batch whose IDs are not stored yet (in any breach, or
// in this one's records: a dispatch's notices have no notice→breach entry) and returns how
// many it stored of each channel ({letters, emails, calls}), or nil when the breach does not
// exist. Each new notice gets its record, its notice→breach entry, its entry in the queued log
// of its channel (keyNoticesQueuedLogFmt) and its counter; each channel with new notices gets one
// notice.queued event listing them (queuedEventData); and the creation epoch is bumped, so that a
// dispatch writing under its lock sees that notices appeared (see createUnderLock).
//
// KEYS: noticeKeys.scriptKeys().
// ARGV: breach ID, actor, role, at (RFC 3339), then per notice three values: ID, channel index
// (1-based, noticeChannels), record.
var createNoticesScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local step = 4000
local function each(cmd, key, args, n)
  for i = 1, n, step do
    redis.call(cmd, key, unpack(args, i, math.min(i + step - 1, n)))
  end
end
local channels = {'letter', 'email', 'phone'}
local breachID, actor, role, at = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local n = (#ARGV - 4) / 3
local ids = {}
for i = 1, n do ids[i] = ARGV[3 * i + 2] end
local held = {}
for i = 1, n, step do
  local r = redis.call('HMGET', KEYS[5], unpack(ids, i, math.min(i + step - 1, n)))
  for j = 1, #r do held[i + j - 1] = r[j] end
end
for i = 1, n do -- a notice a dispatch created has no notice→breach entry (keyBreachTags)
  if not held[i] then held[i] = redis.call('HEXISTS', KEYS[2], ids[i]) == 1 end
end
-- Explicit lengths: # on a Lua table is a binary search.
local seen, recs, glob, nr = {}, {}, {}, 0
local logs, counts = {{}, {}, {}}, {0, 0, 0}
for i = 1, n do
  local id = ids[i]
  if not held[i] and not seen[id] then
    seen[id] = true
    local c = tonumber(ARGV[3 * i + 3])
    recs[nr + 1], recs[nr + 2] = id, ARGV[3 * i + 4]
    glob[nr + 1], glob[nr + 2] = id, breachID
    nr = nr + 2
    counts[c] = counts[c] + 1; logs[c][counts[c]] = id
  end
end
if nr == 0 then return counts end
each('HSET', KEYS[2], recs, nr)
each('HSET', KEYS[5], glob, nr)
for c = 1, 3 do
  if counts[c] > 0 then
    each('RPUSH', KEYS[#KEYS - 3 + c], logs[c], counts[c]) -- the queued log (foldQueuedScript)
    redis.call('HINCRBY', KEYS[3], channels[c] .. ':queued', counts[c])
    redis.call('XADD', KEYS[4], '*', 'type', 'notice.queued', 'actor', actor, 'role', role, 'at', at,
      'summary', counts[c] .. ' ' .. channels[c] .. (counts[c] == 1 and ' notice queued' or ' notices queued'),
      'data', '{"channel":"' .. channels[c] .. '","count":' .. counts[c] .. ',"notice_ids":["' .. table.concat(logs[c], '","') .. '"]}')
  end
end
redis.call('INCR', KEYS[6])
return counts
`)

// foldQueuedScript moves up to ARGV[1] IDs from the front of the queued log of each channel
// index in ARGV[2:] into the queued set of that channel, leaving out a notice that is in another
// status set of its channel (it moved after it was created), and returns how many IDs those logs
// still hold. ARGV[1] is at most 2000 (the ZADD unpacks two values per ID; unpack stays
// under 4000 values, as in createNoticesScript).
//
// KEYS: noticeKeys.scriptKeys().
var foldQueuedScript = redis.NewScript(`
local max = tonumber(ARGV[1])
local nstatus = (#KEYS - 9) / 3
local left = 0
for a = 2, #ARGV do
  local c = tonumber(ARGV[a])
  local log = KEYS[#KEYS - 3 + c]
  local ids = redis.call('LPOP', log, max)
  if ids then
    local keep = {}
    for s = 2, nstatus do -- queued is status 1
      local sc = redis.call('ZMSCORE', KEYS[6 + (s - 1) * 3 + c], unpack(ids))
      for i = 1, #ids do
        if sc[i] then keep[i] = false end
      end
    end
    local z, nz = {}, 0
    for i = 1, #ids do
      if keep[i] == nil then z[nz + 1], z[nz + 2] = 0, ids[i]; nz = nz + 2 end
    end
    if nz > 0 then redis.call('ZADD', KEYS[6 + c], unpack(z, 1, nz)) end
    left = left + redis.call('LLEN', log)
  end
end
return left
`)

// foldQueuedChunk is how many IDs of each log foldQueuedScript moves per run: about 5 ms of Redis
// time per channel, so that folding a large dispatch never blocks others for long (after a
// million-person dispatch the first list of every queued notice folds 790,000 IDs in 2.7 s).
const foldQueuedChunk = 2000

// foldQueued brings the queued sets of the channels up to date with their logs (see
// keyNoticesQueuedLogFmt); a list that reads a queued set calls it first.
func (s *Store) foldQueued(ctx context.Context, keys noticeKeys, channels []breach.Method) error {
	args := []any{foldQueuedChunk}
	for _, c := range channels {
		args = append(args, channelIndex(c)+1)
	}
	for {
		left, err := foldQueuedScript.Run(ctx, s.rdb, keys.scriptKeys(), args...).Int64()
		if err != nil {
			return err
		}
		if left == 0 {
			return nil
		}
	}
}

// updateNoticeScript replaces a notice's record if it still holds the bytes read, moves it between
// status sets, adjusts the counters and appends the events. It returns 1 when applied, 0 when the
// record changed since it was read, -1 when the notice does not exist.
//
// KEYS: noticeKeys.updateKeys() (the given-by-day hash last).
// ARGV: ID, record read, new record, channel index (1-based, noticeChannels), old and new status
// index (1-based, noticeStatuses), old counter field, new counter field, when it became given
// (unix ms, '0' when it did not), the day whose given count changes (” for none) and by how
// much, then per event the number of values that follow and the event's field/value pairs.
var updateNoticeScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if not cur then return -1 end
if cur ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
local c, o, s = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if o ~= s then
  redis.call('ZREM', KEYS[6 + (o - 1) * 3 + c], ARGV[1])
  redis.call('ZADD', KEYS[6 + (s - 1) * 3 + c], 0, ARGV[1])
  redis.call('HINCRBY', KEYS[3], ARGV[7], -1)
  redis.call('HINCRBY', KEYS[3], ARGV[8], 1)
end
if ARGV[9] ~= '0' then
  local last = tonumber(redis.call('HGET', KEYS[3], 'last_delivered_ms') or '0')
  if tonumber(ARGV[9]) > last then redis.call('HSET', KEYS[3], 'last_delivered_ms', ARGV[9]) end
end
if ARGV[10] ~= '' then redis.call('HINCRBY', KEYS[#KEYS], ARGV[10], ARGV[11]) end
local i = 12
while i <= #ARGV do
  local k = tonumber(ARGV[i])
  redis.call('XADD', KEYS[4], '*', unpack(ARGV, i + 1, i + k))
  i = i + k + 1
end
return 1
`)

func noticeNotFound(id string) error {
	return breach.Errorf(breach.ENOTFOUND, "notice %s not found", id)
}

// encodeNotice returns the stored form of n under the records key.
func (s *Store) encodeNotice(recordsKey string, n *breach.Notice) ([]byte, error) {
	var scratch *[]byte
	var buf []byte
	if s.aead != nil {
		// The plain JSON is dropped once sealed: write it in a reused buffer.
		scratch = jsonScratch.Get().(*[]byte)
		defer jsonScratch.Put(scratch)
		buf = (*scratch)[:0]
	} else {
		buf = make([]byte, 0, 512) // the plain JSON is the record
	}
	plain, ok := appendNoticeJSON(buf, n)
	if !ok {
		var err error
		if plain, err = json.Marshal(n); err != nil {
			return nil, fmt.Errorf("encode notice %s: %w", n.ID, err)
		}
	}
	if scratch != nil && cap(plain) <= 16<<10 {
		*scratch = plain // keep a grown buffer, not a huge one
	}
	return s.seal(fieldAD(recordsKey, n.ID), plain), nil
}

// jsonScratch holds buffers for the plain JSON of records about to be sealed.
var jsonScratch = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (s *Store) decodeNotice(recordsKey, id string, data []byte) (*breach.Notice, error) {
	return openField[breach.Notice](s, recordsKey, id, data, "notice")
}

// checkNotice refuses a notice the store could not index.
func checkNotice(i int, n *breach.Notice) []breach.FieldError {
	var fe []breach.FieldError
	field := func(name string) string { return fmt.Sprintf("notices[%d].%s", i, name) }
	if !validID(n.ID) {
		fe = append(fe, breach.FieldError{Field: field("id"),
			Reason: fmt.Sprintf("must be 1 to %d letters, digits, '_' or '-'", maxIDLen)})
	}
	if !validChannel(n.Channel) {
		fe = append(fe, breach.FieldError{Field: field("channel"), Reason: fmt.Sprintf("unknown channel %q", n.Channel)})
	}
	if n.Status != "" && n.Status != breach.NoticeQueued {
		fe = append(fe, breach.FieldError{Field: field("status"), Reason: "a new notice is queued"})
	}
	return fe
}

// encodedNotice is a notice ready for createNoticesScript.
type encodedNotice struct {
	id      string
	channel int // 1-based index in noticeChannels
	record  []byte
}

// prepareNotice sets the fields a new notice gets from the store and encodes it.
func (s *Store) prepareNotice(recordsKey, breachID string, n *breach.Notice, now time.Time) (encodedNotice, error) {
	n.BreachID = breachID
	n.Status = breach.NoticeQueued
	if n.CreatedAt.IsZero() {
		n.CreatedAt = now
	}
	if n.UpdatedAt.IsZero() {
		n.UpdatedAt = n.CreatedAt
	}
	rec, err := s.encodeNotice(recordsKey, n)
	if err != nil {
		return encodedNotice{}, err
	}
	return encodedNotice{id: n.ID, channel: channelIndex(n.Channel) + 1, record: rec}, nil
}

// CreateNotices implements breach.NoticeStore in one script run: it stores each notice of ns whose
// ID is not stored yet (in any breach), queued, with its index, status and counter entries and a
// notice.queued event by actor, and returns how many it stored. BreachID and Status are set by the
// store (Status must be empty or queued); CreatedAt and UpdatedAt default to now. ns may hold at
// most MaxNoticeBatch notices. ENOTFOUND for an unknown breach; EINVALID for a bad ID or channel
// (nothing is stored then).
func (s *Store) CreateNotices(ctx context.Context, breachID string, ns []breach.Notice, actor breach.Actor) (int, error) {
	if !validID(breachID) {
		return 0, notFound(breachID)
	}
	if len(ns) > MaxNoticeBatch {
		return 0, fmt.Errorf("create notices of breach %s: %d notices, at most %d per call", breachID, len(ns), MaxNoticeBatch)
	}
	var fe []breach.FieldError
	for i := range ns {
		fe = append(fe, checkNotice(i, &ns[i])...)
	}
	if err := breach.InvalidFields(fe); err != nil {
		return 0, err
	}
	keys := noticeKeysOf(breachID)
	now := s.now()
	enc := make([]encodedNotice, len(ns))
	for i := range ns {
		n := ns[i] // a copy: the caller's slice is not changed
		e, err := s.prepareNotice(keys.records, breachID, &n, now)
		if err != nil {
			return 0, err
		}
		enc[i] = e
	}
	created, err := s.createEncoded(ctx, keys, breachID, enc, actor, now)
	return created[0] + created[1] + created[2], err
}

// createEncoded runs createNoticesScript for notices already prepared and returns how many it
// stored, by channel (in the order of noticeChannels).
func (s *Store) createEncoded(ctx context.Context, keys noticeKeys, breachID string, enc []encodedNotice, actor breach.Actor, at time.Time) ([3]int, error) {
	var created [3]int
	if len(enc) == 0 {
		return created, nil
	}
	args := make([]any, 0, 4+3*len(enc))
	args = append(args, breachID, actor.ID, string(actor.Role), at.UTC().Format(time.RFC3339Nano))
	for _, e := range enc {
		args = append(args, e.id, e.channel, e.record)
	}
	res, err := createNoticesScript.Run(ctx, s.rdb, keys.scriptKeys(), args...).Int64Slice()
	if errors.Is(err, redis.Nil) {
		return created, notFound(breachID)
	}
	if err != nil {
		return created, storeErr("create notices of breach "+breachID, err)
	}
	if len(res) != len(created) {
		return created, fmt.Errorf("create notices of breach %s: script answered %d counts", breachID, len(res))
	}
	for i, n := range res {
		created[i] = int(n)
	}
	return created, nil
}

// noticeBreach returns the breach the notice belongs to, or ENOTFOUND: its keyNoticeBreach entry,
// else the breach its ID's tag names (the notice itself may still not exist: the caller reads it).
func (s *Store) noticeBreach(ctx context.Context, id string) (string, error) {
	if !validID(id) {
		return "", noticeNotFound(id)
	}
	var byID, byTag *redis.StringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		byID = p.HGet(ctx, keyNoticeBreach, id)
		if tag, ok := noticeIDTag(id); ok {
			byTag = p.HGet(ctx, keyBreachTags, tag)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", storeErr("find notice "+id, err)
	}
	if bid := byID.Val(); bid != "" {
		return bid, nil
	}
	if byTag != nil && byTag.Val() != "" {
		return byTag.Val(), nil
	}
	return "", noticeNotFound(id)
}

// Notice returns the notice with the ID (two round trips), or ENOTFOUND.
func (s *Store) Notice(ctx context.Context, id string) (*breach.Notice, error) {
	bid, err := s.noticeBreach(ctx, id)
	if err != nil {
		return nil, err
	}
	n, _, err := s.loadNotice(ctx, noticeKeysOf(bid).records, id)
	return n, err
}

func (s *Store) loadNotice(ctx context.Context, recordsKey, id string) (*breach.Notice, []byte, error) {
	data, err := s.rdb.HGet(ctx, recordsKey, id).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil, noticeNotFound(id)
	}
	if err != nil {
		return nil, nil, storeErr("load notice "+id, err)
	}
	n, err := s.decodeNotice(recordsKey, id, data)
	return n, data, err
}

// noticesByID loads notices of one breach in one round trip, in the order of ids; a notice that
// does not exist is left out.
func (s *Store) noticesByID(ctx context.Context, breachID string, ids []string) ([]*breach.Notice, [][]byte, error) {
	if len(ids) == 0 {
		return nil, nil, nil
	}
	keys := noticeKeysOf(breachID)
	vals, err := s.rdb.HMGet(ctx, keys.records, ids...).Result()
	if err != nil {
		return nil, nil, storeErr("load notices of breach "+breachID, err)
	}
	out := make([]*breach.Notice, 0, len(ids))
	raws := make([][]byte, 0, len(ids))
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		n, err := s.decodeNotice(keys.records, ids[i], []byte(str))
		if err != nil {
			return nil, nil, err
		}
		out = append(out, n)
		raws = append(raws, []byte(str))
	}
	return out, raws, nil
}

// UpdateNotice implements breach.NoticeStore. fn gets a freshly decoded notice on every attempt
// (it may run several times, so it must not act outside the store) and returns the events to
// record; the store sets UpdatedAt, and an event's At defaults to now. fn may not change the ID,
// the breach or the channel. After maxUpdateAttempts lost races it returns ECONFLICT; ENOTFOUND
// for an unknown notice; fn's error is returned as it is and nothing is stored.
func (s *Store) UpdateNotice(ctx context.Context, id string, fn func(n *breach.Notice) ([]breach.Event, error)) (*breach.Notice, error) {
	bid, err := s.noticeBreach(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.updateNotice(ctx, bid, id, nil, fn)
}

// updateNotice is UpdateNotice for a notice of a known breach; raw, when not nil, is the record
// as just read (it saves the first read).
func (s *Store) updateNotice(ctx context.Context, breachID, id string, raw []byte,
	fn func(n *breach.Notice) ([]breach.Event, error)) (*breach.Notice, error) {
	keys := noticeKeysOf(breachID)
	for attempt := 1; ; attempt++ {
		if raw == nil {
			var err error
			if _, raw, err = s.loadNotice(ctx, keys.records, id); err != nil {
				return nil, err
			}
		}
		n, args, err := s.noticeUpdate(ctx, keys, id, raw, fn)
		if err != nil {
			return nil, err
		}
		res, err := updateNoticeScript.Run(ctx, s.rdb, keys.updateKeys(), args...).Int()
		if err != nil {
			return nil, storeErr("update notice "+id, err)
		}
		switch res {
		case 1:
			return n, nil
		case -1:
			return nil, noticeNotFound(id)
		}
		if attempt == maxUpdateAttempts {
			return nil, breach.Errorf(breach.ECONFLICT, "notice %s is being changed by others; try again", id)
		}
		raw = nil
		wait := time.Duration(attempt) * time.Millisecond
		wait += rand.N(wait)
		select {
		case <-ctx.Done():
			return nil, storeErr("update notice "+id, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// noticeUpdate applies fn to the notice stored as raw and returns the result and the
// updateNoticeScript arguments that store it (if the record still holds raw). fn's error is
// returned as it is.
func (s *Store) noticeUpdate(ctx context.Context, keys noticeKeys, id string, raw []byte, fn func(n *breach.Notice) ([]breach.Event, error)) (*breach.Notice, []any, error) {
	old, err := s.decodeNotice(keys.records, id, raw)
	if err != nil {
		return nil, nil, err
	}
	n, err := s.decodeNotice(keys.records, id, raw)
	if err != nil {
		return nil, nil, err
	}
	evs, err := fn(n)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case n.ID != old.ID || n.BreachID != old.BreachID || n.Channel != old.Channel:
		return nil, nil, fmt.Errorf("update notice %s: fn changed its ID, breach or channel", id)
	case !validNoticeStatus(n.Status):
		return nil, nil, fmt.Errorf("update notice %s: unknown status %q", id, n.Status)
	}
	now := s.now()
	n.UpdatedAt = now
	for i := range evs {
		if evs[i].At.IsZero() {
			evs[i].At = now
		}
		ev := evs[i]
		n.History = append(n.History, breach.NoticeEntry{Type: ev.Type, Actor: ev.Actor, Role: ev.Role, At: ev.At, Summary: ev.Summary, Data: ev.Data, Private: ev.Private})
	}
	rec, err := s.encodeNotice(keys.records, n)
	if err != nil {
		return nil, nil, err
	}
	deliveredMs := int64(0)
	if breach.Delivered(n.Channel, n.Status) && !breach.Delivered(old.Channel, old.Status) {
		at := now
		switch {
		case n.Channel == breach.MethodLetter && !n.MailedOn.IsZero():
			// The day it went to the post counts, not the day a clerk recorded it (noon UTC
			// is that same calendar day in every US zone).
			at = n.MailedOn.Time().Add(12 * time.Hour)
		case n.Channel == breach.MethodEmail && !n.SentAt.IsZero():
			at = n.SentAt
		}
		deliveredMs = at.UnixMilli()
	}
	// The day the given count changes: the day it was given, or today for one that stopped
	// counting (an email refused after it was sent).
	givenDay, givenDelta := "", 0
	switch was, is := breach.Delivered(old.Channel, old.Status), breach.Delivered(n.Channel, n.Status); {
	case is && !was:
		givenDay, givenDelta = givenDayField(time.UnixMilli(deliveredMs)), 1
	case was && !is:
		givenDay, givenDelta = givenDayField(now), -1
	}
	args := []any{id, raw, rec, channelIndex(n.Channel) + 1, statusIndex(old.Status) + 1, statusIndex(n.Status) + 1,
		noticeCountField(old.Channel, old.Status), noticeCountField(n.Channel, n.Status), deliveredMs, givenDay, givenDelta}
	for _, ev := range evs {
		if ev.At.IsZero() {
			ev.At = now
		}
		vals, err := s.eventValues(ctx, n.BreachID, ev)
		if err != nil {
			return nil, nil, fmt.Errorf("update notice %s: %w", id, err)
		}
		args = append(args, len(vals))
		args = append(args, vals...)
	}
	return n, args, nil
}

// Notices implements breach.NoticeStore: the breach's notices in ID order, optionally only those
// in one status and of one channel. f.Limit of 0 means DefaultLimit; it is cut to MaxLimit. The
// cursor is the second result of the previous call ("" when there are no more); a malformed cursor
// is EINVALID on field "cursor", an unknown status or channel EINVALID on "status" or "channel".
// Three round trips at most, plus those folding the queued logs when the list includes queued
// notices (one when the logs are empty); ENOTFOUND for an unknown breach.
func (s *Store) Notices(ctx context.Context, breachID string, f breach.NoticeFilter) ([]breach.Notice, string, error) {
	if !validID(breachID) {
		return nil, "", notFound(breachID)
	}
	var fe []breach.FieldError
	if f.Status != "" && !validNoticeStatus(f.Status) {
		fe = append(fe, breach.FieldError{Field: "status", Reason: fmt.Sprintf("unknown status %q", f.Status)})
	}
	if f.Channel != "" && !validChannel(f.Channel) {
		fe = append(fe, breach.FieldError{Field: "channel", Reason: fmt.Sprintf("unknown channel %q", f.Channel)})
	}
	if err := breach.InvalidFields(fe); err != nil {
		return nil, "", err
	}
	limit := clampLimit(f.Limit)
	start, err := afterCursor(f.Cursor, "-")
	if err != nil {
		return nil, "", err
	}
	keys := noticeKeysOf(breachID)
	statuses, channels := noticeStatuses, noticeChannels
	if f.Status != "" {
		statuses = []breach.NoticeStatus{f.Status}
	}
	if f.Channel != "" {
		channels = []breach.Method{f.Channel}
	}
	if slices.Contains(statuses, breach.NoticeQueued) {
		if err := s.foldQueued(ctx, keys, channels); err != nil {
			return nil, "", storeErr("list notices of breach "+breachID, err)
		}
	}
	// The first limit+1 IDs after the cursor of each matching set, merged: the first limit+1 of
	// those are the first limit+1 of the union.
	pipe := s.rdb.Pipeline()
	exists := pipe.Exists(ctx, keys.breach)
	var rngs []*redis.StringSliceCmd
	for _, st := range statuses {
		for _, c := range channels {
			rngs = append(rngs, pipe.ZRangeByLex(ctx, keys.statusKey(st, c), &redis.ZRangeBy{Min: start, Max: "+", Count: int64(limit + 1)}))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, "", storeErr("list notices of breach "+breachID, err)
	}
	if exists.Val() == 0 {
		return nil, "", notFound(breachID)
	}
	var ids []string
	for _, r := range rngs {
		ids = append(ids, r.Val()...)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids) // a notice read in two sets while it moved
	next := ""
	if len(ids) > limit {
		ids = ids[:limit]
		next = ids[limit-1]
	}
	if len(ids) == 0 {
		return []breach.Notice{}, "", nil
	}
	vals, err := s.rdb.HMGet(ctx, keys.records, ids...).Result()
	if err != nil {
		return nil, "", storeErr("list notices of breach "+breachID, err)
	}
	recs := make([][]byte, len(vals))
	for i, v := range vals {
		if str, ok := v.(string); ok {
			recs[i] = []byte(str)
		}
	}
	out, err := s.decodeNotices(keys.records, breachID, ids, recs)
	return out, next, err
}

func (s *Store) decodeNotices(recordsKey, breachID string, ids []string, recs [][]byte) ([]breach.Notice, error) {
	out := make([]breach.Notice, 0, len(ids))
	for i, id := range ids {
		if recs[i] == nil {
			return nil, fmt.Errorf("list notices of breach %s: notice %s is indexed but has no record", breachID, id)
		}
		n, err := s.decodeNotice(recordsKey, id, recs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *n)
	}
	return out, nil
}

// NoticeCounts implements breach.NoticeStore: every channel and status, zeros included, from the
// counters kept with the records (one round trip). ENOTFOUND for an unknown breach.
func (s *Store) NoticeCounts(ctx context.Context, breachID string) (breach.NoticeCounts, time.Time, error) {
	if !validID(breachID) {
		return nil, time.Time{}, notFound(breachID)
	}
	keys := noticeKeysOf(breachID)
	pipe := s.rdb.Pipeline()
	exists := pipe.Exists(ctx, keys.breach)
	all := pipe.HGetAll(ctx, keys.counts)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, time.Time{}, storeErr("load notice counts of breach "+breachID, err)
	}
	if exists.Val() == 0 {
		return nil, time.Time{}, notFound(breachID)
	}
	return parseNoticeCounts(breachID, all.Val())
}

// parseNoticeCounts reads the counts hash: every channel and status, zeros included, and when the
// latest notice was given.
func parseNoticeCounts(breachID string, all map[string]string) (breach.NoticeCounts, time.Time, error) {
	c := make(breach.NoticeCounts, len(noticeChannels))
	for _, ch := range noticeChannels {
		c[ch] = make(map[breach.NoticeStatus]int, len(noticeStatuses))
		for _, st := range noticeStatuses {
			c[ch][st] = 0
		}
	}
	var last time.Time
	for field, v := range all {
		if field == lastDeliveredField {
			ms, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, time.Time{}, fmt.Errorf("notice counts of breach %s: bad %s %q", breachID, field, v)
			}
			last = time.UnixMilli(ms).UTC()
			continue
		}
		ch, st, ok := strings.Cut(field, ":")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || !validChannel(breach.Method(ch)) || !validNoticeStatus(breach.NoticeStatus(st)) {
			return nil, time.Time{}, fmt.Errorf("notice counts of breach %s: bad counter %q = %q", breachID, field, v)
		}
		c[breach.Method(ch)][breach.NoticeStatus(st)] = n
	}
	return c, last, nil
}

// NoticeCountsByDay implements breach.NoticeStore: NoticeCounts and the given-by-day counters,
// read in one transaction so that the days add up to the given notices counted.
func (s *Store) NoticeCountsByDay(ctx context.Context, breachID string) (breach.NoticeCounts, time.Time, []breach.GivenOnDay, error) {
	if !validID(breachID) {
		return nil, time.Time{}, nil, notFound(breachID)
	}
	keys := noticeKeysOf(breachID)
	pipe := s.rdb.TxPipeline()
	exists := pipe.Exists(ctx, keys.breach)
	all := pipe.HGetAll(ctx, keys.counts)
	days := pipe.HGetAll(ctx, keys.givenByDay)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, time.Time{}, nil, storeErr("load notice counts of breach "+breachID, err)
	}
	if exists.Val() == 0 {
		return nil, time.Time{}, nil, notFound(breachID)
	}
	c, last, err := parseNoticeCounts(breachID, all.Val())
	if err != nil {
		return nil, time.Time{}, nil, err
	}
	out := make([]breach.GivenOnDay, 0, len(days.Val()))
	for field, v := range days.Val() {
		d, err := breach.ParseDate(field)
		n, nerr := strconv.Atoi(v)
		if err != nil || nerr != nil {
			return nil, time.Time{}, nil, fmt.Errorf("notice counts of breach %s: bad given-by-day %q = %q", breachID, field, v)
		}
		if n != 0 {
			out = append(out, breach.GivenOnDay{Day: d, Given: n})
		}
	}
	slices.SortFunc(out, func(a, b breach.GivenOnDay) int { return a.Day.Time().Compare(b.Day.Time()) })
	return c, last, out, nil
}

// givenDayField is the field of keyNoticesGivenByDayFmt for the moment t: its UTC calendar day.
func givenDayField(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// lastDeliveredField is the counts hash field holding when the latest notice was given (unix ms).
const lastDeliveredField = "last_delivered_ms"
