package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"slices"
	"strings"
	"unicode/utf16"
)

// minLen is the shortest value searched for: a shorter one (a CVV) would
// match all over unrelated text, so it is redacted only where a name gives it
// away.
const minLen = 4

// Secrets holds the values redacted so far in one call, to mask their echoes.
// It is for one goroutine. The zero value is empty and ready; a nil *Secrets
// is empty and ignores Add.
type Secrets struct {
	seen    map[string]bool
	forms   []spelling // searched for, longest first
	pending []string   // values whose \u-escaped spellings are not built yet, see unicode
}

type spelling struct {
	s string
	b []byte // the same, for byte searches
}

// Add records v. Empty and repeated values are ignored, and values shorter
// than 4 bytes or found in Mask are never searched for. Searched for are v and
// its echoed spellings: JSON-escaped (plain, HTML-safe, each also with "\/",
// and as PHP writes non-ASCII), every character \u-escaped (lower- and
// upper-case hex), query- and path-escaped, HTML-escaped, and base64
// (standard and URL alphabets, with and without padding).
func (s *Secrets) Add(v string) {
	if s == nil || v == "" || s.seen[v] {
		return
	}
	if s.seen == nil {
		s.seen = make(map[string]bool)
	}
	s.seen[v] = true
	if len(v) < minLen || strings.Contains(Mask, v) {
		return
	}
	s.add(spellings(v))
	s.pending = append(s.pending, v)
}

func (s *Secrets) add(forms []string) {
	for _, f := range forms {
		if !strings.Contains(Mask, f) && !slices.ContainsFunc(s.forms, func(x spelling) bool { return x.s == f }) {
			s.forms = append(s.forms, spelling{f, []byte(f)})
		}
	}
	slices.SortStableFunc(s.forms, func(a, b spelling) int { return len(b.s) - len(a.s) })
}

// unicode adds the fully \u-escaped spellings of the values added so far, once a
// text that could hold one comes along: they are six times a value's length, and
// most texts have no \u at all (BenchmarkSecretsAdd).
func (s *Secrets) unicode(hasEscape bool) {
	if len(s.pending) == 0 || !hasEscape {
		return
	}
	for _, v := range s.pending {
		s.add([]string{uEscape(v, lowerHex, 0), uEscape(v, upperHex, 0)})
	}
	s.pending = nil
}

func spellings(v string) []string {
	b := []byte(v)
	out := []string{v}
	// Unpadded only: a padded echo starts with the unpadded spelling, so it is found too,
	// and Mask takes its padding with it.
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		out = append(out, enc.EncodeToString(b))
	}
	if plain(v) {
		return out // every escaped spelling below is v itself
	}
	out = append(out, url.QueryEscape(v), url.PathEscape(v), html.EscapeString(v))
	for _, escapeHTML := range []bool{false, true} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(escapeHTML)
		_ = enc.Encode(v) // "...", newline
		q := buf.String()[1 : buf.Len()-2]
		php := uEscape(q, lowerHex, 0x80)
		out = append(out, q, strings.ReplaceAll(q, "/", `\/`), php, strings.ReplaceAll(php, "/", `\/`))
	}
	return out
}

// plain reports whether v is made of characters no escaping changes: the common case of a
// token or key, for which the escaped spellings need not be built (BenchmarkSecretsAdd).
func plain(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

const (
	lowerHex = "0123456789abcdef"
	upperHex = "0123456789ABCDEF"
)

// uEscape writes the characters of v from min on as \u escapes (UTF-16), in the given digits.
func uEscape(v, digits string, min rune) string {
	var b strings.Builder
	b.Grow(6 * len(v))
	for _, r := range v {
		if r < min {
			b.WriteRune(r)
			continue
		}
		units := [2]rune{r}
		n := 1
		if r > 0xffff {
			units[0], units[1] = utf16.EncodeRune(r)
			n = 2
		}
		for _, u := range units[:n] {
			b.WriteString(`\u`)
			b.WriteByte(digits[u>>12&0xf])
			b.WriteByte(digits[u>>8&0xf])
			b.WriteByte(digits[u>>4&0xf])
			b.WriteByte(digits[u&0xf])
		}
	}
	return b.String()
}

// base64Like reports whether f could be a base64 spelling, whose padding Mask takes too.
func base64Like(f string) bool {
	for i := 0; i < len(f); i++ {
		if c := f[i]; !identByte(c) && c != '+' && c != '/' {
			return false
		}
	}
	return true
}

// Mask replaces every spelling of every value searched for with Mask;
// overlapping matches become one Mask. Without a match it returns text itself,
// without allocating.
func (s *Secrets) Mask(text string) string {
	if s == nil {
		return text
	}
	s.unicode(strings.Contains(text, `\u`))
	var hits []edit
	for _, f := range s.forms {
		for off := 0; ; off++ { // not += len: "aaaa" in "aaaaa" must reach the last byte too
			k := index(text[off:], f.s)
			if k < 0 {
				break
			}
			off += k
			end := off + len(f.s)
			for n := 0; n < 2 && end < len(text) && text[end] == '=' && base64Like(f.s); n++ {
				end++ // a base64 spelling's padding
			}
			hits = append(hits, edit{off, end, Mask})
		}
	}
	slices.SortFunc(hits, func(a, b edit) int { return a.start - b.start })
	merged := hits[:0]
	for _, h := range hits {
		if n := len(merged); n > 0 && h.start < merged[n-1].end {
			merged[n-1].end = max(merged[n-1].end, h.end)
		} else {
			merged = append(merged, h)
		}
	}
	return apply(text, merged)
}

// MaskBytes is Mask for bytes; without a match it returns b itself.
func (s *Secrets) MaskBytes(b []byte) []byte {
	if !s.in(b) {
		return b
	}
	return []byte(s.Mask(string(b)))
}

// in reports whether b holds a spelling of a value searched for.
func (s *Secrets) in(b []byte) bool {
	if s == nil {
		return false
	}
	s.unicode(bytes.Contains(b, []byte(`\u`)))
	return slices.ContainsFunc(s.forms, func(f spelling) bool { return indexBytes(b, f.b) >= 0 })
}

// head is how much of a spelling index looks for at once. Go's Index runs a vector search
// for patterns up to about this long, and a much slower rolling hash beyond; a bearer token
// is often ten times as long (record_total_vs_otelhttp in docs/BENCHMARKS.md).
const head = 32

// index is strings.Index(text, f), finding f by its first head bytes.
func index(text, f string) int {
	if len(f) <= head {
		return strings.Index(text, f)
	}
	for off := 0; ; {
		k := strings.Index(text[off:], f[:head])
		if k < 0 {
			return -1
		}
		if strings.HasPrefix(text[off+k:], f) {
			return off + k
		}
		off += k + 1
	}
}

// indexBytes is index for bytes.
func indexBytes(text, f []byte) int {
	if len(f) <= head {
		return bytes.Index(text, f)
	}
	for off := 0; ; {
		k := bytes.Index(text[off:], f[:head])
		if k < 0 {
			return -1
		}
		if bytes.HasPrefix(text[off+k:], f) {
			return off + k
		}
		off += k + 1
	}
}

// maskTail masks an end of b that starts a spelling, 4 bytes or more: in a text
// cut short after b, a secret may be cut in half.
func (s *Secrets) maskTail(b []byte) []byte {
	if s == nil {
		return b
	}
	s.unicode(bytes.Contains(b, []byte(`\u`)))
	best := 0
	for _, f := range s.forms {
		for k := min(len(f.b), len(b)); k > best && k >= minLen; k-- {
			if f.b[k-1] == b[len(b)-1] && bytes.HasSuffix(b, f.b[:k]) {
				best = k
			}
		}
	}
	if best == 0 {
		return b
	}
	return append(b[:len(b)-best:len(b)-best], Mask...)
}
