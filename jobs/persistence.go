package jobs

import (
	"context"
	"fmt"
)

// What a Redis crash may cost
//
// Sending email is made crash-safe by writes that must be on disk before the next step: a
// message's in-flight claim before its SMTP transaction, its sent mark before the next message's
// (sending.go). When the worker dies, Redis keeps both. When Redis itself dies (kill -9, power
// loss), it keeps only what its append-only file had written to disk: with appendfsync always,
// every write it answered; with everysec, all but up to about the last second, so claims and sent
// marks of the messages handed over in that second can vanish and those messages are sent again
// with no notice.possibly_duplicated event. Redis 7.0 cannot confirm one write's fsync (no
// WAITAOF), so breachd asks for appendfsync always and says so loudly — at start-up and in
// /readyz — when the server runs with less. The cost is measured in BENCHMARKS.md.

// CrashSafety reads the server's persistence settings and returns, in a sentence an operator can
// act on, what a crash of Redis itself would cost breachd; "" when nothing (appendonly yes and
// appendfsync always). It returns an error when CONFIG is disabled or renamed (managed Redis
// services often do that): the caller should then say the settings are unknown.
func (s *Store) CrashSafety(ctx context.Context) (string, error) {
	aof, err := s.config(ctx, "appendonly")
	if err != nil {
		return "", err
	}
	if aof != "yes" {
		return "Redis writes no append-only file (appendonly " + aof + "): a crash of Redis loses every write since its last " +
			"snapshot, notices sent included; run it with appendonly yes and appendfsync always", nil
	}
	fsync, err := s.config(ctx, "appendfsync")
	if err != nil {
		return "", err
	}
	if fsync != "always" {
		return fmt.Sprintf("Redis flushes its append-only file with appendfsync %s, not always: a crash of Redis itself may lose "+
			"the last writes it answered, and emails handed over then may be sent again without a notice.possibly_duplicated event; "+
			"set appendfsync always", fsync), nil
	}
	return "", nil
}
