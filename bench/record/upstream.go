package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The third party: an HTTP server in this process on 127.0.0.1:0. It runs in the process
// whose CPU time figure 1 measures, so its cost is in every side alike (which dilutes the
// ratio toward 1 by the same amount for every instrumentation: it is the price of one
// process measuring the whole call, server included, with one clock).

// token is what an application sends to an ERP: a bearer JWT, which the recorder must
// redact and otelhttp does not record.
const token = "Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVycC0yMDI2LTAxIn0." +
	"eyJpc3MiOiJodHRwczovL2lkLmV4YW1wbGUuY29tIiwic3ViIjoic3ZjLW9yZGVycyIsImF1ZCI6ImVycCIsImV4cCI6MTc5OTk5OTk5OX0." +
	"c2lnbmF0dXJlLW5vdC1yZWFsLWJ1dC1hcy1sb25nLWFzLW9uZS1pcy1mb3ItYS1SUzI1Ni1rZXk"

// jsonBody is a JSON document of exactly size bytes, shaped like an order an application posts
// to an ERP (or the ERP's answer): a header of named fields, one of them a secret the recorder
// must mask, then order lines up to the size. The last line's note pads it to the byte.
func jsonBody(size int, kind string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"kind":%q,"order_id":"SO-10042","customer":{"id":"C-7731","email":"jane.doe@example.com","name":"Jane Doe","vat":"FR40303265045"},`, kind)
	b.WriteString(`"api_key":"sk_live_51H8aZ2eZvKYlo2C9xq0aBcDeFgHiJkLmN","currency":"EUR","lines":[`)
	const tail = `]}`
	for j := 0; ; j++ {
		line := fmt.Sprintf(`{"sku":"SKU-%05d","qty":%d,"price":"%d.%02d","note":""}`, j*7919%99991, j+1, 10+j*7, j%100)
		sep := 0
		if j > 0 {
			sep = 1
		}
		if b.Len()+sep+len(line)+len(tail) > size {
			// Pad the previous line's empty note (or the header, if no line fitted) to size.
			s := b.String()
			pad := size - len(s) - len(tail)
			if i := strings.LastIndex(s, `"note":""`); i >= 0 && pad >= 0 {
				s = s[:i+len(`"note":"`)] + strings.Repeat("x", pad) + s[i+len(`"note":"`):]
				return []byte(s + tail)
			}
			panic(fmt.Sprintf("jsonBody: %d bytes is too small", size))
		}
		if j > 0 {
			b.WriteByte(',')
		}
		b.WriteString(line)
	}
}

// upstream is a loopback server answering every POST with the same JSON body, after delay.
type upstream struct {
	url  string
	srv  *http.Server
	resp []byte
}

// startUpstream serves on 127.0.0.1:0. The handler reads the whole request body (and checks
// its size: a side that sent less would be cheaper for the wrong reason), waits delay, and
// answers resp with a Content-Length, as a JSON API does.
func startUpstream(reqSize int, resp []byte, delay time.Duration) (*upstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	length := strconv.Itoa(len(resp))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil || n != int64(reqSize) || r.Method != http.MethodPost {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		if delay > 0 {
			time.Sleep(delay)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", length)
		w.Write(resp)
	})
	u := &upstream{url: "http://" + ln.Addr().String() + "/api/orders", resp: resp,
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := u.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Println("record: upstream:", err)
		}
	}()
	return u, nil
}

func (u *upstream) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u.srv.Shutdown(ctx)
}
