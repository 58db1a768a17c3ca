package dsn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	breach "github.com/breachd/breachd"
)

var _ breach.BounceMailbox = (*Mailbox)(nil)

// TLS policies of a Mailbox.
const (
	// TLSMandatory: the connection is encrypted or not made — implicit TLS (IMAPS) on port 993,
	// STARTTLS (required) on any other port.
	TLSMandatory = "mandatory"
	// TLSNone: plain IMAP, for a server on this machine or a test.
	TLSNone = "none"
)

// Defaults of a Mailbox.
const (
	DefaultMailbox  = "INBOX"
	DefaultTimeout  = 30 * time.Second
	portIMAPS       = 993
	portIMAP        = 143
	keywordPrefix   = "$breachd-"
	maxPollMessages = 500 // per Poll; the next Poll reads the rest
)

// Config configures a Mailbox.
type Config struct {
	Host     string // required
	Port     int    // default 993 with TLSMandatory, 143 with TLSNone
	Username string // required
	Password string // required
	Mailbox  string // default DefaultMailbox
	TLS      string // TLSMandatory (default) or TLSNone
	// TLSConfig is the TLS client configuration (tests: a RootCAs pool); default the system's.
	TLSConfig *tls.Config
	// Timeout bounds one Poll from dial to logout. Default DefaultTimeout.
	Timeout time.Duration
}

// Mailbox reads delivery status notifications from an IMAP mailbox: each Poll logs in, selects
// the mailbox, and reads the messages without \Seen, oldest first. A message is fetched with
// BODY.PEEK (reading it marks nothing) and marked \Seen — plus a keyword saying what became of it,
// $breachd-recorded, $breachd-unmatched or $breachd-malformed, where the server keeps keywords —
// only after the handler has recorded it. A person reading the mailbox should therefore leave
// the bounces unread, or give breachd a mailbox of its own.
type Mailbox struct {
	cfg  Config
	addr string
}

// New checks cfg and returns a Mailbox. EINVALID names every field that is wrong.
func New(cfg Config) (*Mailbox, error) {
	var fe []breach.FieldError
	bad := func(field, reason string) { fe = append(fe, breach.FieldError{Field: field, Reason: reason}) }
	if cfg.TLS == "" {
		cfg.TLS = TLSMandatory
	}
	if cfg.TLS != TLSMandatory && cfg.TLS != TLSNone {
		bad("TLS", "must be mandatory or none")
	}
	if cfg.Port == 0 {
		cfg.Port = portIMAPS
		if cfg.TLS == TLSNone {
			cfg.Port = portIMAP
		}
	}
	if strings.TrimSpace(cfg.Host) == "" || strings.ContainsAny(cfg.Host, " /\r\n") {
		bad("Host", "is required: a host name or address")
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		bad("Port", "must be a port number from 1 to 65535")
	}
	if cfg.Username == "" {
		bad("Username", "is required")
	}
	if cfg.Password == "" {
		bad("Password", "is required")
	}
	if cfg.Mailbox == "" {
		cfg.Mailbox = DefaultMailbox
	}
	if strings.ContainsAny(cfg.Mailbox, "\r\n") {
		bad("Mailbox", "must be one line")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if len(fe) > 0 {
		parts := make([]string, len(fe))
		for i, e := range fe {
			parts[i] = e.Field + " " + e.Reason
		}
		return nil, &breach.Error{Code: breach.EINVALID, Message: "imap config: " + strings.Join(parts, "; "), Fields: fe}
	}
	return &Mailbox{cfg: cfg, addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))}, nil
}

// String describes the mailbox for the start-up log (no password).
func (m *Mailbox) String() string {
	return fmt.Sprintf("imap %s mailbox=%s tls=%s", m.addr, m.cfg.Mailbox, m.cfg.TLS)
}

func unavailable(stage string, err error) error {
	return &breach.Error{Code: breach.EUNAVAILABLE, Message: "imap " + stage + ": " + err.Error()}
}

func (m *Mailbox) dial() (*imapclient.Client, error) {
	opts := &imapclient.Options{TLSConfig: m.cfg.TLSConfig, Dialer: &net.Dialer{Timeout: m.cfg.Timeout}}
	switch {
	case m.cfg.TLS == TLSNone:
		return imapclient.DialInsecure(m.addr, opts)
	case m.cfg.Port == portIMAPS:
		return imapclient.DialTLS(m.addr, opts)
	}
	return imapclient.DialStartTLS(m.addr, opts)
}

// Poll: see breach.BounceMailbox. A message the handler calls malformed is marked like any other.
func (m *Mailbox) Poll(ctx context.Context, handle func(breach.BounceMessage) (breach.BounceOutcome, error)) error {
	c, err := m.dial()
	if err != nil {
		return unavailable("connect to "+m.addr, err)
	}
	defer c.Close()
	// imapclient takes no context: closing the connection ends whatever command is waiting.
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	fail := func(stage string, err error) error {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return unavailable(stage, err)
	}

	if err := c.Login(m.cfg.Username, m.cfg.Password).Wait(); err != nil {
		return fail("login", err)
	}
	sel, err := c.Select(m.cfg.Mailbox, nil).Wait()
	if err != nil {
		return fail("select "+m.cfg.Mailbox, err)
	}
	keywords := slices.Contains(sel.PermanentFlags, imap.FlagWildcard)
	found, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		return fail("search unseen", err)
	}
	uids := found.AllUIDs()
	slices.Sort(uids)
	if len(uids) > maxPollMessages {
		uids = uids[:maxPollMessages]
	}
	section := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: MaxMessageBytes}}
	for _, uid := range uids {
		msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return fail("fetch", err)
		}
		if len(msgs) == 0 {
			continue // expunged meanwhile
		}
		raw := msgs[0].FindBodySection(section)
		sum := sha256.Sum256(raw)
		bm := breach.BounceMessage{UID: uint32(uid), SHA256: hex.EncodeToString(sum[:])}
		bm.DSN, bm.Err = Parse(bytes.NewReader(raw))
		outcome, err := handle(bm)
		if err != nil {
			return err
		}
		flags := []imap.Flag{imap.FlagSeen}
		if keywords && outcome != "" {
			flags = append(flags, imap.Flag(keywordPrefix+string(outcome)))
		}
		if err := c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: flags}, nil).Close(); err != nil {
			return fail("mark read", err)
		}
	}
	if err := c.Logout().Wait(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fail("logout", err)
	}
	return nil
}
