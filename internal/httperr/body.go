package httperr

import (
	"errors"
	"io"
	"os"
)

// BodyError is a failure to read the request body: a malformed chunked encoding, a body
// shorter than its Content-Length, a client that stopped sending. It is the client's doing,
// so From makes it a 400 (UnreadableBody), or a 408 (RequestTimeout) when the server's read
// deadline passed, never a 500, whichever binder or reader met it.
type BodyError struct{ Err error }

func (e *BodyError) Error() string { return "read request body: " + e.Err.Error() }

func (e *BodyError) Unwrap() error { return e.Err }

// Body wraps a request body so that its read errors are *BodyError (io.EOF stays io.EOF).
// The server installs it on every request, under the body limit.
func Body(rc io.ReadCloser) io.ReadCloser { return &body{rc} }

type body struct{ io.ReadCloser }

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = &BodyError{Err: err}
	}
	return n, err
}

// fromBody maps a body read error; ok is false when err holds none.
func fromBody(err error) (*Error, bool) {
	var be *BodyError
	if !errors.As(err, &be) {
		return nil, false
	}
	// The client's fault, found deep in a binder: a stack would only show the reader.
	var e *Error
	if errors.Is(be.Err, os.ErrDeadlineExceeded) {
		e = RequestTimeout.Wrap(err)
	} else {
		e = UnreadableBody.Wrap(err, "problem", be.Err.Error())
	}
	e.stack = nil
	return e, true
}
