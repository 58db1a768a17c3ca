package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode"

	"github.com/labstack/echo/v5"

	breach "github.com/breachd/breachd"
)

// DefaultMaxUploadBytes is the largest upload of recipients accepted (1 GiB: about six million rows).
const DefaultMaxUploadBytes = 1 << 30

// uploadBatch is how many rows are stored per round trip to Redis.
const uploadBatch = 1000

// DefaultUploadIdleTimeout is how long an upload may send nothing before it is cut short (408 with
// what was kept). It is an idle timeout, not a total one: a 1 GiB upload over a slow link takes as
// long as it needs, so long as bytes keep coming.
const DefaultUploadIdleTimeout = 60 * time.Second

// uploadAuditTimeout bounds the recording of an upload's event after its request has ended.
const uploadAuditTimeout = 5 * time.Second

// uploadRecipients streams an upload of affected people into the store: rows are parsed,
// validated and stored a batch at a time, so memory stays flat whatever the file's size. Every
// good row is kept; every bad row and every duplicate is reported (the first
// breach.MaxReportedProblems of each, the rest counted).
//
// Whatever ends the upload (the end of the file, the size limit, a stall, the client going away,
// the store failing), what it kept is recorded in the audit trail, with complete = false unless
// the whole file was read and stored.
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
	rc := http.NewResponseController(c.Response())
	idle := &idleReader{r: c.Request().Body, rc: rc, idle: h.cfg.UploadIdleTimeout}
	body := http.MaxBytesReader(c.Response(), io.NopCloser(idle), h.cfg.MaxUploadBytes)
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get("Content-Type"))
	var rows rowReader
	switch mt {
	case "text/csv":
		if rows, err = newCSVRows(body); err != nil {
			return h.uploadFailed(c, err, breach.UploadReport{})
		}
	default: // guard admits only the contract's media types
		rows = newNDJSONRows(body)
	}

	// From here on rows may be stored: the upload is recorded as started, and kept open (with
	// counts that grow with each batch stored) until its end is recorded.
	up := breach.UploadStart{ID: h.cfg.NewID("up"), Format: mt, File: uploadFileName(c.Request().Header.Get("Content-Disposition")), At: h.cfg.Now().UTC()}
	if h.cfg.Uploads != nil {
		// A file name is free text that may name a person ("doe-family.csv"): it is kept only in
		// the event's private part, sealed under the breach's key, which a purge destroys.
		ev := h.event(actorFrom(ctx), breach.EventUploadStarted, fmt.Sprintf("upload %s (%s) started", up.ID, up.Format),
			map[string]any{"upload_id": up.ID, "format": up.Format})
		if up.File != "" {
			ev.Private = map[string]string{"file": up.File}
		}
		stop, err := h.cfg.Uploads.StartUpload(ctx, id, up, ev)
		if err != nil {
			return err
		}
		defer stop()
	}

	report := breach.UploadReport{Duplicates: []breach.RowProblem{}, Rejected: []breach.RowProblem{}, Warnings: []breach.RowProblem{}}
	var omitted breach.UploadOmitted
	rejectedRows := 0
	today := h.today(b.Determination)
	// One goroutine stores batches while this one parses the next: the two halves of the work
	// overlap, and at most two batches are in memory.
	type batchOf struct {
		rs   []breach.Recipient
		step breach.UploadStep // the rows read and rejected since the batch before
	}
	batches := make(chan batchOf, 1)
	// A batch handed to the storer is stored whole even if the client goes away meanwhile, so that
	// the numbers recorded are exactly what the store holds.
	storeCtx := context.WithoutCancel(ctx)
	stored := make(chan error, 1)
	var accepted, dupCount, warnCount int
	var dupRows, warnRows []breach.RowProblem
	var failed atomic.Bool // the storer failed: stop parsing
	go func() {
		var err error
		for b := range batches {
			if err != nil {
				continue // drain: the upload has failed
			}
			batch := b.rs
			var dups []int
			if h.cfg.Uploads != nil {
				dups, err = h.cfg.Uploads.AddUploadRows(storeCtx, id, up.ID, batch, b.step)
			} else {
				dups, err = h.cfg.Recipients.AddRecipients(storeCtx, id, batch)
			}
			if err != nil {
				failed.Store(true)
				continue
			}
			for _, i := range dups {
				if dupCount++; len(dupRows) < breach.MaxReportedProblems {
					dupRows = append(dupRows, breach.RowProblem{Row: batch[i].Row, ExternalID: batch[i].ExternalID,
						Field: "external_id", Reason: "is already held by this breach: the row added nothing"})
				}
			}
			accepted += len(batch) - len(dups)
			for i, r := range batch { // warnings are about rows stored, so never a duplicate
				if !slices.Contains(dups, i) {
					if p, ok := guardianWarning(r, today); ok {
						if warnCount++; len(warnRows) < breach.MaxReportedProblems {
							warnRows = append(warnRows, p)
						}
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
		omitted.Duplicates, omitted.Warnings = dupCount-len(dupRows), warnCount-len(warnRows)
		if omitted != (breach.UploadOmitted{}) {
			report.Omitted = &omitted
		}
		return err
	}
	batch := make([]breach.Recipient, 0, uploadBatch)
	var sentRows, sentRejected int // counted in the batches handed to the storer
	send := func() {
		batches <- batchOf{rs: batch, step: breach.UploadStep{Rows: report.Rows - sentRows, Rejected: rejectedRows - sentRejected}}
		sentRows, sentRejected = report.Rows, rejectedRows
	}
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
			rejectedRows++
			for _, p := range problems {
				if len(report.Rejected) == breach.MaxReportedProblems {
					omitted.Rejected++
					continue
				}
				report.Rejected = append(report.Rejected, breach.RowProblem{Row: row.n, ExternalID: r.ExternalID, Field: p.Field, Reason: p.Reason})
			}
			continue
		}
		r.ID = h.cfg.NewID("rc")
		r.BreachID = id
		batch = append(batch, r)
		if len(batch) == uploadBatch {
			send()
			batch = make([]breach.Recipient, 0, uploadBatch)
		}
	}
	if len(batch) > 0 {
		send()
	}
	storeErr := finish()
	complete := storeErr == nil && readErr == nil
	// The event is written even when the request is gone: the people kept are in the store and
	// the plan counts them at once, so the trail must say so.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), uploadAuditTimeout)
	defer cancel()
	counts, countErr := h.cfg.Recipients.RecipientCounts(actx, id)
	report.Counts = counts
	auditErr := h.recordUpload(actx, id, up.ID, report, rejectedRows, complete)
	switch {
	case storeErr != nil:
		return h.uploadFailed(c, storeErr, report)
	case readErr != nil:
		return h.uploadFailed(c, readErr, report)
	case countErr != nil:
		return countErr
	case auditErr != nil:
		return auditErr
	}
	// The response may come long after the server's write timeout started counting (a slow
	// upload): give its writing its own time.
	_ = rc.SetWriteDeadline(time.Now().Add(uploadAuditTimeout + h.cfg.UploadIdleTimeout))
	return c.JSON(http.StatusOK, report)
}

// idleReader reads a request body with an idle timeout: before each read it moves the connection's
// read deadline (and the write deadline, which the server's WriteTimeout otherwise fixes from the
// start of the request) to idle from now. A body that stops coming for idle fails with
// os.ErrDeadlineExceeded.
type idleReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
	err  error // the deadline could not be set (not a real connection: the server's own limits hold)
}

func (r *idleReader) Read(p []byte) (int, error) {
	if r.err == nil {
		now := time.Now()
		if r.err = r.rc.SetReadDeadline(now.Add(r.idle)); r.err == nil {
			r.err = r.rc.SetWriteDeadline(now.Add(r.idle + uploadAuditTimeout))
		}
	}
	return r.r.Read(p)
}

// uploadFailed turns what cut an upload short into the error the caller gets, saying how far the
// upload got: the rows before were processed and kept, and the caller must know which.
//   - over the size limit: 413;
//   - no data for the idle timeout: 408;
//   - the client went away: nothing is answered, and the log says so (observe);
//   - anything else as it is.
func (h *handlers) uploadFailed(c *echo.Context, err error, report breach.UploadReport) error {
	kept := fmt.Sprintf("rows 1 to %d were processed (%d accepted, %d duplicates, %d problems reported)",
		report.Rows, report.Accepted, len(report.Duplicates)+omittedOf(report).Duplicates, len(report.Rejected)+omittedOf(report).Rejected)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return breach.Errorf(breach.ETOOLARGE, "the upload is over the %d MiB limit: %s; split the rest into another upload",
			h.cfg.MaxUploadBytes>>20, kept)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &breach.Error{Code: codeTimeout, Message: fmt.Sprintf("the upload sent nothing for %s: %s; send the rest again (rows already kept are reported as duplicates)",
			h.cfg.UploadIdleTimeout, kept)}
	case c.Request().Context().Err() != nil || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
		return &goneError{err: err, stored: fmt.Sprintf("%d rows read, %d accepted", report.Rows, report.Accepted)}
	}
	return err
}

func omittedOf(r breach.UploadReport) breach.UploadOmitted {
	if r.Omitted == nil {
		return breach.UploadOmitted{}
	}
	return *r.Omitted
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

// recordUpload puts the upload in the audit trail: numbers only, never names. complete says
// whether the whole file was read and stored; an upload cut short still kept what it accepted.
func (h *handlers) recordUpload(ctx context.Context, id, uploadID string, report breach.UploadReport, rejectedRows int, complete bool) error {
	actor := actorFrom(ctx)
	om := omittedOf(report)
	dups, warns := len(report.Duplicates)+om.Duplicates, len(report.Warnings)+om.Warnings
	summary := fmt.Sprintf("%d rows uploaded: %d accepted, %d duplicates, %d rejected", report.Rows, report.Accepted, dups, rejectedRows)
	if !complete {
		summary = fmt.Sprintf("upload cut short after %d rows: %d accepted, %d duplicates, %d rejected; the rest of the file was not read", report.Rows, report.Accepted, dups, rejectedRows)
	}
	fn := func(b *breach.Breach) (breach.Event, error) {
		b.UpdatedAt = h.cfg.Now().UTC()
		return h.event(actor, breach.EventRecipientsUploaded, summary,
			map[string]any{"upload_id": uploadID, "rows": report.Rows, "accepted": report.Accepted, "duplicates": dups,
				"rejected_rows": rejectedRows, "warnings": warns, "affected": report.Counts.Affected, "complete": complete,
				"indiana_residents": report.Counts.IndianaResidents, "insufficient_contact": report.Counts.InsufficientContact}), nil
	}
	if h.cfg.Uploads != nil {
		return h.cfg.Uploads.FinishUpload(ctx, id, uploadID, complete, fn)
	}
	_, err := h.cfg.Store.UpdateBreach(ctx, id, fn)
	return err
}

// uploadFileName is the file name a client gave in Content-Disposition (curl -H, a browser's
// form), cut for the audit trail; "" when none.
func uploadFileName(disposition string) string {
	_, params, err := mime.ParseMediaType(disposition)
	if err != nil {
		return ""
	}
	name := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(filepath.Base(strings.ReplaceAll(params["filename"], "\\", "/")), ""))
	if name == "." || name == "/" {
		return ""
	}
	return shortName(name)
}

func (h *handlers) ListRecipients(ctx context.Context, req ListRecipientsRequestObject) (ListRecipientsResponseObject, error) {
	f := breach.RecipientFilter{IndianaResident: req.Params.IndianaResident, HasContact: req.Params.HasContact, Limit: 50}
	if req.Params.Limit != nil {
		f.Limit = *req.Params.Limit
	}
	f.Cursor, f.Query = deref(req.Params.Cursor), deref(req.Params.Q)
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
	var unfinished []breach.UnfinishedUpload
	if h.cfg.Uploads != nil {
		if unfinished, err = h.cfg.Uploads.UnfinishedUploads(ctx, req.Id); err != nil {
			return nil, err
		}
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
		case len(unfinished) > 0:
			return breach.Event{}, unfinishedErr(unfinished[0], len(unfinished))
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

// unfinishedErr is the 409 of a list declared complete while an upload is unfinished: an upload
// cut short or interrupted kept only part of its file.
func unfinishedErr(u breach.UnfinishedUpload, n int) error {
	what := u.ID
	if u.File != "" {
		what += " (" + u.File + ")"
	}
	more := ""
	if n > 1 {
		more = fmt.Sprintf(" (and %d more)", n-1)
	}
	if u.Open {
		return breach.Errorf(breach.ECONFLICT, "upload %s%s, started %s, has not ended: it is still being received, or the process "+
			"receiving it stopped and it is closed as interrupted within a minute; declare the list complete once every upload has ended",
			what, more, u.At.Format(time.RFC3339))
	}
	return breach.Errorf(breach.ECONFLICT, "upload %s%s ended before its whole file was read (%d rows: %d accepted, %d duplicates, %d rejected "+
		"kept): upload the file again — the rows already kept are reported as duplicates — before declaring the list complete",
		what, more, u.Rows, u.Accepted, u.Duplicates, u.Rejected)
}
