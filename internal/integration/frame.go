package integration

import (
	"encoding/binary"
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A frame is a record as the Buffer holds it: a flat byte encoding, so that the records can
// live outside the Go heap (see frameQueue). Two kinds:
//
//   - frameRequest: a Request, complete (from Add).
//   - frameCall: a call the Transport recorded, as it was seen (a rawCall): a head with the
//     record's facts, the raw headers and the bodies' sizes, then the captured bodies' bytes,
//     not yet redacted. Decoding gives a Request whose build (redaction, decoding, header
//     JSON) runs on the flusher.
//
// The encoding is private to one process (spill files use JSON), so it has no version: it
// only has to round-trip. Integers are varints, strings length-prefixed, optional values
// carry a presence byte.
const (
	frameRequest byte = 1
	frameCall    byte = 2
)

// appendRequestFrame encodes r as a frameRequest.
func appendRequestFrame(b []byte, r *Request) []byte {
	b = append(b, frameRequest)
	b = appendStr(b, r.ID)
	b = appendStr(b, r.Service)
	b = appendBool(b, r.IsRemoteRequest)
	b = appendStr(b, r.RequestDescription)
	b = appendStr(b, r.RequestID)
	b = appendStr(b, r.Status)
	b = appendStr(b, r.Method)
	b = appendStr(b, r.URL)
	b = appendStr(b, r.RequestHeaders)
	b = appendOptStr(b, r.Data)
	b = appendStr(b, r.ResponseHeaders)
	b = appendOptStr(b, r.Output)
	b = appendOptStr(b, r.Error)
	b = appendBool(b, r.StatusCode != nil)
	if r.StatusCode != nil {
		b = appendInt(b, int64(*r.StatusCode))
	}
	b = appendBool(b, r.DurationMS != nil)
	if r.DurationMS != nil {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(*r.DurationMS))
	}
	b = appendInt(b, int64(r.Attempt))
	b = appendStr(b, r.ReferenceType)
	b = appendStr(b, r.ReferenceID)
	b = appendStr(b, r.Owner)
	b = appendBool(b, r.DataTruncated)
	b = appendInt(b, r.DataSize)
	b = appendBool(b, r.OutputTruncated)
	b = appendInt(b, r.OutputSize)
	b = appendTime(b, r.CreatedAt)
	return appendTime(b, r.UpdatedAt)
}

// appendCallHead encodes a recorded call's frame but its bodies' bytes, which the Buffer copies
// straight from the captures into its queue: the bulk of a record is copied once on the
// caller's goroutine, not twice. It runs on every recorded call, so it copies and does not
// format: the URL goes in as its parts (URL.String escapes and allocates; the flusher calls it).
//
// A call frame is that head followed by the two captured bodies' bytes. redactor is the index
// of the call's Redactor in the Buffer's table (Go pointers cannot be stored off the heap).
func appendCallHead(b []byte, c *rawCall, redactor int) []byte {
	b = append(b, frameCall)
	b = append(b, c.id[:]...)
	b = appendStr(b, c.service)
	b = appendStr(b, c.description)
	b = appendStr(b, c.requestID)
	b = appendStr(b, c.owner)
	b = appendStr(b, c.refType)
	b = appendStr(b, c.refID)
	b = appendStr(b, c.status)
	b = appendStr(b, c.method)
	b = appendInt(b, int64(c.attempt))
	b = appendInt(b, c.start.UnixNano())
	b = appendInt(b, int64(c.duration))
	b = appendInt(b, int64(c.statusCode))

	b = appendInt(b, int64(redactor))
	b = appendURL(b, c.reqURL, c.url)
	b = appendBool(b, c.inbound)
	b = appendHeader(b, c.reqHeader)
	b = appendBodyHead(b, c.reqBody)
	b = appendInt(b, c.reqLength)
	b = appendBool(b, c.hasResponse)
	b = appendHeader(b, c.respHeader)
	b = appendBodyHead(b, c.respBody)
	b = appendInt(b, c.respLength)
	b = appendStr(b, c.respStatus)
	return appendStr(b, c.errText)
}

// decodeFrame is the inverse of the two encoders. redactors resolves a frameCall's index.
func decodeFrame(p []byte, redactors []*Redactor) (*Request, error) {
	rd := frameReader{b: p}
	var r *Request
	switch rd.byte() {
	case frameRequest:
		r = rd.request()
	case frameCall:
		c, err := rd.call(redactors)
		if err != nil {
			return nil, err
		}
		r = c.record()
	default:
		return nil, errors.New("integration: unknown frame kind")
	}
	if rd.bad || len(rd.b) != 0 {
		return nil, errors.New("integration: malformed frame")
	}
	return r, nil
}

// The append functions below write the frame's fields, in the style of strconv.Append*: the
// slice stays in registers. Lengths and integers are varints, which for the short strings and
// small numbers of a record are one byte, written without the general loop.

func appendStr[S ~string | ~[]byte](b []byte, s S) []byte {
	if len(s) < 0x80 {
		b = append(b, byte(len(s)))
	} else {
		b = binary.AppendUvarint(b, uint64(len(s)))
	}
	return append(b, s...)
}

func appendInt(b []byte, v int64) []byte {
	if 0 <= v && v < 0x40 { // zig-zag encoded, 2v: one byte
		return append(b, byte(v<<1))
	}
	return binary.AppendVarint(b, v)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendOptStr(b []byte, p *string) []byte {
	b = appendBool(b, p != nil)
	if p != nil {
		b = appendStr(b, *p)
	}
	return b
}

func appendTime(b []byte, t time.Time) []byte {
	b = appendInt(b, t.Unix())
	return appendInt(b, int64(t.Nanosecond()))
}

func appendHeader(b []byte, h http.Header) []byte {
	b = appendBool(b, h != nil)
	b = appendInt(b, int64(len(h)))
	for k, vs := range h {
		b = appendStr(b, k)
		b = appendInt(b, int64(len(vs)))
		for _, v := range vs {
			b = appendStr(b, v)
		}
	}
	return b
}

// appendURL writes an outbound call's URL as its parts, or an inbound one's (already a
// string, see requestURL) as it is. frameReader.url reassembles the parts into a url.URL
// and formats it with String, so the stored URL is exactly what String would have given on
// the caller's goroutine. TestURLPartsCoverURL fails when url.URL gains a field.
func appendURL(b []byte, u *url.URL, s string) []byte {
	if u == nil {
		b = append(b, 0)
		return appendStr(b, s)
	}
	b = append(b, 1)
	b = appendStr(b, u.Scheme)
	b = appendStr(b, u.Opaque)
	b = appendBool(b, u.User != nil)
	if u.User != nil {
		password, set := u.User.Password()
		b = appendStr(b, u.User.Username())
		b = appendBool(b, set)
		b = appendStr(b, password)
	}
	b = appendStr(b, u.Host)
	b = appendStr(b, u.Path)
	b = appendStr(b, u.RawPath)
	b = appendBool(b, u.OmitHost)
	b = appendBool(b, u.ForceQuery)
	b = appendStr(b, u.RawQuery)
	b = appendStr(b, u.Fragment)
	return appendStr(b, u.RawFragment)
}

// appendBodyHead writes what a captured body is but its bytes, which follow the frame's head.
func appendBodyHead(b []byte, c capturedBody) []byte {
	b = appendBool(b, c.present)
	if c.present {
		b = appendInt(b, int64(len(c.buf)))
		b = appendInt(b, c.total)
		b = appendInt(b, c.limit)
	}
	return b
}

// frameReader decodes what the append functions wrote. A read past the end sets bad and returns zero
// values, so a decoder reads on and checks bad once.
type frameReader struct {
	b   []byte
	bad bool
}

func (rd *frameReader) byte() byte {
	if len(rd.b) == 0 {
		rd.bad = true
		return 0
	}
	v := rd.b[0]
	rd.b = rd.b[1:]
	return v
}

func (rd *frameReader) bool() bool { return rd.byte() == 1 }

func (rd *frameReader) int() int64 {
	v, n := binary.Varint(rd.b)
	if n <= 0 {
		rd.bad = true
		return 0
	}
	rd.b = rd.b[n:]
	return v
}

// bytes returns the next length-prefixed bytes, aliasing the frame.
func (rd *frameReader) bytes() []byte {
	n, k := binary.Uvarint(rd.b)
	if k <= 0 || n > uint64(len(rd.b)-k) {
		rd.bad = true
		return nil
	}
	v := rd.b[k : k+int(n)]
	rd.b = rd.b[k+int(n):]
	return v
}

func (rd *frameReader) str() string { return string(rd.bytes()) }

func (rd *frameReader) optStr() *string {
	if !rd.bool() {
		return nil
	}
	s := rd.str()
	return &s
}

func (rd *frameReader) time() time.Time {
	sec := rd.int()
	nsec := rd.int()
	return time.Unix(sec, nsec).UTC()
}

func (rd *frameReader) header() http.Header {
	present := rd.bool()
	n := rd.int()
	if !present || rd.bad || n < 0 || n > int64(len(rd.b)) {
		return nil
	}
	h := make(http.Header, n)
	for range n {
		k := rd.str()
		m := rd.int()
		if rd.bad || m < 0 || m > int64(len(rd.b)) {
			rd.bad = true
			return nil
		}
		vs := make([]string, m)
		for i := range vs {
			vs[i] = rd.str()
		}
		h[k] = vs
	}
	return h
}

// url reads what appendURL wrote and returns it formatted.
func (rd *frameReader) url() string {
	if rd.byte() == 0 {
		return rd.str()
	}
	u := url.URL{Scheme: rd.str(), Opaque: rd.str()}
	if rd.bool() {
		name, set, password := rd.str(), rd.bool(), rd.str()
		if set {
			u.User = url.UserPassword(name, password)
		} else {
			u.User = url.User(name)
		}
	}
	u.Host, u.Path, u.RawPath = rd.str(), rd.str(), rd.str()
	u.OmitHost, u.ForceQuery = rd.bool(), rd.bool()
	u.RawQuery, u.Fragment, u.RawFragment = rd.str(), rd.str(), rd.str()
	if rd.bad {
		return ""
	}
	return u.String()
}

// bodyHead reads what appendBodyHead wrote; the bytes are read from the frame's tail (tailBytes).
func (rd *frameReader) bodyHead() (c capturedBody, n int64) {
	if !rd.bool() {
		return capturedBody{}, 0
	}
	n = rd.int()
	return capturedBody{present: true, total: rd.int(), limit: rd.int()}, n
}

// tailBytes copies the next n bytes.
func (rd *frameReader) tailBytes(n int64) []byte {
	if n < 0 || n > int64(len(rd.b)) {
		rd.bad = true
		return nil
	}
	v := append([]byte(nil), rd.b[:n]...)
	rd.b = rd.b[n:]
	return v
}

// json copies a JSON column; empty stays nil, as the column's NULL.
func (rd *frameReader) json() JSON {
	b := rd.bytes()
	if len(b) == 0 {
		return nil
	}
	return append(JSON(nil), b...)
}

func (rd *frameReader) request() *Request {
	r := &Request{}
	r.ID = rd.str()
	r.Service = rd.str()
	r.IsRemoteRequest = rd.bool()
	r.RequestDescription = rd.str()
	r.RequestID = rd.str()
	r.Status = Status(rd.str())
	r.Method = rd.str()
	r.URL = rd.str()
	r.RequestHeaders = rd.json()
	r.Data = rd.optStr()
	r.ResponseHeaders = rd.json()
	r.Output = rd.optStr()
	r.Error = rd.optStr()
	if rd.bool() {
		code := int(rd.int())
		r.StatusCode = &code
	}
	if rd.bool() {
		if len(rd.b) < 8 {
			rd.bad = true
		} else {
			ms := math.Float64frombits(binary.LittleEndian.Uint64(rd.b))
			rd.b = rd.b[8:]
			r.DurationMS = &ms
		}
	}
	r.Attempt = int(rd.int())
	r.ReferenceType = rd.str()
	r.ReferenceID = rd.str()
	r.Owner = rd.str()
	r.DataTruncated = rd.bool()
	r.DataSize = rd.int()
	r.OutputTruncated = rd.bool()
	r.OutputSize = rd.int()
	r.CreatedAt = rd.time()
	r.UpdatedAt = rd.time()
	return r
}

func (rd *frameReader) call(redactors []*Redactor) (*rawCall, error) {
	c := &rawCall{}
	if len(rd.b) < len(c.id) {
		rd.bad = true
		return c, nil
	}
	rd.b = rd.b[copy(c.id[:], rd.b):]
	c.service = rd.str()
	c.description = rd.str()
	c.requestID = rd.str()
	c.owner = rd.str()
	c.refType = rd.str()
	c.refID = rd.str()
	c.status = Status(rd.str())
	c.method = rd.str()
	c.attempt = int(rd.int())
	c.start = time.Unix(0, rd.int())
	c.duration = time.Duration(rd.int())
	c.statusCode = int(rd.int())

	idx := rd.int()
	c.url = rd.url()
	c.inbound = rd.bool()
	c.reqHeader = rd.header()
	var reqN, respN int64
	c.reqBody, reqN = rd.bodyHead()
	c.reqLength = rd.int()
	c.hasResponse = rd.bool()
	c.respHeader = rd.header()
	c.respBody, respN = rd.bodyHead()
	c.respLength = rd.int()
	c.respStatus = rd.str()
	c.errText = rd.str()
	if c.reqBody.present {
		c.reqBody.buf = rd.tailBytes(reqN)
	}
	if c.respBody.present {
		c.respBody.buf = rd.tailBytes(respN)
	}
	if idx < 0 || idx >= int64(len(redactors)) {
		return nil, errors.New("integration: frame names an unknown redactor")
	}
	c.redactor = redactors[idx]
	return c, nil
}

// scratchPool holds the buffers frames are encoded into before the Buffer copies them.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

func getScratch() *[]byte { return scratchPool.Get().(*[]byte) }

func putScratch(b *[]byte) {
	if cap(*b) <= 256<<10 { // do not keep the rare huge one alive
		scratchPool.Put(b)
	}
}

// redactorTable numbers the Redactors of the calls a Buffer holds: a frame lives outside the
// heap, so it names its Redactor by number. A Transport has one Redactor (usually the shared
// default), so the table stays tiny. It only grows; past maxRedactors, index refuses and the
// call is built at once instead (a program making a Redactor per call would otherwise leak).
type redactorTable struct {
	mu   sync.Mutex
	list atomic.Pointer[[]*Redactor]
}

const maxRedactors = 256

func (t *redactorTable) all() []*Redactor {
	if l := t.list.Load(); l != nil {
		return *l
	}
	return nil
}

func (t *redactorTable) index(r *Redactor) (int, bool) {
	if i := slices.Index(t.all(), r); i >= 0 {
		return i, true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.all()
	if i := slices.Index(cur, r); i >= 0 {
		return i, true
	}
	if len(cur) >= maxRedactors {
		return 0, false
	}
	next := append(slices.Clip(cur), r)
	t.list.Store(&next)
	return len(next) - 1, true
}
