package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
)

// Task types. They are persisted in Redis with every queued task: never rename one.
const (
	// TypeEmailBatch sends up to EmailBatchSize email notices of one breach over one SMTP
	// connection. Payload: batchPayload.
	TypeEmailBatch = "notice:email-batch"
	// TypeCallBatch hands up to EmailBatchSize phone notices of one breach to Twilio, one
	// TypeCall task each (so that each call retries on its own). Payload: batchPayload.
	TypeCallBatch = "notice:call-batch"
	// TypeCall places one telephone notice through the Caller. Payload: noticePayload.
	TypeCall = "notice:call"
	// TypeCallWindow runs when a telephone notice's 72 hours are over (LAW.md §3): no
	// conversation by then, and the notice fails and a letter replaces it. Payload: noticePayload.
	TypeCallWindow = "notice:call-window"
	// TypeFoldQueued folds a breach's queued logs into its queued sets (see
	// keyNoticesQueuedLogFmt), so that the first list after a large dispatch is fast. Payload:
	// noticePayload with only BreachID.
	TypeFoldQueued = "notices:fold-queued"
)

// Queue defaults.
const (
	// QueueName is the asynq queue every breachd task goes to.
	QueueName = "breachd"
	// EmailBatchSize is how many notices one batch task carries at most.
	EmailBatchSize = 500
	// DefaultMaxRetry is how often a failing task is retried (with backoff) before it goes to the
	// dead letters (asynq's archive).
	DefaultMaxRetry = 8
	// batchRetention keeps a finished batch task for a day, so that enqueueing the same batch again
	// in that time is refused by its task ID rather than run again (which would do nothing: the
	// handlers skip notices no longer queued).
	batchRetention = 24 * time.Hour
)

// Task ID prefixes, persisted with the tasks.
const (
	taskIDEmailBatch = "email-batch:"
	taskIDCallBatch  = "call-batch:"
	taskIDCall       = "call:"
	taskIDCallWindow = "call-window:"
	taskIDFoldQueued = "fold-queued:"
)

// batchPayload is the payload of TypeEmailBatch and TypeCallBatch.
type batchPayload struct {
	BreachID  string   `json:"breach_id"`
	NoticeIDs []string `json:"notice_ids"`
}

// noticePayload is the payload of TypeCall and TypeCallWindow.
type noticePayload struct {
	BreachID string `json:"breach_id"`
	NoticeID string `json:"notice_id"`
}

// Queue puts breachd's work on the asynq queue and reads its dead letters. It is safe for
// concurrent use; the caller owns the Redis client and closes it.
type Queue struct {
	client    *asynq.Client
	inspector *asynq.Inspector
	maxRetry  int
}

// QueueOption configures a Queue.
type QueueOption func(*Queue)

// WithMaxRetry sets how often a failing task is retried before it goes to the dead letters.
// Default DefaultMaxRetry.
func WithMaxRetry(n int) QueueOption {
	return func(q *Queue) { q.maxRetry = max(n, 0) }
}

// NewQueue returns a Queue on rdb.
func NewQueue(rdb redis.UniversalClient, opts ...QueueOption) *Queue {
	q := &Queue{
		client:    asynq.NewClientFromRedisClient(rdb),
		inspector: asynq.NewInspectorFromRedisClient(rdb),
		maxRetry:  DefaultMaxRetry,
	}
	for _, o := range opts {
		o(q)
	}
	return q
}

// batchTaskID is the task ID of a batch: the same notices give the same ID, whatever their order.
func batchTaskID(prefix, breachID string, ids []string) string {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	h := sha256.New()
	h.Write([]byte(breachID))
	for _, id := range sorted {
		h.Write([]byte{'\n'})
		h.Write([]byte(id))
	}
	return prefix + breachID + ":" + hex.EncodeToString(h.Sum(nil)[:16])
}

// enqueue adds a task and reports whether it was new: a task with the same ID already queued,
// scheduled, retrying, archived or (for a while) finished is not added again.
func (q *Queue) enqueue(ctx context.Context, typ string, payload any, taskID string, opts ...asynq.Option) (bool, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return false, fmt.Errorf("encode %s task: %w", typ, err)
	}
	opts = append([]asynq.Option{asynq.Queue(QueueName), asynq.MaxRetry(q.maxRetry), asynq.TaskID(taskID)}, opts...)
	_, err = q.client.EnqueueContext(ctx, asynq.NewTask(typ, data), opts...)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict):
		return false, nil
	case err != nil:
		return false, storeErr("enqueue "+typ, asynqErr(err))
	}
	return true, nil
}

// asynqErr gives back what asynq's error says of the connection. asynq formats the Redis error
// into its own message ("UNKNOWN: redis eval error: EOF") instead of wrapping it, so storeErr
// could not tell a lost Redis (EUNAVAILABLE, 503) from a bug (500); the message is all there is.
func asynqErr(err error) error {
	if unreachable(err) {
		return err
	}
	msg := err.Error()
	for _, s := range []string{": EOF", "unexpected EOF", "connection refused", "connection reset", "broken pipe",
		"i/o timeout", "use of closed network connection", "client is closed", "LOADING", "connection pool timeout"} {
		if strings.Contains(msg, s) {
			return fmt.Errorf("%w: %w", err, redis.ErrClosed) // what unreachable recognises
		}
	}
	return err
}

// enqueueBatch queues one batch task of up to EmailBatchSize notices of a breach.
func (q *Queue) enqueueBatch(ctx context.Context, typ, breachID string, ids []string) (bool, error) {
	prefix := taskIDEmailBatch
	if typ == TypeCallBatch {
		prefix = taskIDCallBatch
	}
	return q.enqueue(ctx, typ, batchPayload{BreachID: breachID, NoticeIDs: ids},
		batchTaskID(prefix, breachID, ids), asynq.Retention(batchRetention))
}

// enqueueCall queues a call attempt of a notice, numbered so that a later attempt is a new task.
func (q *Queue) enqueueCall(ctx context.Context, breachID, noticeID string, attempt int, at time.Time) (bool, error) {
	id := fmt.Sprintf("%s%s:%d", taskIDCall, noticeID, attempt)
	opts := []asynq.Option{}
	if !at.IsZero() {
		opts = append(opts, asynq.ProcessAt(at))
	}
	return q.enqueue(ctx, TypeCall, noticePayload{BreachID: breachID, NoticeID: noticeID}, id, opts...)
}

// enqueueCallWindow schedules the end of a notice's call window; once per notice.
func (q *Queue) enqueueCallWindow(ctx context.Context, breachID, noticeID string, at time.Time) (bool, error) {
	return q.enqueue(ctx, TypeCallWindow, noticePayload{BreachID: breachID, NoticeID: noticeID},
		taskIDCallWindow+noticeID, asynq.ProcessAt(at))
}

// enqueueFold queues the folding of a breach's queued logs. One such task waits at a time: a
// second request while one is queued adds nothing, since the one queued folds everything.
func (q *Queue) enqueueFold(ctx context.Context, breachID string) (bool, error) {
	return q.enqueue(ctx, TypeFoldQueued, noticePayload{BreachID: breachID}, taskIDFoldQueued+breachID)
}

// DeadLetter is a task that failed every retry (see breach.DeadLetter).
type DeadLetter = breach.DeadLetter

// deadLetterPage is the page size DeadLetters reads the archive in.
const deadLetterPage = 500

// DeadLetters lists every task in the dead letters, most recently failed first.
func (q *Queue) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	out := []DeadLetter{}
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tasks, err := q.inspector.ListArchivedTasks(QueueName, asynq.PageSize(deadLetterPage), asynq.Page(page))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, storeErr("list dead letters", err)
		}
		for _, t := range tasks {
			dl := DeadLetter{ID: t.ID, Type: t.Type, Retried: t.Retried, LastError: t.LastErr, FailedAt: t.LastFailedAt}
			switch t.Type {
			case TypeEmailBatch, TypeCallBatch:
				var p batchPayload
				if json.Unmarshal(t.Payload, &p) == nil {
					dl.BreachID, dl.NoticeIDs = p.BreachID, p.NoticeIDs
				}
			case TypeCall, TypeCallWindow:
				var p noticePayload
				if json.Unmarshal(t.Payload, &p) == nil {
					dl.BreachID, dl.NoticeIDs = p.BreachID, []string{p.NoticeID}
				}
			}
			out = append(out, dl)
		}
		if len(tasks) < deadLetterPage {
			return out, nil
		}
	}
}

// RetryDeadLetter puts a dead letter back on the queue to run now (with its retry count kept).
// ENOTFOUND when there is no such dead letter.
func (q *Queue) RetryDeadLetter(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	info, err := q.inspector.GetTaskInfo(QueueName, id)
	switch {
	case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
		return breach.Errorf(breach.ENOTFOUND, "dead letter %s not found", id)
	case err != nil:
		return storeErr("retry dead letter "+id, err)
	case info.State != asynq.TaskStateArchived:
		return breach.Errorf(breach.ENOTFOUND, "dead letter %s not found (the task is %s)", id, strings.ToLower(info.State.String()))
	}
	if err := q.inspector.RunTask(QueueName, id); err != nil {
		if errors.Is(err, asynq.ErrTaskNotFound) {
			return breach.Errorf(breach.ENOTFOUND, "dead letter %s not found", id)
		}
		return storeErr("retry dead letter "+id, err)
	}
	return nil
}

// Recovery of tasks whose worker died
//
// asynq gives a running task a 30 s lease, extended every 5 s by its server's heartbeat, and its
// recoverer looks for expired leases once a minute and then retries them with backoff: a worker
// killed mid-batch left its batch untouched for 100–150 s. recoverOrphans does better with what
// asynq already records: a lease not extended for leaseStaleAfter means that no heartbeat came
// from its worker twice in a row, so the task is put straight back at the head of the pending list
// (what asynq does itself at a graceful shutdown). An email batch also needs its sender key to
// have expired (senderTTL after its worker's last step): a worker that is alive but slow keeps it.

// The asynq keys recoverOrphans reads and writes (asynq v0.26's layout, internal/base): the queue's
// lease set (task ID → lease expiry, unix seconds), its active and pending lists, the task hash.
var (
	asynqLeaseKey   = "asynq:{" + QueueName + "}:lease"
	asynqActiveKey  = "asynq:{" + QueueName + "}:active"
	asynqPendingKey = "asynq:{" + QueueName + "}:pending"
	asynqTaskPrefix = "asynq:{" + QueueName + "}:t:"
)

const (
	// asynqLease is the lease asynq gives and renews (rdb.LeaseDuration).
	asynqLease = 30 * time.Second
	// leaseStaleAfter is how long a lease may go without renewal before its task is taken back:
	// two heartbeats (5 s apart) missed, and a little more.
	leaseStaleAfter = 12 * time.Second
	// recoverInterval is how often a worker looks for such tasks.
	recoverInterval = 2 * time.Second
)

// requeueStaleScript moves an active task back to the head of the pending list if its lease
// still has not been renewed (the score is still at most ARGV[2]). It returns 1 when moved.
//
// KEYS: lease set, active list, pending list, task hash. ARGV: task ID, latest stale score.
var requeueStaleScript = redis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) > tonumber(ARGV[2]) then return 0 end
if redis.call('LREM', KEYS[2], 0, ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('RPUSH', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[4], 'state', 'pending')
return 1
`)

// recoverOrphans puts back on the queue every task of a worker that stopped renewing its lease,
// and returns how many it moved.
func recoverOrphans(ctx context.Context, rdb redis.UniversalClient, now time.Time) (int, error) {
	stale := now.Add(asynqLease - leaseStaleAfter).Unix()
	ids, err := rdb.ZRangeByScore(ctx, asynqLeaseKey, &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(stale, 10)}).Result()
	if err != nil {
		return 0, storeErr("list stale leases", err)
	}
	moved := 0
	for _, id := range ids {
		if rest, ok := strings.CutPrefix(id, taskIDEmailBatch); ok {
			breachID, _, _ := strings.Cut(rest, ":")
			held, err := rdb.Exists(ctx, fmt.Sprintf(keyEmailSenderFmt, breachID, id)).Result()
			if err != nil {
				return moved, storeErr("check batch sender", err)
			}
			if held > 0 {
				continue // its worker is alive (slow): it renewed its sender key
			}
		}
		n, err := requeueStaleScript.Run(ctx, rdb, []string{asynqLeaseKey, asynqActiveKey, asynqPendingKey, asynqTaskPrefix + id},
			id, stale).Int()
		if err != nil {
			return moved, storeErr("requeue task "+id, err)
		}
		moved += n
	}
	return moved, nil
}
