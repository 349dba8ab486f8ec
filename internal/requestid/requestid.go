// Package requestid gives every request an id: the caller's X-Request-ID when it is sane,
// otherwise a new one. The id is echoed in the X-Request-ID response header, stored in the
// request's context (so code far from Echo, such as the integration log's HTTP client, can
// read it with FromContext) and used as request_id in response bodies and log lines.
//
// Next to it the context keeps the W3C trace id of the request's traceparent header, when
// it has a valid one (TraceID), so that records and log lines can be joined with traces.
package requestid

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"

	"github.com/labstack/echo/v4"
)

// Header is the header that carries the id in both directions.
const Header = echo.HeaderXRequestID

// maxLen bounds an accepted incoming id; longer values are replaced, not truncated, so a
// truncated id never collides with another client's.
const maxLen = 128

type (
	ctxKey   struct{}
	traceKey struct{}
)

// echoKey is where the id lives in the echo.Context, for handlers that have one.
const echoKey = "request_id"

// Middleware assigns the id. Register it with Echo's Pre, right after the recover middleware,
// so that even a request the router rejects, or one that panics in a later middleware, has
// its id.
func Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			id := req.Header.Get(Header)
			if !Valid(id) {
				id = New()
			}
			c.Response().Header().Set(Header, id)
			c.Set(echoKey, id)
			ctx := context.WithValue(req.Context(), ctxKey{}, id)
			if trace, ok := ParseTraceparent(req.Header.Get(TraceparentHeader)); ok {
				ctx = context.WithValue(ctx, traceKey{}, trace)
			}
			c.SetRequest(req.WithContext(ctx))
			return next(c)
		}
	}
}

// Get returns the request's id, or "" when Middleware did not run.
func Get(c echo.Context) string {
	id, _ := c.Get(echoKey).(string)
	return id
}

// FromContext returns the id stored by Middleware in a request's context, or "".
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// NewContext returns ctx carrying id, for work started outside a request (jobs, tests).
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// TraceparentHeader carries the W3C trace context of a request.
const TraceparentHeader = "traceparent"

// TraceID returns the trace id Middleware read from the request's traceparent header, or "".
func TraceID(ctx context.Context) string {
	id, _ := ctx.Value(traceKey{}).(string)
	return id
}

// WithTraceID returns ctx carrying trace id id, for work started outside a request.
func WithTraceID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, traceKey{}, id)
}

// ParseTraceparent returns the trace id of a W3C traceparent value
// ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"): 32 lower-case hex digits, not
// all zero. A value it cannot read gives false; the request then has no trace id.
func ParseTraceparent(v string) (string, bool) {
	// version "-" trace-id "-" parent-id "-" flags; later versions may append fields.
	if len(v) < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' || v[:2] == "ff" || (v[:2] == "00" && len(v) != 55) {
		return "", false
	}
	if !lowerHex(v[:2]) || !lowerHex(v[3:35]) || !lowerHex(v[36:52]) || !lowerHex(v[53:55]) {
		return "", false
	}
	trace := v[3:35]
	if trace == "00000000000000000000000000000000" || v[36:52] == "0000000000000000" {
		return "", false
	}
	return trace, true
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// New returns a random 32-character hex id. It comes from math/rand/v2's per-goroutine
// ChaCha8 source: unpredictable enough for correlation, and much cheaper than crypto/rand.
func New() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return hex.EncodeToString(b[:])
}

// Valid reports whether an incoming id can be reused: 1 to 128 characters from
// [A-Za-z0-9._:-]. Anything else (spaces, quotes, control bytes) could forge log lines or
// break the JSON of a naive log reader, so it is replaced.
func Valid(id string) bool {
	if id == "" || len(id) > maxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}
