package main

import (
	"encoding/json"
	"testing"
)

// The bodies are valid JSON of exactly the size the figures name, with the secret the
// recorder must mask.
func TestJSONBody(t *testing.T) {
	for _, size := range []int{smallSize, slowSize, 400, 64 << 10} {
		for _, kind := range []string{"request", "response"} {
			b := jsonBody(size, kind)
			if len(b) != size || !json.Valid(b) {
				t.Errorf("jsonBody(%d, %s): %d bytes, valid %v", size, kind, len(b), json.Valid(b))
			}
		}
	}
}

func TestQuantile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	if m := median(xs); m != 3 {
		t.Errorf("median = %v, want 3", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median of 4 = %v, want 2.5", m)
	}
	if q := quantile(xs, 0.25); q != 2 {
		t.Errorf("q1 = %v, want 2", q)
	}
	if xs[0] != 5 {
		t.Error("quantile sorted its argument")
	}
}

// Every order of three sides comes up once in six rounds.
func TestOrders(t *testing.T) {
	seen := map[[3]int]bool{}
	for r := range 6 {
		o := orders(3, r)
		seen[[3]int{o[0], o[1], o[2]}] = true
	}
	if len(seen) != 6 {
		t.Errorf("%d orders in 6 rounds, want 6", len(seen))
	}
}
