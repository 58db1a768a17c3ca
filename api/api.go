// Package api is breachd's HTTP layer: the routes of openapi.yaml (generated into openapi.gen.go by
// oapi-codegen), API-key authentication and per-route roles, request validation against the same
// contract, and one error handler that answers application/problem+json.
//
// Handlers only translate: the law is in package rules, the storage in the BreachStore they are
// given. The roles each operation allows are read from the contract's x-roles, so the document a
// client reads is the one the server enforces.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v5"
	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus"

	breach "github.com/breachd/breachd"
)

// DefaultMaxBodyBytes is the largest JSON body accepted (1 MiB).
const DefaultMaxBodyBytes = 1 << 20

// Config is what the HTTP layer needs. Store and Keys are required.
type Config struct {
	Store      breach.BreachStore
	Recipients breach.RecipientStore
	// Uploads follows each upload in the audit trail from its start, so that one cut short by a
	// crash is told too (upload.interrupted), and keeps the list from being declared complete
	// while an upload is unfinished. Nil: only the end of an upload is recorded.
	Uploads    breach.UploadLedger
	Notices    breach.NoticeStore
	Dispatcher Dispatcher
	Calls      CallRecorder
	Composer   breach.Composer // writes the scripts of clerks' call tasks
	Bounces    BounceRecorder
	PrintRoom  PrintRoom
	Printer    breach.LetterPrinter
	Documents  breach.Documents
	// DeadLetters lists and retries failed tasks; TwilioCallback verifies and reads Twilio's
	// callbacks (nil: Twilio is not configured and the webhook answers 404).
	DeadLetters    DeadLetters
	TwilioCallback TwilioCallback
	// Audit is the tamper-evident audit trail (chain, checkpoints, verification); Proofs draws
	// proofs of notice. nil: their routes answer 503.
	Audit  AuditTrail
	Proofs ProofRenderer
	// Retention purges closed breaches' personal data after the retention period (nil: the purge
	// route answers 503).
	Retention Purger
	// Evidence reads what the evidence bundle needs in batches and keeps the agency documents as
	// sent. nil: the bundle answers 503 and agency documents are recorded by their hash alone.
	Evidence EvidenceStore
	// BatchSize is how many letters a print batch takes (default and most: breach.MaxPrintBatch).
	BatchSize int
	Keys      *Keys
	// Ready reports whether the service can serve (Redis answers); nil means always ready.
	Ready func(context.Context) error
	// ReadyWarnings, when Ready passes, says what is ready but not as safe as it should be (a
	// Redis that may lose answered writes in a crash: jobs.Store.CrashSafety); nil: nothing.
	ReadyWarnings func(context.Context) []string
	// Channels reports how each sending channel's server answered the workers' last attempt
	// (jobs.Store.ChannelHealth), shown in the delivery status and as the gauge
	// breachd_channel_degraded. Nil: not shown.
	Channels func(context.Context) (map[string]ChannelState, error)
	// Logger receives one line per request (no bodies, no PII) and internal errors. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Registry receives the HTTP metrics and is served at /metrics. Default: a new registry.
	Registry *prometheus.Registry
	// MaxBodyBytes limits JSON request bodies. Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxUploadBytes limits an upload of recipients. Default DefaultMaxUploadBytes.
	MaxUploadBytes int64
	// UploadIdleTimeout is how long an upload may send nothing before it ends (408). It replaces
	// the server's ReadTimeout and WriteTimeout for uploads. Default DefaultUploadIdleTimeout.
	UploadIdleTimeout time.Duration
	// NewID returns a new unique ID with the prefix ("br", "hd"). Default: prefix_ULID.
	NewID func(prefix string) string
}

// New returns the HTTP handler serving the whole contract.
func New(cfg Config) (http.Handler, error) {
	if cfg.Store == nil || cfg.Recipients == nil || cfg.Notices == nil || cfg.Dispatcher == nil || cfg.Calls == nil || cfg.Composer == nil ||
		cfg.Bounces == nil || cfg.PrintRoom == nil || cfg.Printer == nil || cfg.Documents == nil || cfg.DeadLetters == nil || cfg.Keys == nil {
		return nil, errors.New("api: Store, Recipients, Notices, Dispatcher, Calls, Composer, Bounces, PrintRoom, Printer, Documents, DeadLetters and Keys are required")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = breach.MaxPrintBatch
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if cfg.UploadIdleTimeout <= 0 {
		cfg.UploadIdleTimeout = DefaultUploadIdleTimeout
	}
	if cfg.NewID == nil {
		cfg.NewID = func(prefix string) string { return prefix + "_" + ulid.Make().String() }
	}
	if cfg.Ready == nil {
		cfg.Ready = func(context.Context) error { return nil }
	}

	doc, err := LoadSpec()
	if err != nil {
		return nil, err
	}
	// Match routes whatever host the service is reached on.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("api: route the contract: %w", err)
	}

	m := newMetrics(cfg.Registry)
	if cfg.Channels != nil {
		cfg.Registry.MustRegister(channelCollector{cfg.Channels})
	}
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(cfg.Logger)
	e.Use(responseHeaders, recoverer(cfg.Logger), observe(cfg.Logger, m), guard(router, cfg.Keys, cfg.MaxBodyBytes),
		chainAfterWrite(cfg.Audit, cfg.Notices, cfg.Logger))

	h := &handlers{cfg: cfg}
	RegisterHandlers(e, NewStrictHandler(h, nil))
	// Hand-written handlers for what the generated strict server cannot express (see oapi-codegen.yaml).
	e.POST("/v1/breaches/:id/recipients", h.uploadRecipients)
	e.POST("/v1/webhooks/twilio", h.twilioCallback)
	e.GET("/v1/breaches/:id/print-batches/:file", h.printBatchFile)
	for _, r := range e.Router().Routes() {
		m.routes[r.Path] = true
	}
	return e, nil
}

// responseHeaders sets what every response needs whatever its handler: most /v1 responses carry
// personal data (names, addresses, a clerk's notes), so no cache may keep them and no browser may
// guess their type; and a text response says it is UTF-8, since the names in it are in many scripts.
func responseHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if strings.HasPrefix(c.Request().URL.Path, "/v1/") {
			h.Set("Cache-Control", "no-store")
		}
		c.SetResponse(&charsetWriter{ResponseWriter: c.Response()})
		return next(c)
	}
}

// charsetWriter adds "; charset=utf-8" to a text/* Content-Type that names no charset (the
// generated handlers write a bare "text/plain", "text/csv" or "text/html") when the header is sent.
type charsetWriter struct {
	http.ResponseWriter
	done bool
}

func (w *charsetWriter) WriteHeader(status int) {
	w.fix()
	w.ResponseWriter.WriteHeader(status)
}

func (w *charsetWriter) Write(b []byte) (int, error) {
	w.fix()
	return w.ResponseWriter.Write(b)
}

func (w *charsetWriter) fix() {
	if w.done {
		return
	}
	w.done = true
	h := w.Header()
	if ct := h.Get("Content-Type"); strings.HasPrefix(ct, "text/") && !strings.Contains(strings.ToLower(ct), "charset=") {
		h.Set("Content-Type", ct+"; charset=utf-8")
	}
}

// Unwrap lets echo.UnwrapResponse and http.ResponseController reach the response underneath.
func (w *charsetWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// LoadSpec parses and checks the embedded contract.
func LoadSpec() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(breach.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("api: load openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("api: openapi.yaml is invalid: %w", err)
	}
	return doc, nil
}

// ValidationOptions are the request-validation settings the service uses; tests validate responses
// with the same date format.
func ValidationOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:         true,
		KeepValidatedValue: true,
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("date", openapi3.NewCallbackValidator(func(s string) error {
				_, err := breach.ParseDate(s)
				return err
			})),
		},
	}
}

// guard authenticates the caller (an API key, or the actor WithActor put in an in-process
// request's context), checks the operation's x-roles, and validates the request
// against the contract before any handler sees it:
//   - no or unknown key → 401; a role not in x-roles → 403;
//   - a body over the limit → 413; not application/json → 415; not well-formed JSON → 400;
//   - anything else the contract forbids → 422 listing every invalid field.
func guard(router routers.Router, keys *Keys, maxBody int64) echo.MiddlewareFunc {
	opts := ValidationOptions()
	streamOpts := ValidationOptions()
	streamOpts.ExcludeRequestBody = true
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			req := c.Request()
			route, pathParams, err := router.FindRoute(req)
			switch {
			case errors.Is(err, routers.ErrMethodNotAllowed):
				// RFC 9110 §15.5.6: a 405 lists the methods the route does take.
				c.Response().Header().Set("Allow", strings.Join(allowedMethods(router, req), ", "))
				return echo.NewHTTPError(http.StatusMethodNotAllowed, "not in the contract")
			case err != nil:
				return echo.NewHTTPError(http.StatusNotFound, "not in the contract")
			}
			roles := operationRoles(route.Operation)
			if !slices.Contains(roles, "public") {
				actor, ok := inProcessActor(req.Context())
				if !ok {
					var err error
					if actor, err = authenticate(req, keys); err != nil {
						return err
					}
				}
				if !slices.Contains(roles, string(actor.Role)) {
					return breach.Errorf(breach.EFORBIDDEN, "role %s may not call %s (allowed: %s)",
						actor.Role, route.Operation.OperationID, strings.Join(roles, ", "))
				}
				c.SetRequest(req.WithContext(withActor(req.Context(), actor)))
				req = c.Request()
			}

			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route, Options: opts}
			if rb := route.Operation.RequestBody; rb != nil {
				if rb.Value.Content.Get("application/json") != nil {
					if err := readBody(req, maxBody); err != nil {
						return err
					}
				} else {
					// A streamed upload: check its media type here; its handler reads it row by row.
					mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
					if rb.Value.Content.Get(mt) == nil || mt == "" {
						return echo.NewHTTPError(http.StatusUnsupportedMediaType, "unsupported media type")
					}
					// kin-openapi reads the whole body while checking security requirements,
					// even with ExcludeRequestBody: validate a body-less copy so the upload is
					// never held in memory.
					bodyless := req.Clone(req.Context())
					bodyless.Body, bodyless.ContentLength = http.NoBody, 0
					in.Request, in.Options = bodyless, streamOpts
				}
			}
			if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
				return validationError(err)
			}
			if err := checkQuery(route, req); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// cursorPrefixes are the ID prefixes of the lists whose cursor is the last ID of the previous page:
// anything else was never returned by the list, and must not silently read as its first page.
var cursorPrefixes = map[string]string{
	"listBreaches":   "br_",
	"listRecipients": "rc_",
	"listNotices":    "nt_",
	"listCallTasks":  "nt_",
}

// checkQuery refuses what schema validation lets through in a query: a parameter given twice that
// takes one value (the binder would refuse it naming no field), and a cursor of the wrong list.
func checkQuery(route *routers.Route, req *http.Request) error {
	q := req.URL.Query()
	var fe []breach.FieldError
	for _, params := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, p := range params {
			if p.Value == nil || p.Value.In != openapi3.ParameterInQuery || len(q[p.Value.Name]) < 2 {
				continue
			}
			if s := p.Value.Schema; s != nil && s.Value != nil && s.Value.Type.Is(openapi3.TypeArray) {
				continue
			}
			fe = append(fe, breach.FieldError{Field: p.Value.Name, Reason: "is given more than once; it takes one value"})
		}
	}
	if prefix, ok := cursorPrefixes[route.Operation.OperationID]; ok && len(q["cursor"]) == 1 {
		if c := q.Get("cursor"); c != "" && (!strings.HasPrefix(c, prefix) || len(c) == len(prefix)) {
			fe = append(fe, breach.FieldError{Field: "cursor", Reason: "not a cursor returned by this list; start again without it"})
		}
	}
	return breach.InvalidFields(fe)
}

// allowedMethods returns the methods the contract has for the request's path.
func allowedMethods(router routers.Router, req *http.Request) []string {
	var allow []string
	for _, m := range knownMethods {
		r := req.Clone(req.Context())
		r.Method = m
		if _, _, err := router.FindRoute(r); err == nil {
			allow = append(allow, m)
		}
	}
	return allow
}

func operationRoles(op *openapi3.Operation) []string {
	raw, ok := op.Extensions["x-roles"].([]any)
	if !ok {
		return nil // no roles listed: nobody may call it
	}
	roles := make([]string, 0, len(raw))
	for _, r := range raw {
		if s, ok := r.(string); ok {
			roles = append(roles, s)
		}
	}
	return roles
}

func authenticate(req *http.Request, keys *Keys) (breach.Actor, error) {
	scheme, token, ok := strings.Cut(req.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return breach.Actor{}, breach.Errorf(breach.EUNAUTHORIZED, "missing API key: send Authorization: Bearer <key>")
	}
	actor, ok := keys.Authenticate(strings.TrimSpace(token))
	if !ok {
		return breach.Actor{}, breach.Errorf(breach.EUNAUTHORIZED, "unknown API key")
	}
	return actor, nil
}

// readBody reads the whole body (at most max bytes), refuses what is too large, not JSON, or not
// well-formed, and puts the bytes back for validation and decoding.
func readBody(req *http.Request, max int64) error {
	mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "send Content-Type: application/json")
	}
	if req.ContentLength > max {
		return breach.Errorf(breach.ETOOLARGE, "the body is over the %d KiB limit", max>>10)
	}
	b, err := io.ReadAll(io.LimitReader(req.Body, max+1))
	if err != nil {
		return breach.Errorf(breach.EMALFORMED, "the body could not be read")
	}
	if int64(len(b)) > max {
		return breach.Errorf(breach.ETOOLARGE, "the body is over the %d KiB limit", max>>10)
	}
	if err := checkJSON(b); err != nil {
		return err
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.ContentLength = int64(len(b))
	return nil
}

func checkJSON(b []byte) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return breach.Errorf(breach.EMALFORMED, "the body is empty: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return breach.Errorf(breach.EMALFORMED, "the body is not valid JSON: %s at byte %d", se.Error(), se.Offset)
		}
		return breach.Errorf(breach.EMALFORMED, "the body is not valid JSON: %s", err.Error())
	}
	if dec.More() {
		return breach.Errorf(breach.EMALFORMED, "the body has data after the JSON value")
	}
	return nil
}

// recoverer turns a panic into a 500 with the detail logged, so one bad request never takes the
// service down.
func recoverer(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					log.ErrorContext(c.Request().Context(), "panic in handler", "route", c.Path(), "panic", fmt.Sprint(r))
					err = breach.Errorf(breach.EINTERNAL, "panic: %v", r)
				}
			}()
			return next(c)
		}
	}
}
