package integration

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"
)

// capture keeps the first limit bytes written to it and counts the rest. The transport
// writes from its own goroutines while a record may be finished from another (a context
// ending), hence the mutex. Its buffer comes from a pool and goes back at release, once the
// record has what it needs; writes after that are ignored.
type capture struct {
	mu       sync.Mutex
	limit    int64
	hint     int64 // the body's declared length, when known: the buffer's first size
	buf      []byte
	pooled   *[]byte // the pool's handle on buf's first array
	total    int64
	released bool
}

// captureBufs recycles the buffers bodies are copied into: without it every recorded call
// allocates a copy of both bodies for the collector to reclaim.
var captureBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledCapture keeps a rare huge buffer from living on in the pool.
const maxPooledCapture = 256 << 10

// Write implements io.Writer; it never fails.
func (c *capture) Write(p []byte) (int, error) { return write(c, p) }

// WriteString spares io.Copy from a strings.Reader (replay) a copy of the string.
func (c *capture) WriteString(s string) (int, error) { return write(c, s) }

func write[B []byte | string](c *capture, p B) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.mu.Lock()
	if c.buf == nil && !c.released {
		c.pooled = captureBufs.Get().(*[]byte)
		c.buf = (*c.pooled)[:0]
		if want := min(max(c.hint, int64(len(p))), c.limit); int64(cap(c.buf)) < want {
			c.buf = make([]byte, 0, want)
		}
	}
	if room := c.limit - int64(len(c.buf)); room > 0 && !c.released {
		c.buf = append(c.buf, p[:min(int64(len(p)), room)]...)
	}
	c.total += int64(len(p))
	c.mu.Unlock()
	return len(p), nil
}

// release returns the buffer to the pool. Call it once the record no longer needs the bytes
// (a Buffer has copied them, or the record is built); nil-safe.
func (c *capture) release() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pooled != nil && cap(c.buf) <= maxPooledCapture {
		*c.pooled = c.buf[:0]
		captureBufs.Put(c.pooled)
	}
	c.buf, c.pooled, c.released = nil, nil, true
}

// replay captures a request body into c through req.GetBody, without touching req.Body. It
// reports false, c left empty, when the request has no GetBody (a stream), whose body must
// be tee'd instead.
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
		c.release()
		*c = capture{limit: c.limit, hint: c.hint}
		return false
	}
	return true
}

// capturedBody is what a capture holds when its record is taken.
type capturedBody struct {
	present bool   // the body was captured (a call without a body has none)
	buf     []byte // the first limit bytes
	total   int64  // bytes seen
	limit   int64
}

// snapshot returns what c holds (not present for a nil capture). The bytes are shared until
// release: a Buffer copies them into its frame at once, any other sink builds the record at
// once.
func (c *capture) snapshot() capturedBody {
	if c == nil {
		return capturedBody{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return capturedBody{present: true, buf: c.buf, total: c.total, limit: c.limit}
}

// text turns the captured bytes into what is stored: decoded if the body is still
// gzip- or deflate-encoded, a placeholder if it is binary, redacted, and cut to the limit at
// a UTF-8 boundary. size is the body's full length (declared, or counted when longer).
func (c capturedBody) text(h http.Header, declared int64, red *Redactor, s *Secrets) (out *string, truncated bool, size int64) {
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
	mediaType, _, _ := mime.ParseMediaType(contentType)
	if isBinary(mediaType, raw, truncated) {
		if mediaType == "" {
			mediaType = "unknown type"
		}
		placeholder := fmt.Sprintf("[binary body: %d bytes, %s]", size, mediaType)
		return &placeholder, false, size
	}
	redacted := red.BodyPrefix(raw, contentType, truncated, s)
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
		// HTTP's "deflate" is zlib-wrapped (RFC 9110); some servers send raw DEFLATE instead.
		r = zr
	} else {
		r = flate.NewReader(bytes.NewReader(raw))
	}
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(out)) > limit {
		return out[:limit], false
	}
	return out, err == nil
}

// isBinary reports whether a body should be stored as a placeholder: media types (as
// mediaTypeOf returns them) that are never text, or bytes that are not UTF-8 (ignoring a rune
// cut at the end of a capture).
func isBinary(mediaType string, b []byte, truncated bool) bool {
	switch {
	case strings.HasPrefix(mediaType, "text/"),
		strings.Contains(mediaType, "json"), strings.Contains(mediaType, "xml"),
		mediaType == "application/x-www-form-urlencoded", mediaType == "application/javascript":
		// text types: still check the bytes below
	case strings.HasPrefix(mediaType, "image/"), strings.HasPrefix(mediaType, "audio/"),
		strings.HasPrefix(mediaType, "video/"), strings.HasPrefix(mediaType, "font/"),
		mediaType == "application/octet-stream", mediaType == "application/pdf",
		mediaType == "application/zip", mediaType == "application/gzip",
		mediaType == "application/x-protobuf", mediaType == "application/protobuf",
		mediaType == "multipart/form-data":
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
