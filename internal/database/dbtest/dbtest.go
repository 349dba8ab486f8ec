// Package dbtest gives tests a fresh, migrated database: a temporary SQLite file, or a new
// PostgreSQL database created for the test and dropped after it.
//
// PostgreSQL is found through TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres.
// When it cannot be reached the test is skipped with a message saying so, except under CI=true,
// where a missing PostgreSQL fails the test: CI must never turn green by skipping.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database"
)

// AdminURL is the PostgreSQL server used to create per-test databases.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// SQLite opens a migrated SQLite database in a temporary directory.
func SQLite(tb testing.TB) *gorm.DB {
	tb.Helper()
	return open(tb, SQLiteURL(tb))
}

// SQLiteURL returns the URL of a fresh SQLite file, not yet created.
func SQLiteURL(tb testing.TB) string {
	tb.Helper()
	return "sqlite:" + filepath.Join(tb.TempDir(), "test.db")
}

// Postgres opens a migrated, newly created PostgreSQL database that is dropped when the test ends.
func Postgres(tb testing.TB) *gorm.DB {
	tb.Helper()
	return open(tb, PostgresURL(tb))
}

// PostgresURL creates an empty PostgreSQL database for the test and returns its URL; the
// database is dropped (with any open connections) when the test ends.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url, name, err := CreateDatabase(ctx, AdminURL(), "apitest_")
	var unreachable *UnreachableError
	switch {
	case errors.As(err, &unreachable) && os.Getenv("CI") == "true":
		tb.Fatalf("PostgreSQL is required under CI=true: %v", err)
	case errors.As(err, &unreachable):
		tb.Skipf("skipping: no PostgreSQL at %s (set TEST_DATABASE_URL): %v", AdminURL(), err)
	case err != nil:
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := DropDatabase(context.Background(), AdminURL(), name); err != nil {
			tb.Error(err)
		}
	})
	return url
}

// UnreachableError is CreateDatabase's error when the PostgreSQL server does not answer.
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string { return e.Err.Error() }
func (e *UnreachableError) Unwrap() error { return e.Err }

// CreateDatabase creates an empty database named prefix and random hex on the server of
// admin, and returns its URL and name. Benchmarks, which have no testing.TB, use it too.
func CreateDatabase(ctx context.Context, admin, prefix string) (dbURL, name string, err error) {
	db, err := database.Open(ctx, admin, nil)
	if err != nil {
		return "", "", &UnreachableError{err}
	}
	defer database.Close(db)
	var b [6]byte
	rand.Read(b[:])
	name = prefix + hex.EncodeToString(b[:])
	u, err := url.Parse(admin)
	if err != nil {
		return "", "", fmt.Errorf("admin URL: %w", err)
	}
	u.Path = "/" + name
	if err := db.WithContext(ctx).Exec("CREATE DATABASE " + name).Error; err != nil {
		return "", "", fmt.Errorf("create database %s: %w", name, err)
	}
	return u.String(), name, nil
}

// DropDatabase drops the database name on the server of admin, with any connection still
// open on it.
func DropDatabase(ctx context.Context, admin, name string) error {
	db, err := database.Open(ctx, admin, nil)
	if err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	defer database.Close(db)
	if err := db.WithContext(ctx).Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").Error; err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// Each runs fn as a subtest on SQLite and on PostgreSQL, each with a fresh migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *gorm.DB)) {
	t.Helper()
	for _, dialect := range []string{database.SQLite, database.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			if dialect == database.SQLite {
				fn(t, SQLite(t))
				return
			}
			fn(t, Postgres(t))
		})
	}
}

func open(tb testing.TB, url string) *gorm.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, url, nil)
	if err != nil {
		tb.Fatalf("open %s: %v", url, err)
	}
	tb.Cleanup(func() { database.Close(db) })
	if _, err := database.Migrate(ctx, db); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return db
}

// Exec runs statement and fails the test on error; a shorthand for test set-up.
func Exec(tb testing.TB, db *gorm.DB, statement string, args ...any) {
	tb.Helper()
	if err := db.Exec(statement, args...).Error; err != nil {
		tb.Fatalf("%s: %v", statement, fmt.Sprint(err))
	}
}
