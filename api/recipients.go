package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v5"

	breach "github.com/breachd/breachd"
)

// DefaultMaxUploadBytes is the largest upload of recipients accepted (1 GiB: about six million rows).
const DefaultMaxUploadBytes = 1 << 30

// uploadBatch is how many rows are stored per round trip to Redis.
const uploadBatch = 1000

// uploadRecipients streams an upload of affected people into the store: rows are parsed,
// validated and stored a batch at a time, so memory stays flat whatever the file's size. Every
// good row is kept; every bad row and every duplicate is reported.
func (h *handlers) uploadRecipients(c *echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	b, err := h.cfg.Store.Breach(ctx, id)
	if err != nil {
		return err
	}
	if b.Status == breach.StatusClosed {
		return breach.Errorf(breach.ECONFLICT, "breach %s is closed", id)
	}
	body := http.MaxBytesReader(c.Response(), c.Request().Body, h.cfg.MaxUploadBytes)
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get("Content-Type"))
	var rows rowReader
	switch mt {
	case "text/csv":
		if rows, err = newCSVRows(body); err != nil {
			return tooLarge(err, h.cfg.MaxUploadBytes, breach.UploadReport{})
		}
	default: // guard admits only the contract's media types
		rows = newNDJSONRows(body)
	}

	report := breach.UploadReport{Duplicates: []breach.RowProblem{}, Rejected: []breach.RowProblem{}, Warnings: []breach.RowProblem{}}
	today := h.today(b.Determination)
	// One goroutine stores batches while this one parses the next: the two halves of the work
	// overlap, and at most two batches are in memory.
	batches := make(chan []breach.Recipient, 1)
	stored := make(chan error, 1)
	var accepted int
	var dupRows, warnRows []breach.RowProblem
	var failed atomic.Bool // the storer failed: stop parsing
	go func() {
		var err error
		for batch := range batches {
			if err != nil {
				continue // drain: the upload has failed
			}
			var dups []int
			if dups, err = h.cfg.Recipients.AddRecipients(ctx, id, batch); err != nil {
				failed.Store(true)
				continue
			}
			for _, i := range dups {
				dupRows = append(dupRows, breach.RowProblem{Row: batch[i].Row, ExternalID: batch[i].ExternalID,
					Field: "external_id", Reason: "is already held by this breach: the row added nothing"})
			}
			accepted += len(batch) - len(dups)
			for i, r := range batch { // warnings are about rows stored, so never a duplicate
				if !slices.Contains(dups, i) {
					if p, ok := guardianWarning(r, today); ok {
						warnRows = append(warnRows, p)
					}
				}
			}
		}
		stored <- err
	}()
	// finish waits for every batch sent to be stored and merges what the storer counted.
	finish := func() error {
		close(batches)
		err := <-stored
		report.Accepted = accepted
		report.Duplicates = append(report.Duplicates, dupRows...)
		report.Warnings = append(report.Warnings, warnRows...)
		return err
	}
	batch := make([]breach.Recipient, 0, uploadBatch)
	var readErr error
	for !failed.Load() {
		row, err := rows.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		report.Rows++
		r, problems := toRecipient(row)
		if len(problems) > 0 {
			for _, p := range problems {
				report.Rejected = append(report.Rejected, breach.RowProblem{Row: row.n, ExternalID: r.ExternalID, Field: p.Field, Reason: p.Reason})
			}
			continue
		}
		r.ID = h.cfg.NewID("rc")
		r.BreachID = id
		batch = append(batch, r)
		if len(batch) == uploadBatch {
			batches <- batch
			batch = make([]breach.Recipient, 0, uploadBatch)
		}
	}
	if len(batch) > 0 {
		batches <- batch
	}
	if err := finish(); err != nil {
		return err
	}
	if readErr != nil {
		return tooLarge(readErr, h.cfg.MaxUploadBytes, report)
	}
	if report.Counts, err = h.cfg.Recipients.RecipientCounts(ctx, id); err != nil {
		return err
	}
	if err := h.recordUpload(ctx, id, report); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, report)
}

// guardianWarning warns about a person who is a minor on the upload date (LAW.md §3: the notice
// goes to each parent or guardian of record) but has no guardian named and no guardian email or
// phone. The row is stored all the same, the person being affected: the notice then goes to
// "Parent or Guardian of" the child at the address on record, which the school should check.
func guardianWarning(r breach.Recipient, on breach.Date) (breach.RowProblem, bool) {
	if !r.Minor(on) || r.Guardian != (breach.Guardian{}) {
		return breach.RowProblem{}, false
	}
	return breach.RowProblem{Row: r.Row, ExternalID: r.ExternalID, Field: "guardian_name",
		Reason: fmt.Sprintf("is empty, and so are guardian_email and guardian_phone, for a minor (under 18 on %s): "+
			"the row was stored and the notice goes to the child's parent or guardian, unnamed, at the address on record; "+
			"add the parent or guardian of record if the school has one", on)}, true
}

// recordUpload puts the upload in the audit trail: numbers only, never names.
func (h *handlers) recordUpload(ctx context.Context, id string, report breach.UploadReport) error {
	actor := actorFrom(ctx)
	rejectedRows := map[int]bool{}
	for _, p := range report.Rejected {
		rejectedRows[p.Row] = true
	}
	_, err := h.cfg.Store.UpdateBreach(ctx, id, func(b *breach.Breach) (breach.Event, error) {
		b.UpdatedAt = h.cfg.Now().UTC()
		return h.event(actor, breach.EventRecipientsUploaded,
			fmt.Sprintf("%d rows uploaded: %d accepted, %d duplicates, %d rejected", report.Rows, report.Accepted, len(report.Duplicates), len(rejectedRows)),
			map[string]any{"rows": report.Rows, "accepted": report.Accepted, "duplicates": len(report.Duplicates),
				"rejected_rows": len(rejectedRows), "warnings": len(report.Warnings), "affected": report.Counts.Affected,
				"indiana_residents": report.Counts.IndianaResidents, "insufficient_contact": report.Counts.InsufficientContact}), nil
	})
	return err
}

// tooLarge turns the body limit into a 413 that says how far the upload got: the rows before the
// limit were processed and kept, and the caller must know which.
func tooLarge(err error, limit int64, report breach.UploadReport) error {
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) {
		return err
	}
	return breach.Errorf(breach.ETOOLARGE, "the upload is over the %d MiB limit: rows 1 to %d were processed (%d accepted, %d duplicates, %d problems reported); split the rest into another upload",
		limit>>20, report.Rows, report.Accepted, len(report.Duplicates), len(report.Rejected))
}

func (h *handlers) ListRecipients(ctx context.Context, req ListRecipientsRequestObject) (ListRecipientsResponseObject, error) {
	f := breach.RecipientFilter{IndianaResident: req.Params.IndianaResident, HasContact: req.Params.HasContact, Limit: 50}
	if req.Params.Limit != nil {
		f.Limit = *req.Params.Limit
	}
	f.Cursor = deref(req.Params.Cursor)
	list, next, err := h.cfg.Recipients.Recipients(ctx, req.Id, f)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []breach.Recipient{}
	}
	return ListRecipients200JSONResponse{Items: list, NextCursor: stringOrNil(next)}, nil
}

func (h *handlers) GetRecipient(ctx context.Context, req GetRecipientRequestObject) (GetRecipientResponseObject, error) {
	r, err := h.cfg.Recipients.Recipient(ctx, req.Id, req.Rid)
	if err != nil {
		return nil, err
	}
	return GetRecipient200JSONResponse(*r), nil
}

func (h *handlers) CompleteRecipients(ctx context.Context, req CompleteRecipientsRequestObject) (CompleteRecipientsResponseObject, error) {
	actor := actorFrom(ctx)
	counts, err := h.cfg.Recipients.RecipientCounts(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	b, err := h.cfg.Store.UpdateBreach(ctx, req.Id, func(b *breach.Breach) (breach.Event, error) {
		switch {
		case b.Status == breach.StatusClosed:
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "breach %s is closed", b.ID)
		case b.RecipientsComplete != nil:
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "the list of affected people was declared complete on %s, with %d people",
				b.RecipientsComplete.At.Format(time.RFC3339), b.RecipientsComplete.Recipients)
		case counts.Affected == 0:
			return breach.Event{}, breach.Errorf(breach.ECONFLICT, "nobody is uploaded yet: upload the affected people before declaring the list complete")
		}
		now := h.cfg.Now().UTC()
		b.RecipientsComplete = &breach.UploadCompletion{At: now, By: actor.ID, Recipients: counts.Affected}
		b.UpdatedAt = now
		return h.event(actor, breach.EventRecipientsCompleted,
			fmt.Sprintf("the list of affected people was declared complete: %d people, %d with an Indiana address", counts.Affected, counts.IndianaResidents),
			map[string]any{"affected": counts.Affected, "indiana_residents": counts.IndianaResidents,
				"estimated_affected": b.Determination.AffectedCount}), nil
	})
	if err != nil {
		return nil, err
	}
	v, err := h.viewToday(ctx, b)
	if err != nil {
		return nil, err
	}
	return CompleteRecipients200JSONResponse(v), nil
}
