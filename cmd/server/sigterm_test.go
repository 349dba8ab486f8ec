package main

import (
	"context"
	"fmt"
	"net/http"
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
