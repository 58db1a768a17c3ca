package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// routes are the route templates served (filled by New once they are registered): a label
	// takes only these values, or otherLabel.
	routes map[string]bool
}

// otherLabel is the one label value of every method and route the service does not serve, so a
// caller inventing methods (curl -X ANYTHING1) or paths cannot grow /metrics without bound.
const otherLabel = "other"

// knownMethods are the methods a label may name (RFC 9110 §9 and PATCH).
var knownMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace}

// StatusClientClosed is the status counted (and logged) for a request whose client went away
// before the answer: nginx's 499. Nothing is sent, since nobody is there to read it.
const StatusClientClosed = 499

func (m *metrics) labels(method, route string) (string, string) {
	if !slices.Contains(knownMethods, method) {
		method = otherLabel
	}
	if !m.routes[route] {
		route = otherLabel
	}
	return method, route
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
	m.routes = map[string]bool{}
	reg.MustRegister(m.requests, m.duration)
	// A registry given by cmd may already carry the runtime collectors; register them only once.
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe logs one line per request and counts it. It logs the route template, never the URL's
// values or the body, so no personal information reaches the logs.
//
// A client that went away before its answer (an abandoned upload, a closed tab) is no fault of the
// service: it is logged at WARN as "client disconnected", counted with StatusClientClosed, and
// nothing is written back.
func observe(log *slog.Logger, m *metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			start := time.Now()
			err := next(c)
			gone := err != nil && clientGone(c.Request(), err)
			if err != nil && !gone {
				// Write the problem now so the status below is the one the caller gets.
				c.Echo().HTTPErrorHandler(c, err)
			}
			status := 0
			if r, _ := echo.UnwrapResponse(c.Response()); r != nil {
				status = r.Status
			}
			if gone {
				status = StatusClientClosed
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			method, routeLabel := m.labels(c.Request().Method, route)
			m.requests.WithLabelValues(method, routeLabel, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(method, routeLabel).Observe(elapsed.Seconds())
			actor := actorFrom(c.Request().Context())
			attrs := []any{"method", method, "route", routeLabel, "status", status,
				"duration_ms", float64(elapsed.Microseconds()) / 1000, "actor", actor.ID, "role", string(actor.Role)}
			if gone {
				var ge *goneError
				if errors.As(err, &ge) && ge.stored != "" {
					attrs = append(attrs, "stored", ge.stored)
				}
				log.WarnContext(context.WithoutCancel(c.Request().Context()), "client disconnected", attrs...)
				return nil
			}
			log.InfoContext(c.Request().Context(), "request", attrs...)
			return nil
		}
	}
}

// goneError is a handler's error when the client went away mid-request; stored says what the
// request had already kept (numbers, never personal data), for the log line.
type goneError struct {
	err    error
	stored string
}

func (e *goneError) Error() string { return "client disconnected: " + e.err.Error() }
func (e *goneError) Unwrap() error { return e.err }

// clientGone reports whether err comes from the client going away rather than from the service: the
// handler said so with a goneError, or the request's context was cancelled (the connection closed,
// or its read failed) and the error is a failure it caused (a store call cut short). An answer the
// handler chose (a 4xx, such as the 408 of a stalled upload) is still sent.
func clientGone(req *http.Request, err error) bool {
	var ge *goneError
	if errors.As(err, &ge) {
		return true
	}
	if p := problemFor(err); p.Status < 500 {
		return false
	}
	return errors.Is(req.Context().Err(), context.Canceled)

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
