package api_test

import (
	"context"
	"sync"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// An SMTP outage shows in the delivery status and as the gauge breachd_channel_degraded; both
// clear once mail goes through again (issue 10 §2).
func TestChannelDegradedInStatusAndMetrics(t *testing.T) {
	var mu sync.Mutex
	state := map[string]api.ChannelState{"email": {Degraded: false}}
	e := newEnv(t, func(c *api.Config) {
		c.Channels = func(context.Context) (map[string]api.ChannelState, error) {
			mu.Lock()
			defer mu.Unlock()
			out := map[string]api.ChannelState{}
			for k, v := range state {
				out[k] = v
			}
			return out, nil
		}
	})
	b := createBreach(t, e, nil)
	status := func() map[string]api.ChannelState {
		var st api.DeliveryStatus
		e.do("GET", "/v1/breaches/"+b.ID+"/status", breach.RoleAuditor, nil).json(t, &st)
		if st.Channels == nil {
			t.Fatal("the status has no channels")
		}
		return *st.Channels
	}
	if ch := status(); ch["email"].Degraded || ch["email"].Since != nil {
		t.Fatalf("healthy channel shown as %+v", ch)
	}
	mustContainAll(t, string(e.do("GET", "/metrics", noKey, nil).Body), `breachd_channel_degraded{channel="email"} 0`)

	since, reason := time.Date(2026, 3, 20, 14, 3, 7, 0, time.UTC), "cannot connect to SMTP server"
	mu.Lock()
	state["email"] = api.ChannelState{Degraded: true, Since: &since, Reason: &reason}
	mu.Unlock()
	if ch := status(); !ch["email"].Degraded || ch["email"].Since == nil || !ch["email"].Since.Equal(since) || *ch["email"].Reason != reason {
		t.Fatalf("degraded channel shown as %+v", ch)
	}
	mustContainAll(t, string(e.do("GET", "/metrics", noKey, nil).Body), `breachd_channel_degraded{channel="email"} 1`)
}
