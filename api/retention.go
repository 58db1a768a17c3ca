package api

import (
	"context"

	breach "github.com/breachd/breachd"
)

// Purger removes the personal data of closed breaches once their retention period has passed
// (package jobs implements it: jobs.Retention). Purge returns the purge, made now (purged) or
// earlier; ECONFLICT when the breach is not closed, the period has not passed or none is
// configured; ENOTFOUND for an unknown breach.
type Purger interface {
	Purge(ctx context.Context, breachID string, actor breach.Actor) (p breach.Purge, purged bool, err error)
}

func (h *handlers) PurgeBreach(ctx context.Context, req PurgeBreachRequestObject) (PurgeBreachResponseObject, error) {
	if h.cfg.Retention == nil {
		return nil, breach.Errorf(breach.EUNAVAILABLE, "the retention purge is not configured")
	}
	p, _, err := h.cfg.Retention.Purge(ctx, req.Id, actorFrom(ctx))
	if err != nil {
		return nil, err
	}
	return PurgeBreach200JSONResponse(p), nil
}

// purgedRefusal is the problem for what a purge made impossible (a letter printed again: its
// name and address are gone); nil when the breach was not purged.
func purgedRefusal(b *breach.Breach, what string) error {
	if b.Purged == nil {
		return nil
	}
	return breach.Errorf(breach.ECONFLICT, "the personal data of breach %s was purged on %s after its retention period (%s): %s",
		b.ID, b.Purged.At.UTC().Format("2006-01-02"), b.Purged.Period, what)
}
