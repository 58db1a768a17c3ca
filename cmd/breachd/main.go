// Command breachd runs the breach-notification service: the REST API over a Redis store.
//
// It only wires: configuration comes from the environment (see config.go and the README), the
// pieces are built in order and shut down in reverse. Without REDIS_URL it starts an embedded
// in-memory Redis so a new user can run the whole flow with one command.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
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
	"github.com/breachd/breachd/notify/dsn"
	"github.com/breachd/breachd/notify/email"
	"github.com/breachd/breachd/notify/voice"
	"github.com/breachd/breachd/web"
)

// chainInterval is how often the worker chains the events of every breach.
const chainInterval = 2 * time.Second

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "user" {
		code := userCommand(ctx, os.Args[2:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	if code, done := parseFlags(os.Args[1:], os.Stdout, os.Stderr); done {
		stop()
		os.Exit(code)
	}
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
	signingKey := cfg.SigningKey
	if signingKey == nil {
		// Checkpoints signed with a key made now verify only against this run's public key.
		_, signingKey, _ = ed25519.GenerateKey(rand.Reader)
		if cfg.RedisURL != "" {
			log.Warn("BREACHD_SIGNING_KEY is not set: the audit trail's checkpoints are signed with a key generated for this run; " +
				"set it so that checkpoints verify under one published key")
		}
	}
	storeOpts = append(storeOpts, jobs.WithSigningKey(signingKey))
	store := jobs.NewStore(rdb, storeOpts...)
	log.Info("audit trail signing key", "algorithm", "ed25519", "public_key", store.SigningPublicKey())

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
		twilioCallback = func(r *http.Request) (breach.CallStatus, error) {
			return voice.ReadStatusCallback(token, public, r)
		}
	}
	queue := jobs.NewQueue(rdb)
	composer := letters.NewComposer(cfg.Sender)
	worker, err := jobs.NewWorker(jobs.WorkerConfig{Store: store, Queue: queue, Redis: rdb, Mailer: mailer, Caller: caller,
		Composer: composer, PublicURL: cfg.PublicURL, Logger: log})
	if err != nil {
		return err
	}
	retention, err := jobs.NewRetention(jobs.RetentionConfig{Store: store, Period: cfg.Retention, Logger: log})
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
		if stopReminders := startReminders(ctx, cfg, log, store, mailer); stopReminders != nil {
			defer stopReminders() // before the workers stop: deferred later, runs first
		}
		defer startRetention(ctx, cfg, log, retention)()
		if cfg.IMAP.Host != "" {
			stopBounces, err := startBounces(ctx, cfg, worker, log)
			if err != nil {
				return err
			}
			defer stopBounces()
		}
	}
	if cfg.Mode != "api" {
		// Events the workers append are chained within seconds (the API chains after its own writes).
		chainCtx, stopChainer := context.WithCancel(ctx)
		chainerDone := make(chan struct{})
		go func() { defer close(chainerDone); store.RunChainer(chainCtx, chainInterval, log) }()
		defer func() { stopChainer(); <-chainerDone }()
	}
	// Uploads whose process died (kill -9, a crash) are closed with an upload.interrupted event:
	// at start-up, then every jobs.UploadSweepInterval, by every process (each close is atomic).
	sweepCtx, stopSweeper := context.WithCancel(ctx)
	sweeperDone := make(chan struct{})
	go func() { defer close(sweeperDone); store.RunUploadSweeper(sweepCtx, jobs.UploadSweepInterval, log) }()
	defer func() { stopSweeper(); <-sweeperDone }()
	ready := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, readyTimeout)
		defer cancel()
		return store.Ping(ctx)
	}
	reg := prometheus.NewRegistry()
	var handler http.Handler
	adminPassword := ""
	if cfg.Mode == "worker" {
		log.Info("BREACHD_MODE=worker: workers only; HTTP serves /healthz, /readyz and /metrics")
		handler = opsHandler(ready, readyWarnings(cfg, store), reg)
	} else if handler, err = api.New(api.Config{
		Store:          store,
		Recipients:     store,
		Uploads:        store,
		Notices:        store,
		Dispatcher:     jobs.NewDispatcher(jobs.DispatcherConfig{Store: store, Queue: queue, TwilioCalls: caller != nil}),
		Calls:          worker,
		Composer:       composer,
		Bounces:        worker,
		PrintRoom:      jobs.NewPrintRoom(store, printer, nil, nil),
		Printer:        printer,
		Documents:      letters.NewDocuments(renderer, cfg.Sender),
		DeadLetters:    worker,
		Audit:          store,
		Evidence:       store,
		Proofs:         letters.NewDocuments(renderer, cfg.Sender),
		Retention:      retention,
		TwilioCallback: twilioCallback,
		BatchSize:      cfg.BatchSize,
		Keys:           keys,
		Ready:          ready,
		ReadyWarnings:  readyWarnings(cfg, store),
		Channels:       channelStates(store),
		MaxUploadBytes: cfg.MaxUploadBytes,
		Logger:         log,
		Registry:       reg,
	}); err != nil {
		return err
	}
	if cfg.Mode != "worker" {
		console, err := web.New(web.Config{API: handler, Users: store, Sessions: store, Throttle: store,
			SecureCookies: strings.HasPrefix(cfg.PublicURL, "https://"), Logger: log})
		if err != nil {
			return err
		}
		if cfg.embedded() {
			if adminPassword, err = embeddedAdmin(ctx, store); err != nil {
				return err
			}
		}
		handler = withConsole(handler, console)
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
		fmt.Fprintf(stderr, "  Checkpoints of the audit trail are signed with the Ed25519 public key\n    %s\n", store.SigningPublicKey())
		if generatedKey != "" {
			fmt.Fprintf(stderr, "\n  It generated an admin API key for this run:\n\n"+
				"    export BREACHD_KEY=%s\n\n  Use it as: curl -H \"Authorization: Bearer $BREACHD_KEY\" %s/v1/breaches\n", generatedKey, url)
		}
		if adminPassword != "" {
			fmt.Fprintf(stderr, "\n  The console is at %s/ — sign in as admin with this one-time password\n"+
				"  (you choose your own at the first sign-in):\n\n    %s\n", url, adminPassword)
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

// startRetention runs the retention sweep in the background (once now, then every hour) and
// returns what stops it and waits for it.
func startRetention(ctx context.Context, cfg config, log *slog.Logger, r *jobs.Retention) func() {
	if cfg.Retention.Off() {
		log.Info("BREACHD_RETENTION is off: the personal data of closed breaches is kept until it is set")
		return func() {}
	}
	log.Info("closed breaches are purged of personal data " + cfg.Retention.String() + " after closure")
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); r.Run(rctx) }()
	return func() { stop(); <-done }
}

// startReminders runs the deadline-reminder sweep in the background (once now, then every
// BREACHD_REMINDER_INTERVAL) and returns the function that stops it and waits for it; nil when no
// administrator address is configured, which it says once.
func startReminders(ctx context.Context, cfg config, log *slog.Logger, store *jobs.Store, mailer breach.Mailer) func() {
	if len(cfg.ReminderTo) == 0 {
		log.Info("BREACHD_REMINDER_TO is not set: no deadline reminders are emailed")
		return nil
	}
	rem, err := jobs.NewReminders(jobs.ReminderConfig{Store: store, Mailer: mailer, Composer: letters.NewReminders(cfg.Sender),
		To: cfg.ReminderTo, Interval: cfg.ReminderInterval, Logger: log})
	if err != nil { // loadConfig checked the addresses: a bug
		log.Error("deadline reminders not started", "err", err)
		return nil
	}
	if cfg.embedded() && cfg.SMTP.Host == "" && slices.Equal(cfg.ReminderTo, []string{demoReminderTo}) {
		log.Info("deadline reminders go to " + demoReminderTo + " in the outbox (set BREACHD_REMINDER_TO for real addresses)")
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		rem.Run(rctx)
	}()
	return func() {
		cancel()
		<-done
	}
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
	if warning, err := store.CrashSafety(ctx); err == nil && warning != "" && aof {
		log.Warn(warning + " (README: Operations)")
	}
}

// readyWarnings is what /readyz adds to a 200: what a crash of Redis would cost (jobs.Store.CrashSafety),
// or that its settings cannot be read. None in embedded mode, which keeps nothing anyway and says so.
func readyWarnings(cfg config, store *jobs.Store) func(context.Context) []string {
	if cfg.embedded() {
		return nil
	}
	return func(ctx context.Context) []string {
		ctx, cancel := context.WithTimeout(ctx, readyTimeout)
		defer cancel()
		warning, err := store.CrashSafety(ctx)
		switch {
		case err != nil:
			return []string{"the Redis persistence settings cannot be read (CONFIG GET refused?): make sure Redis runs with " +
				"appendonly yes and appendfsync always, or a crash of Redis may send emails twice unmarked"}
		case warning != "":
			return []string{warning}
		}
		return nil
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
func opsHandler(ready func(context.Context) error, warnings func(context.Context) []string, reg *prometheus.Registry) http.Handler {
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
		body := map[string]any{"status": "ok"}
		if warnings != nil {
			if ws := warnings(r.Context()); len(ws) > 0 {
				body["warnings"] = ws
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

// withConsole serves the REST API's paths from api and every other path (the pages, /assets/…)
// from the console.
func withConsole(api, console http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/v1/"), p == "/v1", p == "/healthz", p == "/readyz", p == "/metrics", p == "/openapi.yaml":
			api.ServeHTTP(w, r)
		default:
			console.ServeHTTP(w, r)
		}
	})
}

// embeddedAdmin makes the user admin with a random password for an embedded run, to be changed
// at the first sign-in. Nothing outlives the process, so there is never an admin already.
func embeddedAdmin(ctx context.Context, users breach.UserStore) (string, error) {
	secret := make([]byte, 12)
	_, _ = rand.Read(secret)
	password := hex.EncodeToString(secret)
	hash, err := web.HashPassword(password, web.DefaultBcryptCost)
	if err != nil {
		return "", err
	}
	err = users.CreateUser(ctx, breach.User{Username: "admin", DisplayName: "Administrator", Role: breach.RoleAdmin,
		PasswordHash: hash, MustChangePassword: true})
	if err != nil {
		return "", fmt.Errorf("create the embedded admin: %w", err)
	}
	return password, nil
}

// channelStates gives the API what the workers recorded of each channel's server.
func channelStates(store *jobs.Store) func(context.Context) (map[string]api.ChannelState, error) {
	return func(ctx context.Context) (map[string]api.ChannelState, error) {
		hs, err := store.ChannelHealth(ctx)
		if err != nil {
			return nil, err
		}
		out := make(map[string]api.ChannelState, len(hs))
		for ch, h := range hs {
			st := api.ChannelState{Degraded: h.Degraded}
			if h.Degraded {
				since, reason := h.Since, h.Reason
				st.Since, st.Reason = &since, &reason
			}
			out[string(ch)] = st
		}
		return out, nil
	}
}

// startBounces reads the bounce mailbox in the background until the returned function is called
// (which waits for a read in progress to end).
func startBounces(ctx context.Context, cfg config, worker *jobs.Worker, log *slog.Logger) (func(), error) {
	mb, err := dsn.New(cfg.IMAP)
	if err != nil {
		return nil, fmt.Errorf("BREACHD_IMAP_*: %w", err)
	}
	p, err := jobs.NewBouncePoller(jobs.BouncePollerConfig{Worker: worker, Mailbox: mb, Interval: cfg.IMAPInterval, Logger: log})
	if err != nil {
		return nil, err
	}
	log.Info("reading bounces", "mailbox", mb.String(), "every", cfg.IMAPInterval.String())
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}, nil
}
