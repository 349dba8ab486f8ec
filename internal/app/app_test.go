package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mccutchen/go-httpbin/v2/httpbin"

	"github.com/apitemplate/server/internal/config"
	"github.com/apitemplate/server/internal/database"
	"github.com/apitemplate/server/internal/database/dbtest"
	"github.com/apitemplate/server/internal/integration"
	"github.com/apitemplate/server/internal/jobs"
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

// TestJobsRunRecordsItsCalls: `server jobs run NAME` runs in a process of its own, whose
// buffer is written before it exits; every call the run makes carries the run's id.
func TestJobsRunRecordsItsCalls(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(httpbin.New().Handler())
	t.Cleanup(up.Close)
	cfg := config.Default()
	cfg.DatabaseURL = dbtest.SQLiteURL(t)
	cfg.Integration.FlushInterval = time.Hour // only the command's Close can write the records
	sync := func(buf *integration.Buffer) []jobs.Job {
		client := integration.NewClient(buf, integration.Options{Service: "erp"})
		return []jobs.Job{{Name: "sync", Schedule: "@daily", Run: func(ctx context.Context) (int64, error) {
			for range 3 {
				req, _ := http.NewRequestWithContext(ctx, "GET", up.URL+"/get", nil)
				resp, err := client.Do(req)
				if err != nil {
					return 0, err
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return 3, nil
		}}}
	}
	var out strings.Builder
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := runJobsCommand(context.Background(), cfg, log, []string{"run", "sync"}, &out, sync); err != nil {
		t.Fatalf("jobs run sync: %v (%s)", err, out.String())
	}
	db, err := database.Open(context.Background(), cfg.DatabaseURL, log)
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close(db)
	var runID int64
	if err := db.Raw("SELECT id FROM job_runs WHERE name = 'sync'").Scan(&runID).Error; err != nil || runID == 0 {
		t.Fatalf("job_runs row of the run: id %d, %v", runID, err)
	}
	var ids []string
	db.Raw("SELECT request_id FROM integration_requests WHERE service = 'erp'").Scan(&ids)
	want := jobs.RunRequestID(runID)
	if len(ids) != 3 || ids[0] != want || ids[1] != want || ids[2] != want {
		t.Errorf("request ids of the run's calls = %v; want three %q", ids, want)
	}
}
