// Command server runs the API. With no arguments it serves; subcommands do one-off work:
//
//	server            serve HTTP on HTTP_ADDR until SIGINT or SIGTERM
//	server migrate    apply pending database migrations and exit
//	server errors     print the error catalog as Markdown (docs/errors.md)
//	server jobs list  print the scheduled jobs with their next run
//	server jobs run NAME  run one job once and exit (0 also when another instance holds its lock)
//	server help       the commands, and where the settings are documented
//
// Configuration comes from the environment (see internal/config and configs/).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/apitemplate/server/internal/app"
	"github.com/apitemplate/server/internal/config"
	"github.com/apitemplate/server/internal/database"
	"github.com/apitemplate/server/internal/httperr"

	_ "github.com/apitemplate/server/internal/example" // its errors belong in the catalog
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

const usage = `usage: server [command]

commands:
  (none)     serve HTTP until SIGINT or SIGTERM
  migrate    apply pending database migrations and exit
  errors     print the error catalog as Markdown
  jobs list  print the scheduled jobs with their next run
  jobs run NAME
             run one job once and exit
  help       print this

Settings come from environment variables, over CONFIG_FILE's KEY=VALUE lines, over the
defaults; configs/development.env and configs/production.env document every one, and the
README's Configuration section lists them.`

// run is main without the process: tests call it with their own context, arguments,
// environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "errors":
		return httperr.WriteMarkdown(stdout, httperr.Catalog())
	case "help", "-h", "-help", "--help":
		_, err := fmt.Fprintln(stdout, usage)
		return err
	}
	if cmd != "" && cmd != "migrate" && cmd != "serve" && cmd != "jobs" {
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}

	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)

	switch cmd {
	case "migrate":
		return migrate(ctx, cfg, log)
	case "jobs":
		return app.RunJobsCommand(ctx, cfg, log, args[1:], stdout)
	}
	log.Info("starting", "config", cfg)
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		a.Close()
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	return a.Serve(ctx, ln)
}

func migrate(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	db, err := database.Open(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return err
	}
	defer database.Close(db)
	applied, err := database.Migrate(ctx, db)
	if err != nil {
		return err
	}
	log.Info("migrations applied", "versions", applied, "database", config.MaskURL(cfg.DatabaseURL))
	return nil
}

// newLogger writes JSON lines in production (for log collectors) and text in development
// (for people).
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.IsDevelopment() {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
