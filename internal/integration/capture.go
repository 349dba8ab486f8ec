package integration

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/apitemplate/server/internal/redact"
)

// capture keeps the first limit bytes written to it and counts the rest. The transport
// writes from the caller's goroutines while a record may be finished from another (the
// request's context ending), hence the mutex; after take, writes are ignored.
type capture struct {
	mu    sync.Mutex
	limit int64
	hint  int64 // the body's declared length: the buffer's first size
	buf   []byte
	total int64
	taken bool
}

func newCapture(limit, hint int64) *capture { return &capture{limit: limit, hint: hint} }

// Write implements io.Writer; it never fails.
func (c *capture) Write(p []byte) (int, error) { return captureWrite(c, p) }

// WriteString spares io.Copy from a strings.Reader (replay) a copy of the whole body.
func (c *capture) WriteString(s string) (int, error) { return captureWrite(c, s) }

func captureWrite[B []byte | string](c *capture, p B) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.taken {
		return len(p), nil
	}
	if c.buf == nil && len(p) > 0 {
		c.buf = make([]byte, 0, min(max(c.hint, int64(len(p))), c.limit))
	}
	if room := c.limit - int64(len(c.buf)); room > 0 {
		c.buf = append(c.buf, p[:min(int64(len(p)), room)]...)
	}
	c.total += int64(len(p))
	return len(p), nil
}

// take returns what was captured and stops capturing; nil-safe (a call without a body).
func (c *capture) take() *capturedBody {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.taken = true
	return &capturedBody{buf: c.buf, total: c.total, limit: c.limit}
}

// replay captures a request body into c through req.GetBody, leaving req.Body alone. It
// reports false, with c empty, when the body cannot be replayed and must be tee'd instead.
//
// Why not always tee: net/http writes the headers and a body it knows to be in memory in one
// write, but flushes the headers first for any other reader, a write more per call that the
// upstream also pays to read (record_added_realistic in docs/BENCHMARKS.md).
func replay(req *http.Request, c *capture) bool {
	if req.GetBody == nil {
		return false
	}
	body, err := req.GetBody()
	if err != nil {
		return false
	}
	defer body.Close()
	if _, err := io.Copy(c, body); err != nil {
		*c = capture{limit: c.limit, hint: c.hint}
		return false
	}
	return true
}

// capturedBody is a body as captured, before it is decoded and redacted.
type capturedBody struct {
	buf   []byte // the first limit bytes
	total int64  // bytes seen
	limit int64
}

// text turns a captured body into what is stored: decoded if it is still gzip- or
// deflate-encoded, a placeholder if it is binary, redacted, and cut to the limit at a UTF-8
// boundary. size is the body's full length (declared, or counted when longer).
func (c *capturedBody) text(h http.Header, declared int64, red *redact.Redactor, s *redact.Secrets) (out *string, truncated bool, size int64) {
	raw := c.buf
	size = max(c.total, declared)
	if size == 0 {
		return nil, false, 0
	}
	truncated = size > int64(len(raw))
	contentType := h.Get("Content-Type")
	if enc := strings.ToLower(h.Get("Content-Encoding")); enc == "gzip" || enc == "deflate" {
		decoded, complete := decode(raw, enc, c.limit)
		raw = decoded
		truncated = truncated || !complete
	}
	mediaType, _, _ := strings.Cut(contentType, ";") // ParseMediaType would build a map of its parameters
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	if isBinary(mediaType, raw, truncated) {
		placeholder := fmt.Sprintf("[binary body: %d bytes, %s]", size, cmpOr(mediaType, "unknown type"))
		return &placeholder, false, size
	}
	redacted := red.Body(raw, contentType, truncated, s)
	text := string(cutUTF8(redacted, c.limit))
	return &text, truncated || int64(len(redacted)) > c.limit, size
}

// decode inflates a body the caller still receives encoded (it asked for gzip itself, so
// net/http left it alone), up to limit bytes. complete is false when the capture was cut or
// the output hit the limit.
func decode(raw []byte, encoding string, limit int64) (out []byte, complete bool) {
	var r io.Reader
	if encoding == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return raw, false
		}
		r = zr
	} else if zr, err := zlib.NewReader(bytes.NewReader(raw)); err == nil {
		r = zr // HTTP's "deflate" is zlib-wrapped (RFC 9110)
	} else {
		r = flate.NewReader(bytes.NewReader(raw)) // some servers send raw DEFLATE instead
	}
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(out)) > limit {
		return out[:limit], false
	}
	return out, err == nil
}

// isBinary reports whether a body is stored as a placeholder: media types that are never
// text, or bytes that are not UTF-8 (ignoring a rune cut at the end of a capture) or hold NUL.
func isBinary(mediaType string, b []byte, truncated bool) bool {
	switch {
	case strings.HasPrefix(mediaType, "multipart/"):
		return false // the redactor replaces binary parts one by one
	case strings.HasPrefix(mediaType, "text/"),
		strings.Contains(mediaType, "json"), strings.Contains(mediaType, "xml"),
		mediaType == "application/x-www-form-urlencoded", mediaType == "application/javascript":
		// text types: still check the bytes below
	case strings.HasPrefix(mediaType, "image/"), strings.HasPrefix(mediaType, "audio/"),
		strings.HasPrefix(mediaType, "video/"), strings.HasPrefix(mediaType, "font/"),
		mediaType == "application/octet-stream", mediaType == "application/pdf",
		mediaType == "application/zip", mediaType == "application/gzip",
		mediaType == "application/x-protobuf", mediaType == "application/protobuf":
		return true
	}
	if truncated {
		b = cutUTF8(b, int64(len(b)))
	}
	return !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0
}

// cutUTF8 returns at most limit bytes of b without a rune cut in half at the end.
func cutUTF8(b []byte, limit int64) []byte {
	if int64(len(b)) > limit {
		b = b[:limit]
	}
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				b = b[:i]
			}
			break
		}
	}
	return b
}
