// Package httperr is the API's error vocabulary and the one place that writes failures.
//
// An *Error carries what a client may see (HTTP status, a stable code such as "400-001", a
// message rendered from a template with named placeholders, field details) apart from what
// only the logs may see (the wrapped cause and the stack where the error was made). Kinds in
// catalog.go are the predefined errors; an application defines its own in one line with
// Define. Handler (handler.go) turns anything a handler returns, including Echo's own
// errors, validator errors and panics, into the JSON envelope or RFC 9457 problem details.
package httperr

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
)

// FieldError is one entry of an error's "errors" (or "validation_errors") list.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an API error. Build one from a Kind (MissingField.New("placeholder", "username"))
// or ad hoc with New. Its fields are read-only once returned; the With* methods return copies.
type Error struct {
	Status  int            // HTTP status
	Code    string         // stable, documented error code
	Message string         // client-safe message, already rendered
	Details []FieldError   // per-field problems; sent as "errors" (or detailsKey)
	Data    map[string]any // extra client-safe data; sent as "data"

	kind  *Kind
	cause error     // logged, never sent in production
	stack []uintptr // where the error was made
}

// New returns an ad-hoc error with an explicit status, code and message, for one-off cases
// that don't deserve a catalog entry. The message is used as is (no placeholders).
func New(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message, stack: callers(status)}
}

// Error reads like the seed's __str__: "[400-001] Field username is required (HTTP 400)",
// followed by the cause when there is one.
func (e *Error) Error() string {
	s := fmt.Sprintf("[%s] %s (HTTP %d)", e.Code, e.Message, e.Status)
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap returns the cause, so errors.Is and errors.As reach through an *Error.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is the Kind this error was made from, or an *Error with the same
// code: errors.Is(err, httperr.MissingField) works through any amount of %w wrapping.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case *Kind:
		return e.Code == t.Code
	case *Error:
		return e.Code == t.Code
	}
	return false
}

// Wrap returns a copy of e that keeps cause for errors.Is/As and the logs.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// WithDetails returns a copy of e with per-field details.
func (e *Error) WithDetails(details ...FieldError) *Error {
	c := *e
	c.Details = details
	return &c
}

// WithData returns a copy of e with extra client-safe data.
func (e *Error) WithData(data map[string]any) *Error {
	c := *e
	c.Data = data
	return &c
}

// detailsKey is the JSON name of Details: "errors", or what the Kind chose.
func (e *Error) detailsKey() string {
	if e.kind != nil && e.kind.DetailsKey != "" {
		return e.kind.DetailsKey
	}
	return "errors"
}

// Stack formats the stack where e was made, one "function\n\tfile:line" pair per frame, like
// a Go panic trace. It is what "traceback" shows in development.
func (e *Error) Stack() string { return formatStack(e.stack) }

// As returns the *Error in err's chain, or nil. Plain Go errors are not converted here; the
// Handler decides what they become.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// clientStacks says whether errors with a status below 500 record their stack. Unwinding
// costs about a microsecond, more than the rest of the error path, and a client error's stack
// is only ever shown in development tracebacks; server errors always record theirs, for the
// log line. server.New sets it from APP_ENV.
var clientStacks atomic.Bool

func init() { clientStacks.Store(true) }

// SetClientStacks turns stack capture for 4xx errors on (development) or off (production).
// It is process-wide: set it once at start.
func SetClientStacks(on bool) { clientStacks.Store(on) }

// callers records the stack above the function that builds the error.
func callers(status int) []uintptr {
	if status < 500 && !clientStacks.Load() {
		return nil
	}
	var pcs [32]uintptr
	n := runtime.Callers(3, pcs[:])
	return pcs[:n:n]
}

func formatStack(pcs []uintptr) string {
	if len(pcs) == 0 {
		return ""
	}
	var b strings.Builder
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		if f.Function != "" {
			fmt.Fprintf(&b, "%s\n\t%s:%d\n", f.Function, f.File, f.Line)
		}
		if !more {
			break
		}
	}
	return b.String()
}
