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

// TestSIGTERMStoresPendingRecords builds the server, makes it record ERP calls that stay in
// the buffer (no flush threshold reached, no flush job yet), sends SIGTERM, and checks that
// the process exits 0 with every record in the database.
func TestSIGTERMStoresPendingRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin := filepath.Join(t.TempDir(), "server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, dialect := range []string{database.SQLite, database.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			url := dbtest.SQLiteURL(t)
			if dialect == database.Postgres {
				url = dbtest.PostgresURL(t)
			}
			const calls = 25
			cmd := exec.Command(bin)
			cmd.Env = append(os.Environ(), "APP_ENV=production", "HTTP_ADDR=127.0.0.1:0", "DATABASE_URL="+url,
				"INTEGRATION_FLUSH_THRESHOLD=100000", "JOBS_ENABLED=false")
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			addr := listenAddr(stdout)
			var base string
			select {
			case a := <-addr:
				base = "http://" + a
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatal("server did not start")
			}
			for i := 0; i < calls; i++ {
				body := fmt.Sprintf(`{"order_id":"T-%d","items":[{"sku":"X"}]}`, i)
				resp, err := http.Post(base+"/api/v1/orders", "application/json", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 201 {
					t.Fatalf("POST /api/v1/orders = %d; want 201", resp.StatusCode)
				}
			}
			db, err := database.Open(context.Background(), url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer database.Close(db)
			var before int64
			db.Raw("SELECT COUNT(*) FROM integration_requests").Scan(&before)
			if before != 0 {
				t.Fatalf("records stored before SIGTERM = %d; want 0 (they should still be buffered)", before)
			}

			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit after SIGTERM: %v; want 0", err)
				}
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatal("server did not exit within 30s of SIGTERM")
			}
			var after int64
			db.Raw("SELECT COUNT(*) FROM integration_requests WHERE service = 'erp' AND reference_type = 'Order'").Scan(&after)
			if after != calls {
				t.Errorf("records stored after SIGTERM = %d; want %d", after, calls)
			}
		})
	}
}

// TestSlowRequestAtShutdownKeepsTheRecords: a request stuck on a slow ERP when SIGTERM comes
// must not eat the time the final flush needs. Its connection is closed at the drain deadline,
// its ERP call is cancelled and recorded, and every record is stored.
func TestSlowRequestAtShutdownKeepsTheRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
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

	bin := filepath.Join(t.TempDir(), "server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	url := dbtest.SQLiteURL(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "APP_ENV=production", "HTTP_ADDR=127.0.0.1:0", "DATABASE_URL="+url,
		"EXAMPLE_ERP_URL="+erp.URL, "SHUTDOWN_TIMEOUT=3s")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var base string
	select {
	case a := <-listenAddr(stdout):
		base = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	for i := 0; i < 3; i++ {
		resp, err := http.Post(base+"/api/v1/orders", "application/json", strings.NewReader(fmt.Sprintf(`{"order_id":"F-%d","items":[1]}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	go http.Post(base+"/api/v1/orders", "application/json", strings.NewReader(`{"order_id":"S-1","items":["slow"]}`))
	<-slowArrived

	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v; want 0", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("shutdown took %s; want about SHUTDOWN_TIMEOUT (3s)", took)
	}
	db, err := database.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close(db)
	var completed, failed int64
	db.Raw("SELECT COUNT(*) FROM integration_requests WHERE status = 'Completed'").Scan(&completed)
	db.Raw("SELECT COUNT(*) FROM integration_requests WHERE status = 'Failed' AND reference_id = 'S-1'").Scan(&failed)
	if completed != 3 || failed != 1 {
		t.Errorf("stored %d completed and %d failed (slow) records; want 3 and 1", completed, failed)
	}
}

// TestInFlightRequestIsDrained: a request in progress when SIGTERM arrives completes normally
// (its client gets its answer) and its ERP call is stored, when it fits in the deadline.
func TestInFlightRequestIsDrained(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	arrived := make(chan struct{})
	erp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		time.Sleep(time.Second) // SIGTERM comes during this second
		w.WriteHeader(201)
		io.WriteString(w, `{"status":"accepted"}`)
	}))
	defer erp.Close()
	bin := filepath.Join(t.TempDir(), "server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	url := dbtest.SQLiteURL(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "APP_ENV=production", "HTTP_ADDR=127.0.0.1:0", "DATABASE_URL="+url,
		"EXAMPLE_ERP_URL="+erp.URL, "SHUTDOWN_TIMEOUT=10s")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var base string
	select {
	case a := <-listenAddr(stdout):
		base = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
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
	cmd.Process.Signal(syscall.SIGTERM)
	if got := <-status; got != 201 {
		t.Errorf("in-flight request answered %d after SIGTERM; want 201", got)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v; want 0", err)
	}
	db, err := database.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close(db)
	var n int64
	db.Raw("SELECT COUNT(*) FROM integration_requests WHERE reference_id = 'D-1' AND status = 'Completed'").Scan(&n)
	if n != 1 {
		t.Errorf("records of the drained call = %d; want 1", n)
	}
}
