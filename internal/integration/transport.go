package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/apitemplate/server/internal/redact"
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
	// Redactor masks secrets before a record is stored (default: redact.Default's lists).
	Redactor *redact.Redactor
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

var defaultRedactor = redact.Standard()

func (o Options) withDefaults() Options {
	if o.BodyCap <= 0 {
		o.BodyCap = 64 << 10
	}
	if o.Redactor == nil {
		o.Redactor = defaultRedactor
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
// A call's record is finished when its response body reaches EOF, is closed or fails to
// read, or when the request's context ends, so a body nobody reads is still recorded. A
// Buffer's Close finishes the bodies still open.
type Transport struct {
	base   http.RoundTripper
	sink   Sink
	buffer *Buffer // sink, when it is a Buffer: records are redacted on its goroutine
	opts   Options
}

// NewTransport wraps base (http.DefaultTransport when nil) so that its calls go to sink.
func NewTransport(base http.RoundTripper, sink Sink, opts Options) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	t := &Transport{base: base, sink: sink, opts: opts.withDefaults()}
	t.buffer, _ = sink.(*Buffer)
	return t
}

// Client is an *http.Client whose calls are recorded, and whose errors carry the URL
// redacted: a handler that logs the error of Do logs no token. Pass Client.Client where a
// library wants an *http.Client; its calls are still recorded, but the errors it returns
// are net/http's own, with the query in clear.
type Client struct {
	*http.Client
	redactor *redact.Redactor
}

// NewClient returns a Client that records its calls to sink. It has a 30 s timeout: a third
// party that never answers must not hold a request forever. Set Timeout to 0 for protocol
// upgrades (101): net/http hides the read-write body of clients with a timeout.
func NewClient(sink Sink, opts Options) *Client {
	t := NewTransport(http.DefaultTransport.(*http.Transport).Clone(), sink, opts)
	return &Client{Client: &http.Client{Transport: t, Timeout: 30 * time.Second}, redactor: t.opts.Redactor}
}

// Do sends req as http.Client.Do does.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.Client.Do(req)
	return resp, c.redactError(err)
}

// Get, Head, Post and PostForm are http.Client's, with the errors of Do.
func (c *Client) Get(url string) (*http.Response, error) { return c.send(http.MethodGet, url, "", nil) }

func (c *Client) Head(url string) (*http.Response, error) {
	return c.send(http.MethodHead, url, "", nil)
}

func (c *Client) Post(url, contentType string, body io.Reader) (*http.Response, error) {
	return c.send(http.MethodPost, url, contentType, body)
}

func (c *Client) PostForm(url string, data url.Values) (*http.Response, error) {
	return c.Post(url, "application/x-www-form-urlencoded", strings.NewReader(data.Encode()))
}

func (c *Client) send(method, url, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return nil, c.redactError(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return c.Do(req)
}

// redactError redacts the URL of every *url.Error in err's chain (net/http wraps every
// failure of Do in one, with the query as the caller wrote it).
func (c *Client) redactError(err error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ue, ok := e.(*url.Error); ok {
			ue.URL = c.redactor.URL(ue.URL, nil)
		}
	}
	return err
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := &call{t: t, req: req, start: time.Now()}
	out := req
	if req.Body != nil && req.Body != http.NoBody {
		c.reqBody = newCapture(t.opts.BodyCap, req.ContentLength)
		if !replay(req, c.reqBody) {
			// A RoundTripper must not modify the caller's request: send a shallow copy whose
			// body is tee'd. GetBody stays the caller's, so redirects resend the whole body.
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
		c.finish(resp, nil, nil) // a 101 body is the read-write connection itself: leave it alone
		return resp, nil
	}
	body := &recordingBody{rc: resp.Body, call: c, resp: resp, c: newCapture(t.opts.BodyCap, resp.ContentLength)}
	body.watch(req.Context())
	resp.Body = body
	return resp, nil
}

// call is one attempt in flight.
type call struct {
	t       *Transport
	req     *http.Request
	start   time.Time
	inbound bool     // a call a third party made to us (Inbound)
	reqBody *capture // nil without a request body
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

// finish hands the call's record to the sink, once. respBody is nil when the response had
// no body or it was not captured. A Buffer gets the record unredacted and redacts it on its
// own goroutine just before writing; any other sink gets it finished.
func (c *call) finish(resp *http.Response, err error, respBody *capture) {
	c.once.Do(func() {
		r := c.record(resp, err, respBody)
		if c.t.buffer != nil {
			c.t.buffer.add(r)
			return
		}
		r.build()
		c.t.sink.Add(r)
	})
}

// record makes the call's Request: its facts now, what needs redaction kept aside as seen.
// Headers are cloned: the caller may change or reuse them once the call is over.
func (c *call) record(resp *http.Response, callErr error, respBody *capture) *Request {
	o := c.t.opts
	req := c.req
	ctx := req.Context()
	d := DetailsFrom(ctx)
	took := time.Since(c.start)
	ms := float64(took.Microseconds()) / 1000
	r := &Request{
		ID:                 newID(c.start).String(),
		Service:            cmpOr(d.Service, o.Service),
		IsRemoteRequest:    c.inbound,
		RequestDescription: cmpOr(d.Description, o.Description),
		RequestID:          requestid.FromContext(ctx),
		TraceID:            requestid.TraceID(ctx),
		Status:             cmpOr(o.Status(resp, callErr), StatusQueued),
		Method:             req.Method,
		Attempt:            attempt(req, d.attempt),
		ReferenceType:      d.ReferenceType,
		ReferenceID:        d.ReferenceID,
		Owner:              cmpOr(d.Owner, o.Owner),
		DurationMS:         &ms,
		// Microseconds, as PostgreSQL keeps them: a record written twice compares equal to
		// its stored self (see WriteBatch).
		CreatedAt: c.start.UTC().Truncate(time.Microsecond),
		UpdatedAt: c.start.Add(took).UTC().Truncate(time.Microsecond),
	}
	s := &seenCall{
		redactor:  o.Redactor,
		reqHeader: req.Header.Clone(),
		reqBody:   c.reqBody.take(),
		reqLength: req.ContentLength,
	}
	if c.inbound {
		s.url = requestURL(req) // a server request's URL is only the path
	} else {
		s.url = req.URL.String()
	}
	if resp != nil {
		r.StatusCode = new(resp.StatusCode)
		s.respHeader, s.respBody, s.respLength, s.respStatus = resp.Header.Clone(), respBody.take(), resp.ContentLength, resp.Status
	}
	if callErr != nil {
		s.errText = callErr.Error()
	}
	r.seen = s
	return r
}

// seenCall is what a call's record keeps until it is redacted: the headers, URL and bodies
// as they went over the wire.
type seenCall struct {
	redactor   *redact.Redactor
	url        string
	reqHeader  http.Header
	reqBody    *capturedBody
	reqLength  int64 // as declared; -1 when unknown
	respHeader http.Header
	respBody   *capturedBody
	respLength int64
	respStatus string // "404 Not Found"
	errText    string // the transport's error
}

// build fills r's redacted fields. It redacts in the order the data flowed, sharing one
// Secrets, so that every secret sent is known before the response, which may echo it.
func (s *seenCall) build(r *Request) {
	var secrets redact.Secrets
	red := s.redactor
	r.RequestHeaders = headerJSON(red.Header(s.reqHeader, &secrets))
	if s.reqBody != nil {
		r.Data, r.DataTruncated, r.DataSize = s.reqBody.text(s.reqHeader, s.reqLength, red, &secrets)
	}
	r.URL = red.URL(s.url, &secrets)
	if s.respHeader != nil {
		r.ResponseHeaders = headerJSON(red.Header(s.respHeader, &secrets))
	}
	if s.respBody != nil {
		r.Output, r.OutputTruncated, r.OutputSize = s.respBody.text(s.respHeader, s.respLength, red, &secrets)
	}
	r.encoded = true
	switch {
	case s.errText != "":
		r.Error = new(secrets.Mask(red.Text(s.errText)))
	case r.Status == StatusFailed && s.respStatus != "":
		r.Error = new("unexpected response status " + s.respStatus)
	}
}

// size is what s adds to its record's size until it is built.
func (s *seenCall) size() int {
	n := len(s.url) + len(s.respStatus) + len(s.errText) + headerSize(s.reqHeader) + headerSize(s.respHeader)
	if s.reqBody != nil {
		n += cap(s.reqBody.buf)
	}
	if s.respBody != nil {
		n += cap(s.respBody.buf)
	}
	return n
}

func headerSize(h http.Header) int {
	n := 0
	for k, vs := range h {
		n += len(k) + 16 // the key and its slice header, roughly
		for _, v := range vs {
			n += len(v) + 16
		}
	}
	return n
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
	c    *capture

	mu        sync.Mutex
	stopWatch func() bool // stops the context.AfterFunc of watch
	ended     bool
}

// watch finishes the record when ctx ends, and lets a Buffer's Close finish it too.
func (b *recordingBody) watch(ctx context.Context) {
	if buf := b.call.t.buffer; buf != nil {
		buf.track(b)
	}
	if ctx.Done() == nil {
		return // a context that cannot end
	}
	stop := context.AfterFunc(ctx, func() { b.end(ctx.Err()) })
	b.mu.Lock()
	b.stopWatch = stop
	ended := b.ended
	b.mu.Unlock()
	if ended {
		stop()
	}
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

// end finishes the record with what was captured so far. It runs from Read, Close, the
// request's context ending or a Buffer's Close, whichever comes first; later calls do nothing.
func (b *recordingBody) end(err error) {
	b.call.finish(b.resp, err, b.c)
	b.mu.Lock()
	stop, ended := b.stopWatch, b.ended
	b.ended = true
	b.mu.Unlock()
	if ended {
		return
	}
	if stop != nil {
		stop()
	}
	if buf := b.call.t.buffer; buf != nil {
		buf.untrack(b)
	}
}

// headerJSON is how headers are stored: a JSON object of lists, keys sorted, or nil for no
// headers. Written by hand rather than by encoding/json's reflection, which took a tenth of
// the time to build a record (BenchmarkBuild).
func headerJSON(h http.Header) JSON {
	if h == nil {
		return nil
	}
	keys := slices.Sorted(maps.Keys(h))
	b := make([]byte, 0, 64*len(h))
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b, _ = jsontext.AppendQuote(b, k) // invalid UTF-8 becomes U+FFFD
		b = append(b, ':', '[')
		for j, v := range h[k] {
			if j > 0 {
				b = append(b, ',')
			}
			b, _ = jsontext.AppendQuote(b, v)
		}
		b = append(b, ']')
	}
	return JSON(append(b, '}'))
}
