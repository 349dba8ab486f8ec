package example_test

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestBrokenBodiesAreClientErrors: a body that cannot be read is the client's doing, on every
// route that reads one, whichever binder or reader meets it: a malformed chunked encoding
// and a body shorter than its Content-Length are 400 envelopes, never a 500.
func TestBrokenBodiesAreClientErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newServer(t, "production"))
	t.Cleanup(srv.Close)
	bodies := map[string]string{
		"malformed chunked encoding":   "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
		"body shorter than its length": "Content-Length: 100\r\n\r\n{\"order_id\":\"A",
	}
	for _, path := range []string{"/api/v1/users", "/api/v1/orders", "/api/v1/signup", "/api/v1/bookings"} {
		for name, rest := range bodies {
			t.Run(path+"/"+name, func(t *testing.T) {
				t.Parallel()
				status, body := rawPost(t, srv.Listener.Addr().String(), path, rest, name != "malformed chunked encoding")
				var env struct {
					HTTPStatus int    `json:"http_status"`
					ErrorCode  string `json:"error_code"`
				}
				if err := json.Unmarshal([]byte(body), &env); err != nil || status != 400 || env.ErrorCode != "400-006" {
					t.Errorf("POST %s (%s) = %d %s; want a 400 envelope with code 400-006", path, name, status, body)
				}
			})
		}
	}
}

// rawPost writes a request by hand, half-closing the connection after it when closeWrite is
// set (a client that stopped sending), and reads the answer.
func rawPost(t *testing.T, addr, path, rest string, closeWrite bool) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "POST " + path + " HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nConnection: close\r\n" + rest
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	if closeWrite {
		conn.(*net.TCPConn).CloseWrite()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}
