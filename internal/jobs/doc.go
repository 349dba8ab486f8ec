// Package jobs runs the server's background work on a schedule: the Scheduler wraps
// github.com/robfig/cron/v3 with what every job needs and cron does not give, so a job itself
// is only a name, a schedule and a function.
//
// For every run, scheduled or started by hand, the Scheduler
//   - gives the job a context with a timeout (Job.Timeout) that Stop cancels,
//   - never lets two runs of one job overlap in this process (a tick that finds the previous
//     run still going is skipped),
//   - recovers a panic, logs it with its stack and records a failed run, and keeps the job
//     scheduled for its next tick,
//   - logs start, end, duration, rows and error with slog, and records the run in the
//     job_runs table (status running, then succeeded or failed; or skipped with the reason
//     in the error column),
//   - for an Exclusive job on PostgreSQL, makes it run once per tick across all replicas
//     (a claim row in job_ticks) and never concurrently with itself anywhere (an advisory
//     lock held for the run). See lock.go. On SQLite, one process, neither is needed.
//
// The template's own jobs, one file each: flush.go (write the integration buffer, on every
// replica) and prune.go (delete old rows from registered log tables, once per tick).
//
// # Schedules
//
// A schedule is a standard 5-field cron expression ("30 2 * * *": minute, hour, day of
// month, month, day of week), the same with a leading seconds field ("*/10 * * * * *"), or a
// descriptor: @yearly, @monthly, @weekly, @daily (= @midnight), @hourly, or "@every 1h30m".
// They are read in the Scheduler's time zone (Config.Timezone, default UTC); a "CRON_TZ=Zone "
// prefix overrides it for one job. An invalid expression is an error from Add that names
// the job and the expression, so the server does not start with a job that would never run.
//
// Exclusive jobs should use aligned schedules (cron expressions and @daily-style
// descriptors), whose ticks are the same wall-clock instants on every replica. "@every D"
// counts from each process's start; for it the tick is taken as the run time rounded down
// to a multiple of D, which keeps "once per D across replicas" but not the run's position
// within the period.
//
// # Add a job
//
// One short file with a constructor, in the package that owns the work:
//
//	// NewExpireSessions deletes sessions past their expiry, every 15 minutes on one replica.
//	func NewExpireSessions(db *gorm.DB) jobs.Job {
//		return jobs.Job{
//			Name:      "expire-sessions",
//			Schedule:  "*/15 * * * *",
//			Timeout:   time.Minute,
//			Exclusive: true,
//			Run: func(ctx context.Context) (int64, error) {
//				res := db.WithContext(ctx).Exec("DELETE FROM sessions WHERE expires_at < ?", time.Now().UTC())
//				return res.RowsAffected, res.Error
//			},
//		}
//	}
//
// and one line where the server builds its Scheduler:
//
//	err := s.Add(sessions.NewExpireSessions(db))
//
// The job then shows in `server jobs list` and runs with `server jobs run expire-sessions`.
// example_test.go has the same recipe as a runnable Example.
//
// A log table of your own needs no job at all: register it with the prune job in one line,
//
//	err := prune.Register(jobs.Table{Name: "webhook_deliveries", Retention: 30 * 24 * time.Hour})
//
// # Starting, stopping, running by hand
//
// The server calls Start, and Stop in its shutdown sequence before the final buffer flush:
// Stop takes no new runs, cancels the context of running jobs and waits for them until its
// context ends. The jobs command uses List and RunOnce on a Scheduler built the same way but
// never started.
package jobs
