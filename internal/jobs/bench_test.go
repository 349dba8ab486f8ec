package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apitemplate/server/internal/database/dbtest"
)

// BenchmarkPrune deletes 1 000 000 expired integration_requests rows on PostgreSQL with the
// default batch size and pause, while another goroutine keeps inserting single rows as the
// application would. It reports rows deleted per second, and the insert latency before and
// during the prune. The goal: the prune finishes, and insert p99 during it stays under 50ms.
//
//	go test -run '^$' -bench Prune -benchtime 1x ./internal/jobs/
func BenchmarkPrune(b *testing.B) {
	const expired = 1_000_000
	db := dbtest.Postgres(b)
	ctx := context.Background()
	var serial int // ids of inserted rows, unique across iterations

	insert := func() (time.Duration, error) {
		serial++
		now := time.Now().UTC()
		start := time.Now()
		err := db.WithContext(ctx).Exec(`INSERT INTO integration_requests
			(id, service, status, method, url, data, output, status_code, created_at, updated_at)
			VALUES (?, 'erp', 'Completed', 'POST', 'https://erp.example.com/api/orders', ?, ?, 200, ?, ?)`,
			fmt.Sprintf("new-%d", serial), `{"order":42,"lines":[1,2,3]}`, `{"ok":true}`, now, now).Error
		return time.Since(start), err
	}

	for range b.N {
		b.StopTimer()
		dbtest.Exec(b, db, "TRUNCATE integration_requests")
		load := time.Now()
		// Rows from 100 to about 112 days old, oldest last in id order, with bodies of a few
		// hundred bytes, as a busy integration log would hold.
		dbtest.Exec(b, db, `INSERT INTO integration_requests
			(id, service, status, method, url, data, output, status_code, duration_ms, created_at, updated_at)
			SELECT 'old-' || g, 'erp', 'Completed', 'POST', 'https://erp.example.com/api/orders/' || g,
				repeat('d', 150), repeat('o', 150), 200, 12.5, ts, ts
			FROM (SELECT g, now() - interval '100 days' - g * interval '1 second' AS ts
				FROM generate_series(1, ?) g) s`, expired)
		dbtest.Exec(b, db, "VACUUM ANALYZE integration_requests")
		// Start both measurements without the load's dirty pages to write out. CHECKPOINT
		// needs superuser or pg_checkpoint; without it the numbers are only noisier.
		if err := db.Exec("CHECKPOINT").Error; err != nil {
			b.Logf("CHECKPOINT: %v", err)
		}
		b.Logf("loaded %d expired rows in %s", expired, time.Since(load).Round(time.Millisecond))

		before, err := insertFor(2*time.Second, insert)
		if err != nil {
			b.Fatalf("insert before prune: %v", err)
		}

		p := NewPrune(db, PruneConfig{Logger: slog.New(slog.DiscardHandler)})
		p.tables = nil // integration_requests only
		if err := p.Register(Table{Name: "integration_requests", Retention: 90 * day}); err != nil {
			b.Fatal(err)
		}
		pruneCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		var (
			during    []time.Duration
			insertErr error
			wg        sync.WaitGroup
		)
		stop := make(chan struct{})
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				d, err := insert()
				if err != nil {
					insertErr = err
					return
				}
				during = append(during, d)
			}
		})
		b.StartTimer()
		start := time.Now()
		results, err := p.runOnce(pruneCtx)
		elapsed := time.Since(start)
		b.StopTimer()
		close(stop)
		wg.Wait()
		cancel()
		if err != nil {
			b.Fatalf("prune: %v", err)
		}
		if insertErr != nil {
			b.Fatalf("insert during prune: %v", insertErr)
		}
		r := results[0]
		if r.Rows != expired {
			b.Fatalf("pruned %d rows; want %d", r.Rows, expired)
		}
		var left int64
		db.Raw("SELECT COUNT(*) FROM integration_requests WHERE id LIKE 'old-%'").Scan(&left)
		if left != 0 {
			b.Fatalf("%d expired rows left after prune", left)
		}

		rate := float64(r.Rows) / elapsed.Seconds()
		pb, pd := percentiles(before), percentiles(during)
		b.ReportMetric(rate, "rows/s")
		b.ReportMetric(ms(pb.p50), "before-p50-ms")
		b.ReportMetric(ms(pb.p99), "before-p99-ms")
		b.ReportMetric(ms(pb.max), "before-max-ms")
		b.ReportMetric(ms(pd.p50), "during-p50-ms")
		b.ReportMetric(ms(pd.p99), "during-p99-ms")
		b.ReportMetric(ms(pd.max), "during-max-ms")
		b.Logf("pruned %d rows in %d batches in %s: %.0f rows/s", r.Rows, r.Batches, elapsed.Round(time.Millisecond), rate)
		b.Logf("insert latency   before prune   during prune")
		b.Logf("  inserts        %12d   %12d", len(before), len(during))
		b.Logf("  p50            %10.2fms   %10.2fms", ms(pb.p50), ms(pd.p50))
		b.Logf("  p99            %10.2fms   %10.2fms", ms(pb.p99), ms(pd.p99))
		b.Logf("  max            %10.2fms   %10.2fms", ms(pb.max), ms(pd.max))
		if pd.p99 > 50*time.Millisecond {
			b.Errorf("insert p99 during prune = %s; want under 50ms", pd.p99)
		}
	}
}

// insertFor calls insert back to back for d and returns the latencies.
func insertFor(d time.Duration, insert func() (time.Duration, error)) ([]time.Duration, error) {
	var out []time.Duration
	for end := time.Now().Add(d); time.Now().Before(end); {
		lat, err := insert()
		if err != nil {
			return out, err
		}
		out = append(out, lat)
	}
	return out, nil
}

type latencies struct{ p50, p99, max time.Duration }

func percentiles(ds []time.Duration) latencies {
	if len(ds) == 0 {
		return latencies{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[int(q*float64(len(s)-1))] }
	return latencies{p50: at(0.50), p99: at(0.99), max: s[len(s)-1]}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
