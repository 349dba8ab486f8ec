package example_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apitemplate/server/internal/config"
	"github.com/apitemplate/server/internal/example"
	"github.com/apitemplate/server/internal/integration"
	"github.com/apitemplate/server/internal/integration/integrationtest"
	"github.com/apitemplate/server/internal/normalize"
	"github.com/apitemplate/server/internal/server"
)

// TestOrderIsForwardedAndRecorded checks what the ERP receives (the order JSON unchanged,
// the bearer token) and what the integration log stores (service, reference, no token).
func TestOrderIsForwardedAndRecorded(t *testing.T) {
	var got struct {
		body, auth string
	}
	erp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.body, got.auth = string(b), r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		io.WriteString(w, `{"erp_order_id":"SO-9","echo":`+string(b)+`}`)
	}))
	defer erp.Close()

	sink := &integrationtest.Sink{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := &normalize.Responder{Logger: log}
	client := integration.NewClient(sink, integration.Options{Service: "erp"})
	e := server.New(config.Default(), log, example.New(r, &example.ERP{URL: erp.URL, Token: "s3cr3t-erp-token", Client: client}))

	order := `{"order_id": 42, "items": [{"sku": "X1", "qty": 2}], "note": "ring twice"}`
	rec := request{method: "POST", path: "/api/v1/orders", body: order, contentType: jsonCT}.do(t, e)
	if rec.Code != 201 {
		t.Fatalf("POST /api/v1/orders = %d %s; want 201", rec.Code, rec.Body)
	}
	if got.body != order {
		t.Errorf("ERP received %q; want the order unchanged %q", got.body, order)
	}
	if got.auth != "Bearer s3cr3t-erp-token" {
		t.Errorf("ERP Authorization = %q; want the bearer token", got.auth)
	}
	var env struct {
		Data struct {
			ERPOrderID string `json:"erp_order_id"`
		}
	}
	json.Unmarshal(rec.Body.Bytes(), &env)
	if env.Data.ERPOrderID != "SO-9" {
		t.Errorf("envelope data = %s; want the ERP's answer", rec.Body)
	}

	recs := sink.Records()
	if len(recs) != 1 {
		t.Fatalf("records = %d; want 1", len(recs))
	}
	rr := recs[0]
	if rr.Service != "erp" || rr.ReferenceType != "Order" || rr.ReferenceID != "42" || rr.RequestID != "req-golden-1" || rr.Status != integration.StatusCompleted {
		t.Errorf("record = service %q, reference %s/%s, request_id %q, status %s; want erp, Order/42, req-golden-1, Completed",
			rr.Service, rr.ReferenceType, rr.ReferenceID, rr.RequestID, rr.Status)
	}
	if strings.Contains(string(rr.RequestHeaders), "s3cr3t-erp-token") {
		t.Errorf("request_headers store the token: %s", rr.RequestHeaders)
	}
}

func TestUnreachableERPIs502(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sink := &integrationtest.Sink{}
	erp := &example.ERP{URL: "http://127.0.0.1:1", Token: "t", Client: integration.NewClient(sink, integration.Options{Service: "erp"})}
	e := server.New(config.Default(), log, example.New(&normalize.Responder{Logger: log}, erp))
	rec := request{method: "POST", path: "/api/v1/orders", body: `{"order_id":"7","items":[1]}`, contentType: jsonCT}.do(t, e)
	var env struct {
		ErrorCode string `json:"error_code"`
	}
	json.Unmarshal(rec.Body.Bytes(), &env)
	if rec.Code != 502 || env.ErrorCode != "502-002" {
		t.Errorf("POST with the ERP down = %d %s; want 502 502-002", rec.Code, env.ErrorCode)
	}
	if recs := sink.Records(); len(recs) != 1 || recs[0].Status != integration.StatusFailed {
		t.Errorf("records = %d; want one Failed record of the attempt", len(recs))
	}
}

func TestOrderEdgeCases(t *testing.T) {
	erp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity) // an ERP that repeats what it was sent
		io.WriteString(w, `{"error":"rejected","received_headers":"Authorization: `+r.Header.Get("Authorization")+`"}`)
	}))
	defer erp.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	client := integration.NewClient(&integrationtest.Sink{}, integration.Options{Service: "erp"})
	e := server.New(config.Default(), log, example.New(&normalize.Responder{Logger: log}, &example.ERP{URL: erp.URL, Token: "s3cr3t-erp-token", Client: client}))

	rec := request{method: "POST", path: "/api/v1/orders", body: `{"order_id":"1","items":[1]}`, contentType: "text/plain"}.do(t, e)
	if rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("POST text/plain order = %d; want 415", rec.Code)
	}
	rec = request{method: "POST", path: "/api/v1/orders", body: `{"order_id":"1","items":[1]}`, contentType: jsonCT}.do(t, e)
	if rec.Code != http.StatusBadGateway || strings.Contains(rec.Body.String(), "s3cr3t-erp-token") {
		t.Errorf("ERP rejection echoing the token = %d %s; want 502 without the token", rec.Code, rec.Body)
	}
}
