package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database"
	"github.com/apitemplate/server/internal/database/dbtest"
	"github.com/apitemplate/server/internal/redact"
)

// adminURL is the PostgreSQL server on which the benchmark creates its own database:
// BENCH_DATABASE_URL, else the local one. Like internal/database/dbtest, it names a database
// to connect to for CREATE DATABASE (postgres), not the one measured.
func adminURL() string {
	if u := os.Getenv("BENCH_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// errSkip is a missing PostgreSQL outside CI: the run prints why and passes.
type errSkip struct{ reason string }

func (e errSkip) Error() string { return e.reason }

// tempDB is a database created for one run, migrated, and dropped by drop.
type tempDB struct {
	db   *gorm.DB
	name string
}

// createDB creates bench_<random> on adminURL and migrates it with the template's own
// migrations, so the Buffer writes to the table it writes to in production.
//
// Under CI=true a PostgreSQL that cannot be reached is an error: CI must never turn green by
// skipping.
func createDB(ctx context.Context) (*tempDB, error) {
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dbURL, name, err := dbtest.CreateDatabase(octx, adminURL(), "bench_")
	var unreachable *dbtest.UnreachableError
	switch {
	case errors.As(err, &unreachable) && os.Getenv("CI") == "true":
		return nil, fmt.Errorf("PostgreSQL is required under CI=true: %w", err)
	case errors.As(err, &unreachable):
		return nil, errSkip{fmt.Sprintf("no PostgreSQL at %s (set BENCH_DATABASE_URL): %v", redact.Standard().URL(adminURL(), nil), err)}
	case err != nil:
		return nil, err
	}
	t := &tempDB{name: name}
	if t.db, err = database.Open(octx, dbURL, nil); err != nil {
		t.drop()
		return nil, err
	}
	if _, err := database.Migrate(ctx, t.db); err != nil {
		t.drop()
		return nil, fmt.Errorf("migrate %s: %w", name, err)
	}
	return t, nil
}

// drop closes the pool and drops the database. It uses a context of its own: it also runs
// after Ctrl-C has cancelled the run's.
func (t *tempDB) drop() error {
	if t.db != nil {
		database.Close(t.db)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return dbtest.DropDatabase(ctx, adminURL(), t.name)
}
