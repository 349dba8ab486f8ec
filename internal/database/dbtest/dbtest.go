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
	admin, err := database.Open(ctx, AdminURL(), nil)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL is required under CI=true: %v", err)
		}
		tb.Skipf("skipping: no PostgreSQL at %s (set TEST_DATABASE_URL): %v", AdminURL(), err)
	}
	defer database.Close(admin)

	var b [6]byte
	rand.Read(b[:])
	name := "apitest_" + hex.EncodeToString(b[:])
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		admin, err := database.Open(context.Background(), AdminURL(), nil)
		if err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer database.Close(admin)
		if err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").Error; err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(AdminURL())
	if err != nil {
		tb.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
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
