package jobs

import (
	"context"
	"time"
)

// Flusher writes out what a buffer holds and reports how many records it wrote. The
// integration buffer implements it.
type Flusher interface {
	Flush(ctx context.Context) (int, error)
}

// NewFlush returns the "flush" job: f.Flush on schedule (JOBS_FLUSH_SCHEDULE, "@every 1m" by
// default), on every replica, since each replica flushes its own in-memory buffer. It is
// never exclusive. The buffer also flushes on its own when it fills; this job bounds how
// long a record waits on a quiet server. The server's final flush at shutdown is not this
// job: it runs after Scheduler.Stop.
func NewFlush(f Flusher, schedule string) Job {
	return Job{
		Name:     "flush",
		Schedule: schedule,
		Timeout:  30 * time.Second,
		Run: func(ctx context.Context) (int64, error) {
			n, err := f.Flush(ctx)
			return int64(n), err
		},
	}
}
