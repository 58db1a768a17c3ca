// Package imaptest runs a real IMAP server in the test process (go-imap v2's imapserver over its
// in-memory backend, imapmemserver) on 127.0.0.1, with one user and an INBOX, for the tests of
// the bounce mailbox. Messages are put in over the protocol (APPEND) and read back the same way,
// so a test sees what a mail client would.
package imaptest

import (
	"bytes"
	"crypto/tls"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// The user every Server has.
const (
	Username = "bounces@lincoln.example.org"
	Password = "imap-test-password"
)

// Server is a running IMAP server; it stops at the end of the test.
type Server struct {
	Host string
	Port int
	tls  *tls.Config // nil: plain

	mu     sync.Mutex
	logins int
}

// Option configures a Server.
type Option func(*imapserver.Options, *Server)

// WithTLS offers STARTTLS with the certificate and refuses to log in before it.
func WithTLS(cert tls.Certificate) Option {
	return func(o *imapserver.Options, s *Server) {
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}}
		o.TLSConfig = s.tls
		o.InsecureAuth = false
	}
}

// New starts a server with the user Username and an empty INBOX.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(Username, Password)
	if err := user.Create("INBOX", nil); err != nil {
		tb.Fatal(err)
	}
	mem.AddUser(user)
	s := &Server{}
	o := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			s.mu.Lock()
			s.logins++
			s.mu.Unlock()
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       discard{},
	}
	for _, opt := range opts {
		opt(o, s)
	}
	srv := imapserver.New(o)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	tb.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	s.Host = host
	s.Port, _ = strconv.Atoi(port)
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Connections counts the connections the server has taken.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

func (s *Server) client(tb testing.TB) *imapclient.Client {
	tb.Helper()
	var c *imapclient.Client
	var err error
	if s.tls != nil {
		c, err = imapclient.DialStartTLS(s.Addr(), &imapclient.Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
	} else {
		c, err = imapclient.DialInsecure(s.Addr(), nil)
	}
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.Login(Username, Password).Wait(); err != nil {
		tb.Fatal(err)
	}
	return c
}

// Append delivers a message to the INBOX (line ends made CRLF, as a mail server stores them) and
// returns its UID.
func (s *Server) Append(tb testing.TB, raw []byte) uint32 {
	tb.Helper()
	raw = bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	c := s.client(tb)
	defer c.Close()
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		tb.Fatal(err)
	}
	data, err := cmd.Wait()
	if err != nil {
		tb.Fatal(err)
	}
	return uint32(data.UID)
}

// Flags returns every message's flags by UID.
func (s *Server) Flags(tb testing.TB) map[uint32][]string {
	tb.Helper()
	c := s.client(tb)
	defer c.Close()
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		tb.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil {
		tb.Fatal(err)
	}
	out := map[uint32][]string{}
	for _, m := range msgs {
		var fs []string
		for _, f := range m.Flags {
			fs = append(fs, string(f))
		}
		slices.Sort(fs)
		out[uint32(m.UID)] = fs
	}
	return out
}

type discard struct{}

func (discard) Printf(string, ...any) {}
