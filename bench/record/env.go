package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/apitemplate/server/internal/integration"
)

// The sides of a comparison.
const (
	sideBare     = "bare"     // a plain http.Client
	sideRecorded = "recorded" // integration.NewClient, recording into a started Buffer on PostgreSQL
	sideOtel     = "otel"     // otelhttp into an SDK TracerProvider with a BatchSpanProcessor
)

// env is what both figures share: one database and Buffer, one TracerProvider, the upstreams.
type env struct {
	db  *tempDB
	buf *integration.Buffer
	tp  *sdktrace.TracerProvider
	exp *discardExporter

	small *upstream // figure 1: 1 KiB up, 1 KiB down, no delay
	slow  *upstream // figure 2: 4 KiB up, 4 KiB down, after 2 ms

	bare, otel *http.Client
	rec        doer // integration.NewClient's

	recorded int64 // calls made through rec so far: records the Buffer must have produced
	traced   int64 // calls made through otel so far: spans the exporter must have had
}

const (
	smallSize = 1 << 10
	slowSize  = 4 << 10
	slowDelay = 2 * time.Millisecond
)

func setUp(ctx context.Context, cfg config, log *slog.Logger) (*env, error) {
	e := &env{}
	var err error
	// Only a run that records needs the database (the callgrind mode runs one side alone).
	if cfg.side == "" || cfg.side == sideRecorded {
		if e.db, err = createDB(ctx); err != nil {
			return nil, err
		}
		// The server's Buffer: every field at its default (batches of 1 000 rows, COPY on
		// PostgreSQL), its flusher running in the background as in production.
		e.buf = integration.NewBuffer(e.db.db, integration.BufferConfig{Logger: log})
		e.buf.Start()
	}
	e.tp, e.exp = newTracing()
	if e.small, err = startUpstream(smallSize, jsonBody(smallSize, "response"), 0); err != nil {
		e.tearDown()
		return nil, err
	}
	if e.slow, err = startUpstream(slowSize, jsonBody(slowSize, "response"), slowDelay); err != nil {
		e.tearDown()
		return nil, err
	}

	// Each side gets a transport cloned from http.DefaultTransport and a 30 s timeout, as
	// integration.NewClient builds its own: the sides differ by the instrumentation only, not
	// by the pool or the per-request timer a Client.Timeout costs.
	base := func() *http.Transport { return http.DefaultTransport.(*http.Transport).Clone() }
	e.bare = &http.Client{Transport: base(), Timeout: 30 * time.Second}
	e.otel = &http.Client{Transport: otelTransport(base(), e.tp), Timeout: 30 * time.Second}
	if e.buf != nil {
		e.rec = integration.NewClient(e.buf, integration.Options{Service: "erp"})
	}
	return e, nil
}

// tearDown stores what the Buffer holds, stops everything and drops the database.
func (e *env) tearDown() error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if e.buf != nil {
		if err := e.buf.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close buffer: %w", err))
		}
	}
	if e.tp != nil {
		errs = append(errs, e.tp.Shutdown(ctx))
	}
	for _, u := range []*upstream{e.small, e.slow} {
		if u != nil {
			u.close()
		}
	}
	if e.db != nil {
		errs = append(errs, e.db.drop())
	}
	return errors.Join(errs...)
}

// doer is what a side calls through. integration.NewClient returns an *http.Client or (since
// the integration rewrite) an *integration.Client wrapping one, whose Do also redacts the URL
// in errors; either way the benchmark calls the Do an application would call.
type doer interface {
	Do(*http.Request) (*http.Response, error)
}

// side is one way of making a figure's call.
type side struct {
	name    string
	client  doer
	url     string
	body    []byte
	respLen int
	count   *int64 // calls to check against (nil for bare)

	// flush ends a round of this side in figure 1: it waits for the work the side deferred
	// (the Buffer's writes; the span batches' export) to be done, so that it is inside the
	// round that caused it. Without it the recorded side would leave most of its cost (the
	// redaction, the encoding and the COPY, done by the flusher) out of its round.
	flush func(ctx context.Context) error
	// check says whether the deferred work is all there: nothing dropped, nothing pending.
	check func() error
}

// sides returns the sides named, calling u.
func (e *env) sides(u *upstream, names ...string) []*side {
	body := jsonBody(len(u.resp), "request") // requests are the size of the answers
	var out []*side
	for _, name := range names {
		s := &side{name: name, url: u.url, body: body, respLen: len(u.resp),
			flush: func(context.Context) error { return nil }, check: func() error { return nil }}
		switch name {
		case sideBare:
			s.client = e.bare
		case sideRecorded:
			s.client, s.count, s.flush, s.check = e.rec, &e.recorded, e.flushBuffer, e.checkBuffer
		case sideOtel:
			s.client, s.count, s.flush, s.check = e.otel, &e.traced, e.tp.ForceFlush, e.checkSpans
		}
		out = append(out, s)
	}
	return out
}

// call makes one call as an application does: a JSON POST with a bearer token, the whole
// response read, the body closed. The response is read into io.Discard rather than decoded:
// the application's own work would be the same on every side and only dilute the ratios.
//
// The request's context is the run's, which can be cancelled (Ctrl-C), as a server
// request's can: the recorder treats a body whose context can never end differently (it does
// not watch it), and the benchmark must take the path production takes.
func (s *side) call(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(s.body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if s.count != nil {
		*s.count++
	}
	if err != nil || resp.StatusCode != http.StatusOK || n != int64(s.respLen) {
		return fmt.Errorf("%s: POST %s = %d, %d bytes (want %d), %v", s.name, s.url, resp.StatusCode, n, s.respLen, err)
	}
	return nil
}

// calls makes n calls one after another.
func (s *side) calls(ctx context.Context, n int) error {
	for range n {
		if err := s.call(ctx); err != nil {
			return err
		}
	}
	return nil
}

// warm makes n untimed calls (connections, pools, caches, the Buffer's first chunks), then
// waits for their deferred work.
func (s *side) warm(ctx context.Context, n int) error {
	if err := s.calls(ctx, n); err != nil {
		return err
	}
	if err := s.flush(ctx); err != nil {
		return err
	}
	return s.check()
}

func (e *env) flushBuffer(ctx context.Context) error {
	_, err := e.buf.Flush(ctx)
	return err
}

// checkBuffer: after a flush, every recorded call is stored, none dropped or pending. A
// Buffer that dropped records, or kept them for later, would look cheaper for it.
func (e *env) checkBuffer() error {
	st := e.buf.Stats()
	if st.Produced != e.recorded || st.Stored != e.recorded || st.Dropped != 0 || st.Pending != 0 {
		return fmt.Errorf("buffer after flush: produced %d, stored %d, dropped %d, pending %d; want %d calls produced and stored",
			st.Produced, st.Stored, st.Dropped, st.Pending, e.recorded)
	}
	return nil
}

// checkSpans: after ForceFlush, the exporter had one span per traced call.
func (e *env) checkSpans() error {
	if got := e.exp.spans.Load(); got != e.traced {
		return fmt.Errorf("otel after ForceFlush: %d spans exported for %d calls (the BatchSpanProcessor dropped some?)", got, e.traced)
	}
	return nil
}
