package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database/dbtest"
)

// newScheduler returns a Scheduler on db that logs to the test's output and is stopped when
// the test ends.
func newScheduler(t *testing.T, db *gorm.DB, cfg Config) *Scheduler {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := New(db, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}

func mustAdd(t *testing.T, s *Scheduler, j Job) {
	t.Helper()
	if err := s.Add(j); err != nil {
		t.Fatalf("Add(%q): %v", j.Name, err)
	}
}

// run is a row of job_runs as a test sees it.
type run struct {
	Name, Instance, Status, Error string
	Rows                          int64
	Finished                      bool
}

// runsOf returns the job_runs rows of job name in the order they were started.
func runsOf(t *testing.T, db *gorm.DB, name string) []run {
	t.Helper()
	var rs []run
	err := db.Raw(`SELECT name, instance, status, error, rows, finished_at IS NOT NULL AS finished
		FROM job_runs WHERE name = ? ORDER BY id`, name).Scan(&rs).Error
	if err != nil {
		t.Fatalf("read job_runs: %v", err)
	}
	return rs
}

// waitFor waits for ch to close or receive, failing the test after a generous deadline.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func nop(context.Context) (int64, error) { return 0, nil }

func TestAddRejectsBadJobs(t *testing.T) {
	s := newScheduler(t, dbtest.SQLite(t), Config{})
	mustAdd(t, s, Job{Name: "taken", Schedule: "@daily", Run: nop})
	tests := []struct {
		job  Job
		want string // prefix of the error
	}{
		{Job{Name: "prune", Schedule: "61 * * * *", Run: nop}, `jobs: job "prune": invalid schedule "61 * * * *": `},
		{Job{Name: "prune", Schedule: "@fortnightly", Run: nop}, `jobs: job "prune": invalid schedule "@fortnightly": `},
		{Job{Name: "prune", Schedule: "* * *", Run: nop}, `jobs: job "prune": invalid schedule "* * *": `},
		{Job{Name: "prune", Schedule: "", Run: nop}, `jobs: job "prune": invalid schedule "": `},
		{Job{Name: "flush", Schedule: "@every 1x", Run: nop}, `jobs: job "flush": invalid schedule "@every 1x": `},
		{Job{Name: "Prune", Schedule: "@daily", Run: nop}, `jobs: job "Prune": name must match`},
		{Job{Name: "", Schedule: "@daily", Run: nop}, `jobs: job "": name must match`},
		{Job{Name: "no-run", Schedule: "@daily"}, `jobs: job "no-run": Run is nil`},
		{Job{Name: "taken", Schedule: "@daily", Run: nop}, `jobs: job "taken": added twice`},
	}
	for _, tt := range tests {
		err := s.Add(tt.job)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Add(%q, %q) = %v; want an error starting %q", tt.job.Name, tt.job.Schedule, err, tt.want)
		}
	}
	for i, spec := range []string{"@every 1m", "@daily", "@hourly", "0 3 * * *", "*/10 * * * * *", "CRON_TZ=Europe/Paris 0 3 * * mon-fri"} {
		if err := s.Add(Job{Name: fmt.Sprintf("ok-%d", i), Schedule: spec, Run: nop}); err != nil {
			t.Errorf("Add(%q) = %v; want nil", spec, err)
		}
	}
}

func TestRunOnceRecordsRuns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newScheduler(t, db, Config{Instance: "replica-1"})
		mustAdd(t, s, Job{Name: "ok", Schedule: "@daily", Run: func(context.Context) (int64, error) { return 7, nil }})
		mustAdd(t, s, Job{Name: "bad", Schedule: "@daily", Run: func(context.Context) (int64, error) { return 3, errors.New("boom") }})
		mustAdd(t, s, Job{Name: "panics", Schedule: "@daily", Run: func(context.Context) (int64, error) { panic("oops") }})
		mustAdd(t, s, Job{Name: "slow", Schedule: "@daily", Timeout: 10 * time.Millisecond, Run: func(ctx context.Context) (int64, error) {
			<-ctx.Done()
			return 0, ctx.Err()
		}})
		tests := []struct {
			name    string
			status  Status
			rows    int64
			wantErr string // job_runs.error, and the end of RunOnce's error
		}{
			{"ok", StatusSucceeded, 7, ""},
			{"bad", StatusFailed, 3, "boom"},
			{"panics", StatusFailed, 0, "panic: oops"},
			{"slow", StatusFailed, 0, "context deadline exceeded"},
		}
		for _, tt := range tests {
			res, err := s.RunOnce(context.Background(), tt.name)
			if res.Status != tt.status || res.Rows != tt.rows {
				t.Errorf("RunOnce(%q) = %s with %d rows; want %s with %d", tt.name, res.Status, res.Rows, tt.status, tt.rows)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.HasSuffix(err.Error(), tt.wantErr)) {
				t.Errorf("RunOnce(%q) error = %v; want %q", tt.name, err, tt.wantErr)
			}
			want := run{Name: tt.name, Instance: "replica-1", Status: string(tt.status), Rows: tt.rows, Finished: true}
			if tt.wantErr != "" {
				want.Error = `jobs: job "` + tt.name + `": ` + tt.wantErr
			}
			if got := runsOf(t, db, tt.name); len(got) != 1 || got[0] != want {
				t.Errorf("job_runs for %q = %+v; want [%+v]", tt.name, got, want)
			}
		}
	})
}

func TestRunOnceUnknownJob(t *testing.T) {
	s := newScheduler(t, dbtest.SQLite(t), Config{})
	mustAdd(t, s, Job{Name: "flush", Schedule: "@every 1m", Run: nop})
	mustAdd(t, s, Job{Name: "prune", Schedule: "@daily", Run: nop})
	_, err := s.RunOnce(context.Background(), "purne")
	if want := `jobs: unknown job "purne"; known jobs: flush, prune`; err == nil || err.Error() != want {
		t.Errorf("RunOnce(purne) = %v; want %q", err, want)
	}
	if !errors.Is(err, ErrUnknownJob) {
		t.Errorf("RunOnce(purne) error %v does not wrap ErrUnknownJob", err)
	}
}

// A run that finds the previous one still going is skipped and recorded as such.
func TestOverlappingRunIsSkipped(t *testing.T) {
	db := dbtest.SQLite(t)
	s := newScheduler(t, db, Config{})
	started, release := make(chan struct{}), make(chan struct{})
	mustAdd(t, s, Job{Name: "long", Schedule: "@daily", Run: func(context.Context) (int64, error) {
		close(started)
		<-release
		return 1, nil
	}})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.RunOnce(context.Background(), "long")
	}()
	waitFor(t, started, "first run to start")
	res, err := s.runTick(context.Background(), "long", time.Now())
	if err != nil || res.Status != StatusSkipped || res.Reason != reasonStillRunning {
		t.Errorf("second run = %+v, %v; want skipped: %s", res, err, reasonStillRunning)
	}
	close(release)
	<-done
	got := runsOf(t, db, "long")
	want := []run{
		{Name: "long", Instance: s.Instance(), Status: "succeeded", Rows: 1, Finished: true},
		{Name: "long", Instance: s.Instance(), Status: "skipped", Error: reasonStillRunning, Finished: true},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("job_runs = %+v; want %+v", got, want)
	}
}

// A job that panics is recorded as failed and still runs at its next tick. The job is
// driven through the very function cron calls.
func TestPanicKeepsJobScheduled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newScheduler(t, db, Config{})
		var calls atomic.Int32
		mustAdd(t, s, Job{Name: "fragile", Schedule: "@every 1s", Run: func(context.Context) (int64, error) {
			if calls.Add(1) == 1 {
				panic("first run")
			}
			return 1, nil
		}})
		tick := s.cronJob(s.byName["fragile"])
		tick.Run()
		tick.Run()
		if got := calls.Load(); got != 2 {
			t.Fatalf("job ran %d times after a panic and a second tick; want 2", got)
		}
		got := runsOf(t, db, "fragile")
		want := []run{
			{Name: "fragile", Instance: s.Instance(), Status: "failed", Error: `jobs: job "fragile": panic: first run`, Finished: true},
			{Name: "fragile", Instance: s.Instance(), Status: "succeeded", Rows: 1, Finished: true},
		}
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("job_runs = %+v; want %+v", got, want)
		}
	})
}

// TestCronChainTrap pins the robfig/cron behaviour cronJob's comment warns about: with
// Recover outside SkipIfStillRunning, one panic disables the job for good. If this test
// fails after an upgrade, the library fixed it and the comment can say so.
func TestCronChainTrap(t *testing.T) {
	var calls int
	job := cron.FuncJob(func() {
		calls++
		if calls == 1 {
			panic("first run")
		}
	})
	quiet := cron.DiscardLogger
	wrapped := cron.NewChain(cron.Recover(quiet), cron.SkipIfStillRunning(quiet)).Then(job)
	wrapped.Run()
	wrapped.Run()
	wrapped.Run()
	if calls != 1 {
		t.Errorf("Recover(SkipIfStillRunning(job)) ran the job %d times in 3 ticks after a panic; the trap wants 1", calls)
	}
	calls = 0
	safe := cron.NewChain(cron.SkipIfStillRunning(quiet), cron.Recover(quiet)).Then(job)
	safe.Run()
	safe.Run()
	if calls != 2 {
		t.Errorf("SkipIfStillRunning(Recover(job)) ran the job %d times in 2 ticks; want 2", calls)
	}
}

// Stop cancels a running job's context, waits for the job to return, and lets no run start
// afterwards.
func TestStopCancelsAndWaits(t *testing.T) {
	db := dbtest.SQLite(t)
	s := newScheduler(t, db, Config{})
	var (
		started  = make(chan struct{})
		runs     atomic.Int32
		returned atomic.Bool
		cause    atomic.Value
	)
	mustAdd(t, s, Job{Name: "waits", Schedule: "* * * * * *", Run: func(ctx context.Context) (int64, error) {
		if runs.Add(1) == 1 {
			close(started)
		}
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // work after the cancel that Stop must wait for
		cause.Store(ctx.Err())
		returned.Store(true)
		return 0, ctx.Err()
	}})
	s.Start()
	waitFor(t, started, "the job's first scheduled run")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !returned.Load() {
		t.Fatal("Stop returned before the running job did")
	}
	if got := cause.Load(); got != context.Canceled {
		t.Errorf("job's ctx.Err() = %v; want %v", got, context.Canceled)
	}

	// cron may fire a tick just as Stop runs; such a run must not start.
	before := runs.Load()
	s.cronJob(s.byName["waits"]).Run()
	if got := runs.Load(); got != before {
		t.Errorf("a tick after Stop ran the job (%d runs, was %d)", got, before)
	}
	for _, r := range runsOf(t, db, "waits") {
		if r.Status == "failed" && r.Error != `jobs: job "waits": context canceled` || r.Status != "failed" && r.Status != "skipped" {
			t.Errorf("job_runs row %+v; want failed with context canceled (or skipped)", r)
		}
	}
}

// Stop gives up at its context's deadline and names the job that is still running.
func TestStopDeadline(t *testing.T) {
	s := newScheduler(t, dbtest.SQLite(t), Config{})
	started, release := make(chan struct{}), make(chan struct{})
	var once atomic.Bool
	mustAdd(t, s, Job{Name: "stuck", Schedule: "* * * * * *", Run: func(context.Context) (int64, error) {
		if once.CompareAndSwap(false, true) {
			close(started)
		}
		<-release // ignores its context
		return 0, nil
	}})
	t.Cleanup(func() { close(release) }) // runs before newScheduler's Stop, which then waits
	s.Start()
	waitFor(t, started, "the job's first scheduled run")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Stop(ctx)
	if want := "jobs: stop: still running: stuck: context deadline exceeded"; err == nil || err.Error() != want {
		t.Errorf("Stop = %v; want %q", err, want)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop error %v does not wrap context.DeadlineExceeded", err)
	}
}

func TestNewRejectsUnknownTimezone(t *testing.T) {
	_, err := New(dbtest.SQLite(t), Config{Timezone: "Mars/Olympus"})
	if err == nil || !strings.HasPrefix(err.Error(), `jobs: time zone "Mars/Olympus": `) {
		t.Errorf("New(Timezone: Mars/Olympus) = %v; want a time zone error", err)
	}
}

func TestListAndWriteList(t *testing.T) {
	s := newScheduler(t, dbtest.SQLite(t), Config{Timezone: "Europe/Paris", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	mustAdd(t, s, NewFlush(flusherFunc(func(context.Context) (int, error) { return 0, nil }), "@every 1m"))
	mustAdd(t, s, NewPrune(dbtest.SQLite(t), PruneConfig{}).Job("0 3 * * *"))
	mustAdd(t, s, Job{Name: "forever", Schedule: "@daily", Timeout: -1, Run: nop})

	now := time.Date(2025, 3, 30, 1, 30, 0, 0, time.UTC) // 03:30 in Paris, just after the DST jump
	paris, _ := time.LoadLocation("Europe/Paris")
	want := []Entry{
		{Name: "flush", Schedule: "@every 1m", Next: now.Add(time.Minute), Timeout: 30 * time.Second},
		{Name: "prune", Schedule: "0 3 * * *", Next: time.Date(2025, 3, 31, 3, 0, 0, 0, paris), Exclusive: true, Timeout: time.Hour},
		{Name: "forever", Schedule: "@daily", Next: time.Date(2025, 3, 31, 0, 0, 0, 0, paris)},
	}
	got := s.List(now)
	if len(got) != len(want) {
		t.Fatalf("List = %+v; want %+v", got, want)
	}
	for i := range want {
		if g, w := got[i], want[i]; g.Name != w.Name || g.Schedule != w.Schedule || !g.Next.Equal(w.Next) || g.Exclusive != w.Exclusive || g.Timeout != w.Timeout {
			t.Errorf("List()[%d] = %+v; want %+v", i, g, w)
		}
	}

	var b strings.Builder
	if err := WriteList(&b, got); err != nil {
		t.Fatal(err)
	}
	wantTable := `NAME     SCHEDULE   NEXT RUN                   EXCLUSIVE  TIMEOUT
flush    @every 1m  2025-03-30T03:31:00+02:00  no         30s
prune    0 3 * * *  2025-03-31T03:00:00+02:00  yes        1h0m0s
forever  @daily     2025-03-31T00:00:00+02:00  no         none
`
	if b.String() != wantTable {
		t.Errorf("WriteList wrote\n%s\nwant\n%s", b.String(), wantTable)
	}
}

type flusherFunc func(context.Context) (int, error)

func (f flusherFunc) Flush(ctx context.Context) (int, error) { return f(ctx) }
