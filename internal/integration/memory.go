package integration

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
)

// SetMemoryLimit gives the Go runtime a soft memory limit of what the process holds now plus
// maxBytes, the buffer's bound, and returns it; with GOMEMLIMIT set it does nothing and
// returns 0.
//
// Why: a full buffer keeps maxBytes of records live on the heap, and by default (GOGC=100)
// the collector lets the heap grow to twice what is live before it runs. Under a burst with
// the database down, every record added is one dropped, so the heap would reach twice the
// bound (burst_rss_ratio in docs/BENCHMARKS.md). With the limit the collector runs sooner.
func SetMemoryLimit(maxBytes int64) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	inUse := int64(s[0].Value.Uint64() - s[1].Value.Uint64()) // what the runtime holds from the OS
	limit := inUse + maxBytes
	debug.SetMemoryLimit(limit)
	return limit
}
