package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
)

// Print batches: clerks pull the queued letters into batches, print them, and mark each batch
// mailed. A batch record holds notice IDs only (no personal data); its PDF is rendered again on
// every download, byte-identical, from the notices and the batch's creation time.
const (
	// keyPrintBatchesFmt is a HASH: batch ID → JSON of breach.PrintBatch.
	keyPrintBatchesFmt = "breachd:breach:{%s}:print-batches"
	// keyPrintBatchSeqFmt numbers a breach's batches 1, 2, …
	keyPrintBatchSeqFmt = "breachd:breach:{%s}:print-batches:seq"
	// keyPrintBatchLockFmt is held while a batch is made, so two clerks never take the same letters.
	keyPrintBatchLockFmt = "breachd:breach:{%s}:print-batches:lock"
)

// printLockTTL frees the lock should the process die while making a batch.
const printLockTTL = 5 * time.Minute

// DefaultBatchSize is how many letters a print batch takes by default and at most.
const DefaultBatchSize = breach.MaxPrintBatch

// PrintRoom makes, lists and mails the print batches of breaches.
type PrintRoom struct {
	store   *Store
	printer breach.LetterPrinter
	now     func() time.Time
	newID   func() string
}

// NewPrintRoom returns a PrintRoom; now and newID default to time.Now and "pb_"+ULID.
func NewPrintRoom(s *Store, p breach.LetterPrinter, now func() time.Time, newID func() string) *PrintRoom {
	if now == nil {
		now = time.Now
	}
	if newID == nil {
		newID = func() string { return "pb_" + ulid.Make().String() }
	}
	return &PrintRoom{store: s, printer: p, now: now, newID: newID}
}

// Create takes up to max queued letters of the breach into a new batch, prints it (to compute
// each letter's hash), and moves each printed letter to sent with its batch and hash. A letter the
// printer refuses (e.g. a name no font can draw) is marked failed with the reason, never dropped.
// It returns ECONFLICT while a hold is open and when no letter is queued.
func (p *PrintRoom) Create(ctx context.Context, b *breach.Breach, max int, actor breach.Actor) (*breach.PrintBatch, breach.PrintResult, error) {
	if _, held := b.OpenHold(); held {
		return nil, breach.PrintResult{}, breach.Errorf(breach.ECONFLICT, "a law-enforcement hold is open: nothing may be printed for mailing until it is released")
	}
	if max <= 0 || max > DefaultBatchSize {
		max = DefaultBatchSize
	}
	lock := fmt.Sprintf(keyPrintBatchLockFmt, b.ID)
	token := p.newID()
	ok, err := p.store.rdb.SetNX(ctx, lock, token, printLockTTL).Result()
	if err != nil {
		return nil, breach.PrintResult{}, storeErr("lock print batches of "+b.ID, err)
	}
	if !ok {
		return nil, breach.PrintResult{}, breach.Errorf(breach.ECONFLICT, "another print batch of breach %s is being made; try again in a moment", b.ID)
	}
	defer releaseLock.Run(context.WithoutCancel(ctx), p.store.rdb, []string{lock}, token)
	var queued []breach.Notice
	cursor := ""
	for len(queued) < max {
		page, next, err := p.store.Notices(ctx, b.ID, breach.NoticeFilter{Status: breach.NoticeQueued, Channel: breach.MethodLetter,
			Cursor: cursor, Limit: min(MaxLimit, max-len(queued))})
		if err != nil {
			return nil, breach.PrintResult{}, err
		}
		queued = append(queued, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(queued) == 0 {
		return nil, breach.PrintResult{}, breach.Errorf(breach.ECONFLICT, "no letter of breach %s is waiting to be printed", b.ID)
	}
	seq, err := p.store.rdb.Incr(ctx, fmt.Sprintf(keyPrintBatchSeqFmt, b.ID)).Result()
	if err != nil {
		return nil, breach.PrintResult{}, storeErr("number a print batch", err)
	}
	batch := breach.PrintBatch{ID: p.newID(), BreachID: b.ID, Number: int(seq), CreatedAt: p.now().UTC().Truncate(time.Second), CreatedBy: actor.ID}
	for _, n := range queued {
		batch.NoticeIDs = append(batch.NoticeIDs, n.ID)
	}
	res, err := p.printer.PrintBatch(ctx, io.Discard, io.Discard, b, batch, queued)
	if err != nil {
		return nil, breach.PrintResult{}, fmt.Errorf("print batch %d of breach %s: %w", seq, b.ID, err)
	}
	// The batch keeps only what printed; a refused letter leaves it.
	batch.NoticeIDs = slices.DeleteFunc(batch.NoticeIDs, func(id string) bool { _, bad := res.Rejected[id]; return bad })
	batch.Pages, batch.SHA256 = res.Pages, res.SHA256
	if err := p.save(ctx, &batch); err != nil {
		return nil, breach.PrintResult{}, err
	}
	for _, n := range queued {
		id := n.ID
		_, err := p.store.UpdateNotice(ctx, id, func(n *breach.Notice) ([]breach.Event, error) {
			if n.Status != breach.NoticeQueued {
				return nil, nil // taken by a concurrent batch: leave it
			}
			if reason, bad := res.Rejected[id]; bad {
				n.Status, n.LastError = breach.NoticeFailed, "cannot be printed: "+reason
				return []breach.Event{{Type: breach.EventNoticeFailed, Actor: actor.ID, Role: actor.Role,
					Summary: "letter cannot be printed; fix the recipient's data", Data: map[string]any{"notice_id": id, "permanent": true}}}, nil
			}
			n.Status, n.BatchID, n.LetterSHA256 = breach.NoticeSent, batch.ID, res.Letters[id]
			n.SentAt = batch.CreatedAt
			return []breach.Event{{Type: breach.EventNoticeSent, Actor: actor.ID, Role: actor.Role,
				Summary: fmt.Sprintf("printed in batch %d", batch.Number), Data: map[string]any{"notice_id": id, "channel": "letter", "batch_id": batch.ID}}}, nil
		})
		if err != nil {
			return nil, breach.PrintResult{}, err
		}
	}
	_, err = p.store.UpdateBreach(ctx, b.ID, func(br *breach.Breach) (breach.Event, error) {
		br.UpdatedAt = p.now().UTC()
		return breach.Event{Type: breach.EventPrintBatch, Actor: actor.ID, Role: actor.Role,
			Summary: fmt.Sprintf("print batch %d: %d letters, %d pages; %d refused", batch.Number, len(batch.NoticeIDs), batch.Pages, len(res.Rejected)),
			Data:    map[string]any{"batch_id": batch.ID, "letters": len(batch.NoticeIDs), "pages": batch.Pages, "refused": len(res.Rejected)}}, nil
	})
	return &batch, res, err
}

func (p *PrintRoom) save(ctx context.Context, batch *breach.PrintBatch) error {
	raw, err := json.Marshal(batch)
	if err != nil {
		return fmt.Errorf("encode print batch: %w", err)
	}
	if err := p.store.rdb.HSet(ctx, fmt.Sprintf(keyPrintBatchesFmt, batch.BreachID), batch.ID, raw).Err(); err != nil {
		return storeErr("save print batch "+batch.ID, err)
	}
	return nil
}

// Batch returns one print batch (ENOTFOUND when the breach has no such batch).
func (p *PrintRoom) Batch(ctx context.Context, breachID, id string) (*breach.PrintBatch, error) {
	raw, err := p.store.rdb.HGet(ctx, fmt.Sprintf(keyPrintBatchesFmt, breachID), id).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, breach.Errorf(breach.ENOTFOUND, "print batch %s not found on breach %s", id, breachID)
	}
	if err != nil {
		return nil, storeErr("load print batch "+id, err)
	}
	var b breach.PrintBatch
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("decode print batch %s: %w", id, err)
	}
	return &b, nil
}

// Batches lists a breach's print batches by number.
func (p *PrintRoom) Batches(ctx context.Context, breachID string) ([]breach.PrintBatch, error) {
	all, err := p.store.rdb.HGetAll(ctx, fmt.Sprintf(keyPrintBatchesFmt, breachID)).Result()
	if err != nil {
		return nil, storeErr("list print batches of "+breachID, err)
	}
	out := make([]breach.PrintBatch, 0, len(all))
	for id, raw := range all {
		var b breach.PrintBatch
		if err := json.Unmarshal([]byte(raw), &b); err != nil {
			return nil, fmt.Errorf("decode print batch %s: %w", id, err)
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b breach.PrintBatch) int { return a.Number - b.Number })
	return out, nil
}

// Write renders the batch again to w (the PDF) and manifest (the CSV); the bytes are the same as
// when it was made.
func (p *PrintRoom) Write(ctx context.Context, w, manifest io.Writer, b *breach.Breach, batch *breach.PrintBatch) error {
	notices := make([]breach.Notice, 0, len(batch.NoticeIDs))
	for _, id := range batch.NoticeIDs {
		n, err := p.store.Notice(ctx, id)
		if err != nil {
			return err
		}
		notices = append(notices, *n)
	}
	res, err := p.printer.PrintBatch(ctx, w, manifest, b, *batch, notices)
	if err != nil {
		return err
	}
	if res.SHA256 != batch.SHA256 && w != io.Discard {
		return fmt.Errorf("print batch %s rendered differently from when it was made (%s, not %s)", batch.ID, res.SHA256, batch.SHA256)
	}
	return nil
}

// MarkMailed records that the batch went to the post on the given day: every letter in it moves
// to mailed, with an event each. Marking a batch mailed twice is refused (ECONFLICT).
func (p *PrintRoom) MarkMailed(ctx context.Context, b *breach.Breach, id string, on breach.Date, actor breach.Actor) (*breach.PrintBatch, error) {
	if _, held := b.OpenHold(); held {
		return nil, breach.Errorf(breach.ECONFLICT, "a law-enforcement hold is open: do not mail until it is released")
	}
	batch, err := p.Batch(ctx, b.ID, id)
	if err != nil {
		return nil, err
	}
	if !batch.MailedOn.IsZero() {
		return nil, breach.Errorf(breach.ECONFLICT, "print batch %d was already marked mailed on %s", batch.Number, batch.MailedOn)
	}
	if on.Before(breach.DateOf(batch.CreatedAt, b.Determination.Location())) {
		return nil, breach.InvalidFields([]breach.FieldError{{Field: "mailed_on", Reason: "is before the batch was printed"}})
	}
	for _, nid := range batch.NoticeIDs {
		_, err := p.store.UpdateNotice(ctx, nid, func(n *breach.Notice) ([]breach.Event, error) {
			if n.Status != breach.NoticeSent || n.BatchID != batch.ID {
				return nil, nil
			}
			n.Status, n.MailedOn = breach.NoticeMailed, on
			return []breach.Event{{Type: breach.EventNoticeMailed, Actor: actor.ID, Role: actor.Role,
				Summary: "mailed on " + on.String(), Data: map[string]any{"notice_id": nid, "batch_id": batch.ID, "mailed_on": on.String()}}}, nil
		})
		if err != nil {
			return nil, err
		}
	}
	batch.MailedOn, batch.MailedBy = on, actor.ID
	if err := p.save(ctx, batch); err != nil {
		return nil, err
	}
	_, err = p.store.UpdateBreach(ctx, b.ID, func(br *breach.Breach) (breach.Event, error) {
		br.UpdatedAt = p.now().UTC()
		return breach.Event{Type: breach.EventPrintBatchMailed, Actor: actor.ID, Role: actor.Role,
			Summary: fmt.Sprintf("print batch %d marked mailed on %s", batch.Number, on),
			Data:    map[string]any{"batch_id": batch.ID, "mailed_on": on.String(), "letters": len(batch.NoticeIDs)}}, nil
	})
	return batch, err
}

// releaseLock deletes a lock only if it is still the caller's.
var releaseLock = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)
