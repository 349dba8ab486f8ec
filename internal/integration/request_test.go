package integration

import (
	"strings"
	"testing"
)

// A deferred build runs on the Buffer's flusher: a panic in it must not end the process nor
// leave unredacted bodies in the record.
func TestMaterializeSurvivesAPanickingBuild(t *testing.T) {
	r := &Request{ID: "r1", build: func(r *Request) {
		raw := "password=hunter2"
		r.Data = &raw
		panic("redactor bug")
	}}
	r.materialize()
	if r.Data != nil || r.Error == nil || !strings.Contains(*r.Error, "redactor bug") {
		t.Errorf("after a panicking build: data = %v, error = %v; want no data and the panic in error", r.Data, r.Error)
	}
	r.materialize() // the build ran once; a second call does nothing
}
