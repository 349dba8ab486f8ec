package integration

import (
	"encoding/binary"
	"errors"
	"math"
	"net/http"
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
func appendRequestFrame(dst []byte, r *Request) []byte {
	w := frameWriter{dst}
	w.byte(frameRequest)
	w.request(r)
	return w.b
}

// appendCallFrame encodes a recorded call; redactor is the index of its Redactor in the
// Buffer's table (Go pointers cannot be stored off the heap). The frame is the head
// (appendCallHead) followed by the two captured bodies' bytes.
func appendCallFrame(dst []byte, c *rawCall, redactor int) []byte {
	dst = appendCallHead(dst, c, redactor)
	return append(append(dst, c.reqBody.buf...), c.respBody.buf...)
}

// appendCallHead encodes all of a call's frame but its bodies' bytes, which the Buffer copies
// straight from the captures into its queue: the bulk of a record is copied once on the
// caller's goroutine, not twice.
func appendCallHead(dst []byte, c *rawCall, redactor int) []byte {
	w := frameWriter{dst}
	w.byte(frameCall)
	w.b = append(w.b, c.id[:]...)
	w.str(c.service)
	w.str(c.description)
	w.str(c.requestID)
	w.str(c.owner)
	w.str(c.refType)
	w.str(c.refID)
	w.str(string(c.status))
	w.str(c.method)
	w.int(int64(c.attempt))
	w.int(c.start.UnixNano())
	w.int(int64(c.duration))
	w.int(int64(c.statusCode))

	w.int(int64(redactor))
	w.str(c.url)
	w.bool(c.inbound)
	w.header(c.reqHeader)
	w.bodyHead(c.reqBody)
	w.int(c.reqLength)
	w.bool(c.hasResponse)
	w.header(c.respHeader)
	w.bodyHead(c.respBody)
	w.int(c.respLength)
	w.str(c.respStatus)
	w.str(c.errText)
	return w.b
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

type frameWriter struct{ b []byte }

func (w *frameWriter) byte(v byte) { w.b = append(w.b, v) }
func (w *frameWriter) int(v int64) { w.b = binary.AppendVarint(w.b, v) }
func (w *frameWriter) str(s string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *frameWriter) bool(v bool) {
	if v {
		w.byte(1)
	} else {
		w.byte(0)
	}
}

func (w *frameWriter) bytes(p []byte) {
	w.b = binary.AppendUvarint(w.b, uint64(len(p)))
	w.b = append(w.b, p...)
}

func (w *frameWriter) optStr(p *string) {
	w.bool(p != nil)
	if p != nil {
		w.str(*p)
	}
}

func (w *frameWriter) time(t time.Time) {
	w.int(t.Unix())
	w.int(int64(t.Nanosecond()))
}

func (w *frameWriter) header(h http.Header) {
	w.bool(h != nil)
	w.int(int64(len(h)))
	for k, vs := range h {
		w.str(k)
		w.int(int64(len(vs)))
		for _, v := range vs {
			w.str(v)
		}
	}
}

// bodyHead writes what a captured body is but its bytes, which follow the frame's head.
func (w *frameWriter) bodyHead(c capturedBody) {
	w.bool(c.present)
	if c.present {
		w.int(int64(len(c.buf)))
		w.int(c.total)
		w.int(c.limit)
	}
}

func (w *frameWriter) request(r *Request) {
	w.str(r.ID)
	w.str(r.Service)
	w.bool(r.IsRemoteRequest)
	w.str(r.RequestDescription)
	w.str(r.RequestID)
	w.str(string(r.Status))
	w.str(r.Method)
	w.str(r.URL)
	w.bytes(r.RequestHeaders)
	w.optStr(r.Data)
	w.bytes(r.ResponseHeaders)
	w.optStr(r.Output)
	w.optStr(r.Error)
	w.bool(r.StatusCode != nil)
	if r.StatusCode != nil {
		w.int(int64(*r.StatusCode))
	}
	w.bool(r.DurationMS != nil)
	if r.DurationMS != nil {
		w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(*r.DurationMS))
	}
	w.int(int64(r.Attempt))
	w.str(r.ReferenceType)
	w.str(r.ReferenceID)
	w.str(r.Owner)
	w.bool(r.DataTruncated)
	w.int(r.DataSize)
	w.bool(r.OutputTruncated)
	w.int(r.OutputSize)
	w.time(r.CreatedAt)
	w.time(r.UpdatedAt)
}

// frameReader decodes what frameWriter wrote. A read past the end sets bad and returns zero
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

// bodyHead reads what bodyHead wrote; the bytes are read from the frame's tail (tailBytes).
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
	c.url = rd.str()
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
