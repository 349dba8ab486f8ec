package jobs

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WriteList prints entries as an aligned table for `jobs list`:
//
//	NAME   SCHEDULE   NEXT RUN              EXCLUSIVE  TIMEOUT
//	flush  @every 1m  2025-01-01T00:01:00Z  no         30s
//	prune  @daily     2025-01-02T00:00:00Z  yes        1h0m0s
func WriteList(w io.Writer, entries []Entry) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSCHEDULE\tNEXT RUN\tEXCLUSIVE\tTIMEOUT")
	for _, e := range entries {
		next := "never"
		if !e.Next.IsZero() {
			next = e.Next.Format(time.RFC3339)
		}
		exclusive := "no"
		if e.Exclusive {
			exclusive = "yes"
		}
		timeout := "none"
		if e.Timeout > 0 {
			timeout = e.Timeout.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Name, e.Schedule, next, exclusive, timeout)
	}
	return tw.Flush()
}
