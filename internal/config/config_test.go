package config_test

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apitemplate/server/internal/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	cfg, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Env != "development" || cfg.HTTPAddr != ":8080" || cfg.DatabaseURL != "sqlite:data/app.db" ||
		cfg.BodyLimit != 1<<20 || cfg.ShutdownTimeout != 25*time.Second || cfg.Jobs.FlushSchedule != "@every 1m" ||
		cfg.Integration.RetentionDays != 90 || !cfg.Jobs.Enabled {
		t.Errorf("Load(empty) = %+v; want the documented defaults", cfg)
	}
}

func TestEnvironmentOverridesFileOverridesDefaults(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.env")
	os.WriteFile(file, []byte("# comment\nAPP_ENV=production\nHTTP_ADDR=:9000\nBODY_LIMIT=\"2MiB\"\n"), 0o644)
	cfg, err := config.Load(env(map[string]string{"CONFIG_FILE": file, "HTTP_ADDR": "127.0.0.1:7000"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Env != "production" || cfg.HTTPAddr != "127.0.0.1:7000" || cfg.BodyLimit != 2<<20 {
		t.Errorf("env = %s, addr = %s, body limit = %d; want production (file), 127.0.0.1:7000 (env), 2MiB (file)", cfg.Env, cfg.HTTPAddr, cfg.BodyLimit)
	}
}

func TestShippedConfigFilesLoad(t *testing.T) {
	for _, name := range []string{"development.env", "production.env"} {
		if _, err := config.Load(env(map[string]string{"CONFIG_FILE": filepath.Join("..", "..", "configs", name)})); err != nil {
			t.Errorf("configs/%s: %v", name, err)
		}
	}
}

func TestBadValues(t *testing.T) {
	tests := []struct{ key, value string }{
		{"APP_ENV", "staging"},
		{"HTTP_ADDR", "8080"},
		{"DATABASE_URL", "mysql://db"},
		{"LOG_LEVEL", "chatty"},
		{"BODY_LIMIT", "0"},
		{"BODY_LIMIT", "1TB"},
		{"SHUTDOWN_TIMEOUT", "soon"},
		{"INTEGRATION_BUFFER_MAX_ENTRIES", "-1"},
		{"INTEGRATION_DROP_POLICY", "random"},
		{"INTEGRATION_RETENTION_DAYS", "0"},
		{"INTEGRATION_RETENTION_DAYS", "213504"}, // would overflow to 25 minutes
		{"INTEGRATION_FLUSH_THRESHOLD", "0"},
		{"HTTP_ADDR", "nonsense:xx"},
		{"JOBS_ENABLED", "maybe"},
		{"JOBS_TIMEZONE", "Mars/Olympus"},
		{"EXAMPLE_ERP_URL", "erp.local"},
	}
	for _, tc := range tests {
		_, err := config.Load(env(map[string]string{tc.key: tc.value}))
		var cerr *config.Error
		if !errors.As(err, &cerr) || cerr.Key != tc.key || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s=%q: error = %v; want one line naming %s", tc.key, tc.value, err, tc.key)
		}
	}
	file := filepath.Join(t.TempDir(), "typo.env")
	os.WriteFile(file, []byte("HTTP_ADRR=:1\n"), 0o644)
	if _, err := config.Load(env(map[string]string{"CONFIG_FILE": file})); err == nil || !strings.Contains(err.Error(), "HTTP_ADRR") {
		t.Errorf("unknown key in file: error = %v; want it named", err)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{{"1048576", 1 << 20}, {"512KiB", 512 << 10}, {"1MiB", 1 << 20}, {"1M", 1 << 20}, {"64 MiB", 64 << 20}, {"2GB", 2 << 30}}
	for _, tc := range tests {
		if got, err := config.ParseSize(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestSecretsAreMaskedInLogs(t *testing.T) {
	cfg, err := config.Load(env(map[string]string{
		"DATABASE_URL":      "postgres://app:pa55w0rd@db:5432/app?sslmode=disable",
		"EXAMPLE_ERP_URL":   "https://erp-user:erp-pa55@erp.example.com",
		"EXAMPLE_ERP_TOKEN": "t0k3n-value",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	slog.New(slog.NewJSONHandler(&out, nil)).Info("starting", "config", cfg)
	for _, secret := range []string{"pa55w0rd", "erp-pa55", "t0k3n-value"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("config log line contains %q: %s", secret, out.String())
		}
	}
	if !strings.Contains(out.String(), "db:5432") {
		t.Errorf("config log line lost the non-secret parts: %s", out.String())
	}
}

// The config line logged at start shows every setting and no secret: URL passwords and
// secret query values are redacted by the integration log's rules, tokens masked, durations
// readable.
func TestConfigLineHidesSecrets(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(func(k string) string {
		return map[string]string{
			"DATABASE_URL":      "postgres://app:Pg-S3cret@db:5432/app?sslmode=disable&password=Other-S3cret",
			"EXAMPLE_ERP_URL":   "http://u:Erp-Pw-S3cret@host/erp?api_key=Key-S3cret&page=2",
			"EXAMPLE_ERP_TOKEN": "Tok-S3cret",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	slog.New(slog.NewJSONHandler(&out, nil)).Info("starting", "config", cfg)
	line := out.String()
	for _, secret := range []string{"Pg-S3cret", "Other-S3cret", "Erp-Pw-S3cret", "Key-S3cret", "Tok-S3cret"} {
		if strings.Contains(line, secret) {
			t.Errorf("config line holds %s: %s", secret, line)
		}
	}
	for _, want := range []string{`"shutdown_timeout":"25s"`, `"integration_flush_interval":"1s"`, `"integration_buffer_max_bytes"`, `page=2`} {
		if !strings.Contains(line, want) {
			t.Errorf("config line lacks %s: %s", want, line)
		}
	}
}
