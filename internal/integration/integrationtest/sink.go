// Package integrationtest helps test code that records integration requests: Sink keeps
// records in memory, so a test can check what a handler or client recorded (service,
// reference, status, that no secret was stored) without a database or a flush.
//
//	sink := &integrationtest.Sink{}
//	client := integration.NewClient(sink, integration.Options{Service: "erp"})
//	// ... call the code under test with client ...
//	rec := sink.WaitFor(t, 1)[0]
package integrationtest

import (
	"cmp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apitemplate/server/internal/integration"
)

// Sink is an integration.Sink that keeps every record it is given, in order. The zero value
// is ready to use; it is safe for concurrent use.
//
// A Transport hands a sink other than the Buffer records already built (redacted, bodies
// decoded), exactly as the Buffer would store them.
type Sink struct {
	// Timeout is how long WaitFor waits (default 10 s).
	Timeout time.Duration

	mu    sync.Mutex
	recs  []*integration.Request
	added chan struct{} // closed at the next Add, for WaitFor; nil when nobody waits
}

// Add implements integration.Sink. It never blocks.
func (s *Sink) Add(r *integration.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, r)
	if s.added != nil {
		close(s.added)
		s.added = nil
	}
}

// Records returns the records so far, oldest first.
func (s *Sink) Records() []*integration.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recs)
}

// WaitFor returns the records once there are at least n, or fails the test after Timeout.
// A call is recorded when its response body is read to the end or closed, or its context
// ends: a test that does not read the body itself waits here rather than sleeping.
func (s *Sink) WaitFor(t testing.TB, n int) []*integration.Request {
	t.Helper()
	wait := cmp.Or(s.Timeout, 10*time.Second)
	timeout := time.NewTimer(wait)
	defer timeout.Stop()
	for {
		s.mu.Lock()
		if len(s.recs) >= n {
			recs := slices.Clone(s.recs)
			s.mu.Unlock()
			return recs
		}
		if s.added == nil {
			s.added = make(chan struct{})
		}
		added := s.added
		s.mu.Unlock()

		select {
		case <-added:
		case <-timeout.C:
			t.Fatalf("integrationtest: %d records after %v; want %d", len(s.Records()), wait, n)
			return nil
		}
	}
}
