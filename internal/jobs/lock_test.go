package jobs

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database"
	"github.com/apitemplate/server/internal/database/dbtest"
)

// replicas returns n Schedulers on one new PostgreSQL database, each on its own connection
// pool and with its own instance name (replica-1, ...), as n server processes would be, and
// a further pool for the test's own queries.
func replicas(t *testing.T, n int) ([]*Scheduler, *gorm.DB) {
	t.Helper()
	url := dbtest.PostgresURL(t)
	open := func() *gorm.DB {
		db, err := database.Open(context.Background(), url, nil)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { database.Close(db) })
		return db
	}
	db := open()
	if _, err := database.Migrate(context.Background(), db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	var ss []*Scheduler
	for i := range n {
		ss = append(ss, newScheduler(t, open(), Config{Instance: fmt.Sprintf("replica-%d", i+1)}))
	}
	return ss, db
}

func count(t *testing.T, db *gorm.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Three replicas woken for the same ticks run each tick exactly once between them. Ticks
// are driven through runTick, the entry point cron uses, all three replicas at once.
func TestExclusiveRunsOncePerTick(t *testing.T) {
	ss, db := replicas(t, 3)
	var ran atomic.Int32
	for _, s := range ss {
		mustAdd(t, s, Job{Name: "exclusive", Schedule: "* * * * * *", Exclusive: true, Run: func(context.Context) (int64, error) {
			ran.Add(1)
			return 1, nil
		}})
	}
	const ticks = 20
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for k := range ticks {
		tick := base.Add(time.Duration(k) * time.Second)
		before := ran.Load()
		results := make([]Result, len(ss))
		errs := make([]error, len(ss))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, s := range ss {
			wg.Go(func() {
				<-start
				results[i], errs[i] = s.runTick(context.Background(), "exclusive", tick)
			})
		}
		close(start)
		wg.Wait()
		if got := ran.Load() - before; got != 1 {
			t.Errorf("tick %s: job ran %d times; want 1", tick.Format(time.TimeOnly), got)
		}
		var succeeded, claimed int
		for i, r := range results {
			if errs[i] != nil {
				t.Errorf("tick %s: replica-%d: %v", tick.Format(time.TimeOnly), i+1, errs[i])
			}
			switch {
			case r.Status == StatusSucceeded:
				succeeded++
			case r.Status == StatusSkipped && r.Reason == reasonTickClaimed:
				claimed++
			}
		}
		if succeeded != 1 || claimed != 2 {
			t.Errorf("tick %s: %d succeeded, %d skipped as claimed; want 1 and 2: %+v", tick.Format(time.TimeOnly), succeeded, claimed, results)
		}
	}
	if got := count(t, db, "SELECT COUNT(*) FROM job_runs WHERE name = 'exclusive' AND status = 'succeeded'"); got != ticks {
		t.Errorf("succeeded job_runs = %d; want %d", got, ticks)
	}
	if got := count(t, db, "SELECT COUNT(*) FROM job_runs WHERE name = 'exclusive' AND status <> 'succeeded'"); got != 0 {
		t.Errorf("other job_runs = %d; want 0 (a lost claim is not recorded)", got)
	}
	if got := count(t, db, "SELECT COUNT(DISTINCT tick) FROM job_ticks WHERE name = 'exclusive'"); got != ticks {
		t.Errorf("claimed ticks = %d; want %d", got, ticks)
	}
}

// The same through the real cron: three started replicas with a job every second. Every run
// needs a claimed tick, so more runs than claims would mean a tick ran twice.
func TestExclusiveOnRealCron(t *testing.T) {
	ss, db := replicas(t, 3)
	var ran atomic.Int32
	three := make(chan struct{})
	for _, s := range ss {
		mustAdd(t, s, Job{Name: "exclusive", Schedule: "* * * * * *", Exclusive: true, Run: func(context.Context) (int64, error) {
			if ran.Add(1) == 3 {
				close(three)
			}
			return 1, nil
		}})
	}
	for _, s := range ss {
		s.Start()
	}
	waitFor(t, three, "three scheduled runs")
	for _, s := range ss {
		if err := s.Stop(context.Background()); err != nil {
			t.Fatalf("Stop: %v", err)
		}
	}
	runs := int64(ran.Load())
	succeeded := count(t, db, "SELECT COUNT(*) FROM job_runs WHERE name = 'exclusive' AND status = 'succeeded'")
	claims := count(t, db, "SELECT COUNT(*) FROM job_ticks WHERE name = 'exclusive'")
	// A replica stopped between its claim and its lock leaves a claim without a run.
	if runs != succeeded || runs > claims || claims-runs > int64(len(ss)) {
		t.Errorf("runs = %d, succeeded job_runs = %d, claimed ticks = %d; want runs = succeeded <= claims <= runs+%d", runs, succeeded, claims, len(ss))
	}
}

// While one run holds the job's lock, a manual run and a scheduled tick on another replica
// are skipped (not failed), and recorded so; after it, the lock is free again.
func TestLockHeldSkipsOtherRuns(t *testing.T) {
	ss, db := replicas(t, 2)
	a, b := ss[0], ss[1]
	started, release := make(chan struct{}), make(chan struct{})
	mustAdd(t, a, Job{Name: "prune", Schedule: "@daily", Exclusive: true, Run: func(context.Context) (int64, error) {
		close(started)
		<-release
		return 5, nil
	}})
	mustAdd(t, b, Job{Name: "prune", Schedule: "@daily", Exclusive: true, Run: func(context.Context) (int64, error) { return 6, nil }})

	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := a.RunOnce(context.Background(), "prune")
		done <- outcome{res, err}
	}()
	waitFor(t, started, "replica-1's run to start")

	res, err := b.RunOnce(context.Background(), "prune")
	if err != nil || res.Status != StatusSkipped || res.Reason != reasonLockHeld {
		t.Errorf("manual run on replica-2 = %+v, %v; want skipped: %s", res, err, reasonLockHeld)
	}
	res, err = b.runTick(context.Background(), "prune", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || res.Status != StatusSkipped || res.Reason != reasonLockHeld {
		t.Errorf("scheduled run on replica-2 = %+v, %v; want skipped: %s", res, err, reasonLockHeld)
	}
	close(release)
	if o := <-done; o.err != nil || o.res.Status != StatusSucceeded || o.res.Rows != 5 {
		t.Errorf("run on replica-1 = %+v, %v; want succeeded with 5 rows", o.res, o.err)
	}
	if res, err := b.RunOnce(context.Background(), "prune"); err != nil || res.Status != StatusSucceeded {
		t.Errorf("manual run on replica-2 after replica-1's = %+v, %v; want succeeded", res, err)
	}

	got := runsOf(t, db, "prune")
	want := []run{
		{Name: "prune", Instance: "replica-1", Status: "succeeded", Rows: 5, Finished: true},
		{Name: "prune", Instance: "replica-2", Status: "skipped", Error: reasonLockHeld, Finished: true},
		{Name: "prune", Instance: "replica-2", Status: "skipped", Error: reasonLockHeld, Finished: true},
		{Name: "prune", Instance: "replica-2", Status: "succeeded", Rows: 6, Finished: true},
	}
	if len(got) != len(want) {
		t.Fatalf("job_runs = %+v; want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("job_runs[%d] = %+v; want %+v", i, got[i], want[i])
		}
	}
}

// A run that panics or is cancelled gives its lock back: the pooled connection it used does
// not keep it.
func TestLockReleasedAfterFailedRun(t *testing.T) {
	ss, _ := replicas(t, 2)
	a, b := ss[0], ss[1]
	mustAdd(t, a, Job{Name: "fragile", Schedule: "@daily", Exclusive: true, Run: func(context.Context) (int64, error) { panic("oops") }})
	mustAdd(t, a, Job{Name: "slow", Schedule: "@daily", Exclusive: true, Timeout: time.Millisecond, Run: func(ctx context.Context) (int64, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	}})
	for _, name := range []string{"fragile", "slow"} {
		mustAdd(t, b, Job{Name: name, Schedule: "@daily", Exclusive: true, Run: nop})
		for range 3 { // more runs than idle connections, so a leaked lock would be met again
			if res, _ := a.RunOnce(context.Background(), name); res.Status != StatusFailed {
				t.Fatalf("run of %s on replica-1 = %+v; want failed", name, res)
			}
		}
		if res, err := b.RunOnce(context.Background(), name); err != nil || res.Status != StatusSucceeded {
			t.Errorf("run of %s on replica-2 after replica-1's failed = %+v, %v; want succeeded", name, res, err)
		}
	}
}

// On SQLite, one process, an exclusive job claims nothing and locks nothing.
func TestExclusiveOnSQLiteNeedsNoClaim(t *testing.T) {
	db := dbtest.SQLite(t)
	s := newScheduler(t, db, Config{})
	mustAdd(t, s, Job{Name: "exclusive", Schedule: "@daily", Exclusive: true, Run: nop})
	tick := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 2 {
		if res, err := s.runTick(context.Background(), "exclusive", tick); err != nil || res.Status != StatusSucceeded {
			t.Errorf("runTick = %+v, %v; want succeeded", res, err)
		}
	}
	if got := count(t, db, "SELECT COUNT(*) FROM job_ticks"); got != 0 {
		t.Errorf("job_ticks rows = %d; want 0", got)
	}
}
