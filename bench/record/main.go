// Command record measures the integration request log (internal/integration) against
// OpenTelemetry's otelhttp, and against itself, in two figures:
//
//   - record_total_vs_otelhttp: the whole CPU cost of a recorded outbound call (the caller's
//     part and the Buffer's flusher's part) over the whole CPU cost of the same call traced
//     by otelhttp into an SDK TracerProvider with a BatchSpanProcessor. Goal: at most 1.2.
//   - record_added_realistic: what recording adds to the wall time of a call to an upstream
//     that takes 2 ms, in percent. Goal: at most 1.
//
// Each figure is the median of per-round ratios, the sides of a round run one after another
// (interleaved), so that a drift of the machine's speed over the run hits both sides of a
// ratio alike. It prints one line per figure,
//
//	BENCH <name> <value> <unit> goal=<goal> <pass|fail>
//
// (goals are maxima), INFO lines with figures that have no goal, and exits 1 when a figure
// fails, 2 when the benchmark could not run. See ../README.md.
//
// It lives in its own module (bench/go.mod) so that otelhttp and the OpenTelemetry SDK never
// become dependencies of the template.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
)

// Exit codes.
const (
	exitPass  = 0
	exitFail  = 1 // a figure missed its goal
	exitError = 2 // the benchmark could not run (or CI=true and no PostgreSQL)
)

// config is what the flags set.
type config struct {
	rounds          int    // rounds of each figure
	calls           int    // calls per side per round, figure 1
	realisticCalls  int    // calls per side per round, figure 2
	realisticBlock  int    // calls per side in a row, figure 2
	realisticRounds int    // rounds of figure 2 (0: -rounds)
	aa              bool   // figure 2 with bare calls on both sides
	warmup          int    // untimed calls per side before the first round
	figures         string // "all", "total" or "realistic"
	side            string // "" (the figures) or one side alone, for callgrind
	verbose         bool
	cpuProfile      string  // file for a CPU profile of the measurement (set-up excluded)
	totalGoal       float64 // x, at most
	realisticGoalPc float64 // %, at most
}

func main() { os.Exit(run()) }

func run() int {
	var cfg config
	quick := flag.Bool("quick", false, "fewer calls per round in figure 2 (figure 1 unchanged: its rounds are the Buffer's batch size): the whole run in about 10 s")
	flag.IntVar(&cfg.rounds, "rounds", 15, "rounds of each figure (the median is over these)")
	flag.IntVar(&cfg.calls, "calls", 1000, "figure 1: calls per side per round, each round ending with one flush (1000: the Buffer's batch size; fewer add the per-flush cost to fewer calls)")
	flag.IntVar(&cfg.realisticCalls, "realistic-calls", 200, "figure 2: calls per side per round (quick: 60)")
	flag.IntVar(&cfg.realisticRounds, "realistic-rounds", 45, "figure 2: rounds (quick: as -rounds); 45 keep the median's standard error near 0.2 points")
	flag.BoolVar(&cfg.aa, "aa", false, "A/A check: figure 2 with bare calls on both sides, whose figure is then the method's noise (expect about 0)")
	flag.IntVar(&cfg.realisticBlock, "realistic-block", 1, "figure 2: calls of one side in a row within a round before the other side's turn (1: A B A B ...; -realistic-calls: one block per side per round)")
	flag.IntVar(&cfg.warmup, "warmup", 300, "untimed calls per side before the first round (figure 2: a third of it, plus 10)")
	flag.StringVar(&cfg.figures, "figures", "all", "which figures: all, total (figure 1) or realistic (figure 2)")
	flag.StringVar(&cfg.side, "side", "", "instruction-count mode: run only this side (bare, recorded or otel) for -rounds rounds of -calls calls, print no figure; see README for the callgrind command")
	flag.BoolVar(&cfg.verbose, "v", false, "print every round")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the measurement (not the set-up) to this file; with -side, of that side alone")
	flag.Float64Var(&cfg.totalGoal, "goal-total", 1.2, "goal of record_total_vs_otelhttp, at most (x)")
	flag.Float64Var(&cfg.realisticGoalPc, "goal-realistic", 1, "goal of record_added_realistic, at most (%)")
	flag.Parse()
	if *quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["realistic-calls"] {
			cfg.realisticCalls = 60
		}
		if !set["realistic-rounds"] {
			cfg.realisticRounds = 0
		}
	}
	if err := cfg.check(); err != nil {
		fmt.Fprintln(os.Stderr, "record:", err)
		flag.Usage()
		return exitError
	}

	// Ctrl-C ends the run through the same path as an error, so the database is dropped.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Warnings only: the Buffer logs drops and retries there, which would make a run invalid.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, err := setUp(ctx, cfg, log)
	if err != nil {
		if skip, ok := err.(errSkip); ok {
			fmt.Println("SKIP record:", skip.reason)
			return exitPass
		}
		fmt.Fprintln(os.Stderr, "record:", err)
		return exitError
	}
	code := e.measure(ctx, cfg)
	if err := e.tearDown(); err != nil {
		fmt.Fprintln(os.Stderr, "record: tear down:", err)
		code = max(code, exitError)
	}
	return code
}

func (c config) check() error {
	switch {
	case c.rounds < 1 || c.rounds > 1000:
		return fmt.Errorf("-rounds %d: want 1..1000", c.rounds)
	case c.calls < 1 || c.calls > 100_000:
		return fmt.Errorf("-calls %d: want 1..100000", c.calls)
	case c.realisticCalls < 1 || c.realisticCalls > 10_000:
		return fmt.Errorf("-realistic-calls %d: want 1..10000", c.realisticCalls)
	case c.realisticRounds < 0 || c.realisticRounds > 1000:
		return fmt.Errorf("-realistic-rounds %d: want 0..1000", c.realisticRounds)
	case c.realisticBlock < 1:
		return fmt.Errorf("-realistic-block %d: want at least 1", c.realisticBlock)
	case c.warmup < 0 || c.warmup > 100_000:
		return fmt.Errorf("-warmup %d: want 0..100000", c.warmup)
	case c.figures != "all" && c.figures != "total" && c.figures != "realistic":
		return fmt.Errorf("-figures %q: want all, total or realistic", c.figures)
	case c.side != "" && c.side != sideBare && c.side != sideRecorded && c.side != sideOtel:
		return fmt.Errorf("-side %q: want bare, recorded or otel", c.side)
	}
	return nil
}

// measure runs what the flags asked for and prints it; it returns the exit code.
func (e *env) measure(ctx context.Context, cfg config) int {
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "record: -cpuprofile:", err)
			return exitError
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if cfg.side != "" {
		if err := e.sideAlone(ctx, cfg); err != nil {
			fmt.Fprintln(os.Stderr, "record:", err)
			return exitError
		}
		return exitPass
	}
	fmt.Printf("# %s, GOMAXPROCS %d, load average %s at start\n", runtime.Version(), runtime.GOMAXPROCS(0), loadAverage())
	var lines []summary
	if cfg.figures != "realistic" {
		s, err := e.total(ctx, cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "record: record_total_vs_otelhttp:", err)
			return exitError
		}
		lines = append(lines, s...)
	}
	if cfg.figures != "total" {
		s, err := e.realistic(ctx, cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "record: record_added_realistic:", err)
			return exitError
		}
		lines = append(lines, s...)
	}
	return printSummaries(os.Stdout, lines)
}

// summary is one figure's line. A figure with no goal is information: an INFO line, never a
// failure.
type summary struct {
	name, unit string
	value      float64
	format     string // of value
	goal       float64
	hasGoal    bool
}

// printSummaries prints the INFO lines, then the BENCH lines, and returns exitFail when a
// figure missed its goal.
func printSummaries(w io.Writer, lines []summary) int {
	code := exitPass
	for _, s := range lines {
		if !s.hasGoal {
			fmt.Fprintf(w, "INFO %s "+s.format+" %s\n", s.name, s.value, s.unit)
		}
	}
	for _, s := range lines {
		if !s.hasGoal {
			continue
		}
		verdict := "pass"
		if !(s.value <= s.goal) { // NaN fails
			verdict, code = "fail", exitFail
		}
		fmt.Fprintf(w, "BENCH %s "+s.format+" %s goal=%g %s\n", s.name, s.value, s.unit, s.goal, verdict)
	}
	return code
}
