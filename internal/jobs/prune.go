package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database"
)

// Table is a log table the prune job keeps short: rows whose TimeColumn is older than
// Retention are deleted. It is the Go form of a line in Frappe's Log Settings.
type Table struct {
	Name       string        // table name, [a-z_][a-z0-9_]*
	TimeColumn string        // default "created_at"; it must be indexed, as batches walk it
	Retention  time.Duration // rows older than this are deleted
}

// PruneConfig configures the prune job. Zero values take the defaults shown.
type PruneConfig struct {
	// BatchSize is the most rows one DELETE removes. Default 10 000.
	BatchSize int
	// BatchTimeout bounds each DELETE. Default 30 seconds.
	BatchTimeout time.Duration
	// BatchPause is the rest between two batches of a table, which leaves the disk and the
	// WAL to the application's own writes. Default 100ms; negative means none (tests).
	BatchPause time.Duration
	// RunRetention is how long job_runs and job_ticks rows are kept. Default 30 days.
	RunRetention time.Duration
	// Timeout bounds one whole prune run; a run cut short resumes at the next tick.
	// Default 1 hour.
	Timeout time.Duration
	// Logger receives one line per table pruned. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock cut-offs are computed from; tests replace it. Default time.Now.
	Now func() time.Time
}

// Prune deletes old rows from the log tables registered with it: job_runs and job_ticks
// from the start, and whatever the application adds with Register.
//
// A table is never pruned with one big DELETE, which would hold its locks and bloat the WAL
// for as long as it ran. Rows go in batches of BatchSize, oldest first along the time
// column's index, each batch one DELETE in its own short transaction with its own timeout,
// with BatchPause between batches, until a batch comes back short.
//
// The boundary: the cut-off is Now() - Retention, truncated to the microsecond (PostgreSQL's
// resolution, so both databases agree). Rows strictly older than the cut-off are deleted; a
// row stamped exactly at the cut-off is kept.
type Prune struct {
	db           *gorm.DB
	batchSize    int
	batchTimeout time.Duration
	batchPause   time.Duration
	timeout      time.Duration
	log          *slog.Logger
	now          func() time.Time

	mu     sync.Mutex
	tables []Table
}

// NewPrune returns a Prune for db with job_runs and job_ticks registered.
func NewPrune(db *gorm.DB, cfg PruneConfig) *Prune {
	p := &Prune{
		db:           db,
		batchSize:    cmp.Or(cfg.BatchSize, 10_000),
		batchTimeout: cmp.Or(cfg.BatchTimeout, 30*time.Second),
		batchPause:   max(cmp.Or(cfg.BatchPause, 100*time.Millisecond), 0),
		timeout:      cmp.Or(cfg.Timeout, time.Hour),
		log:          cmp.Or(cfg.Logger, slog.Default()),
		now:          cfg.Now,
	}
	if p.now == nil {
		p.now = time.Now
	}
	keep := cmp.Or(cfg.RunRetention, 30*24*time.Hour)
	// Valid by construction; the errors cannot happen.
	_ = p.Register(Table{Name: "job_runs", Retention: keep})
	_ = p.Register(Table{Name: "job_ticks", Retention: keep})
	return p
}

// identifier is what Register accepts for table and column names, which go into SQL as
// they are (quoted, so a reserved word such as "order" still works).
var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Register adds t to the tables pruned. It fails if a name is not a plain lower-case
// identifier, the retention is not positive, or the table is already registered.
func (p *Prune) Register(t Table) error {
	t.TimeColumn = cmp.Or(t.TimeColumn, "created_at")
	if !identifier.MatchString(t.Name) {
		return fmt.Errorf("jobs: prune table %q: name must match %s", t.Name, identifier)
	}
	if !identifier.MatchString(t.TimeColumn) {
		return fmt.Errorf("jobs: prune table %q: time column %q must match %s", t.Name, t.TimeColumn, identifier)
	}
	if t.Retention <= 0 {
		return fmt.Errorf("jobs: prune table %q: retention %v must be positive", t.Name, t.Retention)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, have := range p.tables {
		if have.Name == t.Name {
			return fmt.Errorf("jobs: prune table %q: registered twice", t.Name)
		}
	}
	p.tables = append(p.tables, t)
	return nil
}

// Job returns the "prune" job on schedule (JOBS_PRUNE_SCHEDULE, "@daily" by default). It is
// exclusive: on PostgreSQL one replica prunes per tick.
func (p *Prune) Job(schedule string) Job {
	return Job{
		Name:      "prune",
		Schedule:  schedule,
		Timeout:   p.timeout,
		Exclusive: true,
		Run: func(ctx context.Context) (int64, error) {
			var rows int64
			results, err := p.runOnce(ctx)
			for _, r := range results {
				rows += r.Rows
			}
			return rows, err
		},
	}
}

// pruned is what one run did to one table.
type pruned struct {
	Table   string
	Cutoff  time.Time
	Rows    int64
	Batches int // DELETE statements run, the last one short
}

// runOnce prunes every registered table once. A table that fails does not stop the others;
// the errors are joined.
func (p *Prune) runOnce(ctx context.Context) ([]pruned, error) {
	p.mu.Lock()
	tables := append([]Table(nil), p.tables...)
	p.mu.Unlock()

	var (
		results []pruned
		errs    []error
	)
	for _, t := range tables {
		r, err := p.pruneTable(ctx, t)
		results = append(results, r)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return results, errors.Join(errs...)
}

func (p *Prune) pruneTable(ctx context.Context, t Table) (pruned, error) {
	start := time.Now()
	// Bound as a UTC time.Time, never a formatted string: on SQLite the driver writes it in
	// the same text form as the stored rows ("2006-01-02 15:04:05.999999999-07:00", always
	// +00:00), whose byte order is time order. A time in another zone would be written with
	// its own offset and compare wrongly as text.
	r := pruned{Table: t.Name, Cutoff: p.now().Add(-t.Retention).UTC().Truncate(time.Microsecond)}
	query := p.deleteBatch(t)
	log := p.log.With("table", t.Name, "cutoff", r.Cutoff)
	for {
		n, err := p.exec(ctx, query, r.Cutoff)
		if err != nil {
			log.Error("jobs: prune table", "rows", r.Rows, "batches", r.Batches, "duration", time.Since(start), "error", err)
			return r, fmt.Errorf("prune %s: after %d rows: %w", t.Name, r.Rows, err)
		}
		r.Rows += n
		r.Batches++
		if n < int64(p.batchSize) {
			break
		}
		if err := sleep(ctx, p.batchPause); err != nil {
			log.Error("jobs: prune table", "rows", r.Rows, "batches", r.Batches, "duration", time.Since(start), "error", err)
			return r, fmt.Errorf("prune %s: after %d rows: %w", t.Name, r.Rows, err)
		}
	}
	log.Info("jobs: pruned table", "rows", r.Rows, "batches", r.Batches, "duration", time.Since(start))
	return r, nil
}

// exec runs one batch under its own timeout and returns the rows it deleted.
func (p *Prune) exec(ctx context.Context, query string, cutoff time.Time) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, p.batchTimeout)
	defer cancel()
	res := p.db.WithContext(ctx).Exec(query, cutoff, p.batchSize)
	return res.RowsAffected, res.Error
}

// deleteBatch returns the DELETE of one batch of t, taking the cut-off and the batch size.
// Rows are picked oldest first through the time column's index and deleted by physical
// address: ctid on PostgreSQL, rowid on SQLite, so any table works, whatever its key.
// %q quotes the names correctly for SQL only because Register let through no quote or
// backslash.
func (p *Prune) deleteBatch(t Table) string {
	if p.db.Dialector.Name() == database.Postgres {
		// "ctid = ANY(ARRAY(subquery))" always plans as a TID scan of the batch's rows;
		// "ctid IN (subquery)" is a join the planner may turn into a scan of the table.
		return fmt.Sprintf(`DELETE FROM %[1]q WHERE ctid = ANY(ARRAY(SELECT ctid FROM %[1]q WHERE %[2]q < ? ORDER BY %[2]q LIMIT ?))`, t.Name, t.TimeColumn)
	}
	// Not for WITHOUT ROWID tables, which have no rowid.
	return fmt.Sprintf(`DELETE FROM %[1]q WHERE rowid IN (SELECT rowid FROM %[1]q WHERE %[2]q < ? ORDER BY %[2]q LIMIT ?)`, t.Name, t.TimeColumn)
}

// sleep waits for d, or returns ctx's error if it ends first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
