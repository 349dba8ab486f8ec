package integration

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database"
	"github.com/apitemplate/server/internal/database/dbtest"
)

// fullRequest returns a record with every column set to a value that would show if it were
// lost or altered on the way: a time zone other than UTC, microseconds, non-ASCII text.
func fullRequest(id string) *Request {
	created := time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.FixedZone("CET", 3600))
	return &Request{
		ID:                 id,
		Service:            "erp",
		IsRemoteRequest:    true,
		RequestDescription: "create invoice",
		RequestID:          "req-1",
		TraceID:            "4bf92f3577b34da6a3ce929d0e0e4736",
		Status:             StatusFailed,
		Method:             "POST",
		URL:                "https://erp.example/api/invoices?x=1",
		RequestHeaders:     JSON(`{"Content-Type":["application/json"],"Authorization":["Bearer [REDACTED]"]}`),
		Data:               new(`{"amount":12.5,"name":"Zoë"}`),
		ResponseHeaders:    JSON(`{"X-Request-Id":["abc"]}`),
		Output:             new("upstream said no"),
		Error:              new("502 Bad Gateway"),
		StatusCode:         new(502),
		DurationMS:         new(12.75),
		Attempt:            3,
		ReferenceType:      "Invoice",
		ReferenceID:        "INV-0042",
		Owner:              "alice@example.com",
		DataTruncated:      true,
		DataSize:           1 << 20,
		OutputTruncated:    true,
		OutputSize:         70_000,
		CreatedAt:          created,
		UpdatedAt:          created.Add(1500 * time.Microsecond),
	}
}

// minimalRequest has every nullable column NULL. Its headers are empty but not nil, which must
// also be stored as NULL: "" is not JSON.
func minimalRequest(id string, created time.Time) *Request {
	return &Request{ID: id, Status: StatusQueued, Attempt: 1, RequestHeaders: JSON{},
		CreatedAt: created, UpdatedAt: created}
}

// rowsByID reads the whole table through the model, as an application would, keyed by id.
func rowsByID(t testing.TB, db *gorm.DB) map[string]Request {
	t.Helper()
	var rows []Request
	if err := db.Order("id").Find(&rows).Error; err != nil {
		t.Fatalf("read integration_requests: %v", err)
	}
	m := make(map[string]Request, len(rows))
	for _, r := range rows {
		m[r.ID] = r
	}
	return m
}

func rowCount(t testing.TB, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Raw("SELECT COUNT(*) FROM integration_requests").Scan(&n).Error; err != nil {
		t.Fatalf("count integration_requests: %v", err)
	}
	return n
}

// sameRequest compares two records column by column, times as instants.
func sameRequest(t testing.TB, got, want Request) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s: created_at, updated_at = %v, %v; want %v, %v", want.ID, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
	for _, h := range []struct {
		name      string
		got, want JSON
	}{{"request_headers", got.RequestHeaders, want.RequestHeaders}, {"response_headers", got.ResponseHeaders, want.ResponseHeaders}} {
		if !jsonEqual(h.got, h.want) {
			t.Errorf("%s: %s = %q; want %q", want.ID, h.name, h.got, h.want)
		}
	}
	got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	got.RequestHeaders, got.ResponseHeaders, want.RequestHeaders, want.ResponseHeaders = nil, nil, nil, nil
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s: stored\n%s\nwant\n%s", want.ID, g, w)
	}
}

// jsonEqual compares JSON by value (jsonb reorders keys and drops spaces); empty means NULL.
func jsonEqual(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return string(xs) == string(ys)
}

func TestWriteBatchRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		created := time.Date(2025, 1, 2, 3, 4, 5, 678901000, time.UTC)
		rows := []*Request{fullRequest("a-full"), minimalRequest("b-minimal", created)}
		want := []Request{*rows[0], *rows[1]}
		want[1].RequestHeaders = nil // empty headers are stored as NULL
		if err := WriteBatch(ctx, db, rows); err != nil {
			t.Fatalf("WriteBatch: %v", err)
		}
		got := rowsByID(t, db)
		if len(got) != len(want) {
			t.Fatalf("stored %d rows; want %d", len(got), len(want))
		}
		for _, w := range want {
			sameRequest(t, got[w.ID], w)
		}

		// What operators see with SQL: UTC times, and headers as text on SQLite.
		var createdText, headersType string
		if db.Dialector.Name() == database.SQLite {
			db.Raw("SELECT CAST(created_at AS TEXT), typeof(request_headers) FROM integration_requests WHERE id = 'a-full'").Row().Scan(&createdText, &headersType)
			if want := "2024-02-29 22:59:58.123456+00:00"; createdText != want || headersType != "text" {
				t.Errorf("created_at, typeof(request_headers) = %q, %q; want %q, %q", createdText, headersType, want, "text")
			}
		} else {
			db.Raw("SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), jsonb_typeof(request_headers) FROM integration_requests WHERE id = 'a-full'").Row().Scan(&createdText, &headersType)
			if want := "2024-02-29 22:59:58.123456"; createdText != want || headersType != "object" {
				t.Errorf("created_at in UTC, jsonb_typeof(request_headers) = %q, %q; want %q, %q", createdText, headersType, want, "object")
			}
		}
	})
}

// TestWriteBatchInTransaction covers the INSERT path: COPY through the pool would escape the
// caller's transaction, so inside one WriteBatch uses multi-row INSERTs, which must stay under
// the bound-parameter limit (65 535 on PostgreSQL) however many rows come.
func TestWriteBatchInTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		n := 3_000 // 75 000 parameters: over PostgreSQL's limit in a single statement
		if db.Dialector.Name() == database.SQLite {
			n = 1_400 // 35 000: over SQLite's
		}
		rows := make([]*Request, n)
		for i := range rows {
			rows[i] = &Request{ID: fmt.Sprintf("tx-%05d", i), Data: new("x")}
		}
		rows[7] = fullRequest("tx-00007")
		want := *rows[7]
		err := db.Transaction(func(tx *gorm.DB) error { return WriteBatch(ctx, tx, rows) })
		if err != nil {
			t.Fatalf("WriteBatch in a transaction: %v", err)
		}
		if got := rowCount(t, db); got != int64(n) {
			t.Errorf("rows = %d; want %d", got, n)
		}
		sameRequest(t, rowsByID(t, db)["tx-00007"], want)

		// Rolled back with the caller's transaction: nothing escaped it.
		more := []*Request{{ID: "rolled-back"}}
		db.Transaction(func(tx *gorm.DB) error {
			if err := WriteBatch(ctx, tx, more); err != nil {
				t.Errorf("WriteBatch: %v", err)
			}
			return errors.New("roll back")
		})
		if got := rowCount(t, db); got != int64(n) {
			t.Errorf("rows after a rolled-back transaction = %d; want %d", got, n)
		}
	})
}

func TestWriteBatchFillsDefaults(t *testing.T) {
	db := dbtest.SQLite(t)
	before := time.Now().UTC().Truncate(time.Microsecond)
	r := &Request{Service: "erp"}
	if err := WriteBatch(context.Background(), db, []*Request{r}); err != nil {
		t.Fatal(err)
	}
	if r.ID == "" || r.Status != StatusQueued || r.Attempt != 1 || r.CreatedAt.Before(before) ||
		r.CreatedAt.Location() != time.UTC || !r.UpdatedAt.Equal(r.CreatedAt) {
		t.Errorf("filled = id %q, status %q, attempt %d, created %v, updated %v; want an id, Queued, 1, a UTC time after %v, updated = created",
			r.ID, r.Status, r.Attempt, r.CreatedAt, r.UpdatedAt, before)
	}
	sameRequest(t, rowsByID(t, db)[r.ID], *r)
}

// TestWriteBatchIsolatesBadRows: the last resort. sanitize leaves the database few reasons to
// refuse a row (a duplicate id, a value pgx cannot encode), and such a row never loses its batch.
func TestWriteBatchIsolatesBadRows(t *testing.T) {
	type badRow func(r *Request)
	duplicate := func(r *Request) { r.ID = "existing" } // same id, another record
	tooBig := func(r *Request) { r.StatusCode = new(1 << 40) }
	tests := []struct {
		name string
		bad  map[int]badRow // position in the batch -> what makes it bad
	}{
		{"one duplicate id in the middle", map[int]badRow{37: duplicate}},
		{"duplicates first and last", map[int]badRow{0: duplicate, 99: duplicate}},
		{"value out of INTEGER range", map[int]badRow{50: tooBig}},
		{"both kinds at once", map[int]badRow{0: tooBig, 2: duplicate, 98: tooBig}},
	}
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				dbtest.Exec(t, db, "DELETE FROM integration_requests")
				existing := &Request{ID: "existing", CreatedAt: time.Now().Add(-time.Hour)}
				if err := WriteBatch(ctx, db, []*Request{existing}); err != nil {
					t.Fatal(err)
				}
				const n = 100
				rows := make([]*Request, n)
				var wantRejected []string
				for i := range rows {
					rows[i] = &Request{ID: fmt.Sprintf("row-%03d", i), Data: new("ok")}
					if f := tt.bad[i]; f != nil {
						f(rows[i])
						wantRejected = append(wantRejected, rows[i].ID)
					}
				}
				err := WriteBatch(ctx, db, rows)
				var be *BatchError
				if !errors.As(err, &be) {
					t.Fatalf("WriteBatch = %v; want a *BatchError", err)
				}
				var rejected []string
				for _, r := range be.Rejected {
					rejected = append(rejected, r.ID)
					if !isRowError(r.Err) {
						t.Errorf("rejected %s for %v, not a row error", r.ID, r.Err)
					}
				}
				slices.Sort(rejected)
				slices.Sort(wantRejected)
				if !slices.Equal(rejected, wantRejected) || be.Err != nil || len(be.Unstored) != 0 {
					t.Errorf("rejected %v, err %v, unstored %d; want rejected %v, no error, nothing unstored",
						rejected, be.Err, len(be.Unstored), wantRejected)
				}
				if got, want := be.Stored, n-len(tt.bad); got != want {
					t.Errorf("Stored = %d; want %d", got, want)
				}
				if got, want := rowCount(t, db), int64(n-len(tt.bad)+1); got != want {
					t.Errorf("rows in table = %d; want %d", got, want)
				}
			})
		}
	})
}

// TestNoRowIsRefusedForItsContent: whatever a client or a hostile upstream puts in a record,
// it is stored, on both databases: invalid UTF-8 and NUL replaced, values too long for their
// column or index cut and flagged.
func TestNoRowIsRefusedForItsContent(t *testing.T) {
	huge := strings.Repeat("9", 500_000) // an order id no B-tree entry can hold
	tests := []struct {
		name  string
		set   func(r *Request)
		check func(t *testing.T, got Request)
	}{
		{"NUL in a reference", func(r *Request) { r.ReferenceID = "A-\x001" },
			func(t *testing.T, got Request) { wantEqual(t, "reference_id", got.ReferenceID, "A-\uFFFD1") }},
		{"NUL in the bodies and the error", func(r *Request) { r.Data, r.Output, r.Error = new("in\x00"), new("out\x00"), new("err\x00") },
			func(t *testing.T, got Request) {
				wantEqual(t, "data", text(got.Data), "in\uFFFD")
				wantEqual(t, "output", text(got.Output), "out\uFFFD")
				wantEqual(t, "error", text(got.Error), "err\uFFFD")
			}},
		{"NUL escaped in header JSON", func(r *Request) { r.ResponseHeaders = JSON(`{"X":["a\u0000b"]}`) },
			func(t *testing.T, got Request) {
				if !jsonEqual(got.ResponseHeaders, JSON(`{"X":["a\ufffdb"]}`)) {
					t.Errorf("response_headers = %s; want the NUL replaced", got.ResponseHeaders)
				}
			}},
		{"invalid UTF-8 everywhere", func(r *Request) { r.Owner, r.URL, r.Data = "\xff\xfe", "https://x/\xff", new("a\xffb") },
			func(t *testing.T, got Request) {
				wantEqual(t, "owner", got.Owner, "\uFFFD")
				wantEqual(t, "url", got.URL, "https://x/\uFFFD")
				wantEqual(t, "data", text(got.Data), "a\uFFFDb")
			}},
		{"header JSON that is not JSON", func(r *Request) { r.RequestHeaders = JSON(`{"a":`) },
			func(t *testing.T, got Request) {
				if !jsonEqual(got.RequestHeaders, JSON(`"{\"a\":"`)) {
					t.Errorf("request_headers = %s; want the text as a JSON string", got.RequestHeaders)
				}
			}},
		{"a 500 000-digit order id", func(r *Request) { r.ReferenceType, r.ReferenceID = "Order", huge },
			func(t *testing.T, got Request) {
				if len(got.ReferenceID) > 2*defaultLimit || !strings.HasPrefix(got.ReferenceID, huge[:defaultLimit]) ||
					!strings.HasSuffix(got.ReferenceID, "[cut from 500000 bytes]") {
					t.Errorf("reference_id = %d bytes ending %q; want the first %d bytes and a note of the full size",
						len(got.ReferenceID), got.ReferenceID[max(0, len(got.ReferenceID)-30):], defaultLimit)
				}
			}},
		{"a 500 000-byte URL and body", func(r *Request) { r.URL, r.Output = "https://x/?id="+huge, new(huge+huge+huge) },
			func(t *testing.T, got Request) {
				if len(got.URL) > columnLimits["url"]+64 || !strings.Contains(got.URL, "[cut from") {
					t.Errorf("url = %d bytes; want it cut near %d with a note", len(got.URL), columnLimits["url"])
				}
				if len(text(got.Output)) != columnLimits["output"] || !got.OutputTruncated {
					t.Errorf("output = %d bytes, truncated %v; want %d, flagged", len(text(got.Output)), got.OutputTruncated, columnLimits["output"])
				}
			}},
	}
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		var rows []*Request
		for i, tt := range tests {
			r := &Request{ID: fmt.Sprintf("hostile-%02d", i), Service: "erp"}
			tt.set(r)
			rows = append(rows, r)
		}
		if err := WriteBatch(context.Background(), db, rows); err != nil {
			t.Fatalf("WriteBatch = %v; want every row stored", err)
		}
		stored := rowsByID(t, db)
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, ok := stored[rows[i].ID]
				if !ok {
					t.Fatalf("row %s not stored", rows[i].ID)
				}
				tt.check(t, got)
			})
		}
	})
}

func wantEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %#v; want %#v", what, got, want)
	}
}

// TestWriteBatchIsIdempotent: writing rows that are already stored, as a retry after a lost
// commit or a replayed spill file does, stores nothing twice and reports nothing as failed.
func TestWriteBatchIsIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		rows := []*Request{fullRequest("one"), {ID: "two"}, {ID: "three"}}
		if err := WriteBatch(ctx, db, rows); err != nil {
			t.Fatal(err)
		}
		again := append(rows, &Request{ID: "four"})
		if err := WriteBatch(ctx, db, again); err != nil {
			t.Errorf("second WriteBatch = %v; want nil", err)
		}
		if got := rowCount(t, db); got != 4 {
			t.Errorf("rows = %d; want 4", got)
		}
	})
}

func TestWriteBatchUnavailable(t *testing.T) {
	rows := func() []*Request {
		return []*Request{{ID: "u1"}, {ID: "u2"}, {ID: "u3"}}
	}
	check := func(t *testing.T, err error) {
		t.Helper()
		var be *BatchError
		if !errors.As(err, &be) {
			t.Fatalf("WriteBatch = %v; want a *BatchError", err)
		}
		var ids []string
		for _, r := range be.Unstored {
			ids = append(ids, r.ID)
		}
		if be.Err == nil || len(be.Rejected) != 0 || be.Stored != 0 || !slices.Equal(ids, []string{"u1", "u2", "u3"}) {
			t.Errorf("BatchError = stored %d, rejected %v, unstored %v, err %v; want all three unstored in order, an error",
				be.Stored, be.Rejected, ids, be.Err)
		}
	}
	t.Run("cancelled context", func(t *testing.T) {
		dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			check(t, WriteBatch(ctx, db, rows()))
		})
	})
	t.Run("sqlite closed", func(t *testing.T) {
		db := dbtest.SQLite(t)
		database.Close(db)
		check(t, WriteBatch(context.Background(), db, rows()))
	})
	t.Run("postgres unreachable", func(t *testing.T) {
		viaProxy, direct, proxy := outagePostgres(t)
		proxy.down()
		check(t, WriteBatch(context.Background(), viaProxy, rows()))
		if got := rowCount(t, direct); got != 0 {
			t.Errorf("rows = %d; want 0", got)
		}
		proxy.up(t)
		if err := WriteBatch(context.Background(), viaProxy, rows()); err != nil {
			t.Errorf("WriteBatch after recovery: %v", err)
		}
	})
}

type codeErr int

func (e codeErr) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e codeErr) Code() int     { return int(e) }

func TestIsRowError(t *testing.T) {
	pg := func(code string) error { return &pgconn.PgError{Code: code, Message: "x"} }
	tests := []struct {
		err  error
		want bool
	}{
		{pg("23505"), true},                         // unique violation
		{fmt.Errorf("copy: %w", pg("22021")), true}, // invalid byte sequence (NUL)
		{pg("22P02"), true},                         // invalid JSON
		{pg("23502"), true},                         // not null violation
		{pg("54000"), true},                         // index row too big
		{pg("08006"), false},                        // connection failure
		{pg("57P01"), false},                        // admin shutdown
		{pg("57P03"), false},                        // cannot connect now
		{pg("53300"), false},                        // too many connections
		{pg("40001"), false},                        // serialization failure
		{pg("42P01"), false},                        // table missing: retry, do not drop
		{pg("57014"), false},                        // query cancelled
		{driver.ErrBadConn, false},                  //
		{context.DeadlineExceeded, false},           //
		{fmt.Errorf("%w: %w", context.Canceled, pg("22P02")), false}, // cancelled mid-statement
		{errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"), false},
		{io.ErrUnexpectedEOF, false},
		{codeErr(19), true},   // SQLITE_CONSTRAINT
		{codeErr(1555), true}, // SQLITE_CONSTRAINT_PRIMARYKEY
		{codeErr(18), true},   // SQLITE_TOOBIG
		{codeErr(5), false},   // SQLITE_BUSY
		{codeErr(261), false}, // SQLITE_BUSY_RECOVERY
		{codeErr(10), false},  // SQLITE_IOERR
		{codeErr(13), false},  // SQLITE_FULL
		{fmt.Errorf("status_code: %w", errRowRange), true},
	}
	for _, tt := range tests {
		if got := isRowError(tt.err); got != tt.want {
			t.Errorf("isRowError(%v) = %v; want %v", tt.err, got, tt.want)
		}
	}
}

// tcpProxy forwards connections to a real server and can be switched off and on: a database
// outage on demand, with real PostgreSQL behind a listener the test controls. Its goroutines
// are owned by the proxy: down stops them and waits.
type tcpProxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startTCPProxy(t testing.TB, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

// down refuses new connections and cuts the open ones, as a database crash would.
func (p *tcpProxy) down() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// up listens again, on the same address.
func (p *tcpProxy) up(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("proxy up again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", p.target)
			if err != nil {
				client.Close()
				continue
			}
			p.mu.Lock()
			if p.ln != ln { // went down meanwhile
				p.mu.Unlock()
				client.Close()
				server.Close()
				return
			}
			p.conns[client], p.conns[server] = struct{}{}, struct{}{}
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				io.Copy(dst, src)
				dst.Close()
				src.Close()
				p.mu.Lock()
				delete(p.conns, dst)
				delete(p.conns, src)
				p.mu.Unlock()
			}
			p.wg.Go(func() { pipe(server, client) })
			p.wg.Go(func() { pipe(client, server) })
		}
	})
}

// outagePostgres returns a migrated PostgreSQL database twice: through a proxy the test can
// stop, and directly, to check what was stored while the proxy is down.
func outagePostgres(t testing.TB) (viaProxy, direct *gorm.DB, proxy *tcpProxy) {
	t.Helper()
	direct = dbtest.Postgres(t)
	u, err := url.Parse(dbtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	var name string
	direct.Raw("SELECT current_database()").Scan(&name)
	proxy = startTCPProxy(t, u.Host)
	u.Host, u.Path = proxy.addr, "/"+name
	viaProxy, err = database.Open(context.Background(), u.String(), nil)
	if err != nil {
		t.Fatalf("open through proxy: %v", err)
	}
	t.Cleanup(func() { database.Close(viaProxy) })
	return viaProxy, direct, proxy
}

// eventually polls cond until it holds, failing the test after timeout. Polling with a
// deadline, never a fixed sleep, keeps tests both fast and free of timing flakes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// text is the stored text of a nullable column, "" for NULL.
func text(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
