package normalize_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/apitemplate/server/internal/httperr"
	"github.com/apitemplate/server/internal/normalize"
)

// The benchmarks compare the wrapper with what a bare Echo handler would do, on the same
// data, through the same Echo router: the difference is the wrapper's own cost.
// scripts/bench.sh runs them and docs/BENCHMARKS.md records the results.

type benchUser struct {
	ID       int    `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

var (
	benchData        = benchUser{ID: 1, Username: "alice", Email: "alice@example.com"}
	errBenchNotFound = httperr.Define(http.StatusNotFound, "404-901", "User with ID {user_id} not found")
)

func benchServe(b *testing.B, e *echo.Echo, path string) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		e.ServeHTTP(w, req)
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark measures the
// handler rather than a recorder's buffer.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

func quietResponder(development bool) *normalize.Responder {
	return &normalize.Responder{Development: development, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func BenchmarkSuccessBareEcho(b *testing.B) {
	e := echo.New()
	type envelope struct {
		Success bool      `json:"success"`
		Message string    `json:"message"`
		Data    benchUser `json:"data"`
	}
	e.GET("/u", func(c echo.Context) error {
		return c.JSON(http.StatusOK, envelope{Success: true, Message: "Data retrieved successfully", Data: benchData})
	})
	benchServe(b, e, "/u")
}

func BenchmarkSuccessNormalized(b *testing.B) {
	e := echo.New()
	e.GET("/u", normalize.Handle(quietResponder(false), func(echo.Context) (benchUser, error) { return benchData, nil }, normalize.NoLog()))
	benchServe(b, e, "/u")
}

func BenchmarkSuccessNormalizedWithLogAndMetadata(b *testing.B) {
	e := echo.New()
	e.GET("/u", normalize.Handle(quietResponder(true), func(echo.Context) (benchUser, error) { return benchData, nil }))
	benchServe(b, e, "/u")
}

func BenchmarkErrorEchoDefault(b *testing.B) {
	e := echo.New()
	e.GET("/u", func(echo.Context) error { return echo.NewHTTPError(http.StatusNotFound, "User with ID 1 not found") })
	benchServe(b, e, "/u")
}

func BenchmarkErrorNormalized(b *testing.B) {
	httperr.SetClientStacks(false) // as server.New does in production
	defer httperr.SetClientStacks(true)
	e := echo.New()
	e.HTTPErrorHandler = (&httperr.Handler{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handle
	e.GET("/u", normalize.Handle(quietResponder(false), func(echo.Context) (benchUser, error) {
		return benchUser{}, errBenchNotFound.New("user_id", 1)
	}, normalize.NoLog()))
	benchServe(b, e, "/u")
}
