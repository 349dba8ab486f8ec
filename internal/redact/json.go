package redact

import (
	"bytes"
	"io"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

var decodeOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// jsonReader is a pooled decoder reading from memory without a copy.
type jsonReader struct {
	buf     bytes.Buffer
	dec     jsontext.Decoder
	scratch []byte // decoded strings
	names   [64]nameMemo
}

// nameMemo is a name the walk has checked, for the next time it comes: a body repeats its
// names in every element of an array, and checking one costs a map lookup at best (a third
// of BenchmarkBody1KiBJSON before this memo, which record_total_vs_otelhttp needed).
type nameMemo struct {
	name   []byte // in the body being walked
	r      *Redactor
	secret bool
}

var jsonReaders = sync.Pool{New: func() any { return new(jsonReader) }}

func newJSONReader(b []byte) *jsonReader {
	j := jsonReaders.Get().(*jsonReader)
	j.buf = *bytes.NewBuffer(b)
	j.dec.Reset(&j.buf, decodeOptions...)
	return j
}

func (j *jsonReader) free() {
	clear(j.names[:]) // they point into the body
	j.buf = bytes.Buffer{}
	j.dec.Reset(&j.buf) // drop the reference to the input
	if cap(j.scratch) > 64<<10 {
		j.scratch = nil
	}
	jsonReaders.Put(j)
}

// json redacts JSON, or a stream of JSON values (NDJSON), in place: the value
// of a secret key, whatever its type, becomes "[REDACTED]" and its strings and
// numbers are collected. A string value holding JSON, XML or a URL is
// redacted as such and re-encoded if that changed it; an escaped string is
// also masked for known secrets, compared decoded; a number holding one
// becomes "[REDACTED]". Raw strings are left to the final mask of Body.
//
// From the first byte the tokenizer rejects (a cut, a trailing comma, a
// comment, single quotes...) on, the rest is scanned loosely. A leading
// byte-order mark is skipped.
func (r *Redactor) json(b []byte, s *Secrets, depth int) []byte {
	w := jsonWalker{r: r, s: s, depth: depth, b: b}
	stop := w.walk(len(bytes.TrimPrefix(b, []byte("\ufeff"))))
	return apply(b, append(w.edits, r.loose(b, stop, true, s)...))
}

type jsonWalker struct {
	r       *Redactor
	s       *Secrets
	depth   int
	b       []byte
	edits   []edit
	j       *jsonReader
	collect bool // only collect the strings and numbers
}

// walk tokenizes the last n bytes of w.b and returns where it stopped: len(w.b),
// or the end of the last good token.
func (w *jsonWalker) walk(n int) int {
	base := len(w.b) - n
	w.j = newJSONReader(w.b[base:])
	defer w.j.free()
	d := &w.j.dec
	offset := func() int { return base + int(d.InputOffset()) }
	for {
		k, length := d.StackIndex(d.StackDepth())
		before := offset()
		tok, err := d.ReadToken()
		kind := tok.Kind()
		var v []byte
		if err == nil && (kind == '"' || kind == '0') {
			// The token as written: what follows the separators after the last token.
			v = w.b[skip(w.b, before, " \t\r\n:,"):offset()]
		}
		switch {
		case err == io.EOF:
			return len(w.b)
		case err != nil:
			return offset()
		}
		name := kind == '"' && k == '{' && length%2 == 0 // an object member's name
		if !w.token(v, offset(), name) {
			continue
		}
		from := offset()
		if v, err = d.ReadValue(); err != nil { // cut or broken: mask loosely
			e := looseValue(w.b, skip(w.b, from, " \t\r\n:"), true, w.s)
			w.edits = append(w.edits, e)
			return e.end
		}
		w.secretValue(v, offset())
	}
}

// token handles a string or number v (nil for other tokens) ending at end, and reports
// whether it is the name of a secret member, whose value the caller reads next.
func (w *jsonWalker) token(v []byte, end int, name bool) bool {
	switch {
	case v == nil || w.collect && name:
	case w.collect: // a string or number in a secret value: decoded, and as spelled
		w.s.Add(string(w.unquote(v)))
		w.s.Add(strings.TrimSuffix(strings.TrimPrefix(string(v), `"`), `"`))
	case !name:
		w.value(v, end-len(v))
	default:
		return w.secretName(v)
	}
	return false
}

// secretName reports whether the member named by the JSON string v is secret.
func (w *jsonWalker) secretName(v []byte) bool {
	if bytes.IndexByte(v, '\\') >= 0 || len(v) < 3 {
		return secret(w.r, w.unquote(v)) // unquoted into scratch space: not kept
	}
	name := v[1 : len(v)-1]
	m := &w.j.names[(len(name)*31+int(name[0])+int(name[len(name)-1]))%len(w.j.names)]
	if m.r != w.r || !bytes.Equal(m.name, name) {
		*m = nameMemo{name: name, r: w.r, secret: secret(w.r, name)}
	}
	return m.secret
}

// secretValue masks the value v of a secret member, ending at end, and collects it.
func (w *jsonWalker) secretValue(v []byte, end int) {
	collectJSON(v, w.s)
	w.edits = append(w.edits, edit{end - len(v), end, quotedMask})
}

// value redacts the string or number v found at w.b[start:].
func (w *jsonWalker) value(v []byte, start int) {
	if v[0] != '"' {
		if len(v) >= minLen && w.s.in(v) { // shorter numbers are never searched for
			w.edits = append(w.edits, edit{start, start + len(v), quotedMask})
		}
		return
	}
	escaped, dec := bytes.IndexByte(v, '\\') >= 0, w.unquote(v)
	red := dec
	if w.depth < maxDepth {
		red = w.r.nested(dec, w.s, w.depth+1)
	}
	if escaped {
		red = w.s.MaskBytes(red)
	}
	if bytes.Equal(red, dec) {
		return
	}
	q, err := jsontext.AppendQuote(nil, red)
	if err != nil { // invalid UTF-8: mask the whole string
		q = []byte(quotedMask)
	}
	w.edits = append(w.edits, edit{start, start + len(v), string(q)})
}

// nested redacts the contents of a string: JSON or XML if it starts like it,
// else the URLs in it. It returns b itself if there is nothing to redact.
func (r *Redactor) nested(b []byte, s *Secrets, depth int) []byte {
	switch i := skip(b, 0, " \t\r\n"); {
	case i < len(b) && (b[i] == '{' || b[i] == '['):
		return r.json(b, s, depth)
	case i < len(b) && b[i] == '<':
		return r.xml(b, s, depth)
	}
	return r.urlBytes(b, s, depth)
}

// unquote returns the contents of the JSON string v, decoded, or the number
// v; a decoded string is in scratch space valid until the next call.
func (w *jsonWalker) unquote(v []byte) []byte {
	switch {
	case v[0] != '"':
		return v
	case bytes.IndexByte(v, '\\') < 0:
		return v[1 : len(v)-1]
	}
	w.j.scratch, _ = jsontext.AppendUnquote(w.j.scratch[:0], v) // v is valid
	return w.j.scratch
}

// collectJSON adds the strings and numbers of the JSON value v to s, strings
// both as spelled and decoded, and a value cut short at the end as it is.
// Names and true, false and null are not secrets.
func collectJSON(v []byte, s *Secrets) {
	if s != nil && len(v) > 0 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 && bytes.IndexByte(v[1:], '"') == len(v)-2 {
		s.Add(string(v[1 : len(v)-1])) // a plain string, the usual secret: no tokenizer needed
		return
	}
	if s != nil {
		w := jsonWalker{s: s, b: v, collect: true}
		s.Add(string(bytes.Trim(v[w.walk(len(v)):], " \t\r\n,:\"")))
	}
}
