package api

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	breach "github.com/breachd/breachd"
)

// Uploads of affected people are read row by row: a file of a million rows is never held in
// memory. Both formats produce rawRows (column → text) that one function turns into a Recipient.

// maxLineBytes bounds one NDJSON line or CSV record; a longer one is a bad row, not a crash.
const maxLineBytes = 64 << 10

// rawRow is one uploaded row: its number (1 = the first data row), its columns as text, and any
// problem found while reading it.
type rawRow struct {
	n        int
	cols     map[string]string
	problems []breach.FieldError
}

// rowReader yields rows until io.EOF. Any other error ends the upload (the body could not be read).
type rowReader interface {
	next() (rawRow, error)
}

// The header row is bounded: a legitimate one names at most the 17 known columns in well under
// 1 KiB, and each of its problems costs a line of the 422, so an unbounded header could make the
// service read and answer gigabytes.
const (
	maxHeaderBytes   = 64 << 10
	maxHeaderColumns = 100
	maxNameRunes     = 64 // of a column or key named back in a problem
)

// errHeaderTooLong is what headerLimit returns once the header row has read maxHeaderBytes.
var errHeaderTooLong = errors.New("header row too long")

// headerLimit passes at most maxHeaderBytes to the CSV reader until lift is called, so a header row
// of any length costs at most that much memory.
type headerLimit struct {
	r      io.Reader
	n      int
	lifted bool
}

func (h *headerLimit) Read(p []byte) (int, error) {
	if h.lifted {
		return h.r.Read(p)
	}
	if h.n >= maxHeaderBytes {
		return 0, errHeaderTooLong
	}
	if rest := maxHeaderBytes - h.n; len(p) > rest {
		p = p[:rest]
	}
	n, err := h.r.Read(p)
	h.n += n
	return n, err
}

// shortName cuts a name the uploader wrote to maxNameRunes for quoting it back in a problem.
func shortName(s string) string {
	if utf8.RuneCountInString(s) <= maxNameRunes {
		return s
	}
	return string([]rune(s)[:maxNameRunes]) + "…"
}

// newCSVRows reads the header row and refuses an upload whose columns are unknown, repeated or
// lack external_id, before any row is stored.
func newCSVRows(r io.Reader) (rowReader, error) {
	limit := &headerLimit{r: r}
	cr := csv.NewReader(bufio.NewReaderSize(limit, 256<<10))
	cr.FieldsPerRecord = -1 // a short or long row is that row's problem, not the file's
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, breach.Errorf(breach.EMALFORMED, "the upload is empty: the first line must be the header row")
	case errors.Is(err, errHeaderTooLong):
		return nil, breach.InvalidFields([]breach.FieldError{{Field: "header",
			Reason: fmt.Sprintf("is longer than %d KiB: the header row names the columns (known: %s)", maxHeaderBytes>>10, strings.Join(breach.RecipientFields, ", "))}})
	case err != nil:
		return nil, readError(err)
	}
	limit.lifted = true
	if len(header) > maxHeaderColumns {
		return nil, breach.InvalidFields([]breach.FieldError{{Field: "header",
			Reason: fmt.Sprintf("has %d columns; at most %d are read (known: %s)", len(header), maxHeaderColumns, strings.Join(breach.RecipientFields, ", "))}})
	}
	cols := make([]string, len(header))
	var fe []breach.FieldError
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // the byte-order mark spreadsheet programs write
		}
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case !slices.Contains(breach.RecipientFields, h):
			fe = append(fe, breach.FieldError{Field: "header", Reason: fmt.Sprintf("column %d %q is not a known column (known: %s)", i+1, shortName(h), strings.Join(breach.RecipientFields, ", "))})
		case slices.Contains(cols[:i], h):
			fe = append(fe, breach.FieldError{Field: "header", Reason: fmt.Sprintf("column %q appears twice", h)})
		}
		cols[i] = h
	}
	if !slices.Contains(cols, "external_id") {
		fe = append(fe, breach.FieldError{Field: "header", Reason: "the external_id column is required"})
	}
	if err := breach.InvalidFields(fe); err != nil {
		return nil, err
	}
	return &csvRows{r: cr, header: cols}, nil
}

type csvRows struct {
	r      *csv.Reader
	header []string
	n      int
}

func (c *csvRows) next() (rawRow, error) {
	rec, err := c.r.Read()
	if errors.Is(err, io.EOF) {
		return rawRow{}, io.EOF
	}
	c.n++
	row := rawRow{n: c.n, cols: make(map[string]string, len(c.header))}
	var pe *csv.ParseError
	if err != nil {
		if !errors.As(err, &pe) {
			return rawRow{}, readError(err)
		}
		row.problems = append(row.problems, breach.FieldError{Field: "row", Reason: "is not valid CSV: " + pe.Err.Error()})
		return row, nil
	}
	if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" && len(c.header) > 1 {
		c.n-- // a blank line is not a row
		return c.next()
	}
	if len(rec) != len(c.header) {
		row.problems = append(row.problems, breach.FieldError{Field: "row",
			Reason: fmt.Sprintf("has %d columns; the header has %d", len(rec), len(c.header))})
		return row, nil
	}
	for i, v := range rec {
		row.cols[c.header[i]] = v
	}
	return row, nil
}

// newNDJSONRows reads one JSON object per line; blank lines are skipped.
func newNDJSONRows(r io.Reader) rowReader {
	return &ndjsonRows{r: bufio.NewReaderSize(r, 256<<10)}
}

type ndjsonRows struct {
	r *bufio.Reader
	n int
}

func (j *ndjsonRows) next() (rawRow, error) {
	for {
		line, tooLong, err := j.readLine()
		if err != nil && (!errors.Is(err, io.EOF) || (len(line) == 0 && !tooLong)) {
			if errors.Is(err, io.EOF) {
				return rawRow{}, io.EOF
			}
			return rawRow{}, readError(err)
		}
		if !tooLong && len(bytes.TrimSpace(line)) == 0 {
			if errors.Is(err, io.EOF) {
				return rawRow{}, io.EOF
			}
			continue
		}
		j.n++
		row := rawRow{n: j.n, cols: map[string]string{}}
		if tooLong {
			row.problems = append(row.problems, breach.FieldError{Field: "row", Reason: "is longer than 64 KiB"})
			return row, nil
		}
		row.problems = decodeNDJSON(line, row.cols)
		return row, nil
	}
}

// readLine returns the next line without its newline; a line over maxLineBytes is consumed and
// reported as too long rather than read into memory.
func (j *ndjsonRows) readLine() (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := j.r.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > maxLineBytes {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(buf, "\r\n"), tooLong, err
	}
}

func decodeNDJSON(line []byte, cols map[string]string) []breach.FieldError {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return []breach.FieldError{{Field: "row", Reason: "is not a JSON object: " + err.Error()}}
	}
	var fe []breach.FieldError
	for k, v := range obj {
		if !slices.Contains(breach.RecipientFields, k) {
			if k == "" {
				k = `""` // the problem must name something the uploader can find in the line
			}
			k = shortName(strings.ToValidUTF8(k, "\ufffd"))
			fe = append(fe, breach.FieldError{Field: k, Reason: "is not a known field"})
			continue
		}
		var s string
		var b bool
		switch {
		case !utf8.Valid(v):
			// encoding/json would turn the bytes into U+FFFD without a word, and a name would be
			// stored garbled: refuse the field, as a CSV row with such bytes is refused.
			fe = append(fe, breach.FieldError{Field: k, Reason: "is not valid UTF-8 text (save the file as UTF-8)"})
		case string(v) == "null":
		case json.Unmarshal(v, &s) == nil:
			cols[k] = s
		case json.Unmarshal(v, &b) == nil:
			cols[k] = fmt.Sprint(b)
		default:
			reason := "must be a string"
			if k == "postal_code" {
				reason = "must be a string (a ZIP code keeps its leading zeros)"
			}
			fe = append(fe, breach.FieldError{Field: k, Reason: reason})
		}
	}
	slices.SortFunc(fe, func(a, b breach.FieldError) int { return strings.Compare(a.Field, b.Field) })
	return fe
}

func readError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err // the caller reports how far the upload got
	}
	// The cause stays in the chain: a stall or a client gone is told apart from a malformed
	// body by uploadFailed.
	return fmt.Errorf("%w: %w", breach.Errorf(breach.EMALFORMED, "the upload could not be read: %s", err.Error()), err)
}

// toRecipient turns a row's columns into a recipient and every problem with them.
func toRecipient(row rawRow) (breach.Recipient, []breach.FieldError) {
	fe := row.problems
	col := func(name string) string {
		v := strings.TrimSpace(row.cols[name])
		if !utf8.ValidString(v) {
			fe = append(fe, breach.FieldError{Field: name, Reason: "is not valid UTF-8 text (save the file as UTF-8)"})
			return ""
		}
		return v
	}
	boolean := func(name string) *bool {
		v := strings.ToLower(col(name))
		var b bool
		switch v {
		case "":
			return nil
		case "true", "yes", "y", "1":
			b = true
		case "false", "no", "n", "0":
			b = false
		default:
			fe = append(fe, breach.FieldError{Field: name, Reason: "must be true or false"})
			return nil
		}
		return &b
	}
	r := breach.Recipient{
		Row:        row.n,
		ExternalID: col("external_id"),
		FirstName:  col("first_name"),
		LastName:   col("last_name"),
		Address: breach.PostalAddress{
			Line1:      col("address_line1"),
			Line2:      col("address_line2"),
			City:       col("city"),
			State:      strings.ToUpper(col("state")),
			PostalCode: col("postal_code"),
		},
		Email:            strings.ToLower(col("email")),
		Phone:            normalizePhone(col("phone")),
		PreferredChannel: breach.PreferredChannel(strings.ToLower(col("preferred_channel"))),
		Language:         strings.ToLower(col("language")),
		MinorFlag:        boolean("minor"),
		Guardian: breach.Guardian{
			Name:  col("guardian_name"),
			Email: strings.ToLower(col("guardian_email")),
			Phone: normalizePhone(col("guardian_phone")),
		},
	}
	if b := boolean("email_current"); b != nil {
		r.EmailCurrent = *b
	}
	if r.PreferredChannel == "" {
		r.PreferredChannel = breach.PreferMail // written notice is the default (LAW.md §3)
	}
	if r.Language == "" {
		r.Language = "en"
	}
	if dob := col("date_of_birth"); dob != "" {
		d, err := breach.ParseDate(dob)
		if err != nil {
			fe = append(fe, breach.FieldError{Field: "date_of_birth", Reason: err.Error()})
		}
		r.DateOfBirth = d
	}
	if len(row.problems) == 0 {
		fe = append(fe, r.Validate()...)
	}
	return r, fe
}

// normalizePhone writes a US number given with punctuation, e.g. "(317) 555-0111", as E.164
// (+13175550111). Anything else is left as given for validation to judge.
func normalizePhone(s string) string {
	if s == "" || strings.HasPrefix(s, "+") {
		return s
	}
	var digits []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case strings.IndexByte(" ()-.", c) >= 0:
		default:
			return s
		}
	}
	switch {
	case len(digits) == 10:
		return "+1" + string(digits)
	case len(digits) == 11 && digits[0] == '1':
		return "+" + string(digits)
	}
	return s
}
