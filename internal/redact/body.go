package redact

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// quotedMask replaces JSON values.
const quotedMask = `"` + Mask + `"`

// Body returns a redacted copy of body, or body itself when nothing changed;
// body is not modified. The content type picks the format; other types are
// sniffed ('{' or '[' is JSON, '<' XML):
//   - JSON and NDJSON: the value of a secret key, whatever its type, becomes
//     "[REDACTED]"; a string holding JSON, XML or a URL is redacted as such.
//   - XML and SOAP: the content of secret elements, the value of secret
//     attributes.
//   - x-www-form-urlencoded: as a URL's query.
//   - multipart/*: each part by its name and its own content type.
//   - text: as Text.
//
// Known secrets are masked in every format, binary content included. With
// truncated, body is the start of a longer one, cut at a size cap: it is
// redacted as far as it goes, and an end that starts a known secret (4 bytes
// of it or more) is masked too.
func (r *Redactor) Body(body []byte, contentType string, truncated bool, s *Secrets) []byte {
	out := s.MaskBytes(r.body(body, contentType, truncated, s, 0))
	if truncated {
		out = s.maskTail(out)
	}
	return out
}

func (r *Redactor) body(b []byte, contentType string, truncated bool, s *Secrets, depth int) []byte {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	first := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\ufeff")), " \t\r\n")
	switch {
	case len(b) == 0 || depth > maxDepth:
		return b
	case strings.HasPrefix(mt, "multipart/"):
		return r.multipart(b, contentType, truncated, s, depth)
	case mt == "application/x-www-form-urlencoded":
		return apply(b, r.pairs(string(b), 0, len(b), s, depth))
	case strings.Contains(mt, "json") || len(first) > 0 && (first[0] == '{' || first[0] == '['):
		return r.json(b, s, depth)
	case strings.Contains(mt, "xml") || len(first) > 0 && first[0] == '<':
		return r.xml(b, s, depth)
	case !textLike(b):
		return b
	}
	return r.text(b, s, depth)
}

// text redacts the URLs and the loose key-value pairs of b, as Text does.
func (r *Redactor) text(b []byte, s *Secrets, depth int) []byte {
	b = r.urlBytes(b, s, depth)
	return apply(b, r.loose(b, 0, false, s))
}

// textLike reports whether b is UTF-8, allowing a character cut at the end.
func textLike(b []byte) bool {
	for i := max(0, len(b)-3); i < len(b); i++ {
		if utf8.RuneStart(b[i]) && !utf8.FullRune(b[i:]) {
			return utf8.Valid(b[:i])
		}
	}
	return utf8.Valid(b)
}

// edit replaces b[start:end] with repl.
type edit struct {
	start, end int
	repl       string
}

// apply returns b with the edits, sorted by start, made. An edit that
// overlaps an earlier one, or changes nothing, is skipped; without a change
// apply returns b itself.
func apply[T string | []byte](b T, edits []edit) T {
	var out []byte
	last := 0
	for _, e := range edits {
		if e.start >= last && string(b[e.start:e.end]) != e.repl {
			if out == nil {
				out = make([]byte, 0, len(b)+len(e.repl)+32) // usually the only allocation
			}
			out = append(append(out, b[last:e.start]...), e.repl...)
			last = e.end
		}
	}
	if last == 0 && out == nil {
		return b
	}
	return T(append(out, b[last:]...))
}
