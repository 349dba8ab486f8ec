package httperr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/apitemplate/server/internal/httperr"
	"github.com/apitemplate/server/internal/requestid"
)

type body struct {
	Success          bool                 `json:"success"`
	HTTPStatus       int                  `json:"http_status"`
	ErrorCode        string               `json:"error_code"`
	Message          string               `json:"message"`
	RequestID        string               `json:"request_id"`
	Errors           []httperr.FieldError `json:"errors"`
	ValidationErrors []httperr.FieldError `json:"validation_errors"`
	Traceback        string               `json:"traceback"`
}

// newEcho returns Echo with the handler under test and a log buffer to inspect.
func newEcho(development bool) (*echo.Echo, *bytes.Buffer) {
	var logs bytes.Buffer
	e := echo.New()
	h := &httperr.Handler{Development: development, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	e.HTTPErrorHandler = h.Handle
	e.Pre(httperr.Recover(), requestid.Middleware())
	return e, &logs
}

func serve(e *echo.Echo, method, path string) (*httptest.ResponseRecorder, body) {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	var b body
	json.Unmarshal(rec.Body.Bytes(), &b)
	return rec, b
}

func TestFromMapsEverySource(t *testing.T) {
	var ve validator.ValidationErrors
	type signup struct {
		Email string `validate:"required,email"`
	}
	errors.As(validator.New().Struct(signup{Email: "x"}), &ve)

	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{"typed", httperr.MissingField.New("placeholder", "username"), 400, "400-001"},
		{"typed wrapped with %w", fmt.Errorf("create user: %w", httperr.MissingField.New("placeholder", "x")), 400, "400-001"},
		{"ad hoc", httperr.New(400, "400-002", "Check-in date must be before check-out date"), 400, "400-002"},
		{"echo 404", echo.ErrNotFound, 404, "404-000"},
		{"echo 413", echo.ErrStatusRequestEntityTooLarge, 413, "413-000"},
		{"echo 415", echo.ErrUnsupportedMediaType, 415, "415-000"},
		{"echo 503 (timeout middleware)", echo.ErrServiceUnavailable, 503, "503-000"},
		{"echo 401", echo.ErrUnauthorized, 401, "401-000"},
		{"echo 418, not in catalog", echo.NewHTTPError(http.StatusTeapot), 418, "418-000"},
		{"echo nested in Internal", echo.NewHTTPError(500).SetInternal(echo.ErrForbidden), 403, "403-000"},
		{"validator", ve, 422, "422-001"},
		{"max bytes", &http.MaxBytesError{Limit: 10}, 413, "413-000"},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), 504, "504-000"},
		{"plain", errors.New("disk full"), 500, "INTERNAL_SERVER_ERROR"},
	}
	e := echo.New()
	c := e.NewContext(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder())
	for _, tc := range tests {
		got := httperr.From(tc.err, c)
		if got.Status != tc.wantStatus || got.Code != tc.wantCode {
			t.Errorf("From(%s) = %d %s; want %d %s", tc.name, got.Status, got.Code, tc.wantStatus, tc.wantCode)
		}
	}
}

func TestErrorsIsAndAs(t *testing.T) {
	cause := errors.New("connection refused")
	err := fmt.Errorf("load user: %w", httperr.ServiceUnavailable.Wrap(cause))
	if !errors.Is(err, httperr.ServiceUnavailable) {
		t.Errorf("errors.Is(err, ServiceUnavailable) = false; want true")
	}
	if errors.Is(err, httperr.Internal) {
		t.Errorf("errors.Is(err, Internal) = true; want false")
	}
	if !errors.Is(err, cause) {
		t.Errorf("errors.Is(err, cause) = false; want true (the cause stays reachable)")
	}
	if e := httperr.As(err); e == nil || e.Status != 503 {
		t.Errorf("As(err) = %v; want the 503 error", e)
	}
}

func TestEchoHTTPErrorMessageFromApplicationCode(t *testing.T) {
	e, _ := newEcho(false)
	e.GET("/custom", func(echo.Context) error { return echo.NewHTTPError(http.StatusConflict, "Order 42 is already shipped") })
	e.GET("/binder", func(echo.Context) error {
		return echo.NewHTTPError(http.StatusBadRequest, "strconv.ParseInt: parsing \"x\"").SetInternal(errors.New("internal"))
	})
	if _, b := serve(e, "GET", "/custom"); b.Message != "Order 42 is already shipped" || b.ErrorCode != "409-000" {
		t.Errorf("GET /custom = %s %q; want 409-000 with the handler's message", b.ErrorCode, b.Message)
	}
	if _, b := serve(e, "GET", "/binder"); strings.Contains(b.Message, "strconv") {
		t.Errorf("GET /binder message = %q; want no Go internals", b.Message)
	}
}

func TestRouter405NamesMethodsAndKeepsAllow(t *testing.T) {
	e, _ := newEcho(false)
	ok := func(echo.Context) error { return nil }
	e.GET("/things", ok)
	e.POST("/things", ok)
	rec, b := serve(e, "DELETE", "/things")
	if rec.Code != 405 || b.ErrorCode != "405-001" {
		t.Fatalf("DELETE /things = %d %s; want 405 405-001", rec.Code, b.ErrorCode)
	}
	if want := "Method not allowed. Expected GET, POST but received DELETE"; b.Message != want {
		t.Errorf("message = %q; want %q", b.Message, want)
	}
	if got := rec.Header().Get("Allow"); got != "OPTIONS, GET, POST" {
		t.Errorf("Allow = %q; want %q", got, "OPTIONS, GET, POST")
	}
}

func TestPanicInMiddlewareIsRecovered(t *testing.T) {
	e, logs := newEcho(true)
	e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().URL.Path == "/boom" {
				panic("middleware exploded")
			}
			return next(c)
		}
	})
	e.GET("/ok", func(c echo.Context) error { return c.String(200, "ok") })
	rec, b := serve(e, "GET", "/boom")
	if rec.Code != 500 || b.ErrorCode != "INTERNAL_SERVER_ERROR" {
		t.Fatalf("GET /boom = %d %s; want 500 INTERNAL_SERVER_ERROR", rec.Code, b.ErrorCode)
	}
	if !strings.Contains(b.Traceback, "TestPanicInMiddlewareIsRecovered") {
		t.Errorf("traceback does not show the panicking middleware:\n%s", b.Traceback)
	}
	if !strings.Contains(logs.String(), "middleware exploded") {
		t.Errorf("log does not contain the panic value:\n%s", logs)
	}
	if rec, _ := serve(e, "GET", "/ok"); rec.Code != 200 {
		t.Errorf("after a panic, GET /ok = %d; want 200", rec.Code)
	}
}

func TestAbortHandlerPanicIsNotSwallowed(t *testing.T) {
	e, _ := newEcho(false)
	e.GET("/abort", func(echo.Context) error { panic(http.ErrAbortHandler) })
	defer func() {
		if r := recover(); r != http.ErrAbortHandler {
			t.Errorf("recovered %v; want http.ErrAbortHandler to reach net/http", r)
		}
	}()
	serve(e, "GET", "/abort")
	t.Errorf("ServeHTTP returned; want the ErrAbortHandler panic to propagate")
}

// Echo's BodyDump and Logger middlewares call the error handler and then return the error, so
// Echo calls it again: the body must still be one envelope.
func TestHandlerCalledTwiceWritesOneBody(t *testing.T) {
	for name, mw := range map[string]echo.MiddlewareFunc{
		"BodyDump": middleware.BodyDump(func(echo.Context, []byte, []byte) {}),
		//lint:ignore SA1019 deprecated, but still used, and it calls the error handler itself
		"Logger": middleware.LoggerWithConfig(middleware.LoggerConfig{Output: io.Discard}),
	} {
		e, logs := newEcho(false)
		e.Use(mw)
		e.GET("/fail", func(echo.Context) error { return httperr.Conflict.New() })
		rec, _ := serve(e, "GET", "/fail")
		dec := json.NewDecoder(rec.Body)
		var first, second map[string]any
		if err := dec.Decode(&first); err != nil {
			t.Fatalf("%s: first body: %v", name, err)
		}
		if err := dec.Decode(&second); err != io.EOF {
			t.Errorf("%s: a second body was written: %v %v", name, second, err)
		}
		// The second call is recognised as such, not mistaken for an error after commit.
		if n := strings.Count(logs.String(), `"msg":"request rejected"`); n != 1 {
			t.Errorf("%s: error logged %d times; want once\n%s", name, n, logs)
		}
		if strings.Contains(logs.String(), "after response was committed") {
			t.Errorf("%s: second call logged as a late error:\n%s", name, logs)
		}
	}
}

func TestCommittedResponseGetsNothingMore(t *testing.T) {
	e, logs := newEcho(false)
	e.GET("/stream", func(c echo.Context) error {
		c.Response().WriteHeader(200)
		c.Response().Write([]byte("partial"))
		return errors.New("stream broke")
	})
	rec, _ := serve(e, "GET", "/stream")
	if rec.Code != 200 || rec.Body.String() != "partial" {
		t.Errorf("GET /stream = %d %q; want 200 %q", rec.Code, rec.Body, "partial")
	}
	if n := strings.Count(logs.String(), "after response was committed"); n != 1 {
		t.Errorf("committed warnings logged = %d; want 1\n%s", n, logs)
	}
}

func TestProductionLogsTheRealErrorOnce(t *testing.T) {
	e, logs := newEcho(false)
	e.GET("/x", func(echo.Context) error { return errors.New("pq: password authentication failed") })
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set(echo.HeaderXRequestID, "rid-7")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if strings.Contains(rec.Body.String(), "password") {
		t.Errorf("body leaks the Go error: %s", rec.Body)
	}
	var lines int
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, "pq: password authentication failed") {
			lines++
			if !strings.Contains(line, `"request_id":"rid-7"`) {
				t.Errorf("error log line has no request id: %s", line)
			}
		}
	}
	if lines != 1 {
		t.Errorf("the real error is logged %d times; want once\n%s", lines, logs)
	}
}

func TestDetailsKeys(t *testing.T) {
	e, _ := newEcho(false)
	details := []httperr.FieldError{{Field: "email", Message: "Required"}}
	e.GET("/bulk", func(echo.Context) error { return httperr.BulkValidation.New().WithDetails(details...) })
	e.GET("/validation", func(echo.Context) error { return httperr.Validation.New().WithDetails(details...) })
	e.GET("/none", func(echo.Context) error { return httperr.Validation.New() })

	if _, b := serve(e, "GET", "/bulk"); len(b.ValidationErrors) != 1 || b.Errors != nil {
		t.Errorf("BulkValidation: validation_errors = %v, errors = %v; want details under validation_errors", b.ValidationErrors, b.Errors)
	}
	if _, b := serve(e, "GET", "/validation"); len(b.Errors) != 1 || b.ValidationErrors != nil {
		t.Errorf("Validation: errors = %v, validation_errors = %v; want details under errors", b.Errors, b.ValidationErrors)
	}
	rec, _ := serve(e, "GET", "/none")
	if strings.Contains(rec.Body.String(), `"errors"`) {
		t.Errorf("no details, body = %s; want no errors key", rec.Body)
	}
}
