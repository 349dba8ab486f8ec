package app

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/apitemplate/server/internal/config"
	"github.com/apitemplate/server/internal/database/dbtest"
)

func jobNames(t *testing.T, jobsEnabled bool) []string {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = dbtest.SQLiteURL(t)
	cfg.Jobs.Enabled = jobsEnabled
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var names []string
	for _, e := range a.jobs.List(time.Now()) {
		names = append(names, e.Name)
	}
	slices.Sort(names)
	return names
}

// JOBS_ENABLED=false hands the shared jobs to another process, but flush stays: each
// replica's buffer can only be written by that replica.
func TestJobsEnabledKeepsFlush(t *testing.T) {
	if got := jobNames(t, true); !slices.Equal(got, []string{"flush", "prune"}) {
		t.Errorf("jobs with JOBS_ENABLED=true = %v; want [flush prune]", got)
	}
	if got := jobNames(t, false); !slices.Equal(got, []string{"flush"}) {
		t.Errorf("jobs with JOBS_ENABLED=false = %v; want [flush]", got)
	}
}
