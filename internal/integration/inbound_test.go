package integration_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/apitemplate/server/internal/httperr"
	"github.com/apitemplate/server/internal/integration"
	"github.com/apitemplate/server/internal/integration/integrationtest"
	"github.com/apitemplate/server/internal/requestid"
)

func TestInboundRecordsWebhooks(t *testing.T) {
	sink := &integrationtest.Sink{}
	e := echo.New()
	e.HTTPErrorHandler = (&httperr.Handler{Logger: discardLogger()}).Handle
	e.Pre(requestid.Middleware())
	hook := integration.Inbound(sink, integration.Options{Service: "warehouse", Description: "Shipment update"})
	e.POST("/hooks/shipments", func(c echo.Context) error {
		ctx := integration.WithReference(c.Request().Context(), "Shipment", "S-7")
		c.SetRequest(c.Request().WithContext(ctx))
		return c.JSON(http.StatusAccepted, map[string]string{"status": "queued"})
	}, hook)
	e.POST("/hooks/broken", func(echo.Context) error { return httperr.MissingField.New("placeholder", "shipment_id") }, hook)
	e.POST("/not-recorded", func(c echo.Context) error { return c.NoContent(204) })

	post := func(path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(echo.HeaderXRequestID, "hook-1")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	if rec := post("/hooks/shipments", `{"shipment_id":"S-7"}`); rec.Code != 202 || rec.Body.String() != "{\"status\":\"queued\"}\n" {
		t.Errorf("webhook answer = %d %q; want it unchanged by the recorder", rec.Code, rec.Body)
	}
	if rec := post("/hooks/broken", `{}`); rec.Code != 400 {
		t.Errorf("failing webhook = %d; want the handler's 400", rec.Code)
	}
	post("/not-recorded", `{}`)

	recs := sink.Records()
	if len(recs) != 2 {
		t.Fatalf("records = %d; want 2 (only routes with the middleware)", len(recs))
	}
	ok, bad := recs[0], recs[1]
	checks := []struct {
		field     string
		got, want any
	}{
		{"is_remote_request", ok.IsRemoteRequest, true},
		{"service", ok.Service, "warehouse"},
		{"request_description", ok.RequestDescription, "Shipment update"},
		{"request_id", ok.RequestID, "hook-1"},
		{"url", ok.URL, "http://example.com/hooks/shipments"},
		{"status_code", deref(ok.StatusCode), 202},
		{"status", ok.Status, integration.StatusCompleted},
		{"data", deref(ok.Data), `{"shipment_id":"S-7"}`},
		{"output", deref(ok.Output), "{\"status\":\"queued\"}\n"},
		{"reference", ok.ReferenceType + "/" + ok.ReferenceID, "Shipment/S-7"},
		{"failed status", bad.Status, integration.StatusFailed},
		{"failed status_code", deref(bad.StatusCode), 400},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v; want %v", c.field, c.got, c.want)
		}
	}
	if !strings.Contains(deref(bad.Error), "400-001") || !strings.Contains(deref(bad.Output), "Field shipment_id is required") {
		t.Errorf("failed webhook error = %q, output = %q; want the error and the envelope sent", deref(bad.Error), deref(bad.Output))
	}
}
