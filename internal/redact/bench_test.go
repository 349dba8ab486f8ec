package redact

import (
	"bytes"
	"testing"
)

// BenchmarkBody1KiBJSON redacts a realistic 1 KiB JSON response, clean and
// with two secrets (one under a key, one echoed), holding two known secrets.
// Collecting a secret is measured by BenchmarkSecretsAdd.
func BenchmarkBody1KiBJSON(b *testing.B) {
	clean := cleanJSON(1024)
	dirty := bytes.Replace(clean, []byte(`"qty":1,`), []byte(`"qty":1,"password":"hunter22-x",`), 1)
	dirty = bytes.Replace(dirty, []byte(`deliver to dock`), []byte(`sent Tr0ub4dor&3 to dock`), 1)
	for _, bm := range []struct {
		name string
		body []byte
	}{{"clean", clean}, {"two-secrets", dirty}} {
		b.Run(bm.name, func(b *testing.B) {
			r := Standard()
			var s Secrets
			s.Add("Tr0ub4dor&3")
			s.Add("Bearer-abcdef-123")
			b.SetBytes(int64(len(bm.body)))
			b.ReportAllocs()
			for b.Loop() {
				r.Body(bm.body, "application/json", false, &s)
			}
		})
	}
}

func BenchmarkSecretsAdd(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var s Secrets
		s.Add("Tr0ub4dor&3")
	}
}
