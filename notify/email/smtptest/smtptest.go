// Package smtptest provides a real SMTP server for tests, in the spirit of net/http/httptest.
//
// A [Server] is github.com/emersion/go-smtp listening on 127.0.0.1 at a free port. It accepts
// every message by default and records it (envelope and raw RFC 5322 data); [Server.On] makes it
// answer a given recipient otherwise: refuse it for good or for now, refuse the message after DATA,
// hang up, or stall. [WithTLS] offers STARTTLS and [WithAuth] requires AUTH PLAIN over TLS.
//
//	s := smtptest.New(t)
//	s.On("gone@example.org", smtptest.Reject) // 550 5.1.1
//	// ... send mail to s.Host, s.Port ...
//	msgs, err := s.WaitMessages(ctx, 1)
//
// The server is closed by the test's Cleanup. All methods are safe for concurrent use.
package smtptest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From string   // envelope sender (MAIL FROM)
	To   []string // envelope recipients (RCPT TO) that were accepted
	Data []byte   // the raw RFC 5322 message as received
	// Reply is the server's final reply to the message's DATA as it went on the wire, lines
	// joined with "\n": "250 2.0.0 OK: queued", or what WithReply made it.
	Reply string
}

// Actions for [Server.On]: what the server does when a recipient is named in RCPT TO.
const (
	// Accept accepts the recipient: the default; use it to undo an earlier action.
	Accept = "accept"
	// Reject refuses the recipient for good: 550 5.1.1.
	Reject = "reject"
	// Defer refuses the recipient for now: 451 4.3.0.
	Defer = "defer"
	// DeferOnce answers 451 4.3.0 the first time the recipient is named, and accepts it after.
	DeferOnce = "defer-once"
	// RejectData accepts the recipient but refuses the message after DATA: 554 5.7.1 (permanent).
	RejectData = "reject-data"
	// HangUp closes the connection without answering.
	HangUp = "hangup"
	// Stall signals [Server.Stalled], then waits without answering until [Server.Release] is
	// called or the server is closed; then it accepts the recipient.
	Stall = "stall"
)

var actions = map[string]bool{Accept: true, Reject: true, Defer: true, DeferOnce: true, RejectData: true, HangUp: true, Stall: true}

// Server is a real SMTP server on 127.0.0.1 that records what it accepts.
type Server struct {
	Host string // "127.0.0.1"
	Port int

	srv      *smtp.Server
	username string // when set, AUTH PLAIN is offered and required
	password string
	reply    func(n int) string // see WithReply; nil: go-smtp's "OK: queued"

	mu        sync.Mutex
	conns     int
	tls       int // MAIL FROMs sent over STARTTLS
	msgs      []Message
	accepted  int               // messages accepted over the server's life (Reset keeps it)
	arrived   chan struct{}     // closed and replaced when msgs changes
	actions   map[string]string // recipient -> action
	rcpts     map[string]int    // RCPT TO per address
	stalled   chan struct{}
	release   chan struct{}
	releaseMu sync.Once
}

// Option configures a Server.
type Option func(*Server)

// WithTLS offers STARTTLS with cert (see [SelfSigned]).
func WithTLS(cert tls.Certificate) Option {
	return func(s *Server) {
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
}

// WithAuth offers AUTH PLAIN, over TLS only, and requires it before MAIL FROM. Wrong credentials
// get 535 5.7.8; MAIL FROM without AUTH gets 530 5.7.0.
func WithAuth(username, password string) Option {
	return func(s *Server) { s.username, s.password = username, password }
}

// WithReply makes the server accept the n-th message (counting from 1 over the server's life) with
// "250 2.0.0 " + reply(n) instead of "250 2.0.0 OK: queued", as a real server names its queue ID:
// "Ok: queued as 4B7C21" (Postfix), "OK id=1qAbCd-0001Xy-Ab" (Exim). A "\n" in it makes a
// multi-line reply.
func WithReply(reply func(n int) string) Option {
	return func(s *Server) { s.reply = reply }
}

// New starts a server on 127.0.0.1:0 and closes it when the test ends.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{
		arrived: make(chan struct{}),
		actions: map[string]string{},
		rcpts:   map[string]int{},
		stalled: make(chan struct{}, 1),
		release: make(chan struct{}),
	}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "mx.test"
	s.srv.AllowInsecureAuth = false
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.ErrorLog = discardLogger{}
	for _, o := range opts {
		o(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	s.Host, s.Port = addr.IP.String(), addr.Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.srv.Serve(countingListener{ln, s}); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			tb.Errorf("smtptest: serve: %v", err)
		}
	}()
	tb.Cleanup(func() {
		s.Release()
		s.srv.Close()
		ln.Close() // in case Serve had not yet registered it when Close ran
		<-done
	})
	return s
}

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// On sets the action (one of the constants above) for recipient address rcpt, compared exactly.
// It panics on an unknown action.
func (s *Server) On(rcpt, action string) {
	if !actions[action] {
		panic(fmt.Sprintf("smtptest: unknown action %q for %s", action, rcpt))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if action == Accept {
		delete(s.actions, rcpt)
		return
	}
	s.actions[rcpt] = action
}

// Connections returns how many connections the server accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// TLSSessions returns how many transactions (MAIL FROM) ran over STARTTLS.
func (s *Server) TLSSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tls
}

// Messages returns a copy of the accepted messages, in arrival order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Rcpts returns how many times rcpt was named in RCPT TO, accepted or not.
func (s *Server) Rcpts(rcpt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcpts[rcpt]
}

// Reset forgets the connections, TLS sessions, messages and RCPT counts recorded so far. Actions
// set with On stay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns, s.tls, s.msgs = 0, 0, nil
	s.rcpts = map[string]int{}
	close(s.arrived)
	s.arrived = make(chan struct{})
}

// WaitMessages blocks until at least n messages have arrived and returns them (as Messages), or
// returns what arrived so far with ctx's error.
func (s *Server) WaitMessages(ctx context.Context, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		msgs, arrived := slices.Clone(s.msgs), s.arrived
		s.mu.Unlock()
		if len(msgs) >= n {
			return msgs, nil
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return msgs, ctx.Err()
		}
	}
}

// Stalled receives when a recipient with action Stall is named (buffered: one signal is kept).
func (s *Server) Stalled() <-chan struct{} { return s.stalled }

// Release lets stalled commands answer, now and from then on. Closing the server releases them too.
func (s *Server) Release() { s.releaseMu.Do(func() { close(s.release) }) }

// record keeps an accepted message and returns what Data returns to go-smtp: nil for its default
// reply, or the reply WithReply asks for. (go-smtp takes the text of the final reply from the
// *SMTPError Data returns, whatever its code; a 250 is an acceptance.)
func (s *Server) record(m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var answer error
	m.Reply = "250 2.0.0 OK: queued"
	if s.reply != nil {
		text := s.reply(s.accepted + 1)
		answer = &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: text}
		lines := strings.Split(text, "\n")
		for i, l := range lines[:len(lines)-1] {
			lines[i] = "250-" + l
		}
		lines[len(lines)-1] = "250 2.0.0 " + lines[len(lines)-1]
		m.Reply = strings.Join(lines, "\n")
	}
	s.accepted++
	s.msgs = append(s.msgs, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
	return answer
}

// countingListener counts connections. (NewSession cannot: it runs again after STARTTLS.)
type countingListener struct {
	net.Listener
	s *Server
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.s.mu.Lock()
		l.s.conns++
		l.s.mu.Unlock()
	}
	return c, err
}

// backend keeps NewSession off Server's exported method set.
type backend struct{ s *Server }

// NewSession is called at the first EHLO of a connection, and again after STARTTLS.
func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{server: b.s, conn: c}, nil
}

type session struct {
	server *Server
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
	atData bool
}

func (se *session) AuthMechanisms() []string {
	if se.server.username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != se.server.username || password != se.server.password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		se.authed = true
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.server.username != "" && !se.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	if _, ok := se.conn.TLSConnectionState(); ok {
		se.server.mu.Lock()
		se.server.tls++
		se.server.mu.Unlock()
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s := se.server
	s.mu.Lock()
	s.rcpts[to]++
	action, seen := s.actions[to], s.rcpts[to]
	s.mu.Unlock()
	switch action {
	case Reject:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
	case Defer:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	case DeferOnce:
		if seen == 1 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
	case RejectData:
		se.atData = true
	case Stall:
		select {
		case s.stalled <- struct{}{}:
		default:
		}
		<-s.release
	case HangUp:
		se.conn.Conn().Close()
		return errors.New("hung up")
	}
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if se.atData {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "message refused"}
	}
	return se.server.record(Message{From: se.from, To: se.to, Data: data})
}

func (se *session) Reset() {
	se.from, se.to, se.atData = "", nil, false
}

func (se *session) Logout() error { return nil }

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// SelfSigned returns a certificate for 127.0.0.1 (and the name mx.test), valid for an hour either
// side of now, and a pool that trusts it: pass the one to [WithTLS] and the other to the client's
// tls.Config.RootCAs.
func SelfSigned(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mx.test"},
		DNSNames:     []string{"mx.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
