package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
)

// Redis keys of the bounces read from the mailbox. Persisted contracts, like those of keys.go.
const (
	// keyDSNUnmatched is a STREAM of breach.Event (the layout of a breach's event stream): every
	// DSN that matched no notice it could be recorded on. It belongs to no breach; admins and
	// auditors list it (GET /v1/bounces/unmatched). Never trimmed.
	keyDSNUnmatched = "breachd:dsn:unmatched"
	// keyDSNHandled is a SET of the hex SHA-256 of every message the poller recorded, so that a
	// message read again (the mark after recording was lost) is not recorded twice.
	keyDSNHandled = "breachd:dsn:handled"
)

// DefaultBounceInterval is how often the bounce mailbox is read.
const DefaultBounceInterval = time.Minute

// imapActor is who the events of bounces read from the mailbox are recorded as.
var imapActor = breach.Actor{ID: "imap", Role: "system"}

// Why a DSN is recorded as unmatched (data.reason). Persisted: never rename one.
const (
	unmatchedNoReference = "no_reference" // it names no notice: no X-Breachd-Notice, notice Message-ID or envelope ID
	unmatchedNoNotice    = "no_notice"    // it names a notice that does not exist (purged, another deployment)
	unmatchedNotEmail    = "not_an_email" // it names a notice that is not an email
	unmatchedNotSent     = "notice_not_sent"
	unmatchedNotFailure  = "not_a_failure" // action delivered, relayed or expanded
)

// UnmatchedBounces lists the DSNs that matched no notice, oldest first, like Events: up to limit
// after cursor, and the next cursor ("" at the end). EINVALID on "cursor" for a malformed cursor.
func (s *Store) UnmatchedBounces(ctx context.Context, cursor string, limit int) ([]breach.Event, string, error) {
	start, err := streamStart(cursor)
	if err != nil {
		return nil, "", err
	}
	limit = clampLimit(limit)
	msgs, err := s.rdb.XRangeN(ctx, keyDSNUnmatched, start, "+", int64(limit+1)).Result()
	if err != nil {
		if redis.HasErrorPrefix(err, "invalid start ID") {
			return nil, "", invalidCursor()
		}
		return nil, "", storeErr("load unmatched bounces", err)
	}
	return s.eventPage(ctx, msgs, limit, "", "unmatched bounces")
}

// recordUnmatched appends ev to the unmatched stream and marks the message handled, together.
func (s *Store) recordUnmatched(ctx context.Context, sha string, ev breach.Event) error {
	// A bounce naming a notice quotes its address: sealed under that breach's key, so that the
	// breach's purge removes it here too.
	bid, _ := ev.Data["breach_id"].(string)
	vals, err := s.eventValues(ctx, bid, ev)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAdd(ctx, &redis.XAddArgs{Stream: keyDSNUnmatched, Values: vals})
		p.SAdd(ctx, keyDSNHandled, sha)
		return nil
	})
	return storeErr("record an unmatched bounce", err)
}

func (s *Store) bounceHandled(ctx context.Context, sha string) (bool, error) {
	ok, err := s.rdb.SIsMember(ctx, keyDSNHandled, sha).Result()
	return ok, storeErr("read the handled bounces", err)
}

func (s *Store) markBounceHandled(ctx context.Context, sha string) error {
	return storeErr("mark a bounce handled", s.rdb.SAdd(ctx, keyDSNHandled, sha).Err())
}

// UnmatchedBounces lists the DSNs that matched no notice; see Store.UnmatchedBounces.
func (w *Worker) UnmatchedBounces(ctx context.Context, cursor string, limit int) ([]breach.Event, string, error) {
	return w.store.UnmatchedBounces(ctx, cursor, limit)
}

// BouncePollerConfig configures a BouncePoller.
type BouncePollerConfig struct {
	Worker  *Worker              // required: records the bounces (RecordBounce)
	Mailbox breach.BounceMailbox // required
	// Interval is the wait between two reads of the mailbox. Default DefaultBounceInterval.
	Interval time.Duration
	Logger   *slog.Logger // default the Worker's
}

// BouncePoller reads delivery status notifications (RFC 3464) from the bounce mailbox and records
// each on its notice, as a clerk's bounce is recorded (Worker.RecordBounce):
//   - failed with a 5.x.x status: the email failed for good, and a letter replaces it (LAW.md §3);
//   - delayed, or failed with a 4.x.x status: a notice.delivery_delayed event; no letter yet;
//   - a DSN that names no notice it can be recorded on: an event in the unmatched stream, never
//     dropped;
//   - a message that is not a readable DSN: logged (no personal data) and skipped.
//
// The bounce event carries the DSN's fields: Action, Status, the Reporting- and Remote-MTA and
// whether Final-Recipient is the notice's address in data; Final-Recipient and Diagnostic-Code
// (which name the person) sealed in private. A message is marked read only once recorded, and a
// message read again is recognised by its SHA-256, so nothing is recorded twice.
type BouncePoller struct {
	w        *Worker
	mailbox  breach.BounceMailbox
	interval time.Duration
	log      *slog.Logger
}

// NewBouncePoller checks cfg and returns a poller; Run runs it.
func NewBouncePoller(cfg BouncePollerConfig) (*BouncePoller, error) {
	if cfg.Worker == nil || cfg.Mailbox == nil {
		return nil, errors.New("bounce poller: Worker and Mailbox are required")
	}
	p := &BouncePoller{w: cfg.Worker, mailbox: cfg.Mailbox, interval: cfg.Interval, log: cfg.Logger}
	if p.interval <= 0 {
		p.interval = DefaultBounceInterval
	}
	if p.log == nil {
		p.log = cfg.Worker.log
	}
	p.log = p.log.With("component", "bounces")
	return p, nil
}

// Run reads the mailbox at once and then every Interval until ctx is done. A read that fails (the
// server is down, Redis is down) is logged and tried again at the next one.
func (p *BouncePoller) Run(ctx context.Context) {
	runEvery(ctx, p.interval, func() {
		if err := p.Poll(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("reading the bounce mailbox failed; trying again later", "error", err.Error(), "in", p.interval.String())
		}
	})
}

// Poll reads the mailbox once and records what it finds.
func (p *BouncePoller) Poll(ctx context.Context) error {
	return p.mailbox.Poll(ctx, func(m breach.BounceMessage) (breach.BounceOutcome, error) { return p.handle(ctx, m) })
}

// handle records one message; an error leaves it unread for the next poll.
func (p *BouncePoller) handle(ctx context.Context, m breach.BounceMessage) (breach.BounceOutcome, error) {
	if m.DSN == nil {
		// m.Err says what is wrong with the structure and quotes nothing of the message.
		p.log.Warn("a message in the bounce mailbox is not a delivery status notification; skipped",
			"uid", m.UID, "sha256", m.SHA256, "reason", fmt.Sprint(m.Err))
		return breach.BounceMalformed, nil
	}
	done, err := p.w.store.bounceHandled(ctx, m.SHA256)
	if err != nil {
		return "", err
	}
	if done {
		return "", nil
	}
	d := m.DSN
	ids, by := noticeRefs(d)
	if len(ids) == 0 {
		return p.unmatched(ctx, m, unmatchedNoReference, nil)
	}
	var n *breach.Notice
	for i, id := range ids {
		found, err := p.w.store.Notice(ctx, id)
		if breach.ErrorCode(err) == breach.ENOTFOUND {
			continue
		}
		if err != nil {
			return "", err
		}
		n, by = found, by[i:i+1]
		break
	}
	switch {
	case n == nil:
		return p.unmatched(ctx, m, unmatchedNoNotice, nil)
	case n.Channel != breach.MethodEmail:
		return p.unmatched(ctx, m, unmatchedNotEmail, n)
	case n.Status != breach.NoticeSent:
		return p.unmatched(ctx, m, unmatchedNotSent, n)
	}
	r := recipientFor(d, n.Email)
	data, private := evidence(m, d, r, n.Email, by[0])
	switch {
	case r.Permanent():
		reason := r.DiagnosticCode
		if reason == "" {
			reason = r.Status
		}
		delete(private, "diagnostic_code") // recordBounce seals it as the reason, redacted alike
		if _, err := p.w.recordBounce(ctx, n.ID, reason, imapActor, map[string]any{"dsn": data}, private); err != nil {
			if breach.ErrorCode(err) == breach.ECONFLICT {
				return p.unmatched(ctx, m, unmatchedNotSent, n) // it moved on meanwhile
			}
			return "", err
		}
	case r.Action == "delayed" || r.Action == "failed":
		if err := p.recordDelayed(ctx, n.ID, r, data, private); err != nil {
			if errors.Is(err, errUnchanged) {
				return p.unmatched(ctx, m, unmatchedNotSent, n)
			}
			return "", err
		}
	default:
		return p.unmatched(ctx, m, unmatchedNotFailure, n)
	}
	if err := p.w.store.markBounceHandled(ctx, m.SHA256); err != nil {
		return "", err
	}
	p.log.Info("bounce recorded", "notice", n.ID, "action", r.Action, "status", r.Status, "uid", m.UID)
	return breach.BounceRecorded, nil
}

// recordDelayed records a delay or a temporary failure on a sent email: evidence, no letter.
func (p *BouncePoller) recordDelayed(ctx context.Context, id string, r breach.DSNRecipient, data map[string]any, private map[string]string) error {
	now := p.w.now()
	summary := "The mail server reports delivery delayed; it is still trying"
	if r.Action == "failed" {
		summary = "The mail server reports a temporary failure (" + r.Status + "); no letter yet"
	}
	_, err := p.w.store.UpdateNotice(ctx, id, func(n *breach.Notice) ([]breach.Event, error) {
		if n.Status != breach.NoticeSent || n.Channel != breach.MethodEmail {
			return nil, errUnchanged
		}
		return []breach.Event{{Type: breach.EventNoticeDelayed, Actor: imapActor.ID, Role: imapActor.Role, At: now,
			Summary: summary, Data: map[string]any{"notice_id": n.ID, "action": r.Action, "status": r.Status, "dsn": data},
			Private: private}}, nil
	})
	return err
}

// unmatched records the DSN in the unmatched stream; n is the notice it named, if any.
func (p *BouncePoller) unmatched(ctx context.Context, m breach.BounceMessage, reason string, n *breach.Notice) (breach.BounceOutcome, error) {
	d := m.DSN
	var recipients []map[string]any
	private := map[string]string{}
	if d.OriginalMessageID != "" {
		private["original_message_id"] = d.OriginalMessageID
	}
	for i, r := range d.Recipients {
		recipients = append(recipients, map[string]any{"action": r.Action, "status": r.Status})
		maps.Copy(private, recipientPrivate(r, fmt.Sprintf("_%d", i+1)))
	}
	data := map[string]any{"reason": reason, "dsn_sha256": m.SHA256, "imap_uid": m.UID,
		"reporting_mta": d.ReportingMTA, "recipients": recipients}
	if d.EnvelopeID != "" {
		data["envelope_id"] = d.EnvelopeID
	}
	summary := "A delivery status notification names no notice"
	if n != nil {
		data["notice_id"], data["breach_id"], data["notice_status"] = n.ID, n.BreachID, string(n.Status)
		summary = fmt.Sprintf("A delivery status notification names notice %s, which is a %s notice in status %s: nothing was failed",
			n.ID, n.Channel, n.Status)
	}
	ev := breach.Event{Type: breach.EventDSNUnmatched, Actor: imapActor.ID, Role: imapActor.Role, At: p.w.now(),
		Summary: summary, Data: data, Private: private}
	if err := p.w.store.recordUnmatched(ctx, m.SHA256, ev); err != nil {
		return "", err
	}
	p.log.Info("unmatched bounce recorded", "reason", reason, "uid", m.UID)
	return breach.BounceUnmatched, nil
}

// noticeRefs are the notice IDs a DSN names, most reliable first, and how each was found: the
// X-Breachd-Notice header of the returned message, its Message-ID (notify/email makes it
// "notice-<ID>@<domain>", email.MessageID), the envelope ID.
func noticeRefs(d *breach.DSN) (ids, by []string) {
	add := func(id, how string) {
		id = strings.TrimPrefix(id, "notice-")
		if _, ok := noticeIDTag(id); ok && validID(id) {
			for _, seen := range ids {
				if seen == id {
					return
				}
			}
			ids, by = append(ids, id), append(by, how)
		}
	}
	add(d.OriginalNoticeID, "x-breachd-notice")
	if local, _, ok := strings.Cut(d.OriginalMessageID, "@"); ok {
		add(local, "message-id")
	}
	add(d.EnvelopeID, "envelope-id")
	return ids, by
}

// recipientFor is the per-recipient block about the notice's address, or else the first failed
// one, or else the first.
func recipientFor(d *breach.DSN, address string) breach.DSNRecipient {
	for _, r := range d.Recipients {
		if address != "" && strings.EqualFold(r.FinalRecipient, address) {
			return r
		}
	}
	for _, r := range d.Recipients {
		if r.Action == "failed" {
			return r
		}
	}
	return d.Recipients[0]
}

// evidence is what a bounce event keeps of the DSN: in data what names no one; in private (sealed)
// the Final-Recipient and the Diagnostic-Code, which quote the person's address.
func evidence(m breach.BounceMessage, d *breach.DSN, r breach.DSNRecipient, address, matchedBy string) (map[string]any, map[string]string) {
	data := map[string]any{
		"action": r.Action, "status": r.Status, "matched_by": matchedBy, "dsn_sha256": m.SHA256,
		"final_recipient_matches": address != "" && strings.EqualFold(r.FinalRecipient, address),
	}
	for k, v := range map[string]string{"reporting_mta": d.ReportingMTA, "dsn_message_id": d.MessageID, "envelope_id": d.EnvelopeID} {
		if v != "" {
			data[k] = v
		}
	}
	if codes := breach.SMTPCodes(r.DiagnosticCode); codes != "" {
		data["smtp_status"] = codes
	}
	return data, recipientPrivate(r, "")
}

// recipientPrivate is what of a per-recipient block is sealed: the Final-Recipient (the address,
// sealed like the notice that holds it), the Remote-MTA (a family's own domain names them) and the
// Diagnostic-Code stripped of addresses and numbers, as a clerk's bounce reason is.
func recipientPrivate(r breach.DSNRecipient, suffix string) map[string]string {
	p := map[string]string{"final_recipient" + suffix: r.FinalRecipient}
	if r.RemoteMTA != "" {
		p["remote_mta"+suffix] = r.RemoteMTA
	}
	if r.DiagnosticCode != "" {
		p["diagnostic_code"+suffix] = breach.RedactContact(r.DiagnosticCode)
	}
	return p
}
