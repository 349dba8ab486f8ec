package health_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/apitemplate/server/internal/config"
	"github.com/apitemplate/server/internal/database"
	"github.com/apitemplate/server/internal/database/dbtest"
	"github.com/apitemplate/server/internal/health"
	"github.com/apitemplate/server/internal/normalize"
	"github.com/apitemplate/server/internal/server"
)

func TestHealthz(t *testing.T) {
	db := dbtest.SQLite(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := server.New(config.Default(), log, health.New(&normalize.Responder{Logger: log}, db))
	check := func() (int, map[string]any) {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		var body map[string]any
		json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, body
	}
	if code, body := check(); code != 200 || body["data"].(map[string]any)["status"] != "ok" {
		t.Errorf("GET /healthz = %d %v; want 200 with status ok", code, body)
	}
	database.Close(db) // the database goes away
	if code, body := check(); code != 503 || body["error_code"] != "503-000" {
		t.Errorf("GET /healthz with the database closed = %d %v; want 503 503-000", code, body)
	}
}
