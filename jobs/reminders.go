package jobs

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

// DefaultReminderInterval is how often the reminder sweep runs when ReminderConfig.Interval is 0.
const DefaultReminderInterval = time.Hour

// keyRemindersFmt is a HASH of the deadline reminders of one breach (a persisted contract, like the
// shapes in keys.go): field "<obligation>:<stage>" (e.g. "agency.office_of_technology:3_days"),
// value either a claim "claim:<token>:<expires, Unix ms>" while a sweep is sending it, or the JSON
// of reminderSent once the mail server accepted it. A field that holds a sent value is never
// claimed again: that is what makes each reminder go out at most once, across restarts and
// processes.
const keyRemindersFmt = "breachd:breach:{%s}:reminders"

func remindersKey(id string) string { return fmt.Sprintf(keyRemindersFmt, id) }

const (
	// reminderClaimLease is how long a claim holds. A process that dies after claiming and before
	// sending or recording leaves its claim behind; once the lease is over the next sweep claims the
	// reminder again, so a crash delays a reminder by at most this much instead of losing it. It
	// must exceed reminderSendTimeout, or a slow send could be overtaken by a second one.
	reminderClaimLease = 10 * time.Minute
	// reminderSendTimeout bounds one reminder's send to every administrator.
	reminderSendTimeout = 2 * time.Minute
)

// reminderSent is the value of a sent reminder's field in keyRemindersFmt.
type reminderSent struct {
	SentAt     time.Time   `json:"sent_at"`
	Due        breach.Date `json:"due"`
	Recipients int         `json:"recipients"`
}

// claimReminders claims, in one step, each reminder of a breach that no sweep has sent or is
// sending: either every reminder a sweep finds due is claimed by that sweep, or by another one, so
// two sweeps at once send one email between them. A reminder is also left alone when a more urgent
// stage of the same duty was sent or is being sent: a stage skipped (the service was down, the duty
// appeared late) is never sent after a more urgent one.
//
// KEYS[1] the reminders hash. ARGV[1] the claim value; ARGV[2] now (Unix ms); then one group per
// reminder: the number of fields n, the reminder's field, and the n-1 fields of its more urgent
// stages. It returns the 0-based indexes of the groups it claimed.
var claimReminders = redis.NewScript(`
local now = tonumber(ARGV[2])
local function taken(v)
  if not v then return false end
  local expires = string.match(v, "^claim:[^:]*:(%d+)$")
  if expires then return tonumber(expires) > now end
  return true
end
local claimed = {}
local i, group = 3, 0
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local free = true
  for j = i + 1, i + n do
    if taken(redis.call("HGET", KEYS[1], ARGV[j])) then free = false break end
  end
  if free then
    redis.call("HSET", KEYS[1], ARGV[i + 1], ARGV[1])
    claimed[#claimed + 1] = group
  end
  group = group + 1
  i = i + n + 1
end
return claimed
`)

// releaseReminders deletes the fields ARGV[2..] of KEYS[1] that still hold the claim ARGV[1], so the
// next sweep tries them again; a field claimed since by another sweep, or sent, is left alone.
var releaseReminders = redis.NewScript(`
local n = 0
for i = 2, #ARGV do
  if redis.call("HGET", KEYS[1], ARGV[i]) == ARGV[1] then
    redis.call("HDEL", KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
`)

// ReminderConfig configures Reminders.
type ReminderConfig struct {
	Store    *Store                  // required
	Mailer   breach.Mailer           // required
	Composer breach.ReminderComposer // required
	// To are the administrators' addresses, bare (no display name); at least one is required.
	To []string
	// Interval is the time between sweeps. Default DefaultReminderInterval.
	Interval time.Duration
	Clock    func() time.Time // default time.Now
	Logger   *slog.Logger     // default slog.Default()
}

// Reminders is the deadline-reminder sweep: it emails the administrators before each open duty of
// every breach not closed is due — 10, 3 and 1 days before, and once it is overdue — one email per
// breach and sweep listing every duty that reached a new stage, and records an obligation.reminder
// event for each. Each (breach, duty, stage) goes out at most once, ever, however many processes
// sweep (see keyRemindersFmt). Run it in every worker process; it is safe for concurrent use.
type Reminders struct {
	store    *Store
	mailer   breach.Mailer
	composer breach.ReminderComposer
	to       []string
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger
}

// NewReminders checks cfg and returns a Reminders; Run runs it. It returns EINVALID naming each
// field that is missing or wrong.
func NewReminders(cfg ReminderConfig) (*Reminders, error) {
	var fe []breach.FieldError
	bad := func(field, reason string) { fe = append(fe, breach.FieldError{Field: field, Reason: reason}) }
	if cfg.Store == nil {
		bad("Store", "is required")
	}
	if cfg.Mailer == nil {
		bad("Mailer", "is required")
	}
	if cfg.Composer == nil {
		bad("Composer", "is required")
	}
	if len(cfg.To) == 0 {
		bad("To", "needs at least one address")
	}
	for i, a := range cfg.To {
		if err := CheckReminderAddress(a); err != nil {
			bad(fmt.Sprintf("To[%d]", i), err.Error())
		}
	}
	if cfg.Interval < 0 {
		bad("Interval", "must be positive")
	}
	if err := breach.InvalidFields(fe); err != nil {
		return nil, fmt.Errorf("reminder config: %w", err)
	}
	r := &Reminders{store: cfg.Store, mailer: cfg.Mailer, composer: cfg.Composer, to: slices.Clone(cfg.To),
		interval: cfg.Interval, now: cfg.Clock, log: cfg.Logger}
	if r.interval == 0 {
		r.interval = DefaultReminderInterval
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	return r, nil
}

// CheckReminderAddress says why a is not an address reminders can be sent to: it must be a bare
// address such as it@school.example, without a display name.
func CheckReminderAddress(a string) error {
	addr, err := mail.ParseAddress(a)
	if err != nil || addr.Name != "" || addr.Address != a {
		return fmt.Errorf("%q is not a bare email address such as it@school.example", a)
	}
	return nil
}

// Run sweeps at once and then every interval until ctx is done. A failed sweep is logged and the
// next one tries again.
func (r *Reminders) Run(ctx context.Context) {
	runEvery(ctx, r.interval, func() {
		rep, err := r.Sweep(ctx)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			r.log.Error("reminder sweep", "err", err, "breaches", rep.Breaches, "emails", rep.Emails)
		case rep.Emails > 0 || rep.Failed > 0:
			r.log.Info("reminder sweep", "breaches", rep.Breaches, "emails", rep.Emails, "reminders", rep.Reminders, "failed", rep.Failed)
		}
	})
}

// ReminderSweep is what one sweep did.
type ReminderSweep struct {
	Breaches  int // breaches not closed that were looked at
	Emails    int // reminder emails accepted (one per breach, whatever the number of administrators)
	Reminders int // duties reminded: obligation.reminder events recorded
	Failed    int // breaches whose reminder could not be worked out or sent; tried again next sweep
}

// Sweep looks once at every breach not closed and sends the reminders due now. A breach whose
// reminder fails is logged, counted in Failed and tried again by the next sweep; the error is for
// a sweep that could not list the breaches, or was stopped by ctx.
func (r *Reminders) Sweep(ctx context.Context) (ReminderSweep, error) {
	var rep ReminderSweep
	for _, st := range breach.Statuses {
		if st == breach.StatusClosed {
			continue
		}
		cursor := ""
		for {
			bs, next, err := r.store.Breaches(ctx, breach.BreachFilter{Status: st, Cursor: cursor, Limit: MaxLimit})
			if err != nil {
				return rep, fmt.Errorf("reminders: list %s breaches: %w", st, err)
			}
			for _, b := range bs {
				if err := ctx.Err(); err != nil {
					return rep, err
				}
				if b.Status == breach.StatusClosed { // closed after the index was read
					continue
				}
				rep.Breaches++
				n, err := r.remind(ctx, b)
				if err != nil {
					rep.Failed++
					r.log.Error("reminder", "breach", b.ID, "err", err)
					continue
				}
				if n > 0 {
					rep.Emails++
					rep.Reminders += n
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return rep, nil
}

// today is the breach's calendar date now, never before its discovery (as the API reads it).
func (r *Reminders) today(b *breach.Breach) breach.Date {
	today := breach.DateOf(r.now(), b.Determination.Location())
	if today.Before(b.Determination.DiscoveredOn) {
		return b.Determination.DiscoveredOn
	}
	return today
}

// due is the reminders of b that the ledger calls for today, before any is claimed: every open
// duty with a due date in a reminder stage.
func (r *Reminders) due(ctx context.Context, b *breach.Breach, today breach.Date) ([]breach.ReminderItem, error) {
	rc, err := r.store.RecipientCounts(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	plan, err := rules.AssessBreach(b, rc, today)
	if err != nil {
		return nil, fmt.Errorf("assess: %w", err)
	}
	counts, last, err := r.store.NoticeCounts(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	var items []breach.ReminderItem
	for _, o := range rules.Obligations(plan, b, counts.Progress(last)) {
		if o.Status != breach.ObligationOpen || o.Due.IsZero() {
			continue
		}
		if stage, ok := breach.ReminderStageFor(o.Due, today); ok {
			items = append(items, breach.ReminderItem{Obligation: o, Stage: stage, DaysLeft: o.Due.DaysSince(today)})
		}
	}
	return items, nil
}

func reminderField(id breach.ObligationID, stage breach.ReminderStage) string {
	return string(id) + ":" + string(stage)
}

// sortReminders puts the most urgent first and, among equals, the Office of Technology report (the
// 2-business-day duty) first; then the earlier due date, then the ledger's order.
func sortReminders(items []breach.ReminderItem) {
	slices.SortStableFunc(items, func(a, b breach.ReminderItem) int {
		if c := cmp.Compare(b.Stage.Urgency(), a.Stage.Urgency()); c != 0 {
			return c
		}
		aOT, bOT := a.Obligation.ID == breach.ObligationOfficeOfTechnology, b.Obligation.ID == breach.ObligationOfficeOfTechnology
		if aOT != bOT {
			if aOT {
				return -1
			}
			return 1
		}
		return a.Obligation.Due.Compare(b.Obligation.Due)
	})
}

// remind sends b's reminders due now and returns how many duties it reminded (0: none due, or
// every one already sent or being sent by another sweep).
//
// The order is claim, send, record. A failed send releases the claims, so the next sweep tries
// again. A crash between the mail server accepting the email and the record being written leaves
// the claims to expire (reminderClaimLease) and the next sweep sends the reminder again: at most
// one duplicate reminder, acceptable for an internal reminder — unlike a lost one.
func (r *Reminders) remind(ctx context.Context, b *breach.Breach) (int, error) {
	today := r.today(b)
	items, err := r.due(ctx, b, today)
	if err != nil || len(items) == 0 {
		return 0, err
	}
	token := make([]byte, 8)
	_, _ = rand.Read(token)
	now := r.now()
	claim := "claim:" + hex.EncodeToString(token) + ":" + strconv.FormatInt(now.Add(reminderClaimLease).UnixMilli(), 10)
	args := []any{claim, now.UnixMilli()}
	for _, it := range items {
		// The group: this stage's field, then the fields of every more urgent stage.
		more := breach.ReminderStages[it.Stage.Urgency()+1:]
		args = append(args, 1+len(more), reminderField(it.Obligation.ID, it.Stage))
		for _, st := range more {
			args = append(args, reminderField(it.Obligation.ID, st))
		}
	}
	key := remindersKey(b.ID)
	got, err := claimReminders.Run(ctx, r.store.rdb, []string{key}, args...).Int64Slice()
	if err != nil {
		return 0, storeErr("claim reminders of breach "+b.ID, err)
	}
	if len(got) == 0 {
		return 0, nil
	}
	claimed := make([]breach.ReminderItem, len(got))
	fields := make([]any, 0, 1+len(got))
	fields = append(fields, claim)
	for i, g := range got {
		claimed[i] = items[g]
		fields = append(fields, reminderField(items[g].Obligation.ID, items[g].Stage))
	}
	sortReminders(claimed)

	accepted, sendErr := r.send(ctx, b, today, claimed, hex.EncodeToString(token))
	if accepted == 0 {
		// Not on ctx: a sweep stopped mid-send must still free what it claimed.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := releaseReminders.Run(rctx, r.store.rdb, []string{key}, fields...).Err(); err != nil {
			return 0, errors.Join(sendErr, storeErr("release reminders of breach "+b.ID, err))
		}
		return 0, sendErr
	}
	if sendErr != nil {
		// Some administrators got it: it counts as sent; the others are in the log.
		r.log.Warn("reminder not accepted for every administrator", "breach", b.ID, "err", sendErr)
	}
	// Accepted is accepted: record it even when the sweep is being stopped, or it would go again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.record(rctx, b.ID, claimed, accepted, r.now()); err != nil {
		return 0, err
	}
	return len(claimed), nil
}

// send writes the reminder and sends it to every administrator, one message each, over one
// connection. It returns how many were accepted, and the failures; no address is in the error
// (an administrator is named by position in To).
func (r *Reminders) send(ctx context.Context, b *breach.Breach, today breach.Date, items []breach.ReminderItem, token string) (int, error) {
	msg, err := r.composer.Reminder(breach.Reminder{Breach: b, Today: today, Items: items})
	if err != nil {
		return 0, fmt.Errorf("compose the reminder: %w", err)
	}
	msgs := make([]breach.EmailMessage, len(r.to))
	for i, to := range r.to {
		m := msg
		// Unique per sweep and address: the outbox names its file after it, SMTP the Message-ID.
		m.To, m.NoticeID = to, fmt.Sprintf("reminder.%s.%s.%d", b.ID, token, i)
		msgs[i] = m
	}
	sctx, cancel := context.WithTimeout(ctx, reminderSendTimeout)
	defer cancel()
	results, batchErr := r.mailer.Send(sctx, msgs)
	if batchErr != nil {
		reason, _ := sendReason(batchErr)
		return 0, fmt.Errorf("send the reminder: %s", reason)
	}
	accepted := 0
	var failed []string
	for i := range msgs {
		var err error = &breach.SendError{Reason: "the mailer gave no result"}
		if i < len(results) {
			err = results[i]
		}
		if err == nil {
			accepted++
			continue
		}
		reason, _ := sendReason(err)
		failed = append(failed, fmt.Sprintf("administrator %d of %d: %s", i+1, len(msgs), reason))
	}
	if len(failed) > 0 {
		return accepted, fmt.Errorf("send the reminder: %s", strings.Join(failed, "; "))
	}
	return accepted, nil
}

// record marks the reminders sent and appends one obligation.reminder event each, in one
// transaction. The event says which duty, which stage, the due date and how many administrators
// the mail server accepted it for — nothing about the affected people.
func (r *Reminders) record(ctx context.Context, breachID string, items []breach.ReminderItem, recipients int, at time.Time) error {
	_, err := r.store.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, it := range items {
			o := it.Obligation
			sent, err := json.Marshal(reminderSent{SentAt: at.UTC(), Due: o.Due, Recipients: recipients})
			if err != nil {
				return err
			}
			vals, err := r.store.eventValues(ctx, breachID, breach.Event{Type: breach.EventObligationReminder, Actor: workerActor.ID,
				Role: workerActor.Role, At: at, Summary: reminderSummary(it, recipients),
				Data: map[string]any{"obligation": string(o.ID), "stage": string(it.Stage), "due": o.Due.String(),
					"days_left": it.DaysLeft, "recipients": recipients}})
			if err != nil {
				return err
			}
			p.HSet(ctx, remindersKey(breachID), reminderField(o.ID, it.Stage), sent)
			p.XAdd(ctx, &redis.XAddArgs{Stream: eventsKey(breachID), Values: vals})
		}
		return nil
	})
	return storeErr("record reminders of breach "+breachID, err)
}

func reminderSummary(it breach.ReminderItem, recipients int) string {
	when := fmt.Sprintf("due %s", it.Obligation.Due)
	if it.Stage == breach.ReminderOverdue {
		when = fmt.Sprintf("overdue since %s", it.Obligation.Due)
	}
	admins := "administrators"
	if recipients == 1 {
		admins = "administrator"
	}
	return fmt.Sprintf("Reminder (%s) sent to %d %s: %s, %s", strings.ReplaceAll(string(it.Stage), "_", " "), recipients, admins,
		it.Obligation.Title, when)
}
