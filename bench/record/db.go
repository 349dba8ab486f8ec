package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"time"

	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database"
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
	admin, err := database.Open(octx, adminURL(), nil)
	if err != nil {
		if os.Getenv("CI") == "true" {
			return nil, fmt.Errorf("PostgreSQL is required under CI=true: %w", err)
		}
		return nil, errSkip{fmt.Sprintf("no PostgreSQL at %s (set BENCH_DATABASE_URL): %v", redactURL(adminURL()), err)}
	}
	defer database.Close(admin)

	var b [6]byte
	rand.Read(b[:])
	name := "bench_" + hex.EncodeToString(b[:])
	if err := admin.WithContext(octx).Exec("CREATE DATABASE " + name).Error; err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	t := &tempDB{name: name}
	u, err := url.Parse(adminURL())
	if err != nil {
		t.drop()
		return nil, fmt.Errorf("BENCH_DATABASE_URL: %w", err)
	}
	u.Path = "/" + name
	if t.db, err = database.Open(octx, u.String(), nil); err != nil {
		t.drop()
		return nil, err
	}
	if _, err := database.Migrate(ctx, t.db); err != nil {
		t.drop()
		return nil, fmt.Errorf("migrate %s: %w", name, err)
	}
	return t, nil
}

// drop closes the pool and drops the database, with any connection still open on it. It uses
// a context of its own: it also runs after Ctrl-C has cancelled the run's.
func (t *tempDB) drop() error {
	if t.db != nil {
		database.Close(t.db)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := database.Open(ctx, adminURL(), nil)
	if err != nil {
		return fmt.Errorf("drop database %s: %w", t.name, err)
	}
	defer database.Close(admin)
	if err := admin.WithContext(ctx).Exec("DROP DATABASE IF EXISTS " + t.name + " WITH (FORCE)").Error; err != nil {
		return fmt.Errorf("drop database %s: %w", t.name, err)
	}
	return nil
}

// redactURL hides a password in a database URL before it is printed.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
