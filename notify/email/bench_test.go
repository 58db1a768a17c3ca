package email_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/notify/email"
	"github.com/breachd/breachd/notify/email/smtptest"
)

// benchBatch is how many messages one Send carries when the connection is reused.
const benchBatch = 100

func benchMessages(n int) []breach.EmailMessage {
	msgs := make([]breach.EmailMessage, n)
	for i := range msgs {
		msgs[i] = notice(fmt.Sprintf("01JBENCH%06d", i), fmt.Sprintf("r%06d@example.org", i), "José Núñez-Peña")
	}
	return msgs
}

func benchSMTP(b *testing.B, withSTARTTLS bool) (*email.SMTP, *smtptest.Server) {
	b.Helper()
	cfg := email.Config{From: from, TLSPolicy: email.TLSNone, HELO: "breachd.test"}
	var s *smtptest.Server
	if withSTARTTLS {
		cert, pool := smtptest.SelfSigned(b)
		s = smtptest.New(b, smtptest.WithTLS(cert))
		cfg.TLSPolicy, cfg.TLSConfig = email.TLSMandatory, &tls.Config{RootCAs: pool}
	} else {
		s = smtptest.New(b)
	}
	cfg.Host, cfg.Port = s.Host, s.Port
	c, err := email.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return c, s
}

func send(b *testing.B, c *email.SMTP, msgs []breach.EmailMessage) {
	errs, err := c.Send(context.Background(), msgs)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range errs {
		if e != nil {
			b.Fatal(e)
		}
	}
}

// BenchmarkSendReusedConnection sends batches of benchBatch messages, one connection per batch.
func BenchmarkSendReusedConnection(b *testing.B) { benchReused(b, false) }

// BenchmarkSendConnectionPerMessage sends one message per Send, so a connection (TCP handshake,
// greeting, EHLO, QUIT) per message.
func BenchmarkSendConnectionPerMessage(b *testing.B) { benchPerMessage(b, false) }

// The same two with STARTTLS, where a connection also costs a TLS handshake.
func BenchmarkSendReusedConnectionTLS(b *testing.B)     { benchReused(b, true) }
func BenchmarkSendConnectionPerMessageTLS(b *testing.B) { benchPerMessage(b, true) }

func benchReused(b *testing.B, withSTARTTLS bool) {
	c, s := benchSMTP(b, withSTARTTLS)
	msgs := benchMessages(benchBatch)
	sent := 0
	for b.Loop() {
		send(b, c, msgs)
		sent += len(msgs)
	}
	b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(sent)/float64(s.Connections()), "msgs/conn")
}

func benchPerMessage(b *testing.B, withSTARTTLS bool) {
	c, s := benchSMTP(b, withSTARTTLS)
	msgs := benchMessages(benchBatch)
	sent := 0
	for b.Loop() {
		for i := range msgs {
			send(b, c, msgs[i:i+1])
		}
		sent += len(msgs)
	}
	b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(sent)/float64(s.Connections()), "msgs/conn")
}

// BenchmarkOutbox writes batches of benchBatch files: with Send (the directory synced once a
// batch) and with SendEach and an after step, as the worker calls it (synced before each after).
func BenchmarkOutbox(b *testing.B) {
	b.Run("Send", func(b *testing.B) { benchOutbox(b, nil) })
	b.Run("SendEach", func(b *testing.B) { benchOutbox(b, func(int, breach.EmailReceipt, error) {}) })
}

func benchOutbox(b *testing.B, after func(int, breach.EmailReceipt, error)) {
	o, err := email.NewOutbox(email.OutboxConfig{Dir: b.TempDir(), From: from})
	if err != nil {
		b.Fatal(err)
	}
	msgs := benchMessages(benchBatch)
	sent := 0
	for b.Loop() {
		errs, err := o.SendEach(context.Background(), msgs, nil, after)
		if err != nil || errs[0] != nil {
			b.Fatal(errs, err)
		}
		sent += len(msgs)
	}
	b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "msgs/s")
}
