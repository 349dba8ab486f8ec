package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// Figure 2, record_added_realistic: what recording adds to the latency of a call to an
// upstream that takes 2 ms (4 KiB up, 4 KiB down), in percent of a bare call.
//
// Wall time here, not CPU: the question is how much longer the caller waits. The calls run
// one after another on one goroutine, so a round's time is the sum of the calls' latencies.
//
// Why the sides take turns call by call within a round (-realistic-block 1) rather than in
// one block each: a call's latency drifts by a few percent over a few hundred milliseconds
// (timer wake-ups, collections, other processes), far more than the 1% the goal is about.
// Blocks of 100 calls gave rounds whose ratios spread over +-2% and medians that moved by 1%
// from run to run; turns of one call cancel the drift within each round. The price: what a
// recorded call leaves to run after it (a collection of its garbage, a watcher tick) can
// land on the bare call that follows, in recording's favour; -realistic-block 100 gives the
// block form to compare.
//
// The Buffer's flusher runs in the background as in production: nothing here flushes inside
// a timed round, and nothing waits for the flusher either. It writes on its own (at its
// record threshold, or its interval where the Buffer has one), during whichever round is
// running then, taking a core for some milliseconds. With the sides taking turns, that lands
// on both alike: this figure does not charge recording for the flusher's interference with
// calls (in a service every call is recorded, and would bear all of it), and the median over
// rounds leaves out the rounds it disturbed most. That is the figure about the usual call;
// the flush's CPU is figure 1's business. The mean over rounds is printed too, and how many
// records the flusher stored during the rounds.
//
// No forced collection either: a collection's pauses and assists are part of a call's
// latency, and the rounds (about a second) see several cycles.

func (e *env) realistic(ctx context.Context, cfg config) ([]summary, error) {
	sides := e.sides(e.slow, sideBare, sideRecorded)
	if cfg.aa {
		sides = e.sides(e.slow, sideBare, sideBare)
		fmt.Println("# A/A: figure 2 compares bare calls with bare calls; its value is noise")
	}
	for _, s := range sides {
		if err := s.warm(ctx, cfg.warmup/3+10); err != nil { // 2 ms a call: fewer are enough
			return nil, err
		}
	}
	storedBefore := e.buf.Stats().Stored // the A/A check has none, from figure 1
	rounds := cmp.Or(cfg.realisticRounds, cfg.rounds)
	walls := make([][]float64, len(sides)) // ns per call, per round
	lat := make([][]float64, len(sides))   // ns, every call
	for r := range rounds {
		w, err := interleaved(ctx, sides, cfg.realisticCalls, cfg.realisticBlock, r, lat)
		if err != nil {
			return nil, err
		}
		for i := range sides {
			walls[i] = append(walls[i], w[i])
		}
		if cfg.verbose {
			fmt.Printf("# realistic round %2d: wall us/call bare %.1f recorded %.1f: %+.2f%%\n", r,
				walls[0][r]/1e3, walls[1][r]/1e3, (walls[1][r]/walls[0][r]-1)*100)
		}
	}
	inBackground := e.buf.Stats().Stored - storedBefore
	// Untimed: store the rest and check that every record made it.
	if err := sides[1].flush(ctx); err != nil {
		return nil, err
	}
	if err := sides[1].check(); err != nil {
		return nil, err
	}

	rs := ratios(walls[1], walls[0])
	for i := range rs {
		rs[i] = (rs[i] - 1) * 100
	}
	s := spreadOf(rs)
	bare, rec := median(walls[0]), median(walls[1])
	fmt.Printf("# record_added_realistic: %d rounds x %d sequential calls per side (turns of %d), 4 KiB POST / 4 KiB answer after %v, wall time\n",
		rounds, cfg.realisticCalls, cfg.realisticBlock, slowDelay)
	fmt.Printf("#   median wall us/call: bare %.1f, recorded %.1f; added per round: median %.2f%% (%.1f us), IQR %.2f..%.2f%%, range %.2f..%.2f%%, median's SE ~%.2f%%\n",
		bare/1e3, rec/1e3, s.median, s.median/100*bare/1e3, s.q1, s.q3, s.min, s.max, s.seMedian(rounds))
	// The calls one by one: the tail says whether recording's cost is spread over every call
	// or falls on a few (a caller waiting for the flusher, say), which a mean hides.
	for i, name := range []string{"bare", "recorded"} {
		l := lat[i]
		fmt.Printf("#   %-8s per call, us: p50 %.0f, p90 %.0f, p99 %.0f, p99.9 %.0f, max %.0f\n", name,
			quantile(l, 0.5)/1e3, quantile(l, 0.9)/1e3, quantile(l, 0.99)/1e3, quantile(l, 0.999)/1e3, slices.Max(l)/1e3)
	}
	fmt.Printf("#   mean of the rounds' added %%: %.2f%%; the background flusher stored %d records during the rounds\n", mean(rs), inBackground)
	warnNoisy("record_added_realistic", s.seMedian(rounds), 0.3, "%")
	return []summary{
		{name: "record_added_realistic", unit: "%", value: s.median, format: "%.2f", goal: cfg.realisticGoalPc, hasGoal: true},
	}, nil
}

// interleaved runs one round: n calls of each side, in blocks of block calls, the sides
// taking turns (A B A B ...; B first in odd rounds). It returns each side's mean wall time per
// call, in ns, and appends each call's to lat[side].
func interleaved(ctx context.Context, sides []*side, n, block, round int, lat [][]float64) ([]float64, error) {
	sum := make([]time.Duration, len(sides))
	for done := 0; done < n; done += block {
		k := min(block, n-done)
		for _, i := range orders(len(sides), round) {
			for range k {
				start := time.Now()
				if err := sides[i].call(ctx); err != nil {
					return nil, err
				}
				d := time.Since(start)
				sum[i] += d
				lat[i] = append(lat[i], float64(d.Nanoseconds()))
			}
		}
	}
	out := make([]float64, len(sides))
	for i := range sides {
		out[i] = float64(sum[i].Nanoseconds()) / float64(n)
	}
	return out, nil
}
