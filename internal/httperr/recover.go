package httperr

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Recover turns a panic anywhere below it into an Internal error whose stack is the stack of
// the panic, and hands it to Echo's error handler like any other error. Register it with
// Echo's Pre, right after the request id, so it covers every middleware, the router and the
// handler.
//
// http.ErrAbortHandler is re-panicked: net/http uses it to abort a response on purpose.
func Recover() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				r := recover()
				if r == nil {
					return
				}
				if r == http.ErrAbortHandler { //nolint:errorlint // net/http compares it the same way
					panic(r)
				}
				cause, ok := r.(error)
				if !ok {
					cause = fmt.Errorf("%v", r)
				}
				e := Internal.New()
				e.cause = fmt.Errorf("panic: %w", cause)
				// Called from the deferred function while panicking, callers sees the frames of
				// the panic site below runtime.gopanic: that is the stack to show.
				e.stack = callers()
				err = e
			}()
			return next(c)
		}
	}
}
