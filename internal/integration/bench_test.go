package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/apitemplate/server/internal/database"
	"github.com/apitemplate/server/internal/database/dbtest"
)

// benchRequest is a realistic record: about 1 KiB of request body, half that of response,
// redacted headers both ways. Its strings are its own allocations, as they would be when they
// come from an HTTP exchange, so memory measurements are honest; they are built by
// concatenation, so that building a million of them does not dominate the burst benchmark.
func benchRequest(i int, created time.Time) *Request {
	n := strconv.Itoa(i)
	data := `{"order_id":` + n + `,"customer":"customer-` + n + `@example.com","lines":` + benchLines + `}`
	output := `{"id":"inv_` + n + `","status":"created","links":{"self":"https://erp.example/api/invoices/inv_` + n + `"}}` + benchPad
	return &Request{
		ID:                 NewID(),
		Service:            "erp",
		RequestDescription: "create invoice",
		RequestID:          "req-" + n,
		Status:             StatusCompleted,
		Method:             "POST",
		URL:                "https://erp.example/api/invoices?order=" + n,
		RequestHeaders:     []byte(`{"Authorization":["Bearer [REDACTED]"],"Content-Type":["application/json"],"User-Agent":["apitemplate/1.0"],"X-Request-Id":["req-` + n + `"]}`),
		Data:               &data,
		ResponseHeaders:    []byte(`{"Content-Type":["application/json"],"Date":["Mon, 01 Jan 2024 00:00:00 GMT"],"X-Id":["` + n + `"]}`),
		Output:             &output,
		StatusCode:         new(201),
		DurationMS:         new(float64(i%500) + 0.25),
		Attempt:            1,
		ReferenceType:      "Sales Order",
		ReferenceID:        "SO-" + n,
		Owner:              "api@example.com",
		DataSize:           int64(len(data)),
		OutputSize:         int64(len(output)),
		CreatedAt:          created.Add(time.Duration(i) * time.Microsecond),
		UpdatedAt:          created.Add(time.Duration(i)*time.Microsecond + time.Millisecond),
	}
}

var (
	benchLines = func() string {
		var b strings.Builder
		b.WriteString("[")
		for j := 0; b.Len() < 920; j++ {
			fmt.Fprintf(&b, `{"sku":"SKU-%05d","qty":%d,"price":%d.%02d},`, j*7919%99991, j+1, j*7, j)
		}
		return strings.TrimSuffix(b.String(), ",") + "]"
	}()
	benchPad = strings.Repeat(" ", 380)
)

// writeCSV writes rows in psql's CSV format: NULL is an empty unquoted field, every other
// value is quoted, so an empty string stays an empty string.
func writeCSV(tb testing.TB, path string, rows []*Request) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	quote := func(s string) { w.WriteByte('"'); w.WriteString(strings.ReplaceAll(s, `"`, `""`)); w.WriteByte('"') }
	for _, r := range rows {
		vals, _ := (&copySource{rows: []*Request{r}, values: make([]any, len(columns))}).Values()
		for i, v := range vals {
			if i > 0 {
				w.WriteByte(',')
			}
			for p := reflect.ValueOf(v); p.Kind() == reflect.Pointer; p = p.Elem() {
				v = nil
				if p.IsNil() {
					break
				}
				v = p.Elem().Interface()
			}
			if j, ok := v.(JSON); ok {
				v = nil
				if len(j) > 0 {
					v = string(j)
				}
			}
			switch v := v.(type) {
			case nil:
			case string:
				quote(v)
			case []byte:
				quote(string(v))
			case time.Time:
				quote(v.Format(time.RFC3339Nano))
			case bool:
				quote(strconv.FormatBool(v))
			default:
				quote(fmt.Sprint(v))
			}
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkFlushPostgres measures Buffer.Flush (COPY, in batches of BatchSize) of 50 000
// realistic rows against psql's \copy of the same rows from a CSV file into the same,
// truncated table, interleaved (ours, theirs, ours, ...) for five rounds. copy-ratio is the
// median of the rounds' ours / \copy in rows per second: flush_vs_copy, goal at least 0.9 with
// the server's batch size, where the benchmark fails below it.
//
//	go test -run '^$' -bench FlushPostgres -benchtime 1x ./internal/integration/
func BenchmarkFlushPostgres(b *testing.B) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		b.Skip("psql not found")
	}
	db := dbtest.Postgres(b)
	dbURL := databaseURL(b, db)
	const n, rounds, goal = 50_000, 5, 0.9
	created := time.Now().UTC().Truncate(time.Microsecond)
	rows := make([]*Request, n)
	for i := range rows {
		rows[i] = benchRequest(i, created)
	}
	csvPath := filepath.Join(b.TempDir(), "rows.csv")
	writeCSV(b, csvPath, rows)
	ctx := context.Background()

	ours := func(batch int) time.Duration {
		dbtest.Exec(b, db, "TRUNCATE integration_requests")
		buf := NewBuffer(db, BufferConfig{MaxEntries: n, MaxBytes: 1 << 30, FlushThreshold: n + 1, BatchSize: batch})
		for _, r := range rows {
			cp := *r
			buf.Add(&cp)
		}
		start := time.Now()
		stored, err := buf.Flush(ctx)
		took := time.Since(start)
		if err != nil || stored != n {
			b.Fatalf("Flush = %d, %v; want %d, nil", stored, err, n)
		}
		return took
	}
	theirs := func() time.Duration {
		dbtest.Exec(b, db, "TRUNCATE integration_requests")
		cmd := exec.CommandContext(ctx, psql, dbURL, "-q", "-v", "ON_ERROR_STOP=1", "-c",
			`\copy integration_requests (`+strings.Join(columnNames, ", ")+`) FROM '`+csvPath+`' WITH (FORMAT csv)`)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		took := time.Since(start)
		if err != nil {
			b.Fatalf("psql \\copy: %v: %s", err, out)
		}
		if got := rowCount(b, db); got != n {
			b.Fatalf("\\copy stored %d rows; want %d", got, n)
		}
		return took
	}
	for _, batch := range []int{1_000, n} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			for range b.N {
				var ratios []float64
				for range rounds {
					o, t := ours(batch), theirs()
					ratios = append(ratios, t.Seconds()/o.Seconds()) // rows/s ours over theirs
				}
				slices.Sort(ratios)
				median := ratios[rounds/2]
				b.ReportMetric(median, "copy-ratio")
				b.ReportMetric(ratios[0], "copy-ratio-min")
				b.ReportMetric(ratios[rounds-1], "copy-ratio-max")
				if batch == 1_000 && median < goal {
					b.Errorf("flush_vs_copy = %.2f with the server's batch size; goal at least %.1f", median, goal)
				}
			}
		})
	}
}

// databaseURL is the URL of the PostgreSQL database db is connected to.
func databaseURL(tb testing.TB, db *gorm.DB) string {
	tb.Helper()
	var name string
	if err := db.Raw("SELECT current_database()").Scan(&name).Error; err != nil {
		tb.Fatal(err)
	}
	admin := dbtest.AdminURL()
	i := strings.LastIndexByte(strings.SplitN(admin, "?", 2)[0], '/')
	rest := ""
	if q := strings.IndexByte(admin, '?'); q >= 0 {
		rest = admin[q:]
	}
	return admin[:i+1] + name + rest
}

// BenchmarkBufferBurstDBDown adds 1 000 000 realistic records (about 2 KiB each) as fast as
// one goroutine can, while the database refuses connections and the buffer's goroutine
// retries, with the soft memory limit the server sets (SetMemoryLimit). It checks that every
// record not pending is counted as dropped, and reports the process's peak resident memory
// against MaxBytes: its growth during the burst (rss-growth/bound) and in all (rss/bound).
//
//   - defaults: the server's settings (10 000 records, 64 MiB), where the entry bound is
//     reached first. burst_rss_ratio, goal at most 1.3, is its rss/bound.
//   - bytes-bound: room for every record, so that the 64 MiB bound is what holds; the heap
//     then holds a full bound of live records while the producer's garbage piles up faster
//     than the collector, on two cores, can free it (information: docs/BENCHMARKS.md).
//
// RSS is only meaningful when this benchmark runs alone in its process:
//
//	go test -run '^$' -bench 'BurstDBDown/defaults' -benchtime 1x ./internal/integration/
func BenchmarkBufferBurstDBDown(b *testing.B) {
	// A port nothing listens on: connections are refused at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	db := unreachablePostgres(b, addr)

	const total = 1_000_000
	const maxBytes = 64 << 20
	for _, bench := range []struct {
		name       string
		maxEntries int
	}{{"defaults", 10_000}, {"bytes-bound", total}} {
		b.Run(bench.name, func(b *testing.B) {
			for range b.N {
				burst(b, db, total, bench.maxEntries, maxBytes)
			}
		})
	}
}

func burst(b *testing.B, db *gorm.DB, total, maxEntries int, maxBytes int64) {
	created := time.Now().UTC()
	buf := NewBuffer(db, BufferConfig{
		MaxEntries: maxEntries, MaxBytes: maxBytes,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	buf.Start()
	runtime.GC()
	SetMemoryLimit(maxBytes) // as the server does at start
	defer debug.SetMemoryLimit(math.MaxInt64)
	resetPeakRSS()
	baseRSS := procStatus("VmRSS")

	var inAdd time.Duration
	for i := range total {
		r := benchRequest(i, created)
		start := time.Now()
		buf.Add(r)
		inAdd += time.Since(start)
	}
	peakRSS := procStatus("VmHWM")
	s := buf.Stats()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	buf.Close(ctx) // nothing can be stored; no spill directory: reported, counted as dropped
	checkAccounting(b, s)
	checkAccounting(b, buf.Stats())
	if s.Produced != int64(total) || s.Stored != 0 || s.Failed != 0 || s.Dropped != s.Produced-s.Pending {
		b.Fatalf("stats %+v; want %d produced, none stored or failed, dropped = produced - pending", s, total)
	}
	if s.PendingBytes > maxBytes || s.Pending > int64(maxEntries) {
		b.Fatalf("pending %d records, %d bytes; bounds %d, %d", s.Pending, s.PendingBytes, maxEntries, maxBytes)
	}
	const mib = 1 << 20
	b.ReportMetric(float64(inAdd.Nanoseconds())/float64(total), "ns/add")
	b.ReportMetric(float64(s.Pending), "pending")
	b.ReportMetric(float64(s.PendingBytes)/mib, "pending-MiB")
	if peakRSS > 0 {
		b.ReportMetric(growth(peakRSS, baseRSS)/float64(maxBytes), "rss-growth/bound")
		b.ReportMetric(float64(peakRSS)/float64(maxBytes), "rss/bound")
	}
}

// unreachablePostgres opens a *gorm.DB on addr without pinging it.
func unreachablePostgres(tb testing.TB, addr string) *gorm.DB {
	tb.Helper()
	// database.Open pings and so refuses a dead address; open the same way, minus the ping.
	db, err := gorm.Open(postgres.Open("postgres://postgres@"+addr+"/none?sslmode=disable&connect_timeout=1"),
		&gorm.Config{DisableAutomaticPing: true, SkipDefaultTransaction: true, Logger: logger.Discard})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { database.Close(db) })
	return db
}

// growth is now - base, as a float that may be negative (memory the run gave back).
func growth(now, base uint64) float64 { return float64(now) - float64(base) }

// resetPeakRSS makes VmHWM start again from the current RSS (Linux; ignored elsewhere).
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// procStatus reads a "kB" field of /proc/self/status in bytes, or 0.
func procStatus(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkBuild is what the Buffer's goroutine spends turning one captured call into a row
// before writing it: redaction of a bearer token, two 1 KiB JSON bodies with a secret each,
// headers encoded as JSON, and sanitize. record_total_vs_otelhttp (bench/) is the whole
// call's figure; this is its largest part.
func BenchmarkBuild(b *testing.B) {
	body := []byte(`{"kind":"order","order_id":"SO-10042","customer":{"id":"C-7731","email":"jane.doe@example.com",` +
		`"name":"Jane Doe","vat":"FR40303265045"},"api_key":"sk_live_51H8aZ2eZvKYlo2C9xq0aBcDeFgHiJkLmN","currency":"EUR",` +
		`"lines":[` + strings.Repeat(`{"sku":"SKU-00042","qty":3,"price":"17.03","note":""},`, 15) + `{"sku":"SKU-1"}]}`)
	const token = "Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2lkLmV4YW1wbGUuY29tIiwic3ViIjoic3ZjIn0." +
		"c2lnbmF0dXJlLW5vdC1yZWFsLWJ1dC1hcy1sb25nLWFzLW9uZS1pcy1mb3ItYS1SUzI1Ni1rZXk"
	b.ReportAllocs()
	for b.Loop() {
		r := &Request{Status: StatusCompleted, seen: &seenCall{
			redactor: defaultRedactor, url: "http://127.0.0.1:4242/orders?page=2",
			reqHeader: http.Header{"Authorization": {token}, "Content-Type": {"application/json"},
				"Accept": {"application/json"}, "User-Agent": {"Go-http-client/1.1"}},
			reqBody:   &capturedBody{buf: body, total: int64(len(body)), limit: 64 << 10},
			reqLength: int64(len(body)),
			respHeader: http.Header{"Content-Type": {"application/json"}, "Content-Length": {"1024"},
				"Date": {"Sun, 29 Nov 2026 13:00:00 GMT"}},
			respBody:   &capturedBody{buf: body, total: int64(len(body)), limit: 64 << 10},
			respLength: int64(len(body)), respStatus: "200 OK",
		}}
		r.build()
		sanitize(r)
	}
}

// cannedTransport answers at once with a 4 KiB JSON body, without a network: with it,
// BenchmarkCaller measures only what recording adds on the caller's goroutine.
type cannedTransport struct{ body string }

func (c cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{StatusCode: 200, Status: "200 OK", ContentLength: int64(len(c.body)), Request: req,
		Header: http.Header{"Content-Type": {"application/json"}, "Content-Length": {strconv.Itoa(len(c.body))}},
		Body:   io.NopCloser(strings.NewReader(c.body))}, nil
}

// BenchmarkCaller is the caller's share of a recorded call with 4 KiB bodies each way, the
// record_added_realistic call (bench/): capture, headers cloned, the record handed to a
// Buffer. bare is the same call through the canned transport alone.
func BenchmarkCaller(b *testing.B) {
	body := strings.Repeat("x", 4<<10)
	canned := cannedTransport{body: `"` + body[:len(body)-2] + `"`}
	buf := NewBuffer(nil, BufferConfig{MaxEntries: 1 << 20, MaxBytes: 1 << 40, FlushThreshold: 1 << 30})
	for _, bm := range []struct {
		name string
		rt   http.RoundTripper
	}{{"bare", canned}, {"recorded", NewTransport(canned, buf, Options{Service: "erp"})}} {
		b.Run(bm.name, func(b *testing.B) {
			client := &http.Client{Transport: bm.rt}
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest("POST", "http://erp.example/orders", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer abc.def.ghi")
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			buf.mu.Lock()
			buf.waiting, buf.waitingBytes = nil, 0 // not written: this measures the caller
			buf.mu.Unlock()
		})
	}
}
