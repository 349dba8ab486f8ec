package integration

import (
	"strings"
	"testing"
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
