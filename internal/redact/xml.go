package redact

import (
	"bytes"
	"encoding/xml"
	"io"
	"regexp"
	"strings"
)

// xml redacts XML and SOAP in place: the content of an element whose local
// name is secret (<wsse:Password>, <apiKey>), child elements and CDATA
// included, and the value of an attribute whose local name is secret
// (<Credentials password="x"/>) become Mask and are collected; URLs in other
// text and attributes are redacted. From where the decoder gives up (a cut,
// broken markup) on, regular expressions take over, and a secret element left
// open is masked to the end.
func (r *Redactor) xml(b []byte, s *Secrets, depth int) []byte {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil } // keep the bytes
	var edits []edit
	open, inside, last := 0, 0, 0 // a secret element's content starts at open; inside is the depth in it
	for {
		tok, err := d.RawToken()
		if err != nil {
			break
		}
		start, end := last, int(d.InputOffset())
		last = end
		switch t := tok.(type) {
		case xml.StartElement:
			if inside > 0 {
				inside++
				continue
			}
			edits = append(edits, r.xmlAttrs(b, start, end, s, depth)...)
			if secret(r, t.Name.Local) {
				inside, open = 1, end
			}
		case xml.EndElement:
			if inside > 0 {
				if inside--; inside == 0 && start > open {
					edits = append(edits, edit{open, start, Mask})
				}
			}
		case xml.CharData:
			if inside > 0 {
				s.Add(strings.TrimSpace(string(t)))
			} else if raw := string(b[start:end]); depth < maxDepth && strings.Contains(raw, "://") {
				edits = append(edits, edit{start, end, r.urls(raw, s, depth+1)})
			}
		}
	}
	if inside > 0 { // cut inside a secret element
		s.Add(strings.TrimSpace(string(b[open:])))
		return apply(b, append(edits, edit{open, len(b), Mask}))
	}
	for _, m := range xmlTag.FindAllSubmatchIndex(b[last:], -1) {
		edits = append(edits, r.xmlAttrs(b, last+m[0], last+m[5], s, depth)...)
		if m[6] >= 0 && m[7] > m[6] && secret(r, b[last+m[2]:last+m[3]]) {
			s.Add(strings.TrimSpace(string(b[last+m[6] : last+m[7]])))
			edits = append(edits, edit{last + m[6], last + m[7], Mask})
		}
	}
	return apply(b, edits)
}

var (
	// A tag and the text after it, or a tag cut short: local name, attributes, text.
	xmlTag = regexp.MustCompile(`<(?:[\w.-]+:)?([\w.-]+)([^<>]*)(?:>([^<]*))?`)
	// An attribute: local name, then a double-quoted, single-quoted or bare
	// value, the quoted ones possibly cut short.
	xmlAttr = regexp.MustCompile(`(?:[\w.-]+:)?([\w.-]+)\s*=\s*(?:"([^"]*)"?|'([^']*)'?|([^\s"'<>/=]+))`)
)

// xmlAttrs returns the edits redacting the attributes in b[start:end].
func (r *Redactor) xmlAttrs(b []byte, start, end int, s *Secrets, depth int) []edit {
	var edits []edit
	for _, m := range xmlAttr.FindAllSubmatchIndex(b[start:end], -1) {
		v := m[4:6]
		for k := 6; v[0] < 0; k += 2 {
			v = m[k : k+2]
		}
		val := string(b[start+v[0] : start+v[1]])
		if val != "" && secret(r, b[start+m[2]:start+m[3]]) {
			s.Add(val)
			edits = append(edits, edit{start + v[0], start + v[1], Mask})
		} else if depth < maxDepth && strings.Contains(val, "://") {
			edits = append(edits, edit{start + v[0], start + v[1], r.urls(val, s, depth+1)})
		}
	}
	return edits
}
