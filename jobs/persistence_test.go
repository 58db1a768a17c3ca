package jobs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
)

// TestCrashSafety: the warning follows what the server says of itself; a server without CONFIG
// (miniredis, some managed services) gives an error, never a silent "safe". The settings
// "appendonly yes" with "appendfsync always" and everysec are checked against real servers by
// the crash tests of cmd/breachd (their /readyz).
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.New(t)
	warning, err := jobs.NewStore(rdb).CrashSafety(ctx)
	if err != nil {
		t.Fatal(err)
	}
	switch aof, fsync := configGet(t, rdb, "appendonly"), configGet(t, rdb, "appendfsync"); {
	case aof != "yes":
		if !strings.Contains(warning, "appendonly "+aof) || !strings.Contains(warning, "appendfsync always") {
			t.Errorf("appendonly %s: warning %q", aof, warning)
		}
	case fsync != "always":
		if !strings.Contains(warning, "appendfsync "+fsync+", not always") {
			t.Errorf("appendfsync %s: warning %q", fsync, warning)
		}
	default:
		if warning != "" {
			t.Errorf("appendfsync always: warning %q", warning)
		}
	}
	t.Logf("test server: %q", warning)

	m := miniredis.RunT(t)
	mc := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer mc.Close()
	if w, err := jobs.NewStore(mc).CrashSafety(ctx); err == nil {
		t.Errorf("CrashSafety on a server without CONFIG answered %q", w)
	}
}
