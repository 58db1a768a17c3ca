package jobs_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
)

// cutProxy forwards TCP to a Redis server until cut: then it drops every connection and refuses
// new ones until restored.
//
// What the client sees of a cut lags behind it: the FIN of a dropped connection arrives when the
// kernel delivers it, and go-redis's pool dials in the background, so that a connection the
// proxy refused during the outage can be handed, unused, to the first command after restore.
// On a loaded machine that command met the outage's EOF. So the client dials through dial, and
// restore closes the client's end of every connection dialed before it (all were dropped or
// refused, or are about to be), so that once the proxy answers again the client has seen the
// whole outage, as after any real one longer than those delays.
type cutProxy struct {
	ln       net.Listener
	target   string
	down     atomic.Bool
	mu       sync.Mutex
	conns    []net.Conn
	clients  []net.Conn // the client's ends, dialed through dial since the last restore
	restores int
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if p.down.Load() {
				c.Close()
				continue
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) cut() {
	p.down.Store(true)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *cutProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.clients {
		c.Close()
	}
	p.clients = nil
	p.restores++
	p.down.Store(false)
}

// dial is the client's Dialer: it connects to the proxy and keeps the client's end for restore;
// a connection whose connect spans a restore (the proxy may have refused it before) is closed and
// dialed again. It gives back the *net.TCPConn itself, for go-redis's health check.
func (p *cutProxy) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	for {
		p.mu.Lock()
		restores := p.restores
		p.mu.Unlock()
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		p.mu.Lock()
		if p.restores == restores {
			p.clients = append(p.clients, c)
			p.mu.Unlock()
			return c, nil
		}
		p.mu.Unlock()
		c.Close()
	}
}

// cutAfter is a go-redis hook that cuts the proxy just before the n-th command (or pipeline) once
// armed.
type cutAfter struct {
	p     *cutProxy
	armed atomic.Bool
	left  atomic.Int64
	seen  atomic.Int64 // commands and pipelines run
}

func (h *cutAfter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *cutAfter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.tick(); return next(ctx, cmd) }
}
func (h *cutAfter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.tick(); return next(ctx, cmds) }
}
func (h *cutAfter) tick() {
	h.seen.Add(1)
	if h.armed.Load() && h.left.Add(-1) == 0 {
		h.p.cut()
	}
}

// Redis lost in the middle of a dispatch: the dispatch fails with EUNAVAILABLE (the API's 503),
// and once Redis answers again a new dispatch is not refused by the lock the first one held: it
// runs at once and creates exactly the notices still missing (issue 10 §2).
func TestDispatchWithRedisLost(t *testing.T) {
	direct := redistest.New(t)
	p := newCutProxy(t, direct.Options().Addr)
	opt := *direct.Options()
	opt.Addr, opt.MaxRetries, opt.DialTimeout, opt.ReadTimeout = p.ln.Addr().String(), -1, time.Second, time.Second
	opt.Dialer = p.dial
	rdb := redis.NewClient(&opt)
	t.Cleanup(func() { rdb.Close() })
	hook := &cutAfter{p: p}
	rdb.AddHook(hook)

	s := jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{9}, jobs.KeySize)))
	ctx := context.Background()
	q := jobs.NewQueue(rdb)
	d := jobs.NewDispatcher(jobs.DispatcherConfig{Store: s, Queue: q})
	const people = 3000
	newPeople := func(i int) *breach.Breach {
		b := newBreach(newID(i))
		if err := s.CreateBreach(ctx, b, createdEvent(b)); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < people; i += 1000 {
			rs := make([]breach.Recipient, 0, 1000)
			for j := i; j < i+1000; j++ {
				r := mixRecipient(j)
				r.BreachID = b.ID
				rs = append(rs, r)
			}
			if _, err := s.AddRecipients(ctx, b.ID, rs); err != nil {
				t.Fatal(err)
			}
		}
		return b
	}
	// How many commands a whole dispatch of such a breach runs.
	before := hook.seen.Load()
	if _, err := d.Dispatch(ctx, newPeople(99), dispatchAsOf, ntActor); err != nil {
		t.Fatal(err)
	}
	n := hook.seen.Load() - before
	t.Logf("a dispatch of %d people runs %d commands and pipelines", people, n)
	// Cut at the lock, at the first reads, in the middle of the pages, while queueing the batches.
	for i, at := range []int64{1, 2, 3, n / 4, n / 3, n / 2} {
		b := newPeople(i)
		hook.left.Store(at)
		hook.armed.Store(true)
		_, err := d.Dispatch(ctx, b, dispatchAsOf, ntActor)
		hook.armed.Store(false)
		if hook.left.Load() > 0 {
			t.Fatalf("cut before command %d: the dispatch needed fewer commands (%d left): %v", at, hook.left.Load(), err)
		}
		if breach.ErrorCode(err) != breach.EUNAVAILABLE {
			t.Fatalf("cut before command %d: %v, want %s", at, err, breach.EUNAVAILABLE)
		}
		p.restore()
		// The lock the failed dispatch held is released as soon as Redis answers (not when
		// it expires): a new dispatch runs within a fraction of a second.
		start := time.Now()
		var rep jobs.DispatchReport
		for {
			rep, err = d.Dispatch(ctx, b, dispatchAsOf, ntActor)
			if breach.ErrorCode(err) != breach.ECONFLICT || time.Since(start) > 3*time.Second {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("cut before command %d: dispatch again %.1f s after Redis answers: %v", at, time.Since(start).Seconds(), err)
		}
		checkDispatchedOnce(t, d, s, b, rep)
	}
}

// checkDispatchedOnce checks that the breach's notices are those the last dispatch found or
// made, and that dispatching once more adds nothing.
func checkDispatchedOnce(t *testing.T, d *jobs.Dispatcher, s *jobs.Store, b *breach.Breach, rep jobs.DispatchReport) {
	t.Helper()
	ctx := context.Background()
	c, _, err := s.NoticeCounts(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, byStatus := range c {
		total += byStatus[breach.NoticeQueued]
	}
	if total != rep.Existing+sumCreated(rep) || sumCreated(rep) == 0 && rep.Existing == 0 {
		t.Fatalf("after the second dispatch: %d queued, report %+v", total, rep)
	}
	again, err := d.Dispatch(ctx, b, dispatchAsOf, ntActor)
	if err != nil || sumCreated(again) != 0 || again.Existing != total {
		t.Fatalf("a third dispatch %+v, %v (want nothing new, %d existing)", again, err, total)
	}
}

func sumCreated(rep jobs.DispatchReport) int {
	n := 0
	for _, k := range rep.Created {
		n += k
	}
	return n
}
