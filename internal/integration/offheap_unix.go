//go:build unix

package integration

import "golang.org/x/sys/unix"

// allocChunk returns n bytes of anonymous memory mapped outside the Go heap. The pages cost
// resident memory only once written, and the garbage collector neither scans them nor counts
// them when it paces itself: see frameQueue for why that matters. Only bytes may be stored
// there, never Go pointers. Give the memory back with freeChunk.
func allocChunk(n int) []byte {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		// Out of address space or a mapping limit: the heap still works, only less frugally.
		return make([]byte, n)
	}
	return b
}

// freeChunk unmaps a chunk from allocChunk. A chunk that came from the heap is left to the
// collector (Munmap refuses memory it did not map).
func freeChunk(b []byte) { _ = unix.Munmap(b) }
