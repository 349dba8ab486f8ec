package integration_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
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
	"github.com/apitemplate/server/internal/integration/integrationtest"
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

// TestRedactionHoldsOnRealBodies sends the bodies third parties really send (lenient JSON,
// JSON inside strings, multipart parts, XML and SOAP) and the query names that differ from
// the body's only in spelling, to go-httpbin's /anything, which echoes them back, and checks
// that no planted secret is in the stored record, request or echo.
func TestRedactionHoldsOnRealBodies(t *testing.T) {
	t.Parallel()
	up := newUpstream(t)
	const s = "Zq7-planted-secret-value" // one secret; each case plants it where it must be masked
	tests := []struct {
		name, contentType, body, query string
	}{
		{"JSON with a byte-order mark", "application/json", "\ufeff" + `{"password":"` + s + `"}`, ""},
		{"JSON with a trailing comma", "application/json", `{"password":"` + s + `",}`, ""},
		{"JSON with a comment", "application/json", `{/* login */ "password":"` + s + `"}`, ""},
		{"JSON with NaN", "application/json", `{"amount":NaN,"api_key":"` + s + `"}`, ""},
		{"JSON with single quotes", "application/json", `{'client_secret':'` + s + `'}`, ""},
		{"JSON with a raw control character", "application/json", "{\"note\":\"a\tb\",\"token\":\"" + s + "\"}", ""},
		{"JSON inside a JSON string", "application/json", `{"payload":"{\"password\":\"` + s + `\"}"}`, ""},
		{"multipart/mixed", `multipart/mixed; boundary=XyZ`,
			"--XyZ\r\nContent-Type: application/json\r\n\r\n{\"password\":\"" + s + "\"}\r\n--XyZ--\r\n", ""},
		{"multipart/related", `multipart/related; boundary=XyZ; type="application/xop+xml"`,
			"--XyZ\r\nContent-Type: application/xop+xml\r\n\r\n<Login><Password>" + s + "</Password></Login>\r\n--XyZ--\r\n", ""},
		{"XML element", "application/xml", `<order><apiKey>` + s + `</apiKey><id>1</id></order>`, ""},
		{"XML attribute", "text/xml", `<Credentials user="u" password="` + s + `"/>`, ""},
		{"SOAP with WS-Security", "application/soap+xml",
			`<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Header><wsse:Security><wsse:UsernameToken>` +
				`<wsse:Username>u</wsse:Username><wsse:Password Type="PasswordText">` + s + `</wsse:Password>` +
				`</wsse:UsernameToken></wsse:Security></soap:Header><soap:Body/></soap:Envelope>`, ""},
		{"query clientSecret", "", "", "clientSecret=" + s},
		{"query accessToken", "", "", "accessToken=" + s},
		{"query auth_token", "", "", "auth_token=" + s},
		{"query passwd", "", "", "passwd=" + s},
		{"query api-key", "", "", "api-key=" + s},
		{"a URL inside a query value", "", "", "next=" + url.QueryEscape("https://x.example/?token="+s)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sink := &integrationtest.Sink{}
			client := integration.NewClient(sink, integration.Options{Service: "httpbin"})
			req, err := http.NewRequest("POST", up.URL+"/anything?"+tt.query, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			send(t, client, req)
			r := sink.WaitFor(t, 1)[0]
			for col, v := range map[string]string{"url": r.URL, "data": deref(r.Data), "output": deref(r.Output)} {
				if strings.Contains(v, s) || strings.Contains(v, s[:12]) {
					t.Errorf("%s holds the secret: %s", col, around(v, s[:12]))
				}
			}
			if !strings.Contains(r.URL+deref(r.Data), "REDACTED") {
				t.Errorf("nothing redacted: url %q, data %.300s", r.URL, deref(r.Data))
			}
		})
	}
}

// TestEchoedSecretsAreMasked: a value redacted from the request is masked where the
// response repeats it URL-encoded, \u-escaped or base64-encoded.
func TestEchoedSecretsAreMasked(t *testing.T) {
	t.Parallel()
	const s = "p@ss/word+Zq7&x" // every escape changes it
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("X-Api-Key")
		fmt.Fprintf(w, `{"url_encoded":%q,"escaped":"%s","base64":%q,"base64url":%q}`,
			url.QueryEscape(got), unicodeEscape(got), base64.StdEncoding.EncodeToString([]byte(got)),
			base64.RawURLEncoding.EncodeToString([]byte(got)))
	}))
	t.Cleanup(up.Close)
	sink := &integrationtest.Sink{}
	client := integration.NewClient(sink, integration.Options{})
	req, _ := http.NewRequest("GET", up.URL, nil)
	req.Header.Set("X-Api-Key", s)
	send(t, client, req)
	out := deref(sink.WaitFor(t, 1)[0].Output)
	if strings.Count(out, "[REDACTED]") != 4 {
		t.Errorf("output = %s; want all four echoes masked", out)
	}
}

// unicodeEscape writes every character of s as a \u escape, as some JSON encoders do.
func unicodeEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	return b.String()
}

// TestClientErrorsCarryTheRedactedURL: a handler that logs the error of a failed call logs
// no token.
func TestClientErrorsCarryTheRedactedURL(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens: the call fails at once
	client := integration.NewClient(&integrationtest.Sink{}, integration.Options{})
	const secret = "Zq7-query-secret"
	for name, call := range map[string]func() error{
		"Get": func() error {
			_, err := client.Get("http://u:" + secret + "@" + dead + "/x?access_token=" + secret)
			return err
		},
		"Do": func() error {
			req, _ := http.NewRequest("POST", "http://"+dead+"/x?clientSecret="+secret+"&page=2", nil)
			_, err := client.Do(req)
			return err
		},
		"a URL that does not parse": func() error { _, err := client.Get("http://" + dead + "/x?token=" + secret + "\x7f"); return err },
	} {
		err := call()
		var ue *url.Error
		if err == nil || !errors.As(err, &ue) {
			t.Errorf("%s: err = %v; want a *url.Error", name, err)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(ue.URL, secret) {
			t.Errorf("%s: error %q holds the secret", name, err)
		}
	}
}
