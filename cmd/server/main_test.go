package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apitemplate/server/internal/database/dbtest"
)

// startServer runs the real server (run, as main does) on a free port and returns its base
// URL. The server stops, and run must return nil, when the test ends.
func startServer(t *testing.T, env map[string]string) string {
	t.Helper()
	vars := map[string]string{
		"APP_ENV":      "production",
		"HTTP_ADDR":    "127.0.0.1:0",
		"DATABASE_URL": dbtest.SQLiteURL(t),
	}
	for k, v := range env {
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, func(k string) string { return vars[k] }, pw)
		pw.Close()
	}()
	addr := listenAddr(pr)
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v after shutdown; want nil", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("run did not return within 30s of cancel")
		}
	})
	select {
	case a := <-addr:
		return "http://" + a
	case err := <-done:
		t.Fatalf("run returned before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not log its address within 30s")
	}
	return ""
}

// listenAddr reads the server's JSON log lines from r and sends the address of its
// "listening" line. It keeps reading to the end, so the server never blocks on its log.
func listenAddr(r io.Reader) <-chan string {
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addr <- line.Addr
			}
		}
	}()
	return addr
}

func TestRunServesOverHTTP(t *testing.T) {
	base := startServer(t, nil)
	tests := []struct {
		method, path, body string
		wantStatus         int
		wantCode           string
	}{
		{"GET", "/healthz", "", 200, ""},
		{"POST", "/api/v1/users", `{"username":"alice","email":"alice@example.com"}`, 201, ""},
		{"POST", "/api/v1/users", `{"username":"alice"}`, 400, "400-001"},
		{"GET", "/api/v1/users/1", "", 200, ""},
		{"GET", "/api/v1/users/2", "", 404, "404-001"},
		{"GET", "/api/v1/bookings", "", 405, "405-001"},
		{"GET", "/api/v1/examples/panic", "", 500, "INTERNAL_SERVER_ERROR"},
		{"GET", "/healthz", "", 200, ""}, // still serving after the panic
	}
	for _, tc := range tests {
		req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		var body struct {
			Success   bool   `json:"success"`
			ErrorCode string `json:"error_code"`
			RequestID string `json:"request_id"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.wantStatus || body.ErrorCode != tc.wantCode {
			t.Errorf("%s %s = %d %q; want %d %q", tc.method, tc.path, resp.StatusCode, body.ErrorCode, tc.wantStatus, tc.wantCode)
		}
		if id := resp.Header.Get("X-Request-ID"); id == "" || (!body.Success && body.RequestID != id) {
			t.Errorf("%s %s: X-Request-ID %q, body request_id %q; want the same non-empty id", tc.method, tc.path, id, body.RequestID)
		}
	}
}

func TestBadConfigIsOneLineNotAPanic(t *testing.T) {
	tests := []struct{ key, value, want string }{
		{"BODY_LIMIT", "lots", "BODY_LIMIT"},
		{"SHUTDOWN_TIMEOUT", "-5s", "SHUTDOWN_TIMEOUT"},
		{"APP_ENV", "staging", "APP_ENV"},
		{"LOG_LEVEL", "loud", "LOG_LEVEL"},
		{"DATABASE_URL", "mysql://x", "DATABASE_URL"},
		{"HTTP_ADDR", "8080", "HTTP_ADDR"},
	}
	for _, tc := range tests {
		env := map[string]string{tc.key: tc.value}
		var out bytes.Buffer
		err := run(context.Background(), nil, func(k string) string { return env[k] }, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s=%q: run error = %v; want one line naming %s", tc.key, tc.value, err, tc.want)
		}
	}
}

// The built binary exits non-zero with the one line on stderr.
func TestBadConfigExitCode(t *testing.T) {
	cmd := exec.Command("go", "run", ".")
	cmd.Env = append(os.Environ(), "BODY_LIMIT=lots")
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() == 0 {
		t.Fatalf("exit = %v; want non-zero", err)
	}
	if !strings.Contains(string(out), "BODY_LIMIT") || strings.Contains(string(out), "panic") {
		t.Errorf("output = %q; want a line naming BODY_LIMIT and no panic", out)
	}
}

func TestErrorsDocIsCurrent(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"errors"}, func(string) string { return "" }, &out); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "errors.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), doc) {
		t.Errorf("docs/errors.md is stale; run `make errors`\n--- got\n%s\n--- want\n%s", out.Bytes(), doc)
	}
}

func TestMigrateCommand(t *testing.T) {
	env := map[string]string{"DATABASE_URL": dbtest.SQLiteURL(t)}
	for i := 0; i < 2; i++ { // the second run finds nothing to do
		var out bytes.Buffer
		if err := run(context.Background(), []string{"migrate"}, func(k string) string { return env[k] }, &out); err != nil {
			t.Fatalf("migrate run %d: %v", i+1, err)
		}
		if !strings.Contains(out.String(), "migrations applied") {
			t.Errorf("migrate output = %q; want a summary line", out.String())
		}
	}
}

// TestRenamedCopyBuilds copies the repository, renames its module with
// scripts/rename-module.sh, and builds and vets the copy.
func TestRenamedCopyBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a full copy of the repository")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	oldModule, err := exec.Command("go", "list", "-m").Output()
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	copyTree(t, root, dst)
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dst
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("bash", "scripts/rename-module.sh", "example.com/acme/orders-api")
	run("go", "build", "./...")
	run("go", "vet", "./cmd/...", "./internal/example/...")
	oldImport := `"` + strings.TrimSpace(string(oldModule)) + "/"
	out, _ := exec.Command("grep", "-rlF", "--include=*.go", oldImport, dst).Output()
	if len(out) > 0 {
		t.Errorf("files still import the old module:\n%s", out)
	}
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "data") {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		return os.WriteFile(target, data, info.Mode())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// help, -h and --help print the commands and where the settings are documented, and succeed.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"help", "-h", "--help"} {
		var out strings.Builder
		err := run(context.Background(), []string{arg}, func(string) string { return "" }, &out)
		if err != nil || !strings.Contains(out.String(), "jobs run NAME") || !strings.Contains(out.String(), "configs/production.env") {
			t.Errorf("server %s = %v, %q; want the commands and where settings are documented", arg, err, out.String())
		}
	}
	if err := run(context.Background(), []string{"nope"}, func(string) string { return "" }, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "unknown command") {
		t.Errorf("server nope = %v; want unknown command with the usage", err)
	}
}
