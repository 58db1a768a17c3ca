package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v5"

	breach "github.com/breachd/breachd"
)

// codeStatus maps an error code to its HTTP status. It is the only place that does.
var codeStatus = map[string]int{
	breach.EINVALID:      http.StatusUnprocessableEntity,
	breach.EMALFORMED:    http.StatusBadRequest,
	breach.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	breach.ENOTFOUND:     http.StatusNotFound,
	breach.ECONFLICT:     http.StatusConflict,
	breach.EUNAUTHORIZED: http.StatusUnauthorized,
	breach.EFORBIDDEN:    http.StatusForbidden,
	breach.EUNAVAILABLE:  http.StatusServiceUnavailable,
	breach.EINTERNAL:     http.StatusInternalServerError,
	codeTimeout:          http.StatusRequestTimeout,
}

// codeTimeout has no breach.E* constant: only an upload that stalls past its idle timeout gets it.
const codeTimeout = "timeout"

// codeMethodNotAllowed has no breach.E* constant: only the router refuses a method.
const codeMethodNotAllowed = "method_not_allowed"

var titles = map[int]string{
	http.StatusBadRequest:            "Malformed request",
	http.StatusUnauthorized:          "Unauthorized",
	http.StatusForbidden:             "Forbidden",
	http.StatusNotFound:              "Not found",
	http.StatusMethodNotAllowed:      "Method not allowed",
	http.StatusRequestTimeout:        "Request timeout",
	http.StatusConflict:              "Conflict",
	http.StatusRequestEntityTooLarge: "Request too large",
	http.StatusUnsupportedMediaType:  "Unsupported media type",
	http.StatusUnprocessableEntity:   "Invalid request",
	http.StatusInternalServerError:   "Internal error",
	http.StatusServiceUnavailable:    "Service unavailable",
}

// errorHandler is Echo's HTTPErrorHandler: every error any handler or middleware returns becomes an
// application/problem+json response here. Internal errors are logged with their detail and shown
// to the caller only as "internal error".
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(c *echo.Context, err error) {
		if r, _ := echo.UnwrapResponse(c.Response()); r != nil && r.Committed {
			return
		}
		p := problemFor(err)
		if p.Status >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed",
				"method", c.Request().Method, "route", c.Path(), "status", p.Status, "error", err.Error())
		}
		writeProblem(c, p)
	}
}

func writeProblem(c *echo.Context, p Problem) {
	b, err := json.Marshal(p)
	if err != nil {
		b = []byte(`{"type":"urn:breachd:problem:internal","title":"Internal error","status":500,"code":"internal","detail":"internal error"}`)
		p.Status = http.StatusInternalServerError
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(p.Status)
	_, _ = c.Response().Write(b)
}

// problemFor turns any error into the problem document the caller sees.
func problemFor(err error) Problem {
	var be *breach.Error
	var he *echo.HTTPError
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(err, &ute) && ute.Field != "":
		// The contract let the value through (1.0, 1e3 and -0.0 are integers to JSON Schema) but
		// Go cannot read it into its type: name the field as validation would.
		return problemFor(breach.InvalidFields([]breach.FieldError{{Field: ute.Field, Reason: typeReason(ute)}}))
	case errors.As(err, &be):
		status, ok := codeStatus[be.Code]
		if !ok {
			status = http.StatusInternalServerError
		}
		msg := be.Message
		if status == http.StatusInternalServerError {
			msg = "internal error"
		}
		p := newProblem(status, be.Code, msg)
		if len(be.Fields) > 0 {
			// At most the first MaxReportedProblems, and a last entry counting the rest: a body
			// or header with a million faults must not answer a million lines.
			n := min(len(be.Fields), breach.MaxReportedProblems)
			fe := make([]FieldError, n, n+1)
			for i, f := range be.Fields[:n] {
				fe[i] = FieldError{Field: f.Field, Reason: f.Reason}
			}
			if rest := len(be.Fields) - n; rest > 0 {
				fe = append(fe, FieldError{Field: be.Fields[n].Field, Reason: fmt.Sprintf("and %d more problems not listed", rest)})
			}
			p.Errors = &fe
		}
		if be.Open != nil {
			open, n := be.Open.Obligations, be.Open.NoticesNotGiven
			p.OpenObligations, p.NoticesNotGiven = &open, &n
		}
		return p
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotFound:
			return newProblem(he.Code, breach.ENOTFOUND, "no such route")
		case http.StatusMethodNotAllowed:
			return newProblem(he.Code, codeMethodNotAllowed, "this route does not accept that method")
		case http.StatusRequestEntityTooLarge:
			return newProblem(he.Code, breach.ETOOLARGE, "the body is over the limit")
		case http.StatusBadRequest:
			// The generated parameter binders answer 400; validation normally catches these first.
			return newProblem(http.StatusUnprocessableEntity, breach.EINVALID, he.Message)
		case http.StatusUnsupportedMediaType:
			return newProblem(he.Code, breach.EMALFORMED, "send the Content-Type this route takes (application/json; uploads: text/csv or application/x-ndjson)")
		}
		if he.Code >= 400 && he.Code < 500 {
			return newProblem(he.Code, breach.EMALFORMED, he.Message)
		}
	}
	return newProblem(http.StatusInternalServerError, breach.EINTERNAL, "internal error")
}

func typeReason(ute *json.UnmarshalTypeError) string {
	switch ute.Type.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("must be a whole number written without a decimal point or exponent (e.g. 1000), not %s", ute.Value)
	}
	return "must be a " + ute.Type.Kind().String() + ", not " + ute.Value
}

func newProblem(status int, code, detail string) Problem {
	return Problem{
		Type:   "urn:breachd:problem:" + code,
		Title:  titles[status],
		Status: status,
		Code:   ProblemCode(code),
		Detail: detail,
	}
}

// validationError translates what openapi3filter found into breachd's error: a malformed body is
// EMALFORMED; everything else is EINVALID listing every invalid field by its path.
func validationError(err error) error {
	var fields []breach.FieldError
	var walk func(error)
	walk = func(err error) {
		// Type switches, not errors.As: a RequestError unwraps to a MultiError, and errors.As
		// would match that before the RequestError that says which parameter it is about.
		switch e := err.(type) {
		case openapi3.MultiError:
			for _, x := range e {
				walk(x)
			}
		case *openapi3filter.RequestError:
			if e.Parameter == nil {
				if e.Err == nil {
					fields = append(fields, breach.FieldError{Field: "body", Reason: e.Reason})
				} else {
					walk(e.Err)
				}
				return
			}
			name := e.Parameter.Name
			var se *openapi3.SchemaError
			var pe *openapi3filter.ParseError
			switch {
			case errors.As(e.Err, &se):
				fields = append(fields, breach.FieldError{Field: name, Reason: schemaReason(se)})
			case errors.As(e.Err, &pe):
				fields = append(fields, breach.FieldError{Field: name, Reason: "is not a valid " + paramType(e.Parameter)})
			case e.Err != nil:
				fields = append(fields, breach.FieldError{Field: name, Reason: e.Err.Error()})
			default:
				fields = append(fields, breach.FieldError{Field: name, Reason: e.Reason})
			}
		case *openapi3.SchemaError:
			fields = append(fields, breach.FieldError{Field: fieldPath(e), Reason: schemaReason(e)})
		default:
			fields = append(fields, breach.FieldError{Field: "body", Reason: err.Error()})
		}
	}
	walk(err)
	return breach.InvalidFields(fields)
}

func paramType(p *openapi3.Parameter) string {
	if p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Type != nil {
		return strings.Join(p.Schema.Value.Type.Slice(), " or ")
	}
	return "value"
}

// fieldPath turns a schema error's JSON pointer into a dotted field path, e.g.
// determination.data_elements[2]. For "is missing" / "is unsupported" the pointer stops at the
// object, so the property named in the reason is appended.
func fieldPath(se *openapi3.SchemaError) string {
	var b strings.Builder
	ptr := se.JSONPointer()
	for _, p := range ptr {
		if _, err := strconv.Atoi(p); err == nil {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	if prop, ok := propertyInReason(se.Reason); ok && (len(ptr) == 0 || ptr[len(ptr)-1] != prop) {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(prop)
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

func propertyInReason(reason string) (string, bool) {
	for _, suffix := range []string{" is missing", " is unsupported"} {
		if rest, ok := strings.CutPrefix(reason, "property "); ok {
			if name, ok := strings.CutSuffix(rest, suffix); ok {
				if n, err := strconv.Unquote(name); err == nil {
					return n, true
				}
			}
		}
	}
	return "", false
}

// schemaReason says, in words for the person who sent the request, why the value failed.
func schemaReason(se *openapi3.SchemaError) string {
	switch {
	case strings.HasSuffix(se.Reason, " is missing"):
		return "is required"
	case strings.HasSuffix(se.Reason, " is unsupported"):
		return "is not a known field"
	case se.SchemaField == "type":
		if _, isNumber := se.Value.(float64); isNumber && se.Schema != nil && se.Schema.Pattern != "" {
			return "must be a decimal string such as \"1250.50\", not a number"
		}
		return strings.TrimPrefix(se.Reason, "value ")
	case se.SchemaField == "enum":
		var allowed []string
		for _, v := range se.Schema.Enum {
			allowed = append(allowed, fmt.Sprint(v))
		}
		return "must be one of: " + strings.Join(allowed, ", ")
	case se.SchemaField == "format":
		// "string doesn't match the format "date" (<why>)": the why is the useful part.
		if i := strings.Index(se.Reason, " ("); i >= 0 && strings.HasSuffix(se.Reason, ")") {
			return se.Reason[i+2 : len(se.Reason)-1]
		}
		return se.Reason
	case se.SchemaField == "pattern" && se.Schema != nil && se.Schema.Example != nil:
		return fmt.Sprintf("has the wrong form (e.g. %v)", se.Schema.Example)
	case se.SchemaField == "pattern":
		return "has the wrong form"
	}
	return strings.TrimPrefix(se.Reason, "value ")
}
