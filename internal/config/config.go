// Package config loads the server's settings: defaults written in code (Default, the one place
// they live), then an optional KEY=VALUE file (CONFIG_FILE, see configs/), then environment
// variables, each layer overriding the one before. A bad value is an error naming the key and
// the problem, so the server can exit with one readable line instead of a panic.
package config

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/apitemplate/server/internal/redact"
)

// Environment names accepted in APP_ENV.
const (
	Development = "development"
	Production  = "production"
)

// Config is everything the server reads at start. Field comments name the environment variable.
type Config struct {
	Env             string        // APP_ENV: development (tracebacks, metadata) or production
	HTTPAddr        string        // HTTP_ADDR
	DatabaseURL     string        // DATABASE_URL: sqlite:PATH (embedded) or postgres://...
	LogLevel        slog.Level    // LOG_LEVEL: debug, info, warn, error
	BodyLimit       int64         // BODY_LIMIT: bytes; accepts 1048576, 512KiB, 1MiB
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT: one deadline for the whole shutdown sequence

	Integration Integration
	Jobs        Jobs
	Example     Example
}

// Integration configures the integration request log (internal/integration).
type Integration struct {
	BodyCap          int64         // INTEGRATION_BODY_CAP: bytes of each captured body that are stored
	BufferMaxEntries int           // INTEGRATION_BUFFER_MAX_ENTRIES
	BufferMaxBytes   int64         // INTEGRATION_BUFFER_MAX_BYTES
	FlushThreshold   int           // INTEGRATION_FLUSH_THRESHOLD: pending records that trigger a flush
	FlushInterval    time.Duration // INTEGRATION_FLUSH_INTERVAL: the longest a record waits in memory
	DropPolicy       string        // INTEGRATION_DROP_POLICY: oldest or newest
	SpillDir         string        // INTEGRATION_SPILL_DIR: "" disables spilling to disk
	SpillMaxBytes    int64         // INTEGRATION_SPILL_MAX_BYTES: bound on the spill files
	RetentionDays    int           // INTEGRATION_RETENTION_DAYS
}

// Jobs configures the scheduler (internal/jobs).
type Jobs struct {
	Enabled       bool   // JOBS_ENABLED
	Timezone      string // JOBS_TIMEZONE
	FlushSchedule string // JOBS_FLUSH_SCHEDULE
	PruneSchedule string // JOBS_PRUNE_SCHEDULE
}

// Example configures the example module (internal/example).
type Example struct {
	ERPURL   string // EXAMPLE_ERP_URL: "" serves a built-in fake ERP
	ERPToken string // EXAMPLE_ERP_TOKEN
}

// Default returns the built-in configuration: a development server on :8080 backed by an
// embedded SQLite file, which is what `go run ./cmd/server` serves with no set-up.
func Default() Config {
	return Config{
		Env:             Development,
		HTTPAddr:        ":8080",
		DatabaseURL:     "sqlite:data/app.db",
		LogLevel:        slog.LevelInfo,
		BodyLimit:       1 << 20,
		ShutdownTimeout: 25 * time.Second,
		Integration: Integration{
			BodyCap:          64 << 10,
			BufferMaxEntries: 10_000,
			BufferMaxBytes:   64 << 20,
			FlushThreshold:   1_000,
			FlushInterval:    time.Second,
			DropPolicy:       "oldest",
			SpillMaxBytes:    1 << 30,
			RetentionDays:    90,
		},
		Jobs: Jobs{
			Enabled:       true,
			Timezone:      "UTC",
			FlushSchedule: "@every 1m",
			PruneSchedule: "@daily",
		},
		Example: Example{ERPToken: "example-erp-token"},
	}
}

// IsDevelopment reports whether development-only output (tracebacks, metadata) is on.
func (c Config) IsDevelopment() bool { return c.Env == Development }

// IsPostgres reports whether DatabaseURL names a PostgreSQL server.
func (c Config) IsPostgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

// LogValue masks secrets, so the config can be logged at start as it is.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("env", c.Env),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("database_url", MaskURL(c.DatabaseURL)),
		slog.String("log_level", c.LogLevel.String()),
		slog.Int64("body_limit", c.BodyLimit),
		slog.String("shutdown_timeout", c.ShutdownTimeout.String()),
		slog.Bool("jobs_enabled", c.Jobs.Enabled),
		slog.String("jobs_timezone", c.Jobs.Timezone),
		slog.String("jobs_flush_schedule", c.Jobs.FlushSchedule),
		slog.String("jobs_prune_schedule", c.Jobs.PruneSchedule),
		slog.Int("integration_retention_days", c.Integration.RetentionDays),
		slog.Int64("integration_body_cap", c.Integration.BodyCap),
		slog.Int("integration_buffer_max_entries", c.Integration.BufferMaxEntries),
		slog.Int64("integration_buffer_max_bytes", c.Integration.BufferMaxBytes),
		slog.Int("integration_flush_threshold", c.Integration.FlushThreshold),
		slog.String("integration_flush_interval", c.Integration.FlushInterval.String()),
		slog.String("integration_drop_policy", c.Integration.DropPolicy),
		slog.String("integration_spill_dir", c.Integration.SpillDir),
		slog.Int64("integration_spill_max_bytes", c.Integration.SpillMaxBytes),
		slog.String("example_erp_url", MaskURL(c.Example.ERPURL)),
		slog.String("example_erp_token", mask(c.Example.ERPToken)),
	)
}

// MaskURL redacts a URL with the integration log's rules (internal/redact): the userinfo
// password, secret query values (a libpq password=, an api_key=), URLs nested in its query.
func MaskURL(raw string) string { return redact.Standard().URL(raw, nil) }

func mask(secret string) string {
	if secret == "" {
		return ""
	}
	return "xxxxx"
}

// Error is a bad configuration value: Key names the variable, Problem what is wrong with it.
type Error struct {
	Key     string
	Value   string
	Problem string
}

func (e *Error) Error() string {
	return fmt.Sprintf("config: %s=%q: %s", e.Key, e.Value, e.Problem)
}
