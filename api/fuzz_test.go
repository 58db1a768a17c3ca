package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// The bad-request fuzz: every operation of openapi.yaml, sent thousands of requests that are wrong
// in one way each (a method, a path parameter, a query parameter, a header, a body field, the body
// as a whole), through the real handler over a real Redis. None may answer 5xx; every 4xx is
// application/problem+json; a 422 about a field names it; and memory stays flat.

// fuzzOp is one operation of the contract, with a valid request to mutate.
type fuzzOp struct {
	id, method, path string // path with its parameters filled in
	pathParams       []string
	pathValues       []string // the valid value of each path parameter
	query            []*openapi3.Parameter
	required         []string // name=value of each required query parameter
	contentType      string   // "" when it takes no body
	body             any      // a valid body (decoded JSON), or a string for CSV/NDJSON
}

// fuzzOps lists every operation, its path parameters filled with IDs that exist where one can.
func fuzzOps(t testing.TB, breachID string) []fuzzOp {
	t.Helper()
	doc, err := api.LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	var ops []fuzzOp
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, p := range paths {
		item := doc.Paths.Value(p)
		for method, op := range item.Operations() {
			o := fuzzOp{id: op.OperationID, method: method, path: p}
			for _, params := range []openapi3.Parameters{item.Parameters, op.Parameters} {
				for _, pr := range params {
					switch pr.Value.In {
					case openapi3.ParameterInPath:
						o.pathParams = append(o.pathParams, pr.Value.Name)
						val := paramValue(pr.Value, breachID)
						o.pathValues = append(o.pathValues, val)
						o.path = strings.ReplaceAll(o.path, "{"+pr.Value.Name+"}", val)
					case openapi3.ParameterInQuery:
						o.query = append(o.query, pr.Value)
						if pr.Value.Required {
							o.required = append(o.required, pr.Value.Name+"="+paramValue(pr.Value, breachID))
						}
					}
				}
			}
			if rb := op.RequestBody; rb != nil {
				for _, ct := range []string{"application/json", "text/csv", "application/x-ndjson", "application/x-www-form-urlencoded"} {
					mt := rb.Value.Content.Get(ct)
					if mt == nil {
						continue
					}
					o.contentType = ct
					switch {
					case mt.Example != nil:
						o.body = mt.Example
					case ct == "application/json":
						o.body = sample(mt.Schema, 0)
					default:
						o.body = "external_id,last_name\nF-1,Lee\n"
					}
					break
				}
			}
			ops = append(ops, o)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].id < ops[j].id })
	return ops
}

var indexRE = regexp.MustCompile(`\[[0-9]+\]`)

var idPattern = regexp.MustCompile(`^\^([a-z]+_)\[0-9A-Z\]\{26\}\$$`)

// paramValue is a valid value of a parameter: the breach's ID for a breach, else its example, its
// first enum value, an ID of its pattern's form, or "x".
func paramValue(p *openapi3.Parameter, breachID string) string {
	if p.Name == "id" || p.Name == "breach_id" {
		return breachID
	}
	if ex, ok := p.Example.(string); ok {
		return ex
	}
	if p.Schema != nil && p.Schema.Value != nil {
		sv := p.Schema.Value
		if ex, ok := sv.Example.(string); ok {
			return ex
		}
		if len(sv.Enum) > 0 {
			return fmt.Sprint(sv.Enum[0])
		}
		if m := idPattern.FindStringSubmatch(sv.Pattern); m != nil {
			return m[1] + "01JQ6Z8Y3T9V5K2M4N7P0R1S2T"
		}
	}
	return "x"
}

// sample returns a value the schema accepts (its example, or one built from its type).
func sample(ref *openapi3.SchemaRef, depth int) any {
	if ref == nil || ref.Value == nil || depth > 8 {
		return nil
	}
	s := ref.Value
	if s.Example != nil {
		return s.Example
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	for _, alt := range [][]*openapi3.SchemaRef{s.AllOf, s.OneOf, s.AnyOf} {
		if len(alt) > 0 {
			return sample(alt[0], depth+1)
		}
	}
	switch {
	case s.Type.Is(openapi3.TypeObject) || len(s.Properties) > 0:
		obj := map[string]any{}
		for name, p := range s.Properties {
			if slices.Contains(s.Required, name) {
				obj[name] = sample(p, depth+1)
			}
		}
		return obj
	case s.Type.Is(openapi3.TypeArray):
		return []any{sample(s.Items, depth+1)}
	case s.Type.Is(openapi3.TypeInteger), s.Type.Is(openapi3.TypeNumber):
		return 1
	case s.Type.Is(openapi3.TypeBoolean):
		return true
	case s.Format == "date":
		return "2026-03-10"
	case s.Format == "date-time":
		return "2026-03-10T10:00:00Z"
	}
	return "x"
}

// leaves lists the paths (dotted, [i] for items) of every value in a decoded JSON body.
func leaves(v any, prefix string, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			*out = append(*out, p)
			leaves(x[k], p, out)
		}
	case []any:
		for i, e := range x {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			*out = append(*out, p)
			leaves(e, p, out)
		}
	}
}

// setPath returns a deep copy of v with the value at path replaced by repl (deleted when del).
func setPath(v any, path string, repl any, del bool) any {
	b, _ := json.Marshal(v)
	var c any
	_ = json.Unmarshal(b, &c)
	parts := splitPath(path)
	cur := c
	for i, p := range parts {
		last := i == len(parts)-1
		switch x := cur.(type) {
		case map[string]any:
			if last {
				if del {
					delete(x, p)
				} else {
					x[p] = repl
				}
				return c
			}
			cur = x[p]
		case []any:
			var n int
			fmt.Sscanf(p, "%d", &n)
			if n >= len(x) {
				return c
			}
			if last {
				x[n] = repl
				return c
			}
			cur = x[n]
		}
	}
	return c
}

func splitPath(p string) []string {
	p = strings.ReplaceAll(p, "[", ".")
	p = strings.ReplaceAll(p, "]", "")
	return strings.Split(strings.TrimPrefix(p, "."), ".")
}

// badValues are what a field gets instead of its value. rawInt marks the JSON number forms Go
// cannot read into an integer.
type rawJSON string

var badValues = []any{nil, "", "x", -1, 1.5, rawJSON("1.0"), rawJSON("1e3"), rawJSON("-0.0"), rawJSON("1e999"),
	true, []any{}, map[string]any{}, strings.Repeat("ệ", 30000), "10000-01-01", "2026-02-30", "Local",
	"\u202e\u0000", rawJSON(`"\ud800"`), 1 << 62, []any{nil, nil}, map[string]any{"x": []any{map[string]any{}}}}

var badParamValues = []string{"", "abc", "1.0", "1e3", "-1", "0", "99999999999999999999", "%ff", "\x00",
	strings.Repeat("9", 5000), "true", "null", "garbage", "br_", "-0.0", "2026-13-01", "10000-01-01"}

var badPathValues = []string{"..", "%2e%2e", "a%00b", strings.Repeat("a", 5000), "br_💥", "%ff", "nt_", " ", "x.pdf", "x.exe"}

var badContentTypes = []string{"", "text/plain", "application/json; charset=latin1", "multipart/form-data; boundary=x",
	"application/jsonx", "text/csv;;;", "application/x-ndjson", "text/csv", "*/*", "application/json"}

// badRequest is one generated request and, when it is wrong in one field, that field.
type badRequest struct {
	req   *http.Request
	field string // the field or parameter mutated; "" when the mutation is of no field
	what  string
}

func encodeBody(v any) []byte {
	if s, ok := v.(string); ok {
		return []byte(s)
	}
	var b bytes.Buffer
	writeJSON(&b, v)
	return b.Bytes()
}

// writeJSON is json.Marshal that writes rawJSON as it is.
func writeJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case rawJSON:
		b.WriteString(string(x))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			writeJSON(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	default:
		vb, _ := json.Marshal(x)
		b.Write(vb)
	}
}

// generate returns n bad requests over every operation, the same ones on every run.
func generate(ops []fuzzOp, n int) []badRequest {
	rng := rand.New(rand.NewPCG(10, 1))
	var out []badRequest
	keys := []string{testKeys[breach.RoleAdmin], testKeys[breach.RoleClerk], testKeys[breach.RoleAuditor]}
	for i := 0; len(out) < n; i++ {
		o := ops[i%len(ops)]
		method, path, query := o.method, o.path, slices.Clone(o.required)
		contentType := o.contentType
		body := o.body
		var field, what string
		auth := "Bearer " + keys[0]
		switch kind := rng.IntN(10); {
		case kind == 0: // a method
			method = []string{"PUT", "PATCH", "DELETE", "ANYTHING1", "GET", "POST", "OPTIONS", "TRACE"}[rng.IntN(8)]
			what = "method " + method
		case kind == 1 && len(o.pathParams) > 0: // a path parameter
			p := o.pathParams[rng.IntN(len(o.pathParams))]
			v := badPathValues[rng.IntN(len(badPathValues))]
			path = strings.Replace(o.path, pathValue(o, p), urlPathEscape(v), 1)
			what = "path " + p + "=" + shortQ(v)
		case kind <= 3 && len(o.query) > 0: // a query parameter
			p := o.query[rng.IntN(len(o.query))]
			v := badParamValues[rng.IntN(len(badParamValues))]
			query = append(query, p.Name+"="+urlQueryEscape(v))
			if rng.IntN(4) == 0 {
				query = append(query, p.Name+"=1")
			}
			field, what = p.Name, "query "+p.Name+"="+shortQ(v)
		case kind == 4: // headers
			switch rng.IntN(4) {
			case 0:
				auth = ""
			case 1:
				auth = "Bearer " + strings.Repeat("k", 1+rng.IntN(9000))
			case 2:
				auth = "Basic " + keys[rng.IntN(3)]
			case 3:
				auth = "Bearer " + keys[rng.IntN(3)]
				contentType = badContentTypes[rng.IntN(len(badContentTypes))]
			}
			what = "headers"
		case o.contentType == "application/json" && kind <= 7: // a body field
			var paths []string
			leaves(body, "", &paths)
			if len(paths) == 0 {
				body = map[string]any{"unknown_field": 1}
				field, what = "unknown_field", "body unknown field"
				break
			}
			p := paths[rng.IntN(len(paths))]
			switch rng.IntN(6) {
			case 0:
				body, what = setPath(body, p, nil, true), "body without "+p
			case 1:
				if strings.HasSuffix(p, "]") {
					p = strings.TrimSuffix(p[:strings.LastIndex(p, "[")], "]") // the array, not its item
				}
				body, what = setPath(body, p+"_unknown", 1, false), "body unknown field near "+p
				p += "_unknown"
			default:
				v := badValues[rng.IntN(len(badValues))]
				body, what = setPath(body, p, v, false), "body "+p+"="+shortQ(fmt.Sprint(v))
			}
			field = p
		case o.contentType != "": // the body as a whole
			raw := encodeBody(body)
			switch rng.IntN(7) {
			case 0:
				raw = raw[:rng.IntN(len(raw)+1)]
			case 1:
				raw = append([]byte(strings.Repeat("[", 5000)), raw...)
			case 2:
				raw = []byte{0xff, 0xfe, 0x00, '{'}
			case 3:
				raw = bytes.Repeat([]byte("\"x\","), 1000)
			case 4:
				raw = []byte(strings.Repeat("external_id,", 3000) + "\n" + strings.Repeat("a,", 3000))
			case 5:
				raw = append(raw, raw...)
			case 6:
				raw = []byte("{\"external_id\":\"\xff\"}\n" + strings.Repeat("\n{}", 50))
			}
			body, what = string(raw), "whole body"
		default: // an operation with nothing else to get wrong: an unknown parameter, or a body it does not take
			if rng.IntN(2) == 0 {
				query = append(query, "zz_unknown="+urlQueryEscape(badParamValues[rng.IntN(len(badParamValues))]))
				what = "unknown query parameter"
			} else {
				body, contentType = string(encodeBody(badValues[rng.IntN(len(badValues))])), badContentTypes[rng.IntN(len(badContentTypes))]
				what = "a body where none is taken"
			}
		}
		u := path
		if len(query) > 0 {
			u += "?" + strings.Join(query, "&")
		}
		var raw []byte
		if o.contentType != "" || body != nil {
			raw = encodeBody(body)
		}
		req, err := http.NewRequest(method, "http://breachd.test"+u, bytes.NewReader(raw))
		if err != nil {
			continue // not a request a client can send
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		out = append(out, badRequest{req: req, field: field, what: o.id + ": " + what})
	}
	return out
}

func pathValue(o fuzzOp, param string) string {
	return o.pathValues[slices.Index(o.pathParams, param)]
}

func urlPathEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '?' || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func urlQueryEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '&' || c == '#' || c == '+' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func shortQ(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%q…(%d bytes)", s[:40], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// checkAnswer says what is wrong with the answer to a bad request, or "".
func checkAnswer(br badRequest, res *httptest.ResponseRecorder) string {
	if res.Code >= 500 {
		return fmt.Sprintf("%d %.300s", res.Code, res.Body.String())
	}
	if res.Code < 400 {
		return ""
	}
	if ct := res.Header().Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Sprintf("%d with Content-Type %q", res.Code, ct)
	}
	var p api.Problem
	if err := json.Unmarshal(res.Body.Bytes(), &p); err != nil || p.Status != res.Code || p.Detail == "" || p.Code == "" {
		return fmt.Sprintf("%d with a body that is not a problem: %.300s", res.Code, res.Body.String())
	}
	if res.Code == 422 {
		if p.Errors == nil || len(*p.Errors) == 0 {
			return fmt.Sprintf("422 naming no field: %.300s", res.Body.String())
		}
		for _, f := range *p.Errors {
			if f.Field == "" || f.Reason == "" {
				return fmt.Sprintf("422 with an empty field or reason: %.300s", res.Body.String())
			}
		}
		if br.field != "" && !namesField(*p.Errors, br.field) {
			return fmt.Sprintf("422 not naming %s: %.300s", br.field, res.Body.String())
		}
	}
	return ""
}

// namesField reports whether a 422's errors name the mutated field, the object holding it, or a
// field inside it.
//
// encoding/json names a field inside an array item without the item's index (outlets.audience for
// outlets[1].audience), so indices are left out of the comparison.
func namesField(errs []api.FieldError, field string) bool {
	field = indexRE.ReplaceAllString(field, "")
	for _, f := range errs {
		f.Field = indexRE.ReplaceAllString(f.Field, "")
		if f.Field == field || strings.HasPrefix(field, f.Field+".") || strings.HasPrefix(field, f.Field+"[") ||
			strings.HasPrefix(f.Field, field+".") || strings.HasPrefix(f.Field, field+"[") {
			return true
		}
		// A body validated as one object names its fields from the root: "body" stands for it.
		if f.Field == "body" || strings.HasPrefix(field, "body.") {
			return true
		}
	}
	return false
}

// TestGeneratedBadRequests sends 10,000 generated bad requests across every operation of the
// contract and asserts that none is a 5xx, every 4xx is problem+json, a 422 names the field that
// was wrong, and the heap after is within a bound of the heap before.
func TestGeneratedBadRequests(t *testing.T) {
	e := newEnv(t)
	b := createBreach(t, e, nil)
	if r := e.doContentType("POST", "/v1/breaches/"+b.ID+"/recipients", breach.RoleAdmin, "external_id,last_name,email\nF-1,Lee,lee@example.org\n", "text/csv"); r.Status != 200 {
		t.Fatalf("upload: %d", r.Status)
	}
	ops := fuzzOps(t, b.ID)
	if len(ops) < 40 {
		t.Fatalf("%d operations in the contract", len(ops))
	}
	reqs := generate(ops, 10000)
	before := heapInUse()
	statuses := map[int]int{}
	failures := 0
	for _, br := range reqs {
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, br.req)
		statuses[rec.Code]++
		if msg := checkAnswer(br, rec); msg != "" {
			if failures++; failures <= 20 {
				t.Errorf("%s %s: %s", br.what, br.req.Method, msg)
			}
		}
	}
	after := heapInUse()
	t.Logf("%d requests over %d operations; statuses %v; heap %d KiB → %d KiB", len(reqs), len(ops), statuses, before>>10, after>>10)
	if failures > 0 {
		t.Errorf("%d of %d bad requests answered wrongly", failures, len(reqs))
	}
	if after > before+32<<20 {
		t.Errorf("the heap grew from %d MiB to %d MiB", before>>20, after>>20)
	}
}

// FuzzRequest is Go's native fuzzing over the real handler (go test -fuzz=FuzzRequest ./api/):
// any method, path, query, content type and body; never a 5xx, every 4xx a problem.
func FuzzRequest(f *testing.F) {
	e := newEnv(f)
	r := e.do("POST", "/v1/breaches", breach.RoleAdmin, map[string]any{"determination": determination(nil)})
	var b api.BreachView
	if err := json.Unmarshal(r.Body, &b); err != nil || r.Status != 201 {
		f.Fatalf("create breach: %d %s", r.Status, r.Body)
	}
	for _, br := range generate(fuzzOps(f, b.ID), 200) {
		var body bytes.Buffer
		_, _ = body.ReadFrom(br.req.Body)
		f.Add(br.req.Method, br.req.URL.EscapedPath(), br.req.URL.RawQuery, br.req.Header.Get("Content-Type"), body.Bytes())
	}
	f.Fuzz(func(t *testing.T, method, path, query, contentType string, body []byte) {
		req, err := http.NewRequest(method, "http://breachd.test"+path+"?"+query, bytes.NewReader(body))
		if err != nil || req.URL.Host != "breachd.test" {
			return // not a request any client can send
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+testKeys[breach.RoleAdmin])
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		if msg := checkAnswer(badRequest{req: req}, rec); msg != "" {
			t.Fatalf("%s %s?%s (%s): %s", method, path, query, contentType, msg)
		}
	})
}
