package integration

import (
	"encoding/binary"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A deferred build runs on the Buffer's goroutine: a panic in it must not end the process nor
// leave unredacted headers, URL or bodies in the record.
func TestBuildSurvivesAPanic(t *testing.T) {
	t.Parallel()
	// No Redactor: the build panics at the first header it redacts.
	r := &Request{ID: "r1", seen: &seenCall{
		url:       "https://erp.example/orders?token=abc",
		reqHeader: http.Header{"Authorization": {"Bearer abc"}},
		reqBody:   &capturedBody{buf: []byte("password=hunter2"), total: 16, limit: 100},
	}}
	r.build()
	if r.Data != nil || r.RequestHeaders != nil || r.URL != "" || r.Error == nil || !strings.Contains(*r.Error, "building the record failed") {
		t.Errorf("after a panicking build: data %v, headers %s, url %q, error %v; want nothing but the panic in error",
			r.Data, r.RequestHeaders, r.URL, deref(r.Error))
	}
	r.build() // the build ran once; a second call does nothing
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
