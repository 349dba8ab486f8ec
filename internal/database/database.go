// Package database opens the one *gorm.DB the server shares, on the embedded SQLite file
// (default, no set-up) or on PostgreSQL, and applies the versioned schema migrations kept in
// migrations/*.sql. Feature packages receive the *gorm.DB; they never open their own.
package database

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names, as returned by gorm's Dialector.Name.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Open connects to url ("sqlite:PATH" or "postgres://...") and pings it. For SQLite the file's
// directory is created and the connection set up for one process with concurrent readers: WAL,
// a busy timeout instead of immediate SQLITE_BUSY, and foreign keys on.
func Open(ctx context.Context, url string, log *slog.Logger) (*gorm.DB, error) {
	cfg := &gorm.Config{
		Logger:                 newLogger(log),
		SkipDefaultTransaction: true, // single-statement writes need no explicit transaction
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	var (
		db  *gorm.DB
		err error
	)
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(url, "sqlite:")
		if dir := filepath.Dir(path); dir != "." && path != ":memory:" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("create sqlite directory: %w", err)
			}
		}
		db, err = gorm.Open(sqlite.Open(path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"), cfg)
		if err == nil {
			// SQLite allows one writer at a time; a single connection makes writers queue in Go
			// instead of failing with "database is locked".
			sqlDB, _ := db.DB()
			sqlDB.SetMaxOpenConns(1)
		}
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		db, err = gorm.Open(postgres.Open(url), cfg)
		if err == nil {
			sqlDB, _ := db.DB()
			sqlDB.SetMaxOpenConns(20)
			sqlDB.SetMaxIdleConns(10)
			sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		}
	default:
		return nil, fmt.Errorf("open database: unsupported url scheme in %q", url)
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return db, nil
}

// Close closes the connection pool behind db.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// newLogger routes gorm's own messages to slog at warn level: slow queries and errors,
// never every statement (that would log request bodies of the integration log).
func newLogger(log *slog.Logger) logger.Interface {
	if log == nil {
		return logger.Discard
	}
	return logger.NewSlogLogger(log, logger.Config{
		SlowThreshold:             time.Second,
		LogLevel:                  logger.Warn,
		IgnoreRecordNotFoundError: true,
		ParameterizedQueries:      true, // never put values (secrets, bodies) into log lines
	})
}
