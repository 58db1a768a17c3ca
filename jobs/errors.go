package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
)

// storeErr translates an error from go-redis at the edge of the store: an error that already
// carries a *breach.Error passes through; one that means Redis cannot serve us becomes
// EUNAVAILABLE with the cause kept in the chain for the log; anything else is wrapped with the
// operation and becomes EINTERNAL by default.
func storeErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var be *breach.Error
	if errors.As(err, &be) {
		return err
	}
	if unreachable(err) {
		return fmt.Errorf("%s: %w: %w", op, breach.Errorf(breach.EUNAVAILABLE, "the store cannot be reached"), err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// unreachable reports whether err means the server cannot be reached or cannot serve right now,
// as opposed to a bug (a wrong command, a wrong type).
func unreachable(err error) bool {
	switch {
	case errors.Is(err, redis.ErrClosed), errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case redis.IsLoadingError(err), redis.IsReadOnlyError(err), redis.IsClusterDownError(err),
		redis.IsMasterDownError(err), redis.IsTryAgainError(err), redis.IsMaxClientsError(err):
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

func notFound(id string) error {
	return breach.Errorf(breach.ENOTFOUND, "breach %s not found", id)
}

// afterCursor is where a lexicographic range resumes after a list's cursor: from (when cursor is
// "", the start of the range), else just after the ID; EINVALID (invalidCursor) for a cursor that
// is not an ID.
func afterCursor(cursor, from string) (string, error) {
	switch {
	case cursor == "":
		return from, nil
	case !validID(cursor):
		return "", invalidCursor()
	}
	return "(" + cursor, nil
}

func invalidCursor() error {
	return &breach.Error{Code: breach.EINVALID, Message: "the request has invalid fields",
		Fields: []breach.FieldError{{Field: "cursor", Reason: "not a cursor returned by this list; start again without it"}}}
}
