package server_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/apitemplate/server/internal/config"
	"github.com/apitemplate/server/internal/server"
)

type routes func(e *echo.Echo)

func (r routes) Routes(e *echo.Echo) { r(e) }

// Every answer, success, error, router 404 or panic, carries the headers that keep browsers
// from sniffing types and caches from keeping API answers.
func TestEveryAnswerCarriesTheResponseHeaders(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := server.New(config.Default(), log, routes(func(e *echo.Echo) {
		e.GET("/ok", func(c echo.Context) error { return c.JSON(200, map[string]bool{"ok": true}) })
		e.GET("/fail", func(c echo.Context) error { return errors.New("boom") })
		e.GET("/panic", func(c echo.Context) error { panic("boom") })
	}))
	for _, path := range []string{"/ok", "/fail", "/panic", "/nope"} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s (%d): X-Content-Type-Options = %q; want nosniff", path, rec.Code, got)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s (%d): Cache-Control = %q; want no-store", path, rec.Code, got)
		}
	}
}
