package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mccutchen/go-httpbin/v2/httpbin"
	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database/dbtest"
)

// benchCallBody is the JSON a call posts: about 500 bytes, with a "password" field that the
// recorder must redact, in the request and in go-httpbin's echo of it.
var benchCallBody = func() []byte {
	var b strings.Builder
	b.WriteString(`{"order_id":"SO-10042","customer":{"email":"jane.doe@example.com","name":"Jane Doe"},`)
	b.WriteString(`"password":"hunter2-correct-horse-battery","currency":"EUR","lines":[`)
	for j := 0; b.Len() < 470; j++ {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%05d","qty":%d,"price":"%d.%02d"}`, j*7919%99991, j+1, 10+j*7, j)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}()

// flushThreshold is the server's default (config: INTEGRATION_FLUSH_THRESHOLD).
const flushThreshold = 1_000

const benchCallToken = "Bearer sk_live_4f9a1c2e8b7d6a5f4e3d2c1b"

// buildSink drops the records it gets. Not being a Buffer, it gets them built: the
// recording-build variant measures recording without the Buffer's deferral.
type buildSink struct{}

func (buildSink) Add(*Request) {}

// callBench is what BenchmarkCall's variants share: one go-httpbin upstream, one database,
// and one http.Transport, which each variant's client uses or wraps.
type callBench struct {
	ctx   context.Context
	url   string
	db    *gorm.DB
	buf   *Buffer
	red   *Redactor
	bare  *http.Client // also the client of sync-insert-postgres
	rec   *http.Client // recording to buf
	build *http.Client // recording to buildSink: each record built at once
}

func newCallBench(b *testing.B) *callBench {
	db := dbtest.Postgres(b)
	up := httptest.NewServer(httpbin.New().Handler())
	b.Cleanup(up.Close)
	ctx, cancel := context.WithCancel(context.Background()) // cancelable, as a server request's
	b.Cleanup(cancel)

	// The server's Buffer: background flushes at FlushThreshold, bounds far above what the
	// benchmark produces, so nothing is dropped.
	buf := NewBuffer(db, BufferConfig{
		MaxEntries: 1_000_000, MaxBytes: 1 << 30, FlushThreshold: flushThreshold,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	buf.Start()
	b.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
		defer ccancel()
		if err := buf.Close(cctx); err != nil {
			b.Errorf("close buffer: %v", err)
		}
		if s := buf.Stats(); s.Dropped != 0 || s.Failed != 0 || s.Stored != s.Produced {
			b.Errorf("buffer stats %+v; want every record stored", s)
		}
	})

	// One connection pool for every variant: the recording Transport wraps the bare one, so
	// the two differ by the wrapper only, not by which connection (and buffers) they use.
	base := http.DefaultTransport.(*http.Transport).Clone()
	opts := Options{Service: "httpbin", Description: "echo order"}
	return &callBench{
		ctx:   ctx,
		url:   up.URL + "/anything",
		db:    db,
		buf:   buf,
		red:   NewRedactor(DefaultRedactConfig()),
		bare:  &http.Client{Transport: base},
		rec:   &http.Client{Transport: NewTransport(base, buf, opts)},
		build: &http.Client{Transport: NewTransport(base, buildSink{}, opts)},
	}
}

// call makes one call as an application would: a JSON POST with a bearer token, the whole
// response read, the body closed.
func (e *callBench) call(tb testing.TB, c *http.Client) *http.Request {
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, e.url, bytes.NewReader(benchCallBody))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", benchCallToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(out) == 0 {
		tb.Fatalf("POST /anything = %d, %d bytes, %v", resp.StatusCode, len(out), err)
	}
	return req
}

// syncInsert is the seed's way, Frappe's create_request_log: a bare call, then one INSERT
// (committed) of the same request data, redacted the same way, before the caller goes on.
func (e *callBench) syncInsert(tb testing.TB) {
	req := e.call(tb, e.bare)
	var s Secrets
	headers, err := json.Marshal(e.red.Header(req.Header, &s))
	if err != nil {
		tb.Fatal(err)
	}
	data := e.red.Body(benchCallBody, req.Header.Get("Content-Type"), &s)
	_, err = CreateRequestLog(e.ctx, e.db, data, LogOptions{
		Service: "httpbin", Description: "echo order", Method: req.Method,
		URL: e.red.URL(req.URL.String(), &s), RequestHeaders: json.RawMessage(headers),
		Status: StatusCompleted,
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// drain waits until the Buffer has written everything added so far (joining a background
// flush in progress), then collects the garbage the flush made, so that neither its database
// work nor its garbage runs into the timing of the calls that follow.
func (e *callBench) drain(tb testing.TB) {
	if _, err := e.buf.Flush(e.ctx); err != nil {
		tb.Fatal(err)
	}
	runtime.GC()
}

// settle makes a few bare calls, untimed, after a drain. The flush leaves cold caches (and
// the database's own after-work) to whichever block follows, and with two variants in a
// random order that is the bare block three times in four: the aftermath would count
// against bare calls, in recording's favour. It is the flusher's, like the drain.
func (e *callBench) settle(tb testing.TB) {
	for range 25 {
		e.call(tb, e.bare)
	}
}

// BenchmarkCall measures what recording costs a caller, per call, against a loopback
// go-httpbin (POST /anything, which echoes the request: about 500 bytes up, 2 KiB down, the
// token and the password in the echo). The upstream runs in this process, so its CPU and
// allocations are in every variant. Each call: a JSON POST with a bearer token, the whole
// response read, the body closed.
//
//   - bare: http.Client over a cloned http.DefaultTransport.
//   - recording: the server's path, NewTransport recording into a started Buffer on PostgreSQL
//     that flushes in the background every FlushThreshold (1 000) records.
//   - recording-build: NewTransport into a sink that drops records, so the Transport builds
//     each record (redaction, header JSON) on the caller's goroutine: recording without the
//     Buffer's deferral.
//   - sync-insert-postgres: bare call, then CreateRequestLog (one committed INSERT), the seed's.
//   - interleaved: the ratios. Sub-benchmarks run one after another drift apart on a shared
//     machine, so this one times the variants itself, in short blocks of calls, rotating
//     which goes first, and reports medians of per-round figures (see interleave).
//
// Run it as
//
//	go test -run '^$' -bench BenchmarkCall ./internal/integration/
//	go test -run '^$' -bench BenchmarkCall/interleaved ./internal/integration/  # ratios only
func BenchmarkCall(b *testing.B) {
	e := newCallBench(b)
	for range 200 { // connections, pools and the upstream warm
		e.call(b, e.bare)
		e.call(b, e.rec)
		e.call(b, e.build)
		e.syncInsert(b)
	}
	e.drain(b)

	run := func(name string, fn func(testing.TB), after func(testing.TB)) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fn(b)
			}
			if after != nil { // untimed: b.Loop stopped the timer
				after(b)
			}
		})
	}
	run("bare", func(tb testing.TB) { e.call(tb, e.bare) }, nil)
	run("recording", func(tb testing.TB) { e.call(tb, e.rec) }, e.drain)
	run("recording-build", func(tb testing.TB) { e.call(tb, e.build) }, nil)
	run("sync-insert-postgres", e.syncInsert, nil)

	b.Run("interleaved", func(b *testing.B) {
		const block = 250    // calls per variant per round, about 30 ms
		const syncBlock = 50 // sync inserts are several times slower: fewer, for similar wall time
		// Two sets, each interleaved with its own bare variant: recording against bare alone,
		// then the variants that make a lot of garbage (recording-build) or wait on the
		// database (sync) against another bare. In one rotation the collector's work for one
		// variant's garbage lands on whichever block follows it.
		bareA := &variant{name: "bare", calls: block, fn: func() { e.call(b, e.bare) }}
		rec := &variant{name: "recording", calls: block, fn: func() { e.call(b, e.rec) }}
		bareB := &variant{name: "bare", calls: block, fn: func() { e.call(b, e.bare) }}
		build := &variant{name: "recording-build", calls: block, fn: func() { e.call(b, e.build) }}
		sync := &variant{name: "sync", calls: syncBlock, fn: func() { e.syncInsert(b) }}

		// The Buffer's writes are timed apart: once FlushThreshold records wait (so in batches
		// of the server's size), right after the recording block that filled them, the
		// benchmark waits for them to be stored (joining the background flush they started)
		// and collected. That keeps them out of the other blocks, and their cost per record is
		// added to recording's as recording+drain: an upper bound, since in the server the
		// caller does not wait for them.
		var drainTime time.Duration
		var recorded int
		for range b.N {
			interleave(160, []*variant{bareA, rec}, func(v *variant) {
				if v != rec {
					return
				}
				recorded += v.calls
				if e.buf.Stats().Pending >= flushThreshold {
					start := time.Now()
					e.drain(b)
					drainTime += time.Since(start)
					e.settle(b)
				}
			})
			e.drain(b) // the last partial batch, untimed: it is not a server-sized batch
			interleave(60, []*variant{bareB, build, sync}, nil)
		}
		drainPerCall := float64(drainTime.Nanoseconds()) / float64(recorded)
		drained := make([]float64, len(rec.wall))
		for i, w := range rec.wall {
			drained[i] = w + drainPerCall
		}
		m := map[string]float64{
			"bare-ns/call":            median(bareA.wall),
			"recording-ns/call":       median(rec.wall),
			"recording+drain-ns/call": median(drained),
			"recording/bare":          medianRatio(rec.wall, bareA.wall),
			"recording+drain/bare":    medianRatio(drained, bareA.wall),
			// Process CPU (this process: caller, upstream, GC, the Buffer's goroutine; not
			// PostgreSQL), steadier than wall time when other processes share the machine.
			"recording/bare-cpu": medianRatio(rec.cpu, bareA.cpu),

			"bare-b-ns/call": median(bareB.wall),
			"build-ns/call":  median(build.wall),
			"sync-ns/call":   median(sync.wall),
			"build/bare":     medianRatio(build.wall, bareB.wall),
			"build/bare-cpu": medianRatio(build.cpu, bareB.cpu),
			"sync/bare":      medianRatio(sync.wall, bareB.wall),
		}
		m["recording/bare-of-medians"] = m["recording-ns/call"] / m["bare-ns/call"]
		// What each approach adds to a bare call: the seed's insert-per-call against recording,
		// each against the bare calls of its own set. From the per-round ratios, not the
		// difference of two medians: a few µs between two medians of ~100 µs is within their
		// noise, and can even come out negative.
		m["sync-added/bare-b-ns"] = (m["sync/bare"] - 1) * m["bare-b-ns/call"]
		m["recording-added/bare-ns"] = (m["recording/bare"] - 1) * m["bare-ns/call"]
		m["recording+drain-added/bare-ns"] = (m["recording+drain/bare"] - 1) * m["bare-ns/call"]
		// A run whose median round found recording no slower than bare has no ratio to give
		// (the log says so); max keeps the metric finite.
		m["sync-added/recording-added"] = m["sync-added/bare-b-ns"] / max(m["recording-added/bare-ns"], 1)
		m["sync-added/recording+drain-added"] = m["sync-added/bare-b-ns"] / m["recording+drain-added/bare-ns"]
		// Whole calls: a sync call against a recording call (each set's bare scales the other).
		m["sync/recording"] = m["sync/bare"] / m["recording/bare"]
		for unit, v := range m {
			b.ReportMetric(v, unit)
		}
		b.ReportMetric(0, "ns/op") // a round is not a call: the metrics above are what counts
		b.Logf("recording set, %d rounds x %d calls, median ns/call: bare %.0f, recording %.0f (+drain %.0f)",
			len(rec.wall), block, m["bare-ns/call"], m["recording-ns/call"], m["recording+drain-ns/call"])
		b.Logf("recording/bare = %.3f (goal <= 1.05; of the medians %.3f; +drain %.3f; cpu %.3f)",
			m["recording/bare"], m["recording/bare-of-medians"], m["recording+drain/bare"], m["recording/bare-cpu"])
		b.Logf("other set, %d rounds, median ns/call: bare %.0f, recording-build %.0f, sync %.0f (%d calls per block)",
			len(sync.wall), m["bare-b-ns/call"], m["build-ns/call"], m["sync-ns/call"], syncBlock)
		b.Logf("recording-build/bare = %.3f (cpu %.3f), sync/bare = %.2f, sync/recording = %.1f (whole calls)",
			m["build/bare"], m["build/bare-cpu"], m["sync/bare"], m["sync/recording"])
		perCall := func(v *variant) float64 { return float64(v.faults) / float64(v.calls*len(v.wall)) }
		b.Logf("page faults per call: bare %.2f, recording %.2f, recording-build %.2f, sync %.2f",
			perCall(bareA), perCall(rec), perCall(build), perCall(sync))
		if m["recording-added/bare-ns"] <= 0 {
			b.Logf("added to a bare call: sync insert %.0f ns, recording nothing measurable in this run (+drain %.0f ns: sync/recording+drain = %.1f)",
				m["sync-added/bare-b-ns"], m["recording+drain-added/bare-ns"], m["sync-added/recording+drain-added"])
		} else {
			b.Logf("added to a bare call: sync insert %.0f ns, recording %.0f ns (+drain %.0f ns): sync/recording = %.1f (goal >= 20; +drain %.1f)",
				m["sync-added/bare-b-ns"], m["recording-added/bare-ns"], m["recording+drain-added/bare-ns"],
				m["sync-added/recording-added"], m["sync-added/recording+drain-added"])
		}
	})
}

// variant is one way of making a call, timed in blocks by interleave.
type variant struct {
	name      string
	calls     int       // per block
	fn        func()    // one call
	wall, cpu []float64 // ns per call, one per round
	faults    int64     // minor page faults, all blocks
}

// interleave runs rounds of one block per variant, in a new random order each round, and
// records each block's wall time, process CPU and page faults per call; after, if set, runs
// after each block, untimed. Short blocks in many rounds cancel most of a shared
// machine's drift (compare variants round by round, with medianRatio), and the random order
// keeps whatever one block leaves behind (cold caches, a collection under way) from always
// landing on the same variant. The seed is fixed: runs are repeatable in their order.
func interleave(rounds int, vs []*variant, after func(*variant)) {
	rng := rand.New(rand.NewPCG(1, 2))
	order := slices.Clone(vs)
	for range rounds {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, v := range order {
			f0, cpu0, start := pageFaults(), processCPU(), time.Now()
			for range v.calls {
				v.fn()
			}
			wall, cpu := time.Since(start), processCPU()-cpu0
			v.faults += pageFaults() - f0
			v.wall = append(v.wall, float64(wall.Nanoseconds())/float64(v.calls))
			v.cpu = append(v.cpu, float64(cpu.Nanoseconds())/float64(v.calls))
			if after != nil {
				after(v)
			}
		}
	}
}

// medianRatio is the median of the per-round ratios num[i]/den[i].
func medianRatio(num, den []float64) float64 {
	rs := make([]float64, len(num))
	for i := range num {
		rs[i] = num[i] / den[i]
	}
	return median(rs)
}

// pageFaults counts the minor page faults of this process so far (a fresh page of memory
// costs one, about 1.6 µs on the machine of docs/BENCHMARKS.md).
func pageFaults() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Minflt
}

// processCPU is the user and system CPU time this process has used, all threads.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func strOf(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// chanSink hands records over to a test.
type chanSink chan *Request

func (s chanSink) Add(r *Request) { s <- r }

// opaqueBody hides its reader's type, so the Transport must tee it.
type opaqueBody struct{ io.Reader }

func (opaqueBody) Close() error { return nil }

// TestReplayedBodyRecordsWhatTheTeeRecords: a request body the Transport captures through
// GetBody (in-memory readers, which spare net/http a separate flush of the headers) is
// recorded exactly as a body it tees.
func TestReplayedBodyRecordsWhatTheTeeRecords(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("ok"))
	}))
	defer up.Close()
	sink := make(chanSink, 1)
	client := &http.Client{Transport: NewTransport(up.Client().Transport, sink, Options{BodyCap: 1000})}
	record := func(body io.Reader, size int64) *Request {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, up.URL, body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return <-sink
	}
	long := "[" + strings.Repeat(`{"password":"hunter2-secret","é":"x"},`, 100) + "{}]" // cut by BodyCap
	for _, text := range []string{string(benchCallBody), `{"password":"hunter2-secret"}`, long} {
		for name, body := range map[string]func() io.Reader{
			"bytes.Reader":   func() io.Reader { return bytes.NewReader([]byte(text)) },
			"strings.Reader": func() io.Reader { return strings.NewReader(text) },
			"bytes.Buffer":   func() io.Reader { return bytes.NewBufferString(text) },
			"partly read": func() io.Reader {
				r := strings.NewReader("0123456789" + text)
				r.Read(make([]byte, 10))
				return r
			},
		} {
			got := record(body(), int64(len(text)))
			want := record(opaqueBody{strings.NewReader(text)}, int64(len(text)))
			if strOf(got.Data) != strOf(want.Data) || got.DataSize != want.DataSize || got.DataTruncated != want.DataTruncated {
				t.Errorf("%s, %d bytes: data %q (size %d, truncated %v); teed: %q (size %d, truncated %v)", name, len(text),
					strOf(got.Data), got.DataSize, got.DataTruncated, strOf(want.Data), want.DataSize, want.DataTruncated)
			}
			if strings.Contains(strOf(got.Data), "hunter2") {
				t.Errorf("%s: secret stored: %q", name, strOf(got.Data))
			}
		}
	}
}

// failingReader returns some bytes, then an error.
type failingReader struct{ left int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, errors.New("replay broke")
	}
	n := min(len(p), r.left)
	for i := range n {
		p[i] = 'x'
	}
	r.left -= n
	return n, nil
}

// A GetBody whose reader fails halfway leaves nothing of its bytes in the record: the call
// falls back to teeing the body it sends, and the record holds exactly that body.
func TestBrokenReplayFallsBackToTheTee(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer up.Close()
	sink := make(chanSink, 1)
	client := &http.Client{Transport: NewTransport(up.Client().Transport, sink, Options{})}
	const body = `{"order_id":"SO-1","lines":[1,2,3]}`
	req, err := http.NewRequest(http.MethodPost, up.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(&failingReader{left: 10}), nil }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	r := <-sink
	if strOf(r.Data) != body || r.DataSize != int64(len(body)) || r.DataTruncated {
		t.Errorf("data %q (size %d, truncated %v); want the body sent, %q", strOf(r.Data), r.DataSize, r.DataTruncated, body)
	}
}

// cannedTransport answers at once with a 2 000-byte JSON body, without a network: with it, a
// benchmark measures only what the recording Transport adds on the caller's goroutine.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{StatusCode: 200, Status: "200 OK", ContentLength: 2000, Request: req,
		Header: http.Header{"Content-Type": {"application/json"}, "Content-Length": {"2000"}},
		Body:   io.NopCloser(strings.NewReader(strings.Repeat("a", 2000)))}, nil
}

// BenchmarkRecorderOverhead: the caller's cost of recording a call (snapshot, captures, id,
// the copy into the Buffer), without network, upstream or the flusher's deferred work. The
// Buffer is not started and holds 1 000 records: once full, each Add also drops the oldest.
func BenchmarkRecorderOverhead(b *testing.B) {
	body := strings.Repeat("b", 500)
	buf := NewBuffer(nil, BufferConfig{MaxEntries: 1_000, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, tc := range []struct {
		name string
		rt   http.RoundTripper
	}{{"bare", cannedTransport{}}, {"recording", NewTransport(cannedTransport{}, buf, Options{})}} {
		b.Run(tc.name, func(b *testing.B) {
			c := &http.Client{Transport: tc.rt}
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, "http://erp.example/orders", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer abc")
				req.Header.Set("Content-Type", "application/json")
				resp, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// BenchmarkFlusherBuild: what the Buffer's flusher spends turning the frame of one of
// BenchmarkCall's calls into a row before writing it (taking it off the queue, decoding,
// redacting both bodies, masking the echoed secrets, header JSON): the deferred part of
// recording's cost.
func BenchmarkFlusherBuild(b *testing.B) {
	up := httptest.NewServer(httpbin.New().Handler())
	defer up.Close()
	buf := NewBuffer(nil, BufferConfig{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e := &callBench{ctx: context.Background(), url: up.URL + "/anything"}
	e.call(b, &http.Client{Transport: NewTransport(nil, buf, Options{Service: "httpbin"})})
	buf.mu.Lock()
	frame := buf.queue.popFront() // a copy: the queue's memory goes with the Buffer
	buf.mu.Unlock()
	redactors := buf.redactors.all()
	b.ReportAllocs()
	for b.Loop() {
		r, err := decodeFrame(bytes.Clone(frame), redactors) // popFront's copy
		if err != nil {
			b.Fatal(err)
		}
		r.materialize()
		if r.Output == nil || strings.Contains(*r.Output, "hunter2") {
			b.Fatal("the echo was not redacted")
		}
	}
}
