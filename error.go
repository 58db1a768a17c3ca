package breach

import (
	"errors"
	"fmt"
)

// Error codes. The API maps each to one HTTP status, in one place.
const (
	EINVALID      = "invalid"      // well-formed input that breaks a rule (422)
	EMALFORMED    = "malformed"    // input that cannot be parsed at all (400)
	ETOOLARGE     = "too_large"    // a body over the limit (413)
	ENOTFOUND     = "not_found"    // 404
	ECONFLICT     = "conflict"     // the request contradicts the current state (409)
	EUNAUTHORIZED = "unauthorized" // no or unknown credentials (401)
	EFORBIDDEN    = "forbidden"    // the role may not do this (403)
	EUNAVAILABLE  = "unavailable"  // a dependency (Redis) cannot be reached (503)
	EINTERNAL     = "internal"     // a bug; details are logged, never shown (500)
)

// FieldError names one invalid field and why. Field is a dotted path into the request body
// (e.g. "determination.discovered_on") or a query parameter name.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Error is breachd's one error type: a code the API maps to a status, a message safe to show a
// user, and for EINVALID every invalid field.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	// Open lists the duties still open when a close is refused (ECONFLICT).
	Open *OpenDuties
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s (%d invalid fields, first %s: %s)", e.Code, e.Message,
		len(e.Fields), e.Fields[0].Field, e.Fields[0].Reason)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidFields returns an EINVALID error listing the fields, or nil when there are none.
func InvalidFields(fields []FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "the request has invalid fields", Fields: fields}
}

// ErrorCode returns the code of the *Error in err's chain, EINTERNAL for any other error, and ""
// for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of the *Error in err's chain, or "internal error".
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
