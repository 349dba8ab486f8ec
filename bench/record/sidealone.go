package main

import (
	"context"
	"fmt"
)

// sideAlone is the instruction-count mode (-side): figure 1's calls, on one side only, so that
// a run under `valgrind --tool=callgrind` counts the instructions of that side alone.
//
// Callgrind counts the whole process, set-up included (and, for the recorded side, the
// database's creation and migration). The set-up does not depend on -rounds, so the README's
// script runs each side twice, with -rounds 1 and -rounds 3, and takes the difference: the
// instructions of 2 x -calls calls with their flushes and nothing else. Its ratio recorded /
// otel is figure 1 in instructions instead of CPU time: steadier (no other process, no
// frequency scaling), though blind to cache misses and system-call cost.
//
// Callgrind runs one thread at a time, so the flusher's work is counted as it is in CPU time:
// wherever it runs, provided it is done before the round's flush returns.
func (e *env) sideAlone(ctx context.Context, cfg config) error {
	s := e.sides(e.small, cfg.side)[0]
	if err := s.warm(ctx, cfg.warmup); err != nil {
		return err
	}
	var cpu float64
	for range cfg.rounds {
		c, _, err := round(ctx, s, cfg.calls)
		if err != nil {
			return err
		}
		cpu += float64(c.Nanoseconds())
	}
	fmt.Printf("SIDE %s rounds=%d calls=%d cpu_us_per_call=%.1f\n", s.name, cfg.rounds, cfg.calls, cpu/1e3/float64(cfg.rounds*cfg.calls))
	return nil
}
