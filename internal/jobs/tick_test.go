package jobs

import (
	"testing"
	"time"
)

func TestTickAt(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		spec string
		now  time.Time
		want time.Time
	}{
		// A run woken by cron a little after its activation belongs to that activation...
		{"0 3 * * *", at("2025-01-02T03:00:00.004Z"), at("2025-01-02T03:00:00Z")},
		{"0 3 * * *", at("2025-01-02T03:00:00Z"), at("2025-01-02T03:00:00Z")},
		{"0 3 * * *", at("2025-01-02T10:17:00Z"), at("2025-01-02T03:00:00Z")},
		// ...and one just before it to the one before.
		{"0 3 * * *", at("2025-01-02T02:59:59.999Z"), at("2025-01-01T03:00:00Z")},
		{"@daily", at("2025-01-02T00:00:00.3Z"), at("2025-01-02T00:00:00Z")},
		{"@hourly", at("2025-01-02T13:59:59Z"), at("2025-01-02T13:00:00Z")},
		{"*/15 * * * *", at("2025-01-02T13:44:10Z"), at("2025-01-02T13:30:00Z")},
		{"* * * * * *", at("2025-01-02T13:44:10.5Z"), at("2025-01-02T13:44:10Z")},
		{"*/10 * * * * *", at("2025-01-02T13:44:19.9Z"), at("2025-01-02T13:44:10Z")},
		// Far-apart activations: found by bisection, not by stepping.
		{"@yearly", at("2025-12-31T23:59:59Z"), at("2025-01-01T00:00:00Z")},
		{"0 0 29 2 *", at("2027-06-01T00:00:00Z"), at("2024-02-29T00:00:00Z")},
		{"30 8 * * mon", at("2025-01-02T12:00:00Z"), at("2024-12-30T08:30:00Z")}, // Thursday -> Monday
		// Read in the scheduler's zone, whatever zone now is given in.
		{"0 3 * * *", at("2025-01-02T02:30:00Z").In(paris), time.Date(2025, 1, 2, 3, 0, 0, 0, paris)},
		{"CRON_TZ=America/New_York 0 3 * * *", at("2025-01-02T07:59:00Z"), at("2025-01-01T08:00:00Z")},
		// @every: multiples of the period, the same on every replica whatever its start.
		{"@every 1m", at("2025-01-02T13:44:59.9Z"), at("2025-01-02T13:44:00Z")},
		{"@every 6h", at("2025-01-02T13:44:10Z"), at("2025-01-02T12:00:00Z")},
	}
	for _, tt := range tests {
		sched, err := parser.Parse(tt.spec)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.spec, err)
		}
		if got := tickAt(sched, tt.now); !got.Equal(tt.want) {
			t.Errorf("tickAt(%q, %s) = %s; want %s", tt.spec, tt.now.Format(time.RFC3339Nano), got.Format(time.RFC3339Nano), tt.want.Format(time.RFC3339))
		}
	}
}
