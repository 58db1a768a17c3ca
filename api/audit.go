package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	breach "github.com/breachd/breachd"
)

// AuditTrail is the tamper-evident audit trail of the breaches (package jobs implements it; see
// jobs/chain.go): the hash chain over each breach's events, its signed checkpoints, and the events
// of one notice with their place in the chain. Methods return ENOTFOUND for an unknown breach and
// EUNAVAILABLE when Redis cannot be reached or, for checkpoints, no signing key is configured.
type AuditTrail interface {
	Chain(ctx context.Context, breachID string) (int, error)
	VerifyChain(ctx context.Context, breachID string) (breach.ChainVerification, error)
	ExportChain(ctx context.Context, breachID string, w io.Writer) (breach.SignedCheckpoint, error)
	Checkpoint(ctx context.Context, breachID, reason string) (breach.SignedCheckpoint, error)
	NoticeEvents(ctx context.Context, breachID, noticeID string) ([]breach.ChainedEvent, error)
	SigningPublicKey() string
}

// ProofRenderer draws a proof of notice on one page (package letters).
type ProofRenderer interface {
	ProofOfNotice(ctx context.Context, w io.Writer, p breach.NoticeProof) error
}

func (h *handlers) audit() (AuditTrail, error) {
	if h.cfg.Audit == nil {
		return nil, breach.Errorf(breach.EUNAVAILABLE, "the audit trail is not configured")
	}
	return h.cfg.Audit, nil
}

// chainAfterWrite chains the breach a write request touched once its handler is done, so that
// every event an API call appends is tamper-evident within the request (the worker's chainer
// catches the rest within seconds). A failure is logged, never the request's: its change is made.
func chainAfterWrite(audit AuditTrail, notices breach.NoticeStore, log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			err := next(c)
			if audit == nil || c.Request().Method == http.MethodGet || c.Request().Method == http.MethodHead {
				return err
			}
			ctx := c.Request().Context()
			id := ""
			path := c.Request().URL.Path
			switch {
			case strings.HasPrefix(path, "/v1/breaches/"):
				id, _, _ = strings.Cut(strings.TrimPrefix(path, "/v1/breaches/"), "/")
			case strings.HasPrefix(path, "/v1/notices/"), strings.HasPrefix(path, "/v1/call-tasks/"), strings.HasPrefix(path, "/v1/webhooks/twilio"):
				nid := c.Request().URL.Query().Get("notice")
				if nid == "" {
					rest := strings.TrimPrefix(strings.TrimPrefix(path, "/v1/notices/"), "/v1/call-tasks/")
					nid, _, _ = strings.Cut(rest, "/")
				}
				if strings.HasPrefix(nid, "nt_") {
					if n, nerr := notices.Notice(ctx, nid); nerr == nil {
						id = n.BreachID
					}
				}
			case path == "/v1/breaches":
				if loc := c.Response().Header().Get("Location"); loc != "" {
					id = strings.TrimPrefix(loc, "/v1/breaches/")
				}
			}
			if id == "" || !strings.HasPrefix(id, "br_") {
				return err
			}
			// The request's context may be ending (a client that left): chaining must still happen.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if _, cerr := audit.Chain(cctx, id); cerr != nil && breach.ErrorCode(cerr) != breach.ENOTFOUND {
				log.WarnContext(ctx, "chaining the breach's events after a write failed; the worker's chainer will retry",
					"breach_id", id, "error", cerr.Error())
			}
			return err
		}
	}
}

func (h *handlers) VerifyEvents(ctx context.Context, req VerifyEventsRequestObject) (VerifyEventsResponseObject, error) {
	a, err := h.audit()
	if err != nil {
		return nil, err
	}
	v, err := a.VerifyChain(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return VerifyEvents200JSONResponse(v), nil
}

func (h *handlers) ExportEvents(ctx context.Context, req ExportEventsRequestObject) (ExportEventsResponseObject, error) {
	a, err := h.audit()
	if err != nil {
		return nil, err
	}
	// Fail before streaming when the breach is unknown: after the first byte the status is sent.
	if _, err := h.cfg.Store.Breach(ctx, req.Id); err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := a.ExportChain(ctx, req.Id, pw)
		pw.CloseWithError(err)
	}()
	context.AfterFunc(ctx, func() { pr.CloseWithError(ctx.Err()) })
	return ExportEvents200ApplicationxNdjsonResponse{Body: pr}, nil
}

func (h *handlers) CreateCheckpoint(ctx context.Context, req CreateCheckpointRequestObject) (CreateCheckpointResponseObject, error) {
	a, err := h.audit()
	if err != nil {
		return nil, err
	}
	if _, err := h.cfg.Store.Breach(ctx, req.Id); err != nil {
		return nil, err
	}
	cp, err := a.Checkpoint(ctx, req.Id, breach.CheckpointOnDemand)
	if err != nil {
		return nil, err
	}
	return CreateCheckpoint201JSONResponse(cp), nil
}

func (h *handlers) GetSigningKey(context.Context, GetSigningKeyRequestObject) (GetSigningKeyResponseObject, error) {
	a, err := h.audit()
	if err != nil {
		return nil, err
	}
	k := a.SigningPublicKey()
	if k == "" {
		return nil, breach.Errorf(breach.EUNAVAILABLE, "no signing key is configured (BREACHD_SIGNING_KEY)")
	}
	return GetSigningKey200JSONResponse{Algorithm: "ed25519", PublicKey: k}, nil
}

// checkpointClosed signs a checkpoint when a breach closes; the close stands if it fails (logged).
func (h *handlers) checkpointClosed(ctx context.Context, id string) {
	if h.cfg.Audit == nil {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := h.cfg.Audit.Checkpoint(cctx, id, breach.CheckpointClose); err != nil {
		h.cfg.Logger.WarnContext(ctx, "the closing checkpoint could not be made", "breach_id", id, "error", err.Error())
	}
}
