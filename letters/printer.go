package letters

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

// Printer is the breach.LetterPrinter of breachd: it turns notices into letters and renders them
// with a Renderer. Create it with NewPrinter; it is safe for concurrent use.
//
// Every letter hash it reports — PrintResult.Letters and PrintLetter's result — is the letter's
// ContentSHA256 (see Result), not the SHA-256 of a PDF file. A letter inside a batch PDF shares no
// file bytes with the same letter printed alone (the file around it, the page numbers of the
// batch and the creation date in the metadata all differ), so only a hash of what the letter
// itself draws can prove a reprint identical to the letter that was mailed. PrintResult.SHA256 is
// the SHA-256 of the batch PDF bytes as written.
type Printer struct {
	r      *Renderer
	sender Sender
}

var _ breach.LetterPrinter = (*Printer)(nil)

// NewPrinter returns a Printer that renders with r and signs every letter from sender.
func NewPrinter(r *Renderer, sender Sender) *Printer {
	return &Printer{r: r, sender: sender}
}

// LetterDate is the date printed on the letters of a print batch: the day the batch was created,
// in the breach's time zone (the renderer's clock's day when the batch has no creation time).
// PrintBatch prints it; pass it to PrintLetter to reprint one of the batch's letters identically.
func (p *Printer) LetterDate(b *breach.Breach, batch breach.PrintBatch) breach.Date {
	at := batch.CreatedAt
	if at.IsZero() {
		at = p.r.clock()
	}
	return breach.DateOf(at, b.Determination.Location())
}

// PrintBatch writes one print batch: the PDF (a cover sheet, then the letters sorted by ZIP code)
// to w and the manifest CSV (one row per notice, printed or not) to manifest. The letters are
// dated LetterDate(b, batch).
//
// A notice whose letter cannot be printed (a name in a script the font cannot draw, an address
// too long for the envelope window) does not stop the batch: it is in PrintResult.Rejected with
// the reason, and in the manifest. A notice that is not a letter of breach b is an EINVALID error
// naming it, and nothing is written. More notices than the renderer's MaxPerFile is an error too.
// Errors from w and manifest and the context's error are returned wrapped.
func (p *Printer) PrintBatch(ctx context.Context, w, manifest io.Writer, b *breach.Breach, batch breach.PrintBatch, notices []breach.Notice) (breach.PrintResult, error) {
	if b == nil {
		return breach.PrintResult{}, breach.Errorf(breach.EINVALID, "print batch %s: no breach", batch.ID)
	}
	if batch.BreachID != "" && batch.BreachID != b.ID {
		return breach.PrintResult{}, breach.Errorf(breach.EINVALID, "print batch %s belongs to breach %s, not %s",
			batch.ID, batch.BreachID, b.ID)
	}
	date := p.LetterDate(b, batch)
	ls := make([]Letter, len(notices))
	seen := make(map[string]bool, len(notices))
	for i := range notices {
		n := &notices[i]
		if err := checkLetterNotice(b, n); err != nil {
			return breach.PrintResult{}, fmt.Errorf("print batch %s: %w", batch.ID, err)
		}
		if seen[n.ID] {
			return breach.PrintResult{}, breach.Errorf(breach.EINVALID, "print batch %s: notice %s is listed twice", batch.ID, n.ID)
		}
		seen[n.ID] = true
		ls[i] = letterFor(n, date)
	}
	if err := ctx.Err(); err != nil {
		return breach.PrintResult{}, fmt.Errorf("print batch %s: %w", batch.ID, err)
	}
	info := BatchInfo{BatchID: batch.ID, BreachID: b.ID, BreachTitle: b.Determination.Title, Number: batch.Number, CreatedAt: batch.CreatedAt}
	m := p.mailing(b)
	res, err := p.r.RenderBatch(ctxWriter{ctx, w}, manifest, m, info, ls)
	if err != nil {
		return breach.PrintResult{}, fmt.Errorf("print batch %s: %w", batch.ID, err)
	}
	out := breach.PrintResult{Pages: res.Pages, SHA256: res.SHA256,
		Letters: make(map[string]string, len(res.Letters)), Rejected: make(map[string]string, len(res.Rejected))}
	for _, e := range res.Letters {
		out.Letters[e.NoticeID] = e.ContentSHA256
	}
	for _, fe := range res.Rejected {
		out.Rejected[fe.NoticeID] = reason(fe)
	}
	return out, nil
}

// PrintLetter writes one notice's letter alone, dated date, and returns its ContentSHA256: for the
// same notice, breach and date it equals PrintResult.Letters[n.ID] of the batch that printed it
// (see LetterDate). A letter that cannot be printed is a *FieldError (EINVALID) and nothing is
// written; a notice that is not a letter of breach b is an EINVALID error naming it.
func (p *Printer) PrintLetter(ctx context.Context, w io.Writer, b *breach.Breach, n breach.Notice, date breach.Date) (string, error) {
	if b == nil {
		return "", breach.Errorf(breach.EINVALID, "print notice %s: no breach", n.ID)
	}
	if err := checkLetterNotice(b, &n); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("print notice %s: %w", n.ID, err)
	}
	res, err := p.r.RenderLetter(ctxWriter{ctx, w}, p.mailing(b), letterFor(&n, date))
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return "", err // names the notice already
		}
		return "", fmt.Errorf("print notice %s: %w", n.ID, err)
	}
	return res.ContentSHA256, nil
}

func (p *Printer) mailing(b *breach.Breach) *Mailing {
	return &Mailing{Sender: p.sender, Content: NewContent(b.Determination)}
}

// checkLetterNotice refuses a notice that is not a letter of breach b.
func checkLetterNotice(b *breach.Breach, n *breach.Notice) error {
	if n.Channel != breach.MethodLetter {
		return breach.Errorf(breach.EINVALID, "notice %s is a %s notice, not a letter", n.ID, cmp.Or(string(n.Channel), "channel-less"))
	}
	if n.BreachID != "" && n.BreachID != b.ID {
		return breach.Errorf(breach.EINVALID, "notice %s belongs to breach %s, not %s", n.ID, n.BreachID, b.ID)
	}
	return nil
}

// guardianPrefix is how package rules names a guardian it does not know.
const guardianPrefix = rules.GuardianPrefix

// letterFor maps a notice to its letter: the addressee's name lines, the address lines ending in
// "City ST ZIP", and for a notice to a parent or guardian every child it covers.
func letterFor(n *breach.Notice, date breach.Date) Letter {
	name, children := addressee(n)
	var lines []string
	for _, s := range []string{n.Address.Line1, n.Address.Line2} {
		if s = strings.TrimSpace(s); s != "" {
			lines = append(lines, s)
		}
	}
	var last []string
	for _, s := range []string{n.Address.City, n.Address.State, n.Address.PostalCode} {
		if s = strings.TrimSpace(s); s != "" {
			last = append(last, s)
		}
	}
	if len(last) > 0 {
		lines = append(lines, strings.Join(last, " "))
	}
	return Letter{NoticeID: n.ID, Date: date, Addressee: Addressee{
		Name: name, Address: lines, PostalCode: strings.TrimSpace(n.Address.PostalCode),
		Language: n.Language, Minor: n.ToGuardian, Children: children,
	}}
}

// addressee returns the name lines of a notice's addressee and the children a guardian notice
// covers. A guardian named "Parent or Guardian of X" gets that phrase on a line of its own; when
// such a notice lists no children, X is the child (one household, one child).
func addressee(n *breach.Notice) (name, children []string) {
	full := strings.TrimSpace(n.AddresseeName)
	children = n.Children
	if !n.ToGuardian {
		return []string{full}, nil
	}
	if len(full) >= len(guardianPrefix) && strings.EqualFold(full[:len(guardianPrefix)], guardianPrefix) {
		child := strings.TrimSpace(full[len(guardianPrefix):])
		if child == "" {
			return []string{guardianPrefix}, children
		}
		if len(children) == 0 {
			children = []string{child}
		}
		return []string{guardianPrefix, child}, children
	}
	if full == "" && len(children) > 0 {
		return []string{guardianPrefix, strings.Join(children, ", ")}, children
	}
	return []string{full}, children
}

// reason is a rejected letter's error without the notice ID, which keys it already.
func reason(fe *FieldError) string {
	c := *fe
	c.NoticeID = ""
	return c.Error()
}

// ctxWriter stops writing once ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(b)
}
