package integration

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database"
)

// requestColumns are the columns WriteBatch fills, in the order of the migration. COPY and the
// multi-row INSERT both name them explicitly, so the table's defaults never apply: fillDefaults
// supplies the same values instead.
var requestColumns = []string{
	"id", "service", "is_remote_request", "request_description", "request_id", "status",
	"method", "url", "request_headers", "data", "response_headers", "output", "error",
	"status_code", "duration_ms", "attempt", "reference_type", "reference_id", "owner",
	"data_truncated", "data_size", "output_truncated", "output_size", "created_at", "updated_at",
}

// Bound parameters per INSERT statement. PostgreSQL's wire protocol counts them in 16 bits
// (65 535); the cap stays below that so a future column never tips a full chunk over it.
//
// SQLite allows 32 766 (999 before 3.32), but its pure-Go driver finds each parameter by
// scanning the argument list, so binding costs O(n²) in parameters per statement: measured
// with 1 KiB bodies, 640-row INSERTs (16 000 parameters) store 2 600 rows/s, 10-row ones
// 27 000 rows/s, single rows 30 000. Ten rows per statement keeps that cost negligible while
// staying far from every SQLite build's limit.
const (
	postgresMaxParams = 60_000
	sqliteMaxParams   = 250
)

// BatchError is what WriteBatch returns when it did not store every row. Rows the database
// rejected for their content are listed in Rejected, and all the other rows of the batch are
// stored. When the database became unavailable, Err says why and Unstored holds the rows not
// written, in their original order, to be retried as they are.
type BatchError struct {
	Stored   int        // rows stored, including rows found already stored by an earlier attempt
	Rejected []RowError // rows the database refused; retrying them would fail again
	Unstored []*Request // rows not written because the database is unavailable
	Err      error      // why the database is unavailable; nil when rows were only rejected
}

// RowError is one row the database rejected. It names the row by id only: bodies never go
// into errors or logs.
type RowError struct {
	ID  string
	Err error
}

func (e *BatchError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("write integration requests: %d stored, %d rejected, %d not written: %v",
			e.Stored, len(e.Rejected), len(e.Unstored), e.Err)
	}
	return fmt.Sprintf("write integration requests: %d stored, %d rejected (first: %s: %v)",
		e.Stored, len(e.Rejected), e.Rejected[0].ID, e.Rejected[0].Err)
}

func (e *BatchError) Unwrap() error { return e.Err }

// WriteBatch stores rows in one round of writes: COPY on PostgreSQL, multi-row INSERTs in one
// transaction on SQLite (and on PostgreSQL when db is inside a transaction, where COPY through
// the pool would escape it). It returns nil when every row is stored, else a *BatchError.
//
// One bad row does not lose its batch: when the database rejects the batch for its content (a
// duplicate id, a NUL byte in text on PostgreSQL, invalid JSON in a header column), WriteBatch
// splits it in halves until the bad rows are isolated, and stores the rest. An unavailable
// database is never mistaken for bad rows: any error not known to be about the data (refused
// connections, timeouts, a lost connection, a missing table) stops the write and leaves the
// remaining rows in BatchError.Unstored.
//
// Writing the same rows twice is harmless: a row whose id is already stored with the same
// creation time, method and URL counts as stored. So a batch retried after an ambiguous failure
// (the connection dropped while the commit was on its way) or a spill file replayed twice does
// not duplicate rows or report them as failed.
//
// Zero ID, CreatedAt, UpdatedAt, Status and Attempt are filled in as Add does; timestamps are
// written in UTC. Other fields are written as they are.
func WriteBatch(ctx context.Context, db *gorm.DB, rows []*Request) error {
	return writeRows(ctx, db, rows).err()
}

// writeResult is WriteBatch's outcome in the form the Buffer needs.
type writeResult struct {
	stored   int
	rejected []RowError
	unstored []*Request
	cause    error // unavailability
}

func (res *writeResult) err() error {
	if res.cause == nil && len(res.rejected) == 0 {
		return nil
	}
	return &BatchError{Stored: res.stored, Rejected: res.rejected, Unstored: res.unstored, Err: res.cause}
}

func writeRows(ctx context.Context, db *gorm.DB, rows []*Request) *writeResult {
	now := time.Now()
	res := &writeResult{}
	valid := rows[:0:0]
	for _, r := range rows {
		r.materialize() // a no-op unless a Transport record reaches WriteBatch unbuilt
		fillDefaults(r, now)
		if err := checkRow(r); err != nil {
			res.rejected = append(res.rejected, RowError{ID: r.ID, Err: err})
			continue
		}
		valid = append(valid, r)
	}
	if len(valid) == 0 {
		return res
	}
	w := &rowWriter{db: db.WithContext(ctx)}
	w.isolate(ctx, valid, res)
	return res
}

// rowWriter writes one batch with the best statement for db's dialect.
type rowWriter struct {
	db *gorm.DB
}

// isolate writes rows and, when the database rejects them for their content, splits them in
// halves until each rejected row is alone. A batch of n rows with k bad ones costs about
// 2k·log2(n) writes; bad rows are rare, so this beats writing row by row.
func (w *rowWriter) isolate(ctx context.Context, rows []*Request, res *writeResult) {
	if res.cause != nil {
		res.unstored = append(res.unstored, rows...)
		return
	}
	err := w.write(ctx, rows)
	switch {
	case err == nil:
		res.stored += len(rows)
	case !isRowError(err):
		res.cause = err
		res.unstored = append(res.unstored, rows...)
	case len(rows) == 1:
		if isUniqueViolation(err) && alreadyStored(ctx, w.db, rows[0]) {
			res.stored++
			return
		}
		res.rejected = append(res.rejected, RowError{ID: rows[0].ID, Err: err})
	default:
		mid := len(rows) / 2
		w.isolate(ctx, rows[:mid], res)
		w.isolate(ctx, rows[mid:], res)
	}
}

// write stores all rows or none.
func (w *rowWriter) write(ctx context.Context, rows []*Request) error {
	if w.db.Dialector.Name() == database.Postgres {
		if pool, ok := copyPool(w.db); ok {
			err := copyRows(ctx, pool, rows)
			if !errors.Is(err, errNotPgx) {
				return err
			}
		}
	}
	return w.insertRows(ctx, rows)
}

// insertRows writes rows with INSERT statements in the dialect's parameter syntax and limits.
func (w *rowWriter) insertRows(ctx context.Context, rows []*Request) error {
	if w.db.Dialector.Name() == database.Postgres {
		return w.insert(ctx, rows, postgresMaxParams, dollarPlaceholders)
	}
	return w.insert(ctx, rows, sqliteMaxParams, questionPlaceholders)
}

// copyPool returns the connection pool to COPY through, unless db is in a transaction.
func copyPool(db *gorm.DB) (*sql.DB, bool) {
	pool := db.Statement.ConnPool
	if _, inTx := pool.(gorm.TxCommitter); inTx {
		return nil, false
	}
	sqlDB, err := db.DB()
	return sqlDB, err == nil
}

var errNotPgx = errors.New("integration: database driver is not pgx")

// copyRows runs one COPY ... FROM STDIN (binary format) on a pooled connection. COPY is one
// statement, so the rows are stored all together or not at all.
func copyRows(ctx context.Context, pool *sql.DB, rows []*Request) error {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return errNotPgx
		}
		src := &copySource{rows: rows, i: -1, values: make([]any, len(requestColumns))}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{"integration_requests"}, requestColumns, src)
		return err
	})
}

// copySource feeds rows to pgx's CopyFrom. pgx encodes each row before asking for the next,
// so one values slice is reused.
type copySource struct {
	rows   []*Request
	i      int
	values []any
}

func (s *copySource) Next() bool { s.i++; return s.i < len(s.rows) }
func (s *copySource) Err() error { return nil }

func (s *copySource) Values() ([]any, error) {
	r := s.rows[s.i]
	v := s.values
	v[0], v[1], v[2], v[3], v[4], v[5] = r.ID, r.Service, r.IsRemoteRequest, r.RequestDescription, r.RequestID, string(r.Status)
	v[6], v[7] = r.Method, r.URL
	// JSONB: pgx copies json.RawMessage bytes as they are and encodes a nil one as NULL. An
	// empty, non-nil one would be sent as "" and fail as invalid JSON, so it becomes NULL too.
	v[8], v[10] = jsonOrNil(r.RequestHeaders), jsonOrNil(r.ResponseHeaders)
	v[9], v[11], v[12] = stringOrNil(r.Data), stringOrNil(r.Output), stringOrNil(r.Error)
	v[13], v[14] = intOrNil(r.StatusCode), floatOrNil(r.DurationMS)
	v[15], v[16], v[17], v[18] = int32(r.Attempt), r.ReferenceType, r.ReferenceID, r.Owner
	v[19], v[20], v[21], v[22] = r.DataTruncated, r.DataSize, r.OutputTruncated, r.OutputSize
	v[23], v[24] = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return v, nil
}

func jsonOrNil(m []byte) any {
	if len(m) == 0 {
		return nil
	}
	return m
}

func stringOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func intOrNil(n *int) any {
	if n == nil {
		return nil
	}
	return int32(*n) // checkRow keeps it in INTEGER's range
}

func floatOrNil(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

type placeholders func(b *strings.Builder, first, n int)

func dollarPlaceholders(b *strings.Builder, first, n int) {
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(first + i))
	}
}

func questionPlaceholders(b *strings.Builder, _, n int) {
	b.WriteString(strings.Repeat(",?", n)[1:])
}

// insert writes rows with multi-row INSERTs of at most maxParams parameters each. More than
// one statement runs in a transaction (a savepoint when db is already in one), so the rows are
// stored all together or not at all; a single statement is atomic by itself and saves the
// BEGIN and COMMIT round trips.
//
// It binds plain driver values and skips gorm's statement builder, which would expand a
// json.RawMessage (a byte slice) into a list. Header JSON is bound as text, so on SQLite it is
// stored as TEXT that SQL users can read, not as a BLOB.
func (w *rowWriter) insert(ctx context.Context, rows []*Request, maxParams int, ph placeholders) error {
	perStmt := maxParams / len(requestColumns)
	if len(rows) <= perStmt {
		return insertStatement(ctx, w.db.Statement.ConnPool, rows, ph)
	}
	return w.db.Transaction(func(tx *gorm.DB) error {
		for len(rows) > 0 {
			chunk := rows[:min(perStmt, len(rows))]
			rows = rows[len(chunk):]
			if err := insertStatement(ctx, tx.Statement.ConnPool, chunk, ph); err != nil {
				return err
			}
		}
		return nil
	})
}

func insertStatement(ctx context.Context, conn gorm.ConnPool, rows []*Request, ph placeholders) error {
	cols := len(requestColumns)
	var q strings.Builder
	q.WriteString("INSERT INTO integration_requests (")
	q.WriteString(strings.Join(requestColumns, ", "))
	q.WriteString(") VALUES ")
	args := make([]any, 0, len(rows)*cols)
	for i, r := range rows {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteByte('(')
		ph(&q, len(args)+1, cols)
		q.WriteByte(')')
		args = append(args, r.ID, r.Service, r.IsRemoteRequest, r.RequestDescription,
			r.RequestID, string(r.Status), r.Method, r.URL, jsonText(r.RequestHeaders),
			stringOrNil(r.Data), jsonText(r.ResponseHeaders), stringOrNil(r.Output),
			stringOrNil(r.Error), intOrNil(r.StatusCode), floatOrNil(r.DurationMS),
			int32(r.Attempt), r.ReferenceType, r.ReferenceID, r.Owner, r.DataTruncated,
			r.DataSize, r.OutputTruncated, r.OutputSize, r.CreatedAt.UTC(), r.UpdatedAt.UTC())
	}
	_, err := conn.ExecContext(ctx, q.String(), args...)
	return err
}

func jsonText(m []byte) any {
	if len(m) == 0 {
		return nil
	}
	return string(m)
}

// fillDefaults sets what the table's column defaults would, for fields left zero: a new id,
// the creation time (now, in UTC, to the microsecond that PostgreSQL keeps), an update time
// equal to the creation time, status Queued and attempt 1. It never changes a set field.
func fillDefaults(r *Request, now time.Time) {
	if r.ID == "" {
		r.ID = NewID()
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now.UTC().Truncate(time.Microsecond)
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	if r.Status == "" {
		r.Status = StatusQueued
	}
	if r.Attempt == 0 {
		r.Attempt = 1
	}
}

// errRowRange marks a row rejected before it reaches the database.
var errRowRange = errors.New("value out of range for an INTEGER column")

// checkRow rejects rows pgx could not encode. Left to pgx, the error would not look like a
// data error and the row would be retried for ever.
func checkRow(r *Request) error {
	if r.Attempt < math.MinInt32 || r.Attempt > math.MaxInt32 {
		return fmt.Errorf("attempt %d: %w", r.Attempt, errRowRange)
	}
	if r.StatusCode != nil && (*r.StatusCode < math.MinInt32 || *r.StatusCode > math.MaxInt32) {
		return fmt.Errorf("status_code %d: %w", *r.StatusCode, errRowRange)
	}
	return nil
}

// sqliteCoder is implemented by the SQLite driver's errors (glebarez/go-sqlite). Matching the
// method, not the type, keeps this package free of a direct driver import.
type sqliteCoder interface{ Code() int }

// SQLite primary result codes that are about the row being written.
const (
	sqliteTooBig     = 18
	sqliteConstraint = 19
	sqliteMismatch   = 20
)

// isRowError reports whether err says the rows' content was refused, so that retrying the
// same rows can never succeed. Everything else, including errors it does not know, means the
// database is unavailable: retrying later is safe, and dropping rows on a misread error is not.
func isRowError(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errNotPgx) {
		return false
	}
	if errors.Is(err, errRowRange) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "22"): // data exception: bad encoding, NUL byte, invalid JSON
			return true
		case strings.HasPrefix(pgErr.Code, "23"): // integrity constraint violation: duplicate id
			return true
		case pgErr.Code == "54000": // program limit exceeded: a value too big for an index row
			return true
		}
		return false
	}
	var liteErr sqliteCoder
	if errors.As(err, &liteErr) {
		switch liteErr.Code() & 0xff { // extended result codes carry the primary one in the low byte
		case sqliteTooBig, sqliteConstraint, sqliteMismatch:
			return true
		}
	}
	return false
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var liteErr sqliteCoder
	if errors.As(err, &liteErr) {
		const primaryKey, unique = 1555, 2067 // SQLITE_CONSTRAINT_PRIMARYKEY, _UNIQUE
		return liteErr.Code() == primaryKey || liteErr.Code() == unique
	}
	return false
}

// alreadyStored reports whether the row with r's id is r itself, written by an earlier attempt.
func alreadyStored(ctx context.Context, db *gorm.DB, r *Request) bool {
	var got struct {
		CreatedAt time.Time
		Method    string
		URL       string
	}
	err := db.WithContext(ctx).Raw("SELECT created_at, method, url FROM integration_requests WHERE id = ?", r.ID).
		Scan(&got).Error
	return err == nil && got.CreatedAt.Truncate(time.Microsecond).Equal(r.CreatedAt.Truncate(time.Microsecond)) &&
		got.Method == r.Method && got.URL == r.URL
}
