package integration

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A deferred build runs on the Buffer's flusher: a panic in it must not end the process nor
// leave unredacted bodies in the record.
func TestMaterializeSurvivesAPanickingBuild(t *testing.T) {
	// No Redactor: the build stores the request body, then panics on the URL's query.
	r := &Request{ID: "r1", raw: &rawCall{
		url:     "https://erp.example/orders?token=abc",
		reqBody: capturedBody{present: true, buf: []byte("password=hunter2"), total: 16, limit: 100},
	}}
	r.materialize()
	if r.Data != nil || r.Error == nil || !strings.Contains(*r.Error, "building the record failed") {
		t.Errorf("after a panicking build: data = %v, error = %v; want no data and the panic in error", r.Data, r.Error)
	}
	r.materialize() // the build ran once; a second call does nothing
}

// Ids are UUIDv7 and sort by the time they were made for, to a quarter of a microsecond,
// even within one millisecond; and they do not repeat.
func TestNewIDSortsByTime(t *testing.T) {
	base := time.Date(2026, 11, 21, 15, 4, 5, 0, time.UTC)
	seen := map[uuid.UUID]bool{}
	var prev string
	for i := range 10_000 {
		at := base.Add(time.Duration(i) * 250 * time.Nanosecond) // 4 000 ids per millisecond
		id := newID(at)
		if id.Version() != 7 || id.Variant() != uuid.RFC4122 {
			t.Fatalf("id %s: version %d, variant %v; want 7, RFC 4122", id, id.Version(), id.Variant())
		}
		if ms := int64(binary.BigEndian.Uint64(id[:8]) >> 16); ms != at.UnixMilli() {
			t.Fatalf("id %s holds %d ms; want %d", id, ms, at.UnixMilli())
		}
		s := id.String()
		if s <= prev {
			t.Fatalf("id for %v = %s, not after the previous %s", at, s, prev)
		}
		if seen[id] {
			t.Fatalf("id %s repeated", s)
		}
		seen[id], prev = true, s
	}
	if got, err := uuid.Parse(NewID()); err != nil || got.Version() != 7 {
		t.Errorf("NewID() = %v, %v; want a UUIDv7", got, err)
	}
}
