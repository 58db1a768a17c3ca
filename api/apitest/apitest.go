// Package apitest checks HTTP exchanges against openapi.yaml, for the tests of any package that
// talks to the API: every response a test sees must match the contract.
package apitest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/breachd/breachd/api"
)

// Contract validates responses against the embedded openapi.yaml.
type Contract struct {
	router routers.Router
}

// registerHTML lets the validator read text/html responses (the web-site notice) as strings, as
// it reads text/plain.
var registerHTML sync.Once

// New loads the contract; it fails the test if the contract does not load.
func New(t testing.TB) *Contract {
	t.Helper()
	registerHTML.Do(func() {
		asString := func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			b, err := io.ReadAll(r)
			return string(b), err
		}
		openapi3filter.RegisterBodyDecoder("text/html", asString)
		// The chain export (exportEvents): its schema is a string.
		openapi3filter.RegisterBodyDecoder("application/x-ndjson", asString)
	})
	doc, err := api.LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &Contract{router: router}
}

// Check fails the test unless the response (status, headers, body) is one the contract allows for
// the request. A request outside the contract must have been answered with problem+json.
func (c *Contract) Check(t testing.TB, req *http.Request, reqBody []byte, res *http.Response, body []byte) {
	t.Helper()
	vreq := req.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := c.router.FindRoute(vreq)
	if err != nil {
		if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s %s: route not in the contract and answer is %q, not problem+json", req.Method, req.URL.Path, ct)
		}
		return
	}
	opts := api.ValidationOptions()
	opts.IncludeResponseStatus = true
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: opts},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Options:                opts,
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Fatalf("%s %s → %d does not match openapi.yaml: %v\nbody: %s", req.Method, req.URL.Path, res.StatusCode, err, body)
	}
}

// SyncBuffer is a bytes.Buffer safe for a server's goroutines to log into while a test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
