package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	breach "github.com/breachd/breachd"
	gomail "github.com/wneessen/go-mail"
)

// TLSPolicy says whether the SMTP session must be encrypted with STARTTLS.
type TLSPolicy string

const (
	// TLSMandatory refuses to send unless the server offers STARTTLS and the handshake succeeds.
	TLSMandatory TLSPolicy = "mandatory"
	// TLSOpportunistic uses STARTTLS when the server offers it, and sends in the clear otherwise.
	TLSOpportunistic TLSPolicy = "opportunistic"
	// TLSNone never uses STARTTLS (a relay on localhost, Mailpit).
	TLSNone TLSPolicy = "none"
)

// Defaults for the zero values of Config.
const (
	DefaultPort      = 587 // message submission (RFC 6409)
	DefaultTLSPolicy = TLSOpportunistic
	DefaultTimeout   = 15 * time.Second
)

// Config configures an SMTP client. New validates it.
type Config struct {
	Host string // required: the server's host name or IP address, without a port
	Port int    // default 587

	// Username and Password, when set, authenticate with SMTP AUTH. The mechanism is the strongest
	// the server offers (SCRAM, CRAM-MD5, PLAIN, LOGIN); PLAIN and LOGIN are only used over TLS.
	Username string
	Password string

	From     string // required: the bare address notices come from (From and envelope sender)
	FromName string // optional display name, any UTF-8 ("Lincoln Unified School District")

	TLSPolicy TLSPolicy   // mandatory, opportunistic or none; default opportunistic
	TLSConfig *tls.Config // optional, e.g. RootCAs for a relay with a private CA; ServerName defaults to Host

	// Timeout bounds connecting and then each SMTP command (not a whole batch); default 15s.
	Timeout time.Duration
	HELO    string // name sent with EHLO; default: this machine's host name
}

// LogValue logs the config with the password masked.
func (c Config) LogValue() slog.Value {
	password := ""
	if c.Password != "" {
		password = "********"
	}
	return slog.GroupValue(
		slog.String("host", c.Host), slog.Int("port", c.Port), slog.String("username", c.Username),
		slog.String("password", password), slog.String("from", c.From),
		slog.String("from_name", c.FromName), slog.String("tls_policy", string(c.TLSPolicy)),
		slog.Duration("timeout", c.Timeout), slog.String("helo", c.HELO),
	)
}

// SMTP sends notices through an SMTP server. Each Send opens one connection, sends every message
// over it and closes it. It is safe for concurrent use; concurrent Sends use separate connections.
type SMTP struct {
	sender
	host   string
	opts   []gomail.Option
	dialer net.Dialer
}

// New validates cfg and returns an SMTP client. It does not connect. An invalid cfg gives an
// EINVALID *breach.Error naming every bad field.
func New(cfg Config) (*SMTP, error) {
	var errs []breach.FieldError
	bad := func(field, reason string) { errs = append(errs, breach.FieldError{Field: field, Reason: reason}) }

	host := strings.TrimSpace(cfg.Host)
	switch {
	case host == "":
		bad("Host", "is required")
	case strings.ContainsAny(host, " /@") || (strings.Contains(host, ":") && net.ParseIP(host) == nil):
		bad("Host", "must be a host name or IP address without a port (set Port)")
	}
	port := cfg.Port
	if port == 0 {
		port = DefaultPort
	}
	if port < 1 || port > 65535 {
		bad("Port", "must be between 1 and 65535")
	}
	if (cfg.Username == "") != (cfg.Password == "") {
		bad("Username", "and Password must be set together")
	}
	snd, fromErrs := newSender("From", cfg.From, cfg.FromName)
	errs = append(errs, fromErrs...)
	policy := cfg.TLSPolicy
	if policy == "" {
		policy = DefaultTLSPolicy
	}
	var tlsPolicy gomail.TLSPolicy
	switch policy {
	case TLSMandatory:
		tlsPolicy = gomail.TLSMandatory
	case TLSOpportunistic:
		tlsPolicy = gomail.TLSOpportunistic
	case TLSNone:
		tlsPolicy = gomail.NoTLS
	default:
		bad("TLSPolicy", `must be "mandatory", "opportunistic" or "none"`)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if timeout < 0 {
		bad("Timeout", "must not be negative")
	}
	if strings.ContainsAny(cfg.HELO, " \r\n") {
		bad("HELO", "must be a single name")
	}
	if err := configError(errs); err != nil {
		return nil, err
	}

	opts := []gomail.Option{
		gomail.WithPort(port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSPolicy(tlsPolicy),
		// The connection is fresh and each message ends its own transaction: a NOOP before and a
		// RSET after every message would double the round trips. Send resets after a failure itself.
		gomail.WithoutNoop(),
		gomail.WithoutRset(),
	}
	tlsConfig := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
		if tlsConfig.ServerName == "" {
			tlsConfig.ServerName = host
		}
	}
	opts = append(opts, gomail.WithTLSConfig(tlsConfig))
	if cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(cfg.HELO))
	}
	if cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	// Fail now, not at the first Send, if go-mail rejects the options.
	if _, err := gomail.NewClient(host, opts...); err != nil {
		return nil, fmt.Errorf("email config: %w", err)
	}
	return &SMTP{sender: snd, host: host, opts: opts, dialer: net.Dialer{Timeout: timeout}}, nil
}

// Send delivers msgs in order over one connection and returns one error per message: nil when the
// server accepted it, else a *breach.SendError. A message that cannot be built (bad address, bad
// notice ID) fails permanently without being sent. After a network failure the connection is
// abandoned and the messages not yet sent fail temporarily, as do all messages not yet sent when
// ctx is done.
//
// The slice-level error, a temporary *breach.SendError, says that no message was sent: the server
// could not be reached, refused the session, did not offer STARTTLS under TLSMandatory, or
// rejected the credentials. The []error is nil then.
func (s *SMTP) Send(ctx context.Context, msgs []breach.EmailMessage) ([]error, error) {
	return s.SendEach(ctx, msgs, nil, nil)
}

// SendEach is Send with a step around each message's SMTP transaction, so that the caller can
// record, message by message, what the server has been handed: before(i), when given, runs right
// before message i's transaction begins (MAIL FROM); if it returns an error, neither message i nor
// any after it is sent (they fail temporarily, "not sent") and the session ends. after(i, r, err),
// when given, runs as soon as the server has answered message i (err nil: accepted), before the
// next message starts; r is the server's receipt for an accepted message (its final reply, the
// queue ID in it, the Message-ID), the zero EmailReceipt for a refused one. A caller that records "about to send i" in before and "i accepted" in the
// next before (or after the last) knows, whatever happens to it, which message at most may have
// been accepted without its record: the one in flight.
func (s *SMTP) SendEach(ctx context.Context, msgs []breach.EmailMessage, before func(i int) error,
	after func(i int, r breach.EmailReceipt, err error)) ([]error, error) {
	errs := make([]error, len(msgs))
	built := make([]*gomail.Msg, len(msgs))
	pending := 0
	for i, em := range msgs {
		m, err := s.build(em)
		if err != nil {
			errs[i] = err
			continue
		}
		built[i] = m
		pending++
	}
	if pending == 0 {
		return errs, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, temporary("canceled before connecting", err)
	}

	// go-mail bounds each command with its timeout but watches the context only while dialing;
	// closing the connection when ctx is done interrupts whatever command is waiting.
	var conn net.Conn
	stop := func() bool { return false }
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		c, err := s.dialer.DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		conn = c
		stop = context.AfterFunc(ctx, func() { c.Close() })
		return c, nil
	}
	client, err := gomail.NewClient(s.host, append(s.opts[:len(s.opts):len(s.opts)], gomail.WithDialContextFunc(dial))...)
	if err != nil {
		return nil, temporary("SMTP client setup failed", err)
	}
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		if conn != nil {
			stop()
			conn.Close()
		}
		return nil, sessionError(ctx, err)
	}
	defer func() {
		stop()
		conn.Close()
	}()

	broken := false // the connection can no longer be trusted to be in step with the server
	gate := batchGate{before: before}
	for i, m := range built {
		switch {
		case m == nil:
			continue
		case ctx.Err() != nil:
			errs[i] = temporary("canceled before sending", ctx.Err())
			continue
		case broken:
			errs[i] = temporary("not sent: connection lost earlier in the batch", nil)
			continue
		}
		if err := gate.pass(i); err != nil {
			errs[i] = err
			continue
		}
		err := client.SendWithSMTPClient(sc, m)
		if err == nil {
			if after != nil {
				after(i, s.receipt(msgs[i], m), nil)
			}
			continue
		}
		se := messageError(ctx, err)
		errs[i] = se
		if after != nil {
			after(i, breach.EmailReceipt{}, se)
		}
		if smtpCode(err) == 0 {
			broken = true
			continue
		}
		// The server answered: end whatever transaction go-mail left open so that the next
		// message starts clean (go-mail resets after MAIL and RCPT failures, not after DATA).
		if err := sc.Reset(); err != nil {
			broken = true
		}
	}
	if !broken && ctx.Err() == nil {
		// QUIT is a courtesy: every message was accepted or refused already.
		_ = client.CloseWithSMTPClient(sc)
	}
	return errs, nil
}

// smtpCode returns the SMTP reply code behind a go-mail send error, or 0 if the server did not
// answer (network failure, timeout).
func smtpCode(err error) int {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// stages names, without any address, where in the SMTP transaction a message failed.
var stages = map[gomail.SendErrReason]string{
	gomail.ErrSMTPMailFrom:  "sender rejected",
	gomail.ErrSMTPRcptTo:    "recipient rejected",
	gomail.ErrSMTPData:      "message rejected at DATA",
	gomail.ErrSMTPDataClose: "message rejected after DATA",
	gomail.ErrWriteContent:  "message transfer failed",
	gomail.ErrSMTPReset:     "reset failed",
	gomail.ErrConnCheck:     "connection check failed",
}

// messageError classifies a failure of one message: a 5xx reply is permanent (the server will
// not take this message: no such user, mailbox disabled, rejected content), a 4xx reply and
// anything without a reply (network failure, timeout) temporary.
func messageError(ctx context.Context, err error) *breach.SendError {
	if ctx.Err() != nil {
		return temporary("canceled while sending", errors.Join(ctx.Err(), err))
	}
	stage := "delivery failed"
	enhanced := ""
	var se *gomail.SendError
	if errors.As(err, &se) {
		if s, ok := stages[se.Reason]; ok {
			stage = s
		}
		enhanced = se.EnhancedStatusCode()
	}
	code := smtpCode(err)
	if code == 0 {
		if isTimeout(err) {
			return temporary(stage+": timeout", err)
		}
		return temporary(stage+": no reply from server", err)
	}
	reason := stage + ": SMTP " + strconv.Itoa(code)
	if enhanced != "" {
		reason += " " + enhanced
	}
	return &breach.SendError{Permanent: code >= 500, Reason: reason, Err: err}
}

// sessionError classifies a failure to open the session. It is always temporary: whatever is wrong
// (server down, STARTTLS missing, credentials refused) concerns the server, not a recipient, and a
// retry after it is fixed may succeed.
func sessionError(ctx context.Context, err error) *breach.SendError {
	if ctx.Err() != nil {
		return temporary("canceled while connecting", errors.Join(ctx.Err(), err))
	}
	var op *net.OpError
	var te *textproto.Error
	switch {
	case isTimeout(err):
		return temporary("SMTP session setup timed out", err)
	case errors.As(err, &op) && op.Op == "dial":
		return temporary("cannot connect to SMTP server", err)
	case errors.As(err, &te):
		return temporary("SMTP server refused the session: SMTP "+strconv.Itoa(te.Code), err)
	}
	return temporary("SMTP session setup failed", err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// batchGate runs a SendEach caller's before step: once it stops the batch (returns an error), that
// message and every later one fail temporarily, "not sent".
type batchGate struct {
	before  func(i int) error
	stopped error // what before returned, when it stopped the batch
}

// pass runs before(i) unless the batch is already stopped; nil: message i may go.
func (g *batchGate) pass(i int) error {
	if g.stopped == nil && g.before != nil {
		g.stopped = g.before(i)
	}
	if g.stopped != nil {
		return temporary("not sent: the batch was stopped before this message", g.stopped)
	}
	return nil
}
