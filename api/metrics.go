package api

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "breachd_http_requests_total",
			Help: "HTTP requests by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "breachd_http_request_duration_seconds",
			Help:    "HTTP request latency by method and route template.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	// A registry given by cmd may already carry the runtime collectors; register them only once.
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe logs one line per request and counts it. It logs the route template, never the URL's
// values or the body, so no personal information reaches the logs.
func observe(log *slog.Logger, m *metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				// Write the problem now so the status below is the one the caller gets.
				c.Echo().HTTPErrorHandler(c, err)
			}
			status := 0
			if r, _ := echo.UnwrapResponse(c.Response()); r != nil {
				status = r.Status
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			m.requests.WithLabelValues(c.Request().Method, route, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(c.Request().Method, route).Observe(elapsed.Seconds())
			actor := actorFrom(c.Request().Context())
			log.InfoContext(c.Request().Context(), "request", "method", c.Request().Method, "route", route,
				"status", status, "duration_ms", float64(elapsed.Microseconds())/1000,
				"actor", actor.ID, "role", string(actor.Role))
			return nil
		}
	}
}

// channelDegradedDesc is the gauge of channelCollector.
var channelDegradedDesc = prometheus.NewDesc("breachd_channel_degraded",
	"1 while a sending channel's server refused the workers' last attempt or could not be reached, else 0.",
	[]string{"channel"}, nil)

// channelCollector reads the channels' state at each scrape (from Redis: the workers record it),
// so that every API process reports the same value.
type channelCollector struct {
	channels func(context.Context) (map[string]ChannelState, error)
}

func (c channelCollector) Describe(ch chan<- *prometheus.Desc) { ch <- channelDegradedDesc }

func (c channelCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	states, err := c.channels(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(channelDegradedDesc, err)
		return
	}
	for name, st := range states {
		v := 0.0
		if st.Degraded {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(channelDegradedDesc, prometheus.GaugeValue, v, name)
	}
}
