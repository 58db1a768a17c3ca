package email_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/notify/email"
	"github.com/breachd/breachd/notify/email/smtptest"
)

const from = "notices@lincoln.k12.example"

// notice returns a message with UTF-8 in its name, subject and bodies, and a body line longer
// than quoted-printable's 76 characters.
func notice(id, to, name string) breach.EmailMessage {
	return breach.EmailMessage{
		NoticeID: id,
		To:       to,
		ToName:   name,
		Subject:  "Aviso de violación de datos — " + id,
		Text: "Estimado/a " + name + ":\n\nLe escribimos para informarle de un incidente de seguridad " +
			"que afectó a información personal (número de Seguro Social, fecha de nacimiento) " +
			"de " + id + ".\nTeléfono de asistencia: 1-800-555-0100.\n",
		HTML: "<html><body><p>Estimado/a " + name + ":</p><p>Le escribimos para informarle de un " +
			"incidente de seguridad &mdash; " + id + ".</p><p style=\"x=y\">Teléfono: 1-800-555-0100</p></body></html>",
		Language: "es",
	}
}

func newSMTP(t *testing.T, s *smtptest.Server, mutate ...func(*email.Config)) *email.SMTP {
	t.Helper()
	cfg := email.Config{
		Host:      s.Host,
		Port:      s.Port,
		From:      from,
		FromName:  "Distrito Escolar Unificado de Lincoln",
		TLSPolicy: email.TLSNone,
		Timeout:   5 * time.Second,
		HELO:      "breachd.test",
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// parsed is a received message taken apart with the standard library only.
type parsed struct {
	header  mail.Header
	subject string
	to      *mail.Address
	from    *mail.Address
	text    string
	html    string
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, raw)
	}
	var p parsed
	p.header = m.Header
	dec := new(mime.WordDecoder)
	if p.subject, err = dec.DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("decode Subject: %v", err)
	}
	if p.to, err = mail.ParseAddress(m.Header.Get("To")); err != nil {
		t.Fatalf("parse To %q: %v", m.Header.Get("To"), err)
	}
	if p.from, err = mail.ParseAddress(m.Header.Get("From")); err != nil {
		t.Fatalf("parse From %q: %v", m.Header.Get("From"), err)
	}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q: want multipart/alternative (%v)", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var order []string
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if !strings.EqualFold(cp["charset"], "utf-8") {
			t.Errorf("part %s: charset %q, want UTF-8", ct, cp["charset"])
		}
		order = append(order, ct)
		switch ct {
		// Text travels in canonical form, lines ending in CRLF (RFC 2046 §4.1.1).
		case "text/plain":
			p.text = strings.ReplaceAll(string(body), "\r\n", "\n")
		case "text/html":
			p.html = strings.ReplaceAll(string(body), "\r\n", "\n")
		default:
			t.Errorf("unexpected part %s", ct)
		}
	}
	if strings.Join(order, ",") != "text/plain,text/html" {
		t.Errorf("parts %v, want text/plain then text/html", order)
	}
	return p
}

// checkMessage compares a received message with the notice it was built from.
func checkMessage(t *testing.T, raw []byte, want breach.EmailMessage) {
	t.Helper()
	p := parse(t, raw)
	if p.subject != want.Subject {
		t.Errorf("Subject %q, want %q", p.subject, want.Subject)
	}
	if p.to.Name != want.ToName || p.to.Address != want.To {
		t.Errorf("To %q <%s>, want %q <%s>", p.to.Name, p.to.Address, want.ToName, want.To)
	}
	if p.from.Name != "Distrito Escolar Unificado de Lincoln" || p.from.Address != from {
		t.Errorf("From %q <%s>", p.from.Name, p.from.Address)
	}
	if got, wantID := p.header.Get("Message-Id"), "<notice-"+want.NoticeID+"@lincoln.k12.example>"; got != wantID {
		t.Errorf("Message-ID %q, want %q", got, wantID)
	}
	if got := "<" + email.MessageID(want.NoticeID, from) + ">"; got != p.header.Get("Message-Id") {
		t.Errorf("MessageID() = %q, header %q", got, p.header.Get("Message-Id"))
	}
	for h, v := range map[string]string{
		"Auto-Submitted":   "auto-generated",
		"X-Breachd-Notice": want.NoticeID,
		"Content-Language": want.Language,
		"Mime-Version":     "1.0",
	} {
		if got := p.header.Get(h); got != v {
			t.Errorf("%s %q, want %q", h, got, v)
		}
	}
	if _, err := p.header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if p.text != want.Text {
		t.Errorf("text part:\n%q\nwant\n%q", p.text, want.Text)
	}
	if p.html != want.HTML {
		t.Errorf("HTML part:\n%q\nwant\n%q", p.html, want.HTML)
	}
}

func TestSendReusesOneConnection(t *testing.T) {
	s := smtptest.New(t)
	c := newSMTP(t, s)
	msgs := []breach.EmailMessage{
		notice("01JABCDEF0000000000000001", "jose@example.org", "José Núñez-Peña"),
		notice("01JABCDEF0000000000000002", "van@example.org", "Nguyễn Văn An"),
		notice("01JABCDEF0000000000000003", "plain@example.org", "Pat O'Brien"),
	}
	errs, err := c.Send(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Errorf("message %d: %v", i, e)
		}
	}
	if n := s.Connections(); n != 1 {
		t.Errorf("server saw %d connections, want 1", n)
	}
	got := s.Messages()
	if len(got) != len(msgs) {
		t.Fatalf("server received %d messages, want %d", len(got), len(msgs))
	}
	for i, r := range got {
		if r.From != from {
			t.Errorf("message %d: envelope sender %q", i, r.From)
		}
		if len(r.To) != 1 || r.To[0] != msgs[i].To {
			t.Errorf("message %d: envelope recipients %v, want [%s]", i, r.To, msgs[i].To)
		}
		checkMessage(t, r.Data, msgs[i])
	}
	// The raw header must be 7-bit: the names and subject travel RFC 2047-encoded.
	for i, r := range got {
		head, _, _ := bytes.Cut(r.Data, []byte("\r\n\r\n"))
		for _, b := range head {
			if b > 127 {
				t.Errorf("message %d: 8-bit byte in header:\n%s", i, head)
				break
			}
		}
	}
}

func TestSendRejections(t *testing.T) {
	s := smtptest.New(t)
	s.On("gone@example.org", smtptest.Reject)
	s.On("busy@example.org", smtptest.Defer)
	s.On("spam@example.org", smtptest.RejectData)
	c := newSMTP(t, s)
	msgs := []breach.EmailMessage{
		notice("n1", "ok1@example.org", "One"),
		notice("n2", "gone@example.org", "Gone"),
		notice("n3", "busy@example.org", "Busy"),
		notice("n4", "spam@example.org", "Spam"),
		notice("n5", "ok2@example.org", "Two"),
	}
	errs, err := c.Send(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		ok        bool
		permanent bool
		reason    string
	}{
		{ok: true},
		{permanent: true, reason: "recipient rejected: SMTP 550 5.1.1"},
		{permanent: false, reason: "recipient rejected: SMTP 451 4.3.0"},
		{permanent: true, reason: "message rejected after DATA: SMTP 554 5.7.1"},
		{ok: true},
	}
	for i, w := range want {
		if w.ok {
			if errs[i] != nil {
				t.Errorf("message %d: %v, want delivered", i, errs[i])
			}
			continue
		}
		var se *breach.SendError
		if !errors.As(errs[i], &se) {
			t.Errorf("message %d: %T %v, want *breach.SendError", i, errs[i], errs[i])
			continue
		}
		if se.Permanent != w.permanent || se.Reason != w.reason {
			t.Errorf("message %d: permanent=%v reason=%q, want permanent=%v reason=%q",
				i, se.Permanent, se.Reason, w.permanent, w.reason)
		}
		if strings.Contains(se.Reason, "@") || strings.Contains(se.Reason, msgs[i].ToName) {
			t.Errorf("message %d: reason %q carries personal information", i, se.Reason)
		}
	}
	got := s.Messages()
	if len(got) != 2 || got[0].To[0] != "ok1@example.org" || got[1].To[0] != "ok2@example.org" {
		t.Errorf("server received %d messages, want the two accepted ones", len(got))
	}
	if n := s.Connections(); n != 1 {
		t.Errorf("server saw %d connections, want 1", n)
	}
}

func TestSendConnectionLostMidBatch(t *testing.T) {
	s := smtptest.New(t)
	s.On("drop@example.org", smtptest.HangUp)
	c := newSMTP(t, s)
	msgs := []breach.EmailMessage{
		notice("n1", "ok@example.org", "One"),
		notice("n2", "drop@example.org", "Drop"),
		notice("n3", "later@example.org", "Later"),
	}
	errs, err := c.Send(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil {
		t.Errorf("message 0: %v", errs[0])
	}
	for i := 1; i < 3; i++ {
		var se *breach.SendError
		if !errors.As(errs[i], &se) || se.Permanent {
			t.Errorf("message %d: %v, want a temporary *breach.SendError", i, errs[i])
		}
	}
	if len(s.Messages()) != 1 {
		t.Errorf("server received %d messages, want 1", len(s.Messages()))
	}
}

func TestSendInvalidMessagesFailAlone(t *testing.T) {
	s := smtptest.New(t)
	c := newSMTP(t, s)
	good := notice("good", "ok@example.org", "OK")
	cases := []struct {
		name   string
		msg    breach.EmailMessage
		reason string
	}{
		{"address without @", notice("a", "not-an-address", "X"), "invalid recipient address"},
		{"address with a name in it", notice("b", "X <x@example.org>", "X"), "invalid recipient address"},
		{"empty notice ID", notice("", "x@example.org", "X"), "invalid notice ID"},
		{"notice ID with a slash", notice("../etc/passwd", "x@example.org", "X"), "invalid notice ID"},
		{"name with a line break", notice("c", "x@example.org", "X\r\nBcc: y@example.org"), "invalid recipient name"},
		{"language not a tag", func() breach.EmailMessage {
			m := notice("d", "x@example.org", "X")
			m.Language = "es\r\nX-Evil: 1"
			return m
		}(), "invalid language tag"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.Reset()
			errs, err := c.Send(context.Background(), []breach.EmailMessage{tc.msg, good})
			if err != nil {
				t.Fatal(err)
			}
			var se *breach.SendError
			if !errors.As(errs[0], &se) || !se.Permanent || se.Reason != tc.reason {
				t.Errorf("got %v, want permanent %q", errs[0], tc.reason)
			}
			if errs[1] != nil {
				t.Errorf("good message: %v", errs[1])
			}
			if len(s.Messages()) != 1 {
				t.Errorf("server received %d messages, want 1", len(s.Messages()))
			}
		})
	}
	t.Run("nothing valid: no connection", func(t *testing.T) {
		s.Reset()
		errs, err := c.Send(context.Background(), []breach.EmailMessage{cases[0].msg})
		if err != nil || len(errs) != 1 || errs[0] == nil {
			t.Fatalf("errs=%v err=%v", errs, err)
		}
		if s.Connections() != 0 {
			t.Errorf("dialed %d times for nothing to send", s.Connections())
		}
	})
}

func TestSendServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close() // nothing listens there now
	c, err := email.New(email.Config{Host: "127.0.0.1", Port: addr.Port, From: from, TLSPolicy: email.TLSNone, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := c.Send(context.Background(), []breach.EmailMessage{notice("n1", "a@example.org", "A")})
	var se *breach.SendError
	if !errors.As(err, &se) || se.Permanent {
		t.Fatalf("err = %v, want a temporary *breach.SendError", err)
	}
	if se.Reason != "cannot connect to SMTP server" {
		t.Errorf("reason %q", se.Reason)
	}
	if errs != nil {
		t.Errorf("errs = %v, want nil with a slice-level error", errs)
	}
}

func TestSendTLS(t *testing.T) {
	t.Run("mandatory without STARTTLS fails before sending", func(t *testing.T) {
		s := smtptest.New(t)
		c := newSMTP(t, s, func(c *email.Config) { c.TLSPolicy = email.TLSMandatory })
		errs, err := c.Send(context.Background(), []breach.EmailMessage{notice("n1", "a@example.org", "A")})
		var se *breach.SendError
		if !errors.As(err, &se) || se.Permanent || errs != nil {
			t.Fatalf("errs=%v err=%v, want a temporary slice-level *breach.SendError", errs, err)
		}
		if len(s.Messages()) != 0 {
			t.Error("a message was sent in the clear")
		}
	})

	cert, pool := smtptest.SelfSigned(t)
	t.Run("mandatory with STARTTLS and AUTH", func(t *testing.T) {
		s := smtptest.New(t, smtptest.WithTLS(cert), smtptest.WithAuth("lincoln", "s3cret"))
		c := newSMTP(t, s, func(c *email.Config) {
			c.TLSPolicy = email.TLSMandatory
			c.TLSConfig = &tls.Config{RootCAs: pool}
			c.Username, c.Password = "lincoln", "s3cret"
		})
		msg := notice("n1", "a@example.org", "José Núñez-Peña")
		errs, err := c.Send(context.Background(), []breach.EmailMessage{msg, notice("n2", "b@example.org", "B")})
		if err != nil || errs[0] != nil || errs[1] != nil {
			t.Fatalf("errs=%v err=%v", errs, err)
		}
		if s.TLSSessions() != 2 || s.Connections() != 1 {
			t.Errorf("%d messages over TLS on %d connections, want 2 on 1", s.TLSSessions(), s.Connections())
		}
		checkMessage(t, s.Messages()[0].Data, msg)
	})
	t.Run("wrong password", func(t *testing.T) {
		s := smtptest.New(t, smtptest.WithTLS(cert), smtptest.WithAuth("lincoln", "s3cret"))
		c := newSMTP(t, s, func(c *email.Config) {
			c.TLSPolicy = email.TLSMandatory
			c.TLSConfig = &tls.Config{RootCAs: pool}
			c.Username, c.Password = "lincoln", "wrong"
		})
		_, err := c.Send(context.Background(), []breach.EmailMessage{notice("n1", "a@example.org", "A")})
		var se *breach.SendError
		if !errors.As(err, &se) || se.Permanent || !strings.Contains(se.Reason, "535") {
			t.Fatalf("err = %v, want a temporary slice-level error with SMTP 535", err)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		s := smtptest.New(t, smtptest.WithTLS(cert))
		c := newSMTP(t, s, func(c *email.Config) { c.TLSPolicy = email.TLSOpportunistic })
		_, err := c.Send(context.Background(), []breach.EmailMessage{notice("n1", "a@example.org", "A")})
		if err == nil || len(s.Messages()) != 0 {
			t.Fatalf("err = %v with %d messages sent, want a refusal to send", err, len(s.Messages()))
		}
	})
	t.Run("opportunistic uses STARTTLS when offered", func(t *testing.T) {
		s := smtptest.New(t, smtptest.WithTLS(cert))
		c := newSMTP(t, s, func(c *email.Config) {
			c.TLSPolicy = email.TLSOpportunistic
			c.TLSConfig = &tls.Config{RootCAs: pool}
		})
		errs, err := c.Send(context.Background(), []breach.EmailMessage{notice("n1", "a@example.org", "A")})
		if err != nil || errs[0] != nil {
			t.Fatalf("errs=%v err=%v", errs, err)
		}
		if s.TLSSessions() != 1 {
			t.Error("message not sent over TLS")
		}
	})
}

func TestSendContextCancelled(t *testing.T) {
	s := smtptest.New(t)
	c := newSMTP(t, s)
	msgs := []breach.EmailMessage{notice("n1", "a@example.org", "A")}

	t.Run("before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		errs, err := c.Send(ctx, msgs)
		var se *breach.SendError
		if !errors.As(err, &se) || se.Permanent || !errors.Is(err, context.Canceled) || errs != nil {
			t.Fatalf("errs=%v err=%v, want a temporary slice-level error wrapping context.Canceled", errs, err)
		}
		if s.Connections() != 0 {
			t.Error("dialed with a cancelled context")
		}
	})

	t.Run("while the server stalls", func(t *testing.T) {
		// A listener that accepts and never greets: Send waits on the greeting until cancelled,
		// well before the 5s timeout.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { conn.Close() })
			}
		}()
		stall, err := email.New(email.Config{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port,
			From: from, TLSPolicy: email.TLSNone, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = stall.Send(ctx, msgs)
		var se *breach.SendError
		if !errors.As(err, &se) || se.Permanent {
			t.Fatalf("err = %v, want a temporary *breach.SendError", err)
		}
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("Send returned after %v, want soon after the context was done", elapsed)
		}
	})

	t.Run("during a batch", func(t *testing.T) {
		// The server stalls on the third recipient; cancelling then interrupts the waiting
		// command (the timeout is 5s) and the rest of the batch is not sent.
		s.Reset()
		s.On("stall@example.org", smtptest.Stall)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		batch := []breach.EmailMessage{
			notice("n1", "a@example.org", "A"),
			notice("n2", "b@example.org", "B"),
			notice("n3", "stall@example.org", "C"),
			notice("n4", "d@example.org", "D"),
			notice("n5", "e@example.org", "E"),
		}
		go func() {
			<-s.Stalled()
			cancel()
		}()
		start := time.Now()
		errs, err := c.Send(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("Send returned after %v, want soon after the context was done", elapsed)
		}
		for i, e := range errs {
			var se *breach.SendError
			switch {
			case i < 2 && e != nil:
				t.Errorf("message %d: %v, want delivered", i, e)
			case i >= 2 && (!errors.As(e, &se) || se.Permanent || !errors.Is(e, context.Canceled)):
				t.Errorf("message %d: %v, want temporary, cancelled", i, e)
			}
		}
		if got := len(s.Messages()); got != 2 {
			t.Errorf("server has %d messages, want 2", got)
		}
	})
}

func TestNewValidates(t *testing.T) {
	cases := []struct {
		name   string
		cfg    email.Config
		fields []string
	}{
		{"empty", email.Config{}, []string{"Host", "From"}},
		{"host with port", email.Config{Host: "smtp.example.org:587", From: from}, []string{"Host"}},
		{"bad port", email.Config{Host: "smtp.example.org", Port: 70000, From: from}, []string{"Port"}},
		{"from with name", email.Config{Host: "h", From: "Lincoln <" + from + ">"}, []string{"From"}},
		{"from not an address", email.Config{Host: "h", From: "lincoln"}, []string{"From"}},
		{"password alone", email.Config{Host: "h", From: from, Password: "x"}, []string{"Username"}},
		{"tls policy", email.Config{Host: "h", From: from, TLSPolicy: "always"}, []string{"TLSPolicy"}},
		{"negative timeout", email.Config{Host: "h", From: from, Timeout: -time.Second}, []string{"Timeout"}},
		{"IPv6 host", email.Config{Host: "::1", From: from}, nil},
		{"defaults", email.Config{Host: "smtp.example.org", From: from}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := email.New(tc.cfg)
			if len(tc.fields) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var be *breach.Error
			if !errors.As(err, &be) || be.Code != breach.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			var got []string
			for _, f := range be.Fields {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("fields %v, want %v (%v)", got, tc.fields, err)
			}
		})
	}
}

func TestConfigLogValueMasksPassword(t *testing.T) {
	v := email.Config{Host: "h", Username: "u", Password: "hunter2"}.LogValue()
	if strings.Contains(v.String(), "hunter2") {
		t.Errorf("password logged: %s", v)
	}
}
