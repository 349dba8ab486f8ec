package integration

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/apitemplate/server/internal/requestid"
)

// Sink receives finished records. *Buffer is the Sink the server uses; Add must not block.
type Sink interface {
	Add(r *Request)
}

// Options configure a recording Transport. Per-call Details in the request's context win
// over Service, Description and Owner here.
type Options struct {
	Service     string
	Description string
	Owner       string

	// BodyCap is how many bytes of each body are stored (default 64 KiB); longer bodies are
	// cut at a UTF-8 boundary and flagged with their original size.
	BodyCap int64
	// Redactor masks secrets before a record leaves the Transport (default: the default lists).
	Redactor *Redactor
	// Status decides a finished call's status (default DefaultStatus).
	Status func(resp *http.Response, err error) Status
}

// DefaultStatus is Completed for a 2xx response and Failed for anything else, including a
// transport error (resp == nil).
func DefaultStatus(resp *http.Response, err error) Status {
	if err != nil || resp == nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return StatusFailed
	}
	return StatusCompleted
}

var sharedRedactor = NewRedactor(DefaultRedactConfig())

func (o Options) withDefaults() Options {
	if o.BodyCap <= 0 {
		o.BodyCap = 64 << 10
	}
	if o.Redactor == nil {
		o.Redactor = sharedRedactor
	}
	if o.Status == nil {
		o.Status = DefaultStatus
	}
	return o
}

// Transport is an http.RoundTripper that records every call it carries: one Request per
// attempt, redirect hops included. It never changes what the caller sends or receives:
// bodies stream through untouched while at most BodyCap bytes of each are copied aside.
//
// A call's record is finished when its response body reaches EOF, is closed, or fails to
// read, or when the request's context ends (so a body nobody reads is still recorded, at most
// 0.1 s later).
type Transport struct {
	base http.RoundTripper
	sink Sink
	opts Options
}

// NewTransport wraps base (http.DefaultTransport when nil) so that its calls go to sink.
func NewTransport(base http.RoundTripper, sink Sink, opts Options) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &Transport{base: base, sink: sink, opts: opts.withDefaults()}
}

// NewClient returns an *http.Client that records its calls to sink. It has a 30 s timeout:
// a third party that never answers must not hold a request forever. Set Timeout to 0 for
// protocol upgrades (101): net/http hides the read-write body of clients with a timeout.
func NewClient(sink Sink, opts Options) *http.Client {
	return &http.Client{
		Transport: NewTransport(http.DefaultTransport.(*http.Transport).Clone(), sink, opts),
		Timeout:   30 * time.Second,
	}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := &call{t: t, req: req, start: time.Now()}
	out := req
	if req.Body != nil && req.Body != http.NoBody {
		c.reqCap = capture{limit: t.opts.BodyCap, hint: req.ContentLength}
		c.reqBody = &c.reqCap
		// A replayable body (http.NewRequest gives bytes and strings readers a GetBody) is
		// captured from a second reader over the same bytes, and the caller's body is sent as
		// it is: net/http writes headers and an in-memory body in one go, but flushes the
		// headers first for any other body type, a write (and, for the upstream, a read) more
		// per call, 15-35 µs against a loopback server.
		if !replay(req, c.reqBody) {
			// A RoundTripper must not modify the caller's request: send a shallow copy whose
			// body is tee'd. GetBody stays the caller's, so redirects and retries resend the
			// whole body.
			copied := *req
			copied.Body = &teeBody{rc: req.Body, c: c.reqBody}
			out = &copied
		}
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		c.finish(nil, err, nil)
		return nil, err
	}
	if resp.StatusCode == http.StatusSwitchingProtocols || resp.Body == nil || resp.Body == http.NoBody {
		// A 101 body is the read-write connection itself: leave it exactly as it is.
		c.finish(resp, nil, nil)
		return resp, nil
	}
	body := &c.body
	*body = recordingBody{rc: resp.Body, call: c, resp: resp, c: capture{limit: t.opts.BodyCap, hint: resp.ContentLength}}
	// A context that can end is watched (a context that cannot would only be held forever).
	// net/http has already asked for its Done channel, so asking again allocates nothing.
	if req.Context().Done() != nil {
		body.watchable = true
		watched.watch(body)
		if err := req.Context().Err(); err != nil { // ended during the call: no sweep will see it
			body.end(err)
		}
	}
	resp.Body = body
	return resp, nil
}

// call is one attempt in flight. It holds everything the caller's goroutine keeps of the
// call while it is open (captures, the response body wrapper) in one allocation.
type call struct {
	t       *Transport
	req     *http.Request
	start   time.Time
	inbound bool     // a call a third party made to us (Inbound)
	reqBody *capture // nil without a request body; else &reqCap
	reqCap  capture
	body    recordingBody // the response body handed to the caller
	once    sync.Once
}

// attempt numbers redirect hops: net/http sets req.Response to the response that caused
// this request, whose Request is the previous hop, and so on back to the first.
func attempt(req *http.Request, base int) int {
	n := max(base, 1)
	for r := req; r.Response != nil && r.Response.Request != nil; r = r.Response.Request {
		n++
	}
	return n
}

// finish hands the call's record to the sink, once. respBody is nil when there was no body
// or it was not captured.
//
// The record is made in two steps. What must be read now, while the request and response are
// as the caller left them, is taken at once into a rawCall: the record's facts, and the
// headers and captured bodies as they are. What is costly (redaction, decoding and capping
// bodies, encoding headers as JSON) is rawCall.build. A Buffer copies the rawCall into its
// frame right here and builds later, on its flusher, just before writing: the caller's
// goroutine pays for a copy, not for the redaction of two bodies. Any other sink gets the
// record built.
func (c *call) finish(resp *http.Response, err error, respBody *capture) {
	c.once.Do(func() {
		defer c.reqBody.release()
		defer respBody.release()
		var seen rawCall // on this stack: the Buffer copies it, nothing else keeps it
		c.see(&seen, resp, err, respBody)
		if b, ok := c.t.sink.(*Buffer); ok {
			b.addCall(&seen)
			return
		}
		raw := new(rawCall) // the record refers to it until built
		*raw = seen
		r := raw.record()
		r.materialize()
		c.t.sink.Add(r)
	})
}

// see fills s from the request and response as they are now.
func (c *call) see(s *rawCall, resp *http.Response, callErr error, respBody *capture) {
	o := c.t.opts
	req := c.req
	d := DetailsFrom(req.Context())
	*s = rawCall{
		id:          newID(c.start),
		service:     cmpOr(d.Service, o.Service),
		description: cmpOr(d.Description, o.Description),
		requestID:   requestid.FromContext(req.Context()),
		owner:       cmpOr(d.Owner, o.Owner),
		refType:     d.ReferenceType,
		refID:       d.ReferenceID,
		status:      cmpOr(o.Status(resp, callErr), StatusQueued),
		method:      req.Method,
		attempt:     attempt(req, d.attempt),
		start:       c.start,
		duration:    time.Since(c.start),

		redactor:  o.Redactor,
		inbound:   c.inbound,
		reqHeader: req.Header,
		reqBody:   c.reqBody.snapshot(),
		reqLength: req.ContentLength,
		respBody:  respBody.snapshot(),
	}
	if c.inbound {
		s.url = requestURL(req) // a server request's URL is only the path
	} else {
		s.reqURL = req.URL
	}
	if resp != nil {
		s.hasResponse = true
		s.statusCode, s.respHeader, s.respLength, s.respStatus = resp.StatusCode, resp.Header, resp.ContentLength, resp.Status
	}
	if callErr != nil {
		s.errText = callErr.Error()
	}
}

// rawCall is a recorded call as it was seen when it finished: the record's facts, and the
// headers and captured bodies before redaction, which build turns into the record's costly
// fields. The Transport fills one in its call; the Buffer keeps it encoded in a frame
// (appendCallHead and the bodies) and decodes it on its flusher.
type rawCall struct {
	// The facts: the record's cheap fields.
	id          uuid.UUID
	service     string
	description string
	requestID   string
	owner       string
	refType     string
	refID       string
	status      Status
	method      string
	attempt     int
	start       time.Time     // when the call started
	duration    time.Duration // to its end (monotonic clock)
	statusCode  int           // with hasResponse

	// What build redacts.
	redactor    *Redactor
	url         string   // an inbound call's URL, or an outbound one's decoded from its frame
	reqURL      *url.URL // an outbound call's URL, read at once (appendCallHead, or build)
	inbound     bool
	reqHeader   http.Header
	reqBody     capturedBody
	reqLength   int64 // as declared; -1 when unknown
	hasResponse bool
	respHeader  http.Header
	respBody    capturedBody
	respLength  int64
	respStatus  string // "200 OK"
	errText     string // the transport's error
}

// record returns the Request of c's facts, whose costly fields are still to be built from c
// (Request.materialize).
func (c *rawCall) record() *Request {
	// Microseconds, as PostgreSQL keeps them: a record written twice must compare equal to
	// its stored self (see WriteBatch).
	start := c.start.UTC().Truncate(time.Microsecond)
	ms := float64(c.duration.Microseconds()) / 1000
	r := &Request{
		ID:                 c.id.String(),
		Service:            c.service,
		IsRemoteRequest:    c.inbound,
		RequestDescription: c.description,
		RequestID:          c.requestID,
		Status:             c.status,
		Method:             c.method,
		Attempt:            c.attempt,
		ReferenceType:      c.refType,
		ReferenceID:        c.refID,
		Owner:              c.owner,
		DurationMS:         &ms,
		CreatedAt:          start,
		UpdatedAt:          c.start.UTC().Add(c.duration).Truncate(time.Microsecond),
		raw:                c,
	}
	if c.hasResponse {
		code := c.statusCode
		r.StatusCode = &code
	}
	return r
}

// build fills r's costly fields from c.
func (c *rawCall) build(r *Request) {
	// Redact in the order the data flowed, so that every secret sent is known before the
	// response, which may echo it, is redacted.
	var secrets Secrets
	red := c.redactor
	r.RequestHeaders = headerJSON(red.Header(c.reqHeader, &secrets))
	if c.reqBody.present {
		r.Data, r.DataTruncated, r.DataSize = c.reqBody.text(c.reqHeader, c.reqLength, red, &secrets)
	}
	u := c.url
	if c.reqURL != nil {
		u = c.reqURL.String()
	}
	r.URL = red.URL(u, &secrets)
	if c.hasResponse {
		r.ResponseHeaders = headerJSON(red.Header(c.respHeader, &secrets))
	}
	if c.respBody.present {
		r.Output, r.OutputTruncated, r.OutputSize = c.respBody.text(c.respHeader, c.respLength, red, &secrets)
	}
	switch {
	case c.errText != "":
		msg := secrets.Mask(c.errText)
		r.Error = &msg
	case r.Status == StatusFailed && c.respStatus != "":
		msg := "unexpected response status " + c.respStatus
		r.Error = &msg
	}
}

func cmpOr[S ~string](a, b S) S {
	if a != "" {
		return a
	}
	return b
}

// teeBody copies what the transport reads from the request body into a capture.
type teeBody struct {
	rc io.ReadCloser
	c  *capture
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.c.Write(p[:n])
	return n, err
}

func (b *teeBody) Close() error { return b.rc.Close() }

// recordingBody passes the response body through and finishes the record at its end.
type recordingBody struct {
	rc   io.ReadCloser
	call *call
	resp *http.Response
	c    capture

	// While open, in a list of the watcher's (watch.go), guarded by its shard's lock.
	// watchable is set before the body is watched and never changes.
	next, prev *recordingBody
	shard      uint8
	watched    bool
	watchable  bool
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.c.Write(p[:n])
	if err == io.EOF {
		b.end(nil)
	} else if err != nil {
		b.end(fmt.Errorf("read response body: %w", err))
	}
	return n, err
}

func (b *recordingBody) Close() error {
	err := b.rc.Close()
	b.end(nil)
	return err
}

// end finishes the record with what was captured so far. It runs from Read, Close or the
// watcher (the request's context ended), whichever comes first; the record is finished once.
func (b *recordingBody) end(err error) {
	// Finish, then unwatch: a sweep that still finds the body ends it too, and its finish
	// waits for this one's (sync.Once). Unwatching first would let a Buffer's Close sweep
	// miss a record that is on its way, then drop it as added after Close.
	b.call.finish(b.resp, err, &b.c)
	if testHookEnd != nil {
		testHookEnd()
	}
	if b.watchable {
		watched.unwatch(b)
	}
}

// testHookEnd, when set by a test, runs inside end between finishing and unwatching.
var testHookEnd func()
