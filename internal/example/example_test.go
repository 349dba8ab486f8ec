package example_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/apitemplate/server/internal/config"
	"github.com/apitemplate/server/internal/example"
	"github.com/apitemplate/server/internal/integration"
	"github.com/apitemplate/server/internal/normalize"
	"github.com/apitemplate/server/internal/server"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// newServer builds the real middleware chain and error handler with the example's routes.
func newServer(t testing.TB, env string) *echo.Echo {
	t.Helper()
	cfg := config.Default()
	cfg.Env = env
	cfg.BodyLimit = 1 << 10 // small, so the 413 case needs no megabyte body
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := &normalize.Responder{Development: cfg.IsDevelopment(), Logger: log}
	erp, err := example.StartFakeERP("test-token")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { erp.Close(context.Background()) })
	client := integration.NewClient(discard{}, integration.Options{Service: "erp"})
	return server.New(cfg, log, example.New(r, &example.ERP{URL: erp.URL, Token: "test-token", Client: client}))
}

// discard drops records: these tests are about envelopes; orders_test.go checks the records.
type discard struct{}

func (discard) Add(*integration.Request) {}

type request struct {
	method, path, body, contentType string
	header                          map[string]string
}

func (r request) do(t testing.TB, e http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	if r.body == "" {
		req = httptest.NewRequest(r.method, r.path, nil)
	}
	if r.contentType != "" {
		req.Header.Set(echo.HeaderContentType, r.contentType)
	}
	req.Header.Set(echo.HeaderXRequestID, "req-golden-1")
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

const jsonCT = "application/json"

// envelopeCases are every envelope the README documents, plus the bad-input cases of the
// issue. Each has a golden file per environment: testdata/NAME.ENV.golden.
var envelopeCases = []struct {
	name string
	req  request
}{
	{"create_user", request{method: "POST", path: "/api/v1/users", body: `{"username":"alice","email":"alice@example.com"}`, contentType: jsonCT}},
	{"create_user_missing_username", request{method: "POST", path: "/api/v1/users", body: `{"email":"alice@example.com"}`, contentType: jsonCT}},
	{"create_user_missing_email", request{method: "POST", path: "/api/v1/users", body: `{"username":"alice"}`, contentType: jsonCT}},
	{"create_user_form", request{method: "POST", path: "/api/v1/users", body: `username=bob&email=bob%40example.com`, contentType: "application/x-www-form-urlencoded"}},
	{"users_wrong_method", request{method: "DELETE", path: "/api/v1/users"}},
	{"get_user_not_found", request{method: "GET", path: "/api/v1/users/42"}},
	{"get_user_bad_id", request{method: "GET", path: "/api/v1/users/abc"}},
	{"create_booking", request{method: "POST", path: "/api/v1/bookings", body: `{"hotel_id":"H-7","check_in":"2026-12-01","check_out":"2026-12-04","guests":2}`, contentType: jsonCT}},
	{"create_booking_missing_check_in", request{method: "POST", path: "/api/v1/bookings", body: `{"hotel_id":"H-7","guests":2}`, contentType: jsonCT}},
	{"create_booking_dates_reversed", request{method: "POST", path: "/api/v1/bookings", body: `{"hotel_id":"H-7","check_in":"2026-12-04","check_out":"2026-12-01","guests":2}`, contentType: jsonCT}},
	{"bookings_get", request{method: "GET", path: "/api/v1/bookings"}},
	{"signup", request{method: "POST", path: "/api/v1/signup", body: `{"username":"carol","email":"carol@example.com","password":"correct horse"}`, contentType: jsonCT}},
	{"signup_tag_validation", request{method: "POST", path: "/api/v1/signup", body: `{"username":"c!","email":"not-an-email","age":"twelve"}`, contentType: jsonCT}},
	{"signup_bulk_validation", request{method: "POST", path: "/api/v1/signup", body: `{"username":"admin","email":"admin@example.invalid","password":"admin-password"}`, contentType: jsonCT}},
	{"legacy_post", request{method: "POST", path: "/api/v1/examples/legacy"}},
	{"legacy_get", request{method: "GET", path: "/api/v1/examples/legacy"}},
	{"panic", request{method: "GET", path: "/api/v1/examples/panic"}},
	{"failure", request{method: "GET", path: "/api/v1/examples/failure"}},
	{"malformed_json", request{method: "POST", path: "/api/v1/users", body: `{"username": "alice",`, contentType: jsonCT}},
	{"invalid_json_syntax", request{method: "POST", path: "/api/v1/users", body: `{"username": alice}`, contentType: jsonCT}},
	{"body_too_large", request{method: "POST", path: "/api/v1/users", body: `{"username":"` + strings.Repeat("a", 2048) + `"}`, contentType: jsonCT}},
	{"wrong_content_type", request{method: "POST", path: "/api/v1/users", body: `<user/>`, contentType: "application/xml"}},
	{"unknown_route", request{method: "GET", path: "/api/v1/nope"}},
	{"create_order", request{method: "POST", path: "/api/v1/orders", body: `{"order_id":"A-1001","items":[{"sku":"X1","qty":2}]}`, contentType: jsonCT}},
	{"create_order_rejected_by_erp", request{method: "POST", path: "/api/v1/orders", body: `{"order_id":"A-1002","items":[]}`, contentType: jsonCT}},
	{"create_order_missing_order_id", request{method: "POST", path: "/api/v1/orders", body: `{"items":[{"sku":"X1"}]}`, contentType: jsonCT}},
	{"problem_json", request{method: "POST", path: "/api/v1/signup", body: `{}`, contentType: jsonCT, header: map[string]string{"Accept": "application/problem+json"}}},
}

func TestEnvelopesGolden(t *testing.T) {
	for _, env := range []string{config.Development, config.Production} {
		e := newServer(t, env)
		for _, tc := range envelopeCases {
			t.Run(tc.name+"/"+env, func(t *testing.T) {
				rec := tc.req.do(t, e)
				got := render(t, rec, env)
				path := filepath.Join("testdata", tc.name+"."+env+".golden")
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s %s response differs from %s:\n--- got\n%s\n--- want\n%s", tc.req.method, tc.req.path, path, got, want)
				}
			})
		}
	}
}

// render prints status, the headers that matter and the indented body in its real field
// order, with the values that change on every run (tracebacks, timings) replaced after
// checking they are there.
func render(t *testing.T, rec *httptest.ResponseRecorder, env string) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(rec.Result().Status + "\n")
	for _, h := range []string{"Content-Type", "Allow", "X-Request-Id"} {
		if v := rec.Header().Get(h); v != "" {
			b.WriteString(h + ": " + v + "\n")
		}
	}
	b.WriteString("\n")
	var body struct {
		Success   bool
		Traceback *string
		Metadata  *struct {
			ExecutionTimeMS *float64 `json:"execution_time_ms"`
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, rec.Body)
	}
	switch {
	case env == config.Production && body.Traceback != nil:
		t.Errorf("production body has a traceback: %s", *body.Traceback)
	case env == config.Development && !body.Success && body.Traceback == nil:
		t.Errorf("development error body has no traceback")
	case body.Metadata != nil && body.Metadata.ExecutionTimeMS == nil:
		t.Errorf("metadata has no execution_time_ms")
	}
	raw := tracebackRE.ReplaceAll(rec.Body.Bytes(), []byte(`"traceback":"<traceback>"`))
	raw = timingRE.ReplaceAll(raw, []byte(`"execution_time_ms":0`))
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		t.Fatalf("indent body: %v", err)
	}
	b.WriteString("\n")
	return b.Bytes()
}

var (
	tracebackRE = regexp.MustCompile(`"traceback":"(?:[^"\\]|\\.)*"`)
	timingRE    = regexp.MustCompile(`"execution_time_ms":[0-9.e+-]+`)
)

// TestTracebackPointsAtTheSource checks what the golden files hide: the development traceback
// names where the error was made, or where the panic happened.
func TestTracebackPointsAtTheSource(t *testing.T) {
	e := newServer(t, config.Development)
	tests := []struct {
		path string
		want string
	}{
		{"/api/v1/examples/panic", "example.(*Module).panics"},
		{"/api/v1/users/42", "example.(*Module).getUser"},
		{"/api/v1/examples/failure", "report store: connection reset by peer"},
	}
	for _, tc := range tests {
		rec := request{method: "GET", path: tc.path}.do(t, e)
		var body struct{ Traceback string }
		json.Unmarshal(rec.Body.Bytes(), &body)
		if !strings.Contains(body.Traceback, tc.want) {
			t.Errorf("GET %s traceback = %q; want it to contain %q", tc.path, body.Traceback, tc.want)
		}
	}
}

// TestProductionHidesGoErrors: an unexpected error's text must not reach the client.
func TestProductionHidesGoErrors(t *testing.T) {
	e := newServer(t, config.Production)
	for _, path := range []string{"/api/v1/examples/failure", "/api/v1/examples/panic"} {
		rec := request{method: "GET", path: path}.do(t, e)
		for _, leak := range []string{"connection reset", "nil map", "goroutine", ".go:"} {
			if strings.Contains(rec.Body.String(), leak) {
				t.Errorf("GET %s body = %s; leaks %q", path, rec.Body, leak)
			}
		}
	}
}

func TestHeadGetsStatusWithoutBody(t *testing.T) {
	e := newServer(t, config.Development)
	rec := request{method: "HEAD", path: "/api/v1/nope"}.do(t, e)
	if rec.Code != http.StatusNotFound {
		t.Errorf("HEAD /api/v1/nope status = %d; want 404", rec.Code)
	}
	if rec.Body.Len() != 0 {
		t.Errorf("HEAD body = %q; want empty", rec.Body)
	}
}

func TestRequestID(t *testing.T) {
	e := newServer(t, config.Production)
	tests := []struct {
		incoming string
		reused   bool
	}{
		{"abc-123", true},
		{"trace:01HF.x_y", true},
		{"", false},
		{"has space", false},
		{`quote"`, false},
		{strings.Repeat("a", 129), false},
	}
	for _, tc := range tests {
		req := httptest.NewRequest("GET", "/api/v1/users/9", nil)
		if tc.incoming != "" {
			req.Header.Set(echo.HeaderXRequestID, tc.incoming)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		got := rec.Header().Get(echo.HeaderXRequestID)
		var body struct {
			RequestID string `json:"request_id"`
		}
		json.Unmarshal(rec.Body.Bytes(), &body)
		if body.RequestID != got {
			t.Errorf("X-Request-ID %q: body request_id = %q; header = %q", tc.incoming, body.RequestID, got)
		}
		if reused := got == tc.incoming; reused != tc.reused {
			t.Errorf("X-Request-ID %q: response id = %q; reused = %v, want %v", tc.incoming, got, reused, tc.reused)
		}
		if got == "" {
			t.Errorf("X-Request-ID %q: no id in response", tc.incoming)
		}
	}
}

// A body over BODY_LIMIT is a 413 whatever its type, also when its length is not declared
// (chunked), so that only reading it finds out.
func TestChunkedBodyOverLimitIs413(t *testing.T) {
	e := newServer(t, config.Production)
	for _, tc := range []struct{ contentType, body string }{
		{"application/json", `{"username":"` + strings.Repeat("a", 4096) + `"}`},
		{"application/x-www-form-urlencoded", "username=" + strings.Repeat("a", 4096)},
	} {
		req := httptest.NewRequest("POST", "/api/v1/users", strings.NewReader(tc.body))
		req.ContentLength = -1 // as with Transfer-Encoding: chunked
		req.Header.Set("Content-Type", tc.contentType)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked %s body over the limit = %d %s; want 413", tc.contentType, rec.Code, rec.Body)
		}
	}
}

// HEAD is answered by the GET route, with the status and headers and no body.
func TestHeadOnGetRoutes(t *testing.T) {
	e := newServer(t, config.Production)
	for _, tc := range []struct {
		path string
		want int
	}{{"/api/v1/users/42", 404}, {"/api/v1/users/abc", 400}, {"/api/v1/examples/legacy", 405}} {
		rec := request{method: "HEAD", path: tc.path}.do(t, e)
		if rec.Code != tc.want || rec.Body.Len() != 0 {
			t.Errorf("HEAD %s = %d with %d body bytes; want %d and no body", tc.path, rec.Code, rec.Body.Len(), tc.want)
		}
	}
}
