package integration

import (
	"bytes"
	"encoding/binary"
)

// frameQueue is the Buffer's store: a FIFO of encoded records (frames, see frame.go) kept in
// chunks of memory mapped outside the Go heap.
//
// Why not a slice of *Request: the collector lets the heap grow to twice what is live before
// it collects (GOGC=100). A buffer holding 64 MiB of records on the heap therefore lets
// another 64 MiB of garbage pile up, and in a burst that is exactly what a full buffer makes,
// one dropped record per record added. Off the heap, the records do not count in that
// pacing: the live heap stays small, the collector runs often and cheaply, and the process
// grows by about what the buffer holds (BenchmarkBufferBurstDBDown measures it).
//
// Each frame is a 4-byte little-endian length and the bytes. A chunk holds frames in
// [r, w): pushBack writes at w, popFront reads at r, pushFront (records put back after a
// failed write) writes just before r. A frame never spans chunks; one longer than chunkSize
// gets a chunk of its own.
//
// Emptied chunks are kept as spares, up to maxSpares, and the rest unmapped: a fresh mapping
// costs a page fault per 4 KiB written (a tenth of a loopback call's cost per record, in
// BenchmarkCall), a reused one nothing. A spare is only taken, never mapped, so spares never
// raise the peak: what is mapped stays within the frames held at the fullest plus two partly
// used chunks (the head being read, the tail being written). Not safe for concurrent use: the
// Buffer's mutex guards it.
type frameQueue struct {
	chunks    []*chunk // oldest first
	n         int      // frames held
	bytes     int64    // their size, length prefixes included
	spares    []*chunk // emptied chunks of chunkSize, for the next ones needed
	maxSpares int
}

type chunk struct {
	buf  []byte
	r, w int
}

const (
	chunkSize   = 256 << 10
	frameHeader = 4
)

// newFrameQueue returns a queue for a buffer bounded at maxBytes. It keeps up to an eighth
// of the bound in spare chunks, 4 MiB at most: with the defaults, the records that wait
// between two threshold flushes (1 000 records of a few KiB) refill spares only.
func newFrameQueue(maxBytes int64) *frameQueue {
	return &frameQueue{maxSpares: int(min(max(maxBytes/8/chunkSize, 1), 16))}
}

func (q *frameQueue) len() int { return q.n }

// frameSize is what a frame of payload n costs in the queue.
func frameSize(n int) int64 { return int64(n) + frameHeader }

// pushBack appends a frame made of parts (copying them).
func (q *frameQueue) pushBack(parts ...[]byte) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	need := frameHeader + n
	var c *chunk
	if k := len(q.chunks); k > 0 && len(q.chunks[k-1].buf)-q.chunks[k-1].w >= need {
		c = q.chunks[k-1]
	} else {
		c = q.newChunk(need)
		q.chunks = append(q.chunks, c)
	}
	binary.LittleEndian.PutUint32(c.buf[c.w:], uint32(n))
	at := c.w + frameHeader
	for _, p := range parts {
		at += copy(c.buf[at:], p)
	}
	c.w += need
	q.n++
	q.bytes += int64(need)
}

// pushFront prepends a frame (copying it): the next popFront returns it.
func (q *frameQueue) pushFront(p []byte) {
	need := frameHeader + len(p)
	var c *chunk
	if len(q.chunks) > 0 && q.chunks[0].r >= need {
		c = q.chunks[0]
	} else {
		c = q.newChunk(need)
		c.r, c.w = len(c.buf), len(c.buf) // fill it from the end
		q.chunks = append(q.chunks, nil)
		copy(q.chunks[1:], q.chunks)
		q.chunks[0] = c
	}
	c.r -= need
	binary.LittleEndian.PutUint32(c.buf[c.r:], uint32(len(p)))
	copy(c.buf[c.r+frameHeader:], p)
	q.n++
	q.bytes += int64(need)
}

// popFront removes the oldest frame and returns a copy of it. The queue must not be empty.
func (q *frameQueue) popFront() []byte {
	f := bytes.Clone(q.peekFront())
	q.dropFront()
	return f
}

// dropFront removes the oldest frame unread and returns its size. The queue must not be empty.
func (q *frameQueue) dropFront() int64 {
	c := q.chunks[0]
	size := frameSize(int(binary.LittleEndian.Uint32(c.buf[c.r:])))
	c.r += int(size)
	q.n--
	q.bytes -= size
	if c.r == c.w {
		q.chunks[0] = nil
		q.chunks = q.chunks[1:]
		q.release(c)
	}
	return size
}

// peekFront returns the oldest frame's bytes, valid until the queue next changes.
func (q *frameQueue) peekFront() []byte {
	c := q.chunks[0]
	n := int(binary.LittleEndian.Uint32(c.buf[c.r:]))
	return c.buf[c.r+frameHeader : c.r+frameHeader+n]
}

func (q *frameQueue) newChunk(need int) *chunk {
	if k := len(q.spares); k > 0 && need <= chunkSize {
		c := q.spares[k-1]
		q.spares = q.spares[:k-1]
		c.r, c.w = 0, 0
		return c
	}
	return &chunk{buf: allocChunk(max(need, chunkSize))}
}

func (q *frameQueue) release(c *chunk) {
	if len(q.spares) < q.maxSpares && len(c.buf) == chunkSize {
		q.spares = append(q.spares, c)
		return
	}
	freeChunk(c.buf)
}

// reset empties the queue and unmaps every chunk, spares included.
func (q *frameQueue) reset() {
	for _, c := range q.chunks {
		freeChunk(c.buf)
	}
	for _, c := range q.spares {
		freeChunk(c.buf)
	}
	*q = frameQueue{maxSpares: q.maxSpares}
}
