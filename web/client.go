package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// result is what the API answered an in-process request.
type result struct {
	Status int
	Header http.Header
	Body   []byte
}

// problem is the API's application/problem+json, as the console shows it.
type problem struct {
	Status          int                 `json:"status"`
	Code            string              `json:"code"`
	Title           string              `json:"title"`
	Detail          string              `json:"detail"`
	Errors          []breach.FieldError `json:"errors"`
	OpenObligations []breach.Obligation `json:"open_obligations"`
	NoticesNotGiven *int                `json:"notices_not_given"`
}

func (r *result) ok() bool { return r.Status >= 200 && r.Status < 300 }

func (r *result) decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("web: decode the API's %d answer: %w", r.Status, err)
	}
	return nil
}

// problem returns the API's problem; a body that is not one (it should always be) becomes a
// problem saying only the status.
func (r *result) problem() *problem {
	p := &problem{}
	if json.Unmarshal(r.Body, p) != nil || p.Status == 0 {
		p = &problem{Status: r.Status, Code: breach.EINTERNAL, Detail: http.StatusText(r.Status)}
	}
	return p
}

// bufferWriter collects what the API writes for one in-process request.
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferWriter) Header() http.Header { return b.header }
func (b *bufferWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// call serves one REST request in process as the signed-in person: body (when not nil) is sent as
// JSON. The request carries the page request's context (cancellation, deadline) and nothing of its
// headers: the API sees only what a REST client of the contract would send.
func (c *Console) call(r *http.Request, st *state, method, path string, body any) *result {
	var raw io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return &result{Status: http.StatusInternalServerError}
		}
		raw = bytes.NewReader(b)
	}
	return c.send(r, st, method, path, raw, "application/json")
}

// send is call with a body of another media type (an upload).
func (c *Console) send(r *http.Request, st *state, method, path string, body io.Reader, contentType string) *result {
	req, err := http.NewRequestWithContext(api.WithActor(r.Context(), st.user.Actor()), method, path, body)
	if err != nil {
		return &result{Status: http.StatusInternalServerError}
	}
	req.RemoteAddr = r.RemoteAddr
	if body != http.NoBody {
		req.Header.Set("Content-Type", contentType)
	}
	bw := &bufferWriter{header: http.Header{}}
	c.cfg.API.ServeHTTP(bw, req)
	if bw.status == 0 {
		bw.status = http.StatusOK
	}
	return &result{Status: bw.status, Header: bw.header, Body: bw.body.Bytes()}
}

// passThrough serves a download (a CSV, a PDF) from the API straight to the person, streaming.
func (c *Console) passThrough(w http.ResponseWriter, r *http.Request, st *state, path string) {
	req, err := http.NewRequestWithContext(api.WithActor(r.Context(), st.user.Actor()), http.MethodGet, path, http.NoBody)
	if err != nil {
		c.internalError(w, r, st, err)
		return
	}
	pw := &downloadWriter{w: w, c: c, r: r, st: st}
	c.cfg.API.ServeHTTP(pw, req)
	if pw.err != nil {
		pw.flushError()
	}
}

// downloadWriter copies a successful download through; a refusal is shown as a page instead.
type downloadWriter struct {
	w      http.ResponseWriter
	c      *Console
	r      *http.Request
	st     *state
	header http.Header
	status int
	err    *bytes.Buffer // the problem body, when the API refused
}

func (d *downloadWriter) Header() http.Header {
	if d.header == nil {
		d.header = http.Header{}
	}
	return d.header
}

func (d *downloadWriter) WriteHeader(code int) {
	if d.status != 0 {
		return
	}
	d.status = code
	if code >= 300 {
		d.err = &bytes.Buffer{}
		return
	}
	for _, k := range []string{"Content-Type", "Content-Disposition", "Content-Length", "ETag", "X-Content-SHA256", "X-Letter-SHA256"} {
		if v := d.Header().Get(k); v != "" {
			d.w.Header().Set(k, v)
		}
	}
	d.w.Header().Set("Cache-Control", "no-store")
	d.w.WriteHeader(code)
}

func (d *downloadWriter) Write(p []byte) (int, error) {
	if d.status == 0 {
		d.WriteHeader(http.StatusOK)
	}
	if d.err != nil {
		return d.err.Write(p)
	}
	return d.w.Write(p)
}

func (d *downloadWriter) Flush() {
	if f, ok := d.w.(http.Flusher); ok && d.err == nil {
		f.Flush()
	}
}

func (d *downloadWriter) flushError() {
	res := &result{Status: d.status, Body: d.err.Bytes()}
	d.c.apiErrorPage(d.w, d.r, d.st, res)
}
