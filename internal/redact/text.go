package redact

import (
	"bytes"
	"slices"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// Text redacts a log line or an error text: every URL in it ("scheme://...")
// as URL does, then the value of every key=value, key: value, "key": value or
// 'key'=value pair whose key is secret, keeping an auth scheme ("Authorization:
// Bearer [REDACTED]"), and then those values wherever else they occur.
func (r *Redactor) Text(text string) string {
	var s Secrets
	b := []byte(r.urls(text, &s, 0))
	return s.Mask(string(apply(b, r.loose(b, 0, false, &s))))
}

// loose returns the edits masking, from b[from:] on, the values of secret keys
// in text no parser takes (free text, or JSON cut short or broken). A key is a
// quoted string (in ", ' or \") or a bare word of letters, digits and _$-.,
// followed by ':' or '='. Keys are looked for everywhere, inside strings too:
// a word that is no secret may be masked, a secret is not missed. jsonish
// quotes the Mask that replaces unquoted values.
func (r *Redactor) loose(b []byte, from int, jsonish bool, s *Secrets) []edit {
	var edits []edit
	for i := from; i < len(b); i++ {
		key, v := looseKey(b, i)
		if v < 0 {
			continue
		}
		v = skip(b, v, " \t")
		if v == len(b) || b[v] != ':' && b[v] != '=' || !secret(r, key) {
			continue
		}
		if b[v] == ':' {
			v = skip(b, v+1, " \t\r\n")
		} else {
			v = skip(b, v+1, " \t")
		}
		e := looseValue(b, v, jsonish, s)
		edits = append(edits, e)
		i = max(i, e.end-1)
	}
	return edits
}

// skip returns the index of the first byte from b[i] on that is not in set.
func skip(b []byte, i int, set string) int {
	for ; i < len(b); i++ {
		in := false
		for j := 0; j < len(set) && !in; j++ { // sets are a few bytes: cheaper than IndexByte's call
			in = set[j] == b[i]
		}
		if !in {
			break
		}
	}
	return i
}

// upTo returns the index of the first byte from b[i] on that is in set, or
// len(b).
func upTo(b []byte, i int, set string) int {
	for i < len(b) && strings.IndexByte(set, b[i]) < 0 {
		i++
	}
	return i
}

// looseKey returns the key at b[i] and the index after it, or -1.
func looseKey(b []byte, i int) ([]byte, int) {
	if q, from, to := quoted(b, i, true); to < len(b) {
		if key := b[from:to]; len(q) == 1 && q[0] == '"' && bytes.IndexByte(key, '\\') >= 0 {
			if dec, err := jsontext.AppendUnquote(nil, b[i:to+1]); err == nil {
				return dec, to + 1
			}
		}
		return b[from:to], to + len(q)
	}
	if !identByte(b[i]) || i > 0 && identByte(b[i-1]) {
		return nil, -1
	}
	end := i + 1
	for end < len(b) && identByte(b[end]) {
		end++
	}
	return b[i:end], end
}

func identByte(c byte) bool { return c < 0x80 && class(c) != sep || strings.IndexByte("_$-.", c) >= 0 }

// quoted finds a string quoted in ", ' or \" (JSON in a JSON string) at b[i]:
// it returns the quote and the contents b[from:to], to being len(b) if the
// string is not closed, or if b[i] starts no string. A key must close within
// 256 bytes, on the same line.
func quoted(b []byte, i int, key bool) (quote []byte, from, to int) {
	switch {
	case i < len(b) && (b[i] == '"' || b[i] == '\''):
		quote = b[i : i+1]
	case i < len(b) && bytes.HasPrefix(b[i:], []byte(`\"`)):
		quote = b[i : i+2]
	default:
		return nil, len(b), len(b)
	}
	for to = i + len(quote); to < len(b) && !bytes.HasPrefix(b[to:], quote); to++ {
		if key && (b[to] == '\n' || to-i > 256) {
			return nil, len(b), len(b)
		}
		if b[to] == '\\' && len(quote) == 1 {
			to++
		}
	}
	return quote, i + len(quote), min(to, len(b))
}

// looseValue returns the edit masking the value at b[v], and collects it: a
// quoted string, possibly not closed; an object or array, up to its close or
// the end; else a word, or two if the first is an auth scheme.
func looseValue(b []byte, v int, jsonish bool, s *Secrets) edit {
	bare := Mask
	if jsonish {
		bare = quotedMask
	}
	q, from, to := quoted(b, v, false)
	switch {
	case bytes.HasPrefix(b[v:], []byte(Mask)):
		return edit{v, v + len(Mask), Mask}
	case q != nil && to == len(b): // cut short: mask to the end, and close the quote
		s.Add(string(b[from:]))
		return edit{from, len(b), Mask + string(q)}
	case q != nil:
		s.Add(string(b[from:to]))
		if dec, err := jsontext.AppendUnquote(nil, b[v:to+1]); err == nil {
			s.Add(string(dec))
		}
		return edit{from, to, Mask}
	case v < len(b) && (b[v] == '{' || b[v] == '['):
		end := closing(b, v)
		collectJSON(b[v:end], s)
		return edit{v, end, bare}
	}
	end := upTo(b, v, " \t\r\n,;&)]}<>\"'")
	if end+1 < len(b) && b[end] == ' ' && slices.Contains(authSchemes, strings.ToLower(string(b[v:end]))) {
		v, end = end+1, upTo(b, end+1, " \t\r\n,;\"'") // keep the scheme
		bare = Mask
	}
	if end == v {
		return edit{v, v, ""} // nothing to hide
	}
	s.Add(string(b[v:end]))
	return edit{v, end, bare}
}

var authSchemes = []string{"bearer", "basic", "digest", "token", "bot", "negotiate", "ntlm"}

// closing returns the index after the bracket closing the one at b[open], or
// len(b). Quoted strings are skipped; bracket kinds are not matched.
func closing(b []byte, open int) int {
	depth := 0
	for i := open; i < len(b); i++ {
		switch b[i] {
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
		case '"', '\'':
			_, _, i = quoted(b, i, false)
		}
	}
	return len(b)
}
