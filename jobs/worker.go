package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

// Worker defaults.
const (
	DefaultConcurrency = 10
	// DefaultHoldRetryDelay is how long a task waits before it looks again whether a
	// law-enforcement hold has been released.
	DefaultHoldRetryDelay = time.Minute
	// DefaultCallRetryInterval is how long after an unanswered Twilio call the next is placed,
	// while the 72-hour window is open.
	DefaultCallRetryInterval = 4 * time.Hour
	// twilioCallbackPath is the API route Twilio's status callbacks go to (the API owns it).
	twilioCallbackPath = "/v1/webhooks/twilio"
)

// Reasons recorded on failed notices (never personal information).
const (
	reasonCallWindow  = "no conversation within 72 hours of the first attempt"
	reasonWrongNumber = "wrong number"
)

// ErrHeld is what a task returns while a law-enforcement hold is open: nothing may be sent
// (LAW.md §2). The task is retried after WorkerConfig.HoldRetryDelay, and the wait does not count
// as a failed attempt, so queued work resumes by itself once the hold is released.
var ErrHeld = errors.New("a law-enforcement hold is open: nothing may be sent until it is released")

// errWindowOpen is returned by a call-window task that runs before the window ends (a clock
// difference between machines); like ErrHeld it is retried without counting.
var errWindowOpen = errors.New("the call window is still open")

// errUnchanged is returned by an update function that finds nothing to do (the notice moved on).
var errUnchanged = errors.New("notice unchanged")

// workerActor is who the events of the workers are recorded as.
var workerActor = breach.Actor{ID: "worker", Role: "system"}

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	Store *Store                // required
	Queue *Queue                // required
	Redis redis.UniversalClient // required: the connection the asynq server uses (not closed by the Worker)

	Mailer   breach.Mailer   // required to send email notices
	Caller   breach.Caller   // nil: phone notices are clerk call tasks, worked through the API
	Composer breach.Composer // required
	// PublicURL is where Twilio reaches the API (e.g. https://breachd.example.org); status
	// callbacks go to PublicURL + "/v1/webhooks/twilio?notice=<id>". Required with a Caller.
	PublicURL string

	Clock  func() time.Time // default time.Now
	Logger *slog.Logger     // default slog.Default()
	// Concurrency is how many tasks run at once. Default DefaultConcurrency.
	Concurrency int
	// HoldRetryDelay: see ErrHeld. Default DefaultHoldRetryDelay.
	HoldRetryDelay time.Duration
	// RetryDelay is the backoff before the n-th retry of a failed task. Default asynq's
	// exponential backoff (about 16 s, 31 s, 96 s, … 70 minutes at the 8th).
	RetryDelay func(n int) time.Duration
	// CallRetryInterval: see DefaultCallRetryInterval.
	CallRetryInterval time.Duration
	// PollInterval is how often an idle worker looks for tasks and moves scheduled and retried
	// tasks that are due. Default 1 s (and 5 s for scheduled tasks, asynq's defaults).
	PollInterval time.Duration
	// ShutdownTimeout is how long Shutdown lets running tasks finish before handing them back to
	// the queue. Default 8 s.
	ShutdownTimeout time.Duration
}

// Worker runs the queued tasks (an asynq server) and records call attempts. Its handlers follow
// one contract: nil = done; an error = retry with backoff (up to DefaultMaxRetry, then the dead
// letters); an asynq.SkipRetry-wrapped error = permanent (straight to the dead letters); ErrHeld
// = wait for the hold's release, not counted. Every handler is idempotent: a notice that is no
// longer queued is skipped, so a retried batch never sends a message twice.
type Worker struct {
	store        *Store
	queue        *Queue
	mailer       breach.Mailer
	caller       breach.Caller
	composer     breach.Composer
	publicURL    string
	now          func() time.Time
	log          *slog.Logger
	callInterval time.Duration
	srv          *asynq.Server
	rdb          redis.UniversalClient
	stopRecover  func()
}

var _ asynq.Handler = (*Worker)(nil)

// NewWorker checks cfg and returns a Worker; Start runs it.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	var fe []breach.FieldError
	bad := func(field, reason string) { fe = append(fe, breach.FieldError{Field: field, Reason: reason}) }
	if cfg.Store == nil {
		bad("Store", "is required")
	}
	if cfg.Queue == nil {
		bad("Queue", "is required")
	}
	if cfg.Redis == nil {
		bad("Redis", "is required")
	}
	if cfg.Composer == nil {
		bad("Composer", "is required")
	}
	if cfg.Mailer == nil {
		bad("Mailer", "is required")
	}
	if cfg.Caller != nil {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			bad("PublicURL", "must be the absolute http(s) URL Twilio reaches the API at, without a query")
		}
	}
	if err := breach.InvalidFields(fe); err != nil {
		return nil, fmt.Errorf("worker config: %w", err)
	}
	w := &Worker{store: cfg.Store, queue: cfg.Queue, mailer: cfg.Mailer, caller: cfg.Caller, composer: cfg.Composer,
		publicURL: strings.TrimSuffix(cfg.PublicURL, "/"), now: cfg.Clock, log: cfg.Logger, callInterval: cfg.CallRetryInterval}
	if w.now == nil {
		w.now = time.Now
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	if w.callInterval <= 0 {
		w.callInterval = DefaultCallRetryInterval
	}
	holdDelay := cfg.HoldRetryDelay
	if holdDelay <= 0 {
		holdDelay = DefaultHoldRetryDelay
	}
	concurrency := cfg.Concurrency
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	acfg := asynq.Config{
		Concurrency: concurrency,
		Queues:      map[string]int{QueueName: 1},
		RetryDelayFunc: func(n int, err error, t *asynq.Task) time.Duration {
			switch {
			case errors.Is(err, ErrHeld), errors.Is(err, errWindowOpen):
				return holdDelay
			case errors.Is(err, errBatchBusy), errors.Is(err, errBatchTaken):
				return senderTTL
			case cfg.RetryDelay != nil:
				return cfg.RetryDelay(n)
			}
			return asynq.DefaultRetryDelayFunc(n, err, t)
		},
		IsFailure: func(err error) bool {
			return !errors.Is(err, ErrHeld) && !errors.Is(err, errWindowOpen) && !errors.Is(err, errBatchBusy)
		},
		Logger:          asynqLogger{w.log},
		LogLevel:        asynq.WarnLevel,
		ShutdownTimeout: cfg.ShutdownTimeout,
	}
	if cfg.PollInterval > 0 {
		acfg.TaskCheckInterval = cfg.PollInterval
		acfg.DelayedTaskCheckInterval = cfg.PollInterval
	}
	w.srv = asynq.NewServerFromRedisClient(cfg.Redis, acfg)
	w.rdb = cfg.Redis
	return w, nil
}

// Start starts processing tasks in the background.
// It also takes back, every recoverInterval, the tasks of workers that died (see recoverOrphans),
// so that their work resumes within about 15 s rather than asynq's 100–150 s.
func (w *Worker) Start() error {
	if err := w.srv.Start(w); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(recoverInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				n, err := recoverOrphans(ctx, w.rdb, time.Now())
				switch {
				case err != nil && ctx.Err() == nil:
					w.log.Warn("recover the tasks of stopped workers", "err", err)
				case n > 0:
					w.log.Warn("took back the tasks of a worker that stopped", "tasks", n)
				}
			}
		}
	}()
	w.stopRecover = func() { cancel(); <-done }
	return nil
}

// Shutdown stops taking tasks, lets running ones finish (up to ShutdownTimeout, then hands them
// back to the queue) and returns when every worker goroutine has ended.
func (w *Worker) Shutdown() {
	if w.stopRecover != nil {
		w.stopRecover()
	}
	w.srv.Shutdown()
}

// ProcessTask runs one task: the handler contract is on Worker.
func (w *Worker) ProcessTask(ctx context.Context, t *asynq.Task) error {
	switch t.Type() {
	case TypeEmailBatch:
		return w.handleEmailBatch(ctx, t)
	case TypeCallBatch:
		return w.handleCallBatch(ctx, t)
	case TypeCall:
		return w.handleCall(ctx, t)
	case TypeCallWindow:
		return w.handleCallWindow(ctx, t)
	case TypeFoldQueued:
		p, err := decodePayload[noticePayload](t)
		if err != nil {
			return err
		}
		return w.store.foldQueued(ctx, noticeKeysOf(p.BreachID), noticeChannels)
	}
	return fmt.Errorf("unknown task type %q: %w", t.Type(), asynq.SkipRetry)
}

// DeadLetters lists the tasks that failed for good; see Queue.DeadLetters.
func (w *Worker) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	return w.queue.DeadLetters(ctx)
}

// RetryDeadLetter runs a dead letter again; see Queue.RetryDeadLetter.
func (w *Worker) RetryDeadLetter(ctx context.Context, id string) error {
	return w.queue.RetryDeadLetter(ctx, id)
}

func permanent(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), asynq.SkipRetry)
}

// loadBreach loads a task's breach: a breach that no longer exists is permanent (purged).
func (w *Worker) loadBreach(ctx context.Context, id string) (*breach.Breach, error) {
	b, err := w.store.Breach(ctx, id)
	if breach.ErrorCode(err) == breach.ENOTFOUND {
		return nil, permanent("breach %s not found", id)
	}
	return b, err
}

func heldErr(b *breach.Breach) error {
	if h, held := b.OpenHold(); held {
		return fmt.Errorf("breach %s, hold %s: %w", b.ID, h.ID, ErrHeld)
	}
	return nil
}

func decodePayload[T any](t *asynq.Task) (T, error) {
	var p T
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, permanent("%s: invalid payload: %v", t.Type(), err)
	}
	return p, nil
}

// sendReason is what is recorded of a delivery error: a SendError's reason, never its cause
// (an SMTP reply may quote the address).
func sendReason(err error) (reason string, perm bool) {
	var se *breach.SendError
	if errors.As(err, &se) {
		return se.Reason, se.Permanent
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "interrupted", false
	}
	return "delivery failed", false
}

// handleEmailBatch sends the queued email notices of a batch over one connection, recording each
// message's outcome before the next one starts (see sending.go): sent → sent; permanent failure →
// failed, and a letter replaces it; temporary refusal of a message → attempt counted and the task
// fails, so asynq retries it with backoff (the notices already sent are skipped then). A session
// the server refuses or a server that cannot be reached hands over no message: it counts one retry
// of the batch (one notice.retried event for the batch, no attempt on any notice) and marks the
// channel degraded until a message goes through again.
func (w *Worker) handleEmailBatch(ctx context.Context, t *asynq.Task) error {
	p, err := decodePayload[batchPayload](t)
	if err != nil {
		return err
	}
	b, err := w.loadBreach(ctx, p.BreachID)
	if err != nil {
		return err
	}
	if err := heldErr(b); err != nil {
		return err
	}
	taskID, _ := asynq.GetTaskID(ctx)
	if taskID == "" {
		taskID = batchTaskID(taskIDEmailBatch, p.BreachID, p.NoticeIDs)
	}
	sender, err := w.acquireSender(ctx, p.BreachID, taskID)
	if err != nil {
		return err
	}
	defer sender.release()
	ns, raws, err := w.store.noticesByID(ctx, p.BreachID, p.NoticeIDs)
	if err != nil {
		return err
	}
	claimed, err := w.claimsOf(ctx, p.BreachID, p.NoticeIDs)
	if err != nil {
		return err
	}
	var todo []*breach.Notice
	var todoRaw [][]byte
	var msgs []breach.EmailMessage
	var failedIDs, stale []string
	for i, n := range ns {
		if n.Status != breach.NoticeQueued || n.Channel != breach.MethodEmail {
			if claimed[n.ID] {
				stale = append(stale, n.ID) // its outcome was recorded; the claim outlived a crash
			}
			continue
		}
		if claimed[n.ID] {
			// An earlier run stopped while this message was being handed over: the server may
			// have accepted it. Say so before it goes again.
			if err := w.markPossiblyDuplicated(ctx, b.ID, n.ID); err != nil {
				return err
			}
			if n, raws[i], err = w.store.loadNotice(ctx, noticeKeysOf(b.ID).records, n.ID); err != nil {
				return err
			}
		}
		msg, err := w.composer.Email(b, *n)
		if err != nil {
			// The text cannot be written (a template or a determination to fix): try again later.
			w.log.Error("compose email notice", "notice", n.ID, "err", err)
			failedIDs = append(failedIDs, n.ID)
			continue
		}
		if msg.NoticeID == "" {
			msg.NoticeID = n.ID
		}
		todo, todoRaw, msgs = append(todo, n), append(todoRaw, raws[i]), append(msgs, msg)
	}
	if err := w.dropClaims(ctx, b.ID, stale); err != nil {
		return err
	}
	if len(msgs) == 0 {
		if len(failedIDs) > 0 {
			return fmt.Errorf("%d of %d email notices not sent yet (first %s); the batch is retried", len(failedIDs), len(p.NoticeIDs), failedIDs[0])
		}
		return nil
	}
	e := &emailSend{w: w, ctx: ctx, b: b, keys: noticeKeysOf(b.ID), inFlight: fmt.Sprintf(keyNoticesInFlightFmt, b.ID),
		sender: sender, todo: todo, raws: todoRaw, accepted: -1, refused: -1,
		recorded: make([]bool, len(todo)), answered: make([]bool, len(todo)), receipts: make([]breach.EmailReceipt, len(todo))}
	var results []error
	var batchErr error
	if em, ok := w.mailer.(eachMailer); ok {
		results, batchErr = em.SendEach(ctx, msgs, e.before, e.after)
		if err := e.flush(); err != nil {
			return err // the last message's claim stays: it is sent again, marked possibly duplicated
		}
	} else {
		// A mailer that cannot report message by message (no SendEach): its results are recorded
		// after the batch.
		results, batchErr = w.mailer.Send(ctx, msgs)
		for i := range e.answered {
			e.answered[i] = batchErr == nil
		}
	}
	sent, notHanded := 0, 0
	var notHandedReason string
	for i, n := range todo {
		var err error
		switch {
		case batchErr != nil:
			err = batchErr
		case i < len(results):
			err = results[i]
		default:
			err = &breach.SendError{Reason: "the mailer gave no result"}
		}
		if err == nil {
			sent++
			if !e.recorded[i] {
				if err := w.markSent(ctx, b.ID, n.ID, todoRaw[i], e.receipts[i]); err != nil {
					return err
				}
			}
			continue
		}
		reason, perm := sendReason(err)
		if perm {
			if err := w.failWithFallback(ctx, b, n.ID, reason, nil); err != nil {
				return err
			}
			continue
		}
		failedIDs = append(failedIDs, n.ID)
		if !e.answered[i] {
			// Never handed to the server (the session failed, or ended before this message):
			// not an attempt of this notice. The batch's retry is recorded once, below.
			notHanded++
			if notHandedReason == "" {
				notHandedReason = reason
			}
			continue
		}
		if err := w.markRetried(ctx, b.ID, n.ID, todoRaw[i], reason); err != nil {
			return err
		}
	}
	switch {
	case batchErr != nil:
		reason, _ := sendReason(batchErr)
		w.channelDegraded(ctx, breach.MethodEmail, reason)
	case sent > 0:
		w.channelHealthy(ctx, breach.MethodEmail)
	}
	if notHanded > 0 {
		now := w.now()
		ev := breach.Event{Type: breach.EventNoticeRetried, Actor: workerActor.ID, Role: workerActor.Role, At: now,
			Summary: fmt.Sprintf("No email of the batch was handed to the mail server (%s): the batch of %d will be retried", notHandedReason, notHanded),
			Data:    map[string]any{"batch": taskID, "count": notHanded, "reason": notHandedReason, "channel": string(breach.MethodEmail)}}
		if err := w.store.appendEvent(ctx, b.ID, ev); err != nil {
			return err
		}
	}
	if len(failedIDs) > 0 {
		return fmt.Errorf("%d of %d email notices not sent yet (first %s); the batch is retried", len(failedIDs), len(p.NoticeIDs), failedIDs[0])
	}
	return nil
}

func (w *Worker) markSent(ctx context.Context, breachID, id string, raw []byte, r breach.EmailReceipt) error {
	_, err := w.store.updateNotice(ctx, breachID, id, raw, sentUpdate(w.now(), r))
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

func (w *Worker) markRetried(ctx context.Context, breachID, id string, raw []byte, reason string) error {
	now := w.now()
	_, err := w.store.updateNotice(ctx, breachID, id, raw, func(n *breach.Notice) ([]breach.Event, error) {
		if n.Status != breach.NoticeQueued {
			return nil, errUnchanged
		}
		n.Attempts++
		n.LastError = reason
		return []breach.Event{{Type: breach.EventNoticeRetried, Actor: workerActor.ID, Role: workerActor.Role, At: now,
			Summary: "Delivery failed temporarily; it will be retried",
			Data:    map[string]any{"notice_id": n.ID, "attempt": n.Attempts, "reason": reason}}}, nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

// fallbackLetter is the letter that replaces notice n, or ok false when the person has no postal
// address (the substitute notice must reach them).
func (w *Worker) fallbackLetter(ctx context.Context, b *breach.Breach, n *breach.Notice) (breach.Notice, bool, error) {
	asOf := breach.DateOf(w.now(), b.Determination.Location())
	var letter breach.Notice
	for i, rid := range n.RecipientIDs {
		r, err := w.store.Recipient(ctx, b.ID, rid)
		if err != nil {
			return letter, false, err
		}
		rt, ok := rules.Fallback(*r, asOf)
		if !ok {
			return letter, false, nil
		}
		if i == 0 {
			letter = breach.Notice{
				ID:      noticeID(b.ID, breach.MethodLetter, fallbackKey(n.ID), dispatchGeneration),
				Channel: breach.MethodLetter, AddresseeName: rt.Name, ToGuardian: rt.ToGuardian,
				Address: rt.Address, Language: r.Language, FallbackFor: n.ID,
			}
		}
		letter.RecipientIDs = append(letter.RecipientIDs, r.ID)
		if rt.ToGuardian {
			letter.Children = append(letter.Children, r.Name())
		}
	}
	return letter, len(letter.RecipientIDs) > 0, nil
}

// ensureFallback creates (once) the letter replacing notice n and returns its ID, or "" when
// there is no address to send one to.
func (w *Worker) ensureFallback(ctx context.Context, b *breach.Breach, n *breach.Notice) (string, error) {
	if n.FallbackID != "" {
		return n.FallbackID, nil
	}
	if n.Substitute {
		return "", nil // the person's individual notice is their letter or call: nothing replaces this email
	}
	letter, ok, err := w.fallbackLetter(ctx, b, n)
	if err != nil || !ok {
		return "", err
	}
	if _, err := w.store.CreateNotices(ctx, b.ID, []breach.Notice{letter}, workerActor); err != nil {
		return "", err
	}
	return letter.ID, nil
}

// failWithFallback marks a notice failed for good with the reason, after creating the letter that
// replaces it (first, so that a crash in between leaves a notice still to fail rather than a
// failed notice without its letter). more, when given, changes the notice in the same update and
// returns extra events to record before the failure. A notice already delivered, failed or
// returned is left alone.
func (w *Worker) failWithFallback(ctx context.Context, b *breach.Breach, id, reason string,
	more func(n *breach.Notice) []breach.Event) error {
	n, _, err := w.store.loadNotice(ctx, noticeKeysOf(b.ID).records, id)
	if err != nil {
		return err
	}
	if n.Status != breach.NoticeQueued && n.Status != breach.NoticeSent {
		return nil
	}
	fallbackID, err := w.ensureFallback(ctx, b, n)
	if err != nil {
		return err
	}
	now := w.now()
	_, err = w.store.UpdateNotice(ctx, id, func(n *breach.Notice) ([]breach.Event, error) {
		if n.Status != breach.NoticeQueued && n.Status != breach.NoticeSent {
			return nil, errUnchanged
		}
		var evs []breach.Event
		if more != nil {
			evs = more(n)
		}
		n.Status, n.LastError = breach.NoticeFailed, reason
		data := map[string]any{"notice_id": n.ID, "reason": reason, "permanent": true}
		if fallbackID == "" {
			data["substitute_notice"] = true
		}
		summary := "Notice failed; a letter replaces it"
		switch {
		case n.Substitute:
			summary = "Substitute-notice email failed; the person's individual notice goes on by its own channel"
			delete(data, "substitute_notice")
		case fallbackID == "":
			summary = "Notice failed and there is no postal address: the substitute notice must reach this person"
		}
		evs = append(evs, breach.Event{Type: breach.EventNoticeFailed, Actor: workerActor.ID, Role: workerActor.Role, At: now,
			Summary: summary, Data: data})
		if fallbackID != "" && n.FallbackID == "" {
			n.FallbackID = fallbackID
			evs = append(evs, fallbackEvent(n.ID, fallbackID, now))
		}
		return evs, nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

func fallbackEvent(id, fallbackID string, at time.Time) breach.Event {
	return breach.Event{Type: breach.EventNoticeFallback, Actor: workerActor.ID, Role: workerActor.Role, At: at,
		Summary: "A letter was queued to replace the notice",
		Data:    map[string]any{"notice_id": id, "fallback_id": fallbackID}}
}

// handleCallBatch turns a batch of phone notices into one call task each, so that each call is
// retried on its own.
func (w *Worker) handleCallBatch(ctx context.Context, t *asynq.Task) error {
	p, err := decodePayload[batchPayload](t)
	if err != nil {
		return err
	}
	for _, id := range p.NoticeIDs {
		if _, err := w.queue.enqueueCall(ctx, p.BreachID, id, 1, time.Time{}); err != nil {
			return err
		}
	}
	return nil
}

// callbackURL is where Twilio sends the status callbacks of a notice's calls.
func (w *Worker) callbackURL(noticeID string) string {
	return w.publicURL + twilioCallbackPath + "?notice=" + url.QueryEscape(noticeID)
}

// handleCall places one telephone notice through the Caller. The call's outcome arrives later
// (RecordCallAttempt, from the Twilio callback). The first call opens the 72-hour window.
func (w *Worker) handleCall(ctx context.Context, t *asynq.Task) error {
	p, err := decodePayload[noticePayload](t)
	if err != nil {
		return err
	}
	if w.caller == nil {
		return permanent("notice %s: no Caller is configured; phone notices are clerk call tasks", p.NoticeID)
	}
	b, err := w.loadBreach(ctx, p.BreachID)
	if err != nil {
		return err
	}
	if err := heldErr(b); err != nil {
		return err
	}
	n, raw, err := w.store.loadNotice(ctx, noticeKeysOf(b.ID).records, p.NoticeID)
	if breach.ErrorCode(err) == breach.ENOTFOUND {
		return permanent("notice %s not found", p.NoticeID)
	}
	if err != nil {
		return err
	}
	if n.Status != breach.NoticeQueued || n.Channel != breach.MethodPhone {
		return nil // placed already, delivered or failed
	}
	if !n.CallWindowEnds.IsZero() && !w.now().Before(n.CallWindowEnds) {
		return nil // the window is over: the window task fails it
	}
	script, err := w.composer.CallScript(b, *n)
	if err != nil {
		return fmt.Errorf("notice %s: compose the call script: %w", n.ID, err)
	}
	// The voice reads the whole script (greeting, parts A to E, goodbye) in the language the
	// script is written in, which is the notice's when it has a template.
	sid, err := w.caller.PlaceCall(ctx, breach.Call{NoticeID: n.ID, To: n.Phone, Script: script.Text,
		Language: script.Language, CallbackURL: w.callbackURL(n.ID)})
	var se *breach.SendError
	unknown := errors.As(err, &se) && se.Unknown
	if err != nil && !unknown {
		reason, perm := sendReason(err)
		if perm {
			return w.failWithFallback(ctx, b, n.ID, reason, nil)
		}
		if err := w.markRetried(ctx, b.ID, n.ID, raw, reason); err != nil {
			return err
		}
		return fmt.Errorf("notice %s: the call could not be placed (%s); retrying", n.ID, reason)
	}
	// A request whose outcome is unknown (sent, no answer) is never placed again on a guess: it
	// is recorded as a call that may have been placed, like one Twilio confirmed. Its status
	// callback, if the call exists, records the outcome (and schedules the next call); else a
	// clerk does, or the window closes and a letter replaces it (LAW.md §3).
	now := w.now()
	var first bool
	updated, err := w.store.updateNotice(ctx, b.ID, n.ID, raw, func(n *breach.Notice) ([]breach.Event, error) {
		if n.Status != breach.NoticeQueued {
			return nil, errUnchanged
		}
		first = openWindow(n, now)
		n.Attempts++
		n.Status, n.SentAt, n.LastError = breach.NoticeSent, now, ""
		ev := breach.Event{Type: breach.EventNoticeSent, Actor: workerActor.ID, Role: workerActor.Role, At: now,
			Summary: "Call placed; its outcome follows by callback",
			Data:    map[string]any{"notice_id": n.ID, "channel": string(n.Channel), "attempt": n.Attempts}}
		if sid != "" {
			ev.Data[breach.EvidenceCallSID] = sid // every status callback of the call names it
		}
		if unknown {
			n.LastError = se.Reason
			ev.Summary = "The call request got no answer after it was sent: the call may have been placed. It is not placed again; its outcome follows by callback, or a clerk records it"
			ev.Data["outcome_unknown"] = true
		}
		return []breach.Event{ev}, nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		return err
	}
	if first {
		return w.afterFirstAttempt(ctx, b, updated)
	}
	return nil
}

// openWindow records the first attempt of a call notice and reports whether this was it.
func openWindow(n *breach.Notice, at time.Time) bool {
	if !n.FirstAttemptAt.IsZero() {
		return false
	}
	n.FirstAttemptAt = at
	n.CallWindowEnds = at.Add(rules.CallWindow)
	return true
}

// afterFirstAttempt schedules the end of the call window and, when the window would reach past
// the deadline (LAW.md §3), queues the letter at once, in parallel.
func (w *Worker) afterFirstAttempt(ctx context.Context, b *breach.Breach, n *breach.Notice) error {
	if _, err := w.queue.enqueueCallWindow(ctx, b.ID, n.ID, n.CallWindowEnds); err != nil {
		return err
	}
	loc := b.Determination.Location()
	plan, err := rules.Assess(b.Determination, b.Holds, breach.DateOf(n.FirstAttemptAt, loc))
	if err != nil {
		return fmt.Errorf("notice %s: assess the plan for the call deadline: %w", n.ID, err)
	}
	if !rules.ParallelLetterNeeded(n.FirstAttemptAt, plan.Deadline, loc) || n.FallbackID != "" {
		return nil
	}
	fallbackID, err := w.ensureFallback(ctx, b, n)
	if err != nil || fallbackID == "" {
		return err
	}
	now := w.now()
	_, err = w.store.UpdateNotice(ctx, n.ID, func(n *breach.Notice) ([]breach.Event, error) {
		if n.FallbackID != "" {
			return nil, errUnchanged
		}
		n.FallbackID = fallbackID
		ev := fallbackEvent(n.ID, fallbackID, now)
		ev.Summary = "The first call is less than 3 days before the deadline: a letter was queued in parallel"
		ev.Data["parallel"] = true
		return []breach.Event{ev}, nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

// handleCallWindow fails a telephone notice whose 72 hours passed without a conversation, and
// queues its letter.
func (w *Worker) handleCallWindow(ctx context.Context, t *asynq.Task) error {
	p, err := decodePayload[noticePayload](t)
	if err != nil {
		return err
	}
	b, err := w.loadBreach(ctx, p.BreachID)
	if err != nil {
		return err
	}
	n, _, err := w.store.loadNotice(ctx, noticeKeysOf(b.ID).records, p.NoticeID)
	if breach.ErrorCode(err) == breach.ENOTFOUND {
		return permanent("notice %s not found", p.NoticeID)
	}
	if err != nil {
		return err
	}
	if n.Status != breach.NoticeQueued && n.Status != breach.NoticeSent {
		return nil
	}
	if n.CallWindowEnds.IsZero() || w.now().Before(n.CallWindowEnds) {
		return fmt.Errorf("notice %s: %w until %s", n.ID, errWindowOpen, n.CallWindowEnds.Format(time.RFC3339))
	}
	return w.failWithFallback(ctx, b, n.ID, reasonCallWindow, nil)
}

// RecordCallAttempt records the outcome of one call of a telephone notice, by a clerk working
// the call list or from a Twilio status callback (actor then says so), at the time it happened:
//   - the first attempt opens the 72-hour window (LAW.md §3) and schedules its end; when the
//     window would reach past the deadline a letter is queued at once, in parallel;
//   - a conversation within the window → delivered;
//   - a wrong number → failed, and a letter replaces it at once;
//   - anything else (no answer, busy, a voicemail — never notice —, a call that failed) is
//     recorded and the notice stays queued (with Twilio, the next call is scheduled).
//
// parts are the parts of the notice (LAW.md §4) the person was told: a conversation must list all
// five, any other outcome none (breach.CheckPartsDelivered). A Twilio conversation heard the whole
// script, which carries all five. They are recorded in the call.attempt event, A to E.
//
// It returns the notice as it now is; EINVALID for an unknown outcome or parts that do not fit it,
// ENOTFOUND for an unknown notice, ECONFLICT for a notice that is not a phone notice or is already
// delivered or failed, a conversation after the window closed, or while a law-enforcement hold is
// open.
func (w *Worker) RecordCallAttempt(ctx context.Context, noticeID string, outcome breach.CallOutcome,
	parts []breach.NoticePart, actor breach.Actor, at time.Time) (*breach.Notice, error) {
	return w.recordCallAttempt(ctx, noticeID, outcome, parts, actor, at, nil)
}

// recordCallAttempt is RecordCallAttempt with more evidence for the call.attempt event (data
// that names no one): what Twilio's final status callback said (RecordCallStatus).
func (w *Worker) recordCallAttempt(ctx context.Context, noticeID string, outcome breach.CallOutcome,
	parts []breach.NoticePart, actor breach.Actor, at time.Time, moreData map[string]any) (*breach.Notice, error) {
	if !slices.Contains(breach.CallOutcomes, outcome) {
		return nil, breach.InvalidFields([]breach.FieldError{{Field: "outcome",
			Reason: fmt.Sprintf("must be one of %v", breach.CallOutcomes)}})
	}
	if err := breach.CheckPartsDelivered(outcome, parts); err != nil {
		return nil, err
	}
	if at.IsZero() {
		at = w.now()
	}
	n, err := w.store.Notice(ctx, noticeID)
	if err != nil {
		return nil, err
	}
	b, err := w.store.Breach(ctx, n.BreachID)
	if err != nil {
		return nil, err
	}
	if h, held := b.OpenHold(); held {
		return nil, breach.Errorf(breach.ECONFLICT, "a law-enforcement hold (%s) is open: no notice may be given until it is released", h.ID)
	}
	if err := callable(n, outcome, at); err != nil {
		return nil, err
	}
	attemptEvent := func(n *breach.Notice) breach.Event {
		ev := breach.Event{Type: breach.EventCallAttempt, Actor: actor.ID, Role: actor.Role, At: at,
			Summary: "Call attempt: " + strings.ReplaceAll(string(outcome), "_", " "),
			Data:    map[string]any{"notice_id": n.ID, "outcome": string(outcome), "by": actor.ID, "attempt": n.Attempts}}
		maps.Copy(ev.Data, moreData)
		if len(parts) > 0 { // checked above: all five, so recorded in the order of the law
			said := make([]string, len(breach.NoticeParts))
			for i, p := range breach.NoticeParts {
				said[i] = string(p)
			}
			ev.Data["parts_delivered"] = said
			ev.Summary += " (parts " + strings.Join(said, ", ") + " said)"
		}
		return ev
	}
	// count records the attempt: a clerk's call is a new attempt; a callback reports the outcome
	// of the call the worker placed (status sent), already counted.
	var first bool
	count := func(n *breach.Notice) {
		first = openWindow(n, at)
		if n.Status != breach.NoticeSent {
			n.Attempts++
		}
	}

	if outcome == breach.CallWrongNumber {
		err := w.failWithFallback(ctx, b, noticeID, reasonWrongNumber, func(n *breach.Notice) []breach.Event {
			count(n)
			return []breach.Event{attemptEvent(n)}
		})
		if err != nil {
			return nil, err
		}
		return w.store.Notice(ctx, noticeID)
	}

	updated, err := w.store.UpdateNotice(ctx, noticeID, func(n *breach.Notice) ([]breach.Event, error) {
		if err := callable(n, outcome, at); err != nil {
			return nil, err
		}
		count(n)
		evs := []breach.Event{attemptEvent(n)}
		if outcome == breach.CallConversation {
			n.Status, n.SentAt = breach.NoticeDelivered, at
			evs = append(evs, breach.Event{Type: breach.EventNoticeDelivered, Actor: actor.ID, Role: actor.Role, At: at,
				Summary: "Telephone notice given in a conversation", Data: map[string]any{"notice_id": n.ID}})
		} else {
			n.Status = breach.NoticeQueued
		}
		return evs, nil
	})
	if err != nil {
		return nil, err
	}
	if first {
		if err := w.afterFirstAttempt(ctx, b, updated); err != nil {
			return nil, err
		}
		if updated, err = w.store.Notice(ctx, noticeID); err != nil {
			return nil, err
		}
	}
	if w.caller != nil && updated.Status == breach.NoticeQueued {
		next := at.Add(w.callInterval)
		if next.Before(updated.CallWindowEnds) {
			if _, err := w.queue.enqueueCall(ctx, b.ID, noticeID, updated.Attempts+1, next); err != nil {
				return nil, err
			}
		}
	}
	return updated, nil
}

// RecordCallStatus records one signed status callback of a call the worker placed through Twilio,
// as a call.status event of the notice with what Twilio said (call SID, status, AnsweredBy,
// duration, error codes, sequence number and Twilio's timestamp), at the time it arrived; the same
// callback delivered twice is recorded once. The callback that ends the call (Final) then records
// the call's outcome as RecordCallAttempt does, with the same evidence on the call.attempt event:
// a conversation with a person heard the whole script Twilio read, so it gave all five parts.
//
// The status is recorded whatever the notice's state (it is what happened); the outcome may then
// be refused as RecordCallAttempt refuses it. It returns the notice as it now is; EINVALID for a
// callback without a notice or call SID, ENOTFOUND for an unknown notice, ECONFLICT for a notice
// that is not a phone notice, and RecordCallAttempt's errors for the outcome.
func (w *Worker) RecordCallStatus(ctx context.Context, st breach.CallStatus, actor breach.Actor, at time.Time) (*breach.Notice, error) {
	var fe []breach.FieldError
	if st.NoticeID == "" {
		fe = append(fe, breach.FieldError{Field: "notice", Reason: "is required"})
	}
	if st.CallSID == "" {
		fe = append(fe, breach.FieldError{Field: "CallSid", Reason: "is required"})
	}
	if err := breach.InvalidFields(fe); err != nil {
		return nil, err
	}
	if at.IsZero() {
		at = w.now()
	}
	data := callStatusData(st)
	n, err := w.store.UpdateNotice(ctx, st.NoticeID, func(n *breach.Notice) ([]breach.Event, error) {
		if n.Channel != breach.MethodPhone {
			return nil, breach.Errorf(breach.ECONFLICT, "notice %s is a %s notice, not a call", n.ID, n.Channel)
		}
		for _, h := range n.History {
			if h.Type == breach.EventCallStatus && fmt.Sprint(h.Data[breach.EvidenceCallSID]) == st.CallSID &&
				fmt.Sprint(h.Data[breach.EvidenceCallStatus]) == st.Status && fmt.Sprint(h.Data[breach.EvidenceSequence]) == strconv.Itoa(st.SequenceNumber) {
				return nil, errUnchanged // delivered twice
			}
		}
		data["notice_id"] = n.ID
		summary := "Twilio status callback: " + st.Status
		if st.AnsweredBy != "" {
			summary += ", answered by " + strings.ReplaceAll(st.AnsweredBy, "_", " ")
		}
		return []breach.Event{{Type: breach.EventCallStatus, Actor: actor.ID, Role: actor.Role, At: at, Summary: summary, Data: data}}, nil
	})
	switch {
	case errors.Is(err, errUnchanged):
		if n, err = w.store.Notice(ctx, st.NoticeID); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	if !st.Final {
		return n, nil
	}
	var parts []breach.NoticePart
	if st.Outcome == breach.CallConversation {
		parts = breach.NoticeParts
	}
	more := map[string]any{breach.EvidenceCallSID: st.CallSID, breach.EvidenceCallStatus: st.Status,
		breach.EvidenceDuration: int(st.Duration / time.Second)}
	if st.AnsweredBy != "" {
		more[breach.EvidenceAnsweredBy] = st.AnsweredBy
	}
	return w.recordCallAttempt(ctx, st.NoticeID, st.Outcome, parts, actor, at, more)
}

// callStatusData is a status callback as a call.status event's data: only what Twilio gave.
func callStatusData(st breach.CallStatus) map[string]any {
	data := map[string]any{breach.EvidenceCallSID: st.CallSID, breach.EvidenceCallStatus: st.Status,
		breach.EvidenceSequence: st.SequenceNumber}
	if st.AnsweredBy != "" {
		data[breach.EvidenceAnsweredBy] = st.AnsweredBy
	}
	if st.Final || st.Duration > 0 {
		data[breach.EvidenceDuration] = int(st.Duration / time.Second)
	}
	if st.ErrorCode != 0 {
		data["error_code"] = st.ErrorCode
	}
	if st.SIPResponseCode != 0 {
		data["sip_response_code"] = st.SIPResponseCode
	}
	if !st.Timestamp.IsZero() {
		data[breach.EvidenceProviderTime] = st.Timestamp.UTC().Format(time.RFC3339)
	}
	return data
}

// RecordBounce records that an email notice bounced after the mail server had accepted it (a
// delivery-status notification a clerk found in the school's mailbox). A bounce means a letter,
// inside the deadline (LAW.md §3): the notice fails and the letter that replaces it is queued. A
// substitute-notice email that bounces just fails: the person's individual notice goes on.
//
// ENOTFOUND for an unknown notice; ECONFLICT for a notice that is not an email that was sent.
func (w *Worker) RecordBounce(ctx context.Context, noticeID, reason string, actor breach.Actor) (*breach.Notice, error) {
	return w.recordBounce(ctx, noticeID, reason, actor, nil, nil)
}

// recordBounce is RecordBounce with more evidence for the bounce event: data (nothing that
// names anyone) and private text (sealed with the reason). A DSN read from the mailbox passes its
// fields here (bounces_imap.go), so that a bounce is recorded in one place whoever found it.
func (w *Worker) recordBounce(ctx context.Context, noticeID, reason string, actor breach.Actor,
	moreData map[string]any, morePrivate map[string]string) (*breach.Notice, error) {
	n, err := w.store.Notice(ctx, noticeID)
	if err != nil {
		return nil, err
	}
	if n.Channel != breach.MethodEmail || n.Status != breach.NoticeSent {
		return nil, breach.Errorf(breach.ECONFLICT, "only a sent email can bounce; notice %s is a %s notice in status %s", n.ID, n.Channel, n.Status)
	}
	b, err := w.store.Breach(ctx, n.BreachID)
	if err != nil {
		return nil, err
	}
	// The clerk's text may name the person ("mailbox of Ava Smith unknown"): the event stream and
	// the failure keep only the SMTP codes found in it; the text itself is the event's private part,
	// sealed (and stripped of addresses and numbers as well).
	codes := breach.SMTPCodes(reason)
	public := "bounced"
	if codes != "" {
		public += " (" + codes + ")"
	}
	private := map[string]string{"reason": breach.RedactContact(reason)}
	maps.Copy(private, morePrivate)
	err = w.failWithFallback(ctx, b, noticeID, public, func(n *breach.Notice) []breach.Event {
		data := map[string]any{"notice_id": n.ID}
		maps.Copy(data, moreData)
		if codes != "" {
			data["smtp_status"] = codes
		}
		return []breach.Event{{Type: breach.EventNoticeBounced, Actor: actor.ID, Role: actor.Role, At: w.now(),
			Summary: "Email bounced after it was accepted", Data: data, Private: private}}
	})
	if err != nil {
		return nil, err
	}
	return w.store.Notice(ctx, noticeID)
}

// callable says why an outcome cannot be recorded on the notice, if it cannot.
func callable(n *breach.Notice, outcome breach.CallOutcome, at time.Time) error {
	switch {
	case n.Channel != breach.MethodPhone:
		return breach.Errorf(breach.ECONFLICT, "notice %s is a %s notice, not a call", n.ID, n.Channel)
	case n.Status != breach.NoticeQueued && n.Status != breach.NoticeSent:
		return breach.Errorf(breach.ECONFLICT, "notice %s is %s: no more calls are recorded", n.ID, n.Status)
	case outcome == breach.CallConversation && !n.CallWindowEnds.IsZero() && !at.Before(n.CallWindowEnds):
		return breach.Errorf(breach.ECONFLICT, "notice %s: the 72-hour window closed at %s; a letter replaces the call",
			n.ID, n.CallWindowEnds.Format(time.RFC3339))
	}
	return nil
}

// asynqLogger writes asynq's logs to slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }

// Fatal logs at error level; only main ends the process.
func (a asynqLogger) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}
