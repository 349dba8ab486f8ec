package integration

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Inbound returns an Echo middleware that records the calls third parties make to the routes
// it is attached to (webhooks: a payment provider's notification, a warehouse's status
// update) as records with is_remote_request set. Request and response are captured and
// redacted like outbound calls; Service, Description and Owner come from opts, the
// reference from WithReference on the request's context if the handler sets it:
//
//	g.POST("/webhooks/payments", h.payment, integration.Inbound(buffer, integration.Options{Service: "payments"}))
func Inbound(sink Sink, opts Options) echo.MiddlewareFunc {
	t := NewTransport(nil, sink, opts)
	opts = t.opts
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			call := &call{t: t, req: req, start: time.Now(), inbound: true}
			var tee *teeBody
			if req.Body != nil && req.Body != http.NoBody {
				call.reqBody = newCapture(opts.BodyCap, req.ContentLength)
				tee = &teeBody{rc: req.Body, c: call.reqBody}
				req.Body = tee
			}
			w := &captureWriter{ResponseWriter: c.Response().Writer, c: newCapture(opts.BodyCap, 0)}
			c.Response().Writer = w

			err := next(c)
			if err != nil {
				// Write the error now, through the capture, so the record holds the answer the
				// third party got. Echo's second call to the error handler is then a no-op.
				c.Error(err)
			}
			if tee != nil {
				// A handler that answers without reading the body still gets it recorded.
				io.CopyN(io.Discard, tee, opts.BodyCap)
			}
			// The handler may have labelled the call (WithReference) on its request's context.
			call.req = c.Request()
			resp := &http.Response{
				StatusCode: c.Response().Status,
				Status:     http.StatusText(c.Response().Status),
				Header:     c.Response().Header(),
			}
			call.finish(resp, err, w.c)
			return err
		}
	}
}

// requestURL rebuilds the absolute URL the third party called.
func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// captureWriter copies what the handler writes into a capture.
type captureWriter struct {
	http.ResponseWriter
	c *capture
}

func (w *captureWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.c.Write(p[:n])
	return n, err
}

// Flush and Hijack keep streaming and upgrades working through the capture.
func (w *captureWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *captureWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("integration: response writer cannot hijack")
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *captureWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
