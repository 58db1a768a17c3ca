// Package web is breachd's console: server-rendered pages for the people who work a breach —
// administrators, clerks and auditors — signed in with named accounts.
//
// The console holds no rule and no second copy of an action. Every page reads and acts through
// the REST handler api.New returns, in process: it builds the same request a REST client would
// (same JSON bodies), puts the signed-in person in the request's context (api.WithActor) and shows
// what the API answers — its validation, its x-roles checks and its problem+json messages, beside
// the field they name. Templates and assets are embedded; the one script is a file, so a strict
// Content-Security-Policy holds.
package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// Config is what the console needs. API, Users, Sessions and Throttle are required.
type Config struct {
	// API is the REST handler (api.New); the console serves every action through it.
	API      http.Handler
	Users    breach.UserStore
	Sessions breach.SessionStore
	Throttle breach.SignInThrottle
	// SecureCookies marks the session cookie Secure on every response, for a service behind a
	// proxy that terminates TLS (BREACHD_PUBLIC_URL is https). A request over TLS always gets it.
	SecureCookies bool
	// Logger receives sign-in outcomes (never a password, a token or a display name) and internal
	// errors. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// BcryptCost is the cost of new password hashes. Default and least: DefaultBcryptCost.
	BcryptCost int
}

// Console is the console's HTTP handler.
type Console struct {
	cfg    Config
	mux    *http.ServeMux
	pages  map[string]*template.Template
	assets http.Handler
	// routeErrs are the operations routes named that the contract lacks (see op).
	routeErrs []string
}

// New returns the console.
func New(cfg Config) (*Console, error) {
	if cfg.API == nil || cfg.Users == nil || cfg.Sessions == nil || cfg.Throttle == nil {
		return nil, errors.New("web: API, Users, Sessions and Throttle are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BcryptCost < DefaultBcryptCost {
		cfg.BcryptCost = DefaultBcryptCost
	}
	c := &Console{cfg: cfg, mux: http.NewServeMux(), pages: map[string]*template.Template{}}
	if err := c.parseTemplates(); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(assetFiles, "assets")
	if err != nil {
		return nil, fmt.Errorf("web: assets: %w", err)
	}
	c.assets = http.StripPrefix("/assets/", http.FileServerFS(sub))
	c.routes()
	if len(c.routeErrs) > 0 {
		return nil, fmt.Errorf("web: pages serve operations the contract lacks: %v", c.routeErrs)
	}
	return c, nil
}

// Pages are the paths the console serves; cmd sends the rest (the REST API) elsewhere.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.mux.ServeHTTP(w, r)
}

// ContentSecurityPolicy is sent with every console response: scripts and styles only from the
// console's own files, no inline script, no framing, forms only to the console; the script may
// call back to the console only (the upload's progress, the live preview).
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Roles allowed by the console's own pages (those that are no operation of the contract).
var (
	everyone = []breach.Role{breach.RoleAdmin, breach.RoleClerk, breach.RoleAuditor}
	admins   = []breach.Role{breach.RoleAdmin}
)

// op returns the roles the contract's x-roles allow for opID: a page that serves the operation
// admits exactly them. An operation the contract lacks is a programming error New reports.
func (c *Console) op(opID string) []breach.Role {
	r := api.OperationRoles(opID)
	if len(r) == 0 {
		c.routeErrs = append(c.routeErrs, opID)
	}
	return r
}

func (c *Console) routes() {
	m := c.mux
	m.HandleFunc("GET /assets/", func(w http.ResponseWriter, r *http.Request) {
		// Assets hold no data and change only with the binary.
		w.Header().Set("Cache-Control", "public, max-age=3600")
		c.assets.ServeHTTP(w, r)
	})
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/breaches", http.StatusSeeOther)
	})
	m.HandleFunc("GET /signin", c.signinPage)
	m.HandleFunc("POST /signin", c.signin)
	m.HandleFunc("POST /signout", c.page(everyone, c.signout))
	m.HandleFunc("GET /account/password", c.page(everyone, c.passwordPage))
	m.HandleFunc("POST /account/password", c.page(everyone, c.changePassword))

	// Each page admits the roles of the operation it serves, as the contract's x-roles list them.
	m.HandleFunc("GET /breaches", c.page(c.op("listBreaches"), c.breachesPage))
	m.HandleFunc("GET /breaches/new", c.page(c.op("createBreach"), c.newBreachPage))
	m.HandleFunc("POST /breaches/new", c.page(c.op("createBreach"), c.newBreach))
	m.HandleFunc("GET /breaches/{id}", c.page(c.op("getBreach"), c.breachPage))
	m.HandleFunc("GET /breaches/{id}/determination", c.page(c.op("reviseDetermination"), c.editDeterminationPage))
	m.HandleFunc("POST /breaches/{id}/determination", c.page(c.op("reviseDetermination"), c.editDetermination))
	m.HandleFunc("POST /breaches/{id}/holds", c.page(c.op("placeHold"), c.placeHold))
	m.HandleFunc("POST /breaches/{id}/holds/{hid}/release", c.page(c.op("releaseHold"), c.releaseHold))
	m.HandleFunc("POST /breaches/{id}/obligations/{oid}", c.page(c.op("recordObligation"), c.recordObligation))
	m.HandleFunc("POST /breaches/{id}/languages/{lang}/english-fallback", c.page(c.op("recordEnglishFallback"), c.recordFallback))
	m.HandleFunc("GET /breaches/{id}/close", c.page(c.op("closeBreach"), c.closePage))
	m.HandleFunc("POST /breaches/{id}/close", c.page(c.op("closeBreach"), c.closeBreach))
	m.HandleFunc("GET /breaches/{id}/people", c.page(c.op("listRecipients"), c.peoplePage))
	m.HandleFunc("POST /breaches/{id}/people", c.uploadPage(c.op("uploadRecipients"), c.uploadPeople))
	m.HandleFunc("POST /breaches/{id}/people/complete", c.page(c.op("completeRecipients"), c.completePeople))
	m.HandleFunc("GET /breaches/{id}/dispatch", c.page(c.op("dispatchBreach"), c.dispatchPage))
	m.HandleFunc("POST /breaches/{id}/dispatch", c.page(c.op("dispatchBreach"), c.dispatch))
	m.HandleFunc("GET /breaches/{id}/status", c.page(c.op("getDeliveryStatus"), c.statusPage))
	m.HandleFunc("GET /breaches/{id}/notices", c.page(c.op("listNotices"), c.noticesPage))
	m.HandleFunc("GET /breaches/{id}/notices.csv", c.page(c.op("exportNotices"), c.download("/notices.csv")))
	m.HandleFunc("GET /breaches/{id}/closure-report.pdf", c.page(c.op("getClosureReport"), c.download("/closure-report.pdf")))
	m.HandleFunc("GET /breaches/{id}/events", c.page(c.op("listEvents"), c.auditPage))

	m.HandleFunc("GET /breaches/{id}/print", c.page(c.op("listPrintBatches"), c.printPage))
	m.HandleFunc("POST /breaches/{id}/print", c.page(c.op("createPrintBatch"), c.makeBatch))
	m.HandleFunc("GET /breaches/{id}/print/{bid}/batch.pdf", c.page(c.op("getPrintBatchPDF"), c.batchDownload(".pdf")))
	m.HandleFunc("GET /breaches/{id}/print/{bid}/manifest.csv", c.page(c.op("getPrintBatchManifest"), c.batchDownload(".csv")))
	m.HandleFunc("POST /breaches/{id}/print/{bid}/mailed", c.page(c.op("markPrintBatchMailed"), c.markMailed))
	m.HandleFunc("POST /breaches/{id}/print/returned", c.page(c.op("recordReturnedMail"), c.recordReturned))
	m.HandleFunc("GET /breaches/{id}/print/reprint", c.page(c.op("getLetterPDF"), c.reprintPage))
	m.HandleFunc("GET /breaches/{id}/calls", c.page(c.op("listCallTasks"), c.callsPage))
	m.HandleFunc("POST /breaches/{id}/calls/{nid}", c.page(c.op("recordCallAttempt"), c.recordCall))
	m.HandleFunc("GET /notices/{nid}", c.page(c.op("getNotice"), c.noticePage))
	m.HandleFunc("GET /notices/{nid}/letter.pdf", c.page(c.op("getLetterPDF"), c.letterDownload))

	m.HandleFunc("GET /users", c.page(admins, c.usersPage))
	m.HandleFunc("POST /users", c.page(admins, c.addUser))
	m.HandleFunc("POST /users/{name}", c.page(admins, c.changeUser))

	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.errorPage(w, r, nil, http.StatusNotFound, "Page not found", "There is no page at this address.")
	})
}
