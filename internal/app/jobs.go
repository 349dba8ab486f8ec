package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/config"
	"github.com/apitemplate/server/internal/database"
	"github.com/apitemplate/server/internal/integration"
	"github.com/apitemplate/server/internal/jobs"
)

// newScheduler registers the template's jobs. The server and the `jobs` command both build
// their scheduler here, so `server jobs run NAME` runs exactly what the server schedules.
// Add a job of your own with one more s.Add line (see internal/jobs/doc.go).
//
// shared is false on a server with JOBS_ENABLED=false: the jobs that can run anywhere
// (prune) are left to another process, but flush stays, since each replica holds its own
// buffer and nothing else can write it.
func newScheduler(cfg config.Config, db *gorm.DB, flusher jobs.Flusher, log *slog.Logger, shared bool) (*jobs.Scheduler, error) {
	s, err := jobs.New(db, jobs.Config{Timezone: cfg.Jobs.Timezone, Logger: log})
	if err != nil {
		return nil, err
	}
	if err := s.Add(jobs.NewFlush(flusher, cfg.Jobs.FlushSchedule)); err != nil {
		return nil, err
	}
	if !shared {
		return s, nil
	}
	prune := jobs.NewPrune(db, jobs.PruneConfig{Logger: log})
	retention := time.Duration(cfg.Integration.RetentionDays) * 24 * time.Hour
	err = errors.Join(
		prune.Register(jobs.Table{Name: integration.Request{}.TableName(), Retention: retention}),
		s.Add(prune.Job(cfg.Jobs.PruneSchedule)),
	)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// RunJobsCommand serves `server jobs list` and `server jobs run NAME`, for operators and for
// a Kubernetes CronJob when JOBS_ENABLED=false on the replicas. A run skipped because another
// instance holds the job's lock is a success (exit 0), and says so.
func RunJobsCommand(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	return runJobsCommand(ctx, cfg, log, args, stdout, nil)
}

// runJobsCommand is RunJobsCommand with more jobs, built on the command's buffer (tests).
func runJobsCommand(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer,
	more func(*integration.Buffer) []jobs.Job) (err error) {
	if len(args) == 0 || (args[0] == "run" && len(args) != 2) || (args[0] != "run" && args[0] != "list") {
		return errors.New("usage: server jobs list | server jobs run NAME")
	}
	db, err := database.Open(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return err
	}
	defer database.Close(db)
	if _, err := database.Migrate(ctx, db); err != nil {
		return err
	}
	// The calls a job makes are recorded in this process's own buffer, which must be written
	// before the process exits: Close does that, under SHUTDOWN_TIMEOUT.
	buffer := newBuffer(cfg, db, log)
	buffer.Start()
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		err = errors.Join(err, buffer.Close(closeCtx))
	}()
	s, err := newScheduler(cfg, db, buffer, log, true)
	if err != nil {
		return err
	}
	if more != nil {
		for _, j := range more(buffer) {
			if err := s.Add(j); err != nil {
				return err
			}
		}
	}
	if args[0] == "list" {
		return jobs.WriteList(stdout, s.List(time.Now()))
	}
	res, err := s.RunOnce(ctx, args[1])
	if err != nil {
		return err
	}
	if res.Status == jobs.StatusSkipped {
		fmt.Fprintf(stdout, "job %s skipped: %s\n", res.Job, res.Reason)
		return nil
	}
	fmt.Fprintf(stdout, "job %s %s: %d rows in %s\n", res.Job, res.Status, res.Rows, res.Duration.Round(time.Millisecond))
	return nil
}
