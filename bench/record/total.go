package main

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// Figure 1, record_total_vs_otelhttp: CPU per round of calls, recorded over otelhttp.
//
// Why CPU time and not wall time: the recorder defers most of its work to the Buffer's
// flusher, off the caller's path, and the BatchSpanProcessor defers the export likewise. Wall
// time of the calls would leave that work out (or count it only when it happens to compete
// for a core); process CPU time counts every thread's work, whenever and wherever it runs,
// as long as it is done before the round ends. Hence each round ends with the side's flush.
//
// Why a forced collection ends each round, timed: the garbage a round makes is that side's
// cost, but the collector would otherwise take it in whichever later round the heap target
// is reached, often another side's. A collection before each round (untimed) and one at its
// end (timed) make each round pay for its own garbage, no more. The timed one also costs
// the marking of the live heap, the same for every side; its cost is printed ("gc floor").

// sample is one side's round.
type sample struct{ cpu, wall []float64 } // per call, ns, one per round

// round runs n calls of s and its flush, and returns the CPU and wall time they took.
func round(ctx context.Context, s *side, n int) (cpu, wall time.Duration, err error) {
	runtime.GC()
	c0, w0 := processCPU(), time.Now()
	if err = s.calls(ctx, n); err == nil {
		err = s.flush(ctx)
	}
	runtime.GC()
	cpu, wall = processCPU()-c0, time.Since(w0)
	if err == nil {
		err = s.check()
	}
	return cpu, wall, err
}

// gcFloor is the CPU time of a forced collection with no garbage to take: what the timed
// collection of every round costs whatever the side.
func gcFloor() time.Duration {
	runtime.GC()
	c0 := processCPU()
	runtime.GC()
	return processCPU() - c0
}

func (e *env) total(ctx context.Context, cfg config) ([]summary, error) {
	sides := e.sides(e.small, sideBare, sideRecorded, sideOtel)
	for _, s := range sides {
		if err := s.warm(ctx, cfg.warmup); err != nil {
			return nil, err
		}
	}
	samples := make([]sample, len(sides))
	var floors []float64
	for r := range cfg.rounds {
		floors = append(floors, float64(gcFloor().Nanoseconds()))
		for _, i := range orders(len(sides), r) {
			cpu, wall, err := round(ctx, sides[i], cfg.calls)
			if err != nil {
				return nil, err
			}
			samples[i].cpu = append(samples[i].cpu, float64(cpu.Nanoseconds())/float64(cfg.calls))
			samples[i].wall = append(samples[i].wall, float64(wall.Nanoseconds())/float64(cfg.calls))
		}
		if cfg.verbose {
			fmt.Printf("# total round %2d: cpu ns/call bare %.0f recorded %.0f otel %.0f: recorded/otel %.3f\n", r,
				samples[0].cpu[r], samples[1].cpu[r], samples[2].cpu[r], samples[1].cpu[r]/samples[2].cpu[r])
		}
	}
	bare, rec, otel := samples[0], samples[1], samples[2]

	// The figure: the median of the per-round ratios, not the ratio of the medians: a round's
	// two sides ran within a fraction of a second of each other, on the same machine state.
	total := spreadOf(ratios(rec.cpu, otel.cpu))
	// Information: what each adds to a bare call, round by round. A difference of two
	// noisy figures, so noisier than the ratio above.
	added := make([]float64, cfg.rounds)
	for r := range added {
		added[r] = (rec.cpu[r] - bare.cpu[r]) / (otel.cpu[r] - bare.cpu[r])
	}
	addedS := spreadOf(added)

	fmt.Printf("# record_total_vs_otelhttp: %d rounds x %d calls per side, 1 KiB POST / 1 KiB answer, CPU of this process\n", cfg.rounds, cfg.calls)
	fmt.Printf("#   median CPU us/call: bare %.1f, recorded %.1f, otel %.1f (gc floor %.1f us per round, %.2f us/call)\n",
		median(bare.cpu)/1e3, median(rec.cpu)/1e3, median(otel.cpu)/1e3, median(floors)/1e3, median(floors)/1e3/float64(cfg.calls))
	fmt.Printf("#   median wall us/call: bare %.1f, recorded %.1f (incl. its flush), otel %.1f\n",
		median(bare.wall)/1e3, median(rec.wall)/1e3, median(otel.wall)/1e3)
	fmt.Printf("#   added CPU us/call over bare (from medians): recorded %.1f, otel %.1f\n",
		(median(rec.cpu)-median(bare.cpu))/1e3, (median(otel.cpu)-median(bare.cpu))/1e3)
	fmt.Printf("#   recorded/otel per round: median %.3f, IQR %.3f..%.3f, range %.3f..%.3f, median's SE ~%.3f\n",
		total.median, total.q1, total.q3, total.min, total.max, total.seMedian(cfg.rounds))
	fmt.Printf("#   recorded-added/otel-added per round: median %.2f, IQR %.2f..%.2f\n", addedS.median, addedS.q1, addedS.q3)
	warnNoisy("record_total_vs_otelhttp", total.seMedian(cfg.rounds), 0.05, "x")

	return []summary{
		{name: "record_added_vs_otel_added", unit: "x", value: addedS.median, format: "%.2f"},
		{name: "record_total_vs_otelhttp", unit: "x", value: total.median, format: "%.3f", goal: cfg.totalGoal, hasGoal: true},
	}, nil
}
