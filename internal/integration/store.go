package integration

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/apitemplate/server/internal/database"
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
		r.build() // a no-op unless a Transport's record reaches WriteBatch unbuilt
		fillDefaults(r, now)
		sanitize(r)
		if err := checkRow(r); err != nil {
			res.rejected = append(res.rejected, RowError{ID: r.ID, Err: err})
			continue
		}
		valid = append(valid, r)
	}
	if len(valid) > 0 {
		isolate(ctx, db.WithContext(ctx), valid, res)
	}
	return res
}

// isolate writes rows and, when the database rejects them for their content, splits them in
// halves until each rejected row is alone. A batch of n rows with k bad ones costs about
// 2k·log2(n) writes; sanitize leaves few reasons to reject a row, so this is a last resort.
func isolate(ctx context.Context, db *gorm.DB, rows []*Request, res *writeResult) {
	if res.cause != nil {
		res.unstored = append(res.unstored, rows...)
		return
	}
	err := write(ctx, db, rows)
	switch {
	case err == nil:
		res.stored += len(rows)
	case !isRowError(err):
		res.cause = err
		res.unstored = append(res.unstored, rows...)
	case len(rows) == 1:
		if isUniqueViolation(err) && alreadyStored(ctx, db, rows[0]) {
			res.stored++
			return
		}
		res.rejected = append(res.rejected, RowError{ID: rows[0].ID, Err: err})
	default:
		mid := len(rows) / 2
		isolate(ctx, db, rows[:mid], res)
		isolate(ctx, db, rows[mid:], res)
	}
}

// write stores all rows or none: one COPY on PostgreSQL, INSERTs in one transaction
// otherwise (and inside a caller's transaction, which COPY through the pool would escape).
func write(ctx context.Context, db *gorm.DB, rows []*Request) error {
	if db.Dialector.Name() == database.Postgres {
		if pool, ok := copyPool(db); ok {
			err := copyRows(ctx, pool, rows)
			if !errors.Is(err, errNotPgx) {
				return err
			}
		}
	}
	return insertRows(db, rows)
}

// insertRows writes rows with gorm's multi-row INSERT, in a transaction when it takes more
// than one statement. Its own errors are the caller's to log, not gorm's: a rejected row
// would otherwise be logged with its values.
//
// SQLite's pure-Go driver binds parameters in time quadratic in their number per statement,
// so it gets 10 rows per INSERT; PostgreSQL allows 65 535 parameters, 1 000 rows.
func insertRows(db *gorm.DB, rows []*Request) error {
	perStmt := 1_000
	if db.Dialector.Name() != database.Postgres {
		perStmt = 10
	}
	return db.Session(&gorm.Session{Logger: logger.Discard, CreateBatchSize: perStmt}).Create(rows).Error
}

// copyPool returns the connection pool to COPY through, unless db is in a transaction.
func copyPool(db *gorm.DB) (*sql.DB, bool) {
	if _, inTx := db.Statement.ConnPool.(gorm.TxCommitter); inTx {
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
		src := &copySource{rows: rows, i: -1, values: make([]any, len(columns))}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{Request{}.TableName()}, columnNames, src)
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
	row := reflect.ValueOf(s.rows[s.i]).Elem()
	for i, c := range columns {
		// A pointer to the field: pgx reads through it, and boxing a pointer allocates
		// nothing where boxing a string would, for every text column of every row.
		v := row.FieldByIndex(c.index).Addr().Interface()
		if valuer, ok := v.(driver.Valuer); ok { // JSON: text, or NULL when empty
			var err error
			if v, err = valuer.Value(); err != nil {
				return nil, err
			}
		}
		s.values[i] = v
	}
	return s.values, nil
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
