package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database/dbtest"
)

func spillFiles(t testing.TB, dir string) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// TestSpillLineRoundTrip: a sanitized record survives its spill line exactly, so a replayed
// row is the row the database would have stored.
func TestSpillLineRoundTrip(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(-1)
	tests := []struct {
		name string
		r    *Request
		want func(*Request) // what sanitize changes, if anything
	}{
		{"every column", fullRequest("full"), nil},
		{"nil pointers and headers", &Request{ID: "nils", CreatedAt: time.Now().UTC()}, nil},
		{"empty strings are not NULL", &Request{ID: "empty", Data: new(""), Output: new(""), Error: new("")}, nil},
		{"newlines", &Request{ID: "nl", Data: new("a\nb\r\n")}, nil},
		{"invalid JSON headers become a JSON string", &Request{ID: "badjson", RequestHeaders: JSON(`{"a":`)},
			func(r *Request) { r.RequestHeaders = JSON(`"{\"a\":"`) }},
		{"NUL becomes U+FFFD", &Request{ID: "nul", Data: new("a\x00b")}, func(r *Request) { r.Data = new("a\uFFFDb") }},
		{"an infinite duration is NULL", &Request{ID: "inf", DurationMS: &inf}, func(r *Request) { r.DurationMS = nil }},
		{"a NaN duration is NULL", &Request{ID: "nan", DurationMS: &nan}, func(r *Request) { r.DurationMS = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := *tt.r
			if tt.want != nil {
				tt.want(&want)
			}
			sanitize(tt.r)
			line, err := json.Marshal(tt.r)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if bytes.ContainsAny(line, "\n\r") {
				t.Errorf("encoded record spans lines: %s", line)
			}
			var got Request
			if err := json.Unmarshal(line, &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			for _, r := range []*Request{&got, &want} { // compare instants: JSON keeps offsets, not zone names
				r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip of %s:\n got %+v\nwant %+v", line, got, want)
			}
		})
	}
}

// TestSpillAndReplay: a shutdown during an outage spills what it could not store; the next
// process replays it into the database, every row once, and removes the file.
func TestSpillAndReplay(t *testing.T) {
	viaProxy, direct, proxy := outagePostgres(t)
	dir := filepath.Join(t.TempDir(), "spill")
	a := NewBuffer(viaProxy, BufferConfig{SpillDir: dir, RetryMin: 10 * time.Millisecond})
	a.Start()
	proxy.down()

	var want []Request
	add := func(r *Request) {
		a.Add(r)
		want = append(want, *r) // Add has filled the defaults
	}
	add(fullRequest("s-full"))
	for i := range 24 {
		add(&Request{ID: fmt.Sprintf("s-%02d", i), Data: new("x")})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := a.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), "25 records not stored, spilled to") {
		t.Fatalf("Close = %v; want an error saying 25 records were spilled", err)
	}
	s := a.Stats()
	checkAccounting(t, s)
	if s.Spilled != 25 || s.Pending != 0 || s.Stored != 0 {
		t.Errorf("stats %+v; want 25 spilled, nothing pending or stored", s)
	}
	files := spillFiles(t, dir)
	if len(files) != 1 || !strings.HasSuffix(files[0], spillExt) {
		t.Fatalf("spill directory holds %v; want one %s file", files, spillExt)
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("spill file mode = %v, %v; want -rw-------", fi.Mode(), err)
	}

	// Still down: the file stays.
	b := NewBuffer(viaProxy, BufferConfig{SpillDir: dir})
	if err := b.spill.scan(); err != nil {
		t.Fatal(err)
	}
	if err := b.replay(context.Background()); err == nil {
		t.Error("replay with the database down = nil error")
	}
	if got := spillFiles(t, dir); len(got) != 1 {
		t.Errorf("after a failed replay the directory holds %v; want the file kept", got)
	}

	proxy.up(t)
	if err := b.replay(context.Background()); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if got := spillFiles(t, dir); len(got) != 0 {
		t.Errorf("after replay the directory holds %v; want nothing", got)
	}
	stored := rowsByID(t, direct)
	if len(stored) != len(want) {
		t.Errorf("stored %d rows; want %d", len(stored), len(want))
	}
	for _, w := range want {
		sameRequest(t, stored[w.ID], w)
	}
	s = b.Stats()
	checkAccounting(t, s)
	if s.Produced != 25 || s.Stored != 25 {
		t.Errorf("replaying buffer stats %+v; want 25 produced and stored", s)
	}
	if err := b.replay(context.Background()); err != nil || b.Stats().Stored != 25 {
		t.Errorf("second replay: %v, %+v; want nothing more", err, b.Stats())
	}
}

// TestReplayAfterCrash: a process that stored a file's records but crashed before removing the
// file replays it again; the rows are found already stored, not written twice nor failed.
func TestReplayAfterCrash(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		dir := t.TempDir()
		a := NewBuffer(db, BufferConfig{SpillDir: dir})
		for i := range 10 {
			a.Add(&Request{ID: fmt.Sprint(i)})
		}
		if n, err := a.spillWaiting("test"); err != nil || n != 10 {
			t.Fatalf("spillWaiting = %d, %v; want 10, nil", n, err)
		}
		path := spillFiles(t, dir)[0]
		saved, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b := NewBuffer(db, BufferConfig{SpillDir: dir})
		b.spill.scan()
		if err := b.replay(context.Background()); err != nil || b.Stats().Stored != 10 {
			t.Fatalf("replay: %v, %+v; want 10 stored", err, b.Stats())
		}
		os.WriteFile(path, saved, 0o600) // as if the removal had not happened
		b.spill.scan()
		if err := b.replay(context.Background()); err != nil || b.Stats().Stored != 20 {
			t.Errorf("replay again: %v, %+v; want 10 more found stored", err, b.Stats())
		}
		if got := rowCount(t, db); got != 10 {
			t.Errorf("rows = %d; want 10", got)
		}
		if s := b.Stats(); s.Failed != 0 {
			t.Errorf("Failed = %d; want 0", s.Failed)
		}
	})
}

// TestCloseExpiredContextSpills: with no time left Close does not touch the database; it
// spills, and a new buffer's background goroutine replays the file on Start.
func TestCloseExpiredContextSpills(t *testing.T) {
	db := dbtest.SQLite(t)
	dir := t.TempDir()
	a := NewBuffer(db, BufferConfig{SpillDir: dir})
	for i := range 5 {
		a.Add(&Request{ID: fmt.Sprint(i)})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Close(ctx); err == nil || !strings.Contains(err.Error(), "5 records not stored, spilled") {
		t.Fatalf("Close = %v; want an error saying 5 records were spilled", err)
	}
	if got := rowCount(t, db); got != 0 {
		t.Errorf("rows after Close = %d; want 0", got)
	}

	b := NewBuffer(db, BufferConfig{SpillDir: dir})
	b.Start()
	t.Cleanup(func() { b.Close(context.Background()) })
	eventually(t, 10*time.Second, "Start to replay the spill file", func() bool {
		return b.Stats().Stored == 5 && len(spillFiles(t, dir)) == 0
	})
	if got := rowCount(t, db); got != 5 {
		t.Errorf("rows after replay = %d; want 5", got)
	}
}

// A spill file that cannot be parsed is kept for an operator, under a name that is never read
// again, and does not stop the files after it.
func TestReplayCorruptFileIsKept(t *testing.T) {
	db := dbtest.SQLite(t)
	dir := t.TempDir()
	path := filepath.Join(dir, spillPrefix+"20240101T000000.000000000Z-00000000"+spillExt)
	os.WriteFile(path, []byte(`{"id":"ok-1"}`+"\n"+`{"id":`), 0o600)
	next := filepath.Join(dir, spillPrefix+"20240101T000001.000000000Z-00000000"+spillExt)
	os.WriteFile(next, []byte(`{"id":"ok-2"}`+"\n"), 0o600)
	b := NewBuffer(db, BufferConfig{SpillDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	b.spill.scan()
	if err := b.replay(context.Background()); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if _, err := os.Stat(path + ".corrupt"); err != nil {
		t.Errorf("corrupt spill file not kept as .corrupt: %v", err)
	}
	if got := tableIDs(t, db); !slices.Equal(got, []string{"ok-1", "ok-2"}) {
		t.Errorf("stored %v; want the readable records of both files", got)
	}
	checkAccounting(t, b.Stats())
}

// A long outage spills pending records to disk instead of dropping them once the buffer is
// full; when the database answers again the file is replayed and every record is stored once.
func TestOutageSpillsInsteadOfDropping(t *testing.T) {
	viaProxy, direct, proxy := outagePostgres(t)
	dir := t.TempDir()
	b := NewBuffer(viaProxy, BufferConfig{
		MaxEntries: 20, BatchSize: 5, FlushThreshold: 1, SpillDir: dir,
		RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
	})
	proxy.down()
	b.Start()
	for _, id := range idRange("s", 0, 60) {
		b.Add(&Request{ID: id})
		if id == "s19" || id == "s39" { // full: wait for the background goroutine to spill
			eventually(t, 20*time.Second, "a spill", func() bool { return b.Stats().Pending < 18 })
		}
	}
	if s := b.Stats(); s.Dropped != 0 || s.Spilled < 36 {
		t.Fatalf("stats during the outage %+v; want nothing dropped, at least 36 spilled", s)
	}
	proxy.up(t)
	eventually(t, 30*time.Second, "all 60 records stored", func() bool { return len(tableIDs(t, direct)) == 60 })
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := tableIDs(t, direct), idRange("s", 0, 60); !slices.Equal(got, want) {
		t.Errorf("stored %v; want %v", got, want)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
		t.Errorf("spill files left after replay: %v", files)
	}
	checkAccounting(t, b.Stats())
}

// A spill file that fails halfway (here the disk refuses to grow the file past 256 KiB, as a
// full disk would) puts back every record it had taken, in their order, and leaves no file;
// once the disk takes it, the same records spill whole.
func TestSpillFailingHalfwayPutsEverythingBack(t *testing.T) {
	dir := t.TempDir()
	buf := NewBuffer(nil, BufferConfig{SpillDir: dir, BatchSize: 50, MaxBytes: 64 << 20,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	const n = 1_000 // ~2.5 MiB of JSON: the spill fails on the first 1 MiB it writes
	for i := range n {
		buf.Add(&Request{ID: fmt.Sprintf("r-%04d", i), Data: new(strings.Repeat("d", 2000))})
	}

	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	// The limit is the process's: no other test runs meanwhile (none is parallel), and Go
	// ignores SIGXFSZ, so the write fails with EFBIG instead.
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 256 << 10, Max: old.Max}); err != nil {
		t.Fatal(err)
	}
	_, err := buf.spillWaiting("test")
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); rerr != nil {
		t.Fatal(rerr)
	}
	if err == nil {
		t.Fatal("spill with the file size capped at 256 KiB succeeded")
	}
	if s := buf.Stats(); s.Pending != n || s.Spilled != 0 || s.Dropped != 0 {
		t.Fatalf("after the failed spill: %+v; want all %d pending, none spilled or dropped", s, n)
	}
	if files := spillFiles(t, dir); len(files) != 0 {
		t.Errorf("the failed spill left %v", files)
	}

	count, err := buf.spillWaiting("test")
	if err != nil || count != n {
		t.Fatalf("spillWaiting = %d, %v; want %d, nil", count, err, n)
	}
	data, err := os.ReadFile(spillFiles(t, dir)[0])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != n {
		t.Fatalf("spill file holds %d lines; want %d", len(lines), n)
	}
	for i, line := range lines {
		var rec Request
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("r-%04d", i); rec.ID != want {
			t.Fatalf("line %d holds %s; want %s: the put-back changed the order", i, rec.ID, want)
		}
	}
	checkAccounting(t, buf.Stats())
}
