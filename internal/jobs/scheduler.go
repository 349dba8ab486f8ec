package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database"
)

// Config configures a Scheduler. Zero values take the defaults shown.
type Config struct {
	// Timezone is the IANA zone schedules are read in (JOBS_TIMEZONE). Default "UTC".
	Timezone string
	// Instance names this process in job_runs and job_ticks. Default "HOSTNAME-PID"; the
	// host name is the pod name on Kubernetes.
	Instance string
	// Timeout bounds a run of a Job that sets none. Default 10 minutes.
	Timeout time.Duration
	// Logger receives one line when a run starts and one when it ends. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock used for ticks and job_runs times; tests replace it. Default time.Now.
	Now func() time.Time
}

// Scheduler runs Jobs on their schedules (after Start) or once on demand (RunOnce).
type Scheduler struct {
	db       *gorm.DB
	cron     *cron.Cron
	loc      *time.Location
	instance string
	timeout  time.Duration
	log      *slog.Logger
	now      func() time.Time
	postgres bool // exclusive jobs claim ticks and take locks only on PostgreSQL

	// ctx is the parent of every scheduled run and Stop cancels it. robfig/cron calls jobs as
	// func() with no context, so the Scheduler has to keep one to hand them; this is the only
	// context stored in a struct in this codebase.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	entries []*entry // in the order added
	byName  map[string]*entry
	started bool
	stopped bool
	runs    sync.WaitGroup // scheduled runs in progress; Add only under mu and while !stopped
}

// entry is a job with its parsed schedule and its in-process "running" flag.
type entry struct {
	job     Job
	sched   cron.Schedule
	running atomic.Bool
}

// Entry describes a job for `jobs list`.
type Entry struct {
	Name      string
	Schedule  string
	Next      time.Time // first activation after List's now, in the Scheduler's zone; for "@every D", now+D
	Exclusive bool
	Timeout   time.Duration // zero means none
}

// New returns a Scheduler with no jobs that records runs in db. Add jobs, then Start it, or
// call RunOnce without starting it.
func New(db *gorm.DB, cfg Config) (*Scheduler, error) {
	if db == nil {
		return nil, errors.New("jobs: nil database")
	}
	loc, err := time.LoadLocation(cmp.Or(cfg.Timezone, "UTC"))
	if err != nil {
		return nil, fmt.Errorf("jobs: time zone %q: %w", cfg.Timezone, err)
	}
	instance := cfg.Instance
	if instance == "" {
		host, _ := os.Hostname()
		instance = cmp.Or(host, "localhost") + "-" + strconv.Itoa(os.Getpid())
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{
		db: db,
		// The only wrapper is ours (cronJob); cron's default chain is empty, and its own
		// Recover/SkipIfStillRunning are deliberately not used (see cronJob).
		cron:     cron.New(cron.WithLocation(loc), cron.WithParser(parser), cron.WithLogger(cron.DiscardLogger)),
		loc:      loc,
		instance: instance,
		timeout:  cmp.Or(cfg.Timeout, 10*time.Minute),
		log:      cmp.Or(cfg.Logger, slog.Default()),
		now:      now,
		postgres: db.Dialector.Name() == database.Postgres,
		ctx:      ctx,
		cancel:   cancel,
		byName:   map[string]*entry{},
	}, nil
}

// Instance returns the name this Scheduler records in job_runs and job_ticks.
func (s *Scheduler) Instance() string { return s.instance }

// Add registers j. It fails, naming the job, if the name is invalid or taken, Run is nil, or
// the schedule does not parse, so a bad JOBS_*_SCHEDULE stops the server at start-up.
func (s *Scheduler) Add(j Job) error {
	sched, err := j.check()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return fmt.Errorf("jobs: job %q: scheduler is stopped", j.Name)
	}
	if _, ok := s.byName[j.Name]; ok {
		return fmt.Errorf("jobs: job %q: added twice", j.Name)
	}
	e := &entry{job: j, sched: sched}
	s.entries = append(s.entries, e)
	s.byName[j.Name] = e
	s.cron.Schedule(sched, s.cronJob(e))
	return nil
}

// Start begins running jobs on their schedules, in the background. It does nothing if the
// Scheduler was already started or stopped.
func (s *Scheduler) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.stopped {
		return
	}
	s.started = true
	s.cron.Start()
	s.log.Info("jobs: scheduler started", "instance", s.instance, "jobs", len(s.entries), "timezone", s.loc.String())
}

// Stop takes no new runs, cancels the context of scheduled runs in progress and waits for
// them to return. If ctx ends first it returns an error naming the jobs still running; they
// have been cancelled and finish in the background. Runs started with RunOnce use their
// caller's context and are not waited for. Stop may be called more than once.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	first, started := !s.stopped, s.started
	s.stopped = true
	s.mu.Unlock()
	if first {
		// cron.Stop returns once cron's goroutine has stopped firing. The context it returns
		// waits for runs, which are only about to be cancelled; s.runs is waited for below.
		s.cron.Stop()
		s.cancel()
	}
	done := make(chan struct{})
	go func() {
		s.runs.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		if running := s.running(); len(running) > 0 {
			return fmt.Errorf("jobs: stop: still running: %s: %w", strings.Join(running, ", "), ctx.Err())
		}
		<-done // nothing is running: the wait is over, or about to be
	}
	if first && started {
		s.log.Info("jobs: scheduler stopped", "instance", s.instance)
	}
	return nil
}

// running returns the names of the jobs with a run in progress.
func (s *Scheduler) running() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for _, e := range s.entries {
		if e.running.Load() {
			names = append(names, e.job.Name)
		}
	}
	return names
}

// List describes every job, in the order added, with its next activation after now.
func (s *Scheduler) List(now time.Time) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, Entry{
			Name:      e.job.Name,
			Schedule:  e.job.Schedule,
			Next:      e.sched.Next(now.In(s.loc)),
			Exclusive: e.job.Exclusive,
			Timeout:   s.timeoutOf(e.job),
		})
	}
	return out
}

// RunOnce runs the job called name now, with the same timeout, recovery, logging, recording
// and locking as a scheduled run, and waits for it. A run skipped because another run holds
// the job returns a Result with StatusSkipped and a nil error; a failed run returns its
// error. An unknown name returns an error wrapping ErrUnknownJob that lists the known names.
func (s *Scheduler) RunOnce(ctx context.Context, name string) (Result, error) {
	e, err := s.lookup(name)
	if err != nil {
		return Result{Job: name}, err
	}
	return s.run(ctx, e, time.Time{})
}

// runTick runs the job called name for the scheduled time tick, as cron does at that tick.
// Tests use it to drive ticks without waiting for the clock.
func (s *Scheduler) runTick(ctx context.Context, name string, tick time.Time) (Result, error) {
	e, err := s.lookup(name)
	if err != nil {
		return Result{Job: name}, err
	}
	return s.run(ctx, e, tick)
}

func (s *Scheduler) lookup(name string) (*entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byName[name]; ok {
		return e, nil
	}
	names := make([]string, 0, len(s.entries))
	for _, e := range s.entries {
		names = append(names, e.job.Name)
	}
	return nil, fmt.Errorf("jobs: %w %q; known jobs: %s", ErrUnknownJob, name, strings.Join(names, ", "))
}

// cronJob is what robfig/cron calls at each of e's ticks.
//
// It does not use cron.Recover or cron.SkipIfStillRunning, because of a trap in their
// v3.0.1 code: SkipIfStillRunning takes a token from a channel, calls the job, and puts the
// token back without a defer. If the job panics, the token is never returned, and every
// later tick is skipped: the job is silently disabled until restart. It is safe only if
// Recover sits inside it (NewChain(SkipIfStillRunning, Recover)), and one swap of the
// arguments, which reads just as well, breaks it. Here one function, run, does both with
// defers: the panic is recovered in call, and the running flag is cleared by a defer, so no
// order of wrappers exists to get wrong. TestPanicKeepsJobScheduled and TestCronChainTrap
// pin both behaviours.
func (s *Scheduler) cronJob(e *entry) cron.Job {
	return cron.FuncJob(func() {
		s.mu.Lock()
		if s.stopped {
			// cron may start a run just before Stop stops it; drop it rather than let it
			// begin after Stop has cancelled the context.
			s.mu.Unlock()
			return
		}
		s.runs.Add(1)
		s.mu.Unlock()
		defer s.runs.Done()
		// The outcome is logged and recorded by run; there is no one else to tell.
		_, _ = s.run(s.ctx, e, tickAt(e.sched, s.now().In(s.loc)))
	})
}

// timeoutOf returns the timeout of a run of j; zero means none.
func (s *Scheduler) timeoutOf(j Job) time.Duration {
	switch {
	case j.Timeout < 0:
		return 0
	case j.Timeout == 0:
		return s.timeout
	}
	return j.Timeout
}
