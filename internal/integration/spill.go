package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Spill files keep what Close could not store, so that a database outage during a shutdown does
// not lose records. They are optional: with BufferConfig.SpillDir empty, Close reports the
// records it could not store and they are gone.
//
// A spill file is named integration-requests-<UTC time>-<random>.jsonl and holds one record per
// line, as JSON. It is written under a .tmp name, synced, renamed and the directory synced, so a
// file with the final name is always complete. A .tmp file left by a crash is incomplete and is
// never replayed; it can be read by hand.
//
// JSON keeps every value exactly, with one exception: text that is not valid UTF-8 is stored
// with U+FFFD in place of the invalid bytes. Such text would be rejected by PostgreSQL anyway.
const (
	spillPrefix = "integration-requests-"
	spillExt    = ".jsonl"
)

// spillRecord is a Request as one spill line. The header columns are kept as JSON strings
// rather than embedded JSON, and the duration as text, so that invalid JSON or a NaN cannot
// make the whole file unwritable.
type spillRecord struct {
	Request
	RequestHeaders  *string `json:"request_headers"`
	ResponseHeaders *string `json:"response_headers"`
	DurationMS      *string `json:"duration_ms"`
}

func newSpillRecord(r *Request) *spillRecord {
	s := &spillRecord{Request: *r}
	s.Request.RequestHeaders, s.Request.ResponseHeaders, s.Request.DurationMS = nil, nil, nil
	if r.RequestHeaders != nil {
		s.RequestHeaders = new(string(r.RequestHeaders))
	}
	if r.ResponseHeaders != nil {
		s.ResponseHeaders = new(string(r.ResponseHeaders))
	}
	if r.DurationMS != nil {
		s.DurationMS = new(strconv.FormatFloat(*r.DurationMS, 'g', -1, 64))
	}
	return s
}

func (s *spillRecord) request() (*Request, error) {
	r := s.Request
	if s.RequestHeaders != nil {
		r.RequestHeaders = JSON(*s.RequestHeaders)
	}
	if s.ResponseHeaders != nil {
		r.ResponseHeaders = JSON(*s.ResponseHeaders)
	}
	if s.DurationMS != nil {
		f, err := strconv.ParseFloat(*s.DurationMS, 64)
		if err != nil {
			return nil, fmt.Errorf("record %s: duration_ms: %w", r.ID, err)
		}
		r.DurationMS = &f
	}
	return &r, nil
}

// spill writes every waiting record to a new spill file. While it writes, the records count as
// in flight; if the file cannot be written they go back to the buffer. It works a batch at a
// time: only the frames (to put back) stay in memory, not the records built from them.
func (b *Buffer) spill() (n int, path string, err error) {
	b.flushMu.Lock() // no flush may take records while they are being spilled
	defer b.flushMu.Unlock()
	b.mu.Lock()
	waiting := b.queue.len()
	b.mu.Unlock()

	var batches []*taken
	path, err = writeSpillFile(b.cfg.SpillDir, func(enc *json.Encoder) error {
		for left := waiting; left > 0; {
			t := b.take(min(left, b.cfg.BatchSize))
			if len(t.frames) == 0 {
				return nil // drops took what was waiting
			}
			left -= len(t.frames)
			batches = append(batches, t)
			materialize(t.rows) // redacted before anything reaches the disk
			for _, r := range t.rows {
				if err := enc.Encode(newSpillRecord(r)); err != nil {
					return err
				}
			}
			t.rows = nil // written: only the frames are kept, in case the file fails
		}
		return nil
	})

	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range batches {
		n += len(t.frames)
		b.inFlight -= int64(len(t.frames))
		b.inFlightBytes -= t.bytes
	}
	if err != nil {
		var frames [][]byte
		for _, t := range batches {
			frames = append(frames, t.frames...)
		}
		b.pushFrontLocked(frames)
		return 0, "", err
	}
	b.stats.Spilled += int64(n)
	return n, path, nil
}

// writeSpillFile writes what write encodes to a new file in dir, durably, under a name
// Replay finds. A file that fails is removed.
func writeSpillFile(dir string, write func(*json.Encoder) error) (path string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("spill: %w", err)
	}
	name := fmt.Sprintf("%s%s-%08x%s", spillPrefix, time.Now().UTC().Format("20060102T150405.000000000Z"),
		rand.Uint32(), spillExt)
	path = filepath.Join(dir, name)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // bodies may hold personal data
	if err != nil {
		return "", fmt.Errorf("spill: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("spill to %s: %w", tmp, err)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := write(enc); err != nil {
		return "", err
	}
	if err := w.Flush(); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", err
	}
	return path, syncDir(dir)
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// replayError is a spill file that cannot be read: retrying will not help.
type replayError struct {
	path string
	err  error
}

func (e *replayError) Error() string { return fmt.Sprintf("replay %s: %v", e.path, e.err) }
func (e *replayError) Unwrap() error { return e.err }

// Replay stores the records of spill files in SpillDir, oldest file first, and returns how many
// it stored. Start calls it in the background (retrying while the database is unavailable); call
// it directly to replay at a moment of your choosing.
//
// The order is what makes it safe: a file is removed only after every record in it is stored
// (or rejected by the database, and logged). Records go straight to the database in batches,
// not through the buffer, where a full buffer could drop them after their file was gone. A
// crash between storing and removing replays the file again, and WriteBatch counts rows it
// finds already stored as stored, so every row ends up in the table exactly once.
//
// Replayed records count as produced, and as stored or failed. A file that cannot be parsed is
// left in place and reported.
func (b *Buffer) Replay(ctx context.Context) (int, error) {
	if b.cfg.SpillDir == "" {
		return 0, nil
	}
	b.replayMu.Lock()
	defer b.replayMu.Unlock()
	paths, err := filepath.Glob(filepath.Join(b.cfg.SpillDir, spillPrefix+"*"+spillExt))
	if err != nil {
		return 0, &replayError{b.cfg.SpillDir, err}
	}
	slices.Sort(paths) // names start with the time of the spill
	stored := 0
	for _, p := range paths {
		n, err := b.replayFile(ctx, p)
		stored += n
		if err != nil {
			return stored, err
		}
	}
	return stored, nil
}

func (b *Buffer) replayFile(ctx context.Context, path string) (int, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil // replayed meanwhile by another replica sharing the directory
	}
	if err != nil {
		return 0, &replayError{path, err}
	}
	defer f.Close()

	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	stored := 0
	batch := make([]*Request, 0, b.cfg.BatchSize)
	write := func() error {
		wctx, cancel := context.WithTimeout(ctx, b.cfg.WriteTimeout)
		res := writeRows(wctx, b.db, batch)
		cancel()
		for _, e := range res.rejected {
			b.log.Warn("integration request rejected by the database", "id", e.ID, "error", e.Err)
		}
		b.mu.Lock()
		settled := int64(res.stored + len(res.rejected))
		b.stats.Produced += settled
		b.stats.Stored += int64(res.stored)
		b.stats.Failed += int64(len(res.rejected))
		b.mu.Unlock()
		stored += res.stored
		batch = batch[:0]
		if res.cause != nil {
			return fmt.Errorf("replay %s: %w", path, res.cause)
		}
		return nil
	}
	for line := 1; ; line++ {
		var rec spillRecord
		err := dec.Decode(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			return stored, &replayError{path, fmt.Errorf("record %d: %w", line, err)}
		}
		r, err := rec.request()
		if err != nil {
			return stored, &replayError{path, fmt.Errorf("record %d: %w", line, err)}
		}
		if batch = append(batch, r); len(batch) == b.cfg.BatchSize {
			if err := write(); err != nil {
				return stored, err
			}
		}
	}
	if len(batch) > 0 {
		if err := write(); err != nil {
			return stored, err
		}
	}
	if err := os.Remove(path); err != nil {
		return stored, &replayError{path, err}
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return stored, &replayError{path, err}
	}
	b.log.Info("integration buffer: spill file replayed", "path", path, "stored", stored)
	return stored, nil
}
