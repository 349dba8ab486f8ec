package httperr

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Recover turns a panic anywhere below it into an Internal error whose stack is the stack of
// the panic, and hands it to Echo's error handler like any other error. Register it with
// Echo's Pre, first, so it covers every middleware (the request id's included), the router
// and the handler. (normalize.Handle recovers its handler's panics itself, to give them the route's
// error message; this catches the rest.)
func Recover() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = FromPanic(r)
				}
			}()
			return next(c)
		}
	}
}

// FromPanic converts a recovered value into an Internal error whose stack is the panic's.
// Call it directly in the deferred function that called recover: from there, the stack
// still holds the frames of the panic site (below runtime.gopanic).
//
// http.ErrAbortHandler is panicked again: net/http uses it to abort a response on purpose.
func FromPanic(r any) *Error {
	if r == http.ErrAbortHandler { //nolint:errorlint // net/http compares it the same way
		panic(r)
	}
	cause, ok := r.(error)
	if !ok {
		cause = fmt.Errorf("%v", r)
	}
	e := Internal.New()
	e.cause = fmt.Errorf("panic: %w", cause)
	e.stack = callers(http.StatusInternalServerError)
	return e
}
