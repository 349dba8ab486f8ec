package integration

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/apitemplate/server/internal/database/dbtest"
)

func okServer(t *testing.T) *httptest.Server {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(up.Close)
	return up
}

// The watcher runs only while a body is open: once every body is finished it exits, so a
// process that has stopped making calls keeps no goroutine of ours.
func TestWatcherStopsWhenNoBodyIsOpen(t *testing.T) {
	up := okServer(t)
	sink := make(chanSink, 2)
	client := &http.Client{Transport: NewTransport(nil, sink, Options{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, up.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if !watched.running.Load() || !watched.anyOpen() {
		t.Fatal("an open body is not watched")
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	<-sink
	eventually(t, 5*time.Second, "the watcher exits", func() bool { return !watched.running.Load() })

	// A body whose context can never end is not watched: nothing would ever sweep it, and the
	// watcher would hold it (and its captures) forever.
	req, _ = http.NewRequestWithContext(context.Background(), http.MethodGet, up.URL, nil)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if watched.anyOpen() || watched.running.Load() {
		t.Error("a body under context.Background is watched")
	}
	resp.Body.Close()
	<-sink

	// And it starts again for the next open body, which it ends when its context ends.
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, up.URL, nil)
	if _, err := client.Do(req); err != nil { // body left unread
		t.Fatal(err)
	}
	cancel()
	select {
	case r := <-sink:
		if r.Status != StatusFailed || strOf(r.Error) != context.Canceled.Error() {
			t.Errorf("record %s, error %q; want Failed with %q", r.Status, strOf(r.Error), context.Canceled)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the unread body was not recorded after its context ended")
	}
	eventually(t, 5*time.Second, "the watcher exits (a body another test left open would keep it running)", func() bool { return !watched.running.Load() })
}

// abandonCall makes a call recorded to buf, leaves its body unread and ends its context, as
// a handler that returned early does: only the watcher's tick or a sweep can record it.
func abandonCall(t *testing.T, buf *Buffer) {
	t.Helper()
	up := okServer(t)
	client := &http.Client{Transport: NewTransport(nil, buf, Options{Service: "erp"})}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, up.URL, nil)
	if _, err := client.Do(req); err != nil { // body left unread
		t.Fatal(err)
	}
	cancel()
}

// Close records an unread body whose request has ended without waiting for the watcher's
// tick: a shutdown right after the handler returned still stores the call.
func TestBufferCloseSweepsEndedCalls(t *testing.T) {
	buf := NewBuffer(dbtest.SQLite(t), BufferConfig{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	abandonCall(t, buf)
	if err := buf.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := buf.Stats(); s.Stored != 1 || s.Dropped != 0 {
		t.Errorf("stats %+v; want the call stored", s)
	}
}

// Many callers at once, reading, closing early or abandoning bodies whose contexts then end:
// every call is recorded once, and the watcher's lists (run under -race) stay consistent.
func TestWatcherUnderConcurrentCallers(t *testing.T) {
	up := okServer(t)
	const callers, calls = 8, 50
	sink := make(chanSink, callers*calls)
	client := &http.Client{Transport: NewTransport(nil, sink, Options{})}
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			for i := range calls {
				ctx, cancel := context.WithCancel(context.Background())
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, up.URL, nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					cancel()
					return
				}
				switch (g + i) % 3 {
				case 0:
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				case 1:
					resp.Body.Close()
				case 2: // abandoned: recorded when the context ends
				}
				cancel()
			}
		})
	}
	wg.Wait()
	for n := 0; n < callers*calls; n++ {
		select {
		case <-sink:
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d calls recorded", n, callers*calls)
		}
	}
	select {
	case r := <-sink:
		t.Fatalf("a call was recorded twice (extra record %s)", r.ID)
	case <-time.After(2 * watchEvery):
	}
	eventually(t, 5*time.Second, "the watcher exits", func() bool { return !watched.running.Load() && !watched.anyOpen() })
}

// Flush records the Buffer's unread bodies whose request has ended, as Close does, without
// waiting for the watcher's tick.
func TestBufferFlushSweepsEndedCalls(t *testing.T) {
	buf := NewBuffer(dbtest.SQLite(t), BufferConfig{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer buf.Close(context.Background())
	abandonCall(t, buf)
	if n, err := buf.Flush(context.Background()); n != 1 || err != nil {
		t.Errorf("Flush = %d, %v; want the call stored", n, err)
	}
}

// A record the watcher is finishing while Close sweeps is stored, not dropped as added after
// Close: Close's sweep finds the body still watched and waits for its finish.
func TestCloseWaitsForARecordTheWatcherIsFinishing(t *testing.T) {
	up := okServer(t)
	buf := NewBuffer(dbtest.SQLite(t), BufferConfig{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	client := &http.Client{Transport: NewTransport(nil, buf, Options{Service: "erp"})}
	inEnd := make(chan struct{})
	var once sync.Once
	testHookEnd = func() { // holds the first end (the watcher's) between its two steps
		once.Do(func() { close(inEnd); time.Sleep(200 * time.Millisecond) })
	}
	defer func() { testHookEnd = nil }()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, up.URL, nil)
	if _, err := client.Do(req); err != nil { // body left unread
		t.Fatal(err)
	}
	cancel()
	<-inEnd // the watcher's tick is ending the body
	if err := buf.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := buf.Stats(); s.Stored != 1 || s.Dropped != 0 {
		t.Errorf("stats %+v; want the call stored", s)
	}
}

// blockingSink holds every Add until released.
type blockingSink struct{ release chan struct{} }

func (s blockingSink) Add(*Request) { <-s.release }

// A Buffer's Flush and Close end only their own calls: another sink's slow Add runs on the
// watcher's goroutine, never inside a Buffer's Close.
func TestBufferSweepsOnlyItsOwnCalls(t *testing.T) {
	up := okServer(t)
	other := blockingSink{release: make(chan struct{})}
	defer close(other.release)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, up.URL, nil)
	otherClient := &http.Client{Transport: NewTransport(nil, other, Options{})}
	if _, err := otherClient.Do(req); err != nil { // body left unread
		t.Fatal(err)
	}
	cancel()

	buf := NewBuffer(dbtest.SQLite(t), BufferConfig{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	done := make(chan error, 1)
	go func() { done <- buf.Close(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close is stuck in another sink's Add")
	}
}
