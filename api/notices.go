package api

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

// The dispatch half of breachd is reached through these small interfaces; package jobs
// implements them and cmd wires them in.

// Dispatcher creates and queues the notices of an approved plan.
type Dispatcher interface {
	Dispatch(ctx context.Context, b *breach.Breach, asOf breach.Date, actor breach.Actor) (breach.DispatchReport, error)
}

// CallRecorder records call attempts, by clerks or from Twilio's callbacks; parts are the parts
// of the notice a conversation gave (see breach.CheckPartsDelivered). RecordCallStatus records one
// of Twilio's status callbacks as evidence, and the outcome of the call when the callback ends it.
type CallRecorder interface {
	RecordCallAttempt(ctx context.Context, noticeID string, outcome breach.CallOutcome, parts []breach.NoticePart,
		actor breach.Actor, at time.Time) (*breach.Notice, error)
	RecordCallStatus(ctx context.Context, st breach.CallStatus, actor breach.Actor, at time.Time) (*breach.Notice, error)
}

// CallTaskView is a call task as the API shows it: the phone notice and the script a clerk reads.
type CallTaskView struct {
	breach.Notice
	Script breach.CallScript `json:"script"`
}

// BounceRecorder records an email that bounced after the mail server accepted it.
type BounceRecorder interface {
	RecordBounce(ctx context.Context, noticeID, reason string, actor breach.Actor) (*breach.Notice, error)
}

// DeadLetters lists and retries the tasks that failed every retry.
type DeadLetters interface {
	DeadLetters(ctx context.Context) ([]breach.DeadLetter, error)
	RetryDeadLetter(ctx context.Context, id string) error
}

// PrintRoom makes, lists, renders and mails print batches.
type PrintRoom interface {
	Create(ctx context.Context, b *breach.Breach, max int, actor breach.Actor) (*breach.PrintBatch, breach.PrintResult, error)
	Batch(ctx context.Context, breachID, id string) (*breach.PrintBatch, error)
	Batches(ctx context.Context, breachID string) ([]breach.PrintBatch, error)
	Write(ctx context.Context, w, manifest io.Writer, b *breach.Breach, batch *breach.PrintBatch) error
	MarkMailed(ctx context.Context, b *breach.Breach, id string, on breach.Date, actor breach.Actor) (*breach.PrintBatch, error)
}

// TwilioCallback verifies a Twilio status callback's signature and reads it: the notice, what
// Twilio said of the call, the outcome and whether the call is over. A bad signature is an
// EFORBIDDEN error, an invalid callback an EINVALID one.
type TwilioCallback func(r *http.Request) (breach.CallStatus, error)

// systemTwilio is the actor of outcomes Twilio reports.
var systemTwilio = breach.Actor{ID: "twilio", Role: "system"}

func (h *handlers) DispatchBreach(ctx context.Context, req DispatchBreachRequestObject) (DispatchBreachResponseObject, error) {
	b, err := h.cfg.Store.Breach(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	today := h.todayFor(b)
	plan, counts, err := h.planOf(ctx, b, today)
	if err != nil {
		return nil, err
	}
	switch {
	case b.Status == breach.StatusClosed:
		return nil, breach.Errorf(breach.ECONFLICT, "breach %s is closed", b.ID)
	case plan.Held:
		return nil, breach.Errorf(breach.ECONFLICT, "a law-enforcement hold is open: nothing may be sent until it is released")
	case !plan.NotificationRequired:
		return nil, breach.Errorf(breach.ECONFLICT, "the plan does not require notification; revise the determination if the school chooses to notify")
	case len(plan.MissingContent) > 0:
		var missing []string
		for _, m := range plan.MissingContent {
			if !strings.HasPrefix(string(m), "translation:") { // those are named with their people below
				missing = append(missing, string(m))
			}
		}
		var parts []string
		if len(missing) > 0 {
			parts = append(parts, "every notice must say what the determination still lacks: "+strings.Join(missing, ", "))
		}
		parts = append(parts, rules.MissingLanguages(plan)...)
		return nil, breach.Errorf(breach.ECONFLICT, "%s", strings.Join(parts, "; "))
	case !plan.Approvable:
		return nil, breach.Errorf(breach.ECONFLICT, "the plan is not approvable; see its reasons")
	case counts.Affected == 0:
		return nil, breach.Errorf(breach.ECONFLICT, "nobody has been uploaded yet: upload the affected people first")
	}
	report, err := h.cfg.Dispatcher.Dispatch(ctx, b, today, actorFrom(ctx))
	if err != nil {
		return nil, err
	}
	return DispatchBreach200JSONResponse(report), nil
}

func (h *handlers) ListNotices(ctx context.Context, req ListNoticesRequestObject) (ListNoticesResponseObject, error) {
	f := breach.NoticeFilter{Limit: 50, Cursor: deref(req.Params.Cursor)}
	if req.Params.Status != nil {
		f.Status = breach.NoticeStatus(*req.Params.Status)
	}
	if req.Params.Channel != nil {
		f.Channel = breach.Method(*req.Params.Channel)
	}
	if req.Params.Limit != nil {
		f.Limit = *req.Params.Limit
	}
	list, next, err := h.cfg.Notices.Notices(ctx, req.Id, f)
	if err != nil {
		return nil, err
	}
	return ListNotices200JSONResponse{Items: noticeItems(list), NextCursor: stringOrNil(next)}, nil
}

// noticeItems shapes notices for a list: the history is for the single-notice view.
func noticeItems(list []breach.Notice) []breach.Notice {
	if list == nil {
		return []breach.Notice{}
	}
	for i := range list {
		list[i].History = nil
	}
	return list
}

func (h *handlers) GetNotice(ctx context.Context, req GetNoticeRequestObject) (GetNoticeResponseObject, error) {
	n, err := h.cfg.Notices.Notice(ctx, req.Nid)
	if err != nil {
		return nil, err
	}
	// The creation is in the breach's stream; the notice keeps only what happened after it.
	created := breach.Event{ID: "0", Type: breach.EventNoticeQueued, Actor: "dispatch", Role: "system", At: n.CreatedAt,
		Summary: "created and queued by the dispatch of the plan (see the breach's plan.dispatched event for who approved it)",
		Data:    map[string]any{"notice_id": n.ID, "channel": string(n.Channel)}}
	if n.FallbackFor != "" {
		created.Actor = "worker"
		created.Summary = "created and queued to replace notice " + n.FallbackFor
	}
	history := []breach.Event{created}
	for i, e := range n.History {
		history = append(history, breach.Event{ID: strconv.Itoa(i + 1), Type: e.Type, Actor: e.Actor, Role: e.Role, At: e.At, Summary: e.Summary, Data: e.Data,
			Private: privateFor(ctx, e.Private)})
	}
	n.History = nil
	return GetNotice200JSONResponse{Notice: *n, History: history}, nil
}

func (h *handlers) GetDeliveryStatus(ctx context.Context, req GetDeliveryStatusRequestObject) (GetDeliveryStatusResponseObject, error) {
	s, err := h.load(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	// The counts again, read with the given-by-day counters, so that the days add up to done.
	counts, last, days, err := h.cfg.Notices.NoticeCountsByDay(ctx, s.b.ID)
	if err != nil {
		return nil, err
	}
	s.counts, s.last = counts, last
	s.progress = s.counts.Progress(s.last)
	st := deliveryStatus(s)
	st.GivenByDay = &days
	if h.cfg.Channels != nil {
		ch, err := h.cfg.Channels(ctx)
		if err != nil {
			return nil, err
		}
		st.Channels = &ch
	}
	return GetDeliveryStatus200JSONResponse(st), nil
}

func (h *handlers) ExportNotices(ctx context.Context, req ExportNoticesRequestObject) (ExportNoticesResponseObject, error) {
	// Fail before streaming when the breach is unknown: after the first byte the status is sent.
	b, err := h.cfg.Store.Breach(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(h.writeNoticesCSV(ctx, pw, req.Id, b.Purged))
	}()
	// The request's context ends when the handler returns, even if the client stopped reading
	// half way: closing the reader then unblocks the writer, so it never outlives the request.
	context.AfterFunc(ctx, func() { pr.CloseWithError(ctx.Err()) })
	return ExportNotices200TextcsvResponse{Body: pr}, nil
}

// writeNoticesCSV streams every notice, a page at a time, so a million notices never sit in memory.
// Once the breach is purged (purged not nil), the personal columns say so.
func (h *handlers) writeNoticesCSV(ctx context.Context, w io.Writer, breachID string, purged *breach.Purge) error {
	cw := csv.NewWriter(w)
	header := []string{"notice_id", "channel", "status", "addressee", "to_guardian", "children", "address", "email", "phone",
		"language", "attempts", "last_error", "fallback_for", "fallback_id", "batch_id", "letter_sha256", "mailed_on", "sent_at", "created_at", "updated_at"}
	if err := cw.Write(header); err != nil {
		return err
	}
	cursor := ""
	for {
		page, next, err := h.cfg.Notices.Notices(ctx, breachID, breach.NoticeFilter{Cursor: cursor, Limit: 200})
		if err != nil {
			return err
		}
		for _, n := range page {
			a := n.Address
			addr := strings.Join(nonEmpty(a.Line1, a.Line2, strings.TrimSpace(a.City+" "+a.State+" "+a.PostalCode)), ", ")
			row := []string{n.ID, string(n.Channel), string(n.Status), n.AddresseeName, strconv.FormatBool(n.ToGuardian),
				strings.Join(n.Children, "; "), addr, n.Email, n.Phone, n.Language, strconv.Itoa(n.Attempts), n.LastError,
				n.FallbackFor, n.FallbackID, n.BatchID, n.LetterSHA256, dateCell(n.MailedOn), timeCell(n.SentAt),
				timeCell(n.CreatedAt), timeCell(n.UpdatedAt)}
			if purged != nil {
				purgedCells(row, breach.PurgedText(purged.At))
			}
			for i := range row {
				row[i] = safeCell(row[i])
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// purgedCells marks the personal columns of a notice's CSV row (addressee, children, address,
// email, phone, last error) as purged.
func purgedCells(row []string, text string) {
	for _, i := range []int{3, 5, 6, 7, 8, 11} {
		row[i] = text
	}
}

// safeCell keeps a spreadsheet from running a cell as a formula: a cell beginning with = + - @
// (or a tab or carriage return, which some programs strip first) gets a leading apostrophe.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func dateCell(d breach.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

func timeCell(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (h *handlers) ListCallTasks(ctx context.Context, req ListCallTasksRequestObject) (ListCallTasksResponseObject, error) {
	f := breach.NoticeFilter{Status: breach.NoticeQueued, Channel: breach.MethodPhone, Limit: 50, Cursor: deref(req.Params.Cursor)}
	if req.Params.Limit != nil {
		f.Limit = *req.Params.Limit
	}
	list, next, err := h.cfg.Notices.Notices(ctx, req.Params.BreachId, f)
	if err != nil {
		return nil, err
	}
	items := make([]CallTaskView, 0, len(list))
	var b *breach.Breach // every task of the page is of one breach: loaded once
	for _, n := range noticeItems(list) {
		if b == nil {
			if b, err = h.cfg.Store.Breach(ctx, req.Params.BreachId); err != nil {
				return nil, err
			}
		}
		script, err := h.cfg.Composer.CallScript(b, n)
		if breach.ErrorCode(err) == breach.EINVALID {
			// The determination (or the notice) no longer lets the script be written: the clerk
			// cannot make the call until an administrator fixes it, and must not improvise it.
			return nil, breach.Errorf(breach.ECONFLICT, "the call script cannot be written: %s", err.Error())
		}
		if err != nil {
			return nil, err
		}
		items = append(items, CallTaskView{Notice: n, Script: script})
	}
	return ListCallTasks200JSONResponse{Items: items, NextCursor: stringOrNil(next)}, nil
}

func (h *handlers) RecordCallAttempt(ctx context.Context, req RecordCallAttemptRequestObject) (RecordCallAttemptResponseObject, error) {
	n, err := h.cfg.Calls.RecordCallAttempt(ctx, req.Nid, breach.CallOutcome(req.Body.Outcome), deref(req.Body.PartsDelivered),
		actorFrom(ctx), h.cfg.Now().UTC())
	if err != nil {
		return nil, err
	}
	n.History = nil
	return RecordCallAttempt200JSONResponse(*n), nil
}

// twilioCallback receives Twilio's signed status callbacks. Nothing is recorded unless the
// signature verifies; then each callback is recorded as evidence (a call.status event), and the
// one that ends the call records its outcome.
func (h *handlers) twilioCallback(c *echo.Context) error {
	if h.cfg.TwilioCallback == nil {
		return breach.Errorf(breach.ENOTFOUND, "Twilio is not configured")
	}
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return breach.Errorf(breach.EMALFORMED, "the callback is not a form")
	}
	st, err := h.cfg.TwilioCallback(r)
	if err != nil {
		return err
	}
	if _, err := h.cfg.Calls.RecordCallStatus(r.Context(), st, systemTwilio, h.cfg.Now().UTC()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handlers) RecordBounce(ctx context.Context, req RecordBounceRequestObject) (RecordBounceResponseObject, error) {
	n, err := h.cfg.Bounces.RecordBounce(ctx, req.Nid, req.Body.Reason, actorFrom(ctx))
	if err != nil {
		return nil, err
	}
	n.History = nil
	return RecordBounce200JSONResponse(*n), nil
}

func (h *handlers) RecordReturnedMail(ctx context.Context, req RecordReturnedMailRequestObject) (RecordReturnedMailResponseObject, error) {
	actor := actorFrom(ctx)
	n, err := h.cfg.Notices.UpdateNotice(ctx, req.Nid, func(n *breach.Notice) ([]breach.Event, error) {
		if n.Channel != breach.MethodLetter || n.Status != breach.NoticeMailed {
			return nil, breach.Errorf(breach.ECONFLICT, "only a mailed letter can come back; notice %s is a %s notice in status %s", n.ID, n.Channel, n.Status)
		}
		if req.Body.ReturnedOn.Before(n.MailedOn) {
			return nil, breach.InvalidFields([]breach.FieldError{{Field: "returned_on", Reason: "is before the letter was mailed (" + n.MailedOn.String() + ")"}})
		}
		// The clerk's note may name the person: it goes only into the event's private part (sealed
		// under the breach's key, which a purge destroys), never into the event's plain data or the
		// notice's last error.
		reason := breach.RedactContact(deref(req.Body.Reason))
		n.Status = breach.NoticeReturned
		n.LastError = "returned by the post office"
		var private map[string]string
		if reason != "" {
			private = map[string]string{"reason": reason}
		}
		return []breach.Event{{Type: breach.EventNoticeReturned, Actor: actor.ID, Role: actor.Role,
			Summary: "letter returned undelivered on " + req.Body.ReturnedOn.String(),
			Data:    map[string]any{"notice_id": n.ID, "returned_on": req.Body.ReturnedOn.String()}, Private: private}}, nil
	})
	if err != nil {
		return nil, err
	}
	n.History = nil
	return RecordReturnedMail200JSONResponse(*n), nil
}

func (h *handlers) ListPrintBatches(ctx context.Context, req ListPrintBatchesRequestObject) (ListPrintBatchesResponseObject, error) {
	if _, err := h.cfg.Store.Breach(ctx, req.Id); err != nil {
		return nil, err
	}
	list, err := h.cfg.PrintRoom.Batches(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return ListPrintBatches200JSONResponse{Items: list}, nil
}

func (h *handlers) CreatePrintBatch(ctx context.Context, req CreatePrintBatchRequestObject) (CreatePrintBatchResponseObject, error) {
	b, err := h.cfg.Store.Breach(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	if err := purgedRefusal(b, "its letters can no longer be printed"); err != nil {
		return nil, err
	}
	batch, _, err := h.cfg.PrintRoom.Create(ctx, b, h.cfg.BatchSize, actorFrom(ctx))
	if err != nil {
		return nil, err
	}
	return CreatePrintBatch201JSONResponse(*batch), nil
}

func (h *handlers) MarkPrintBatchMailed(ctx context.Context, req MarkPrintBatchMailedRequestObject) (MarkPrintBatchMailedResponseObject, error) {
	b, err := h.cfg.Store.Breach(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	if req.Body.MailedOn.After(h.today(b.Determination)) {
		return nil, breach.InvalidFields([]breach.FieldError{{Field: "mailed_on", Reason: "is in the future"}})
	}
	batch, err := h.cfg.PrintRoom.MarkMailed(ctx, b, req.Bid, req.Body.MailedOn, actorFrom(ctx))
	if err != nil {
		return nil, err
	}
	return MarkPrintBatchMailed200JSONResponse(*batch), nil
}

// printBatchFile serves …/print-batches/{bid}.pdf and {bid}.csv (one Echo route; see oapi-codegen.yaml).
func (h *handlers) printBatchFile(c *echo.Context) error {
	ctx := c.Request().Context()
	file := c.Param("file")
	bid, ext, _ := strings.Cut(file, ".")
	b, err := h.cfg.Store.Breach(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := purgedRefusal(b, "its print batches can no longer be printed"); err != nil {
		return err
	}
	batch, err := h.cfg.PrintRoom.Batch(ctx, b.ID, bid)
	if err != nil {
		return err
	}
	switch ext {
	case "pdf":
		c.Response().Header().Set(echo.HeaderContentType, "application/pdf")
		c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="batch-%d.pdf"`, batch.Number))
		c.Response().WriteHeader(http.StatusOK)
		return h.cfg.PrintRoom.Write(ctx, c.Response(), io.Discard, b, batch)
	default: // "csv": guard admits only the contract's two paths
		c.Response().Header().Set(echo.HeaderContentType, "text/csv")
		c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="batch-%d.csv"`, batch.Number))
		c.Response().WriteHeader(http.StatusOK)
		return h.cfg.PrintRoom.Write(ctx, io.Discard, c.Response(), b, batch)
	}
}

func (h *handlers) GetLetterPDF(ctx context.Context, req GetLetterPDFRequestObject) (GetLetterPDFResponseObject, error) {
	n, err := h.cfg.Notices.Notice(ctx, req.Nid)
	if err != nil {
		return nil, err
	}
	if n.Channel != breach.MethodLetter {
		return nil, breach.Errorf(breach.ECONFLICT, "notice %s is a %s notice, not a letter", n.ID, n.Channel)
	}
	b, err := h.cfg.Store.Breach(ctx, n.BreachID)
	if err != nil {
		return nil, err
	}
	if err := purgedRefusal(b, "letter "+n.ID+" can no longer be reprinted; its hash (letter_sha256) and its events remain"); err != nil {
		return nil, err
	}
	date := h.today(b.Determination)
	if n.BatchID != "" {
		batch, err := h.cfg.PrintRoom.Batch(ctx, b.ID, n.BatchID)
		if err != nil {
			return nil, err
		}
		date = breach.DateOf(batch.CreatedAt, b.Determination.Location())
	}
	var buf strings.Builder
	sum, err := h.cfg.Printer.PrintLetter(ctx, &buf, b, *n, date)
	if err != nil {
		return nil, err
	}
	return GetLetterPDF200ApplicationpdfResponse{Body: strings.NewReader(buf.String()), ContentLength: int64(buf.Len()),
		Headers: GetLetterPDF200ResponseHeaders{XLetterSHA256: sum}}, nil
}

func (h *handlers) ListDeadLetters(ctx context.Context, _ ListDeadLettersRequestObject) (ListDeadLettersResponseObject, error) {
	list, err := h.cfg.DeadLetters.DeadLetters(ctx)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []breach.DeadLetter{}
	}
	return ListDeadLetters200JSONResponse{Items: list}, nil
}

func (h *handlers) RetryDeadLetter(ctx context.Context, req RetryDeadLetterRequestObject) (RetryDeadLetterResponseObject, error) {
	if err := h.cfg.DeadLetters.RetryDeadLetter(ctx, req.Tid); err != nil {
		return nil, err
	}
	return RetryDeadLetter204Response{}, nil
}
