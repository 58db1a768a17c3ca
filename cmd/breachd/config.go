package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/letters"
	"github.com/breachd/breachd/notify/dsn"
	"github.com/breachd/breachd/notify/email"
	"github.com/breachd/breachd/notify/voice"
)

// The listen addresses when BREACHD_ADDR is not set.
const (
	defaultAddr  = ":8080"
	embeddedAddr = "127.0.0.1:8080"
)

// demoReminderTo is where embedded mode writes deadline reminders (to the outbox) when
// BREACHD_REMINDER_TO is not set, so that a demonstration shows them.
const demoReminderTo = "admin@school.example"

// envVar is one environment variable breachd reads, with its default as a person should read it.
type envVar struct{ name, def, meaning string }

// envVars are every variable loadConfig reads, in the order of the README's configuration table.
// The usage text prints them; tests check that the README's table and loadConfig name the same.
var envVars = []envVar{
	{"REDIS_URL", "unset", "the Redis server, e.g. redis://:password@redis:6379/0; unset: embedded, in memory, nothing survives a restart"},
	{"BREACHD_REDIS_SENTINELS", "unset", "host:port,… of the Sentinels that name the primary; REDIS_URL then gives only its password and DB"},
	{"BREACHD_REDIS_MASTER", "unset", "the name the Sentinels monitor the primary under; required with BREACHD_REDIS_SENTINELS"},
	{"BREACHD_REDIS_SENTINEL_PASSWORD", "unset", "the Sentinels' own password (their requirepass), when they have one"},
	{"BREACHD_ADDR", embeddedAddr + " embedded, else " + defaultAddr, "listen address; " + defaultAddr + " listens on every interface, 127.0.0.1:0 on a free port"},
	{"BREACHD_API_KEYS", "unset", "role:KEY,… (admin, clerk, auditor); required with REDIS_URL; unset embedded: an admin key is generated"},
	{"BREACHD_API_KEYS_FILE", "unset", "a file of role:KEY or role:sha256:<hex> lines, instead of BREACHD_API_KEYS"},
	{"BREACHD_ENCRYPTION_KEY", "unset", "32 bytes, hex or base64: encrypts personal data at rest (random when embedded)"},
	{"BREACHD_SIGNING_KEY", "unset", "Ed25519 seed (32 bytes, base64 or hex) that signs the audit trail's checkpoints; unset: one is generated per run and its public key logged"},
	{"BREACHD_MAX_UPLOAD_BYTES", fmt.Sprint(api.DefaultMaxUploadBytes), "largest upload of recipients"},
	{"BREACHD_MODE", "all", "all (API and workers), api or worker"},
	{"BREACHD_SENDER_NAME", "demo when embedded", "the school corporation; required with REDIS_URL"},
	{"BREACHD_SENDER_ADDRESS", "demo when embedded", "return address lines separated by |; required with REDIS_URL"},
	{"BREACHD_SENDER_PHONE", "unset", "letterhead telephone"},
	{"BREACHD_SENDER_WEBSITE", "unset", "letterhead web site"},
	{"BREACHD_SIGNATORY", "unset", "who signs the letters"},
	{"BREACHD_SIGNATORY_ROLE", "unset", "the signatory's title"},
	{"BREACHD_MAIL_FROM", "demo when embedded", "the address email notices come from; required with REDIS_URL"},
	{"BREACHD_SMTP_HOST", "unset", "SMTP server; unset: emails are .eml files in BREACHD_OUTBOX_DIR"},
	{"BREACHD_SMTP_PORT", "587", "SMTP submission port"},
	{"BREACHD_SMTP_USERNAME", "unset", "SMTP user"},
	{"BREACHD_SMTP_PASSWORD", "unset", "SMTP password"},
	{"BREACHD_SMTP_TLS", "opportunistic", "mandatory, opportunistic or none"},
	{"BREACHD_OUTBOX_DIR", "breachd-outbox", "where emails go without SMTP"},
	{"BREACHD_REMINDER_TO", "unset (embedded with the outbox: " + demoReminderTo + ")", "administrators' addresses, comma-separated, for deadline reminders; unset: none are sent"},
	{"BREACHD_REMINDER_INTERVAL", "1h", "how often workers look for duties to remind"},
	{"BREACHD_TWILIO_ACCOUNT_SID", "unset", "Twilio account; unset: phone notices are clerk call tasks"},
	{"BREACHD_TWILIO_AUTH_TOKEN", "unset", "Twilio auth token"},
	{"BREACHD_TWILIO_FROM", "unset", "the number calls come from"},
	{"BREACHD_TWILIO_BASE_URL", "Twilio's API", "another server speaking the Twilio API"},
	{"BREACHD_PUBLIC_URL", "unset", "where people and Twilio reach this service; required with Twilio; https: the console's cookie is Secure"},
	{"BREACHD_IMAP_HOST", "unset", "IMAP server whose mailbox receives the bounces; unset: bounces are recorded by clerks only"},
	{"BREACHD_IMAP_PORT", "993, or 143 with TLS none", "IMAP port (993: implicit TLS; another: STARTTLS)"},
	{"BREACHD_IMAP_USERNAME", "unset", "IMAP user; required with BREACHD_IMAP_HOST"},
	{"BREACHD_IMAP_PASSWORD", "unset", "IMAP password; required with BREACHD_IMAP_HOST"},
	{"BREACHD_IMAP_MAILBOX", dsn.DefaultMailbox, "the mailbox the bounces arrive in"},
	{"BREACHD_IMAP_TLS", dsn.TLSMandatory, "mandatory or none"},
	{"BREACHD_IMAP_INTERVAL", jobs.DefaultBounceInterval.String(), "how often the mailbox is read"},
	{"BREACHD_RETENTION", "off", "how long after closure a breach keeps the people's personal data (7y, 2555d); then the workers purge it"},
	{"BREACHD_BATCH_SIZE", fmt.Sprint(jobs.DefaultBatchSize), "letters per print batch"},
	{"BREACHD_LOG_FORMAT", "json", "json or text"},
	{"BREACHD_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"BREACHD_SHUTDOWN_TIMEOUT", "15s", "how long in-flight requests get to finish on SIGTERM"},
}

// config is everything breachd reads from its environment. Each field names its variable and
// default; the README's configuration table lists the same.
type config struct {
	RedisURL string // REDIS_URL; default "" = embedded in-memory Redis (nothing persists), unless Sentinels are set
	// Redis through Sentinel: the Sentinels name the primary and, after a failover, the new one.
	// REDIS_URL then only gives the primary's user, password, DB and TLS (its host is not dialled).
	Sentinels        []string           // BREACHD_REDIS_SENTINELS ("host:port,…"); default none: REDIS_URL is dialled directly
	MasterName       string             // BREACHD_REDIS_MASTER; required with Sentinels
	SentinelPassword string             // BREACHD_REDIS_SENTINEL_PASSWORD; default none
	Addr             string             // BREACHD_ADDR; default "127.0.0.1:8080" in embedded mode, else ":8080"
	Keys             *api.Keys          // BREACHD_API_KEYS ("role:key,…") or BREACHD_API_KEYS_FILE; required with REDIS_URL
	EncryptionKey    []byte             // BREACHD_ENCRYPTION_KEY; 32 bytes, hex or base64; default none (random in embedded mode)
	SigningKey       ed25519.PrivateKey // BREACHD_SIGNING_KEY; a 32-byte Ed25519 seed, base64 or hex; default: generated per run
	MaxUploadBytes   int64              // BREACHD_MAX_UPLOAD_BYTES; default api.DefaultMaxUploadBytes (1 GiB)
	LogFormat        string             // BREACHD_LOG_FORMAT; "json" (default) or "text"
	LogLevel         slog.Level         // BREACHD_LOG_LEVEL; debug, info (default), warn, error
	ShutdownTimeout  time.Duration      // BREACHD_SHUTDOWN_TIMEOUT; default 15s
	Mode             string             // BREACHD_MODE; "all" (default: API and workers), "api" or "worker"
	BatchSize        int                // BREACHD_BATCH_SIZE; letters per print batch, default 1000

	// Who the notices come from (letters, emails, call scripts).
	Sender   letters.Sender // BREACHD_SENDER_NAME, _ADDRESS ("line|line"), _PHONE, _WEBSITE; BREACHD_SIGNATORY, _ROLE
	MailFrom string         // BREACHD_MAIL_FROM: the address email notices come from
	// Email: SMTP when BREACHD_SMTP_HOST is set, else .eml files in BREACHD_OUTBOX_DIR.
	SMTP      email.Config // BREACHD_SMTP_HOST, _PORT (587), _USERNAME, _PASSWORD, _TLS (opportunistic)
	OutboxDir string       // BREACHD_OUTBOX_DIR; default "breachd-outbox"
	// Calls: Twilio when BREACHD_TWILIO_ACCOUNT_SID is set, else clerk call tasks.
	Twilio    voice.Config // BREACHD_TWILIO_ACCOUNT_SID, _AUTH_TOKEN, _FROM, _BASE_URL
	PublicURL string       // BREACHD_PUBLIC_URL: where Twilio and people reach the service; required with Twilio
	// Deadline reminders, sent by the workers (modes all and worker) through the same mailer.
	ReminderTo       []string      // BREACHD_REMINDER_TO ("a@x,b@y"); default none: no reminders (embedded with the outbox: demoReminderTo)
	ReminderInterval time.Duration // BREACHD_REMINDER_INTERVAL; default jobs.DefaultReminderInterval (1h)
	// Bounces: read from an IMAP mailbox when BREACHD_IMAP_HOST is set (by the workers).
	IMAP         dsn.Config    // BREACHD_IMAP_HOST, _PORT (993; 143 with TLS none), _USERNAME, _PASSWORD, _MAILBOX (INBOX), _TLS (mandatory)
	IMAPInterval time.Duration // BREACHD_IMAP_INTERVAL; default jobs.DefaultBounceInterval (1m)
	// Retention is how long after closure personal data is kept (BREACHD_RETENTION: "7y", "2555d");
	// default off: never purged.
	Retention breach.RetentionPeriod
}

// loadConfig reads and checks the environment; every error names the variable.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		RedisURL:        strings.TrimSpace(getenv("REDIS_URL")),
		Addr:            defaultAddr,
		LogFormat:       "json",
		ShutdownTimeout: 15 * time.Second,
		MaxUploadBytes:  api.DefaultMaxUploadBytes,
	}
	var errs []error
	if v := strings.TrimSpace(getenv("BREACHD_REDIS_SENTINELS")); v != "" {
		for i, addr := range strings.Split(v, ",") {
			addr = strings.TrimSpace(addr)
			host, port, err := net.SplitHostPort(addr)
			if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
				errs = append(errs, fmt.Errorf("BREACHD_REDIS_SENTINELS: Sentinel %d (%q) is not host:port", i+1, addr))
				continue
			}
			c.Sentinels = append(c.Sentinels, addr)
		}
	}
	c.MasterName = strings.TrimSpace(getenv("BREACHD_REDIS_MASTER"))
	c.SentinelPassword = getenv("BREACHD_REDIS_SENTINEL_PASSWORD")
	switch sentinels := getenv("BREACHD_REDIS_SENTINELS") != ""; {
	case sentinels && c.MasterName == "":
		errs = append(errs, errors.New("BREACHD_REDIS_MASTER is required with BREACHD_REDIS_SENTINELS: "+
			"the name the Sentinels monitor the primary under (sentinel monitor NAME host port quorum)"))
	case !sentinels && c.MasterName != "":
		errs = append(errs, errors.New("BREACHD_REDIS_MASTER is set without BREACHD_REDIS_SENTINELS: name the Sentinels (host:port,…)"))
	case !sentinels && c.SentinelPassword != "":
		errs = append(errs, errors.New("BREACHD_REDIS_SENTINEL_PASSWORD is set without BREACHD_REDIS_SENTINELS: name the Sentinels (host:port,…)"))
	}
	external := c.RedisURL != "" || getenv("BREACHD_REDIS_SENTINELS") != ""
	// What a message names as the reason a variable is required.
	storeVar := "REDIS_URL"
	if c.RedisURL == "" {
		storeVar = "BREACHD_REDIS_SENTINELS"
	}
	if !external {
		// Embedded mode prints a working admin key: only this machine should be able to use it.
		c.Addr = embeddedAddr
	}
	if v := getenv("BREACHD_ADDR"); v != "" {
		c.Addr = v
	}
	keysSpec, keysFile := getenv("BREACHD_API_KEYS"), getenv("BREACHD_API_KEYS_FILE")
	switch {
	case keysSpec != "" && keysFile != "":
		errs = append(errs, errors.New("set BREACHD_API_KEYS or BREACHD_API_KEYS_FILE, not both"))
	case keysFile != "":
		f, err := os.Open(keysFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("BREACHD_API_KEYS_FILE: %w", err))
			break
		}
		c.Keys, err = api.ReadKeys(f)
		f.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("BREACHD_API_KEYS_FILE %s: %w", keysFile, err))
		}
	default:
		var err error
		if c.Keys, err = api.ParseKeys(keysSpec); err != nil {
			errs = append(errs, fmt.Errorf("BREACHD_API_KEYS: %w", err))
		}
	}
	if c.Keys == nil {
		c.Keys = &api.Keys{}
	}
	if external && c.Keys.Len() == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("BREACHD_API_KEYS or BREACHD_API_KEYS_FILE is required when "+storeVar+" is set "+
			"(format role:key,role:key with roles admin, clerk, auditor)"))
	}
	if v := getenv("BREACHD_ENCRYPTION_KEY"); v != "" {
		key, err := jobs.ParseEncryptionKey(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("BREACHD_ENCRYPTION_KEY: %w", err))
		}
		c.EncryptionKey = key
	}
	if v := getenv("BREACHD_SIGNING_KEY"); v != "" {
		seed, err := parseSeed(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("BREACHD_SIGNING_KEY: %w", err))
		} else {
			c.SigningKey = ed25519.NewKeyFromSeed(seed)
		}
	}
	if v := getenv("BREACHD_MAX_UPLOAD_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 {
			errs = append(errs, fmt.Errorf("BREACHD_MAX_UPLOAD_BYTES: %q is not a number of bytes of at least 1024", v))
		}
		c.MaxUploadBytes = n
	}
	if v := getenv("BREACHD_LOG_FORMAT"); v != "" {
		if v != "json" && v != "text" {
			errs = append(errs, fmt.Errorf("BREACHD_LOG_FORMAT: %q is not json or text", v))
		}
		c.LogFormat = v
	}
	if v := getenv("BREACHD_LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("BREACHD_LOG_LEVEL: %q is not debug, info, warn or error", v))
		}
	}
	if v := getenv("BREACHD_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("BREACHD_SHUTDOWN_TIMEOUT: %q is not a positive duration such as 15s", v))
		}
		c.ShutdownTimeout = d
	}
	c.Mode = "all"
	if v := getenv("BREACHD_MODE"); v != "" {
		if v != "all" && v != "api" && v != "worker" {
			errs = append(errs, fmt.Errorf("BREACHD_MODE: %q is not all, api or worker", v))
		}
		c.Mode = v
	}
	c.BatchSize = jobs.DefaultBatchSize
	if v := getenv("BREACHD_BATCH_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > jobs.DefaultBatchSize {
			errs = append(errs, fmt.Errorf("BREACHD_BATCH_SIZE: %q is not a number from 1 to %d", v, jobs.DefaultBatchSize))
		}
		c.BatchSize = n
	}
	c.Sender = letters.Sender{
		Organization:  getenv("BREACHD_SENDER_NAME"),
		Phone:         getenv("BREACHD_SENDER_PHONE"),
		Website:       getenv("BREACHD_SENDER_WEBSITE"),
		Signatory:     getenv("BREACHD_SIGNATORY"),
		SignatoryRole: getenv("BREACHD_SIGNATORY_ROLE"),
	}
	if v := getenv("BREACHD_SENDER_ADDRESS"); v != "" {
		c.Sender.ReturnAddress = strings.Split(v, "|")
	}
	c.MailFrom = getenv("BREACHD_MAIL_FROM")
	if !external {
		// Embedded mode is a demonstration: fill what a real school must configure.
		if c.Sender.Organization == "" {
			c.Sender.Organization = "Demonstration School Corporation"
			c.Sender.ReturnAddress = []string{"1 Example Way", "Indianapolis IN 46204"}
		}
		if c.MailFrom == "" {
			c.MailFrom = "notices@school.example"
		}
	}
	if c.Sender.Organization == "" {
		errs = append(errs, errors.New("BREACHD_SENDER_NAME is required when "+storeVar+" is set: it heads every letter and email"))
	}
	if len(c.Sender.ReturnAddress) == 0 && external {
		errs = append(errs, errors.New("BREACHD_SENDER_ADDRESS is required when "+storeVar+" is set (lines separated by |): it is the letters' return address"))
	}
	if c.MailFrom == "" {
		errs = append(errs, errors.New("BREACHD_MAIL_FROM is required when "+storeVar+" is set: the address email notices come from"))
	}
	c.OutboxDir = "breachd-outbox"
	if v := getenv("BREACHD_OUTBOX_DIR"); v != "" {
		c.OutboxDir = v
	}
	if host := getenv("BREACHD_SMTP_HOST"); host != "" {
		c.SMTP = email.Config{Host: host, Username: getenv("BREACHD_SMTP_USERNAME"), Password: getenv("BREACHD_SMTP_PASSWORD"),
			From: c.MailFrom, FromName: c.Sender.Organization}
		if v := getenv("BREACHD_SMTP_PORT"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("BREACHD_SMTP_PORT: %q is not a port number", v))
			}
			c.SMTP.Port = n
		}
		switch v := getenv("BREACHD_SMTP_TLS"); v {
		case "", "opportunistic":
			c.SMTP.TLSPolicy = email.TLSOpportunistic
		case "mandatory":
			c.SMTP.TLSPolicy = email.TLSMandatory
		case "none":
			c.SMTP.TLSPolicy = email.TLSNone
		default:
			errs = append(errs, fmt.Errorf("BREACHD_SMTP_TLS: %q is not mandatory, opportunistic or none", v))
		}
	}
	// The public URL also tells the console that people reach it over https (Secure cookies).
	c.PublicURL = strings.TrimSuffix(getenv("BREACHD_PUBLIC_URL"), "/")
	if sid := getenv("BREACHD_TWILIO_ACCOUNT_SID"); sid != "" {
		c.Twilio = voice.Config{AccountSID: sid, AuthToken: getenv("BREACHD_TWILIO_AUTH_TOKEN"),
			From: getenv("BREACHD_TWILIO_FROM"), BaseURL: getenv("BREACHD_TWILIO_BASE_URL")}
		if c.PublicURL == "" {
			errs = append(errs, errors.New("BREACHD_PUBLIC_URL is required with Twilio: it is where Twilio sends call outcomes"))
		}
	}
	if v := getenv("BREACHD_REMINDER_TO"); strings.TrimSpace(v) != "" {
		for a := range strings.SplitSeq(v, ",") {
			a = strings.TrimSpace(a)
			if err := jobs.CheckReminderAddress(a); err != nil {
				errs = append(errs, fmt.Errorf("BREACHD_REMINDER_TO: %w", err))
				continue
			}
			c.ReminderTo = append(c.ReminderTo, a)
		}
	} else if c.embedded() && c.SMTP.Host == "" {
		// A demonstration writes to the outbox only: show the reminders there too.
		c.ReminderTo = []string{demoReminderTo}
	}
	c.ReminderInterval = jobs.DefaultReminderInterval
	if v := getenv("BREACHD_REMINDER_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			errs = append(errs, fmt.Errorf("BREACHD_REMINDER_INTERVAL: %q is not a duration of at least 1s such as 1h or 30m", v))
		}
		c.ReminderInterval = d
	}
	if v := getenv("BREACHD_RETENTION"); v != "" {
		p, err := breach.ParseRetention(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("BREACHD_RETENTION: %q: %v", v, err))
		}
		c.Retention = p
	}
	errs = append(errs, loadIMAP(getenv, &c)...)
	return c, errors.Join(errs...)
}

// loadIMAP reads the BREACHD_IMAP_* variables: the bounce mailbox.
func loadIMAP(getenv func(string) string, c *config) []error {
	host := getenv("BREACHD_IMAP_HOST")
	if host == "" {
		return nil
	}
	var errs []error
	c.IMAP = dsn.Config{Host: host, Username: getenv("BREACHD_IMAP_USERNAME"), Password: getenv("BREACHD_IMAP_PASSWORD"),
		Mailbox: getenv("BREACHD_IMAP_MAILBOX"), TLS: getenv("BREACHD_IMAP_TLS")}
	if v := getenv("BREACHD_IMAP_PORT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			errs = append(errs, fmt.Errorf("BREACHD_IMAP_PORT: %q is not a port number", v))
		}
		c.IMAP.Port = n
	}
	switch c.IMAP.TLS {
	case "", dsn.TLSMandatory, dsn.TLSNone:
	default:
		errs = append(errs, fmt.Errorf("BREACHD_IMAP_TLS: %q is not mandatory or none", c.IMAP.TLS))
	}
	// The defaults dsn.New would apply, here so that the start-up log says them.
	if c.IMAP.TLS == "" {
		c.IMAP.TLS = dsn.TLSMandatory
	}
	if c.IMAP.Port == 0 {
		c.IMAP.Port = 993
		if c.IMAP.TLS == dsn.TLSNone {
			c.IMAP.Port = 143
		}
	}
	if c.IMAP.Mailbox == "" {
		c.IMAP.Mailbox = dsn.DefaultMailbox
	}
	if c.IMAP.Username == "" {
		errs = append(errs, errors.New("BREACHD_IMAP_USERNAME is required with BREACHD_IMAP_HOST"))
	}
	if c.IMAP.Password == "" {
		errs = append(errs, errors.New("BREACHD_IMAP_PASSWORD is required with BREACHD_IMAP_HOST"))
	}
	if strings.ContainsAny(c.IMAP.Mailbox, "\r\n") {
		errs = append(errs, errors.New("BREACHD_IMAP_MAILBOX must be one line"))
	}
	c.IMAPInterval = jobs.DefaultBounceInterval
	if v := getenv("BREACHD_IMAP_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			errs = append(errs, fmt.Errorf("BREACHD_IMAP_INTERVAL: %q is not a duration of at least 1s, such as 1m", v))
		}
		c.IMAPInterval = d
	}
	return errs
}

// embedded reports whether breachd runs on its own in-memory Redis: no REDIS_URL, no Sentinels.
func (c config) embedded() bool { return c.RedisURL == "" && len(c.Sentinels) == 0 }

// String describes the configuration for the start-up log, with secrets masked.
func (c config) String() string {
	redis := "embedded (in-memory, nothing persists)"
	switch {
	case len(c.Sentinels) > 0:
		// The primary's URL (when set) gives only its credentials and DB; say which Sentinels name it.
		redis = fmt.Sprintf("sentinel master=%s sentinels=%s sentinel_password=%t", c.MasterName, strings.Join(c.Sentinels, ","), c.SentinelPassword != "")
		if c.RedisURL != "" {
			redis += " url=" + maskURL(c.RedisURL)
		}
	case c.RedisURL != "":
		redis = maskURL(c.RedisURL)
	}
	enc := "off"
	if c.EncryptionKey != nil {
		enc = "on"
	}
	mail := "outbox " + c.OutboxDir
	if c.SMTP.Host != "" {
		mail = fmt.Sprintf("smtp %s:%d tls=%s user=%t", c.SMTP.Host, c.SMTP.Port, c.SMTP.TLSPolicy, c.SMTP.Username != "")
	}
	calls := "clerk call tasks"
	if c.Twilio.AccountSID != "" {
		calls = "twilio (token " + map[bool]string{true: "set", false: "missing"}[c.Twilio.AuthToken != ""] + ") callbacks at " + c.PublicURL
	}
	reminders := "off"
	if len(c.ReminderTo) > 0 {
		reminders = fmt.Sprintf("%d addresses every %s", len(c.ReminderTo), c.ReminderInterval)
	}
	bounces := "clerks"
	if c.IMAP.Host != "" {
		bounces = fmt.Sprintf("imap %s:%d mailbox=%q tls=%q user=%t every %s", c.IMAP.Host, c.IMAP.Port, c.IMAP.Mailbox, c.IMAP.TLS,
			c.IMAP.Username != "", c.IMAPInterval)
	}
	return fmt.Sprintf("mode=%s redis=%s addr=%s api_keys=%d encryption=%s max_upload_bytes=%d mail=%s calls=%s reminders=%s bounces=%s retention=%s batch_size=%d log=%s/%s shutdown_timeout=%s",
		c.Mode, redis, c.Addr, c.Keys.Len(), enc, c.MaxUploadBytes, mail, calls, reminders, bounces, c.Retention, c.BatchSize, c.LogFormat, c.LogLevel, c.ShutdownTimeout)
}

// maskURL hides a password in a Redis URL.
func maskURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "(unparsable)"
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "****@" + rest[at+1:]
	}
	return scheme + "://" + rest
}

// parseSeed reads an Ed25519 seed: 32 bytes as standard base64 or hex.
func parseSeed(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	if b, err := hex.DecodeString(v); err == nil && len(b) == ed25519.SeedSize {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(v); err == nil && len(b) == ed25519.SeedSize {
		return b, nil
	}
	return nil, errors.New("not a 32-byte Ed25519 seed in base64 or hex (make one with: openssl rand -base64 32)")
}
