package integrationtest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apitemplate/server/internal/integration"
	"github.com/apitemplate/server/internal/integration/integrationtest"
)

// WaitFor wakes on the Add that reaches n, from any goroutine, and returns every record.
func TestWaitForConcurrentAdds(t *testing.T) {
	sink := &integrationtest.Sink{}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			time.Sleep(time.Duration(i%5) * time.Millisecond)
			sink.Add(&integration.Request{ID: fmt.Sprint(i)})
		})
	}
	recs := sink.WaitFor(t, 50)
	wg.Wait()
	seen := map[string]bool{}
	for _, r := range recs {
		seen[r.ID] = true
	}
	if len(recs) != 50 || len(seen) != 50 {
		t.Errorf("WaitFor returned %d records, %d distinct; want 50", len(recs), len(seen))
	}
	if got := sink.Records(); len(got) != 50 {
		t.Errorf("Records() = %d; want 50", len(got))
	}
}

// fatalTB records Fatalf instead of stopping the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }

// Too few records fail the test after the Sink's Timeout, saying how many there were.
func TestWaitForTimesOut(t *testing.T) {
	sink := &integrationtest.Sink{Timeout: 50 * time.Millisecond}
	sink.Add(&integration.Request{ID: "only"})
	tb := &fatalTB{TB: t}
	start := time.Now()
	if recs := sink.WaitFor(tb, 2); recs != nil {
		t.Errorf("WaitFor returned %d records; want nil after failing", len(recs))
	}
	if !strings.Contains(tb.msg, "1 records after 50ms; want 2") {
		t.Errorf("failure message %q", tb.msg)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Errorf("failed after %v; want the 50ms timeout", waited)
	}
}
