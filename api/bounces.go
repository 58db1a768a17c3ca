package api

import (
	"context"

	breach "github.com/breachd/breachd"
)

// UnmatchedBounces lists the delivery status notifications read from the bounce mailbox that
// matched no notice (jobs.Worker implements it beside RecordBounce).
type UnmatchedBounces interface {
	// UnmatchedBounces returns up to limit events after cursor, oldest first, and the next cursor
	// ("" at the end); EINVALID on "cursor" for a malformed one.
	UnmatchedBounces(ctx context.Context, cursor string, limit int) ([]breach.Event, string, error)
}

func (h *handlers) ListUnmatchedBounces(ctx context.Context, req ListUnmatchedBouncesRequestObject) (ListUnmatchedBouncesResponseObject, error) {
	// The Bounces recorder lists them too, so that a service wired before this route still serves it.
	list, ok := h.cfg.Bounces.(UnmatchedBounces)
	if !ok {
		return nil, breach.Errorf(breach.EUNAVAILABLE, "this service does not keep unmatched bounces")
	}
	events, next, err := eventPage(ctx, req.Params.Limit, req.Params.Cursor, list.UnmatchedBounces)
	if err != nil {
		return nil, err
	}
	return ListUnmatchedBounces200JSONResponse{Items: events, NextCursor: next}, nil
}
