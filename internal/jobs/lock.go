package jobs

import (
	"context"
	"fmt"
	"time"
)

// Exclusive jobs on PostgreSQL use two mechanisms, because each covers what the other cannot.
//
//   - The tick claim (claimTick) makes a tick run once across replicas. Every replica's cron
//     fires at the tick; each inserts (name, tick) into job_ticks, and the primary key lets
//     exactly one insert through. A lock alone would not do this: a replica that fires after
//     the winner has finished would find the lock free and run the tick again.
//   - The advisory lock (lock) makes runs of a job never overlap anywhere, whatever started
//     them: a manual `jobs run prune` has no tick to claim, and a long run may still be going
//     at the next tick on another replica.
//
// The claim is committed on its own before the lock is tried: inserting it inside the lock's
// transaction would make losing replicas wait on the winner's uncommitted row for the whole
// run. If the winner then finds the lock held (a manual run is going), the tick is recorded
// as skipped; the manual run is doing the work.

// claimTick claims tick of job name for this instance and reports whether it won.
func (s *Scheduler) claimTick(ctx context.Context, name string, tick time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Exec(
		"INSERT INTO job_ticks (name, tick, instance, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
		name, tick.UTC(), s.instance, s.now().UTC())
	if res.Error != nil {
		return false, fmt.Errorf("claim tick %s: %w", tick.UTC().Format(time.RFC3339), res.Error)
	}
	return res.RowsAffected == 1, nil
}

// lock tries to take job name's advisory lock, pg_try_advisory_xact_lock(hashtext('jobs:'||name)),
// without waiting. If it gets it, unlock must be called when the run ends; ok is false if
// another session holds it.
//
// The lock is transaction-level, in a transaction on a connection taken from the pool for
// the run alone. A session-level lock (pg_try_advisory_lock) would stay with the pooled
// connection: if the unlock were missed (a panic, a cancelled context), the connection
// would go back to the pool still holding it and lock the job out until that connection
// happened to close. A transaction-level lock ends with the transaction, and the
// transaction ends when the run does, or when the connection or the process dies. Idle in
// its transaction after one SELECT, under READ COMMITTED and with no writes, the session
// keeps no snapshot (pg_stat_activity.backend_xmin is null), so it does not hold back
// VACUUM. A server-side idle_in_transaction_session_timeout shorter than the longest run
// would end it early, though.
func (s *Scheduler) lock(ctx context.Context, name string) (unlock func(), ok bool, err error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, false, fmt.Errorf("lock: %w", err)
	}
	conn, err := sqlDB.Conn(ctx) // waiting for a free connection is bounded by ctx
	if err != nil {
		return nil, false, fmt.Errorf("lock: %w", err)
	}
	// The transaction must not end when ctx does: database/sql rolls back a transaction when
	// its context is cancelled, which would free the lock while a job that is slow to notice
	// the cancellation still runs. unlock ends it.
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("lock: %w", err)
	}
	release := func() {
		_ = tx.Rollback() // nothing was written; rolling back just ends the transaction
		_ = conn.Close()  // back to the pool, with no lock attached
	}
	if err := tx.QueryRowContext(ctx, "SELECT pg_try_advisory_xact_lock(hashtext($1))", "jobs:"+name).Scan(&ok); err != nil {
		release()
		return nil, false, fmt.Errorf("lock: %w", err)
	}
	if !ok {
		release()
		return nil, false, nil
	}
	return release, true, nil
}
