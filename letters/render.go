package letters

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// Options configure a Renderer.
type Options struct {
	// Clock gives the creation date written into every PDF's metadata (in UTC). Default time.Now;
	// inject a fixed clock to reprint a letter byte for byte.
	Clock func() time.Time
	// MaxPerFile is the most letters one print-batch file holds. Default 1,000.
	MaxPerFile int
	// MaxPages is the most pages one letter may take; a longer letter is refused with
	// ErrDoesNotFit. Default 2.
	MaxPages int
	// EmbedBold embeds DejaVu Sans Bold for headings. Default false: headings are the regular face
	// drawn with a thin outline (synthetic bold), because fpdf parses and subsets every embedded
	// font again for each document, which makes a second font cost about 2 ms per one-letter PDF
	// (BenchmarkLetter/bold). Batches amortise the cost, so EmbedBold suits batch-only renderers.
	EmbedBold bool
}

// Renderer renders letters and print batches. Create it once with NewRenderer: it prepares the
// embedded fonts once. It is safe for concurrent use.
type Renderer struct {
	regular, bold *face // bold == regular: synthetic bold (see Options.EmbedBold)
	clock         func() time.Time
	maxPerFile    int
	maxPages      int
}

const fontFamily = "DejaVuSans"

// NewRenderer prepares the fonts and returns a Renderer.
func NewRenderer(o Options) (*Renderer, error) {
	r := &Renderer{clock: o.Clock, maxPerFile: o.MaxPerFile, maxPages: o.MaxPages}
	if r.clock == nil {
		r.clock = time.Now
	}
	if r.maxPerFile <= 0 {
		r.maxPerFile = 1000
	}
	if r.maxPages <= 0 {
		r.maxPages = 2
	}
	var err error
	if r.regular, err = loadFace("DejaVuSans.ttf"); err != nil {
		return nil, err
	}
	r.bold = r.regular
	if o.EmbedBold {
		if r.bold, err = loadFace("DejaVuSans-Bold.ttf"); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// MaxPerFile returns the most letters one print-batch file holds.
func (r *Renderer) MaxPerFile() int { return r.maxPerFile }

// newDoc starts a PDF with the fonts loaded and the metadata that makes it reproducible: a
// creation date from the clock, sorted catalogs, no random identifiers (fpdf writes none).
func (r *Renderer) newDoc(title, lang string, now time.Time) *fpdf.Fpdf {
	pdf := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "P", UnitStr: "pt", SizeStr: "Letter"})
	now = now.UTC().Truncate(time.Second)
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(now)
	pdf.SetModificationDate(now)
	pdf.SetProducer("breachd letters", false)
	pdf.SetCreator("breachd", false)
	pdf.SetTitle(title, true)
	pdf.SetLang(lang)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCompression(false)
	pdf.SetMargins(0, 0, 0)
	// fpdf parses a font once per document; the faces were cut to the Latin repertoire in
	// NewRenderer so that this parse is small (see latinBlocks).
	pdf.AddUTF8FontFromBytes(fontFamily, "", r.regular.ttf)
	if r.bold != r.regular {
		pdf.AddUTF8FontFromBytes(fontFamily, "B", r.bold.ttf)
	}
	pdf.SetLineWidth(ruleWidth)
	return pdf
}

const (
	ruleWidth = 0.5
	// syntheticBold is the outline width of synthetic bold, as a fraction of the type size: at
	// 10 pt it thickens each stem by 0.5 pt, about what DejaVu Sans Bold adds.
	syntheticBold = 0.05
)

// draw adds the letter's pages to pdf.
func (r *Renderer) draw(pdf *fpdf.Fpdf, lo *layout) {
	synthetic := r.bold == r.regular
	for p := 1; p <= lo.pages; p++ {
		pdf.AddPage()
		for i := range lo.ops {
			o := &lo.ops[i]
			if o.page != p {
				continue
			}
			if o.line {
				pdf.Line(o.x, o.y, o.x2, o.y2)
				continue
			}
			switch {
			case !o.bold:
				pdf.SetFont(fontFamily, "", o.size)
				pdf.Text(o.x, o.y, o.text)
			case synthetic:
				pdf.SetFont(fontFamily, "", o.size)
				pdf.SetLineWidth(o.size * syntheticBold)
				pdf.SetTextRenderingMode(2) // fill, then stroke the outline
				pdf.Text(o.x, o.y, o.text)
				pdf.SetTextRenderingMode(0)
				pdf.SetLineWidth(ruleWidth)
			default:
				pdf.SetFont(fontFamily, "B", o.size)
				pdf.Text(o.x, o.y, o.text)
			}
		}
	}
}

func output(pdf *fpdf.Fpdf, w io.Writer) (string, error) {
	if err := pdf.Error(); err != nil {
		return "", fmt.Errorf("render pdf: %w", err)
	}
	// The digest is of the bytes as they are written: no second pass over a buffered copy.
	h := sha256.New()
	if err := pdf.Output(io.MultiWriter(h, w)); err != nil {
		return "", fmt.Errorf("write pdf: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// RenderLetter writes one letter as a PDF to w. A letter that cannot be printed returns a
// *FieldError and writes nothing; an error from w is returned wrapped.
func (r *Renderer) RenderLetter(w io.Writer, m *Mailing, l Letter) (Result, error) {
	lo, err := r.layoutLetter(m, &l)
	if err != nil {
		return Result{}, err
	}
	pdf := r.newDoc(lo.title, lo.tmpl.lang, r.clock())
	r.draw(pdf, lo)
	sum, err := output(pdf, w)
	if err != nil {
		return Result{}, err
	}
	return Result{SHA256: sum, ContentSHA256: lo.contentSHA256(), Pages: lo.pages, Language: lo.tmpl.lang,
		FellBack: lo.fellBack}, nil
}
