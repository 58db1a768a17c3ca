// Command breachd runs the breach-notification service: the REST API over a Redis store.
//
// It only wires: configuration comes from the environment (see config.go and the README), the
// pieces are built in order and shut down in reverse. Without REDIS_URL it starts an embedded
// in-memory Redis so a new user can run the whole flow with one command.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // zone data in the binary: the deadline depends on the entity's zone

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/letters"
	"github.com/breachd/breachd/notify/email"
	"github.com/breachd/breachd/notify/voice"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	if code, done := parseFlags(os.Args[1:], os.Stdout, os.Stderr); done {
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "breachd:", err)
		stop()
		os.Exit(1)
	}
}

// run starts the service and blocks until ctx is done or the server fails. listening, when not
// nil, is told the address the API listens on (useful with BREACHD_ADDR=127.0.0.1:0 in tests).
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer, listening func(addr string)) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)
	log.Info("starting breachd", "version", version)

	// Redis: the configured server, or an embedded one that keeps nothing.
	redisURL := cfg.RedisURL
	if cfg.embedded() {
		addr, stopEmbedded, err := jobs.StartEmbedded()
		if err != nil {
			return err
		}
		defer stopEmbedded()
		redisURL = "redis://" + addr
		log.Warn("REDIS_URL is not set: using an EMBEDDED IN-MEMORY Redis. NOTHING SURVIVES A RESTART. " +
			"Set REDIS_URL to a Redis server with AOF persistence for real use.")
	}
	// go-redis says when Sentinel names a new primary: into the service's log, not bare stderr.
	redis.SetLogger(redisLog{log})
	rdb, err := newRedisClient(cfg, redisURL)
	if err != nil {
		return err
	}
	defer rdb.Close()

	var storeOpts []jobs.Option
	switch {
	case cfg.EncryptionKey != nil:
		storeOpts = append(storeOpts, jobs.WithEncryptionKey(cfg.EncryptionKey))
	case cfg.embedded():
		// Nothing outlives the process, so a key made now protects the in-memory copy just as well.
		cfg.EncryptionKey = make([]byte, jobs.KeySize)
		_, _ = rand.Read(cfg.EncryptionKey)
		storeOpts = append(storeOpts, jobs.WithEncryptionKey(cfg.EncryptionKey))
	default:
		log.Warn("BREACHD_ENCRYPTION_KEY is not set: personal information is stored in Redis unencrypted")
	}
	store := jobs.NewStore(rdb, storeOpts...)

	if !cfg.embedded() {
		checkRedis(ctx, log, store)
	}

	keys := cfg.Keys
	generatedKey := ""
	if keys.Len() == 0 {
		// loadConfig only allows this in embedded mode: make an admin key, shown once listening.
		secret := make([]byte, 24)
		_, _ = rand.Read(secret)
		generatedKey = hex.EncodeToString(secret)
		if err := keys.Add(breach.RoleAdmin, generatedKey); err != nil {
			return err
		}
	}

	log.Info("configuration", "config", cfg.String())

	// The dispatch half: channels, letters, queue, workers.
	renderer, err := letters.NewRenderer(letters.Options{})
	if err != nil {
		return err
	}
	printer := letters.NewPrinter(renderer, cfg.Sender)
	var mailer breach.Mailer
	if cfg.SMTP.Host != "" {
		if mailer, err = email.New(cfg.SMTP); err != nil {
			return fmt.Errorf("BREACHD_SMTP_*: %w", err)
		}
	} else {
		if mailer, err = email.NewOutbox(email.OutboxConfig{Dir: cfg.OutboxDir, From: cfg.MailFrom, FromName: cfg.Sender.Organization}); err != nil {
			return fmt.Errorf("BREACHD_OUTBOX_DIR: %w", err)
		}
		log.Warn("BREACHD_SMTP_HOST is not set: email notices are written as .eml files to " + cfg.OutboxDir + ", not sent")
	}
	var caller breach.Caller
	var twilioCallback api.TwilioCallback
	if cfg.Twilio.AccountSID != "" {
		tw, err := voice.New(cfg.Twilio)
		if err != nil {
			return fmt.Errorf("BREACHD_TWILIO_*: %w", err)
		}
		caller = tw
		token, public := cfg.Twilio.AuthToken, cfg.PublicURL
		twilioCallback = func(r *http.Request) (string, breach.CallOutcome, bool, error) {
			return voice.ReadCallback(token, public, r)
		}
	}
	queue := jobs.NewQueue(rdb)
	composer := letters.NewComposer(cfg.Sender)
	worker, err := jobs.NewWorker(jobs.WorkerConfig{Store: store, Queue: queue, Redis: rdb, Mailer: mailer, Caller: caller,
		Composer: composer, PublicURL: cfg.PublicURL, Logger: log})
	if err != nil {
		return err
	}
	if cfg.Mode != "api" {
		if err := worker.Start(); err != nil {
			return fmt.Errorf("start workers: %w", err)
		}
		// Deferred before the HTTP server starts, so it runs after the server has stopped:
		// requests in flight may still queue work; then running tasks finish or go back to the queue.
		defer func() {
			log.Info("stopping workers")
			worker.Shutdown()
		}()
	}
	ready := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, readyTimeout)
		defer cancel()
		return store.Ping(ctx)
	}
	reg := prometheus.NewRegistry()
	var handler http.Handler
	if cfg.Mode == "worker" {
		log.Info("BREACHD_MODE=worker: workers only; HTTP serves /healthz, /readyz and /metrics")
		handler = opsHandler(ready, reg)
	} else if handler, err = api.New(api.Config{
		Store:          store,
		Recipients:     store,
		Notices:        store,
		Dispatcher:     jobs.NewDispatcher(jobs.DispatcherConfig{Store: store, Queue: queue, TwilioCalls: caller != nil}),
		Calls:          worker,
		Composer:       composer,
		Bounces:        worker,
		PrintRoom:      jobs.NewPrintRoom(store, printer, nil, nil),
		Printer:        printer,
		Documents:      letters.NewDocuments(renderer, cfg.Sender),
		DeadLetters:    worker,
		TwilioCallback: twilioCallback,
		BatchSize:      cfg.BatchSize,
		Keys:           keys,
		Ready:          ready,
		MaxUploadBytes: cfg.MaxUploadBytes,
		Logger:         log,
		Registry:       reg,
	}); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("BREACHD_ADDR %s: %w", cfg.Addr, err)
	}
	// ReadTimeout and WriteTimeout bound every request from its start, except the uploads of
	// people: their handler moves both deadlines as the body flows (api.Config.UploadIdleTimeout),
	// so a 1 GiB upload on a slow link is bounded by an idle timeout, not a total one.
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	url := baseURL(ln.Addr().String())
	log.Info("listening", "addr", ln.Addr().String(), "url", url)
	if cfg.embedded() {
		// For the person at the terminal, on stderr, never through the logger (it holds the key).
		fmt.Fprintf(stderr, "\n  breachd (embedded mode) is listening at %s\n", url)
		if host, _, _ := net.SplitHostPort(cfg.Addr); host == "127.0.0.1" || host == "localhost" || host == "::1" {
			fmt.Fprintf(stderr, "  (this machine only; BREACHD_ADDR=%s listens on every interface)\n", defaultAddr)
		}
		if generatedKey != "" {
			fmt.Fprintf(stderr, "\n  It generated an admin API key for this run:\n\n"+
				"    export BREACHD_KEY=%s\n\n  Use it as: curl -H \"Authorization: Bearer $BREACHD_KEY\" %s/v1/breaches\n", generatedKey, url)
		}
		fmt.Fprintln(stderr)
	}
	if listening != nil {
		listening(ln.Addr().String())
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}

	// Ordered shutdown: stop taking requests and let those in flight finish; then Redis closes
	// (deferred above, in reverse order of start).
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	log.Info("stopped")
	return nil
}

// newRedisClient connects to the Redis at redisURL or, with Sentinels configured, to the primary
// the Sentinels name. Either way it is one *redis.Client that the store, the queue and the asynq
// server share: a failover client asks the Sentinels for the primary whenever it dials and drops
// its connections when they announce a new one (+switch-master), so after a failover every part
// of the service follows the promoted replica without a restart.
func newRedisClient(cfg config, redisURL string) (*redis.Client, error) {
	if len(cfg.Sentinels) == 0 {
		opts, err := redis.ParseURL(redisURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		return redis.NewClient(opts), nil
	}
	fo := &redis.FailoverOptions{
		MasterName:       cfg.MasterName,
		SentinelAddrs:    cfg.Sentinels,
		SentinelPassword: cfg.SentinelPassword,
	}
	// While the primary is gone and not yet replaced, a command fails at once (the old address
	// refuses); retried for about failoverRetryWindow instead, it reaches the promoted replica,
	// so work in flight during a quick failover completes instead of being redone from the
	// queue's backoff (which would also resend a whole email batch). REDIS_URL's max_retries,
	// min_retry_backoff and max_retry_backoff override these.
	fo.MaxRetries, fo.MinRetryBackoff, fo.MaxRetryBackoff = failoverMaxRetries, failoverMinBackoff, failoverMaxBackoff
	if redisURL != "" {
		// The primary's credentials, DB, TLS and client settings; its host is the Sentinels' to say.
		o, err := redis.ParseURL(redisURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		fo.Username, fo.Password, fo.DB, fo.TLSConfig = o.Username, o.Password, o.DB, o.TLSConfig
		fo.ClientName, fo.Protocol = o.ClientName, o.Protocol
		q := redisURLQuery(redisURL)
		if q.Has("max_retries") {
			fo.MaxRetries = o.MaxRetries
		}
		if q.Has("min_retry_backoff") {
			fo.MinRetryBackoff = o.MinRetryBackoff
		}
		if q.Has("max_retry_backoff") {
			fo.MaxRetryBackoff = o.MaxRetryBackoff
		}
		fo.DialTimeout, fo.ReadTimeout, fo.WriteTimeout = o.DialTimeout, o.ReadTimeout, o.WriteTimeout
		fo.PoolFIFO, fo.PoolSize, fo.PoolTimeout = o.PoolFIFO, o.PoolSize, o.PoolTimeout
		fo.MinIdleConns, fo.MaxIdleConns, fo.MaxActiveConns = o.MinIdleConns, o.MaxIdleConns, o.MaxActiveConns
		fo.ConnMaxIdleTime, fo.ConnMaxLifetime = o.ConnMaxIdleTime, o.ConnMaxLifetime
	}
	return redis.NewFailoverClient(fo), nil
}

// How long a command keeps trying through a Sentinel failover: 20 retries, 100 ms apart at first
// and about a second apart after the fourth, ride out roughly 15 s without a primary — a failover
// with Sentinel's down-after-milliseconds at 5000 or less. Longer outages fail the command as before
// (a request answers 503, a task is retried with backoff).
const (
	failoverMaxRetries = 20
	failoverMinBackoff = 100 * time.Millisecond
	failoverMaxBackoff = time.Second
)

// readyTimeout bounds a readiness check: with Sentinel a ping would otherwise wait out the
// failover and answer 200 late, when a load balancer needs to hear "not ready" now.
const readyTimeout = time.Second

// redisURLQuery is the query of a Redis URL that redis.ParseURL has accepted.
func redisURLQuery(u string) url.Values {
	parsed, err := url.Parse(u)
	if err != nil {
		return url.Values{}
	}
	return parsed.Query()
}

// redisLog is go-redis's logger (connection and Sentinel notes: addresses, never keys or values).
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.InfoContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}

// checkRedis says at start-up what an operator must know about the configured server: whether it
// answers, and whether it keeps anything on disk.
func checkRedis(ctx context.Context, log *slog.Logger, store *jobs.Store) {
	if err := store.Ping(ctx); err != nil {
		log.Warn("Redis does not answer yet; /readyz will fail until it does", "error", err.Error())
		return
	}
	aof, rdbSave, err := store.Persistence(ctx)
	switch {
	case err != nil:
		log.Warn("could not read Redis persistence settings (CONFIG GET refused?)", "error", err.Error())
	case !aof && !rdbSave:
		log.Warn("Redis PERSISTS NOTHING (no AOF, no RDB snapshots): a Redis restart loses every breach. " +
			"Run Redis with appendonly yes.")
	case !aof:
		log.Warn("Redis has RDB snapshots but no AOF: a crash can lose recent writes. Run Redis with appendonly yes.")
	}
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// opsHandler is what a worker-only process serves, so an orchestrator can watch it: liveness,
// readiness (Redis answers) and metrics.
func opsHandler(ready func(context.Context) error, reg *prometheus.Registry) http.Handler {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ready(r.Context()); err != nil {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"type":"urn:breachd:problem:unavailable","title":"Service unavailable","status":503,"code":"unavailable","detail":"the store cannot be reached; try again shortly"}` + "\n"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}
