package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database"
	"github.com/apitemplate/server/internal/jobs"
)

// NewExpireSessions is the whole of a job: in a real application, this function alone in
// sessions/expire.go. It deletes sessions past their expiry every 15 minutes, on one replica.
func NewExpireSessions(db *gorm.DB) jobs.Job {
	return jobs.Job{
		Name:      "expire-sessions",
		Schedule:  "*/15 * * * *",
		Timeout:   time.Minute,
		Exclusive: true,
		Run: func(ctx context.Context) (int64, error) {
			res := db.WithContext(ctx).Exec("DELETE FROM sessions WHERE expires_at < ?", time.Now().UTC())
			return res.RowsAffected, res.Error
		},
	}
}

// Adding a job to the server is one constructor (above) and one Add where the Scheduler is
// built. `server jobs list` and `server jobs run expire-sessions` then know it.
func Example() {
	db, done, err := exampleDB()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()
	db.Exec("CREATE TABLE sessions (id TEXT PRIMARY KEY, expires_at DATETIME NOT NULL)")
	db.Exec("INSERT INTO sessions VALUES ('old', ?), ('older', ?), ('live', ?)",
		time.Now().Add(-time.Hour).UTC(), time.Now().Add(-2*time.Hour).UTC(), time.Now().Add(time.Hour).UTC())

	s, err := jobs.New(db, jobs.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := s.Add(NewExpireSessions(db)); err != nil { // the one line
		fmt.Println(err)
		return
	}

	jobs.WriteList(os.Stdout, s.List(time.Date(2025, 1, 1, 9, 20, 0, 0, time.UTC)))
	res, err := s.RunOnce(context.Background(), "expire-sessions")
	fmt.Println(res.Status, res.Rows, err)
	// Output:
	// NAME             SCHEDULE      NEXT RUN              EXCLUSIVE  TIMEOUT
	// expire-sessions  */15 * * * *  2025-01-01T09:30:00Z  yes        1m0s
	// succeeded 2 <nil>
}

// exampleDB opens a migrated SQLite database in a temporary directory; done removes it.
func exampleDB() (db *gorm.DB, done func(), err error) {
	dir, err := os.MkdirTemp("", "jobs-example")
	if err != nil {
		return nil, nil, err
	}
	ctx := context.Background()
	db, err = database.Open(ctx, "sqlite:"+filepath.Join(dir, "app.db"), nil)
	if err == nil {
		_, err = database.Migrate(ctx, db)
	}
	done = func() {
		if db != nil {
			database.Close(db)
		}
		os.RemoveAll(dir)
	}
	if err != nil {
		done()
		return nil, nil, err
	}
	return db, done, nil
}
