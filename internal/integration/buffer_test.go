package integration

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database"
	"github.com/apitemplate/server/internal/database/dbtest"
)

// checkAccounting fails the test unless s satisfies BufferStats' equation.
func checkAccounting(t testing.TB, s BufferStats) {
	t.Helper()
	if s.Produced != s.Stored+s.Dropped+s.Failed+s.Pending+s.Spilled {
		t.Errorf("stats %+v: produced %d != stored+dropped+failed+pending+spilled %d",
			s, s.Produced, s.Stored+s.Dropped+s.Failed+s.Pending+s.Spilled)
	}
}

// pendingIDs lists the waiting records, oldest first.
func pendingIDs(b *Buffer) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	ids := make([]string, 0, b.queue.len())
	for _, c := range b.queue.chunks {
		for off := c.r; off < c.w; {
			n := int(binary.LittleEndian.Uint32(c.buf[off:]))
			r, err := decodeFrame(c.buf[off+frameHeader:off+frameHeader+n], b.redactors.all())
			if err != nil {
				panic(err)
			}
			ids = append(ids, r.ID)
			off += frameHeader + n
		}
	}
	return ids
}

func tableIDs(t testing.TB, db *gorm.DB) []string {
	t.Helper()
	var ids []string
	if err := db.Raw("SELECT id FROM integration_requests ORDER BY id").Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	return ids
}

func idRange(prefix string, from, to int) []string {
	var ids []string
	for i := from; i < to; i++ {
		ids = append(ids, fmt.Sprintf("%s%02d", prefix, i))
	}
	return ids
}

func withBody(id string, n int) *Request {
	return &Request{ID: id, Data: new(strings.Repeat("b", n))}
}

// TestBufferBounds: which records a full buffer keeps, by count and by bytes, per policy.
func TestBufferBounds(t *testing.T) {
	const body = 3_000 // size() = 256 + 3 000: three fit in 10 000 bytes
	tests := []struct {
		name        string
		cfg         BufferConfig
		add         []*Request
		wantIDs     []string
		wantDropped int64
	}{
		{"entries, drop oldest", BufferConfig{MaxEntries: 3, DropPolicy: DropOldest},
			[]*Request{{ID: "r1"}, {ID: "r2"}, {ID: "r3"}, {ID: "r4"}, {ID: "r5"}}, []string{"r3", "r4", "r5"}, 2},
		{"entries, drop newest", BufferConfig{MaxEntries: 3, DropPolicy: DropNewest},
			[]*Request{{ID: "r1"}, {ID: "r2"}, {ID: "r3"}, {ID: "r4"}, {ID: "r5"}}, []string{"r1", "r2", "r3"}, 2},
		{"bytes, drop oldest", BufferConfig{MaxBytes: 10_000, DropPolicy: DropOldest},
			[]*Request{withBody("r1", body), withBody("r2", body), withBody("r3", body), withBody("r4", body), withBody("r5", body)},
			[]string{"r3", "r4", "r5"}, 2},
		{"bytes, drop newest", BufferConfig{MaxBytes: 10_000, DropPolicy: DropNewest},
			[]*Request{withBody("r1", body), withBody("r2", body), withBody("r3", body), withBody("r4", body), withBody("r5", body)},
			[]string{"r1", "r2", "r3"}, 2},
		{"a big record makes room for itself", BufferConfig{MaxBytes: 10_000, DropPolicy: DropOldest},
			[]*Request{withBody("r1", body), withBody("r2", body), withBody("r3", body), withBody("r4", 2*body)},
			[]string{"r3", "r4"}, 2},
		{"a record bigger than MaxBytes is dropped alone", BufferConfig{MaxBytes: 10_000, DropPolicy: DropOldest},
			[]*Request{withBody("r1", body), withBody("r2", body), withBody("huge", 20_000), withBody("r3", body)},
			[]string{"r1", "r2", "r3"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := dbtest.SQLite(t)
			b := NewBuffer(db, tt.cfg)
			for _, r := range tt.add {
				b.Add(r)
			}
			s := b.Stats()
			checkAccounting(t, s)
			if got := pendingIDs(b); !slices.Equal(got, tt.wantIDs) || s.Dropped != tt.wantDropped {
				t.Errorf("pending %v, dropped %d; want %v, %d", got, s.Dropped, tt.wantIDs, tt.wantDropped)
			}
			max := b.cfg.MaxBytes
			if s.PendingBytes > max {
				t.Errorf("PendingBytes = %d; want <= MaxBytes %d", s.PendingBytes, max)
			}
			n, err := b.Flush(context.Background())
			if err != nil || n != len(tt.wantIDs) {
				t.Errorf("Flush = %d, %v; want %d, nil", n, err, len(tt.wantIDs))
			}
			if got, want := tableIDs(t, db), slices.Sorted(slices.Values(tt.wantIDs)); !slices.Equal(got, want) {
				t.Errorf("stored ids %v; want %v", got, want)
			}
			s = b.Stats()
			checkAccounting(t, s)
			if s.Pending != 0 || s.PendingBytes != 0 || s.Stored != int64(len(tt.wantIDs)) {
				t.Errorf("after Flush: %+v; want nothing pending, %d stored", s, len(tt.wantIDs))
			}
		})
	}
}

// TestBufferConcurrentProducersAndFlushes adds from 16 goroutines while two others flush and
// the background goroutine flushes at the threshold: every record is stored once or counted as
// dropped, and the equation holds in every snapshot taken meanwhile.
func TestBufferConcurrentProducersAndFlushes(t *testing.T) {
	tests := []struct {
		name       string
		maxEntries int
	}{
		{"room for all", 100_000},
		{"full, dropping", 1_000},
	}
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				dbtest.Exec(t, db, "DELETE FROM integration_requests")
				perProducer := 5_000
				if db.Dialector.Name() == database.SQLite {
					perProducer = 500 // the pure-Go SQLite stores ~2 000 rows/s under -race
				}
				testConcurrentProducers(t, db, tt.maxEntries, perProducer)
			})
		}
	})
}

func testConcurrentProducers(t *testing.T, db *gorm.DB, maxEntries, perProducer int) {
	const producers = 16
	b := NewBuffer(db, BufferConfig{MaxEntries: maxEntries, FlushThreshold: 500, BatchSize: 250})
	b.Start()

	var wg sync.WaitGroup
	var producing atomic.Bool
	producing.Store(true)
	for p := range producers {
		wg.Go(func() {
			for i := range perProducer {
				b.Add(&Request{ID: fmt.Sprintf("p%02d-%05d", p, i), Service: "svc", Data: new("body")})
			}
		})
	}
	// Flushes from other goroutines, as the minutely job would, and a reader of Stats that
	// checks the equation while rows are in flight.
	var side sync.WaitGroup
	for range 2 {
		side.Go(func() {
			for producing.Load() {
				if _, err := b.Flush(context.Background()); err != nil {
					t.Errorf("Flush: %v", err)
					return
				}
				time.Sleep(time.Millisecond) // pacing, so as not to starve the producers
			}
		})
	}
	side.Go(func() {
		for producing.Load() {
			checkAccounting(t, b.Stats())
			time.Sleep(100 * time.Microsecond)
		}
	})
	wg.Wait()
	producing.Store(false)
	side.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s := b.Stats()
	checkAccounting(t, s)
	if s.Produced != int64(producers*perProducer) || s.Pending != 0 || s.Failed != 0 {
		t.Errorf("stats %+v; want produced %d, nothing pending or failed", s, producers*perProducer)
	}
	if got := rowCount(t, db); got != s.Stored {
		t.Errorf("rows in table = %d; want Stored = %d", got, s.Stored)
	}
	if maxEntries >= producers*perProducer && s.Dropped != 0 {
		t.Errorf("Dropped = %d with room for every record; want 0", s.Dropped)
	}
	t.Logf("stored %d, dropped %d", s.Stored, s.Dropped)
}

// TestBufferCountsRejectedRows: rows the database refuses are counted as failed and logged by
// id, without their bodies; the rest of their batch is stored.
func TestBufferCountsRejectedRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		if err := WriteBatch(ctx, db, []*Request{{ID: "taken-1"}, {ID: "taken-2"}}); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		b := NewBuffer(db, BufferConfig{BatchSize: 16, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		for i := range 50 {
			id := fmt.Sprintf("r%02d", i)
			switch i {
			case 5:
				id = "taken-1"
			case 40:
				id = "taken-2"
			}
			b.Add(&Request{ID: id, Data: new("secret-body-text"), CreatedAt: time.Now().Add(time.Duration(i) * time.Second)})
		}
		n, err := b.Flush(ctx)
		if err != nil || n != 48 {
			t.Errorf("Flush = %d, %v; want 48, nil", n, err)
		}
		s := b.Stats()
		checkAccounting(t, s)
		if s.Stored != 48 || s.Failed != 2 || s.Pending != 0 {
			t.Errorf("stats %+v; want 48 stored, 2 failed", s)
		}
		if got := rowCount(t, db); got != 50 {
			t.Errorf("rows = %d; want 50 (48 new, 2 earlier)", got)
		}
		out := logs.String()
		if !strings.Contains(out, "id=taken-1") || !strings.Contains(out, "id=taken-2") || strings.Contains(out, "secret-body-text") {
			t.Errorf("log = %q; want both rejected ids and no body", out)
		}
	})
}

// TestBufferLogsDrops: drops are reported as one line with the count since the last line
// (the background goroutine calls logDrops every dropLogEvery), never one line per drop.
func TestBufferLogsDrops(t *testing.T) {
	var logs bytes.Buffer
	b := NewBuffer(dbtest.SQLite(t), BufferConfig{MaxEntries: 2, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for i := range 7 {
		b.Add(&Request{ID: fmt.Sprint(i)})
	}
	b.logDrops()
	b.logDrops() // nothing new: no line
	b.Add(&Request{ID: "7"})
	b.logDrops()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "dropped=5 ") || !strings.Contains(lines[1], "dropped=1 dropped_total=6") {
		t.Errorf("drop log =\n%s\nwant two lines: 5 dropped, then 1 (6 in all)", logs.String())
	}
}

func TestBufferDatabaseClosedIsNotFailure(t *testing.T) {
	db := dbtest.SQLite(t)
	b := NewBuffer(db, BufferConfig{})
	database.Close(db)
	for i := range 5 {
		b.Add(&Request{ID: fmt.Sprint(i)})
	}
	if _, err := b.Flush(context.Background()); err == nil {
		t.Error("Flush on a closed database = nil error")
	}
	if s := b.Stats(); s.Pending != 5 || s.Failed != 0 || s.Dropped != 0 {
		t.Errorf("stats %+v; want 5 pending, none failed or dropped", s)
	}
}

func TestBufferAddDoesNotWaitForFlush(t *testing.T) {
	b := NewBuffer(dbtest.SQLite(t), BufferConfig{FlushThreshold: 10})
	b.flushMu.Lock() // a flush that never ends
	defer b.flushMu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 1_000 {
			b.Add(&Request{ID: fmt.Sprint(i)})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Add blocked while a flush was running")
	}
	if s := b.Stats(); s.Pending != 1_000 {
		t.Errorf("Pending = %d; want 1000", s.Pending)
	}
}

func TestBufferThresholdFlushesInBackground(t *testing.T) {
	db := dbtest.SQLite(t)
	b := NewBuffer(db, BufferConfig{FlushThreshold: 10})
	b.Start()
	t.Cleanup(func() { b.Close(context.Background()) })
	for i := range 9 {
		b.Add(&Request{ID: fmt.Sprint(i)})
	}
	// Below the threshold nothing is written until a Flush; at it, the goroutine writes at once.
	b.Add(&Request{ID: "9"})
	eventually(t, 10*time.Second, "a background flush of 10 records", func() bool { return b.Stats().Stored == 10 })
	if got := rowCount(t, db); got != 10 {
		t.Errorf("rows = %d; want 10", got)
	}
}

// TestBufferOutageAndRecovery runs a buffer on real PostgreSQL behind a proxy that plays a
// database outage: records stay pending, in order, nothing counts as failed, and they are all
// stored exactly once when the database is back, by Flush or by the background retry.
func TestBufferOutageAndRecovery(t *testing.T) {
	viaProxy, direct, proxy := outagePostgres(t)
	ctx := context.Background()
	b := NewBuffer(viaProxy, BufferConfig{
		MaxEntries: 40, BatchSize: 7, FlushThreshold: 1_000,
		RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
	})

	proxy.down()
	for _, id := range idRange("a", 0, 50) {
		b.Add(&Request{ID: id})
	}
	n, err := b.Flush(ctx)
	if err == nil || n != 0 {
		t.Fatalf("Flush with the database down = %d, %v; want 0, an error", n, err)
	}
	s := b.Stats()
	checkAccounting(t, s)
	if s.Pending != 40 || s.Dropped != 10 || s.Failed != 0 || s.Stored != 0 {
		t.Errorf("stats during outage %+v; want 40 pending, 10 dropped (full), 0 failed", s)
	}
	if got, want := pendingIDs(b), idRange("a", 10, 50); !slices.Equal(got, want) {
		t.Errorf("pending after a failed flush %v; want %v (the failed batch back in front, in order)", got, want)
	}

	proxy.up(t)
	if n, err := b.Flush(ctx); err != nil || n != 40 {
		t.Fatalf("Flush after recovery = %d, %v; want 40, nil", n, err)
	}
	if got, want := tableIDs(t, direct), idRange("a", 10, 50); !slices.Equal(got, want) {
		t.Errorf("stored %v; want %v", got, want)
	}

	// The background goroutine retries on its own once a flush has failed.
	b.Start()
	proxy.down()
	for _, id := range idRange("b", 0, 30) {
		b.Add(&Request{ID: id})
	}
	if _, err := b.Flush(ctx); err == nil {
		t.Fatal("Flush with the database down = nil error")
	}
	if s := b.Stats(); s.Pending != 30 || s.Failed != 0 {
		t.Errorf("stats during second outage %+v; want 30 pending, 0 failed", s)
	}
	proxy.up(t)
	eventually(t, 20*time.Second, "the background retry to store 70 records", func() bool {
		s := b.Stats()
		return s.Stored == 70 && s.Pending == 0
	})
	if got, want := tableIDs(t, direct), append(idRange("a", 10, 50), idRange("b", 0, 30)...); !slices.Equal(got, want) {
		t.Errorf("stored %v; want %v", got, want)
	}
	if err := b.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	checkAccounting(t, b.Stats())
}

func TestBufferClose(t *testing.T) {
	t.Run("flushes everything and stops the goroutine", func(t *testing.T) {
		db := dbtest.SQLite(t)
		b := NewBuffer(db, BufferConfig{})
		b.Start()
		for i := range 2_500 {
			b.Add(&Request{ID: fmt.Sprint(i)})
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := b.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		select {
		case <-b.done:
		default:
			t.Error("background goroutine still running after Close")
		}
		if got := rowCount(t, db); got != 2_500 {
			t.Errorf("rows = %d; want 2500", got)
		}
		b.Add(&Request{ID: "late"})
		s := b.Stats()
		checkAccounting(t, s)
		if s.Stored != 2_500 || s.Dropped != 1 || s.Pending != 0 {
			t.Errorf("stats %+v; want 2500 stored, the Add after Close dropped", s)
		}
		if err := b.Close(ctx); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
	t.Run("Start after Close does nothing", func(t *testing.T) {
		b := NewBuffer(dbtest.SQLite(t), BufferConfig{})
		b.Close(context.Background())
		b.Start()
		if b.stop != nil {
			t.Error("Start after Close started a goroutine")
		}
	})
	t.Run("database down, no spill directory", func(t *testing.T) {
		viaProxy, _, proxy := outagePostgres(t)
		b := NewBuffer(viaProxy, BufferConfig{RetryMin: 10 * time.Millisecond})
		b.Start()
		proxy.down()
		for i := range 30 {
			b.Add(&Request{ID: fmt.Sprint(i)})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		err := b.Close(ctx)
		if err == nil || !strings.Contains(err.Error(), "30 records not stored") {
			t.Errorf("Close = %v; want an error saying 30 records were not stored", err)
		}
		checkAccounting(t, b.Stats())
	})
}

// TestFrameQueue checks the queue against a slice, with frames of every size (some longer
// than a chunk), and that a drained queue keeps its spare chunks within their limit.
func TestFrameQueue(t *testing.T) {
	q := newFrameQueue(64 << 20)
	defer q.reset()
	var model [][]byte
	var modelBytes int64
	rng := rand.New(rand.NewPCG(1, 2))
	frame := func(i int) []byte {
		size := rng.IntN(3000)
		if rng.IntN(200) == 0 {
			size = chunkSize + rng.IntN(chunkSize) // a chunk of its own
		}
		f := make([]byte, size)
		for j := range f {
			f[j] = byte(i + j)
		}
		return f
	}
	for i := range 20_000 {
		switch op := rng.IntN(20); {
		case op < 9 || len(model) == 0:
			f := frame(i)
			// In up to three parts, as a call's head and bodies: the frame is their concatenation.
			cut1 := rng.IntN(len(f) + 1)
			cut2 := cut1 + rng.IntN(len(f)-cut1+1)
			q.pushBack(f[:cut1], f[cut1:cut2], f[cut2:])
			model = append(model, f)
			modelBytes += frameSize(len(f))
		case op < 12:
			f := frame(i)
			q.pushFront(f)
			model = append([][]byte{f}, model...)
			modelBytes += frameSize(len(f))
		case op < 16:
			if !bytes.Equal(q.peekFront(), model[0]) {
				t.Fatalf("step %d: peekFront differs from the oldest frame", i)
			}
			if got := q.popFront(); !bytes.Equal(got, model[0]) {
				t.Fatalf("step %d: popFront returned %d bytes; want the oldest frame, %d bytes", i, len(got), len(model[0]))
			}
			modelBytes -= frameSize(len(model[0]))
			model = model[1:]
		default:
			if got, want := q.dropFront(), frameSize(len(model[0])); got != want {
				t.Fatalf("step %d: dropFront = %d; want %d", i, got, want)
			}
			modelBytes -= frameSize(len(model[0]))
			model = model[1:]
		}
		if q.len() != len(model) || q.bytes != modelBytes {
			t.Fatalf("step %d: len %d, bytes %d; want %d, %d", i, q.len(), q.bytes, len(model), modelBytes)
		}
	}
	for q.len() > 0 {
		q.dropFront()
	}
	if len(q.chunks) != 0 || q.bytes != 0 {
		t.Errorf("drained queue holds %d chunks, %d bytes; want none", len(q.chunks), q.bytes)
	}
	if len(q.spares) > q.maxSpares || q.maxSpares != 16 {
		t.Errorf("drained queue keeps %d spare chunks (limit %d); want 16 at most", len(q.spares), q.maxSpares)
	}
}

// TestBufferKeepsRecordsOffTheHeap: what the buffer holds does not count in the collector's
// pacing (see frameQueue), so a full buffer cannot let as much garbage pile up again.
func TestBufferKeepsRecordsOffTheHeap(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no anonymous mappings here: the buffer falls back to the heap")
	}
	b := NewBuffer(nil, BufferConfig{MaxEntries: 100_000, MaxBytes: 1 << 30})
	defer b.discardWaiting()
	runtime.GC()
	before := liveHeap()
	for i := range 5_000 {
		b.Add(withBody(fmt.Sprintf("r%05d", i), 4<<10))
	}
	runtime.GC()
	grew := int64(liveHeap()) - int64(before)
	held := b.Stats().PendingBytes
	if held < 5_000*4<<10 || grew > held/10 {
		t.Errorf("the buffer holds %d bytes of records and the live heap grew by %d; want the records off the heap", held, grew)
	}
	if got := pendingIDs(b); len(got) != 5_000 || got[0] != "r00000" || got[4_999] != "r04999" {
		t.Errorf("pending records: %d, from %v to %v; want r00000..r04999 in order", len(got), got[:1], got[len(got)-1:])
	}
}

// A batch the database did not take goes back to the front as it was queued, in order, ahead
// of what was added meanwhile; stored and rejected rows leave. (TestBufferOutageAndRecovery
// fails before any batch is taken: Flush checks the database answers first.)
func TestSettlePutsUnstoredRowsBackInOrder(t *testing.T) {
	b := NewBuffer(nil, BufferConfig{})
	defer b.discardWaiting()
	for _, id := range idRange("a", 0, 10) {
		b.Add(&Request{ID: id})
	}
	batch := b.take(6) // a00..a05
	b.Add(&Request{ID: "late"})
	rows := batch.rows
	b.settle(batch, &writeResult{
		stored:   2,
		rejected: []RowError{{ID: rows[2].ID, Err: errors.New("bad row")}},
		unstored: []*Request{rows[1], rows[3], rows[5]},
	})
	want := []string{"a01", "a03", "a05", "a06", "a07", "a08", "a09", "late"}
	if got := pendingIDs(b); !slices.Equal(got, want) {
		t.Errorf("pending after settle %v; want %v", got, want)
	}
	s := b.Stats()
	checkAccounting(t, s)
	if s.Stored != 2 || s.Failed != 1 || s.Pending != 8 {
		t.Errorf("stats %+v; want 2 stored, 1 failed, 8 pending", s)
	}
}
