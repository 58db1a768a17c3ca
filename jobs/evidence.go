package jobs

// What the evidence bundle (api/evidence.go) reads in batches, so that writing the proofs of a
// million notices reads Redis a page at a time in a few pipelined round trips per page and holds
// one page in memory; the documents sent to agencies, kept as sent; and the bundle's signed
// checkpoint.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
)

// keyDocumentsFmt is a HASH: hex SHA-256 → the bytes of a document sent for the breach (an agency
// notice), as sent. Persisted contract, like keys.go.
const keyDocumentsFmt = "breachd:breach:{%s}:documents"

func documentsKey(id string) string { return fmt.Sprintf(keyDocumentsFmt, id) }

// rangeGap is how far apart two chain positions may be and still be read with one LRANGE (a
// page of notices names events that sit close together in the chain; LINDEX walks the list).
const rangeGap = 64

// eventsPerTrip is how many events one pipelined round trip reads.
const eventsPerTrip = 32

// NoticesEvents is NoticeEvents for many notices of one breach at once: for each notice ID, its
// chained events oldest first (notices without any are absent). It reads the notice index, the
// chain positions and the events in three pipelined round trips and does not chain first (the
// caller does, once). An event deleted from the stream after it was chained is left out, as
// NoticeEvents leaves it out.
//
// The notice_ids list of an event's data is left out (a notice.queued event lists a thousand
// notices, and a page of notices in ID order names hundreds of such events). Such shared events
// are put in shared, by chain position, and read from it on later calls instead of from Redis:
// the caller keeps shared across the pages of one breach and bounds its size.
func (s *Store) NoticesEvents(ctx context.Context, breachID string, noticeIDs []string, shared map[int]breach.ChainedEvent) (map[string][]breach.ChainedEvent, error) {
	out := map[string][]breach.ChainedEvent{}
	if len(noticeIDs) == 0 {
		return out, nil
	}
	if !validID(breachID) {
		return nil, notFound(breachID)
	}
	idx, err := s.rdb.HMGet(ctx, chainNoticesKey(breachID), noticeIDs...).Result()
	if err != nil {
		return nil, storeErr("load events of the notices of breach "+breachID, err)
	}
	posOf := make([][]int, len(noticeIDs))
	var all []int
	for i, v := range idx {
		str, _ := v.(string)
		for _, f := range strings.Fields(str) {
			if p, err := strconv.Atoi(f); err == nil && p >= 1 {
				posOf[i] = append(posOf[i], p)
				if _, ok := shared[p]; !ok {
					all = append(all, p)
				}
			}
		}
	}
	events := make(map[int]breach.ChainedEvent, len(all))
	if err := s.eventsAt(ctx, breachID, all, events); err != nil {
		return nil, err
	}
	for p, ev := range events {
		if ev.Event.Data["notice_ids"] != nil {
			delete(ev.Event.Data, "notice_ids")
			if shared != nil {
				shared[p] = ev
			}
		}
	}
	for i, nid := range noticeIDs {
		for _, p := range posOf[i] {
			if ev, ok := events[p]; ok {
				out[nid] = append(out[nid], ev)
			} else if ev, ok := shared[p]; ok {
				out[nid] = append(out[nid], ev)
			}
		}
	}
	return out, nil
}

// eventsAt reads the chained events at the positions into events.
func (s *Store) eventsAt(ctx context.Context, breachID string, all []int, events map[int]breach.ChainedEvent) error {
	if len(all) == 0 {
		return nil
	}
	slices.Sort(all)
	all = slices.Compact(all)
	// Chain entries: runs of close positions in one LRANGE each.
	type run struct {
		from, to int
		cmd      *redis.StringSliceCmd
	}
	var runs []*run
	for _, p := range all {
		if n := len(runs); n > 0 && p-runs[n-1].to <= rangeGap {
			runs[n-1].to = p
			continue
		}
		runs = append(runs, &run{from: p, to: p})
	}
	ckey := chainKey(breachID)
	pipe := s.rdb.Pipeline()
	for _, r := range runs {
		r.cmd = pipe.LRange(ctx, ckey, int64(r.from-1), int64(r.to-1))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return storeErr("load chain of breach "+breachID, err)
	}
	entries := make(map[int]chainEntry, len(all))
	for _, r := range runs {
		for i, raw := range r.cmd.Val() {
			p := r.from + i
			if _, wanted := slices.BinarySearch(all, p); !wanted {
				continue
			}
			ce, err := parseChainEntry(raw)
			if err != nil {
				continue // as NoticeEvents: verification reports a malformed chain
			}
			entries[p] = ce
		}
	}
	// The events, a few per round trip: one naming a thousand notices is 40 KB, and a page of
	// notices may name two hundred of them the first time.
	ekey := eventsKey(breachID)
	ps := slices.Sorted(maps.Keys(entries))
	po := s.privateOpener(ctx)
	for len(ps) > 0 {
		chunk := ps[:min(len(ps), eventsPerTrip)]
		ps = ps[len(chunk):]
		pipe = s.rdb.Pipeline()
		cmds := make([]*redis.XMessageSliceCmd, len(chunk))
		for i, p := range chunk {
			cmds[i] = pipe.XRange(ctx, ekey, entries[p].id, entries[p].id)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return storeErr("load events of breach "+breachID, err)
		}
		for i, c := range cmds {
			msgs := c.Val()
			if len(msgs) != 1 {
				continue // deleted after chaining
			}
			ev, err := s.decodeEvent(msgs[0], po, breachID)
			if err != nil {
				return err
			}
			ce := entries[chunk[i]]
			events[chunk[i]] = breach.ChainedEvent{Event: ev, Position: chunk[i], Hash: hex.EncodeToString(ce.hash[:])}
		}
	}
	return nil
}

// RecipientsByID returns the breach's recipients with the given IDs in one round trip; an ID the
// breach does not hold is absent from the map.
func (s *Store) RecipientsByID(ctx context.Context, breachID string, ids []string) (map[string]*breach.Recipient, error) {
	out := make(map[string]*breach.Recipient, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	if !validID(breachID) {
		return nil, notFound(breachID)
	}
	keys := recipientKeysOf(breachID)
	vals, err := s.rdb.HMGet(ctx, keys.records, ids...).Result()
	if err != nil {
		return nil, storeErr("load recipients of breach "+breachID, err)
	}
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		r, err := s.decodeRecipient(keys.records, ids[i], []byte(str))
		if err != nil {
			return nil, err
		}
		out[ids[i]] = r
	}
	return out, nil
}

// KeepDocument stores a document sent for the breach (an agency notice) as it was sent and
// returns its hex SHA-256, under which KeptDocument finds it. Keeping the same bytes twice is one copy.
func (s *Store) KeepDocument(ctx context.Context, breachID string, doc []byte) (string, error) {
	if !validID(breachID) {
		return "", notFound(breachID)
	}
	sum := sha256.Sum256(doc)
	hx := hex.EncodeToString(sum[:])
	if err := s.rdb.HSet(ctx, documentsKey(breachID), hx, doc).Err(); err != nil {
		return "", storeErr("keep a document of breach "+breachID, err)
	}
	return hx, nil
}

// KeptDocument returns the document KeepDocument stored under sha256 (hex), checked against it;
// ENOTFOUND when none was kept (a notice recorded before breachd kept documents).
func (s *Store) KeptDocument(ctx context.Context, breachID, sha string) ([]byte, error) {
	if !validID(breachID) {
		return nil, notFound(breachID)
	}
	b, err := s.rdb.HGet(ctx, documentsKey(breachID), sha).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, breach.Errorf(breach.ENOTFOUND, "no document %s is kept for breach %s", sha, breachID)
	}
	if err != nil {
		return nil, storeErr("load a document of breach "+breachID, err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != sha {
		return nil, breach.Errorf(breach.EINTERNAL, "the document kept as %s for breach %s does not match its SHA-256", sha, breachID)
	}
	return b, nil
}

// SignEvidence signs and stores the checkpoint of an evidence bundle: the chain head head signed
// (the checkpoint of the bundle's events.ndjson) with the SHA-256 of the bundle's MANIFEST.
// EUNAVAILABLE without a signing key.
func (s *Store) SignEvidence(ctx context.Context, head breach.SignedCheckpoint, manifestSHA256 string) (breach.SignedCheckpoint, error) {
	if s.signer == nil {
		return breach.SignedCheckpoint{}, breach.Errorf(breach.EUNAVAILABLE, "no signing key is configured (BREACHD_SIGNING_KEY)")
	}
	cp := head.Checkpoint
	cp.At, cp.Reason, cp.ManifestSHA256 = s.now().UTC(), breach.CheckpointEvidence, manifestSHA256
	signed := breach.SignCheckpoint(cp, s.signer)
	b, err := json.Marshal(signed)
	if err != nil {
		return breach.SignedCheckpoint{}, fmt.Errorf("encode checkpoint: %w", err)
	}
	if err := s.rdb.RPush(ctx, checkpointsKey(cp.BreachID), b).Err(); err != nil {
		return breach.SignedCheckpoint{}, storeErr("checkpoint breach "+cp.BreachID, err)
	}
	return signed, nil
}
