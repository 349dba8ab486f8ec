package example_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apitemplate/server/internal/config"
)

// FuzzRequestBodies sends arbitrary bodies and content types to the example's POST routes:
// whatever arrives, the answer is never a 5xx and always one valid envelope whose
// http_status matches the status line. The seed corpus runs in `make test`; explore with
// go test -fuzz FuzzRequestBodies ./internal/example.
func FuzzRequestBodies(f *testing.F) {
	paths := []string{"/api/v1/users", "/api/v1/bookings", "/api/v1/signup"}
	f.Add(uint8(0), `{"username":"alice","email":"a@b.co"}`, "application/json")
	f.Add(uint8(1), `{"hotel_id":"H","check_in":"2026-01-02","check_out":"2026-01-01","guests":1}`, "application/json")
	f.Add(uint8(1), `{"guests":"many"}`, "application/json")
	f.Add(uint8(1), `{"guests":1e400}`, "application/json")
	f.Add(uint8(2), `{"username":["x"],"age":-1}`, "application/json")
	f.Add(uint8(2), `username=%zz&age=x`, "application/x-www-form-urlencoded")
	f.Add(uint8(0), "\x00\xff{", "application/json; charset=utf-8")
	f.Add(uint8(0), `[]`, "application/vnd.api+json")
	f.Add(uint8(2), `{}`, "multipart/form-data; boundary=x")
	f.Add(uint8(0), `<a/>`, "text/xml")
	f.Add(uint8(1), strings.Repeat(`{"a":`, 200), "application/json")
	e := newServer(f, config.Production)
	f.Fuzz(func(t *testing.T, route uint8, body, contentType string) {
		path := paths[int(route)%len(paths)]
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q (%s) = %d; want no 5xx\n%s", path, body, contentType, rec.Code, rec.Body)
		}
		var env struct {
			Success    *bool  `json:"success"`
			HTTPStatus int    `json:"http_status"`
			ErrorCode  string `json:"error_code"`
			Message    string `json:"message"`
		}
		dec := json.NewDecoder(rec.Body)
		if err := dec.Decode(&env); err != nil || dec.More() || env.Success == nil {
			t.Fatalf("POST %s %q: body is not one envelope (%v): %s", path, body, err, rec.Body)
		}
		if !*env.Success && (env.HTTPStatus != rec.Code || env.ErrorCode == "" || env.Message == "") {
			t.Fatalf("POST %s %q: envelope %+v does not match status %d", path, body, env, rec.Code)
		}
	})
}
