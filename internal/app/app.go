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
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/config"
	"github.com/apitemplate/server/internal/database"
	"github.com/apitemplate/server/internal/example"
	"github.com/apitemplate/server/internal/health"
	"github.com/apitemplate/server/internal/normalize"
	"github.com/apitemplate/server/internal/server"
)

// App is a running server's parts.
type App struct {
	cfg  config.Config
	log  *slog.Logger
	db   *gorm.DB
	echo *echo.Echo
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
	r := &normalize.Responder{Development: cfg.IsDevelopment(), Logger: log}
	e := server.New(cfg, log,
		health.New(r, db),
		example.New(r),
	)
	return &App{cfg: cfg, log: log, db: db, echo: e}, nil
}

// Handler returns the HTTP handler, for tests that drive it without a listener.
func (a *App) Handler() http.Handler { return a.echo }

// Serve answers requests on ln until ctx is cancelled (SIGINT or SIGTERM in main), then shuts
// down. It returns nil after a clean shutdown.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.echo.Server = srv
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

// shutdown stops the parts in reverse order of their use, all under one deadline
// (SHUTDOWN_TIMEOUT). Each step gets what is left of it; a step that fails does not stop
// the later ones, whose work (saving buffered records) matters more than a clean exit code.
//
//  1. HTTP: stop accepting, let in-flight requests finish.
//  2. Database: close the pool, now that nothing uses it.
func (a *App) shutdown(srv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	steps := []struct {
		name string
		stop func(context.Context) error
	}{
		{"http server", srv.Shutdown},
		{"database", func(context.Context) error { return database.Close(a.db) }},
	}
	var errs []error
	for _, s := range steps {
		start := time.Now()
		if err := s.stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown %s: %w", s.name, err))
			continue
		}
		a.log.Info("stopped", "part", s.name, "took", time.Since(start).Round(time.Millisecond))
	}
	return errors.Join(errs...)
}

// Close releases what New opened, for callers that never Serve (tests, one-off commands).
func (a *App) Close() error { return database.Close(a.db) }
