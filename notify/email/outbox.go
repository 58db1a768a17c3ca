package email

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	breach "github.com/breachd/breachd"
)

// OutboxConfig configures an Outbox. NewOutbox validates it.
type OutboxConfig struct {
	Dir      string // required; created (mode 0700) if missing
	From     string // required: the bare address notices come from
	FromName string // optional display name
}

// Outbox is the offline email channel: it writes each message into a directory as an RFC 5322 file
// named <NoticeID>.eml, the very message SMTP would send, for a school without an SMTP server: staff
// open or import the files in the school's own mail system. Writing the same notice again replaces
// its file, so a retry after a crash leaves one file per notice. Files are mode 0600: they hold
// personal information.
type Outbox struct {
	sender
	dir string
}

// NewOutbox validates cfg, creates the directory if needed and returns an Outbox. An invalid cfg
// gives an EINVALID *breach.Error naming every bad field.
func NewOutbox(cfg OutboxConfig) (*Outbox, error) {
	var errs []breach.FieldError
	if strings.TrimSpace(cfg.Dir) == "" {
		errs = append(errs, breach.FieldError{Field: "Dir", Reason: "is required"})
	}
	snd, fromErrs := newSender("From", cfg.From, cfg.FromName)
	errs = append(errs, fromErrs...)
	if err := configError(errs); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create outbox %s: %w", cfg.Dir, err)
	}
	return &Outbox{sender: snd, dir: cfg.Dir}, nil
}

// Dir returns the directory the outbox writes to.
func (o *Outbox) Dir() string { return o.dir }

// Path returns the file a notice is written to.
func (o *Outbox) Path(noticeID string) string {
	return filepath.Join(o.dir, noticeID+".eml")
}

// Send writes one file per message and returns one error per message: nil when the file is in
// place, a permanent *breach.SendError for a message that cannot be built, a temporary one when the
// file cannot be written. Each file appears whole or not at all (a temporary file is renamed over
// it). The slice-level error is temporary: ctx was done before anything was written, or the
// directory could not be synced, so that files written may not survive a crash.
func (o *Outbox) Send(ctx context.Context, msgs []breach.EmailMessage) ([]error, error) {
	return o.SendEach(ctx, msgs, nil, nil)
}

// SendEach is Send with a step around each message, as email.SMTP.SendEach has: before(i), when
// given, runs right before message i's file is written; if it returns an error, neither message i
// nor any after it is written (they fail temporarily, "not sent"). after(i, r, err), when given,
// runs once message i's file is in place and durable (the directory is synced before each after,
// not once at the end) or could not be written; r is the outbox's receipt for a written message:
// its Message-ID, and no reply or queue ID, for no server answered (an auditor sees them as not
// recorded). The zero EmailReceipt for a message not written.
func (o *Outbox) SendEach(ctx context.Context, msgs []breach.EmailMessage, before func(i int) error,
	after func(i int, r breach.EmailReceipt, err error)) ([]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, temporary("canceled before writing", err)
	}
	errs := make([]error, len(msgs))
	written := 0 // files renamed in place since the directory was last synced
	gate := batchGate{before: before}
	for i, em := range msgs {
		if ctx.Err() != nil {
			errs[i] = temporary("canceled before writing", ctx.Err())
			continue
		}
		if err := gate.pass(i); err != nil {
			errs[i] = err
			continue
		}
		if err := o.write(em); err != nil {
			errs[i] = err
			if after != nil {
				after(i, breach.EmailReceipt{}, err)
			}
			continue
		}
		written++
		if after == nil {
			continue
		}
		// The caller records the message as sent on after: its file must survive a crash first.
		if err := syncDir(o.dir); err != nil {
			return nil, temporary("cannot sync outbox directory", err)
		}
		written = 0
		after(i, breach.EmailReceipt{MessageID: MessageID(em.NoticeID, o.from.Address), Outbox: true}, nil)
	}
	if written > 0 {
		if err := syncDir(o.dir); err != nil {
			return nil, temporary("cannot sync outbox directory", err)
		}
	}
	return errs, nil
}

func (o *Outbox) write(em breach.EmailMessage) error {
	m, err := o.build(em)
	if err != nil {
		return err
	}
	// The temporary name starts with a dot so that whoever collects *.eml never sees a partial file.
	f, err := os.CreateTemp(o.dir, "."+em.NoticeID+".*.tmp")
	if err != nil {
		return temporary("cannot create outbox file", err)
	}
	tmp := f.Name()
	w := bufio.NewWriter(f)
	_, err = m.WriteTo(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, o.Path(em.NoticeID))
	}
	if err != nil {
		os.Remove(tmp)
		return temporary("cannot write outbox file", err)
	}
	return nil
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
