package email_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one message the test server accepted.
type received struct {
	From string
	To   []string
	Data []byte
}

// Actions the test server can be told to take when a recipient is named in RCPT TO.
const (
	rejectUnknownUser = "550" // 550 5.1.1: permanent
	rejectTryLater    = "451" // 451 4.3.0: temporary
	rejectAtData      = "554" // accept the recipient, refuse the message after DATA: permanent
	hangUp            = "hangup"
	stall             = "stall" // signal stalled, then wait for release before answering
)

// testServer is a real SMTP server (emersion/go-smtp) on 127.0.0.1 that records what it accepts.
type testServer struct {
	Host string
	Port int

	srv      *smtp.Server
	username string // when set, AUTH PLAIN is offered and required
	password string

	mu      sync.Mutex
	conns   int
	tls     int // sessions that used STARTTLS
	msgs    []received
	actions map[string]string // recipient -> one of the actions above
	stalled chan struct{}     // receives when a stall recipient is named
	release chan struct{}     // closed to let stalled commands answer; closed at cleanup
}

type serverOption func(*testServer)

// withTLS offers STARTTLS with cert.
func withTLS(cert tls.Certificate) serverOption {
	return func(s *testServer) {
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
}

// withAuth offers AUTH PLAIN and requires it before MAIL FROM.
func withAuth(username, password string) serverOption {
	return func(s *testServer) { s.username, s.password = username, password }
}

// startServer starts a test server and stops it when the test ends.
func startServer(tb testing.TB, opts ...serverOption) *testServer {
	tb.Helper()
	s := &testServer{actions: map[string]string{}, stalled: make(chan struct{}, 1), release: make(chan struct{})}
	s.srv = smtp.NewServer(s)
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
			tb.Errorf("smtp server: %v", err)
		}
	}()
	tb.Cleanup(func() {
		close(s.release)
		s.srv.Close()
		<-done
	})
	return s
}

func (s *testServer) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// on tells the server what to do when rcpt is named.
func (s *testServer) on(rcpt, action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actions[rcpt] = action
}

func (s *testServer) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func (s *testServer) tlsSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tls
}

func (s *testServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *testServer) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns, s.msgs = 0, nil
}

// countingListener counts connections. (NewSession cannot: it runs again after STARTTLS.)
type countingListener struct {
	net.Listener
	s *testServer
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

// NewSession is called at the first EHLO of a connection, and again after STARTTLS.
func (s *testServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{server: s, conn: c}, nil
}

type session struct {
	server *testServer
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
	se.server.mu.Lock()
	action := se.server.actions[to]
	se.server.mu.Unlock()
	switch action {
	case rejectUnknownUser:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
	case rejectTryLater:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	case rejectAtData:
		se.atData = true
	case stall:
		se.server.stalled <- struct{}{}
		<-se.server.release
	case hangUp:
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
	se.server.mu.Lock()
	se.server.msgs = append(se.server.msgs, received{From: se.from, To: se.to, Data: data})
	se.server.mu.Unlock()
	return nil
}

func (se *session) Reset() {
	se.from, se.to, se.atData = "", nil, false
}

func (se *session) Logout() error { return nil }

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// selfSigned returns a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mx.test"},
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
