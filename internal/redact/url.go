package redact

import (
	"bytes"
	"net/url"
	"strings"
)

// maxDepth bounds recursion into nested content: a URL in a query value, JSON
// in a JSON string, a part in a part. Deeper content is only masked.
const maxDepth = 8

// URL redacts a URL, absolute or relative, parsable or not. A userinfo
// password becomes Mask (a user alone, as in "https://token@host", too), and
// so do the values of secret query keys, compared percent-decoded. A query
// value that is a URL (?next=https://...) is redacted in turn, and put back
// escaped as it was, Mask aside. A fragment holding a query ("#access_token=",
// "#/cb?token=") is treated as one. All else is kept byte for byte. Redacted
// values are collected in s, and known secrets masked.
func (r *Redactor) URL(raw string, s *Secrets) string {
	return s.Mask(r.url(raw, s, 0))
}

func (r *Redactor) url(raw string, s *Secrets, depth int) string {
	var edits []edit
	path := 0
	if a := authority(raw); a >= 0 {
		path = len(raw)
		if k := strings.IndexAny(raw[a:], "/?#"); k >= 0 {
			path = a + k
		}
		if at := strings.LastIndexByte(raw[a:path], '@'); at >= 0 {
			user, pw, hasPw := strings.Cut(raw[a:a+at], ":")
			if !hasPw {
				user, pw = "", user
			}
			if pw != "" {
				s.Add(pw)
				if dec, err := url.PathUnescape(pw); err == nil {
					s.Add(dec)
				}
				edits = append(edits, edit{a + at - len(pw), a + at, Mask})
			}
		}
	}
	end, frag := len(raw), -1 // the query ends at end; frag is where the fragment's pairs start
	if h := strings.IndexByte(raw[path:], '#'); h >= 0 {
		end, frag = path+h, path+h+1
		if q := strings.IndexByte(raw[frag:], '?'); q >= 0 {
			frag += q + 1
		}
	}
	if q := strings.IndexByte(raw[path:end], '?'); q >= 0 {
		edits = append(edits, r.pairs(raw, path+q+1, end, s, depth)...)
	}
	if frag >= 0 {
		edits = append(edits, r.pairs(raw, frag, len(raw), s, depth)...)
	}
	return apply(raw, edits)
}

// authority returns where the authority of "scheme://..." or "//..." starts,
// or -1.
func authority(raw string) int {
	if strings.HasPrefix(raw, "//") {
		return 2
	}
	if k := strings.Index(raw, "://"); k > 0 && schemeStart(raw, k) == 0 {
		return k + 3
	}
	return -1
}

// schemeStart returns where the URL scheme ending at text[end] starts, or -1.
func schemeStart(text string, end int) int {
	i := end
	for i > 0 && (text[i-1] < 0x80 && class(text[i-1]) != sep || strings.IndexByte("+.-", text[i-1]) >= 0) {
		i--
	}
	for i < end && (class(text[i]) == digit || strings.IndexByte("+.-", text[i]) >= 0) {
		i++ // a scheme starts with a letter
	}
	if i == end {
		return -1
	}
	return i
}

// pairs returns the edits redacting the "k=v&k=v" pairs of text[from:to] (a
// query, a fragment, a form).
func (r *Redactor) pairs(text string, from, to int, s *Secrets, depth int) []edit {
	var edits []edit
	for from < to {
		pair, _, _ := strings.Cut(text[from:to], "&")
		key, val, ok := strings.Cut(pair, "=")
		if start := from + len(key) + 1; ok && val != "" {
			if red := r.pairValue(key, val, s, depth); red != val {
				edits = append(edits, edit{start, start + len(val), red})
			}
		}
		from += len(pair) + 1
	}
	return edits
}

// pairValue redacts the value of one pair: Mask under a secret key (collected
// as spelled and decoded), else redacted as a URL if it is one, and masked for
// known secrets in its decoded form.
func (r *Redactor) pairValue(key, val string, s *Secrets, depth int) string {
	if k, err := url.QueryUnescape(key); err == nil {
		key = k
	}
	plain, err := url.QueryUnescape(val)
	if err != nil {
		plain = val
	}
	if r.Secret(strings.TrimPrefix(key, "amp;")) { // "&amp;" in HTML or XML
		s.Add(val)
		s.Add(plain)
		return Mask
	}
	red := plain
	if depth < maxDepth && strings.Contains(plain, "://") {
		red = r.url(plain, s, depth+1)
	}
	if plain != val {
		red = s.Mask(red) // a known secret, escaped some other way
	}
	switch {
	case red == plain:
		return val
	case plain == val:
		return red
	}
	return strings.ReplaceAll(url.QueryEscape(red), url.QueryEscape(Mask), Mask) // escaped again
}

// urls redacts every URL in free text: a scheme, "://", and what follows up to
// a space, a quote or an angle bracket.
func (r *Redactor) urls(text string, s *Secrets, depth int) string {
	var edits []edit
	for off := 0; ; {
		k := strings.Index(text[off:], "://")
		if k < 0 {
			return apply(text, edits)
		}
		start, end := schemeStart(text, off+k), off+k+3
		for end < len(text) && strings.IndexByte(" \t\r\n\"'`<>", text[end]) < 0 {
			end++
		}
		if start >= off {
			if red := r.url(text[start:end], s, depth); red != text[start:end] {
				edits = append(edits, edit{start, end, red})
			}
		}
		off = end
	}
}

// urlBytes is urls for bytes, returning b itself when nothing changed.
func (r *Redactor) urlBytes(b []byte, s *Secrets, depth int) []byte {
	if !bytes.Contains(b, []byte("://")) || !bytes.ContainsAny(b, "?#@") {
		return b // no URL can change
	}
	q := string(b)
	if u := r.urls(q, s, depth); u != q {
		return []byte(u)
	}
	return b
}
