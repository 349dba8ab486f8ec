// Package app assembles the server from its parts and runs it: it opens and migrates the
// database, builds Echo with every module, serves, and shuts down in one explicit order
// under one deadline. cmd/server only parses the command line and calls it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/config"
	"github.com/apitemplate/server/internal/database"
	"github.com/apitemplate/server/internal/example"
	"github.com/apitemplate/server/internal/health"
	"github.com/apitemplate/server/internal/integration"
	"github.com/apitemplate/server/internal/jobs"
	"github.com/apitemplate/server/internal/normalize"
	"github.com/apitemplate/server/internal/server"
)

// App is a running server's parts.
type App struct {
	cfg      config.Config
	log      *slog.Logger
	db       *gorm.DB
	buffer   *integration.Buffer
	jobs     *jobs.Scheduler
	inFlight sync.WaitGroup   // handlers running, see trackInFlight
	fakeERP  *example.FakeERP // nil when EXAMPLE_ERP_URL names a real ERP
	echo     *echo.Echo
}

// New opens the database, applies pending migrations and builds the HTTP server.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	db, err := database.Open(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return nil, err
	}
	applied, err := database.Migrate(ctx, db)
	if err != nil {
		database.Close(db)
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("database migrated", "versions", applied)
	}
	a := &App{cfg: cfg, log: log, db: db}
	if err := a.startIntegrationLog(); err != nil {
		database.Close(db)
		return nil, err
	}
	if a.jobs, err = newScheduler(cfg, db, a.buffer, log, cfg.Jobs.Enabled); err != nil {
		a.Close()
		return nil, err
	}
	erp, err := a.exampleERP()
	if err != nil {
		a.Close()
		return nil, err
	}
	r := &normalize.Responder{Development: cfg.IsDevelopment(), Logger: log}
	a.echo = server.New(cfg, log,
		health.New(r, db),
		example.New(r, erp),
	)
	return a, nil
}

// startIntegrationLog builds the buffer every recorded call goes through and starts its
// goroutine, which also writes records a previous process spilled.
func (a *App) startIntegrationLog() error {
	if _, err := integration.ParseDropPolicy(a.cfg.Integration.DropPolicy); err != nil {
		return err
	}
	a.buffer = newBuffer(a.cfg, a.db, a.log)
	a.buffer.Start()
	if limit := integration.SetMemoryLimit(a.cfg.Integration.BufferMaxBytes); limit > 0 {
		a.log.Debug("soft memory limit set from the integration buffer's bound (GOMEMLIMIT overrides)", "bytes", limit)
	}
	return nil
}

// newBuffer is the integration buffer of cfg; config.Load has checked its drop policy.
func newBuffer(cfg config.Config, db *gorm.DB, log *slog.Logger) *integration.Buffer {
	ic := cfg.Integration
	policy, _ := integration.ParseDropPolicy(ic.DropPolicy)
	return integration.NewBuffer(db, integration.BufferConfig{
		MaxEntries:     ic.BufferMaxEntries,
		MaxBytes:       ic.BufferMaxBytes,
		FlushThreshold: ic.FlushThreshold,
		FlushInterval:  ic.FlushInterval,
		DropPolicy:     policy,
		SpillDir:       ic.SpillDir,
		SpillMaxBytes:  ic.SpillMaxBytes,
		Logger:         log,
	})
}

// exampleERP is the example module's ERP: EXAMPLE_ERP_URL, or a fake one on a loopback port.
func (a *App) exampleERP() (*example.ERP, error) {
	url := a.cfg.Example.ERPURL
	if url == "" {
		fake, err := example.StartFakeERP(a.cfg.Example.ERPToken)
		if err != nil {
			return nil, err
		}
		a.fakeERP, url = fake, fake.URL
		a.log.Info("EXAMPLE_ERP_URL not set; a fake ERP answers orders", "url", url)
	}
	client := integration.NewClient(a.buffer, integration.Options{Service: "erp", BodyCap: a.cfg.Integration.BodyCap})
	return &example.ERP{URL: url, Token: a.cfg.Example.ERPToken, Client: client}, nil
}

// Serve answers requests on ln until ctx is cancelled (SIGINT or SIGTERM in main), then shuts
// down. It returns nil after a clean shutdown.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.trackInFlight(a.echo),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute, // a client trickling its body cannot hold a handler for ever
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.echo.Server = srv
	a.jobs.Start()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	a.log.Info("listening", "addr", ln.Addr().String(), "env", a.cfg.Env, "database", a.db.Dialector.Name())

	var err error
	select {
	case <-ctx.Done():
		a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout)
	case err = <-serveErr:
		a.log.Error("server stopped", "error", err)
	}
	return errors.Join(err, a.shutdown(srv))
}

// shutdown stops the parts in reverse order of their use, under one deadline
// (SHUTDOWN_TIMEOUT). The last fifth of it is kept for the final flush: however long the
// requests and jobs take, the records they produced get time to reach the database. A step
// that fails does not stop the later ones, whose work matters more than a clean exit code.
//
//  1. HTTP: stop accepting, let in-flight requests finish (and record their calls). At the
//     drain deadline, connections are closed, which cancels the requests' contexts and so
//     their outbound calls, and their handlers get a moment to record them.
//  2. Fake ERP, if running: nothing calls it any more.
//  3. Jobs: no new runs; running ones are cancelled and waited for.
//  4. Integration buffer: write every record still in memory (spill them if it cannot). It
//     comes after the jobs, so no flush job competes with the final flush.
//  5. Database: close the pool, now that nothing uses it.
func (a *App) shutdown(srv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	drainCtx, cancelDrain := context.WithTimeout(ctx, a.cfg.ShutdownTimeout-a.cfg.ShutdownTimeout/5)
	defer cancelDrain()
	steps := []struct {
		name string
		ctx  context.Context
		stop func(context.Context) error
	}{
		{"http server", drainCtx, a.drainHTTP(srv)},
		{"fake erp", drainCtx, a.closeFakeERP},
		{"jobs", drainCtx, a.jobs.Stop},
		{"integration buffer", ctx, a.buffer.Close},
		{"database", ctx, func(context.Context) error { return database.Close(a.db) }},
	}
	var errs []error
	for _, s := range steps {
		start := time.Now()
		if err := s.stop(s.ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown %s: %w", s.name, err))
			continue
		}
		a.log.Info("stopped", "part", s.name, "took", time.Since(start).Round(time.Millisecond))
	}
	return errors.Join(errs...)
}

// drainHTTP returns the HTTP step of shutdown: a graceful Shutdown, and at its deadline a
// Close of every connection, then a wait (up to a tenth of SHUTDOWN_TIMEOUT) for the
// handlers, whose cancelled calls still produce records.
func (a *App) drainHTTP(srv *http.Server) func(context.Context) error {
	return func(ctx context.Context) error {
		err := srv.Shutdown(ctx)
		if err == nil {
			return nil
		}
		a.log.Error("requests still running at the drain deadline; closing their connections", "error", err)
		srv.Close()
		done := make(chan struct{})
		go func() { a.inFlight.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(a.cfg.ShutdownTimeout / 10):
			a.log.Error("handlers still running after their connections closed; their records may be lost")
		}
		return nil // reported above; what matters now is saving the records
	}
}

// trackInFlight counts running handlers, so shutdown can wait for them after closing their
// connections (http.Server.Close does not wait).
func (a *App) trackInFlight(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.inFlight.Add(1)
		defer a.inFlight.Done()
		h.ServeHTTP(w, r)
	})
}

func (a *App) closeFakeERP(ctx context.Context) error {
	if a.fakeERP == nil {
		return nil
	}
	return a.fakeERP.Close(ctx)
}

// Close releases what New opened, for callers that never Serve (tests, one-off commands).
func (a *App) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(a.closeFakeERP(ctx), a.buffer.Close(ctx), database.Close(a.db))
}
