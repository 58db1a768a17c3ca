package breach

import (
	"context"
	"time"
)

// Uploads of affected people, as the audit trail follows them
//
// Each upload is recorded when it starts (upload.started) and when it ends: recipients.uploaded
// with what it kept when the request ends, however it ends; or, when the process handling it dies
// first (a crash, kill -9), upload.interrupted, written later by whichever process finds it
// abandoned, with the counts the store kept as each batch of rows was stored. Neither holds
// personal data: numbers, the format, and the file name the client gave.

// UploadStart is an upload as it begins.
type UploadStart struct {
	ID     string    `json:"id"`             // "up_" + ULID
	Format string    `json:"format"`         // text/csv or application/x-ndjson
	File   string    `json:"file,omitempty"` // the file name the client gave (Content-Disposition), if any
	At     time.Time `json:"at"`
}

// UploadStep is what the rows read since the last batch stored add to an upload's counts.
type UploadStep struct {
	Rows     int // rows read
	Rejected int // rows refused (not stored)
}

// UnfinishedUpload is an upload that did not end complete: still running, interrupted and not
// closed yet (Open), or ended cut short or interrupted with no complete upload after it.
type UnfinishedUpload struct {
	UploadStart
	Open                                 bool
	Rows, Accepted, Duplicates, Rejected int
}

// UploadLedger keeps that bookkeeping (jobs.Store).
type UploadLedger interface {
	// StartUpload records ev (upload.started) and the upload as open, first closing the breach's
	// uploads whose process died. Until stop is called, the upload is kept alive.
	StartUpload(ctx context.Context, breachID string, u UploadStart, ev Event) (stop func(), err error)
	// AddUploadRows is RecipientStore.AddRecipients that also adds the batch and step to the
	// upload's counts, atomically with the rows.
	AddUploadRows(ctx context.Context, breachID, uploadID string, rs []Recipient, step UploadStep) (duplicates []int, err error)
	// FinishUpload closes an open upload: it is UpdateBreach with fn's event (recipients.uploaded),
	// atomically with the closing. complete says the whole file was read and stored.
	FinishUpload(ctx context.Context, breachID, uploadID string, complete bool, fn func(b *Breach) (Event, error)) error
	// UnfinishedUploads lists the breach's uploads that keep the list from being complete.
	UnfinishedUploads(ctx context.Context, breachID string) ([]UnfinishedUpload, error)
}
