// Package server builds the Echo instance: the error handler, the middleware chain in its one
// documented order, and the routes of every module. It serves nothing itself; internal/app
// runs it.
package server

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/apitemplate/server/internal/config"
	"github.com/apitemplate/server/internal/httperr"
	"github.com/apitemplate/server/internal/normalize"
	"github.com/apitemplate/server/internal/requestid"
)

// Module is a feature that adds its routes. Each module lives in its own internal package.
type Module interface {
	Routes(e *echo.Echo)
}

// New returns Echo configured for cfg with the modules' routes.
func New(cfg config.Config, log *slog.Logger, modules ...Module) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	httperr.SetClientStacks(cfg.IsDevelopment())
	e.HTTPErrorHandler = (&httperr.Handler{Development: cfg.IsDevelopment(), Logger: log}).Handle
	e.Validator = normalize.Validator{}
	useMiddleware(e, cfg, log)
	for _, m := range modules {
		m.Routes(e)
	}
	addHeadRoutes(e)
	return e
}

// addHeadRoutes answers HEAD on every GET route with the GET handler, as net/http's ServeMux
// does; Echo would answer 405. net/http drops the body of a HEAD response, and the error
// handler writes none, so clients get the GET's status and headers.
func addHeadRoutes(e *echo.Echo) {
	heads := map[string]bool{}
	for _, r := range e.Routes() {
		if r.Method == http.MethodHead {
			heads[r.Path] = true
		}
	}
	for _, r := range e.Routes() {
		if r.Method != http.MethodGet || heads[r.Path] {
			continue
		}
		// Find on the route's own pattern matches that route; the handler it yields already
		// includes the route's middleware.
		c := e.NewContext(nil, nil)
		e.Router().Find(http.MethodGet, r.Path, c)
		e.HEAD(r.Path, c.Handler())
	}
}

// useMiddleware installs the chain. Everything goes in Pre, which runs before routing, so
// even requests the router rejects (404, 405) get all of it. The order matters:
//
//  1. Recover first, so a panic in any middleware below, the router or a handler becomes a
//     500 envelope instead of a dropped connection.
//  2. Request id next, so every later line and body, including error bodies, has it.
//  3. Response headers every answer carries, set before anything can answer.
//  4. Access log: one line per request with the final status. It hands errors to the error
//     handler itself to learn that status; httperr.Handler makes Echo's second call a no-op.
//  5. Body limit last, closest to the handlers that read bodies.
func useMiddleware(e *echo.Echo, cfg config.Config, log *slog.Logger) {
	e.Pre(
		httperr.Recover(),
		requestid.Middleware(),
		responseHeaders,
		accessLog(log),
		bodyLimit(cfg.BodyLimit),
	)
}

// responseHeaders: no browser guesses a type other than the one sent (nosniff), and no
// cache keeps an answer of the API, which may be personal (no-store).
func responseHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set(echo.HeaderCacheControl, "no-store")
		return next(c)
	}
}

func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		HandleError:  true,
		LogStatus:    true,
		LogMethod:    true,
		LogURIPath:   true,
		LogLatency:   true,
		LogRemoteIP:  false,
		LogRequestID: false,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			log.LogAttrs(c.Request().Context(), level, "http request",
				slog.String("request_id", requestid.Get(c)),
				slog.String("method", v.Method),
				slog.String("path", v.URIPath),
				slog.Int("status", v.Status),
				slog.Float64("latency_ms", float64(v.Latency.Microseconds())/1000))
			return nil
		},
	})
}

// bodyLimit answers 413 for a declared Content-Length over limit, and caps the reader for
// chunked bodies: reading past the limit fails with *http.MaxBytesError, which
// httperr.From maps to 413 as well. Any other failure to read the body (broken chunked
// encoding, a body cut short, a client too slow) becomes an *httperr.BodyError: a 4xx.
func bodyLimit(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > limit {
				return httperr.PayloadTooLarge.New()
			}
			if req.Body != nil && req.Body != http.NoBody {
				req.Body = http.MaxBytesReader(c.Response(), httperr.Body(req.Body), limit)
			}
			return next(c)
		}
	}
}
