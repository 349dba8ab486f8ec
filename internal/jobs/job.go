package jobs

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/robfig/cron/v3"
)

// Job is one piece of scheduled work. Build it in a constructor in its own file and hand it
// to Scheduler.Add; see the package documentation for the recipe.
type Job struct {
	// Name identifies the job in logs, job_runs, the lock and `jobs run NAME`: lower-case
	// letters, digits, '-' and '_', starting with a letter.
	Name string
	// Schedule is a cron expression or descriptor (see the package documentation).
	Schedule string
	// Timeout bounds one run: its context is cancelled when it passes. Zero means the
	// Scheduler's Config.Timeout; negative means no timeout.
	Timeout time.Duration
	// Exclusive makes the job run on one replica per tick, and never concurrently with
	// itself on any replica, when the database is PostgreSQL. Leave it false for work every
	// replica must do for itself, such as flushing its own in-memory buffer.
	Exclusive bool
	// Run does the work and reports how many rows it affected. It must return soon after
	// ctx is done.
	Run func(ctx context.Context) (rows int64, err error)
}

// Status is the state of a run, as stored in job_runs.status.
type Status string

// Run statuses. A run is recorded as running when it starts and updated to succeeded or
// failed when it ends; a row left running means the process died during the run. A run
// that did not start because another run held the job is recorded as skipped.
const (
	StatusRunning   Status = "running"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusSkipped   Status = "skipped"
)

// Result is the outcome of one run.
type Result struct {
	Job      string
	Status   Status // succeeded, failed or skipped
	Rows     int64
	Reason   string // why the run was skipped
	Duration time.Duration
}

// Skip reasons.
const (
	reasonStillRunning = "previous run still running in this process"
	reasonLockHeld     = "lock held by another run"
	reasonTickClaimed  = "tick claimed by another instance"
)

// ErrUnknownJob is returned (wrapped, with the known names) for a name no job has.
var ErrUnknownJob = errors.New("unknown job")

// parser reads the standard 5-field spec, an optional leading seconds field, and descriptors.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

var jobName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// check validates j and parses its schedule.
func (j Job) check() (cron.Schedule, error) {
	if !jobName.MatchString(j.Name) {
		return nil, fmt.Errorf("jobs: job %q: name must match %s", j.Name, jobName)
	}
	if j.Run == nil {
		return nil, fmt.Errorf("jobs: job %q: Run is nil", j.Name)
	}
	sched, err := parser.Parse(j.Schedule)
	if err != nil {
		return nil, fmt.Errorf("jobs: job %q: invalid schedule %q: %w", j.Name, j.Schedule, err)
	}
	return sched, nil
}
