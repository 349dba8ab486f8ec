//go:build !unix

package integration

// allocChunk falls back to the Go heap where anonymous mappings are not available: the
// buffer works the same, but its records count in the collector's pacing (see frameQueue).
func allocChunk(n int) []byte { return make([]byte, n) }

func freeChunk([]byte) {}
