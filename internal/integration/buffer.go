package integration

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// DropPolicy says which record a full Buffer gives up.
type DropPolicy int

const (
	// DropOldest discards the oldest waiting record to make room: the log keeps the most recent
	// calls, which are usually what someone investigating an incident wants. Records being
	// written are not dropped (they are in a statement already); when all the room is taken by
	// them, the new record is dropped instead.
	DropOldest DropPolicy = iota
	// DropNewest discards the record being added: the log keeps the start of an incident.
	DropNewest
)

// ParseDropPolicy reads "oldest" or "newest", as in configuration files.
func ParseDropPolicy(s string) (DropPolicy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "oldest", "":
		return DropOldest, nil
	case "newest":
		return DropNewest, nil
	}
	return 0, fmt.Errorf("drop policy %q: want oldest or newest", s)
}

func (p DropPolicy) String() string {
	if p == DropNewest {
		return "newest"
	}
	return "oldest"
}

// BufferConfig configures a Buffer. Zero fields take the defaults shown.
type BufferConfig struct {
	// MaxEntries bounds the records held, counting those being written. Default 10 000.
	MaxEntries int
	// MaxBytes bounds the memory the records take, encoded as the buffer holds them (their
	// fields, headers and captured bodies, plus a few bytes each), counting records being
	// written. Beyond it, the buffer maps at most two partly used 256 KiB chunks, and keeps up
	// to an eighth of it (4 MiB at most) in emptied chunks for reuse. Default 64 MiB.
	MaxBytes int64
	// FlushThreshold is the number of waiting records at which the background goroutine flushes
	// at once instead of waiting for the next Flush call. Default 1 000.
	FlushThreshold int
	// BatchSize is the number of rows per write. Default 1 000: with 1 KiB bodies that is about
	// 1 MiB per COPY, enough that the per-statement round trip and commit are a small share of the
	// time (see BenchmarkFlushPostgres), while a batch in flight, which cannot be dropped, stays
	// small next to MaxEntries, and isolating a bad row costs about 20 extra writes.
	BatchSize int
	// DropPolicy says what to discard when the buffer is full. Default DropOldest.
	DropPolicy DropPolicy
	// RetryMin and RetryMax bound the exponential backoff of the background goroutine after a
	// flush found the database unavailable. Defaults 1 s and 1 min.
	RetryMin, RetryMax time.Duration
	// WriteTimeout bounds each batch write, so a database that stops answering cannot hold a
	// flush (and the records in it) for ever. Default 30 s.
	WriteTimeout time.Duration
	// SpillDir, when set, is where Close writes the records it could not store, where the
	// background goroutine moves pending records when the database is down and the buffer
	// 90% full, and where Replay and Start look for them. "" disables spilling: records not
	// stored by Close are lost, and a long outage drops records once the buffer is full.
	SpillDir string
	// Logger receives warnings about drops, rejected rows and retries. Default slog.Default().
	Logger *slog.Logger
}

func (c BufferConfig) withDefaults() BufferConfig {
	c.MaxEntries = cmp.Or(c.MaxEntries, 10_000)
	c.MaxBytes = cmp.Or(c.MaxBytes, 64<<20)
	c.FlushThreshold = cmp.Or(c.FlushThreshold, 1_000)
	c.BatchSize = cmp.Or(c.BatchSize, 1_000)
	c.RetryMin = cmp.Or(c.RetryMin, time.Second)
	c.RetryMax = max(cmp.Or(c.RetryMax, time.Minute), c.RetryMin)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, 30*time.Second)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	return c
}

// BufferStats counts records since NewBuffer. At every instant, in every snapshot:
//
//	Produced = Stored + Dropped + Failed + Pending + Spilled
//
// Pending includes records being written. Records read back by Replay count as produced.
type BufferStats struct {
	Produced     int64 // records added (or replayed)
	Stored       int64 // written to the database
	Dropped      int64 // discarded because the buffer was full, the record alone exceeded MaxBytes, it was added after Close, or Close could neither store nor spill it
	Failed       int64 // rejected by the database for their content (logged with their id)
	Pending      int64 // held in memory, waiting or being written
	Spilled      int64 // written to a spill file by Close
	PendingBytes int64 // size of the pending records as the buffer holds them (encoded), the figure MaxBytes bounds
}

// dropLogEvery limits drop warnings to one line per period, with the count since the last.
const dropLogEvery = 10 * time.Second

// Buffer is Frappe's deferred_insert done right: Add puts a record in memory in O(1) without
// waiting for anything, and batches go to the database from a background goroutine (when
// FlushThreshold records wait), from Flush (a minutely job), and from Close at shutdown.
//
// Nothing it holds is lost to a database outage: a batch that cannot be written goes back to the
// front of the buffer, in order, and the background goroutine retries with exponential backoff.
// Memory is bounded by MaxEntries and MaxBytes; when full, DropPolicy decides what goes, and
// every drop is counted and logged (at a limited rate). See BufferStats for the accounting.
//
// Two locks keep Add off the I/O path: mu guards the records and counters and is held only for
// in-memory work; flushMu serializes flushes (so no row is written twice) and is held during
// writes. Add never takes flushMu. The one background goroutine belongs to the Buffer: Start
// starts it, Close stops it and waits for it.
//
// Wiring, in order: NewBuffer and Start at boot (Start also replays spill files); Flush from a
// minutely job; Close after the HTTP server has drained, under the shutdown deadline.
type Buffer struct {
	db  *gorm.DB
	cfg BufferConfig
	log *slog.Logger

	mu            sync.Mutex
	queue         *frameQueue // records waiting, oldest first, encoded and off the heap
	inFlight      int64       // records taken by a flush or spill, not yet settled
	inFlightBytes int64
	stats         BufferStats // Pending and PendingBytes are computed in Stats
	kicked        bool        // a threshold signal is outstanding
	closed        bool
	unloggedDrops int64

	flushMu sync.Mutex

	replayMu sync.Mutex

	redactors redactorTable // the Redactors named by call frames

	kick chan struct{} // capacity 1: "FlushThreshold records wait" or "a flush failed"

	startOnce sync.Once
	closeOnce sync.Once
	stop      context.CancelFunc // stops the background goroutine; nil until Start
	done      chan struct{}      // closed when the background goroutine has returned
}

// NewBuffer returns a Buffer writing to db. Call Start to run its background goroutine and
// Close to stop it.
func NewBuffer(db *gorm.DB, cfg BufferConfig) *Buffer {
	cfg = cfg.withDefaults()
	b := &Buffer{db: db, cfg: cfg, log: cfg.Logger, kick: make(chan struct{}, 1), queue: newFrameQueue(cfg.MaxBytes)}
	// The queue's memory is not the collector's to free: unmap it once the Buffer is gone.
	runtime.AddCleanup(b, (*frameQueue).reset, b.queue)
	return b
}

// Add buffers r for writing. It never waits for I/O or for a flush, and is safe for concurrent
// use. It fills zero fields as the table's defaults would (ID, CreatedAt and UpdatedAt in UTC,
// Status Queued, Attempt 1) and keeps a copy: r is the caller's again once Add returns.
//
// When the buffer is full the DropPolicy applies. A record larger than MaxBytes on its own is
// dropped whatever the policy, as is a record added after Close.
func (b *Buffer) Add(r *Request) {
	if r == nil {
		return
	}
	fillDefaults(r, time.Now())
	scratch := getScratch()
	*scratch = appendRequestFrame((*scratch)[:0], r)
	b.push(*scratch)
	putScratch(scratch)
}

// addCall buffers a call recorded by a Transport, to be built (redacted) by the flusher. It
// copies what it keeps of raw, which refers to the caller's headers and captures, and keeps
// no pointer to raw itself: the Transport's raw lives on its stack.
func (b *Buffer) addCall(raw *rawCall) {
	idx, ok := b.redactors.index(raw.redactor)
	if !ok {
		// Too many Redactors to number: build on the caller's goroutine, from a copy (the
		// record refers to its rawCall until built).
		cp := *raw
		r := cp.record()
		r.materialize()
		b.Add(r)
		return
	}
	scratch := getScratch()
	*scratch = appendCallHead((*scratch)[:0], raw, idx)
	b.push(*scratch, raw.reqBody.buf, raw.respBody.buf)
	putScratch(scratch)
}

// push copies a frame, made of parts, into the queue, or drops it.
func (b *Buffer) push(parts ...[]byte) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	size := frameSize(n)
	b.mu.Lock()
	b.stats.Produced++
	switch {
	case b.closed || size > b.cfg.MaxBytes:
		b.dropLocked(1)
	case b.makeRoomLocked(size):
		b.queue.pushBack(parts...)
	default:
		b.dropLocked(1)
	}
	kick := !b.kicked && b.queue.len() >= b.cfg.FlushThreshold
	if kick {
		b.kicked = true
	}
	b.mu.Unlock()

	if kick {
		b.signal()
	}
}

// makeRoomLocked reports whether one more record of size bytes fits, dropping the oldest
// waiting records first when the policy allows. Records being written are never dropped: they
// are in a statement already.
func (b *Buffer) makeRoomLocked(size int64) bool {
	fits := func() bool {
		return int64(b.queue.len())+b.inFlight+1 <= int64(b.cfg.MaxEntries) &&
			b.queue.bytes+b.inFlightBytes+size <= b.cfg.MaxBytes
	}
	if b.cfg.DropPolicy == DropOldest {
		for !fits() && b.queue.len() > 0 {
			b.queue.dropFront()
			b.dropLocked(1)
		}
	}
	return fits()
}

func (b *Buffer) dropLocked(n int64) {
	b.stats.Dropped += n
	b.unloggedDrops += n
}

// signal wakes the background goroutine without blocking.
func (b *Buffer) signal() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// Stats returns a consistent snapshot of the counters.
func (b *Buffer) Stats() BufferStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stats
	s.Pending = int64(b.queue.len()) + b.inFlight
	s.PendingBytes = b.queue.bytes + b.inFlightBytes
	return s
}

// Flush writes the records waiting when it is called, in batches of BatchSize, and returns how
// many it stored. Rows the database rejects are logged and counted in Stats().Failed; they are
// not an error. When the database is unavailable the unwritten batch goes back to the front of
// the buffer, the background goroutine (if started) retries with backoff, and Flush returns the
// error. Flushes are serialized, so concurrent calls never write a row twice.
//
// Its signature matches what the scheduler's flush job expects: Flush(ctx) (int, error).
func (b *Buffer) Flush(ctx context.Context) (int, error) {
	watched.sweep(b) // this Buffer's calls whose context ended since the watcher's last tick
	b.flushMu.Lock()
	defer b.flushMu.Unlock()

	b.mu.Lock()
	remaining := b.queue.len()
	b.kicked = false
	b.mu.Unlock()
	if remaining == 0 {
		return 0, nil
	}
	if err := b.reachable(ctx); err != nil {
		b.signal() // let the background goroutine take over, with backoff
		return 0, fmt.Errorf("flush integration requests: nothing written: %w", err)
	}

	stored := 0
	for remaining > 0 {
		if err := ctx.Err(); err != nil {
			return stored, fmt.Errorf("flush integration requests: %w", err)
		}
		batch := b.take(min(remaining, b.cfg.BatchSize))
		if len(batch.rows) == 0 {
			break // drops took what was waiting
		}
		remaining -= len(batch.rows)
		materialize(batch.rows)
		wctx, cancel := context.WithTimeout(ctx, b.cfg.WriteTimeout)
		res := writeRows(wctx, b.db, batch.rows)
		cancel()
		b.settle(batch, res)
		stored += res.stored
		if res.cause != nil {
			b.signal() // let the background goroutine take over, with backoff
			return stored, fmt.Errorf("flush integration requests: %d stored, %d put back: %w",
				stored, len(res.unstored), res.cause)
		}
	}
	return stored, nil
}

// reachable gets a connection from the pool and gives it back. A database that is down fails
// here, before any record leaves the queue: retries during an outage cost a connection
// attempt, not the copying and decoding of a batch that is then put back.
func (b *Buffer) reachable(ctx context.Context) error {
	sqlDB, err := b.db.DB()
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, b.cfg.WriteTimeout)
	defer cancel()
	conn, err := sqlDB.Conn(wctx)
	if err != nil {
		return err
	}
	return conn.Close()
}

// materialize runs the deferred builds of a batch taken for writing or spilling. It runs
// without b.mu, so Add never waits for it.
func materialize(batch []*Request) {
	for _, r := range batch {
		r.materialize()
	}
}

// taken is a batch of records moved from the queue to the in-flight set.
type taken struct {
	rows   []*Request
	frames [][]byte // rows[i] as it was queued, to put back unchanged
	bytes  int64    // their queue size, counted in inFlightBytes
}

// takeStep bounds how many frames take copies per hold of b.mu, so that Add never waits long.
const takeStep = 64

// take moves up to n of the oldest waiting records to the in-flight set, copies them out of
// the queue and decodes them.
func (b *Buffer) take(n int) *taken {
	var frames [][]byte
	for len(frames) < n {
		b.mu.Lock()
		k := min(n-len(frames), b.queue.len(), takeStep)
		var bytes int64
		for range k {
			f := b.queue.popFront()
			frames = append(frames, f)
			bytes += frameSize(len(f))
		}
		b.inFlight += int64(k)
		b.inFlightBytes += bytes
		b.mu.Unlock()
		if k == 0 {
			break
		}
	}

	t := &taken{rows: make([]*Request, 0, len(frames)), frames: make([][]byte, 0, len(frames))}
	redactors := b.redactors.all()
	var bad, badBytes int64
	for _, f := range frames {
		r, err := decodeFrame(f, redactors)
		if err != nil { // a bug, not bad data: count the record as failed rather than retry it for ever
			b.log.Error("integration buffer: cannot decode a buffered record; it is lost", "error", err)
			bad++
			badBytes += frameSize(len(f))
			continue
		}
		t.rows = append(t.rows, r)
		t.frames = append(t.frames, f)
		t.bytes += frameSize(len(f))
	}
	if bad > 0 {
		b.mu.Lock()
		b.inFlight -= bad
		b.inFlightBytes -= badBytes
		b.stats.Failed += bad
		b.mu.Unlock()
	}
	return t
}

// settle accounts for a written batch: stored and rejected rows leave the buffer, rows not
// written go back to the front in their order, as they were queued. Nothing needs dropping to
// put them back: in-flight records always counted against the bounds.
func (b *Buffer) settle(t *taken, res *writeResult) {
	for _, e := range res.rejected {
		// The id and the database's error only: the body may hold personal data.
		b.log.Warn("integration request rejected by the database", "id", e.ID, "error", e.Err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inFlight -= int64(len(t.rows))
	b.inFlightBytes -= t.bytes
	b.stats.Stored += int64(res.stored)
	b.stats.Failed += int64(len(res.rejected))
	b.putBackLocked(t, res.unstored)
}

// putBackLocked returns the frames of rows (a subset of t.rows, in order) to the front.
func (b *Buffer) putBackLocked(t *taken, rows []*Request) {
	frames := make([][]byte, 0, len(rows))
	for i, r := range t.rows { // both in the batch's order: one pass pairs them
		if len(frames) < len(rows) && rows[len(frames)] == r {
			frames = append(frames, t.frames[i])
		}
	}
	b.pushFrontLocked(frames)
}

// pushFrontLocked puts frames back at the front of the queue, in their order.
func (b *Buffer) pushFrontLocked(frames [][]byte) {
	for i := len(frames) - 1; i >= 0; i-- {
		b.queue.pushFront(frames[i])
	}
}

// Start runs the background goroutine: it flushes when FlushThreshold records wait, retries with
// exponential backoff while the database is unavailable, replays spill files (when SpillDir is
// set) and logs drops. Close stops it. Calling Start more than once, or after Close, does nothing.
func (b *Buffer) Start() {
	b.startOnce.Do(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.closed {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		b.stop, b.done = cancel, make(chan struct{})
		go b.run(ctx)
	})
}

func (b *Buffer) run(ctx context.Context) {
	defer close(b.done)
	dropTick := time.NewTicker(dropLogEvery)
	defer dropTick.Stop()
	replayed := b.cfg.SpillDir == ""
	retry := time.NewTimer(0) // at start: replay spill files
	if replayed {
		retry.Stop()
	}
	defer retry.Stop()
	var delay time.Duration // current backoff; 0 while the database answers
	for {
		var kick <-chan struct{}
		if delay == 0 {
			kick = b.kick // while backing off, only the timer triggers a retry
		}
		select {
		case <-ctx.Done():
			return
		case <-dropTick.C:
			b.logDrops()
			continue
		case <-kick:
		case <-retry.C:
		}
		err := b.runOnce(ctx, &replayed)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			delay = 0
			continue
		}
		if b.spillIfNearlyFull() {
			replayed = false // replay the file once the database answers again
		}
		delay = min(max(2*delay, b.cfg.RetryMin), b.cfg.RetryMax)
		wait := time.Duration(float64(delay) * (0.8 + 0.4*rand.Float64())) // jitter spreads replicas out
		b.log.Warn("integration buffer: database unavailable, will retry",
			"error", err, "pending", b.Stats().Pending, "retry_in", wait.Round(time.Millisecond))
		retry.Reset(wait)
	}
}

// runOnce is one pass of the background goroutine: replay spill files until that succeeds once,
// then flush. It returns an error only when the database is unavailable.
// spillIfNearlyFull moves the pending records to a spill file when the database is down and
// the buffer is 90% full, so that a long outage fills the disk instead of dropping records.
// It reports whether it spilled; the records come back through Replay.
func (b *Buffer) spillIfNearlyFull() bool {
	if b.cfg.SpillDir == "" {
		return false
	}
	s := b.Stats()
	if s.Pending*10 < int64(b.cfg.MaxEntries)*9 && s.PendingBytes*10 < b.cfg.MaxBytes*9 {
		return false
	}
	n, path, err := b.spill()
	if err != nil {
		b.log.Error("integration buffer: database down and buffer nearly full, and spilling failed", "error", err)
		return false
	}
	b.log.Warn("integration buffer: database down and buffer nearly full; records spilled to disk", "records", n, "file", path)
	return n > 0
}

func (b *Buffer) runOnce(ctx context.Context, replayed *bool) error {
	if !*replayed {
		_, err := b.Replay(ctx)
		var rerr *replayError
		switch {
		case err == nil:
			*replayed = true
		case errors.As(err, &rerr):
			b.log.Error("integration buffer: cannot replay spill file; leaving it for an operator", "error", err)
			*replayed = true
		default:
			return err
		}
	}
	_, err := b.Flush(ctx)
	return err
}

// logDrops writes the drop warning, at most once per dropLogEvery (the caller's ticker).
func (b *Buffer) logDrops() {
	b.mu.Lock()
	n := b.unloggedDrops
	b.unloggedDrops = 0
	total := b.stats.Dropped
	b.mu.Unlock()
	if n > 0 {
		b.log.Warn("integration buffer full: records dropped",
			"dropped", n, "dropped_total", total, "policy", b.cfg.DropPolicy.String(),
			"max_entries", b.cfg.MaxEntries, "max_bytes", b.cfg.MaxBytes)
	}
}

// Close takes the records of calls whose response body was left unread and whose request has
// ended (see Transport), stops the background goroutine and waits for it, then flushes
// everything, retrying with backoff while the database is unavailable, until ctx is done:
// give it a deadline. Records still pending then are spilled to SpillDir when it is set.
// Close returns an error saying how many records were not stored (and how many of those were
// spilled). Adds after Close are dropped and counted.
func (b *Buffer) Close(ctx context.Context) error {
	b.closeOnce.Do(func() {
		watched.sweep(b) // before closing: an unread body whose request has ended is recorded
		b.mu.Lock()
		b.closed = true
		stop, done := b.stop, b.done
		b.mu.Unlock()
		if stop != nil {
			stop()
			<-done
		}
	})
	defer b.logDrops()

	var lastErr error
	delay := b.cfg.RetryMin
	for {
		_, err := b.Flush(ctx)
		if err == nil && b.Stats().Pending == 0 {
			break
		}
		if err != nil {
			lastErr = err
		}
		if ctx.Err() != nil {
			lastErr = cmp.Or(lastErr, ctx.Err())
			break
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		delay = min(2*delay, b.cfg.RetryMax)
	}
	defer b.discardWaiting()
	pending := b.Stats().Pending
	if pending == 0 {
		return nil
	}
	if b.cfg.SpillDir == "" {
		return fmt.Errorf("close integration buffer: %d records not stored and lost (no spill directory): %w",
			pending, lastErr)
	}
	n, path, err := b.spill()
	if err != nil {
		return fmt.Errorf("close integration buffer: %d records not stored and lost: %w", pending, errors.Join(lastErr, err))
	}
	return fmt.Errorf("close integration buffer: %d records not stored, spilled to %s for replay: %w", n, path, lastErr)
}

// discardWaiting ends Close: records still waiting are lost (Close said so), counted as
// dropped, and the queue's memory goes back to the system.
func (b *Buffer) discardWaiting() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dropLocked(int64(b.queue.len()))
	b.queue.reset()
}
