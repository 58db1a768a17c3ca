package jobs

import (
	"fmt"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// embeddedTick is how often the embedded server's clock is moved on.
const embeddedTick = 100 * time.Millisecond

// StartEmbedded starts an in-memory Redis (miniredis) on a free local port, for running breachd
// without REDIS_URL. Nothing it holds survives stop or a restart; the caller should say so loudly.
//
// miniredis does not expire keys by itself: time only passes for it when told. StartEmbedded
// therefore runs a goroutine that moves the server's clock forward by the real time elapsed,
// every 100ms, so that TTLs (and anything built on them) expire about when they would on a real
// server. stop ends that goroutine and closes the server; it may be called more than once.
func StartEmbedded() (addr string, stop func(), err error) {
	m, err := miniredis.Run()
	if err != nil {
		return "", nil, fmt.Errorf("start embedded redis: %w", err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(embeddedTick)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				m.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			m.Close()
		})
	}
	return m.Addr(), stop, nil
}
