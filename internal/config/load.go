package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// setting binds one variable name to the field it sets. The table below is the full list of
// variables the server reads; configs/*.env documents each of them.
type setting struct {
	key string
	set func(c *Config, v string) error
}

var settings = []setting{
	{"APP_ENV", func(c *Config, v string) error {
		if v != Development && v != Production {
			return errors.New("must be development or production")
		}
		c.Env = v
		return nil
	}},
	{"HTTP_ADDR", func(c *Config, v string) error {
		_, port, err := net.SplitHostPort(v)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
			return errors.New("must be host:port or :port, with a numeric port")
		}
		c.HTTPAddr = v
		return nil
	}},
	{"DATABASE_URL", func(c *Config, v string) error {
		if !strings.HasPrefix(v, "sqlite:") && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
			return errors.New("must start with sqlite:, postgres:// or postgresql://")
		}
		c.DatabaseURL = v
		return nil
	}},
	{"LOG_LEVEL", func(c *Config, v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }},
	{"BODY_LIMIT", sizeSetter(func(c *Config) *int64 { return &c.BodyLimit })},
	{"SHUTDOWN_TIMEOUT", durationSetter(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},

	{"INTEGRATION_BODY_CAP", sizeSetter(func(c *Config) *int64 { return &c.Integration.BodyCap })},
	{"INTEGRATION_BUFFER_MAX_ENTRIES", intSetter(func(c *Config) *int { return &c.Integration.BufferMaxEntries })},
	{"INTEGRATION_BUFFER_MAX_BYTES", sizeSetter(func(c *Config) *int64 { return &c.Integration.BufferMaxBytes })},
	{"INTEGRATION_FLUSH_THRESHOLD", intSetter(func(c *Config) *int { return &c.Integration.FlushThreshold })},
	{"INTEGRATION_FLUSH_INTERVAL", durationSetter(func(c *Config) *time.Duration { return &c.Integration.FlushInterval })},
	{"INTEGRATION_DROP_POLICY", func(c *Config, v string) error {
		if v != "oldest" && v != "newest" {
			return errors.New("must be oldest or newest")
		}
		c.Integration.DropPolicy = v
		return nil
	}},
	{"INTEGRATION_SPILL_DIR", func(c *Config, v string) error { c.Integration.SpillDir = v; return nil }},
	{"INTEGRATION_SPILL_MAX_BYTES", sizeSetter(func(c *Config) *int64 { return &c.Integration.SpillMaxBytes })},
	{"INTEGRATION_RETENTION_DAYS", intSetter(func(c *Config) *int { return &c.Integration.RetentionDays })},

	{"JOBS_ENABLED", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		c.Jobs.Enabled = b
		return nil
	}},
	{"JOBS_TIMEZONE", func(c *Config, v string) error {
		if _, err := time.LoadLocation(v); err != nil {
			return errors.New("unknown time zone")
		}
		c.Jobs.Timezone = v
		return nil
	}},
	// Cron expressions are checked by the scheduler, which can name the job in its message.
	{"JOBS_FLUSH_SCHEDULE", func(c *Config, v string) error { c.Jobs.FlushSchedule = v; return nil }},
	{"JOBS_PRUNE_SCHEDULE", func(c *Config, v string) error { c.Jobs.PruneSchedule = v; return nil }},

	{"EXAMPLE_ERP_URL", func(c *Config, v string) error {
		if v != "" && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			return errors.New("must be an http:// or https:// URL")
		}
		c.Example.ERPURL = strings.TrimSuffix(v, "/")
		return nil
	}},
	{"EXAMPLE_ERP_TOKEN", func(c *Config, v string) error { c.Example.ERPToken = v; return nil }},
}

// Load builds the configuration from Default, then the file named by CONFIG_FILE (if set), then
// the environment as seen through getenv (os.Getenv in main, a map in tests). The first bad
// value stops it with an *Error.
func Load(getenv func(string) string) (Config, error) {
	cfg := Default()
	values := map[string]string{}
	if path := getenv("CONFIG_FILE"); path != "" {
		file, err := readEnvFile(path)
		if err != nil {
			return cfg, &Error{Key: "CONFIG_FILE", Value: path, Problem: err.Error()}
		}
		values = file
	}
	for _, s := range settings {
		if v := getenv(s.key); v != "" {
			values[s.key] = v
		}
	}
	for _, s := range settings {
		v, ok := values[s.key]
		if !ok {
			continue
		}
		if err := s.set(&cfg, v); err != nil {
			return cfg, &Error{Key: s.key, Value: v, Problem: err.Error()}
		}
	}
	for _, check := range []struct {
		key      string
		value    int
		min, max int
	}{
		// 100 years: beyond it the retention would overflow a time.Duration.
		{"INTEGRATION_RETENTION_DAYS", cfg.Integration.RetentionDays, 1, 36_500},
		{"INTEGRATION_BUFFER_MAX_ENTRIES", cfg.Integration.BufferMaxEntries, 1, 1 << 30},
		{"INTEGRATION_FLUSH_THRESHOLD", cfg.Integration.FlushThreshold, 1, 1 << 30},
	} {
		if check.value < check.min || check.value > check.max {
			return cfg, &Error{Key: check.key, Value: strconv.Itoa(check.value), Problem: fmt.Sprintf("must be between %d and %d", check.min, check.max)}
		}
	}
	return cfg, nil
}

// readEnvFile parses KEY=VALUE lines; blank lines and lines starting with # are skipped, and
// values may be wrapped in double quotes. Unknown keys are an error: a typo in a production
// config file should not be silently ignored.
func readEnvFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(settings))
	for _, s := range settings {
		known[s.key] = true
	}
	values := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok {
			return nil, fmt.Errorf("line %d: want KEY=VALUE", n)
		}
		if !known[key] {
			return nil, fmt.Errorf("line %d: unknown key %s", n, key)
		}
		values[key] = strings.Trim(strings.TrimSpace(value), `"`)
	}
	return values, sc.Err()
}

func intSetter(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errors.New("must be a whole number >= 0")
		}
		*field(c) = n
		return nil
	}
}

func durationSetter(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration such as 25s or 1m")
		}
		*field(c) = d
		return nil
	}
}

func sizeSetter(field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := ParseSize(v)
		if err != nil {
			return err
		}
		*field(c) = n
		return nil
	}
}

// ParseSize reads a byte count: a plain number, or one with a unit among B, KB/KiB, MB/MiB,
// GB/GiB (all powers of 1024, as for BODY_LIMIT in most servers). "1M" means 1MiB.
func ParseSize(v string) (int64, error) {
	s := strings.TrimSpace(v)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("must be a positive size such as 1048576, 512KiB or 1MiB")
	}
	var shift uint
	switch strings.ToUpper(strings.TrimSpace(s[i:])) {
	case "", "B":
	case "K", "KB", "KIB":
		shift = 10
	case "M", "MB", "MIB":
		shift = 20
	case "G", "GB", "GIB":
		shift = 30
	default:
		return 0, errors.New("unknown unit; use B, KiB, MiB or GiB")
	}
	if n > (1<<62)>>shift {
		return 0, errors.New("too large")
	}
	return n << shift, nil
}
