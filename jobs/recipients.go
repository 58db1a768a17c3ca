package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/redis/go-redis/v9"
	"golang.org/x/text/unicode/norm"

	breach "github.com/breachd/breachd"
)

var _ breach.RecipientStore = (*Store)(nil)

// Recipients of a breach
//
// Each recipient is one field of a hash of records (sealed JSON), found by its external_id through
// a second hash and listed in upload order through a sorted set of IDs; two small sorted sets hold
// the people without contact details and those outside Indiana, so that the filters the law
// needs read only them. Counters in a hash are kept by the same Lua script that stores the
// records, so they are exact at any moment and read in O(1). Minors known by date of birth are
// the exception: whether one is a minor depends on the breach's discovery date, which a revision
// may change, so they are kept by the date they turn 18 and counted with one ZCOUNT (O(log n))
// against the discovery date at the time of reading. All keys carry the breach's hash tag.

// recipientCountLanguagePrefix starts the counter field of one language in the counts hash
// ("language:es"); the script writes the same literal. A persisted key shape: never change it.
const recipientCountLanguagePrefix = "language:"

// addRecipientsScript stores a batch of recipients atomically and returns nil when the breach
// does not exist, else {duplicates, conflicts} (0-based indexes into the batch): a duplicate's
// external_id is already held (by an earlier call or earlier in this batch); a conflict's
// recipient ID is already used by another recipient, which only a caller bug can cause. A script
// runs alone on the server, so checking first and writing after is safe against concurrent
// uploads. It needs Redis 6.2 or later (ZMSCORE).
//
// KEYS: breach record, records, external, index, no_contact, out_of_state, adult_on, counts, and
// optionally an upload's counts (uploads.go).
// ARGV: per recipient six values: ID, external_id, record, flags, adult_on, language. flags is three
// characters '0' or '1': Indiana resident, insufficient contact, flagged minor; adult_on is the
// YYYYMMDD score for the adult_on set, or "" when the recipient does not go there; language is the
// person's two-letter language, counted in the field recipientCountLanguagePrefix..language. With
// an upload's counts, two more: the rows read and the rows rejected since the upload's last batch.
var addRecipientsScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local extra = 0
if #KEYS >= 9 then extra = 2 end
-- Commands take many arguments at once (a call from Lua costs more than the work of one member),
-- in slices that stay under Lua's limit on unpack.
local step = 4000
local function each(cmd, key, args)
  for i = 1, #args, step do
    redis.call(cmd, key, unpack(args, i, math.min(i + step - 1, #args)))
  end
end
local function gather(cmd, key, args)
  if #args == 0 then return {} end
  if #args <= step then return redis.call(cmd, key, unpack(args)) end
  local out, k = {}, 0
  for i = 1, #args, step do
    local r = redis.call(cmd, key, unpack(args, i, math.min(i + step - 1, #args)))
    for j = 1, #r do k = k + 1; out[k] = r[j] end
  end
  return out
end
local n = (#ARGV - extra) / 6
local ids, exts = {}, {}
for i = 1, n do
  ids[i], exts[i] = ARGV[6 * i - 5], ARGV[6 * i - 4]
end
local held = gather('HMGET', KEYS[3], exts)  -- false where the external_id is new
local used = gather('ZMSCORE', KEYS[4], ids) -- false where the ID is new
local seen, dups, conflicts = {}, {}, {}
-- Explicit lengths: # on a Lua table is a binary search, and this loop appends 10,000 times.
local extPairs, records, index, noContact, outOfState, adultOn = {}, {}, {}, {}, {}, {}
local nd, nc, ne, ni, nn, no, na = 0, 0, 0, 0, 0, 0, 0
local residents, insufficient, flagged = 0, 0, 0
local languages = {}
for i = 1, n do
  local id, ext, flags, adult, lang = ids[i], exts[i], ARGV[6 * i - 2], ARGV[6 * i - 1], ARGV[6 * i]
  if held[i] or seen[ext] then
    nd = nd + 1; dups[nd] = i - 1
  elseif used[i] then
    nc = nc + 1; conflicts[nc] = i - 1
  else
    seen[ext] = true
    extPairs[ne + 1], extPairs[ne + 2] = ext, id; ne = ne + 2
    records[ne - 1], records[ne] = id, ARGV[6 * i - 3]
    languages[lang] = (languages[lang] or 0) + 1
    index[ni + 1], index[ni + 2] = 0, id; ni = ni + 2
    if string.byte(flags, 1) == 49 then
      residents = residents + 1
    else
      outOfState[no + 1], outOfState[no + 2] = 0, id; no = no + 2
    end
    if string.byte(flags, 2) == 49 then
      insufficient = insufficient + 1
      noContact[nn + 1], noContact[nn + 2] = 0, id; nn = nn + 2
    end
    if string.byte(flags, 3) == 49 then flagged = flagged + 1 end
    if adult ~= '' then
      adultOn[na + 1], adultOn[na + 2] = adult, id; na = na + 2
    end
  end
end
each('HSET', KEYS[3], extPairs)
each('HSET', KEYS[2], records)
each('ZADD', KEYS[4], index)
each('ZADD', KEYS[5], noContact)
each('ZADD', KEYS[6], outOfState)
each('ZADD', KEYS[7], adultOn)
if ni > 0 then
  redis.call('HINCRBY', KEYS[8], 'affected', ni / 2)
  redis.call('HINCRBY', KEYS[8], 'indiana_residents', residents)
  redis.call('HINCRBY', KEYS[8], 'insufficient_contact', insufficient)
  redis.call('HINCRBY', KEYS[8], 'minors_flagged', flagged)
  for lang, k in pairs(languages) do
    redis.call('HINCRBY', KEYS[8], 'language:' .. lang, k)
  end
end
if extra > 0 then
  redis.call('HINCRBY', KEYS[9], 'accepted', ni / 2)
  redis.call('HINCRBY', KEYS[9], 'duplicates', nd)
  redis.call('HINCRBY', KEYS[9], 'rows', ARGV[#ARGV - 1])
  redis.call('HINCRBY', KEYS[9], 'rejected', ARGV[#ARGV])
end
return {dups, conflicts}
`)

// listRecipientsScript returns one page of recipient IDs and their records, walking a sorted set
// in lexicographic order after a cursor and keeping the members that are (or are not) members of
// other sets. It returns nil when the breach does not exist, else {ids, records, exhausted, last}:
// exhausted is 1 when the walk reached the end of the set, last the last member it looked at. It
// stops after ARGV[2] matches or ARGV[3] members looked at, whichever comes first, so that a page
// never blocks the server for long.
//
// KEYS: breach record, records, the set walked, then the sets to check.
// ARGV: the exclusive start ("-" or "(<id>"), matches wanted, members to look at at most, and one
// character per set to check: 'i' the member must be in it, 'e' it must not.
var listRecipientsScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local min, want, budget, modes = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local ids, scanned, last, exhausted = {}, 0, '', 0
while #ids < want do
  local chunk = want - #ids
  if #KEYS > 3 and chunk < 128 then chunk = 128 end
  if chunk > budget - scanned then chunk = budget - scanned end
  if chunk <= 0 then break end
  local got = redis.call('ZRANGEBYLEX', KEYS[3], min, '+', 'LIMIT', 0, chunk)
  for _, id in ipairs(got) do
    scanned = scanned + 1
    last = id
    local keep = true
    for k = 4, #KEYS do
      local member = redis.call('ZSCORE', KEYS[k], id) ~= false
      if member ~= (string.sub(modes, k - 3, k - 3) == 'i') then keep = false break end
    end
    if keep then
      ids[#ids+1] = id
      if #ids == want then break end
    end
  end
  if #got < chunk then exhausted = 1 break end
  min = '(' .. last
end
local recs = {}
if #ids > 0 then recs = redis.call('HMGET', KEYS[2], unpack(ids)) end
return {ids, recs, exhausted, last}
`)

// maxRecipientScan bounds how many members one Recipients call looks at in Redis. Only a filter
// that skips more than this many recipients in a row returns a short page with a next cursor.
const maxRecipientScan = 10_000

// parallelEncodeMin is the batch size from which AddRecipients encodes on several goroutines.
const parallelEncodeMin = 256

func recipientNotFound(breachID, id string) error {
	return breach.Errorf(breach.ENOTFOUND, "recipient %s of breach %s not found", id, breachID)
}

// dateScore is d as the integer YYYYMMDD, which orders as the dates do.
func dateScore(d breach.Date) int {
	return d.Year()*10000 + int(d.Month())*100 + d.Day()
}

// AddRecipients implements breach.RecipientStore: in one round trip (one Lua script) it stores
// each recipient of rs whose external_id the breach does not hold yet, with its index entries and
// counters, and returns the indexes in rs of the others. Concurrent calls for the same breach are
// safe: each external_id is stored exactly once. The caller sets each recipient's ID (1 to 64
// letters, digits, '_' or '-', sorting in upload order, e.g. "rc_"+ULID) and ExternalID;
// BreachID is set to breachID. Keep batches to about a thousand: the script holds the server
// while it runs (about 10 ms for 1,000).
//
// It returns ENOTFOUND for an unknown breach, EINVALID for a missing or malformed ID or
// external_id or an ID given twice in rs (nothing is stored then), and an internal error when an
// ID is already used by another stored recipient (the rest of rs is stored, and duplicates is
// still returned).
func (s *Store) AddRecipients(ctx context.Context, breachID string, rs []breach.Recipient) ([]int, error) {
	return s.addRecipients(ctx, breachID, rs, "", breach.UploadStep{})
}

// addRecipients is AddRecipients that, when uploadCounts is a key, adds the batch and step to
// that upload's counts in the same script.
func (s *Store) addRecipients(ctx context.Context, breachID string, rs []breach.Recipient, uploadCounts string, step breach.UploadStep) ([]int, error) {
	if !validID(breachID) {
		return nil, notFound(breachID)
	}
	keys := recipientKeysOf(breachID)
	if err := checkRecipientIDs(rs); err != nil {
		return nil, err
	}
	args, err := s.encodeRecipients(keys.records, breachID, rs)
	if err != nil {
		return nil, err
	}
	scriptKeys := []string{keys.breach, keys.records, keys.external, keys.index, keys.noContact, keys.outOfState, keys.adultOn, keys.counts}
	if uploadCounts != "" {
		scriptKeys = append(scriptKeys, uploadCounts)
		args = append(args, step.Rows, step.Rejected)
	}
	res, err := addRecipientsScript.Run(ctx, s.rdb, scriptKeys, args...).Slice()
	if errors.Is(err, redis.Nil) {
		return nil, notFound(breachID)
	}
	if err != nil {
		return nil, storeErr("add recipients to breach "+breachID, err)
	}
	if len(res) != 2 {
		return nil, fmt.Errorf("add recipients to breach %s: script answered %d values", breachID, len(res))
	}
	dups, err := indexes(res[0])
	if err != nil {
		return nil, fmt.Errorf("add recipients to breach %s: %w", breachID, err)
	}
	conflicts, err := indexes(res[1])
	if err != nil {
		return nil, fmt.Errorf("add recipients to breach %s: %w", breachID, err)
	}
	if len(conflicts) > 0 {
		return dups, fmt.Errorf("add recipients to breach %s: %d recipient IDs are already used by other "+
			"recipients (the first is %s, row %d); those rows were not stored",
			breachID, len(conflicts), rs[conflicts[0]].ID, rs[conflicts[0]].Row)
	}
	return dups, nil
}

func indexes(v any) ([]int, error) {
	vs, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("script answered %T, want an array", v)
	}
	out := make([]int, len(vs))
	for i, x := range vs {
		n, ok := x.(int64)
		if !ok {
			return nil, fmt.Errorf("script answered %T in an array of indexes", x)
		}
		out[i] = int(n)
	}
	return out, nil
}

// checkRecipientIDs refuses a batch that the script could not store consistently.
func checkRecipientIDs(rs []breach.Recipient) error {
	var fe []breach.FieldError
	seen := make(map[string]struct{}, len(rs))
	for i := range rs {
		r := &rs[i]
		field := func(name string) string { return fmt.Sprintf("recipients[%d].%s", i, name) }
		switch {
		case !validID(r.ID):
			fe = append(fe, breach.FieldError{Field: field("id"),
				Reason: fmt.Sprintf("must be 1 to %d letters, digits, '_' or '-'", maxIDLen)})
		default:
			if _, dup := seen[r.ID]; dup {
				fe = append(fe, breach.FieldError{Field: field("id"), Reason: "is given twice in the batch"})
			}
			seen[r.ID] = struct{}{}
		}
		if r.ExternalID == "" || len(r.ExternalID) > breach.MaxExternalIDLen {
			fe = append(fe, breach.FieldError{Field: field("external_id"),
				Reason: fmt.Sprintf("must be 1 to %d characters", breach.MaxExternalIDLen)})
		}
	}
	return breach.InvalidFields(fe)
}

// encodeRecipients returns the script's ARGV for rs: six values per recipient. Encoding (JSON
// and sealing) is most of the Go side's work, so large batches are split over the CPUs.
func (s *Store) encodeRecipients(recordsKey, breachID string, rs []breach.Recipient) ([]any, error) {
	args := make([]any, 6*len(rs))
	workers := runtime.GOMAXPROCS(0)
	if len(rs) < parallelEncodeMin || workers < 2 {
		return args, s.encodeRecipientRange(args, recordsKey, breachID, rs, 0)
	}
	per := (len(rs) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*per, min((w+1)*per, len(rs))
		if lo >= hi {
			break
		}
		wg.Go(func() { errs[w] = s.encodeRecipientRange(args, recordsKey, breachID, rs[lo:hi], lo) })
	}
	wg.Wait()
	return args, errors.Join(errs...)
}

func (s *Store) encodeRecipientRange(args []any, recordsKey, breachID string, rs []breach.Recipient, first int) error {
	for i := range rs {
		r := rs[i] // a copy: the caller's slice is not changed
		r.BreachID = breachID
		plain, err := json.Marshal(&r)
		if err != nil {
			return fmt.Errorf("encode recipient %s: %w", r.ID, err)
		}
		flags := []byte("000")
		if r.IndianaResident() {
			flags[0] = '1'
		}
		if !r.HasContact() {
			flags[1] = '1'
		}
		if r.MinorFlag != nil && *r.MinorFlag {
			flags[2] = '1'
		}
		adultOn := ""
		if r.MinorFlag == nil && !r.DateOfBirth.IsZero() {
			adultOn = strconv.Itoa(dateScore(r.DateOfBirth.AddYears(18)))
		}
		a := args[6*(first+i):]
		a[0], a[1], a[2], a[3], a[4] = r.ID, r.ExternalID, s.seal(fieldAD(recordsKey, r.ID), plain), string(flags), adultOn
		a[5] = cmp.Or(breach.PrimaryLanguage(r.Language), "en") // as the upload defaults it
	}
	return nil
}

func (s *Store) decodeRecipient(recordsKey, id string, data []byte) (*breach.Recipient, error) {
	return openField[breach.Recipient](s, recordsKey, id, data, "recipient")
}

// openField opens a sealed record kept as a hash field (see fieldAD) and decodes its JSON.
func openField[T any](s *Store, recordsKey, id string, data []byte, what string) (*T, error) {
	plain, err := s.open(fieldAD(recordsKey, id), data)
	if err != nil {
		return nil, err
	}
	var v T
	if err := json.Unmarshal(plain, &v); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", what, id, err)
	}
	return &v, nil
}

// Recipient returns one recipient of the breach; ENOTFOUND for an unknown breach or recipient.
func (s *Store) Recipient(ctx context.Context, breachID, id string) (*breach.Recipient, error) {
	if !validID(breachID) {
		return nil, notFound(breachID)
	}
	if !validID(id) {
		return nil, recipientNotFound(breachID, id)
	}
	keys := recipientKeysOf(breachID)
	pipe := s.rdb.Pipeline()
	exists := pipe.Exists(ctx, keys.breach)
	get := pipe.HGet(ctx, keys.records, id)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, storeErr("load recipient "+id, err)
	}
	if exists.Val() == 0 {
		return nil, notFound(breachID)
	}
	data, err := get.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, recipientNotFound(breachID, id)
	}
	if err != nil {
		return nil, storeErr("load recipient "+id, err)
	}
	return s.decodeRecipient(keys.records, id, data)
}

// Recipients lists the breach's recipients in upload order (by ID), optionally only those who are
// (or are not) Indiana residents, who have (or lack) contact details, and whose name or ID holds
// every word of f.Query (searchRecipients). f.Limit of 0 means
// DefaultLimit; it is cut to MaxLimit. The cursor is the second result of the previous call ("" when
// there are no more); a malformed cursor is EINVALID on field "cursor". A filter that skips very
// many recipients in a row may return a page shorter than the limit, even empty, with a cursor to
// go on from: follow cursors until "" rather than stopping at a short page.
func (s *Store) Recipients(ctx context.Context, breachID string, f breach.RecipientFilter) ([]breach.Recipient, string, error) {
	if !validID(breachID) {
		return nil, "", notFound(breachID)
	}
	limit := clampLimit(f.Limit)
	start, err := afterCursor(f.Cursor, "-")
	if err != nil {
		return nil, "", err
	}
	keys := recipientKeysOf(breachID)
	// Walk the smallest set that bounds the answer; check membership of the others.
	source := keys.index
	var checks []string
	modes := ""
	check := func(key string, member bool) {
		checks = append(checks, key)
		if member {
			modes += "i"
		} else {
			modes += "e"
		}
	}
	if hc := f.HasContact; hc != nil && !*hc {
		source = keys.noContact
	}
	if res := f.IndianaResident; res != nil && !*res {
		if source == keys.index {
			source = keys.outOfState
		} else {
			check(keys.outOfState, true)
		}
	}
	if hc := f.HasContact; hc != nil && *hc {
		check(keys.noContact, false)
	}
	if res := f.IndianaResident; res != nil && *res {
		check(keys.outOfState, false)
	}
	rkeys := append([]string{keys.breach, keys.records, source}, checks...)
	if words := searchWords(f.Query); len(words) > 0 {
		return s.searchRecipients(ctx, breachID, keys.records, rkeys, modes, start, limit, words)
	}
	out, exhausted, last, err := s.listPage(ctx, breachID, keys.records, rkeys, start, limit+1, modes, "list")
	if err != nil {
		return nil, "", err
	}
	switch {
	case len(out) > limit:
		return out[:limit], out[limit-1].ID, nil
	case !exhausted:
		return out, last, nil // the scan budget ran out: go on after the last member looked at
	}
	return out, "", nil
}

// listPage runs the listing script (rkeys and modes as Recipients builds them) for up to n
// people after start and decodes them; exhausted: the listing has no more; last: the last member
// looked at. what ("list", "search") names the call in errors.
func (s *Store) listPage(ctx context.Context, breachID, recordsKey string, rkeys []string, start string, n int,
	modes, what string) (out []breach.Recipient, exhausted bool, last string, err error) {
	res, err := listRecipientsScript.Run(ctx, s.rdb, rkeys, start, n, maxRecipientScan, modes).Slice()
	if errors.Is(err, redis.Nil) {
		return nil, false, "", notFound(breachID)
	}
	if err != nil {
		return nil, false, "", storeErr(what+" recipients of breach "+breachID, err)
	}
	ids, recs, exhausted, last, err := listReply(res)
	if err != nil {
		return nil, false, "", fmt.Errorf("%s recipients of breach %s: %w", what, breachID, err)
	}
	out = make([]breach.Recipient, 0, len(ids))
	for i, id := range ids {
		if recs[i] == nil {
			return nil, false, "", fmt.Errorf("%s recipients of breach %s: recipient %s is indexed but has no record", what, breachID, id)
		}
		r, err := s.decodeRecipient(recordsKey, id, recs[i])
		if err != nil {
			return nil, false, "", err
		}
		out = append(out, *r)
	}
	return out, exhausted, last, nil
}

// searchChunk is how many recipients a search reads from Redis at a time, and maxSearchScan how
// many one search call decrypts and compares at most before it answers a short page with a cursor
// (the records are sealed: only Go can read the names).
const (
	searchChunk   = 500
	maxSearchScan = 20_000
)

// searchRecipients is Recipients with a query: it walks the same filtered listing a chunk at a
// time and keeps the people whose name or ID holds every word.
func (s *Store) searchRecipients(ctx context.Context, breachID, recordsKey string, rkeys []string, modes, start string,
	limit int, words []string) ([]breach.Recipient, string, error) {
	out := make([]breach.Recipient, 0, limit+1)
	scanned := 0
	for {
		page, exhausted, last, err := s.listPage(ctx, breachID, recordsKey, rkeys, start, searchChunk, modes, "search")
		if err != nil {
			return nil, "", err
		}
		for i := range page {
			if !recipientMatches(&page[i], words) {
				continue
			}
			if out = append(out, page[i]); len(out) > limit {
				return out[:limit], out[limit-1].ID, nil
			}
		}
		scanned += len(page)
		switch {
		case exhausted || last == "":
			return out, "", nil
		case scanned >= maxSearchScan:
			return out, last, nil // the budget ran out: go on after the last one looked at
		}
		start = "(" + last
	}
}

// searchWords are the words of a query, folded (see fold).
func searchWords(q string) []string {
	return strings.Fields(fold(q))
}

// recipientMatches reports whether every word is in the person's name or IDs.
func recipientMatches(r *breach.Recipient, words []string) bool {
	hay := fold(strings.Join([]string{r.FirstName, r.LastName, r.ExternalID, r.ID}, " "))
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// fold lowers s and takes the accents off its letters, so that "nguyen" finds "Nguyễn" and
// "zolc" finds "Żółć".
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			r = 'd'
		case r == 'ł' || r == 'Ł':
			r = 'l'
		case r == 'ø' || r == 'Ø':
			r = 'o'
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func listReply(res []any) (ids []string, recs [][]byte, exhausted bool, last string, err error) {
	if len(res) != 4 {
		return nil, nil, false, "", fmt.Errorf("script answered %d values", len(res))
	}
	rawIDs, ok1 := res[0].([]any)
	rawRecs, ok2 := res[1].([]any)
	ex, ok3 := res[2].(int64)
	last, ok4 := res[3].(string)
	if !ok1 || !ok2 || !ok3 || !ok4 || len(rawIDs) != len(rawRecs) {
		return nil, nil, false, "", errors.New("script answered an unexpected shape")
	}
	ids = make([]string, len(rawIDs))
	recs = make([][]byte, len(rawRecs))
	for i := range rawIDs {
		id, ok := rawIDs[i].(string)
		if !ok {
			return nil, nil, false, "", errors.New("script answered a non-string ID")
		}
		ids[i] = id
		if v, ok := rawRecs[i].(string); ok {
			recs[i] = []byte(v)
		}
	}
	return ids, recs, ex == 1, last, nil
}

// RecipientCounts implements breach.RecipientStore: the counters kept with the records (zero when
// the breach has no recipients yet). Minors are counted as of the breach's current discovery
// date: those the upload flagged, plus those born less than 18 years before it. Two round trips
// (the second is one ZCOUNT); ENOTFOUND for an unknown breach.
func (s *Store) RecipientCounts(ctx context.Context, breachID string) (breach.RecipientCounts, error) {
	var c breach.RecipientCounts
	if !validID(breachID) {
		return c, notFound(breachID)
	}
	keys := recipientKeysOf(breachID)
	pipe := s.rdb.Pipeline()
	get := pipe.Get(ctx, keys.breach)
	all := pipe.HGetAll(ctx, keys.counts)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return c, storeErr("load recipient counts of breach "+breachID, err)
	}
	data, err := get.Bytes()
	if errors.Is(err, redis.Nil) {
		return c, notFound(breachID)
	}
	if err != nil {
		return c, storeErr("load breach "+breachID, err)
	}
	rec, err := s.decodeRecord(breachID, data)
	if err != nil {
		return c, err
	}
	m := all.Val()
	c.Languages = map[string]int{}
	for field, v := range m {
		lang, ok := strings.CutPrefix(field, recipientCountLanguagePrefix)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return c, fmt.Errorf("recipient counts of breach %s: %s = %q: %w", breachID, field, v, err)
		}
		c.Languages[lang] = n
	}
	var flagged int
	for field, dst := range map[string]*int{recipientCountAffected: &c.Affected,
		recipientCountResidents: &c.IndianaResidents, recipientCountInsufficient: &c.InsufficientContact,
		recipientCountMinorsFlagged: &flagged} {
		v, ok := m[field]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return c, fmt.Errorf("recipient counts of breach %s: %s = %q: %w", breachID, field, v, err)
		}
		*dst = n
	}
	// As Recipient.Minor(on): a minor on date d turns 18 after d, a score above d's.
	on := rec.Breach.Determination.DiscoveredOn
	byDate, err := s.rdb.ZCount(ctx, keys.adultOn, "("+strconv.Itoa(dateScore(on)), "+inf").Result()
	if err != nil {
		return c, storeErr("count minors of breach "+breachID, err)
	}
	c.Minors = flagged + int(byDate)
	return c, nil
}
