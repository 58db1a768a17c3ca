// Package redistest gives each test its own empty database on a real redis-server.
//
// The server is REDIS_TEST_URL when set (a redis:// URL; its DB number is ignored), else
// 127.0.0.1:6379. Databases 1..15 are handed out; database 0 is left alone and holds only the
// lock keys. Because `go test ./...` runs packages in parallel processes, a database is claimed
// with a lock key on the server itself (SET breachd-test-lock:<db> NX EX 600) and released when
// the test ends, so no two tests anywhere share a database. There is no fallback and no skip: a
// test that needs Redis fails when none answers.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
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
	ctx := context.Background()
	admin := redis.NewClient(opt)
	pingCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := admin.Ping(pingCtx).Err(); err != nil {
		admin.Close()
		t.Fatalf("redis-server not reachable at %s (%v): start one with "+
			"`redis-server --port 6379 --save '' --appendonly no` or set REDIS_TEST_URL", where, err)
	}

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
