package normalize_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/apitemplate/server/internal/httperr"
	"github.com/apitemplate/server/internal/normalize"
	"github.com/apitemplate/server/internal/requestid"
)

type item struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func setup(development bool) (*echo.Echo, *normalize.Responder, *bytes.Buffer) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	e := echo.New()
	e.HTTPErrorHandler = (&httperr.Handler{Development: development, Logger: log}).Handle
	e.Pre(requestid.Middleware())
	return e, &normalize.Responder{Development: development, Logger: log}, &logs
}

func do(e *echo.Echo, method, path string) (*httptest.ResponseRecorder, map[string]any) {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set(echo.HeaderXRequestID, "rid-1")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	var body map[string]any
	json.Unmarshal(rec.Body.Bytes(), &body)
	return rec, body
}

func TestDefaultMessageFollowsTheActualMethod(t *testing.T) {
	e, r, _ := setup(false)
	h := normalize.Handle(r, func(echo.Context) (item, error) { return item{ID: 1}, nil })
	e.Any("/x", h)
	tests := []struct{ method, want string }{
		{"GET", "Data retrieved successfully"},
		{"POST", "Resource created successfully"},
		{"PUT", "Resource updated successfully"},
		{"PATCH", "Resource partially updated successfully"},
		{"DELETE", "Resource deleted successfully"},
		{"OPTIONS", "Options retrieved successfully"},
		{"PROPFIND", "Request completed successfully"},
	}
	for _, tc := range tests {
		rec, body := do(e, tc.method, "/x")
		if rec.Code != 200 || body["message"] != tc.want {
			t.Errorf("%s /x = %d %q; want 200 %q", tc.method, rec.Code, body["message"], tc.want)
		}
	}
	if rec, _ := do(e, "HEAD", "/x"); rec.Code != 200 {
		t.Errorf("HEAD /x = %d; want 200", rec.Code)
	}
	if got := normalize.DefaultMessage("HEAD"); got != "Headers retrieved successfully" {
		t.Errorf("DefaultMessage(HEAD) = %q; want %q", got, "Headers retrieved successfully")
	}
}

func TestOptions(t *testing.T) {
	e, r, _ := setup(true)
	ok := func(echo.Context) (item, error) { return item{ID: 7, Name: "x"}, nil }
	e.GET("/message", normalize.Handle(r, ok, normalize.Message("Item found")))
	e.GET("/reply", normalize.Handle(r, func(echo.Context) (normalize.Reply[item], error) {
		return normalize.Reply[item]{Data: item{ID: 1}, Message: "Custom success message"}, nil
	}))
	e.GET("/raw", normalize.Handle(r, ok, normalize.Raw()))
	e.POST("/created", normalize.Handle(r, ok, normalize.Status(http.StatusCreated)))
	e.GET("/nometa", normalize.Handle(r, ok, normalize.NoMetadata()))
	e.GET("/nil", normalize.Handle(r, func(echo.Context) (*item, error) { return nil, nil }))
	e.GET("/nilany", normalize.Handle(r, func(echo.Context) (any, error) { return nil, nil }))
	e.GET("/unchecked", normalize.Handle(r, ok, normalize.Method("POST"), normalize.SkipMethodCheck()))

	if _, b := do(e, "GET", "/message"); b["message"] != "Item found" {
		t.Errorf("Message option: message = %v; want %q", b["message"], "Item found")
	}
	if _, b := do(e, "GET", "/reply"); b["message"] != "Custom success message" || b["data"].(map[string]any)["id"] != 1.0 {
		t.Errorf("Reply: body = %v; want the handler's message and data", b)
	}
	if rec, _ := do(e, "GET", "/raw"); strings.TrimSpace(rec.Body.String()) != `{"id":7,"name":"x"}` {
		t.Errorf("Raw: body = %s; want the bare data", rec.Body)
	}
	if rec, _ := do(e, "POST", "/created"); rec.Code != 201 {
		t.Errorf("Status(201): status = %d; want 201", rec.Code)
	}
	if _, b := do(e, "GET", "/nometa"); b["metadata"] != nil {
		t.Errorf("NoMetadata: metadata = %v; want none", b["metadata"])
	}
	_, b := do(e, "GET", "/message")
	md, _ := b["metadata"].(map[string]any)
	if md["request_id"] != "rid-1" || md["method"] != "GET" || md["endpoint"] != "/message" {
		t.Errorf("metadata = %v; want request_id rid-1, method GET, endpoint /message", md)
	}
	for _, path := range []string{"/nil", "/nilany"} {
		if rec, _ := do(e, "GET", path); !strings.Contains(rec.Body.String(), `"data":{}`) {
			t.Errorf("GET %s body = %s; want nil data as {}", path, rec.Body)
		}
	}
	if rec, _ := do(e, "GET", "/unchecked"); rec.Code != 200 {
		t.Errorf("SkipMethodCheck: GET = %d; want 200", rec.Code)
	}
}

func TestMetadataOnlyInDevelopment(t *testing.T) {
	e, r, _ := setup(false)
	e.GET("/x", normalize.Handle(r, func(echo.Context) (item, error) { return item{}, nil }))
	if _, b := do(e, "GET", "/x"); b["metadata"] != nil {
		t.Errorf("production metadata = %v; want none", b["metadata"])
	}
}

func TestMethodCheck(t *testing.T) {
	e, r, _ := setup(false)
	h := normalize.Handle(r, func(echo.Context) (item, error) { return item{}, nil }, normalize.Method("post"))
	e.GET("/legacy", h)
	e.POST("/legacy", h)
	rec, b := do(e, "GET", "/legacy")
	if rec.Code != 405 || b["error_code"] != "405-001" || b["message"] != "Method not allowed. Expected POST but received GET" {
		t.Errorf("GET /legacy = %d %v; want 405 405-001", rec.Code, b)
	}
	if got := rec.Header().Get("Allow"); got != "POST" {
		t.Errorf("Allow = %q; want POST", got)
	}
	if rec, _ := do(e, "POST", "/legacy"); rec.Code != 200 {
		t.Errorf("POST /legacy = %d; want 200", rec.Code)
	}
}

func TestErrors(t *testing.T) {
	e, r, _ := setup(false)
	e.GET("/plain", normalize.Handle(r, func(echo.Context) (item, error) { return item{}, errors.New("secret detail") }))
	e.GET("/custom", normalize.Handle(r, func(echo.Context) (item, error) { return item{}, errors.New("x") }, normalize.ErrorMessage("Failed to process {handler}"), normalize.Name("orders")))
	e.GET("/typed", normalize.Handle(r, func(echo.Context) (item, error) { return item{}, httperr.Conflict.New() }))
	e.GET("/panic", normalize.Handle(r, func(echo.Context) (item, error) { panic("boom") }, normalize.Name("exploder")))

	tests := []struct {
		path        string
		wantStatus  int
		wantMessage string
	}{
		{"/plain", 500, "An unexpected error occurred in TestErrors"},
		{"/custom", 500, "Failed to process orders"},
		{"/typed", 409, httperr.Conflict.Template},
		{"/panic", 500, "An unexpected error occurred in exploder"},
	}
	for _, tc := range tests {
		rec, b := do(e, "GET", tc.path)
		if rec.Code != tc.wantStatus || b["message"] != tc.wantMessage {
			t.Errorf("GET %s = %d %q; want %d %q", tc.path, rec.Code, b["message"], tc.wantStatus, tc.wantMessage)
		}
	}
}

func TestRequestLogging(t *testing.T) {
	e, r, logs := setup(false)
	e.GET("/ok", normalize.Handle(r, func(c echo.Context) (item, error) {
		c.Set(normalize.UserKey, "alice")
		return item{}, nil
	}, normalize.Name("getItem")))
	e.GET("/quiet", normalize.Handle(r, func(echo.Context) (item, error) { return item{}, nil }, normalize.NoLog()))
	do(e, "GET", "/ok")
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		json.Unmarshal([]byte(l), &m)
		lines = append(lines, m)
	}
	if len(lines) != 2 || lines[0]["msg"] != "request started" || lines[1]["msg"] != "request completed" {
		t.Fatalf("log lines = %v; want started and completed", lines)
	}
	done := lines[1]
	for k, want := range map[string]any{"request_id": "rid-1", "handler": "getItem", "method": "GET", "path": "/ok", "user": "alice"} {
		if done[k] != want {
			t.Errorf("completed line %s = %v; want %v", k, done[k], want)
		}
	}
	if _, ok := done["execution_time_ms"].(float64); !ok {
		t.Errorf("completed line has no execution_time_ms: %v", done)
	}
	logs.Reset()
	do(e, "GET", "/quiet")
	if logs.Len() != 0 {
		t.Errorf("NoLog: logged %s", logs)
	}
}
