package normalize_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/apitemplate/server/internal/normalize"
)

type order struct {
	ID       int    `param:"id"`
	Expand   bool   `query:"expand"`
	Email    string `json:"email" form:"email" validate:"required,email"`
	Quantity int    `json:"quantity" form:"quantity" validate:"gte=1"`
	Note     string `json:"note,omitempty" form:"note" validate:"max=5"`
}

func TestBind(t *testing.T) {
	e, r, _ := setup(false)
	e.POST("/orders/:id", normalize.Handle(r, func(c echo.Context) (order, error) {
		var o order
		err := normalize.Bind(c, &o)
		return o, err
	}))
	tests := []struct {
		name, path, contentType, body string
		wantStatus                    int
		wantCode                      string
		wantFields                    []string
	}{
		{"json, path and query", "/orders/5?expand=true", "application/json", `{"email":"a@b.co","quantity":2}`, 200, "", nil},
		{"form", "/orders/5", "application/x-www-form-urlencoded", `email=a%40b.co&quantity=3`, 200, "", nil},
		{"every rule at once", "/orders/5", "application/json", `{"email":"nope","quantity":0,"note":"too long"}`, 422, "422-001", []string{"email", "quantity", "note"}},
		{"type error with rule errors", "/orders/5", "application/json", `{"email":"nope","quantity":"two"}`, 422, "422-001", []string{"quantity", "email"}},
		{"malformed json", "/orders/5", "application/json", `{"email":`, 400, "400-004", nil},
		{"trailing data", "/orders/5", "application/json", `{"email":"a@b.co","quantity":1} {}`, 400, "400-004", nil},
		{"stray closing brace", "/orders/5", "application/json", `{"email":"a@b.co","quantity":1}}`, 400, "400-004", nil},
		{"array body", "/orders/5", "application/json", `[1,2]`, 400, "400-004", nil},
		{"bad path value", "/orders/five", "application/json", `{}`, 400, "400-005", nil},
		{"bad query value", "/orders/5?expand=maybe", "application/json", `{}`, 400, "400-005", nil},
		{"unsupported type", "/orders/5", "text/csv", `a,b`, 415, "415-000", nil},
		{"no content type", "/orders/5", "", `{"email":"a@b.co"}`, 415, "415-000", nil},
	}
	for _, tc := range tests {
		req := httptest.NewRequest("POST", tc.path, strings.NewReader(tc.body))
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		var b struct {
			ErrorCode string `json:"error_code"`
			Message   string `json:"message"`
			Errors    []struct{ Field string }
			Data      struct {
				ID     int
				Expand bool
			}
		}
		json.Unmarshal(rec.Body.Bytes(), &b)
		if rec.Code != tc.wantStatus || b.ErrorCode != tc.wantCode {
			t.Errorf("%s: status = %d %s; want %d %s (%s)", tc.name, rec.Code, b.ErrorCode, tc.wantStatus, tc.wantCode, rec.Body)
			continue
		}
		var fields []string
		for _, f := range b.Errors {
			fields = append(fields, f.Field)
		}
		if strings.Join(fields, ",") != strings.Join(tc.wantFields, ",") {
			t.Errorf("%s: error fields = %v; want %v", tc.name, fields, tc.wantFields)
		}
		if strings.Contains(b.Message, "json:") || strings.Contains(b.Message, "strconv") || strings.Contains(b.Message, "Go struct") {
			t.Errorf("%s: message %q shows Go internals", tc.name, b.Message)
		}
		if tc.name == "json, path and query" && (b.Data.ID != 5 || !b.Data.Expand) {
			t.Errorf("%s: bound path/query = %+v; want id 5, expand true", tc.name, b.Data)
		}
	}
}
