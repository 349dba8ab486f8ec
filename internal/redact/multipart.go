package redact

import (
	"bytes"
	"fmt"
	"mime"
)

// multipart redacts each part of a multipart body by its own headers: the
// content of a part whose Content-Disposition name is secret becomes Mask,
// binary content (not UTF-8) "[binary part: N bytes]", and other content is
// redacted as a body of the part's Content-Type, as cut if a cut left it
// unterminated. Boundaries, headers, preamble and epilogue are kept.
func (r *Redactor) multipart(b []byte, contentType string, truncated bool, s *Secrets, depth int) []byte {
	_, params, _ := mime.ParseMediaType(contentType)
	delim := []byte("\n--" + params["boundary"]) // at a line start
	next := func(from int) int {                 // the next delimiter from b[from], or -1
		if k := bytes.Index(b[from:], delim); k >= 0 {
			return from + k + 1
		}
		return -1
	}
	i := next(0)
	if bytes.HasPrefix(b, delim[1:]) {
		i = 0
	}
	if i < 0 || params["boundary"] == "" {
		return r.text(b, s, depth) // not multipart after all
	}
	var edits []edit
	for i >= 0 {
		start := i + len(delim) - 1
		nl := bytes.IndexByte(b[start:], '\n')
		if bytes.HasPrefix(b[start:], []byte("--")) || nl < 0 {
			break // the close delimiter, or a cut in the delimiter line
		}
		start, end := start+nl+1, len(b)
		if i = next(start - 1); i >= 0 {
			end = max(start, len(bytes.TrimSuffix(b[:i-1], []byte("\r")))) // the line break is the delimiter's
		}
		edits = append(edits, r.part(b, start, end, truncated && i < 0, s, depth)...)
	}
	return apply(b, edits)
}

// part returns the edit redacting the content of the part b[start:end].
func (r *Redactor) part(b []byte, start, end int, cut bool, s *Secrets, depth int) []edit {
	p := b[start:end]
	head, content, ok := bytes.Cut(p, []byte("\r\n\r\n"))
	if !ok {
		head, content, ok = bytes.Cut(p, []byte("\n\n"))
	}
	if nl := bytes.IndexByte(p, '\n'); nl >= 0 && len(bytes.TrimSpace(p[:nl])) == 0 { // no headers
		head, content, ok = nil, p[nl+1:], true
	}
	if !ok {
		return nil // cut in the headers
	}
	var name, contentType string
	for line := range bytes.Lines(head) {
		k, v, _ := bytes.Cut(line, []byte(":"))
		if k = bytes.TrimSpace(k); bytes.EqualFold(k, []byte("Content-Disposition")) {
			_, params, _ := mime.ParseMediaType(string(v))
			name = params["name"]
		} else if bytes.EqualFold(k, []byte("Content-Type")) {
			contentType = string(bytes.TrimSpace(v))
		}
	}
	switch {
	case name != "" && r.Secret(name):
		s.Add(string(bytes.TrimSpace(content)))
		return []edit{{end - len(content), end, Mask}}
	case !textLike(content):
		return []edit{{end - len(content), end, fmt.Sprintf("[binary part: %d bytes]", len(content))}}
	}
	if red := r.body(content, contentType, cut, s, depth+1); !bytes.Equal(red, content) {
		return []edit{{end - len(content), end, string(red)}}
	}
	return nil
}
