package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/apitemplate/server/internal/database"
	"github.com/apitemplate/server/internal/database/dbtest"
)

func runJobs(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"jobs"}, args...), func(k string) string { return env[k] }, &out)
	return out.String(), err
}

func TestJobsCommand(t *testing.T) {
	env := map[string]string{"APP_ENV": "production", "DATABASE_URL": dbtest.SQLiteURL(t)}
	out, err := runJobs(t, env, "list")
	if err != nil || !strings.Contains(out, "flush") || !strings.Contains(out, "prune") || !strings.Contains(out, "@every 1m") {
		t.Errorf("jobs list = %q, %v; want both jobs with their schedules", out, err)
	}
	if out, err := runJobs(t, env, "run", "prune"); err != nil || !strings.Contains(out, "job prune succeeded") {
		t.Errorf("jobs run prune = %q, %v; want success", out, err)
	}
	if _, err := runJobs(t, env, "run", "nope"); err == nil || !strings.Contains(err.Error(), `unknown job "nope"`) {
		t.Errorf("jobs run nope error = %v; want unknown job", err)
	}
	bad := map[string]string{"DATABASE_URL": env["DATABASE_URL"], "JOBS_PRUNE_SCHEDULE": "61 * * * *"}
	if _, err := runJobs(t, bad, "list"); err == nil || !strings.Contains(err.Error(), `"prune"`) || !strings.Contains(err.Error(), "61 * * * *") {
		t.Errorf("invalid schedule error = %v; want it to name the job and the expression", err)
	}
}

// A manual run while another instance holds the job's lock is skipped, and still exits 0.
func TestJobsRunSkipsWhenLockIsHeld(t *testing.T) {
	url := dbtest.PostgresURL(t)
	db, err := database.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close(db)
	sqlDB, _ := db.DB()
	conn, err := sqlDB.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('jobs:prune'))"); err != nil {
		t.Fatal(err)
	}
	out, err := runJobs(t, map[string]string{"APP_ENV": "production", "DATABASE_URL": url}, "run", "prune")
	if err != nil || !strings.Contains(out, "job prune skipped") {
		t.Errorf("jobs run prune with the lock held = %q, %v; want skipped and no error", out, err)
	}
}
