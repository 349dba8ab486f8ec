package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

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
// read, or when the request's context ends (so a body nobody reads is still recorded).
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
		// A RoundTripper must not modify the caller's request: send a shallow copy whose body
		// is tee'd. GetBody stays the caller's, so redirects and retries resend the whole body.
		c.reqBody = &capture{limit: t.opts.BodyCap}
		copied := *req
		copied.Body = &teeBody{rc: req.Body, c: c.reqBody}
		out = &copied
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		c.finish(nil, err)
		return nil, err
	}
	if resp.StatusCode == http.StatusSwitchingProtocols || resp.Body == nil || resp.Body == http.NoBody {
		// A 101 body is the read-write connection itself: leave it exactly as it is.
		c.finish(resp, nil)
		return resp, nil
	}
	body := &recordingBody{rc: resp.Body, call: c, resp: resp, c: capture{limit: t.opts.BodyCap}}
	body.stop = context.AfterFunc(req.Context(), func() { body.end(req.Context().Err()) })
	resp.Body = body
	return resp, nil
}

// call is one attempt in flight.
type call struct {
	t       *Transport
	req     *http.Request
	start   time.Time
	reqBody *capture
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

// finish builds the record and hands it to the sink, once. respBody is nil when there was
// no body or it was not captured.
func (c *call) finish(resp *http.Response, err error, respBody ...*capture) {
	c.once.Do(func() {
		c.t.sink.Add(c.record(resp, err, respBody...))
	})
}

func (c *call) record(resp *http.Response, callErr error, respBody ...*capture) *Request {
	o := c.t.opts
	req := c.req
	d := DetailsFrom(req.Context())
	now := time.Now().UTC()
	ms := float64(now.Sub(c.start).Microseconds()) / 1000
	r := &Request{
		ID:                 NewID(),
		Service:            cmpOr(d.Service, o.Service),
		RequestDescription: cmpOr(d.Description, o.Description),
		RequestID:          requestid.FromContext(req.Context()),
		Method:             req.Method,
		Attempt:            attempt(req, d.attempt),
		ReferenceType:      d.ReferenceType,
		ReferenceID:        d.ReferenceID,
		Owner:              cmpOr(d.Owner, o.Owner),
		DurationMS:         &ms,
		CreatedAt:          c.start.UTC(),
		UpdatedAt:          now,
	}
	// Redact in the order the data flowed, so that every secret sent is known before the
	// response, which may echo it, is redacted.
	var secrets Secrets
	red := o.Redactor
	r.RequestHeaders = headerJSON(red.Header(req.Header, &secrets))
	if c.reqBody != nil {
		r.Data, r.DataTruncated, r.DataSize = c.reqBody.text(req.Header, req.ContentLength, red, &secrets)
	}
	r.URL = red.URL(req.URL.String(), &secrets)
	if resp != nil {
		code := resp.StatusCode
		r.StatusCode = &code
		r.ResponseHeaders = headerJSON(red.Header(resp.Header, &secrets))
		if len(respBody) > 0 && respBody[0] != nil {
			r.Output, r.OutputTruncated, r.OutputSize = respBody[0].text(resp.Header, resp.ContentLength, red, &secrets)
		}
	}
	r.Status = o.Status(resp, callErr)
	switch {
	case callErr != nil:
		msg := secrets.Mask(callErr.Error())
		r.Error = &msg
	case r.Status == StatusFailed && resp != nil:
		msg := "unexpected response status " + resp.Status
		r.Error = &msg
	}
	return r
}

func headerJSON(h http.Header) JSON {
	if len(h) == 0 {
		return nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil
	}
	return b
}

func cmpOr(a, b string) string {
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
	b.c.write(p[:n])
	return n, err
}

func (b *teeBody) Close() error { return b.rc.Close() }

// recordingBody passes the response body through and finishes the record at its end.
type recordingBody struct {
	rc   io.ReadCloser
	call *call
	resp *http.Response
	c    capture
	stop func() bool // cancels the context.AfterFunc
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.c.write(p[:n])
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

// end finishes the record with what was captured so far. It runs once, from Read, Close or
// the context's AfterFunc, whichever comes first.
func (b *recordingBody) end(err error) {
	b.stop()
	b.call.finish(b.resp, err, &b.c)
}
