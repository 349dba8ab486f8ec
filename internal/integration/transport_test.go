package integration_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mccutchen/go-httpbin/v2/httpbin"

	"github.com/apitemplate/server/internal/integration"
	"github.com/apitemplate/server/internal/integration/integrationtest"
	"github.com/apitemplate/server/internal/requestid"
)

// doer is *http.Client or *integration.Client.
type doer interface {
	Do(*http.Request) (*http.Response, error)
}

// send makes the call and reads and closes the whole body, as a well-behaved caller does.
func send(t *testing.T, c doer, req *http.Request) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// newUpstream starts go-httpbin on a real loopback port.
func newUpstream(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(httpbin.New().Handler())
	t.Cleanup(srv.Close)
	return srv
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// TestCallerSeesTheSameBytes: for each kind of upstream answer, what the caller gets through
// the recording client is byte-identical to what a bare client gets.
func TestCallerSeesTheSameBytes(t *testing.T) {
	up := newUpstream(t)
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
	}{
		{"json", "GET", "/json", "", nil},
		{"status 418", "GET", "/status/418", "", nil},
		{"status 503", "GET", "/status/503", "", nil},
		{"redirects", "GET", "/redirect/3", "", nil},
		{"gzip decoded by net/http", "GET", "/gzip", "", nil},
		{"gzip asked for by the caller", "GET", "/gzip", "", map[string]string{"Accept-Encoding": "gzip"}},
		{"deflate asked for by the caller", "GET", "/deflate", "", map[string]string{"Accept-Encoding": "deflate"}},
		{"stream", "GET", "/stream/50", "", nil},
		{"binary", "GET", "/bytes/300000?seed=7", "", nil},
		{"large text", "GET", "/range/500000", "", nil},
		{"image", "GET", "/image/png", "", nil},
		{"post echoed", "POST", "/anything", `{"order_id":"42","items":[1,2,3]}`, map[string]string{"Content-Type": "application/json"}},
		{"307 keeps the body", "POST", "/redirect-to?url=/anything&status_code=307", `{"a":1}`, map[string]string{"Content-Type": "application/json"}},
		{"large upload", "PUT", "/anything", strings.Repeat("x", 200_000), map[string]string{"Content-Type": "text/plain"}},
	}
	bare := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := &integrationtest.Sink{}
			recording := integration.NewClient(sink, integration.Options{Service: "httpbin"})
			get := func(c doer) (int, []byte) {
				req, _ := http.NewRequest(tc.method, up.URL+tc.path, strings.NewReader(tc.body))
				if tc.body == "" {
					req, _ = http.NewRequest(tc.method, up.URL+tc.path, nil)
				}
				for k, v := range tc.header {
					req.Header.Set(k, v)
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", tc.method, tc.path, err)
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				return resp.StatusCode, b
			}
			wantCode, want := get(bare)
			gotCode, got := get(recording)
			if gotCode != wantCode || !bytes.Equal(stripVolatile(got), stripVolatile(want)) {
				t.Errorf("%s %s through the recorder = %d, %d bytes; bare = %d, %d bytes", tc.method, tc.path, gotCode, len(got), wantCode, len(want))
			}
			recs := sink.WaitFor(t, 1)
			if last := recs[len(recs)-1]; deref(last.StatusCode) != gotCode {
				t.Errorf("last record status_code = %d; want the caller's %d", deref(last.StatusCode), gotCode)
			}
		})
	}
}

// stripVolatile removes what go-httpbin varies per request (the client's port in /anything).
func stripVolatile(b []byte) []byte {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return b
	}
	delete(m, "origin")
	if h, ok := m["headers"].(map[string]any); ok {
		delete(h, "Accept-Encoding") // net/http adds it only when the caller did not
	}
	out, _ := json.Marshal(m)
	return out
}

func TestRecordOfACall(t *testing.T) {
	up := newUpstream(t)
	sink := &integrationtest.Sink{}
	client := integration.NewClient(sink, integration.Options{Service: "erp", Description: "Create order", Owner: "system"})
	ctx := integration.WithReference(requestid.NewContext(context.Background(), "rid-9"), "Order", "42")
	ctx = requestid.WithTraceID(ctx, "4bf92f3577b34da6a3ce929d0e0e4736")
	ctx = integration.WithOwner(ctx, "alice@example.com")
	body := `{"order_id":"42","password":"hunter2-secret"}`
	req, _ := http.NewRequestWithContext(ctx, "POST", up.URL+"/anything?api_key=k3y-v4lue-123&page=2", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer tok-abcdef-123456")
	start := time.Now().UTC()
	send(t, client, req)

	r := sink.WaitFor(t, 1)[0]
	checks := []struct {
		field     string
		got, want any
	}{
		{"service", r.Service, "erp"},
		{"request_description", r.RequestDescription, "Create order"},
		{"request_id", r.RequestID, "rid-9"},
		{"trace_id", r.TraceID, "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"status", r.Status, integration.StatusCompleted},
		{"method", r.Method, "POST"},
		{"status_code", deref(r.StatusCode), 200},
		{"attempt", r.Attempt, 1},
		{"reference_type", r.ReferenceType, "Order"},
		{"reference_id", r.ReferenceID, "42"},
		{"owner", r.Owner, "alice@example.com"},
		{"is_remote_request", r.IsRemoteRequest, false},
		{"data_size", r.DataSize, int64(len(body))},
		{"data_truncated", r.DataTruncated, false},
		{"error", r.Error, (*string)(nil)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v; want %v", c.field, c.got, c.want)
		}
	}
	if r.ID == "" || r.DurationMS == nil || *r.DurationMS <= 0 {
		t.Errorf("id = %q, duration_ms = %v; want both set", r.ID, r.DurationMS)
	}
	if r.CreatedAt.Before(start.Add(-time.Second)) || r.CreatedAt.After(time.Now()) || r.CreatedAt.Location() != time.UTC {
		t.Errorf("created_at = %v; want the call's start, in UTC", r.CreatedAt)
	}
	if !strings.Contains(r.URL, "page=2") || !strings.Contains(deref(r.Data), `"order_id":"42"`) {
		t.Errorf("url = %q, data = %q; want the non-secret parts kept", r.URL, deref(r.Data))
	}
	if !strings.Contains(deref(r.Output), `"order_id\":\"42\"`) && !strings.Contains(deref(r.Output), `order_id`) {
		t.Errorf("output = %q; want the echoed body", deref(r.Output))
	}
	all := strings.Join([]string{r.URL, string(r.RequestHeaders), deref(r.Data), string(r.ResponseHeaders), deref(r.Output)}, "\n")
	for _, secret := range []string{"hunter2-secret", "k3y-v4lue-123", "tok-abcdef-123456"} {
		if strings.Contains(all, secret) {
			t.Errorf("secret %q stored:\n%s", secret, all)
		}
	}
}

func TestRedirectHopsAreAttempts(t *testing.T) {
	up := newUpstream(t)
	sink := &integrationtest.Sink{}
	resp, err := integration.NewClient(sink, integration.Options{}).Get(up.URL + "/redirect/3")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	recs := sink.WaitFor(t, 4)
	for i, r := range recs {
		if r.Attempt != i+1 {
			t.Errorf("record %d attempt = %d; want %d", i, r.Attempt, i+1)
		}
	}
	if code := deref(recs[0].StatusCode); code != 302 || recs[0].Status != integration.StatusFailed {
		t.Errorf("first hop = %d %s; want 302 Failed (not 2xx, by the default rule)", code, recs[0].Status)
	}
	if code := deref(recs[3].StatusCode); code != 200 || recs[3].Status != integration.StatusCompleted {
		t.Errorf("last hop = %d %s; want 200 Completed", code, recs[3].Status)
	}
}

func TestRetryAttemptFromContext(t *testing.T) {
	up := newUpstream(t)
	sink := &integrationtest.Sink{}
	client := integration.NewClient(sink, integration.Options{})
	for attempt := 1; attempt <= 2; attempt++ {
		req, _ := http.NewRequestWithContext(integration.WithAttempt(context.Background(), attempt), "GET", up.URL+"/status/503", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	recs := sink.WaitFor(t, 2)
	if recs[0].Attempt != 1 || recs[1].Attempt != 2 {
		t.Errorf("attempts = %d, %d; want 1, 2", recs[0].Attempt, recs[1].Attempt)
	}
}

func TestTransportErrorIsRecorded(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now
	sink := &integrationtest.Sink{}
	_, err := integration.NewClient(sink, integration.Options{}).Get("http://" + addr + "/x")
	if err == nil {
		t.Fatal("call to a closed port succeeded")
	}
	r := sink.WaitFor(t, 1)[0]
	if r.Status != integration.StatusFailed || r.StatusCode != nil || !strings.Contains(deref(r.Error), "refused") {
		t.Errorf("record = status %s, code %v, error %q; want Failed, no code, the connection error", r.Status, r.StatusCode, deref(r.Error))
	}
}

func TestTimeoutIsRecorded(t *testing.T) {
	up := newUpstream(t)
	sink := &integrationtest.Sink{}
	client := integration.NewClient(sink, integration.Options{})
	client.Timeout = 200 * time.Millisecond
	_, err := client.Get(up.URL + "/delay/3")
	if err == nil {
		t.Fatal("call outlived its timeout")
	}
	r := sink.WaitFor(t, 1)[0]
	if r.Status != integration.StatusFailed || r.Error == nil {
		t.Errorf("record = %s %q; want Failed with the timeout", r.Status, deref(r.Error))
	}
}

func TestStatusRuleCanBeReplaced(t *testing.T) {
	up := newUpstream(t)
	sink := &integrationtest.Sink{}
	notFoundIsFine := func(resp *http.Response, err error) integration.Status {
		if resp != nil && resp.StatusCode == 404 {
			return integration.StatusCompleted
		}
		return integration.DefaultStatus(resp, err)
	}
	resp, err := integration.NewClient(sink, integration.Options{Status: notFoundIsFine}).Get(up.URL + "/status/404")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r := sink.WaitFor(t, 1)[0]; r.Status != integration.StatusCompleted {
		t.Errorf("404 with a custom rule = %s; want Completed", r.Status)
	}
}

func TestBodies(t *testing.T) {
	up := newUpstream(t)
	tests := []struct {
		name          string
		path          string
		header        map[string]string
		wantTruncated bool
		wantContains  string
		wantSize      int64
	}{
		{"capped at a UTF-8 boundary", "/range/100000", nil, true, "abcdefghijklmnopqrstuvwxyz", 100000},
		{"binary becomes a placeholder", "/bytes/5000?seed=1", nil, false, "[binary body: 5000 bytes, application/octet-stream]", 5000},
		{"image becomes a placeholder", "/image/png", nil, false, "[binary body: ", 0},
		{"gzip the caller keeps is decoded", "/gzip", map[string]string{"Accept-Encoding": "gzip"}, false, `"gzipped": true`, 0},
		{"deflate the caller keeps is decoded", "/deflate", map[string]string{"Accept-Encoding": "deflate"}, false, `"deflated": true`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := &integrationtest.Sink{}
			client := integration.NewClient(sink, integration.Options{BodyCap: 1000})
			req, _ := http.NewRequest("GET", up.URL+tc.path, nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			send(t, client, req)
			r := sink.WaitFor(t, 1)[0]
			out := deref(r.Output)
			if r.OutputTruncated != tc.wantTruncated || !strings.Contains(out, tc.wantContains) {
				t.Errorf("output truncated = %v, %q; want %v containing %q", r.OutputTruncated, out, tc.wantTruncated, tc.wantContains)
			}
			if len(out) > 1000 {
				t.Errorf("stored %d bytes; want at most the 1000-byte cap", len(out))
			}
			if tc.wantSize > 0 && r.OutputSize != tc.wantSize {
				t.Errorf("output_size = %d; want %d", r.OutputSize, tc.wantSize)
			}
		})
	}
}

func TestUTF8CutNeverSplitsARune(t *testing.T) {
	text := strings.Repeat("é€😀", 400) // 2-, 3- and 4-byte runes
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, text)
	}))
	defer srv.Close()
	for cap := int64(100); cap < 110; cap++ {
		sink := &integrationtest.Sink{}
		resp, err := integration.NewClient(sink, integration.Options{BodyCap: cap}).Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		out := deref(sink.WaitFor(t, 1)[0].Output)
		if !strings.HasPrefix(text, out) || int64(len(out)) > cap || int64(len(out)) < cap-3 {
			t.Errorf("cap %d: stored %d bytes %q; want a whole-rune prefix of at most %d bytes", cap, len(out), out[max(0, len(out)-8):], cap)
		}
	}
}

func TestUnreadBodyIsRecordedWhenContextEnds(t *testing.T) {
	up := newUpstream(t)
	sink := &integrationtest.Sink{}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", up.URL+"/json", nil)
	resp, err := integration.NewClient(sink, integration.Options{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp // the caller neither reads nor closes the body
	if n := len(sink.Records()); n != 0 {
		t.Fatalf("records before the context ended = %d; want 0", n)
	}
	cancel()
	r := sink.WaitFor(t, 1)[0]
	if deref(r.StatusCode) != 200 {
		t.Errorf("status_code = %d; want 200", deref(r.StatusCode))
	}
}

func TestSwitchingProtocolsKeepsReadWriteBody(t *testing.T) {
	up := newUpstream(t)
	sink := &integrationtest.Sink{}
	req, _ := http.NewRequest("GET", up.URL+"/websocket/echo", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Version", "13")
	// No Client.Timeout: net/http wraps bodies of clients with a timeout in a read-only type.
	client := &http.Client{Transport: integration.NewTransport(nil, sink, integration.Options{})}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status = %d; want 101", resp.StatusCode)
	}
	if _, ok := resp.Body.(io.ReadWriteCloser); !ok {
		t.Errorf("101 body is %T; want an io.ReadWriteCloser", resp.Body)
	}
	if r := sink.WaitFor(t, 1)[0]; deref(r.StatusCode) != 101 {
		t.Errorf("record status_code = %d; want 101", deref(r.StatusCode))
	}
}

func TestReadErrorFinishesTheRecord(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "only part")
		// The handler returns early: the client sees an unexpected EOF.
	}))
	defer srv.Close()
	sink := &integrationtest.Sink{}
	resp, err := integration.NewClient(sink, integration.Options{}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("read error = %v; want unexpected EOF", err)
	}
	r := sink.WaitFor(t, 1)[0]
	if r.Status != integration.StatusFailed || !strings.Contains(deref(r.Error), "unexpected EOF") || deref(r.Output) != "only part" {
		t.Errorf("record = %s %q output %q; want Failed with the read error and the partial body", r.Status, deref(r.Error), deref(r.Output))
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// cancelingTransport answers every call, after cancelling the call's context: the response
// arrives for a caller that has just gone away (a client disconnect during the call).
type cancelingTransport struct{ cancel context.CancelFunc }

func (t cancelingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.cancel()
	return &http.Response{StatusCode: 200, Status: "200 OK", Header: http.Header{}, Body: io.NopCloser(strings.NewReader("ok")), Request: req}, nil
}

func TestResponseForACancelledCallIsRecorded(t *testing.T) {
	for i := 0; i < 1000; i++ {
		sink := &integrationtest.Sink{}
		ctx, cancel := context.WithCancel(context.Background())
		tr := integration.NewTransport(cancelingTransport{cancel}, sink, integration.Options{})
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://erp.invalid/x", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		if r := sink.WaitFor(t, 1)[0]; deref(r.StatusCode) != 200 {
			t.Fatalf("record status_code = %d; want 200", deref(r.StatusCode))
		}
		resp.Body.Close()
	}
}
