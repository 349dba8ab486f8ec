package integration

import (
	"bufio"
	"bytes"
	"cmp"
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
	"time"
)

// Spill files keep records the database could not take, so that an outage, or one at
// shutdown, loses nothing. A spill file is named integration-requests-<UTC time>-<random>.jsonl
// and holds one Request per line as JSON, already redacted. It is written under a .tmp name,
// synced, renamed and the directory synced, so a file with the final name is complete; a .tmp
// file left by a crash is never read back.
const (
	spillPrefix = "integration-requests-"
	spillExt    = ".jsonl"
)

// spillDir is the Buffer's view of its spill directory. The Buffer's writeMu guards it.
type spillDir struct {
	dir   string
	max   int64 // bound on bytes
	files []spillFile
	bytes int64
}

type spillFile struct {
	path    string
	records int64 // -1 for a file an earlier process wrote
	bytes   int64
}

// scan finds the files an earlier process left, oldest first (names start with the time).
func (d *spillDir) scan() error {
	paths, err := filepath.Glob(filepath.Join(d.dir, spillPrefix+"*"+spillExt))
	if err != nil {
		return err
	}
	slices.Sort(paths)
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			continue
		}
		d.files = append(d.files, spillFile{path: p, records: -1, bytes: info.Size()})
		d.bytes += info.Size()
	}
	return nil
}

// write stores rows in a new file, as many as fit in the directory's bound, and returns how
// many it kept (the first ones) and the file's path.
func (d *spillDir) write(rows []*Request) (kept int, path string, err error) {
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return 0, "", err
	}
	name := fmt.Sprintf("%s%s-%08x%s", spillPrefix, time.Now().UTC().Format("20060102T150405.000000000Z"), rand.Uint32(), spillExt)
	path = filepath.Join(d.dir, name)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // bodies may hold personal data
	if err != nil {
		return 0, "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("spill to %s: %w", tmp, err)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	var size int64
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		sanitize(r) // what the database would refuse, a JSON line cannot hold either
		line.Reset()
		if err := enc.Encode(r); err != nil {
			return 0, "", err
		}
		if d.bytes+size+int64(line.Len()) > d.max {
			break
		}
		w.Write(line.Bytes())
		size += int64(line.Len())
		kept++
	}
	if kept == 0 {
		f.Close()
		os.Remove(tmp)
		return 0, "", nil
	}
	if err := errors.Join(w.Flush(), f.Sync(), f.Close()); err != nil {
		return 0, "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, "", err
	}
	if err := syncDir(d.dir); err != nil {
		return 0, "", err
	}
	d.files = append(d.files, spillFile{path: path, records: int64(kept), bytes: size})
	d.bytes += size
	return kept, path, nil
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

// spillWaiting moves every waiting record to a new spill file, redacted first. Records that
// do not fit under SpillMaxBytes are dropped; if the file cannot be written, they all go
// back to the buffer.
func (b *Buffer) spillWaiting(reason string) (int, error) {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.Lock()
	n := len(b.waiting)
	b.mu.Unlock()
	if n == 0 {
		return 0, nil
	}
	batch := b.take(n)
	kept, path, err := b.spill.write(requests(batch))

	b.mu.Lock()
	defer b.mu.Unlock()
	b.release(batch)
	if err != nil {
		b.putBackLocked(batch)
		b.log.Error("integration buffer: cannot spill records", "reason", reason, "error", err)
		return 0, err
	}
	b.stats.Spilled += int64(kept)
	b.stats.SpillBytes = b.spill.bytes
	b.dropLocked(int64(len(batch) - kept))
	b.log.Warn("integration buffer: records spilled to disk", "reason", reason, "records", kept,
		"dropped", len(batch)-kept, "file", path, "spill_bytes", b.spill.bytes)
	return kept, nil
}

// replay writes the spill files to the database, oldest first, and removes each once all its
// records are stored (or rejected for their content). It stops at the first sign that the
// database is unavailable. A file written again after a crash or an outage mid-file is
// harmless: WriteBatch counts rows it finds already stored as stored.
func (b *Buffer) replay(ctx context.Context) error {
	if b.spill == nil {
		return nil
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	for len(b.spill.files) > 0 {
		f := b.spill.files[0]
		stored, rejected, err := b.replayFile(ctx, f.path)
		var bad *corruptSpillError
		switch {
		case errors.As(err, &bad):
			// Retrying cannot help: keep the file for an operator, under a name never read again.
			b.log.Error("integration buffer: spill file unreadable; renamed for an operator", "error", err)
			os.Rename(f.path, f.path+".corrupt")
			rejected = max(f.records-stored, 0)
		case err != nil:
			return err
		default:
			if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			syncDir(b.spill.dir)
		}
		b.spill.files = b.spill.files[1:]
		b.spill.bytes -= f.bytes
		b.mu.Lock()
		if f.records < 0 { // an earlier process's records enter the accounts now
			b.stats.Produced += stored + rejected
		} else {
			b.stats.Spilled -= f.records
		}
		b.stats.Stored += stored
		b.stats.Failed += rejected
		b.stats.SpillBytes = b.spill.bytes
		b.mu.Unlock()
		b.log.Info("integration buffer: spill file written to the database", "path", f.path, "stored", stored, "rejected", rejected)
	}
	return nil
}

// corruptSpillError is a spill file that cannot be parsed.
type corruptSpillError struct {
	path string
	err  error
}

func (e *corruptSpillError) Error() string { return fmt.Sprintf("spill file %s: %v", e.path, e.err) }

// replayFile writes one spill file in batches.
func (b *Buffer) replayFile(ctx context.Context, path string) (stored, rejected int64, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil // written meanwhile by another replica sharing the directory
	}
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	batch := make([]*Request, 0, b.cfg.BatchSize)
	write := func() error {
		wctx, cancel := context.WithTimeout(ctx, b.cfg.WriteTimeout)
		res := writeRows(wctx, b.db, batch)
		cancel()
		for _, e := range res.rejected {
			b.log.Warn("integration request rejected by the database", "id", e.ID, "error", e.Err)
		}
		stored += int64(res.stored)
		rejected += int64(len(res.rejected))
		batch = batch[:0]
		return res.cause
	}
	for line := 1; ; line++ {
		r := new(Request)
		err := dec.Decode(r)
		if err == io.EOF {
			break
		}
		if err != nil {
			bad := &corruptSpillError{path, fmt.Errorf("record %d: %w", line, err)}
			if len(batch) > 0 { // the records before the damage are good
				return stored, rejected, cmp.Or(write(), error(bad))
			}
			return stored, rejected, bad
		}
		if batch = append(batch, r); len(batch) == b.cfg.BatchSize {
			if err := write(); err != nil {
				return stored, rejected, err
			}
		}
	}
	if len(batch) > 0 {
		if err := write(); err != nil {
			return stored, rejected, err
		}
	}
	return stored, rejected, nil
}
