package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database/dbtest"
)

const day = 24 * time.Hour

// insertRequests adds one integration_requests row per time, with id "r<i>", binding the
// times as the application does: time.Time values in UTC, through the driver.
func insertRequests(t *testing.T, db *gorm.DB, times ...time.Time) {
	t.Helper()
	for i, at := range times {
		dbtest.Exec(t, db, "INSERT INTO integration_requests (id, created_at, updated_at) VALUES (?, ?, ?)",
			fmt.Sprintf("r%d", i), at.UTC(), at.UTC())
	}
}

// remaining returns the ids left in integration_requests, sorted.
func remaining(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	var ids []string
	if err := db.Raw("SELECT id FROM integration_requests").Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

func newPrune(t *testing.T, db *gorm.DB, cfg PruneConfig, tables ...Table) *Prune {
	t.Helper()
	cfg.BatchPause = -1
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	p := NewPrune(db, cfg)
	for _, tab := range tables {
		if err := p.Register(tab); err != nil {
			t.Fatalf("Register(%+v): %v", tab, err)
		}
	}
	return p
}

func TestRegister(t *testing.T) {
	p := NewPrune(dbtest.SQLite(t), PruneConfig{})
	tests := []struct {
		table Table
		want  string // "" for success, else the start of the error
	}{
		{Table{Name: "integration_requests", Retention: 90 * day}, ""},
		{Table{Name: "_audit_2", TimeColumn: "logged_at", Retention: time.Hour}, ""},
		{Table{Name: "order", Retention: time.Hour}, ""}, // reserved word: quoted in SQL
		{Table{Name: "integration_requests", Retention: day}, `jobs: prune table "integration_requests": registered twice`},
		{Table{Name: "job_runs", Retention: day}, `jobs: prune table "job_runs": registered twice`},
		{Table{Name: "Logs", Retention: day}, `jobs: prune table "Logs": name must match`},
		{Table{Name: "1logs", Retention: day}, `jobs: prune table "1logs": name must match`},
		{Table{Name: "logs; DROP TABLE users", Retention: day}, `jobs: prune table "logs; DROP TABLE users": name must match`},
		{Table{Name: `logs"`, Retention: day}, `jobs: prune table "logs\"": name must match`},
		{Table{Name: "public.logs", Retention: day}, `jobs: prune table "public.logs": name must match`},
		{Table{Name: "", Retention: day}, `jobs: prune table "": name must match`},
		{Table{Name: strings.Repeat("a", 64), Retention: day}, `jobs: prune table "aaaa`},
		{Table{Name: "logs", TimeColumn: "created-at", Retention: day}, `jobs: prune table "logs": time column "created-at" must match`},
		{Table{Name: "logs", Retention: 0}, `jobs: prune table "logs": retention 0s must be positive`},
		{Table{Name: "logs", Retention: -day}, `jobs: prune table "logs": retention -24h0m0s must be positive`},
	}
	for _, tt := range tests {
		err := p.Register(tt.table)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Register(%+v) = %v; want nil", tt.table, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("Register(%+v) = %v; want an error starting %q", tt.table, err, tt.want)
		}
	}
}

// The boundary is exact: with retention R at time now, a row stamped now-R is kept and a row
// a microsecond older is deleted. Two clocks, because on SQLite times are compared as text,
// and a whole-second time is written without a fraction ("...:00+00:00") while its
// neighbours have one ("...:00.000001+00:00", "...:59.999999+00:00").
func TestPruneBoundary(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		clocks := []time.Time{
			time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
			time.Date(2025, 6, 1, 12, 0, 0, 500_000_000, time.UTC),
		}
		for _, now := range clocks {
			dbtest.Exec(t, db, "DELETE FROM integration_requests")
			cutoff := now.Add(-90 * day)
			insertRequests(t, db,
				cutoff.Add(-30*day),               // r0: long expired
				cutoff.Add(-time.Second),          // r1
				cutoff.Add(-500*time.Millisecond), // r2
				cutoff.Add(-time.Microsecond),     // r3: the youngest deleted
				cutoff,                            // r4: exactly at the cut-off: kept
				cutoff.Add(time.Microsecond),      // r5
				cutoff.Add(500*time.Millisecond),  // r6
				cutoff.Add(time.Second),           // r7
				now,                               // r8
			)
			p := newPrune(t, db, PruneConfig{Now: func() time.Time { return now }},
				Table{Name: "integration_requests", Retention: 90 * day})
			if _, err := p.runOnce(context.Background()); err != nil {
				t.Fatalf("now %s: runOnce: %v", now.Format(time.RFC3339Nano), err)
			}
			if got, want := remaining(t, db), []string{"r4", "r5", "r6", "r7", "r8"}; !slices.Equal(got, want) {
				t.Errorf("now %s: rows left = %v; want %v", now.Format(time.RFC3339Nano), got, want)
			}
		}
	})
}

// 25 expired rows with batches of 10 go in 3 DELETEs (10, 10, 5), and fresh rows stay.
func TestPruneBatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		tests := []struct {
			expired, batchSize, wantBatches int
		}{
			{25, 10, 3},
			{20, 10, 3}, // the third comes back empty
			{9, 10, 1},
			{0, 10, 1},
			{25, 1000, 1},
		}
		for _, tt := range tests {
			dbtest.Exec(t, db, "DELETE FROM integration_requests")
			var times []time.Time
			for i := range tt.expired {
				times = append(times, now.Add(-100*day+time.Duration(i)*time.Minute))
			}
			times = append(times, now.Add(-time.Hour), now.Add(-89*day), now)
			insertRequests(t, db, times...)

			p := newPrune(t, db, PruneConfig{BatchSize: tt.batchSize, Now: func() time.Time { return now }},
				Table{Name: "integration_requests", Retention: 90 * day})
			results, err := p.runOnce(context.Background())
			if err != nil {
				t.Fatalf("runOnce: %v", err)
			}
			i := slices.IndexFunc(results, func(r pruned) bool { return r.Table == "integration_requests" })
			if got := results[i]; got.Rows != int64(tt.expired) || got.Batches != tt.wantBatches {
				t.Errorf("%d expired rows, batch size %d: pruned %d rows in %d batches; want %d in %d",
					tt.expired, tt.batchSize, got.Rows, got.Batches, tt.expired, tt.wantBatches)
			}
			if got := len(remaining(t, db)); got != 3 {
				t.Errorf("%d expired rows, batch size %d: %d rows left; want 3", tt.expired, tt.batchSize, got)
			}
		}
	})
}

// The scheduler's own tables are pruned with RunRetention, job_runs through the prune job
// itself, which records its run (and its rows) in the table it just pruned.
func TestPruneJobPrunesJobRunsAndTicks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		for i, at := range []time.Time{now.Add(-8 * day), now.Add(-7*day - time.Second), now.Add(-time.Hour)} {
			dbtest.Exec(t, db, "INSERT INTO job_runs (name, instance, started_at, finished_at, status, created_at) VALUES (?, 'old', ?, ?, 'succeeded', ?)",
				fmt.Sprintf("old-%d", i), at, at, at)
			dbtest.Exec(t, db, "INSERT INTO job_ticks (name, tick, instance, created_at) VALUES ('prune', ?, 'old', ?)", at, at)
		}
		insertRequests(t, db, now.Add(-91*day), now.Add(-90*day-time.Second), now.Add(-day))

		p := newPrune(t, db, PruneConfig{RunRetention: 7 * day, Now: func() time.Time { return now }},
			Table{Name: "integration_requests", Retention: 90 * day})
		s := newScheduler(t, db, Config{Now: func() time.Time { return now }})
		mustAdd(t, s, p.Job("@daily"))
		res, err := s.RunOnce(context.Background(), "prune")
		if err != nil || res.Status != StatusSucceeded || res.Rows != 6 {
			t.Errorf("RunOnce(prune) = %+v, %v; want succeeded with 6 rows (2 job_runs, 2 job_ticks, 2 requests)", res, err)
		}
		var names []string
		db.Raw("SELECT name FROM job_runs ORDER BY id").Scan(&names)
		if want := []string{"old-2", "prune"}; !slices.Equal(names, want) {
			t.Errorf("job_runs left = %v; want %v", names, want)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM job_ticks"); got != 1 {
			t.Errorf("job_ticks left = %d; want 1", got)
		}
		if got := runsOf(t, db, "prune"); len(got) != 1 || got[0].Rows != 6 || got[0].Status != "succeeded" {
			t.Errorf("prune's job_runs row = %+v; want succeeded with 6 rows", got)
		}
		if got := remaining(t, db); len(got) != 1 {
			t.Errorf("integration_requests left = %v; want 1 row", got)
		}
	})
}

// A table that fails (here: it does not exist) is reported, and the others are still pruned.
func TestPruneGoesOnAfterATableFails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		insertRequests(t, db, now.Add(-100*day), now)
		p := newPrune(t, db, PruneConfig{Now: func() time.Time { return now }},
			Table{Name: "no_such_table", Retention: day},
			Table{Name: "integration_requests", Retention: 90 * day})
		_, err := p.runOnce(context.Background())
		if err == nil || !strings.HasPrefix(err.Error(), "prune no_such_table: after 0 rows: ") {
			t.Errorf("runOnce = %v; want an error for no_such_table", err)
		}
		if got := remaining(t, db); !slices.Equal(got, []string{"r1"}) {
			t.Errorf("integration_requests left = %v; want [r1]", got)
		}
	})
}

// A prune cancelled between batches stops there; the next run carries on.
func TestPruneStopsWhenCancelled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		var times []time.Time
		for i := range 30 {
			times = append(times, now.Add(-100*day+time.Duration(i)*time.Second))
		}
		insertRequests(t, db, times...)
		p := NewPrune(db, PruneConfig{BatchSize: 10, BatchPause: time.Hour, Now: func() time.Time { return now },
			Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
		if err := p.Register(Table{Name: "integration_requests", Retention: 90 * day}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		watcher := make(chan struct{})
		go func() {
			defer close(watcher)
			// Cancel once the first batch is gone: the prune is then in its hour-long pause.
			for n := int64(30); n > 20 && ctx.Err() == nil; time.Sleep(time.Millisecond) {
				db.Raw("SELECT COUNT(*) FROM integration_requests").Scan(&n)
			}
			cancel()
		}()
		results, err := p.runOnce(ctx)
		<-watcher
		i := slices.IndexFunc(results, func(r pruned) bool { return r.Table == "integration_requests" })
		if err == nil || results[i].Rows != 10 || results[i].Batches != 1 {
			t.Errorf("cancelled runOnce = %+v, %v; want 10 rows in 1 batch and an error", results[i], err)
		}
		if got := len(remaining(t, db)); got != 20 {
			t.Errorf("rows left = %d; want 20", got)
		}
	})
}
