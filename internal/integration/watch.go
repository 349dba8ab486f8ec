package integration

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// The response bodies a caller holds, watched for one whose request's context ends before the
// body is read to its end or closed: such a call is still recorded, with what was captured.
//
// Why not context.AfterFunc per call: it allocates three objects and takes the parent
// context's lock twice, about 0.4 µs on every call (more inside a real round trip) to cover
// the rare body nobody reads. Here a call costs a link into a list and an unlink, and one
// goroutine checks the open bodies' contexts every watchEvery while any are open; it exits
// when none are, so a process that makes no calls runs no watcher. The price: such a record
// is taken up to watchEvery after its context ended; Buffer.Flush and Close sweep at once,
// so a shutdown does not wait for the next tick.
//
// A body whose context cannot end (context.Background) is not watched. Left unread and
// unclosed it is never recorded, and net/http keeps its connection busy forever: close
// response bodies. One whose context can end but never does stays watched (and the watcher
// running) until it is closed. The watcher exits within two ticks of the last body's end,
// which goroutine-leak checks in tests should allow for.
//
// The watcher calls the Sinks' Add on its own goroutine, one call after another: Add must
// not block (see Sink).
var watched bodyWatch

// watchEvery is how often the watcher checks the open bodies' contexts.
const watchEvery = 100 * time.Millisecond

// watchShards spread the callers of many goroutines over several locks.
const watchShards = 16

type bodyWatch struct {
	shards  [watchShards]watchShard
	running atomic.Bool // a watcher goroutine is looping
}

type watchShard struct {
	mu   sync.Mutex
	head *recordingBody
	_    [48]byte // a cache line each: callers on different cores do not share one
}

// watch adds b to the watched bodies.
func (w *bodyWatch) watch(b *recordingBody) {
	b.shard = uint8(rand.Uint32() % watchShards)
	s := &w.shards[b.shard]
	s.mu.Lock()
	b.next = s.head
	if s.head != nil {
		s.head.prev = b
	}
	s.head = b
	b.watched = true
	s.mu.Unlock()
	if !w.running.Load() && w.running.CompareAndSwap(false, true) {
		go w.loop()
	}
}

// unwatch removes b; it does nothing if b is not watched.
func (w *bodyWatch) unwatch(b *recordingBody) {
	s := &w.shards[b.shard]
	s.mu.Lock()
	if b.watched {
		if b.prev != nil {
			b.prev.next = b.next
		} else {
			s.head = b.next
		}
		if b.next != nil {
			b.next.prev = b.prev
		}
		b.next, b.prev, b.watched = nil, nil, false
	}
	s.mu.Unlock()
}

// loop sweeps every watchEvery until no body is open.
func (w *bodyWatch) loop() {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for range t.C {
		if w.sweep(nil) > 0 {
			continue
		}
		// None open: stop, unless a body was added between the sweep and the Store, whose
		// watch saw running still true and started no watcher.
		w.running.Store(false)
		if !w.anyOpen() || !w.running.CompareAndSwap(false, true) {
			return
		}
	}
}

// sweep ends the watched bodies whose context has ended, of calls recorded to only (nil: of
// every call), and returns how many stay open.
func (w *bodyWatch) sweep(only *Buffer) (open int) {
	var ended []*recordingBody
	for i := range w.shards {
		s := &w.shards[i]
		s.mu.Lock()
		for b := s.head; b != nil; b = b.next {
			mine := only == nil || b.call.t.sink == Sink(only) // *Buffer: comparable
			if mine && b.call.req.Context().Err() != nil {
				ended = append(ended, b)
			} else {
				open++
			}
		}
		s.mu.Unlock()
	}
	for _, b := range ended { // outside the locks: end unwatches
		b.end(b.call.req.Context().Err())
	}
	return open
}

// anyOpen reports whether any body is watched.
func (w *bodyWatch) anyOpen() bool {
	for i := range w.shards {
		s := &w.shards[i]
		s.mu.Lock()
		open := s.head != nil
		s.mu.Unlock()
		if open {
			return true
		}
	}
	return false
}
