package letters

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
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
	cjk, cjkFont, err := loadCJK()
	if err != nil {
		return nil, err
	}
	if r.regular, err = loadFace("DejaVuSans.ttf", "", cjk, cjkFont); err != nil {
		return nil, err
	}
	r.bold = r.regular
	if o.EmbedBold {
		if r.bold, err = loadFace("DejaVuSans-Bold.ttf", "B", cjk, cjkFont); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// MaxPerFile returns the most letters one print-batch file holds.
func (r *Renderer) MaxPerFile() int { return r.maxPerFile }

// doc is one PDF being made: the layouts it will hold are collected first (draw), and drawn when
// it is written (output), because which fonts it embeds depends on every character it prints.
type doc struct {
	r   *Renderer
	pdf *fpdf.Fpdf
	los []*layout
}

// newDoc starts a PDF with the metadata that makes it reproducible: a creation date from the
// clock, sorted catalogs, no random identifiers (fpdf writes none).
func (r *Renderer) newDoc(title, lang string, now time.Time) *doc {
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
	pdf.SetLineWidth(ruleWidth)
	return &doc{r: r, pdf: pdf}
}

const (
	ruleWidth = 0.5
	// syntheticBold is the outline width of synthetic bold, as a fraction of the type size: at
	// 10 pt it thickens each stem by 0.5 pt, about what DejaVu Sans Bold adds.
	syntheticBold = 0.05
)

// draw adds the letter's pages to the document.
func (r *Renderer) draw(d *doc, lo *layout) { d.los = append(d.los, lo) }

// asciiOnly reports whether s is printable ASCII, which the first font of every face draws as it
// is: no fallback, no reordering.
func asciiOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// faceOf returns the face an op is measured and drawn with.
func (r *Renderer) faceOf(o *op) *face {
	if o.bold {
		return r.bold
	}
	return r.regular
}

// fonts registers the fonts the document's text needs with fpdf: DejaVu Sans's Latin cut always
// (regular, and bold when embedded), its other scripts only when a character needs them, and the
// CJK font only when a character needs it, cut to the characters printed.
func (d *doc) fonts() {
	r := d.r
	used := map[*font]bool{}
	var cjk []rune
	seen := map[rune]bool{}
	for _, lo := range d.los {
		for i := range lo.ops {
			o := &lo.ops[i]
			if o.line || asciiOnly(o.text) {
				continue
			}
			f := r.faceOf(o)
			for _, c := range o.text {
				fnt := f.fontOf(c)
				if fnt == nil || used[fnt] && !fnt.perDocument {
					continue
				}
				used[fnt] = true
				if fnt.perDocument && !seen[c] {
					seen[c] = true
					cjk = append(cjk, c)
				}
			}
		}
	}
	faces := []*face{r.regular}
	if r.bold != r.regular {
		faces = append(faces, r.bold)
	}
	added := map[*font]bool{}
	for i := range 2 { // the faces' fonts in order, so that the bytes do not depend on map order
		for _, f := range faces {
			if i >= len(f.fonts) {
				continue
			}
			fnt := f.fonts[i]
			if added[fnt] || i > 0 && !used[fnt] {
				continue
			}
			added[fnt] = true
			d.pdf.AddUTF8FontFromBytes(fnt.family, fnt.style, fnt.ttf)
		}
	}
	if len(cjk) > 0 {
		// The CJK font maps ~33,000 characters: fpdf would parse all of them for this document.
		// Cut to what the document prints, it parses in a fraction of the time and embeds the
		// same glyphs.
		slices.Sort(cjk)
		fnt := r.regular.fontOf(cjk[0])
		d.pdf.AddUTF8FontFromBytes(fnt.family, fnt.style, fpdf.UTF8CutFont(fnt.ttf, string(cjk)))
	}
}

// render registers the fonts and draws every layout's pages.
func (d *doc) render() {
	d.fonts()
	for _, lo := range d.los {
		d.drawLayout(lo)
	}
}

func (d *doc) drawLayout(lo *layout) {
	pdf := d.pdf
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
			f := d.r.faceOf(o)
			if asciiOnly(o.text) {
				d.text(f.fonts[0], o, o.x, o.text)
				continue
			}
			// One run per font, left to right as the line is seen; each run is placed where the
			// runs before it end, measured with the fonts they are drawn in.
			vis := visual(o.text)
			x := o.x
			start := 0
			var cur *font
			for j, c := range vis {
				fnt := f.fontOf(c)
				if fnt == nil {
					fnt = f.fonts[0]
				}
				if cur != nil && fnt != cur {
					d.text(cur, o, x, vis[start:j])
					x += f.width(vis[start:j], o.size)
					start = j
				}
				cur = fnt
			}
			if cur != nil {
				d.text(cur, o, x, vis[start:])
			}
		}
	}
}

// text draws s in fnt at x on o's baseline. A bold op in a font without a bold cut is drawn
// with synthetic bold: the regular outline filled, then stroked.
func (d *doc) text(fnt *font, o *op, x float64, s string) {
	pdf := d.pdf
	pdf.SetFont(fnt.family, fnt.style, o.size)
	if !o.bold || fnt.style == "B" {
		pdf.Text(x, o.y, s)
		return
	}
	pdf.SetLineWidth(o.size * syntheticBold)
	pdf.SetTextRenderingMode(2) // fill, then stroke the outline
	pdf.Text(x, o.y, s)
	pdf.SetTextRenderingMode(0)
	pdf.SetLineWidth(ruleWidth)
}

func output(d *doc, w io.Writer) (string, error) {
	d.render()
	pdf := d.pdf
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
