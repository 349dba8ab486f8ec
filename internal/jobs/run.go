package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/apitemplate/server/internal/requestid"
)

// recordTimeout bounds each write to job_runs. Records are written on a context that Stop
// does not cancel, so a run cancelled by shutdown is still recorded as failed.
const recordTimeout = 10 * time.Second

// maxErrorBytes caps job_runs.error; the full error is in the log.
const maxErrorBytes = 4 << 10

// run is the one path every run takes, scheduled (tick is the scheduled time) or manual
// (tick is zero): overlap check, claim and lock for exclusive jobs, record, call, record.
func (s *Scheduler) run(ctx context.Context, e *entry, tick time.Time) (Result, error) {
	j := e.job
	log := s.log.With("job", j.Name, "instance", s.instance)
	if tick.IsZero() {
		log = log.With("trigger", "manual")
	} else {
		log = log.With("trigger", "schedule", "tick", tick)
	}

	if !e.running.CompareAndSwap(false, true) {
		return s.skip(ctx, log, j.Name, reasonStillRunning), nil
	}
	defer e.running.Store(false)

	if j.Exclusive && s.postgres {
		if !tick.IsZero() {
			won, err := s.claimTick(ctx, j.Name, tick)
			if err != nil {
				return s.finish(ctx, log, s.newRow(j.Name), 0, 0, err)
			}
			if !won {
				// The normal case for all replicas but one, so neither recorded nor
				// logged above debug: job_ticks says who ran the tick.
				log.Debug("jobs: run skipped", "reason", reasonTickClaimed)
				return Result{Job: j.Name, Status: StatusSkipped, Reason: reasonTickClaimed}, nil
			}
		}
		unlock, ok, err := s.lock(ctx, j.Name)
		if err != nil {
			return s.finish(ctx, log, s.newRow(j.Name), 0, 0, err)
		}
		if !ok {
			return s.skip(ctx, log, j.Name, reasonLockHeld), nil
		}
		defer unlock()
	}

	r := s.newRow(j.Name)
	r.ID = s.recordStart(ctx, log, r)
	ctx = requestid.NewContext(ctx, RunRequestID(r.ID))
	log.Info("jobs: run started")
	begin := time.Now() // durations from the monotonic clock, whatever Config.Now says
	rows, err := call(ctx, j.Run, s.timeoutOf(j))
	return s.finish(ctx, log, r, time.Since(begin), rows, err)
}

// RunRequestID is the request id of everything a run does, its recorded integration calls
// included: "job-run-" and the run's id in job_runs, so a run's history leads to its calls.
// A run whose start could not be recorded (id 0) gets a random id.
func RunRequestID(runID int64) string {
	if runID == 0 {
		return requestid.New()
	}
	return fmt.Sprintf("job-run-%d", runID)
}

// call runs fn under timeout (none if zero) and turns a panic into a *panicError.
func call(ctx context.Context, fn func(context.Context) (int64, error), timeout time.Duration) (rows int64, err error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return fn(ctx)
}

// panicError is a recovered panic with the stack of the goroutine that panicked.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// Unwrap returns the panic value if it was an error.
func (e *panicError) Unwrap() error {
	err, _ := e.value.(error)
	return err
}

// finish logs and records the end of run r, which took d.
func (s *Scheduler) finish(ctx context.Context, log *slog.Logger, r runRow, d time.Duration, rows int64, err error) (Result, error) {
	res := Result{Job: r.Name, Status: StatusSucceeded, Rows: rows, Duration: d}
	attrs := []any{"rows", rows, "duration", d}
	if err != nil {
		res.Status = StatusFailed
		attrs = append(attrs, "error", err.Error())
		if p := (*panicError)(nil); errors.As(err, &p) {
			attrs = append(attrs, "stack", string(p.stack))
		}
		log.Error("jobs: run failed", attrs...)
		err = fmt.Errorf("jobs: job %q: %w", r.Name, err)
	} else {
		log.Info("jobs: run succeeded", attrs...)
	}
	r.FinishedAt, r.Status, r.Rows, r.Error = s.now(), res.Status, rows, errorText(err)
	s.recordEnd(ctx, log, r)
	return res, err
}

// skip logs and records a run that did not start.
func (s *Scheduler) skip(ctx context.Context, log *slog.Logger, name, reason string) Result {
	log.Warn("jobs: run skipped", "reason", reason)
	r := s.newRow(name)
	r.FinishedAt, r.Status, r.Error = r.StartedAt, StatusSkipped, reason
	s.recordEnd(ctx, log, r)
	return Result{Job: name, Status: StatusSkipped, Reason: reason}
}

// runRow is a row of job_runs. For a skipped run, Error holds the reason.
type runRow struct {
	ID                    int64
	Name, Instance        string
	StartedAt, FinishedAt time.Time
	Status                Status
	Rows                  int64
	Error                 string
}

// newRow returns the job_runs row of a run of job name starting now.
func (s *Scheduler) newRow(name string) runRow {
	return runRow{Name: name, Instance: s.instance, StartedAt: s.now()}
}

// recordStart inserts r as running and returns its id, or 0 if the insert failed: the run
// goes ahead (recording is for people, not for correctness) and recordEnd inserts the whole
// row instead.
func (s *Scheduler) recordStart(ctx context.Context, log *slog.Logger, r runRow) int64 {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	var id int64
	err := s.db.WithContext(ctx).Raw(
		"INSERT INTO job_runs (name, instance, started_at, status, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
		r.Name, r.Instance, r.StartedAt.UTC(), string(StatusRunning), r.StartedAt.UTC()).Scan(&id).Error
	if err != nil {
		log.Warn("jobs: record run start", "error", err)
		return 0
	}
	return id
}

// recordEnd updates row r.ID to its final state, or inserts r whole if it has no ID.
func (s *Scheduler) recordEnd(ctx context.Context, log *slog.Logger, r runRow) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	db := s.db.WithContext(ctx)
	var err error
	if r.ID != 0 {
		err = db.Exec("UPDATE job_runs SET finished_at = ?, status = ?, rows = ?, error = ? WHERE id = ?",
			r.FinishedAt.UTC(), string(r.Status), r.Rows, r.Error, r.ID).Error
	} else {
		err = db.Exec("INSERT INTO job_runs (name, instance, started_at, finished_at, status, rows, error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			r.Name, r.Instance, r.StartedAt.UTC(), r.FinishedAt.UTC(), string(r.Status), r.Rows, r.Error, r.StartedAt.UTC()).Error
	}
	if err != nil {
		log.Warn("jobs: record run end", "error", err)
	}
}

// errorText is err's message for job_runs.error: "" for nil, capped, valid UTF-8 (a cut
// through a multi-byte character would make PostgreSQL reject the row).
func errorText(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if len(msg) > maxErrorBytes {
		msg = strings.ToValidUTF8(msg[:maxErrorBytes], "")
	}
	return msg
}
