package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apitemplate/server/internal/database"
	"github.com/apitemplate/server/internal/database/dbtest"
)

// TestSIGTERMStoresPendingRecords makes the server record ERP calls that stay in the buffer
// (no flush threshold reached, no flush job yet), sends SIGTERM, and checks that the process
// exits 0 with every record in the database.
func TestSIGTERMStoresPendingRecords(t *testing.T) {
	bin := buildServer(t)
	for _, dialect := range []string{database.SQLite, database.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			url := dbtest.SQLiteURL(t)
			if dialect == database.Postgres {
				url = dbtest.PostgresURL(t)
			}
			const calls = 25
			cmd, base := startBinary(t, bin, "DATABASE_URL="+url, "INTEGRATION_FLUSH_THRESHOLD=100000",
				"INTEGRATION_FLUSH_INTERVAL=1h", "JOBS_FLUSH_SCHEDULE=@every 1h")
			for i := 0; i < calls; i++ {
				if code := postOrder(t, base, fmt.Sprintf(`{"order_id":"T-%d","items":[{"sku":"X"}]}`, i)); code != 201 {
					t.Fatalf("POST /api/v1/orders = %d; want 201", code)
				}
			}
			if n := countRecords(t, url, "1=1"); n != 0 {
				t.Fatalf("records stored before SIGTERM = %d; want 0 (they should still be buffered)", n)
			}
			stopBinary(t, cmd)
			if n := countRecords(t, url, "service = 'erp' AND reference_type = 'Order'"); n != calls {
				t.Errorf("records stored after SIGTERM = %d; want %d", n, calls)
			}
		})
	}
}

// TestSIGKILLLosesAtMostTheFlushInterval: calls recorded at a steady rate, then SIGKILL. The
// calls whose records are missing must all have completed within the last flush interval
// (1 s, the default) before the kill, plus the time a write takes; the test logs how many
// calls that is and how many seconds of traffic.
func TestSIGKILLLosesAtMostTheFlushInterval(t *testing.T) {
	bin := buildServer(t)
	url := dbtest.PostgresURL(t)
	cmd, base := startBinary(t, bin, "DATABASE_URL="+url)
	type call struct {
		id   string
		done time.Time
	}
	var calls []call
	tick := time.NewTicker(5 * time.Millisecond) // up to 200 calls/s
	defer tick.Stop()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); <-tick.C {
		id := fmt.Sprintf("K-%d", len(calls))
		if code := postOrder(t, base, `{"order_id":"`+id+`","items":[1]}`); code != 201 {
			t.Fatalf("POST /api/v1/orders = %d; want 201", code)
		}
		calls = append(calls, call{id, time.Now()})
	}
	killed := time.Now()
	cmd.Process.Kill()
	cmd.Wait()

	db, err := database.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close(db)
	var ids []string
	db.Raw("SELECT reference_id FROM integration_requests WHERE reference_type = 'Order'").Scan(&ids)
	stored := make(map[string]bool, len(ids))
	for _, id := range ids {
		stored[id] = true
	}
	var missing []call
	for _, c := range calls {
		if !stored[c.id] {
			missing = append(missing, c)
		}
	}
	lost := time.Duration(0)
	if len(missing) > 0 {
		lost = killed.Sub(missing[0].done)
	}
	t.Logf("%d calls in %.1f s, %d missing after SIGKILL: the last %.2f s of traffic",
		len(calls), killed.Sub(calls[0].done).Seconds(), len(missing), lost.Seconds())
	// One flush interval, plus a second for the write in flight and a slow machine.
	if lost > 2*time.Second {
		t.Errorf("a call completed %.2f s before SIGKILL is missing; want at most one flush interval (1 s) of traffic lost", lost.Seconds())
	}
	if len(missing) == len(calls) {
		t.Error("nothing was stored before SIGKILL")
	}
}

// TestSlowRequestAtShutdownKeepsTheRecords: a request stuck on a slow ERP when SIGTERM comes
// must not eat the time the final flush needs. Its connection is closed at the drain deadline,
// its ERP call is cancelled and recorded, and every record is stored.
func TestSlowRequestAtShutdownKeepsTheRecords(t *testing.T) {
	bin := buildServer(t)
	slowArrived := make(chan struct{})
	erp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "slow") {
			close(slowArrived)
			select {
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
			return
		}
		w.WriteHeader(201)
		io.WriteString(w, `{"status":"accepted"}`)
	}))
	defer erp.Close()

	url := dbtest.SQLiteURL(t)
	cmd, base := startBinary(t, bin, "DATABASE_URL="+url, "EXAMPLE_ERP_URL="+erp.URL, "SHUTDOWN_TIMEOUT=3s")
	for i := 0; i < 3; i++ {
		postOrder(t, base, fmt.Sprintf(`{"order_id":"F-%d","items":[1]}`, i))
	}
	go http.Post(base+"/api/v1/orders", "application/json", strings.NewReader(`{"order_id":"S-1","items":["slow"]}`))
	<-slowArrived

	start := time.Now()
	stopBinary(t, cmd)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("shutdown took %s; want about SHUTDOWN_TIMEOUT (3s)", took)
	}
	completed := countRecords(t, url, "status = 'Completed'")
	failed := countRecords(t, url, "status = 'Failed' AND reference_id = 'S-1'")
	if completed != 3 || failed != 1 {
		t.Errorf("stored %d completed and %d failed (slow) records; want 3 and 1", completed, failed)
	}
}

// TestInFlightRequestIsDrained: a request in progress when SIGTERM arrives completes normally
// (its client gets its answer) and its ERP call is stored, when it fits in the deadline.
func TestInFlightRequestIsDrained(t *testing.T) {
	bin := buildServer(t)
	arrived := make(chan struct{})
	erp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		time.Sleep(time.Second) // SIGTERM comes during this second
		w.WriteHeader(201)
		io.WriteString(w, `{"status":"accepted"}`)
	}))
	defer erp.Close()
	url := dbtest.SQLiteURL(t)
	cmd, base := startBinary(t, bin, "DATABASE_URL="+url, "EXAMPLE_ERP_URL="+erp.URL, "SHUTDOWN_TIMEOUT=10s")
	status := make(chan int, 1)
	go func() {
		resp, err := http.Post(base+"/api/v1/orders", "application/json", strings.NewReader(`{"order_id":"D-1","items":[1]}`))
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	<-arrived
	stopBinary(t, cmd)
	if got := <-status; got != 201 {
		t.Errorf("in-flight request answered %d after SIGTERM; want 201", got)
	}
	if n := countRecords(t, url, "reference_id = 'D-1' AND status = 'Completed'"); n != 1 {
		t.Errorf("records of the drained call = %d; want 1", n)
	}
}

// buildServer compiles the server once per test; the tests below run it as a process, since
// a signal and an exit code are what they are about.
func buildServer(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin := filepath.Join(t.TempDir(), "server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startBinary runs bin in production mode on a free loopback port with the extra
// environment, and returns the process and its base URL. The process is killed when the test
// ends, if it is still running.
func startBinary(t *testing.T, bin string, env ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), "APP_ENV=production", "HTTP_ADDR=127.0.0.1:0"), env...)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case a := <-listenAddr(stdout):
		return cmd, "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
		return nil, ""
	}
}

// stopBinary sends SIGTERM and fails the test unless the process exits 0 within 30s.
func stopBinary(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v; want 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not exit within 30s of SIGTERM")
	}
}

// countRecords opens the database at url and counts integration requests matching where.
func countRecords(t *testing.T, url, where string) int64 {
	t.Helper()
	db, err := database.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close(db)
	var n int64
	if err := db.Raw("SELECT COUNT(*) FROM integration_requests WHERE " + where).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func postOrder(t *testing.T, base, body string) int {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/orders", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
