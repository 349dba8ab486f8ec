package integration

import (
	"net/http"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The flusher builds every record from raw JSON: it decodes string tokens to look for
// echoed secrets and encodes header maps as JSON columns. encoding/json does both through
// reflection, a large share of a record's build; these do the same by hand, with the same
// results (the tests compare them with encoding/json).

// unquoteJSON decodes the JSON string token tok (quotes included) as encoding/json would:
// escapes resolved, an invalid byte or lone surrogate becoming U+FFFD. ok is false when tok
// is not a valid JSON string.
func unquoteJSON(tok []byte) (s string, ok bool) {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return "", false
	}
	in := tok[1 : len(tok)-1]
	plain := true
	for _, c := range in {
		if c == '\\' || c == '"' || c < 0x20 {
			plain = false
			break
		}
	}
	if plain && utf8.Valid(in) {
		return string(in), true
	}
	var b strings.Builder
	b.Grow(len(in))
	for i := 0; i < len(in); {
		c := in[i]
		switch {
		case c == '"' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(in[i:])
			b.WriteRune(r) // RuneError for an invalid byte, as encoding/json
			i += n
		case c != '\\':
			start := i
			for i < len(in) && in[i] != '\\' && in[i] != '"' && 0x20 <= in[i] && in[i] < utf8.RuneSelf {
				i++
			}
			b.Write(in[start:i]) // a run of plain ASCII, copied at once
		case i+1 >= len(in):
			return "", false
		default:
			switch e := in[i+1]; e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, ok := hex4(in[i+2:])
				if !ok {
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// A high surrogate pairs with a following \u low surrogate; anything else
					// leaves it alone, and alone it is U+FFFD.
					if lo, ok := hex4(in[min(i+2, len(in)):]); ok && i+1 < len(in) && in[i] == '\\' && in[i+1] == 'u' {
						if pair := utf16.DecodeRune(r, lo); pair != utf8.RuneError {
							b.WriteRune(pair)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				b.WriteRune(r)
				continue
			default:
				return "", false
			}
			i += 2
		}
	}
	return b.String(), true
}

// hex4 reads the four hex digits at the start of p.
func hex4(p []byte) (rune, bool) {
	if len(p) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// headerJSON encodes h as json.Marshal does (keys sorted, HTML characters escaped, a nil
// value as null); nil for an empty header.
func headerJSON(h http.Header) JSON {
	if len(h) == 0 {
		return nil
	}
	keys := make([]string, 0, len(h))
	size := 2
	for k, vs := range h {
		keys = append(keys, k)
		size += len(k) + 6
		for _, v := range vs {
			size += len(v) + 3
		}
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k, true, false)
		b = append(b, ':')
		vs := h[k]
		if vs == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for j, v := range vs {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, v, true, false)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}
