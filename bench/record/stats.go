package main

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"
)

// processCPU is the user and system CPU time this process has used so far, all threads: the
// caller's goroutine, the in-process upstream, the collector, the Buffer's flusher and the
// BatchSpanProcessor's goroutine alike. PostgreSQL's own work (parsing the COPY, writing the
// table) is another process's and is not in it: figure 1 counts what the service pays.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ratios returns num[i]/den[i] for each round.
func ratios(num, den []float64) []float64 {
	rs := make([]float64, len(num))
	for i := range num {
		rs[i] = num[i] / den[i]
	}
	return rs
}

// quantile is the q-quantile of xs (0.5: the median), interpolated between neighbours.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}

func median(xs []float64) float64 { return quantile(xs, 0.5) }

func mean(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// spread describes the per-round ratios a figure's median comes from.
type spread struct {
	median, q1, q3, min, max float64
}

func spreadOf(xs []float64) spread {
	return spread{median(xs), quantile(xs, 0.25), quantile(xs, 0.75), slices.Min(xs), slices.Max(xs)}
}

// seMedian estimates the standard error of the median from the interquartile range: for
// normal noise sigma = IQR/1.349 and the median's error is 1.2533 sigma/sqrt(n). A rough
// figure, to say whether a run's median is sharp enough to compare with its goal.
func (s spread) seMedian(n int) float64 {
	if n < 2 {
		return 0
	}
	return 1.2533 * (s.q3 - s.q1) / 1.349 / math.Sqrt(float64(n))
}

// orders cycles through every order of n sides (n <= 3), one per round: each side runs first,
// and after each other side, equally often over every n! rounds. What a block leaves behind
// (cold caches, a background goroutine still finishing) thus lands on every side alike.
func orders(n, round int) []int {
	perms := [][]int{{0}}
	switch n {
	case 2:
		perms = [][]int{{0, 1}, {1, 0}}
	case 3:
		perms = [][]int{{0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {0, 2, 1}, {2, 1, 0}, {1, 0, 2}}
	}
	return perms[round%len(perms)]
}

// warnNoisy says when a figure's median is too unsteady to be compared with its goal: its
// estimated standard error is above limit (a sixth of the distance between the ~2x starting
// point and figure 1's goal; a third of figure 2's). A busy machine (a build, a test run on
// the other core) does that; the figure and its verdict are printed all the same.
func warnNoisy(name string, se, limit float64, unit string) {
	if se > limit {
		fmt.Printf("# NOISY %s: the median's standard error is ~%.3g %s (over %.3g %s): rerun on a quiet machine, or with more -rounds\n",
			name, se, unit, limit, unit)
	}
}

// loadAverage is the first figure of /proc/loadavg ("" where there is none): the number of
// runnable processes, averaged over the last minute, to print next to the figures.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
