package letters

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BatchInfo identifies one print-batch file; it is printed on the cover sheet.
type BatchInfo struct {
	BatchID     string // optional; printed on the cover sheet when given
	BreachID    string
	BreachTitle string
	Number, Of  int // this file is Number of Of (1-based); Of 0: the total is not known
	// CreatedAt, when set, is the creation time written on the cover sheet and into the PDF's
	// metadata instead of the renderer's clock, so a batch downloaded again is byte-identical.
	CreatedAt time.Time
}

// name is how the cover sheet and the PDF title call the file: "Print batch 2 of 3".
func (info BatchInfo) name() string {
	if info.Of <= 0 {
		return fmt.Sprintf("Print batch %d", info.Number)
	}
	return fmt.Sprintf("Print batch %d of %d", info.Number, info.Of)
}

// BatchEntry is one letter printed in a batch file.
type BatchEntry struct {
	NoticeID      string
	FirstPage     int // page of the file the letter starts on (the cover sheet is page 1)
	Pages         int
	Language      string
	FellBack      bool
	ContentSHA256 string // equal to Result.ContentSHA256 of the same letter rendered alone
}

// BatchResult describes one print-batch file.
type BatchResult struct {
	SHA256   string // of the PDF bytes written
	Pages    int    // in the file, cover sheet included
	Letters  []BatchEntry
	Rejected []*FieldError // letters that cannot be printed; they are in the manifest, not the PDF
}

// Batches sorts letters by postal code (letters without one last, ties by notice ID) and splits
// them into print batches of at most MaxPerFile letters. It does not modify letters.
func (r *Renderer) Batches(letters []Letter) [][]Letter {
	sorted := slices.Clone(letters)
	sortByPostalCode(sorted)
	var out [][]Letter
	for len(sorted) > 0 {
		n := min(r.maxPerFile, len(sorted))
		out = append(out, sorted[:n:n])
		sorted = sorted[n:]
	}
	return out
}

func sortByPostalCode(ls []Letter) {
	slices.SortStableFunc(ls, func(a, b Letter) int {
		pa, pb := strings.TrimSpace(a.Addressee.PostalCode), strings.TrimSpace(b.Addressee.PostalCode)
		if (pa == "") != (pb == "") {
			if pa == "" {
				return 1
			}
			return -1
		}
		return cmp.Or(strings.Compare(pa, pb), strings.Compare(a.NoticeID, b.NoticeID))
	})
}

// manifestHeader is the manifest CSV's header row.
var manifestHeader = []string{"batch", "notice_id", "name", "address", "postal_code", "first_page",
	"last_page", "pages", "language", "fell_back", "content_sha256", "error"}

// RenderBatch writes one print-batch file: a cover sheet, then each letter in postal-code order,
// to w, and its manifest CSV (one row per letter, with the page it starts on) to manifest. It
// holds at most MaxPerFile letters. A letter that cannot be printed is left out of the PDF, listed
// in BatchResult.Rejected and in the manifest with its error; it does not stop the batch.
func (r *Renderer) RenderBatch(w, manifest io.Writer, m *Mailing, info BatchInfo, letters []Letter) (BatchResult, error) {
	if len(letters) > r.maxPerFile {
		return BatchResult{}, fmt.Errorf("print batch of %d letters: at most %d per file", len(letters), r.maxPerFile)
	}
	sorted := slices.Clone(letters)
	sortByPostalCode(sorted)

	layouts := make([]*layout, len(sorted))
	var res BatchResult
	page := 2 // after the cover sheet
	for i := range sorted {
		lo, err := r.layoutLetter(m, &sorted[i])
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				return BatchResult{}, err
			}
			res.Rejected = append(res.Rejected, fe)
			continue
		}
		layouts[i] = lo
		res.Letters = append(res.Letters, BatchEntry{NoticeID: sorted[i].NoticeID, FirstPage: page,
			Pages: lo.pages, Language: lo.tmpl.lang, FellBack: lo.fellBack,
			ContentSHA256: lo.contentSHA256()})
		page += lo.pages
	}
	res.Pages = page - 1

	now := info.CreatedAt
	if now.IsZero() {
		now = r.clock()
	}
	cover, err := r.layoutCover(info, now, &res, sorted, layouts)
	if err != nil {
		return BatchResult{}, err
	}
	pdf := r.newDoc(info.name()+" — "+info.BreachTitle, "en", now)
	r.draw(pdf, cover)
	for _, lo := range layouts {
		if lo != nil {
			r.draw(pdf, lo)
		}
	}
	if res.SHA256, err = output(pdf, w); err != nil {
		return BatchResult{}, err
	}
	if err := writeManifest(manifest, info, sorted, layouts, &res); err != nil {
		return BatchResult{}, err
	}
	return res, nil
}

func writeManifest(w io.Writer, info BatchInfo, sorted []Letter, layouts []*layout, res *BatchResult) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(manifestHeader); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	batch := strconv.Itoa(info.Number)
	entry, rejected := 0, 0
	row := make([]string, len(manifestHeader))
	for i := range sorted {
		a := &sorted[i].Addressee
		clear(row)
		row[0], row[1], row[2] = batch, sorted[i].NoticeID, strings.Join(a.Name, " / ")
		row[3], row[4] = strings.Join(a.Address, ", "), a.PostalCode
		if layouts[i] != nil {
			e := res.Letters[entry]
			entry++
			row[5], row[6], row[7] = strconv.Itoa(e.FirstPage), strconv.Itoa(e.FirstPage+e.Pages-1), strconv.Itoa(e.Pages)
			row[8], row[9], row[10] = e.Language, strconv.FormatBool(e.FellBack), e.ContentSHA256
		} else {
			row[11] = res.Rejected[rejected].Error()
			rejected++
		}
		for j := range row {
			row[j] = neutralize(row[j])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write manifest: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// neutralize keeps a cell from being read as a formula by a spreadsheet: a cell beginning with
// = + - @ (or a tab or carriage return, which some spreadsheets skip) gets a leading apostrophe.
func neutralize(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// layoutCover lays out the cover sheet of a print batch: what a clerk checks before printing.
func (r *Renderer) layoutCover(info BatchInfo, now time.Time, res *BatchResult, sorted []Letter, layouts []*layout) (*layout, error) {
	ck := checker{face: r.regular}
	title, err := ck.clean("batch.breach_title", strings.TrimSpace(info.BreachTitle), false)
	if err != nil {
		return nil, err
	}
	id, err := ck.clean("batch.breach_id", strings.TrimSpace(info.BreachID), false)
	if err != nil {
		return nil, err
	}
	batchID, err := ck.clean("batch.id", strings.TrimSpace(info.BatchID), false)
	if err != nil {
		return nil, err
	}
	lo := &layout{pages: 1, tmpl: english}
	y := 1.25 * inch
	add := func(b bool, size float64, s string) {
		f := r.regular
		if b {
			f = r.bold
		}
		lines, _ := f.wrap(s, size, textWidth)
		for _, l := range lines {
			lo.ops = append(lo.ops, op{page: 1, bold: b, size: size, x: marginL, y: y, text: l})
			y += size * 1.4
		}
	}
	add(true, 22, info.name())
	add(false, 12, "Cover sheet — do not mail this page.")
	if batchID != "" {
		add(false, 11, "Batch "+batchID)
	}
	y += 12
	add(true, 11, "Breach")
	add(false, 11, title+" ("+id+")")
	y += 8
	n := len(res.Letters)
	add(true, 11, "Letters in this file")
	add(false, 11, fmt.Sprintf("%d letters, sorted by postal code", n))
	if n > 0 {
		first, last := res.Letters[0], res.Letters[n-1]
		add(false, 11, fmt.Sprintf("Pages %d–%d of this file (%d pages with this cover sheet)",
			first.FirstPage, last.FirstPage+last.Pages-1, res.Pages))
		var codes []string
		for i, lo := range layouts {
			if lo != nil {
				codes = append(codes, strings.TrimSpace(sorted[i].Addressee.PostalCode))
			}
		}
		add(false, 11, fmt.Sprintf("Postal codes %s to %s", cmp.Or(codes[0], "(none)"), cmp.Or(codes[len(codes)-1], "(none)")))
		add(false, 11, fmt.Sprintf("Notices %s to %s", first.NoticeID, last.NoticeID))
		langs := map[string]int{}
		fell := 0
		for _, e := range res.Letters {
			langs[e.Language]++
			if e.FellBack {
				fell++
			}
		}
		s := fmt.Sprintf("English %d, Spanish %d", langs["en"], langs["es"])
		if fell > 0 {
			s += fmt.Sprintf(" (%d in English because their language has no template)", fell)
		}
		add(false, 11, s)
	} else {
		add(false, 11, "No pages: no letter in this file could be printed.")
	}
	if k := len(res.Rejected); k > 0 {
		y += 8
		add(true, 11, "Not printed")
		add(false, 11, fmt.Sprintf("%d letters could not be printed; the manifest lists each with the reason.", k))
	}
	y += 8
	add(true, 11, "Generated")
	add(false, 11, now.UTC().Format("2006-01-02 15:04:05 UTC"))
	return lo, nil
}
