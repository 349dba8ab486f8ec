package integration

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// DropPolicy says which record a full Buffer gives up.
type DropPolicy int

const (
	// DropOldest discards the oldest waiting record to make room: the log keeps the most recent
	// calls, which are usually what someone investigating an incident wants.
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
	// MaxEntries bounds the records held in memory, counting those being written. Default 10 000.
	MaxEntries int
	// MaxBytes bounds the memory those records take (their text, captured bodies and headers,
	// plus 512 bytes each). Default 64 MiB.
	MaxBytes int64
	// FlushInterval is the longest a record waits before its write starts, and so what a
	// crash can lose. Default 1 s.
	FlushInterval time.Duration
	// FlushThreshold is the number of waiting records that starts a write at once. Default 1 000.
	FlushThreshold int
	// BatchSize is the number of rows per statement. Default 1 000.
	BatchSize int
	// DropPolicy says what to discard when the buffer is full and nothing can be spilled.
	// Default DropOldest.
	DropPolicy DropPolicy
	// RetryMin and RetryMax bound the backoff between writes while the database is
	// unavailable. Defaults 1 s and 30 s. A buffer filling up retries at once.
	RetryMin, RetryMax time.Duration
	// WriteTimeout bounds each batch write, so a database that stops answering cannot hold a
	// flush for ever. Default 30 s.
	WriteTimeout time.Duration
	// SpillDir, when set, is where records go instead of being dropped while the database is
	// unavailable: when half the buffer is waiting, and at Close. The running process writes
	// them to the database once it answers again, and a new process at Start. "" disables it.
	SpillDir string
	// SpillMaxBytes bounds the spill files in SpillDir; records that do not fit are dropped.
	// Default 1 GiB.
	SpillMaxBytes int64
	// Logger receives warnings about drops, rejected rows and outages. Default slog.Default().
	Logger *slog.Logger
}

func (c BufferConfig) withDefaults() BufferConfig {
	c.MaxEntries = cmp.Or(c.MaxEntries, 10_000)
	c.MaxBytes = cmp.Or(c.MaxBytes, 64<<20)
	c.FlushInterval = cmp.Or(c.FlushInterval, time.Second)
	c.FlushThreshold = cmp.Or(c.FlushThreshold, 1_000)
	c.BatchSize = cmp.Or(c.BatchSize, 1_000)
	c.RetryMin = cmp.Or(c.RetryMin, time.Second)
	c.RetryMax = max(cmp.Or(c.RetryMax, 30*time.Second), c.RetryMin)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, 30*time.Second)
	c.SpillMaxBytes = cmp.Or(c.SpillMaxBytes, 1<<30)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	return c
}

// BufferStats counts records since NewBuffer. In every snapshot:
//
//	Produced = Stored + Dropped + Failed + Pending + Spilled
//
// Records a Buffer finds in spill files left by an earlier process count as produced when it
// writes them.
type BufferStats struct {
	Produced     int64 // records added, or read from an earlier process's spill files
	Stored       int64 // written to the database
	Dropped      int64 // discarded: buffer and spill directory full, a record alone over MaxBytes, or added after Close
	Failed       int64 // rejected by the database for their content (logged with their id)
	Pending      int64 // in memory, waiting or being written
	Spilled      int64 // in spill files, waiting for the database
	PendingBytes int64 // the size of the pending records, the figure MaxBytes bounds
	SpillBytes   int64 // the size of the spill files in SpillDir

	LastFlush      time.Time // when the last write ended
	LastFlushError string    // its error, "" when it succeeded
}

// dropLogEvery limits drop warnings to one line per period, with the count since the last.
const dropLogEvery = 10 * time.Second

// Buffer holds records in memory and writes them in batches from its own goroutine: when
// FlushThreshold records wait, every FlushInterval, on Flush (the minutely flush job) and at
// Close. Add puts a record in memory and never waits for the database.
//
// While the database is unavailable, records stay in memory, in order, and the goroutine
// retries with backoff. With SpillDir set, once half the buffer is waiting they move to a
// spill file instead, and are written back when the database answers. Without it, a full
// buffer drops records by DropPolicy. Every record is accounted for (BufferStats).
//
// Two locks keep Add off the I/O path: mu guards the records and counters and is held only
// for memory work; writeMu serializes writes, so no row is written twice. The goroutine
// belongs to the Buffer: Start starts it, Close stops it and waits for it.
type Buffer struct {
	db  *gorm.DB
	cfg BufferConfig
	log *slog.Logger

	mu            sync.Mutex
	waiting       []entry // oldest first
	waitingBytes  int64
	inFlight      int64 // records taken by a write, not yet settled
	inFlightBytes int64
	stats         BufferStats // Pending and PendingBytes are computed in Stats
	down          bool        // the last write found the database unavailable
	kicked        bool        // a wake-up is outstanding
	closed        bool
	unloggedDrops int64
	open          map[*recordingBody]struct{} // response bodies not yet finished

	writeMu sync.Mutex
	spill   *spillDir // nil without SpillDir

	wake chan struct{} // capacity 1
	stop context.CancelFunc
	done chan struct{}
}

// entry is a waiting record and the size it counts for.
type entry struct {
	r    *Request
	size int64
}

// NewBuffer returns a Buffer writing to db. Start runs its goroutine; Close stops it.
func NewBuffer(db *gorm.DB, cfg BufferConfig) *Buffer {
	cfg = cfg.withDefaults()
	b := &Buffer{db: db, cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1), open: make(map[*recordingBody]struct{})}
	if cfg.SpillDir != "" {
		b.spill = &spillDir{dir: cfg.SpillDir, max: cfg.SpillMaxBytes}
	}
	return b
}

// Add fills r's zero fields as the table's defaults would (ID, CreatedAt and UpdatedAt in UTC,
// Status Queued, Attempt 1) and buffers r itself: do not change it afterwards. It never waits
// for I/O and is safe for concurrent use.
func (b *Buffer) Add(r *Request) {
	if r == nil {
		return
	}
	fillDefaults(r, time.Now())
	b.add(r)
}

// add buffers r itself, or drops it: after Close, when it alone exceeds MaxBytes, or when
// the buffer is full and DropPolicy gives it up.
func (b *Buffer) add(r *Request) {
	size := r.size()
	b.mu.Lock()
	b.stats.Produced++
	switch {
	case b.closed || size > b.cfg.MaxBytes:
		b.dropLocked(1)
	case b.makeRoomLocked(size):
		b.waiting = append(b.waiting, entry{r, size})
		b.waitingBytes += size
	default:
		b.dropLocked(1)
	}
	// While the database is down only a buffer that needs room wakes the goroutine: waking it
	// at every Add past the threshold would not store anything sooner.
	wake := !b.kicked && (b.down && b.needsRoomLocked() || !b.down && len(b.waiting) >= b.cfg.FlushThreshold)
	b.kicked = b.kicked || wake
	b.mu.Unlock()
	if wake {
		b.signal()
	}
}

// makeRoomLocked reports whether one more record of size bytes fits, dropping the oldest
// waiting records first when the policy allows. Records being written are never dropped.
func (b *Buffer) makeRoomLocked(size int64) bool {
	fits := func() bool {
		return int64(len(b.waiting))+b.inFlight < int64(b.cfg.MaxEntries) &&
			b.waitingBytes+b.inFlightBytes+size <= b.cfg.MaxBytes
	}
	for b.cfg.DropPolicy == DropOldest && !fits() && len(b.waiting) > 0 {
		b.waitingBytes -= b.waiting[0].size
		b.waiting[0] = entry{}
		b.waiting = b.waiting[1:]
		b.dropLocked(1)
	}
	return fits()
}

// shouldSpillLocked reports whether half the buffer is waiting: with the database down and
// a spill directory, time to move the records to disk, before the buffer is full.
func (b *Buffer) shouldSpillLocked() bool {
	return b.spill != nil && (2*len(b.waiting) >= b.cfg.MaxEntries || 2*b.waitingBytes >= b.cfg.MaxBytes)
}

func (b *Buffer) dropLocked(n int64) {
	b.stats.Dropped += n
	b.unloggedDrops += n
}

// signal wakes the goroutine without blocking.
func (b *Buffer) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Stats returns a consistent snapshot of the counters.
func (b *Buffer) Stats() BufferStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stats
	s.Pending = int64(len(b.waiting)) + b.inFlight
	s.PendingBytes = b.waitingBytes + b.inFlightBytes
	return s
}

// Flush writes the records waiting when it is called, in batches, and returns how many it
// stored. Rows the database rejects are logged and counted in Stats().Failed; they are not an
// error. When the database is unavailable the unwritten records go back to the front of the
// buffer, in order, the goroutine retries, and Flush returns the error.
//
// Its signature is what the scheduler's flush job expects: Flush(ctx) (int, error).
func (b *Buffer) Flush(ctx context.Context) (int, error) {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.Lock()
	remaining := len(b.waiting)
	b.kicked = false
	b.mu.Unlock()

	stored := 0
	for remaining > 0 {
		if err := ctx.Err(); err != nil {
			return stored, fmt.Errorf("flush integration requests: %w", err)
		}
		batch := b.take(min(remaining, b.cfg.BatchSize))
		if len(batch) == 0 {
			break // drops took what was waiting
		}
		remaining -= len(batch)
		wctx, cancel := context.WithTimeout(ctx, b.cfg.WriteTimeout)
		res := writeRows(wctx, b.db, requests(batch))
		cancel()
		b.settle(batch, res)
		stored += res.stored
		if res.cause != nil {
			b.signal()
			return stored, fmt.Errorf("flush integration requests: %d stored, %d put back: %w",
				stored, len(res.unstored), res.cause)
		}
	}
	return stored, nil
}

// take moves up to n of the oldest waiting records to the in-flight set and builds them
// (redaction runs here, outside mu, so Add never waits for it).
func (b *Buffer) take(n int) []entry {
	b.mu.Lock()
	n = min(n, len(b.waiting))
	batch := make([]entry, n)
	copy(batch, b.waiting)
	clear(b.waiting[:n])
	b.waiting = b.waiting[n:]
	for _, e := range batch {
		b.waitingBytes -= e.size
		b.inFlightBytes += e.size
	}
	b.inFlight += int64(n)
	b.mu.Unlock()
	for _, e := range batch {
		e.r.build()
	}
	return batch
}

func requests(batch []entry) []*Request {
	rows := make([]*Request, len(batch))
	for i, e := range batch {
		rows[i] = e.r
	}
	return rows
}

// settle accounts for a written batch: stored and rejected rows leave the buffer, rows not
// written go back to the front in their order.
func (b *Buffer) settle(batch []entry, res *writeResult) {
	for _, e := range res.rejected {
		// The id and the database's error only: the body may hold personal data.
		b.log.Warn("integration request rejected by the database", "id", e.ID, "error", e.Err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.release(batch)
	b.stats.Stored += int64(res.stored)
	b.stats.Failed += int64(len(res.rejected))
	b.stats.LastFlush, b.stats.LastFlushError = time.Now(), ""
	b.down = res.cause != nil
	if res.cause != nil {
		b.stats.LastFlushError = res.cause.Error()
	}
	if len(res.unstored) == 0 {
		return
	}
	unstored := make(map[*Request]bool, len(res.unstored))
	for _, r := range res.unstored {
		unstored[r] = true
	}
	back := make([]entry, 0, len(res.unstored))
	for _, e := range batch {
		if unstored[e.r] {
			back = append(back, e)
		}
	}
	b.putBackLocked(back)
}

// release ends the in-flight accounting of batch; mu must be held.
func (b *Buffer) release(batch []entry) {
	for _, e := range batch {
		b.inFlightBytes -= e.size
	}
	b.inFlight -= int64(len(batch))
}

// putBackLocked returns entries to the front of the buffer, in their order. They always
// fit: in-flight records count against the bounds.
func (b *Buffer) putBackLocked(back []entry) {
	for _, e := range back {
		b.waitingBytes += e.size
	}
	b.waiting = append(back, b.waiting...)
}

// Start runs the goroutine that writes on size, on age and while retrying. With SpillDir set
// it first writes what an earlier process spilled. Calling Start more than once, or after
// Close, does nothing.
func (b *Buffer) Start() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.done != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.stop, b.done = cancel, make(chan struct{})
	if b.spill != nil {
		if err := b.spill.scan(); err != nil {
			b.log.Error("integration buffer: cannot read the spill directory", "error", err)
		}
	}
	go b.run(ctx)
}

func (b *Buffer) run(ctx context.Context) {
	defer close(b.done)
	tick := time.NewTicker(b.cfg.FlushInterval)
	defer tick.Stop()
	dropLog := time.NewTicker(dropLogEvery)
	defer dropLog.Stop()
	var delay time.Duration // backoff while the database is unavailable
	var retryAt, early time.Time
	for {
		woken := false
		select {
		case <-ctx.Done():
			return
		case <-dropLog.C:
			b.logDrops()
			continue
		case <-tick.C:
		case <-b.wake:
			woken = true
		}
		if woken { // the next Add that needs the goroutine may wake it again
			b.mu.Lock()
			b.kicked = false
			b.mu.Unlock()
		}
		if backingOff := delay > 0 && time.Now().Before(retryAt); backingOff {
			if !b.retryEarly(early) {
				continue
			}
			early = time.Now() // a buffer that needs room retries at once
		}
		err := b.runOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			delay = 0
			continue
		}
		delay = min(max(2*delay, b.cfg.RetryMin), b.cfg.RetryMax)
		wait := time.Duration(float64(delay) * (0.8 + 0.4*rand.Float64())) // jitter spreads replicas out
		retryAt = time.Now().Add(wait)
		b.log.Warn("integration buffer: database unavailable, will retry",
			"error", err, "pending", b.Stats().Pending, "retry_in", wait.Round(time.Millisecond).String())
	}
}

// retryEarly reports whether a wake-up during the backoff retries at once: the buffer needs
// room, and either a spill can make it or the last early retry is RetryMin ago (a full
// buffer without a spill directory must not retry at every Add).
func (b *Buffer) retryEarly(last time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.needsRoomLocked() && (b.spill != nil || time.Since(last) >= b.cfg.RetryMin)
}

// needsRoomLocked reports whether the buffer is full, or half full with somewhere to spill.
func (b *Buffer) needsRoomLocked() bool {
	full := len(b.waiting)+int(b.inFlight) >= b.cfg.MaxEntries || b.waitingBytes+b.inFlightBytes >= b.cfg.MaxBytes
	return full || b.shouldSpillLocked()
}

// runOnce is one pass of the goroutine: spilled records first (they are older), then the
// waiting ones. When the database is unavailable and half the buffer is waiting, the waiting
// records move to a spill file. It returns an error only when the database is unavailable.
func (b *Buffer) runOnce(ctx context.Context) error {
	err := b.replay(ctx)
	if err == nil {
		_, err = b.Flush(ctx)
	}
	if err == nil {
		return nil
	}
	b.mu.Lock()
	b.down = true
	spill := b.shouldSpillLocked()
	b.mu.Unlock()
	if spill {
		b.spillWaiting("database unavailable")
	}
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

// track and untrack keep the response bodies still open, for Close.
func (b *Buffer) track(body *recordingBody) {
	b.mu.Lock()
	b.open[body] = struct{}{}
	b.mu.Unlock()
}

func (b *Buffer) untrack(body *recordingBody) {
	b.mu.Lock()
	delete(b.open, body)
	b.mu.Unlock()
}

// Close finishes the records of response bodies still open, stops the goroutine and waits
// for it, then writes everything, retrying while the database is unavailable, until ctx is
// done: give it a deadline. Records still in memory then are spilled when SpillDir is set.
// Close returns an error saying how many records were not stored, and where they went.
// Adds after Close are dropped and counted.
func (b *Buffer) Close(ctx context.Context) error {
	b.mu.Lock()
	open := make([]*recordingBody, 0, len(b.open))
	for body := range b.open {
		open = append(open, body)
	}
	b.mu.Unlock()
	for _, body := range open {
		body.end(errors.New("response body still open when the integration buffer closed"))
	}
	b.mu.Lock()
	b.closed = true
	stop, done := b.stop, b.done
	b.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	defer b.logDrops()

	var lastErr error
	for delay := b.cfg.RetryMin; ; delay = min(2*delay, b.cfg.RetryMax) {
		_, err := b.Flush(ctx)
		if err == nil && b.Stats().Pending == 0 {
			return nil
		}
		lastErr = cmp.Or(err, lastErr)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		if ctx.Err() != nil {
			break
		}
	}
	lastErr = cmp.Or(lastErr, ctx.Err())
	pending := b.Stats().Pending
	if b.spill == nil {
		b.dropWaiting()
		return fmt.Errorf("close integration buffer: %d records not stored and lost (no spill directory): %w", pending, lastErr)
	}
	n, err := b.spillWaiting("closing")
	b.dropWaiting()
	if err != nil {
		return fmt.Errorf("close integration buffer: %d records not stored and lost: %w", pending-int64(n), errors.Join(lastErr, err))
	}
	return fmt.Errorf("close integration buffer: %d records not stored, spilled to %s: %w", n, b.cfg.SpillDir, lastErr)
}

// dropWaiting ends Close: records still in memory are lost (Close said so), and counted.
func (b *Buffer) dropWaiting() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dropLocked(int64(len(b.waiting)))
	b.waiting, b.waitingBytes = nil, 0
}
