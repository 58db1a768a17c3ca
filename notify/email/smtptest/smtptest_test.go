package smtptest_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/breachd/breachd/notify/email/smtptest"
)

const body = "From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nHello.\r\n"

func code(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func TestRecordsAndRejects(t *testing.T) {
	s := smtptest.New(t)
	s.On("gone@example.org", smtptest.Reject)
	s.On("busy@example.org", smtptest.Defer)
	s.On("later@example.org", smtptest.DeferOnce)
	s.On("spam@example.org", smtptest.RejectData)

	if err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.org", "c@example.org"}, []byte(body)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rcpt string
		code int
	}{{"gone@example.org", 550}, {"busy@example.org", 451}, {"later@example.org", 451}, {"spam@example.org", 554}} {
		err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{tc.rcpt}, []byte(body))
		if code(err) != tc.code {
			t.Errorf("%s: err = %v, want SMTP %d", tc.rcpt, err, tc.code)
		}
	}
	if err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"later@example.org"}, []byte(body)); err != nil {
		t.Errorf("later@example.org the second time: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := s.WaitMessages(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d messages, want 2", len(got))
	}
	if m := got[0]; m.From != "a@example.org" || strings.Join(m.To, ",") != "b@example.org,c@example.org" || string(m.Data) != body {
		t.Errorf("first message: %+v", m)
	}
	if m := got[1]; strings.Join(m.To, ",") != "later@example.org" {
		t.Errorf("second message to %v", m.To)
	}
	if n := s.Connections(); n != 6 {
		t.Errorf("%d connections, want 6", n)
	}
	if n := s.Rcpts("later@example.org"); n != 2 {
		t.Errorf("later@example.org named %d times, want 2", n)
	}

	s.Reset()
	if len(s.Messages()) != 0 || s.Connections() != 0 {
		t.Error("Reset kept what was recorded")
	}
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if got, err := s.WaitMessages(short, 1); !errors.Is(err, context.DeadlineExceeded) || len(got) != 0 {
		t.Errorf("WaitMessages on an empty server: %d, %v", len(got), err)
	}
}

func TestTLSAndAuth(t *testing.T) {
	cert, pool := smtptest.SelfSigned(t)
	s := smtptest.New(t, smtptest.WithTLS(cert), smtptest.WithAuth("u", "p"))

	dial := func() *smtp.Client {
		c, err := smtp.Dial(s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Mail("a@example.org"); code(err) != 530 {
			t.Errorf("MAIL before AUTH: %v, want 530", err)
		}
		if err := c.StartTLS(&tls.Config{ServerName: s.Host, RootCAs: pool}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// net/smtp hangs up after a failed AUTH.
	if err := dial().Auth(smtp.PlainAuth("", "u", "wrong", s.Host)); code(err) != 535 {
		t.Errorf("wrong password: %v, want 535", err)
	}
	c := dial()
	if err := c.Auth(smtp.PlainAuth("", "u", "p", s.Host)); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("a@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("b@example.org"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(body))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	if len(s.Messages()) != 1 || s.TLSSessions() != 1 {
		t.Errorf("%d messages, %d over TLS; want 1, 1", len(s.Messages()), s.TLSSessions())
	}
}

func TestStallAndHangUp(t *testing.T) {
	s := smtptest.New(t)
	s.On("drop@example.org", smtptest.HangUp)
	s.On("stall@example.org", smtptest.Stall)

	if err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"drop@example.org"}, []byte(body)); err == nil {
		t.Error("hang-up: no error")
	}
	done := make(chan error, 1)
	go func() {
		done <- smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"stall@example.org"}, []byte(body))
	}()
	select {
	case <-s.Stalled():
	case <-time.After(5 * time.Second):
		t.Fatal("not stalled")
	}
	select {
	case err := <-done:
		t.Fatalf("answered while stalled: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	s.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(s.Messages()) != 1 {
		t.Errorf("%d messages, want 1", len(s.Messages()))
	}
}

func TestOnUnknownActionPanics(t *testing.T) {
	s := smtptest.New(t)
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	s.On("x@example.org", "550")
}
