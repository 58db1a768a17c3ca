package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
)

// Sending email, message by message
//
// A batch task sends up to EmailBatchSize notices over one SMTP connection. What a crash may
// leave behind is bounded by recording each message's fate before the next one starts: right
// before a message's transaction the worker claims it in the breach's in-flight hash, and right
// after the server's answer (with the claim of the next message, in the same round trip) it
// records the outcome — a sent notice is marked sent and its claim dropped. So whenever the worker
// (or Redis, within what its AOF keeps) stops, at most one notice per open connection can have
// been accepted by the server without being marked sent: the one whose claim is still there. When
// the batch runs again, such a notice is sent again — with the same Message-ID, so the receiving
// side can recognise it — and gets a notice.possibly_duplicated event first. Nothing else of the
// batch is sent twice.
//
// A batch also holds a sender key (a random token with a short expiry, refreshed while it runs)
// so that a task handed to another worker after its first worker went silent (recoverOrphans)
// cannot run in two places at once: every claim checks the token, and a worker that lost it stops
// before its next message.

// Redis key shapes of sending (persisted contracts, as in keys.go).
const (
	// keyNoticesInFlightFmt is a HASH: notice ID → when it was claimed (unix ms), for each email
	// notice whose SMTP transaction has begun and whose outcome is not recorded yet.
	keyNoticesInFlightFmt = "breachd:breach:{%s}:notices:in-flight"
	// keyEmailSenderFmt is a STRING per batch task (by its task ID): the token of the worker
	// sending that batch, expiring senderTTL after the worker last showed it was alive.
	keyEmailSenderFmt = "breachd:breach:{%s}:notices:sender:%s"
	// keyChannelHealthFmt is a HASH per channel (fields degraded, since, reason, at) saying that
	// the channel's server refused or could not be reached at the last attempt; deleted when a
	// message goes through again.
	keyChannelHealthFmt = "breachd:channel:%s:health"
)

const (
	// senderTTL is how long a batch's sender key outlives the last sign of its worker: a worker
	// killed mid-batch hands the batch on after this (plus recoverInterval).
	senderTTL = 8 * time.Second
	// senderRefresh is how often a running batch renews its sender key between messages.
	senderRefresh = 2 * time.Second
)

// errBatchBusy: another worker holds the batch's sender key (it is sending it now). The task is
// tried again after senderTTL, not counted as a failure.
var errBatchBusy = errors.New("the batch is being sent by another worker")

// errBatchTaken: this worker lost the batch's sender key while sending (it stalled for longer
// than senderTTL and another took the batch over); it stops before its next message.
var errBatchTaken = errors.New("the batch was handed to another worker")

// stepScript renews the sender key of a batch if this worker still holds it, drops the claims
// of the notices whose outcome was just recorded and claims the next notice. It returns 1, or 0
// (and changes nothing) when the token is no longer this worker's.
//
// KEYS: sender key, in-flight hash. ARGV: token, TTL (ms), ID to claim ("" for none), claim value,
// then the IDs whose claims to drop.
var stepScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if #ARGV >= 5 then redis.call('HDEL', KEYS[2], unpack(ARGV, 5)) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], ARGV[3], ARGV[4]) end
return 1
`)

// releaseScript deletes (ARGV[2] = "del") or renews (ARGV[2] = TTL in ms) the sender key if it is
// still this worker's token (ARGV[1]).
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == 'del' then return redis.call('DEL', KEYS[1]) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`)

// eachMailer is a Mailer that can report on each message (email.SMTP, email.Outbox): see email.SMTP.SendEach.
type eachMailer interface {
	SendEach(ctx context.Context, msgs []breach.EmailMessage, before func(i int) error,
		after func(i int, r breach.EmailReceipt, err error)) ([]error, error)
}

// batchSender holds the sender key of one batch while it runs.
type batchSender struct {
	rdb   redis.UniversalClient
	key   string
	token string
	stop  func()
}

// acquireSender takes the sender key of the batch task, or errBatchBusy when another worker
// holds it, and renews it every senderRefresh until release.
func (w *Worker) acquireSender(ctx context.Context, breachID, taskID string) (*batchSender, error) {
	var tok [12]byte
	_, _ = rand.Read(tok[:])
	s := &batchSender{rdb: w.store.rdb, key: fmt.Sprintf(keyEmailSenderFmt, breachID, taskID), token: hex.EncodeToString(tok[:])}
	ok, err := s.rdb.SetNX(ctx, s.key, s.token, senderTTL).Result()
	if err != nil {
		return nil, storeErr("take batch "+taskID, err)
	}
	if !ok {
		return nil, fmt.Errorf("batch %s: %w", taskID, errBatchBusy)
	}
	s.stop = every(senderRefresh, func() {
		_ = releaseScript.Run(context.Background(), s.rdb, []string{s.key}, s.token, senderTTL.Milliseconds()).Err()
	})
	return s, nil
}

// release stops renewing the sender key and deletes it if it is still ours.
func (s *batchSender) release() {
	s.stop()
	_ = releaseScript.Run(context.Background(), s.rdb, []string{s.key}, s.token, "del").Err()
}

// emailSend records, message by message, what happened to the messages of one batch.
type emailSend struct {
	w        *Worker
	ctx      context.Context
	b        *breach.Breach
	keys     noticeKeys
	inFlight string
	sender   *batchSender
	todo     []*breach.Notice
	raws     [][]byte

	accepted int                   // index of the message accepted last, whose sent record is not written yet; -1 none
	refused  int                   // index of the message refused last, whose claim is not dropped yet; -1 none
	recorded []bool                // sent records written
	answered []bool                // the server answered the message (accepted or refused it)
	receipts []breach.EmailReceipt // the server's receipt of each accepted message
	lastErr  error
}

// before claims message i after recording the outcome of the one before it: see the top of this
// file. It returns errBatchTaken when the batch is no longer this worker's, or a store error.
func (e *emailSend) before(i int) error { return e.step(e.todo[i].ID) }

func (e *emailSend) after(i int, r breach.EmailReceipt, err error) {
	e.answered[i] = true
	e.receipts[i] = r
	if err == nil {
		e.accepted = i
	} else {
		e.refused = i
	}
}

// flush records the outcome of the last message, claiming none.
func (e *emailSend) flush() error { return e.step("") }

func (e *emailSend) step(claim string) error {
	if e.accepted < 0 && e.refused < 0 && claim == "" {
		return nil
	}
	now := e.w.now()
	rdb := e.w.store.rdb
	run := func() (upd *redis.Cmd, st *redis.Cmd, err error) {
		pipe := rdb.Pipeline()
		var drop []any
		if e.accepted >= 0 {
			n := e.todo[e.accepted]
			_, args, err := e.w.store.noticeUpdate(e.ctx, e.keys, n.ID, e.raws[e.accepted], sentUpdate(now, e.receipts[e.accepted]))
			switch {
			case errors.Is(err, errUnchanged):
			case err != nil:
				return nil, nil, err
			default:
				upd = updateNoticeScript.EvalSha(e.ctx, pipe, e.keys.updateKeys(), args...)
			}
			drop = append(drop, n.ID)
		}
		if e.refused >= 0 {
			drop = append(drop, e.todo[e.refused].ID)
		}
		args := append([]any{e.sender.token, senderTTL.Milliseconds(), claim, strconv.FormatInt(now.UnixMilli(), 10)}, drop...)
		st = stepScript.EvalSha(e.ctx, pipe, []string{e.sender.key, e.inFlight}, args...)
		_, err = pipe.Exec(e.ctx)
		return upd, st, err
	}
	upd, st, err := run()
	if err != nil && isNoScript(err) {
		// Redis restarted and forgot the scripts: load them and write again (both are
		// idempotent: the update is a compare-and-set, the step a set of claims).
		for _, s := range []*redis.Script{updateNoticeScript, stepScript} {
			if lerr := s.Load(e.ctx, rdb).Err(); lerr != nil {
				return storeErr("load scripts", lerr)
			}
		}
		upd, st, err = run()
	}
	if err != nil {
		return storeErr("record email outcome", err)
	}
	if e.accepted >= 0 {
		if upd != nil && upd.Val() != int64(1) {
			// The record changed since it was read (or vanished): the slow path reads it again.
			if err := e.w.markSent(e.ctx, e.b.ID, e.todo[e.accepted].ID, nil, e.receipts[e.accepted]); err != nil {
				return err
			}
		}
		e.recorded[e.accepted] = true
	}
	e.accepted, e.refused = -1, -1
	if st.Val() != int64(1) {
		return errBatchTaken
	}
	return nil
}

func isNoScript(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") }

// sentUpdate marks a queued email notice sent at now, recording the server's receipt on the
// notice.sent event: its final reply, the queue ID in it and the Message-ID (none of them names
// the recipient). A receipt's empty fields are left out, so that the proof of notice says they
// were not recorded (a mailer without receipts, such as the outbox). A reply without a queue ID
// is kept with no queue ID: the reply is the evidence.
func sentUpdate(now time.Time, r breach.EmailReceipt) func(n *breach.Notice) ([]breach.Event, error) {
	return func(n *breach.Notice) ([]breach.Event, error) {
		if n.Status != breach.NoticeQueued {
			return nil, errUnchanged
		}
		n.Status, n.SentAt, n.LastError = breach.NoticeSent, now, ""
		n.Attempts++
		summary := "Email notice accepted by the mail server"
		if r.Outbox {
			summary = "Email notice written to the outbox as an .eml file (no mail server took it)"
		}
		return []breach.Event{{Type: breach.EventNoticeSent, Actor: workerActor.ID, Role: workerActor.Role, At: now,
			Summary: summary,
			Data:    receiptData(map[string]any{"notice_id": n.ID, "channel": string(n.Channel)}, r)}}, nil
	}
}

// receiptData adds the receipt's fields that are not empty to a notice.sent event's data.
func receiptData(data map[string]any, r breach.EmailReceipt) map[string]any {
	for _, kv := range [...][2]string{{breach.EvidenceSMTPReply, r.Reply}, {breach.EvidenceSMTPQueueID, r.QueueID}, {breach.EvidenceMessageID, r.MessageID}} {
		if kv[1] != "" {
			data[kv[0]] = kv[1]
		}
	}
	if r.Outbox {
		data[breach.EvidenceWrittenTo] = "outbox"
	}
	return data
}

// claimsOf returns which of the notices have an in-flight claim left from an earlier run of
// their batch.
func (w *Worker) claimsOf(ctx context.Context, breachID string, ids []string) (map[string]bool, error) {
	vals, err := w.store.rdb.HMGet(ctx, fmt.Sprintf(keyNoticesInFlightFmt, breachID), ids...).Result()
	if err != nil {
		return nil, storeErr("read in-flight claims of breach "+breachID, err)
	}
	out := map[string]bool{}
	for i, v := range vals {
		if v != nil {
			out[ids[i]] = true
		}
	}
	return out, nil
}

// markPossiblyDuplicated records on a queued email notice, found claimed but without an outcome,
// that it is about to be sent again and that the first copy may have been delivered; and drops
// the claim (the new attempt claims it again).
func (w *Worker) markPossiblyDuplicated(ctx context.Context, breachID, id string) error {
	now := w.now()
	_, err := w.store.updateNotice(ctx, breachID, id, nil, func(n *breach.Notice) ([]breach.Event, error) {
		if n.Status != breach.NoticeQueued {
			return nil, errUnchanged
		}
		return []breach.Event{{Type: breach.EventNoticePossiblyDuplicated, Actor: workerActor.ID, Role: workerActor.Role, At: now,
			Summary: "The worker stopped while this email was being handed to the mail server: it is sent again with the same Message-ID, and the person may receive it twice",
			Data:    map[string]any{"notice_id": n.ID, "channel": string(n.Channel), "attempt": n.Attempts + 1}}}, nil
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return err
	}
	return storeErr("drop in-flight claim", w.store.rdb.HDel(ctx, fmt.Sprintf(keyNoticesInFlightFmt, breachID), id).Err())
}

// dropClaims drops the claims of notices that are no longer queued (their outcome is recorded).
func (w *Worker) dropClaims(ctx context.Context, breachID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return storeErr("drop in-flight claims", w.store.rdb.HDel(ctx, fmt.Sprintf(keyNoticesInFlightFmt, breachID), ids...).Err())
}

// appendEvent adds an event to a breach's stream that concerns no single notice.
func (s *Store) appendEvent(ctx context.Context, breachID string, ev breach.Event) error {
	vals, err := s.eventValues(ctx, breachID, ev)
	if err != nil {
		return err
	}
	return storeErr("record event", s.rdb.XAdd(ctx, &redis.XAddArgs{Stream: eventsKey(breachID), Values: vals}).Err())
}

// ChannelHealth is what the workers last saw of a channel's server.
type ChannelHealth struct {
	Degraded bool
	Since    time.Time // the first refused attempt of the current run of them
	Reason   string    // the last refusal's reason (no personal information)
}

// channelDegraded records that the channel's server refused a session or could not be reached.
func (w *Worker) channelDegraded(ctx context.Context, ch breach.Method, reason string) {
	key := fmt.Sprintf(keyChannelHealthFmt, ch)
	now := w.now().UTC().Format(time.RFC3339Nano)
	pipe := w.store.rdb.TxPipeline()
	pipe.HSetNX(ctx, key, "since", now)
	pipe.HSet(ctx, key, "degraded", "1", "reason", reason, "at", now)
	if _, err := pipe.Exec(ctx); err != nil {
		w.log.Warn("record channel health", "channel", string(ch), "err", err)
	}
}

// channelHealthy records that a message went through the channel's server.
func (w *Worker) channelHealthy(ctx context.Context, ch breach.Method) {
	if err := w.store.rdb.Del(ctx, fmt.Sprintf(keyChannelHealthFmt, ch)).Err(); err != nil {
		w.log.Warn("record channel health", "channel", string(ch), "err", err)
	}
}

// ChannelHealth returns what the workers last saw of each channel's server (email is the only one
// watched now). EUNAVAILABLE when Redis cannot be reached.
func (s *Store) ChannelHealth(ctx context.Context) (map[breach.Method]ChannelHealth, error) {
	out := map[breach.Method]ChannelHealth{}
	for _, ch := range []breach.Method{breach.MethodEmail} {
		v, err := s.rdb.HGetAll(ctx, fmt.Sprintf(keyChannelHealthFmt, ch)).Result()
		if err != nil {
			return nil, storeErr("read channel health", err)
		}
		h := ChannelHealth{Degraded: v["degraded"] == "1", Reason: v["reason"]}
		if t, err := time.Parse(time.RFC3339Nano, v["since"]); err == nil {
			h.Since = t
		}
		out[ch] = h
	}
	return out, nil
}
