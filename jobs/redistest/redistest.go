// Package redistest gives each test its own empty database on a real redis-server.
//
// The server is REDIS_TEST_URL when set (a redis:// URL; its DB number is ignored), else
// 127.0.0.1:6379. Databases 1..15 are handed out; database 0 is left alone and holds only the
// lock keys. Because `go test ./...` runs packages in parallel processes, a database is claimed
// with a lock key on the server itself (SET breachd-test-lock:<db> NX EX 600) and released when
// the test ends, so no two tests anywhere share a database. There is no fallback and no skip: a
// test that needs Redis fails when none answers, and fails at once: the server is checked once per
// test binary (Main, from a package's TestMain, or the first New) with one short dial and no
// retries, so a missing server costs a second and one line, not a dial timeout per test.
// scripts/test starts a private server and sets REDIS_TEST_URL.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// firstDB and lastDB bound the databases handed to tests (a default server has 16).
	firstDB, lastDB = 1, 15
	// lockKeyFmt claims a database; it lives in database 0. The expiry frees the database if a
	// test process dies without cleaning up.
	lockKeyFmt = "breachd-test-lock:%d"
	lockTTL    = 10 * time.Minute
	// claimWait is how long New waits for a database when all are claimed by other tests.
	claimWait = 2 * time.Minute
	// probeTimeout bounds the one check that a server answers: go test runs packages in parallel
	// processes, so each must give up within a second or two when there is none.
	probeTimeout = time.Second
)

// releaseLock deletes the lock only if it is still ours.
var releaseLock = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0`)

// options returns the connection options of the test server (database 0) and how to name it.
func options() (*redis.Options, string, error) {
	if u := os.Getenv("REDIS_TEST_URL"); u != "" {
		opt, err := redis.ParseURL(u)
		if err != nil {
			return nil, "", fmt.Errorf("REDIS_TEST_URL: %w", err)
		}
		opt.DB = 0
		where := opt.Addr
		if pu, err := url.Parse(u); err == nil {
			where = pu.Redacted() // no password in test logs
		}
		return opt, where, nil
	}
	return &redis.Options{Addr: "127.0.0.1:6379"}, "127.0.0.1:6379", nil
}

var (
	probeOnce sync.Once
	probeErr  error
)

// reachable reports, once per process, whether the test server answers PING; its error is the
// one line to print when it does not.
func reachable() error {
	probeOnce.Do(func() { probeErr = probe() })
	return probeErr
}

func probe() error {
	opt, where, err := options()
	if err != nil {
		return fmt.Errorf("redistest: %w", err)
	}
	unreachable := func(err error) error {
		return fmt.Errorf("redis-server not reachable at %s (%v): start one or run scripts/test", where, err)
	}
	// A bare dial first: go-redis logs a line for every failed dial, and this failure should be
	// one line, ours.
	network := opt.Network
	if network == "" {
		network = "tcp"
	}
	conn, err := net.DialTimeout(network, opt.Addr, probeTimeout)
	if err != nil {
		return unreachable(err)
	}
	conn.Close()
	p := *opt
	p.DialTimeout, p.ReadTimeout, p.WriteTimeout = probeTimeout, probeTimeout, probeTimeout
	p.MaxRetries, p.DialerRetries, p.PoolSize = -1, 1, 1
	c := redis.NewClient(&p)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*probeTimeout)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		return unreachable(err)
	}
	return nil
}

// Main runs a package's tests when the test server answers, and otherwise prints one line and
// exits 1 without running any. Call it from TestMain in every package whose tests use New:
//
//	func TestMain(m *testing.M) { redistest.Main(m) }
func Main(m *testing.M) {
	if err := reachable(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// New returns a client of a database no other test is using, flushed before the test and flushed
// and released after it (the client is closed then too). It fails the test when no Redis answers.
// Call it once per test: parallel tests each holding one database while waiting for a second
// could exhaust the fifteen.
func New(t testing.TB) *redis.Client {
	t.Helper()
	opt, where, err := options()
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	if err := reachable(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	admin := redis.NewClient(opt)

	var token [16]byte
	rand.Read(token[:])
	owner := hex.EncodeToString(token[:])
	db, lock := 0, ""
	deadline := time.Now().Add(claimWait)
	for db == 0 {
		for d := firstDB; d <= lastDB; d++ {
			key := fmt.Sprintf(lockKeyFmt, d)
			ok, err := admin.SetNX(ctx, key, owner, lockTTL).Result()
			if err != nil {
				admin.Close()
				t.Fatalf("redistest: claim database %d at %s: %v", d, where, err)
			}
			if ok {
				db, lock = d, key
				break
			}
		}
		if db == 0 {
			if time.Now().After(deadline) {
				admin.Close()
				t.Fatalf("redistest: all test databases %d..%d at %s stayed claimed for %v "+
					"(stale locks expire after %v; or `redis-cli DEL` the breachd-test-lock:* keys)",
					firstDB, lastDB, where, claimWait, lockTTL)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	dbOpt := *opt
	dbOpt.DB = db
	rdb := redis.NewClient(&dbOpt)
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		rdb.Close()
		releaseLock.Run(ctx, admin, []string{lock}, owner)
		admin.Close()
		t.Fatalf("redistest: select and flush database %d at %s (does the server have %d databases?): %v",
			db, where, lastDB+1, err)
	}
	t.Cleanup(func() {
		rdb.Close() // the test may have closed it already
		// A client of our own, so that the flush works whatever the test did with rdb.
		fl := redis.NewClient(&dbOpt)
		if err := fl.FlushDB(ctx).Err(); err != nil {
			t.Errorf("redistest: flush database %d: %v", db, err)
		}
		fl.Close()
		if err := releaseLock.Run(ctx, admin, []string{lock}, owner).Err(); err != nil {
			t.Errorf("redistest: release database %d: %v", db, err)
		}
		admin.Close()
	})
	return rdb
}
