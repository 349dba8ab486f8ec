//go:build race

package redact

// The race detector makes sync.Pool drop some of what is put in it, so
// allocation counts are not checked under it.
const raceEnabled = true
