package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
	ids := make([]string, 0, len(b.waiting))
	for _, e := range b.waiting {
		ids = append(ids, e.r.ID)
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
	const body = 2_800 // size() = 512 + 2 + 2 800: three fit in 10 000 bytes
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
	b.writeMu.Lock() // a write that never ends
	defer b.writeMu.Unlock()
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

// A batch the database did not take goes back to the front as it was queued, in order, ahead
// of what was added meanwhile; stored and rejected rows leave.
func TestSettlePutsUnstoredRowsBackInOrder(t *testing.T) {
	b := NewBuffer(nil, BufferConfig{})
	for _, id := range idRange("a", 0, 10) {
		b.Add(&Request{ID: id})
	}
	batch := b.take(6) // a00..a05
	b.Add(&Request{ID: "late"})
	rows := requests(batch)
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

// TestBufferWritesOnItsOwnWithinTheInterval: below the threshold and with no Flush call, a
// record is written once FlushInterval has passed, so a crash loses at most that much.
func TestBufferWritesOnItsOwnWithinTheInterval(t *testing.T) {
	t.Parallel()
	db := dbtest.SQLite(t)
	b := NewBuffer(db, BufferConfig{FlushInterval: 20 * time.Millisecond, FlushThreshold: 1_000})
	b.Start()
	t.Cleanup(func() { b.Close(context.Background()) })
	b.Add(&Request{ID: "one"})
	eventually(t, 10*time.Second, "the interval write", func() bool { return rowCount(t, db) == 1 })
	if s := b.Stats(); s.Stored != 1 || s.LastFlush.IsZero() || s.LastFlushError != "" {
		t.Errorf("stats %+v; want 1 stored and a successful last flush", s)
	}
}

// TestOutageWithSpillDropsNothing: the database goes away while calls keep coming at a steady
// rate, ten times what the buffer holds. The buffer spills instead of dropping, at once rather
// than after its backoff, and once the database answers the running buffer writes everything,
// in order, every record once.
func TestOutageWithSpillDropsNothing(t *testing.T) {
	viaProxy, direct, proxy := outagePostgres(t)
	dir := t.TempDir()
	b := NewBuffer(viaProxy, BufferConfig{
		MaxEntries: 100, FlushInterval: 20 * time.Millisecond, BatchSize: 50, SpillDir: dir,
		// Longer than it takes to add 100 records: without the retry a filling buffer starts
		// at once, records would be dropped.
		RetryMin: 3 * time.Second, RetryMax: 3 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	b.Start()
	proxy.down()
	const n = 1_000
	for i := range n {
		b.Add(&Request{ID: fmt.Sprintf("o-%04d", i)})
		if i%100 == 99 {
			checkAccounting(t, b.Stats())
		}
		time.Sleep(time.Millisecond) // 1 000 calls/s at most
	}
	s := b.Stats()
	checkAccounting(t, s)
	if s.Dropped != 0 || s.Spilled == 0 || s.Stored != 0 {
		t.Fatalf("stats during the outage %+v; want nothing dropped or stored, records spilled", s)
	}
	proxy.up(t)
	eventually(t, 30*time.Second, "every record stored by the running buffer", func() bool {
		s := b.Stats()
		return s.Stored == n && s.Spilled == 0 && s.Pending == 0
	})
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s = b.Stats()
	checkAccounting(t, s)
	if s.Dropped != 0 || s.Failed != 0 || s.SpillBytes != 0 {
		t.Errorf("stats after recovery %+v; want nothing dropped or failed, no spill bytes", s)
	}
	var got []string
	direct.Raw("SELECT id FROM integration_requests ORDER BY created_at, id").Scan(&got)
	if len(got) != n || got[0] != "o-0000" || got[n-1] != fmt.Sprintf("o-%04d", n-1) {
		t.Errorf("stored %d records, from %v to %v; want %d", len(got), got[:min(1, len(got))], got[max(0, len(got)-1):], n)
	}
	if files := spillFiles(t, dir); len(files) != 0 {
		t.Errorf("spill files left after recovery: %v", files)
	}
}

// TestFullBufferRetriesAtOnce: without a spill directory, a buffer that fills up during its
// backoff retries at once instead of waiting the backoff out (here 30 s).
func TestFullBufferRetriesAtOnce(t *testing.T) {
	viaProxy, direct, proxy := outagePostgres(t)
	b := NewBuffer(viaProxy, BufferConfig{
		MaxEntries: 20, FlushInterval: 20 * time.Millisecond, RetryMin: 30 * time.Second, RetryMax: 30 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	b.Start()
	t.Cleanup(func() { b.Close(context.Background()) })
	proxy.down()
	for _, id := range idRange("f", 0, 10) {
		b.Add(&Request{ID: id})
	}
	eventually(t, 10*time.Second, "a failed write", func() bool { return b.Stats().LastFlushError != "" })
	proxy.up(t)
	for _, id := range idRange("f", 10, 20) { // the twentieth fills the buffer
		b.Add(&Request{ID: id})
	}
	eventually(t, 10*time.Second, "the full buffer written before its 30 s backoff", func() bool {
		return len(tableIDs(t, direct)) == 20
	})
	checkAccounting(t, b.Stats())
}

// TestSpillBoundDrops: records that do not fit under SpillMaxBytes are dropped and counted.
func TestSpillBoundDrops(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := NewBuffer(nil, BufferConfig{SpillDir: dir, SpillMaxBytes: 4 << 10,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for i := range 20 {
		b.Add(withBody(fmt.Sprintf("r%02d", i), 500)) // about 900 bytes a line
	}
	kept, err := b.spillWaiting("test")
	if err != nil {
		t.Fatal(err)
	}
	s := b.Stats()
	checkAccounting(t, s)
	if kept == 0 || s.Spilled != int64(kept) || s.Dropped != int64(20-kept) || s.Dropped == 0 || s.SpillBytes > 4<<10 {
		t.Errorf("kept %d, stats %+v; want some spilled within 4 KiB, the rest dropped", kept, s)
	}
}

// TestBufferCloseFinishesOpenBodies: a response body nobody read or closed, under a context
// that never ends, is still recorded at shutdown, with what came through so far.
func TestBufferCloseFinishesOpenBodies(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"ok"}`))
	}))
	t.Cleanup(up.Close)
	db := dbtest.SQLite(t)
	b := NewBuffer(db, BufferConfig{})
	b.Start()
	resp, err := NewClient(b, Options{Service: "erp"}).Get(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, ok := rowsByID(t, db)[firstID(t, db)]
	if !ok || r.Service != "erp" || !strings.Contains(strOf(r.Error), "still open") {
		t.Errorf("record %+v; want the erp call, with an error saying its body was still open", r)
	}
	if s := b.Stats(); s.Stored != 1 || s.Dropped != 0 {
		t.Errorf("stats %+v; want the call stored", s)
	}
}

func firstID(t testing.TB, db *gorm.DB) string {
	ids := tableIDs(t, db)
	if len(ids) == 0 {
		t.Fatal("no record stored")
	}
	return ids[0]
}
