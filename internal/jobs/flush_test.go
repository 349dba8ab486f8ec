package jobs

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database/dbtest"
)

func TestFlushJob(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		tests := []struct {
			flushed int
			err     error
			status  Status
		}{
			{4, nil, StatusSucceeded},
			{0, nil, StatusSucceeded},
			{2, errors.New("database is down"), StatusFailed},
		}
		for _, tt := range tests {
			s := newScheduler(t, db, Config{})
			var deadline bool
			mustAdd(t, s, NewFlush(flusherFunc(func(ctx context.Context) (int, error) {
				_, deadline = ctx.Deadline()
				return tt.flushed, tt.err
			}), "@every 1m"))
			res, err := s.RunOnce(context.Background(), "flush")
			if res.Status != tt.status || res.Rows != int64(tt.flushed) || !errors.Is(err, tt.err) {
				t.Errorf("flush of %d rows, %v = %+v, %v; want %s with %d rows", tt.flushed, tt.err, res, err, tt.status, tt.flushed)
			}
			if !deadline {
				t.Errorf("flush ran without a deadline")
			}
		}
	})
}

// Every replica flushes its own buffer, so flush is never claimed or locked.
func TestFlushRunsOnEveryReplica(t *testing.T) {
	ss, db := replicas(t, 3)
	for _, s := range ss {
		mustAdd(t, s, NewFlush(flusherFunc(func(context.Context) (int, error) { return 1, nil }), "@every 1m"))
	}
	tick := time.Date(2030, 1, 1, 0, 1, 0, 0, time.UTC)
	for _, s := range ss {
		if res, err := s.runTick(context.Background(), "flush", tick); err != nil || res.Status != StatusSucceeded {
			t.Errorf("%s: flush at %s = %+v, %v; want succeeded", s.Instance(), tick, res, err)
		}
	}
	if got := count(t, db, "SELECT COUNT(*) FROM job_runs WHERE name = 'flush' AND status = 'succeeded'"); got != 3 {
		t.Errorf("succeeded flush runs = %d; want 3", got)
	}
	if got := count(t, db, "SELECT COUNT(*) FROM job_ticks"); got != 0 {
		t.Errorf("job_ticks rows = %d; want 0", got)
	}
}
