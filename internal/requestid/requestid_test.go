package requestid_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/apitemplate/server/internal/requestid"
)

func TestValid(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"abc-123", true},
		{"01HF8Z:trace.span_1", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{"has space", false},
		{"new\nline", false},
		{`"quoted"`, false},
		{"é", false},
	}
	for _, tc := range tests {
		if got := requestid.Valid(tc.id); got != tc.want {
			t.Errorf("Valid(%q) = %v; want %v", tc.id, got, tc.want)
		}
	}
}

func TestNewIsValidAndUnique(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := requestid.New()
		if !requestid.Valid(id) || len(id) != 32 || seen[id] {
			t.Fatalf("New() = %q; want a fresh valid 32-character id", id)
		}
		seen[id] = true
	}
}

// The id reaches the response header, the echo.Context and the request's context, where code
// without an echo.Context (the integration log's client) reads it.
func TestMiddlewareStoresTheIDEverywhere(t *testing.T) {
	e := echo.New()
	e.Pre(requestid.Middleware())
	var fromEcho, fromCtx string
	e.GET("/", func(c echo.Context) error {
		fromEcho, fromCtx = requestid.Get(c), requestid.FromContext(c.Request().Context())
		return nil
	})
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set(requestid.Header, "given-1")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if got := rec.Header().Get(requestid.Header); got != "given-1" || fromEcho != "given-1" || fromCtx != "given-1" {
		t.Errorf("header %q, echo %q, context %q; want given-1 in all three", got, fromEcho, fromCtx)
	}
	if got := requestid.FromContext(requestid.NewContext(context.Background(), "job-7")); got != "job-7" {
		t.Errorf("FromContext(NewContext(job-7)) = %q", got)
	}
}

func TestParseTraceparent(t *testing.T) {
	t.Parallel()
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"00-" + trace + "-00f067aa0ba902b7-01", trace, true},
		{"00-" + trace + "-00f067aa0ba902b7-00", trace, true},
		{"01-" + trace + "-00f067aa0ba902b7-01-later-fields", trace, true}, // a later version may add fields
		{"00-" + trace + "-00f067aa0ba902b7-01-x", "", false},              // version 00 has exactly four
		{"ff-" + trace + "-00f067aa0ba902b7-01", "", false},                // ff is not a version
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "", false},
		{"00-" + trace + "-0000000000000000-01", "", false},
		{"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "", false}, // upper case
		{"00-" + trace[:31] + "g-00f067aa0ba902b7-01", "", false},
		{"", "", false},
		{"garbage", "", false},
	}
	for _, tt := range tests {
		got, ok := requestid.ParseTraceparent(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseTraceparent(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMiddlewareKeepsTheTraceID(t *testing.T) {
	t.Parallel()
	e := echo.New()
	e.Pre(requestid.Middleware())
	var got string
	e.GET("/", func(c echo.Context) error {
		got = requestid.TraceID(c.Request().Context())
		return nil
	})
	for _, tt := range []struct{ header, want string }{
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"not a traceparent", ""},
		{"", ""},
	} {
		got = "unset"
		req := httptest.NewRequest("GET", "/", nil)
		if tt.header != "" {
			req.Header.Set(requestid.TraceparentHeader, tt.header)
		}
		e.ServeHTTP(httptest.NewRecorder(), req)
		if got != tt.want {
			t.Errorf("traceparent %q: TraceID = %q; want %q", tt.header, got, tt.want)
		}
	}
}
