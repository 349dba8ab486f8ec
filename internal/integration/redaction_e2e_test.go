package integration_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database/dbtest"
	"github.com/apitemplate/server/internal/integration"
)

func randomSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "s" + hex.EncodeToString(b)
}

// TestNoSecretIsStoredOrLogged plants random secrets in every place the issue lists (headers,
// URL userinfo and query keys, JSON at depth, form fields, and echoed back by the upstream),
// sends them through the recording client and an inbound webhook, stores the records with the
// real buffer, and asserts that no secret appears in any stored column or any log line.
func TestNoSecretIsStoredOrLogged(t *testing.T) {
	up := newUpstream(t) // go-httpbin's /anything echoes headers, query, body and JSON back
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		var logs bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		buf := integration.NewBuffer(db, integration.BufferConfig{Logger: log})
		client := integration.NewClient(buf, integration.Options{Service: "httpbin"})
		webhook := newWebhookServer(t, buf)

		var planted []string
		plant := func() string { s := randomSecret(t); planted = append(planted, s); return s }
		for i := 0; i < 10; i++ {
			// Outbound JSON with secrets at depth, in headers, userinfo and every query key.
			q := url.Values{}
			for _, k := range []string{"token", "access_token", "refresh_token", "api_key", "apikey", "key", "password", "secret",
				"client_secret", "signature", "sig", "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "AWSAccessKeyId", "X-Goog-Signature"} {
				q.Set(k, plant())
			}
			u := strings.Replace(up.URL, "http://", "http://erp-user:"+plant()+"@", 1) + "/anything?" + q.Encode()
			body := fmt.Sprintf(`{"order":{"items":[{"card_number":%q,"cvv":%q}],"customer":{"password":%q,"ssn":%q}},"private_key":%q,"note":"plain"}`,
				plant(), plant(), plant(), plant(), plant())
			req, _ := http.NewRequest("POST", u, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+plant())
			req.Header.Set("X-Api-Key", plant())
			req.Header.Set("X-Refresh-Token", plant())
			req.Header.Set("Cookie", "session="+plant())
			send(t, client, req)

			// Outbound form, echoed back by the upstream inside its "form" object.
			form := url.Values{"username": {"bob"}, "password": {plant()}, "client_secret": {plant()}}
			req, _ = http.NewRequest("POST", up.URL+"/anything", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			send(t, client, req)

			// Inbound webhook whose handler echoes the secret inside a plain string field.
			hookSecret := plant()
			req, _ = http.NewRequest("POST", webhook.URL+"/hooks/payments?signature="+plant(),
				strings.NewReader(`{"event":"paid","api_key":"`+hookSecret+`"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Webhook-Secret", plant())
			send(t, http.DefaultClient, req)
		}
		// The synchronous API (Frappe's create_request_log and status changes).
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for i := 0; i < 3; i++ {
			rec, err := integration.CreateRequestLog(ctx, db,
				map[string]any{"reference_doctype": "Payment", "reference_docname": "P-1", "card": map[string]string{"card_number": plant()}},
				integration.LogOptions{Service: "psp", URL: "https://psp.example/charge?access_token=" + plant(),
					RequestHeaders: http.Header{"Authorization": {"Basic " + plant()}, "X-Auth-Token": {plant()}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := integration.HandleSuccess(ctx, db, rec.ID, map[string]string{"refresh_token": plant()}); err != nil {
				t.Fatal(err)
			}
			if err := integration.HandleFailure(ctx, db, rec.ID, `{"error":"bad key","api_key":"`+plant()+`"}`); err != nil {
				t.Fatal(err)
			}
		}

		if err := buf.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if st := buf.Stats(); st.Stored != 30 {
			t.Fatalf("stored = %d; want 30 (10 × JSON, form, webhook): %+v", st.Stored, st)
		}

		stored := allColumnsAsText(t, db)
		if !strings.Contains(stored, "[REDACTED]") || !strings.Contains(stored, `plain`) {
			t.Fatalf("stored rows look empty or unredacted:\n%.2000s", stored)
		}
		for _, s := range planted {
			if strings.Contains(stored, s) {
				t.Errorf("secret %s stored:\n%.3000s", s, around(stored, s))
			}
			if strings.Contains(logs.String(), s) {
				t.Errorf("secret %s logged:\n%s", s, around(logs.String(), s))
			}
		}
	})
}

// newWebhookServer serves an Echo route recorded by integration.Inbound whose handler echoes
// the api_key it received, as careless providers' confirmation endpoints do.
func newWebhookServer(t *testing.T, sink integration.Sink) *httptest.Server {
	e := echo.New()
	e.POST("/hooks/payments", func(c echo.Context) error {
		var in struct {
			APIKey string `json:"api_key"`
		}
		if err := c.Bind(&in); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]string{"received": "key " + in.APIKey + " accepted"})
	}, integration.Inbound(sink, integration.Options{Service: "payments"}))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

// allColumnsAsText reads every column of every record as text, whatever the database.
func allColumnsAsText(t *testing.T, db *gorm.DB) string {
	t.Helper()
	rows, err := db.Raw("SELECT * FROM integration_requests").Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%s=%v\n", cols[i], v)
		}
	}
	return b.String()
}

func around(s, sub string) string {
	i := strings.Index(s, sub)
	return s[max(0, i-300):min(len(s), i+len(sub)+100)]
}
