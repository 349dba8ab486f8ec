package integration

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Redacted replaces every masked value. It is deliberately not URL- or
// form-escaped where it lands in a URL or form body: the output is for
// people reading logs, not for replaying the call.
const Redacted = "[REDACTED]"

// minMaskLen is the shortest secret that Secrets.Mask looks for in free
// text. Shorter values (a 3-digit CVV, "abc") would match all over
// unrelated text and garble it, so they are only redacted where a header
// name, query key or body key identifies them.
const minMaskLen = 4

// quotedRedacted is what a JSON value is replaced with.
const quotedRedacted = `"` + Redacted + `"`

// RedactConfig lists what a Redactor masks. DefaultRedactConfig returns the
// defaults; append to or delete from its slices before NewRedactor.
//
// All matching folds ASCII case only. Where a substring entry separates
// words with '_' or '-', a name may separate them with either, or not at all,
// so that one entry covers every common spelling of a key: "card_number"
// matches "cardNumber", "card-number" and "CARDNUMBER", "api_key" matches
// "apiKey" and "X-Api-Key". Within a word nothing is skipped: "ssn" does not
// match "business_name".
// Exact lists (Headers, QueryKeys, Allow) compare names as they are. Empty
// entries are ignored (an empty substring would otherwise match every name).
//
// Trap: deleting an exact entry does not stop a name from being redacted if
// a substring still matches it ("X-Auth-Token" is also caught by "token").
// To keep a name visible, put it in Allow, which wins over every list.
type RedactConfig struct {
	Headers           []string // exact header names, case-insensitive
	HeaderSubstrings  []string // a header whose lower-cased name contains one of these
	QueryKeys         []string // exact query keys, case-insensitive
	BodyKeySubstrings []string // a JSON or form key whose lower-cased name contains one of these
	Allow             []string // header names, query keys and body keys that are never redacted
}

// DefaultRedactConfig returns fresh slices on every call, so callers may
// modify them freely.
//
// Short substrings over-match: "ssn" is inside "className", "token" inside
// "max_tokens"; add such keys to Allow.
func DefaultRedactConfig() RedactConfig {
	return RedactConfig{
		Headers: []string{
			"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
			"X-Api-Key", "X-Auth-Token",
		},
		HeaderSubstrings: []string{"token", "secret", "password", "passwd", "api-key", "apikey"},
		QueryKeys: []string{
			"token", "access_token", "refresh_token", "api_key", "apikey", "key",
			"password", "secret", "client_secret", "signature", "sig",
			"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token",
			"AWSAccessKeyId", "X-Goog-Signature",
		},
		BodyKeySubstrings: []string{
			"password", "passwd", "secret", "token", "api_key", "apikey",
			"authorization", "client_secret", "private_key", "card_number",
			"cvv", "cvc", "ssn",
		},
	}
}

// Redactor applies a RedactConfig. It is immutable after NewRedactor and
// safe for concurrent use; name checks do not allocate.
//
// Every method both redacts and collects: values it redacts are added to
// the Secrets passed in, and whatever that Secrets already holds is masked
// in the output. So one call is redacted in this order, sharing one
// Secrets: request headers, request body, URL, response headers, response
// body, and finally Secrets.Mask on any error text. A part processed
// earlier is not revisited when a later part adds a secret.
type Redactor struct {
	headers    []string // all lists lower-cased, deduplicated, no empties
	headerSubs subIndex
	queryKeys  []string
	bodySubs   subIndex
	allow      []string
}

// subIndex groups substrings by first byte so that a name is scanned once,
// trying at each position only the substrings that can start there,
// instead of once per substring. Body keys are checked for every key of
// every JSON body, so this is the hot path of a clean body.
type subIndex [256][]string

func (x *subIndex) add(lowered []string) {
	for _, v := range lowered {
		x[v[0]] = append(x[v[0]], v)
	}
}

// NewRedactor copies cfg; later changes to cfg's slices have no effect.
func NewRedactor(cfg RedactConfig) *Redactor {
	r := &Redactor{
		headers:   lowerList(cfg.Headers),
		queryKeys: lowerList(cfg.QueryKeys),
		allow:     lowerList(cfg.Allow),
	}
	r.headerSubs.add(wordSubstrings(cfg.HeaderSubstrings))
	r.bodySubs.add(wordSubstrings(cfg.BodyKeySubstrings))
	return r
}

// isSeparator reports the bytes that separate words in a key: "card_number", "card-number".
func isSeparator(c byte) bool { return c == '_' || c == '-' }

// wordSubstrings lower-cases substring entries and turns each run of separators in them
// into one '_', which hasWordsAt reads as "any separators, or none": "card_number" then
// matches cardNumber, card-number and CARD_NUMBER, while "ssn", one word, does not match
// across a separator (business_name).
func wordSubstrings(in []string) []string {
	out := make([]string, 0, len(in))
	for _, v := range lowerList(in) {
		var b []byte
		for i := 0; i < len(v); i++ {
			switch {
			case !isSeparator(v[i]):
				b = append(b, v[i])
			case len(b) > 0 && b[len(b)-1] != '_':
				b = append(b, '_')
			}
		}
		b = bytes.TrimRight(b, "_")
		if w := string(b); w != "" && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

func lowerList(in []string) []string {
	out := make([]string, 0, len(in))
	for _, v := range in {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		b := []byte(v)
		for i, c := range b {
			b[i] = lowerASCII(c)
		}
		if v = string(b); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// equalFoldLower reports whether s equals lower (already lower-case),
// folding ASCII case in s.
func equalFoldLower[T string | []byte](s T, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lowerASCII(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

// hasPrefixFoldAt reports whether s[i:] starts with sub (already
// lower-case), folding ASCII case in s.
func hasPrefixFoldAt[T string | []byte](s T, i int, sub string) bool {
	if len(s)-i < len(sub) {
		return false
	}
	for j := 0; j < len(sub); j++ {
		if lowerASCII(s[i+j]) != sub[j] {
			return false
		}
	}
	return true
}

// containsFoldLower reports whether s contains sub (already lower-case,
// non-empty), folding ASCII case in s. No allocation, unlike
// strings.Contains(strings.ToLower(s), sub).
func containsFoldLower[T string | []byte](s T, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if hasPrefixFoldAt(s, i, sub) {
			return true
		}
	}
	return false
}

func inListFold[T string | []byte](s T, list []string) bool {
	for _, v := range list {
		if equalFoldLower(s, v) {
			return true
		}
	}
	return false
}

// containsAnyFold reports whether s contains one of x's substrings, as hasWordsAt matches
// them.
func containsAnyFold[T string | []byte](s T, x *subIndex) bool {
	for i := 0; i < len(s); i++ {
		for _, v := range x[lowerASCII(s[i])] {
			if hasWordsAt(s, i, v) {
				return true
			}
		}
	}
	return false
}

// hasWordsAt reports whether s, from i, spells sub (from wordSubstrings), folding ASCII
// case; where sub has a '_', s may have any run of separators or none.
func hasWordsAt[T string | []byte](s T, i int, sub string) bool {
	for j := 0; j < len(sub); j++ {
		if sub[j] == '_' {
			for i < len(s) && isSeparator(s[i]) {
				i++
			}
			continue
		}
		if i >= len(s) || lowerASCII(s[i]) != sub[j] {
			return false
		}
		i++
	}
	return true
}

func (r *Redactor) sensitiveHeader(name string) bool {
	if inListFold(name, r.allow) {
		return false
	}
	return inListFold(name, r.headers) || containsAnyFold(name, &r.headerSubs)
}

func (r *Redactor) sensitiveQueryKey(key string) bool {
	return !inListFold(key, r.allow) && inListFold(key, r.queryKeys)
}

func sensitiveBodyKey[T string | []byte](r *Redactor, key T) bool {
	return !inListFold(key, r.allow) && containsAnyFold(key, &r.bodySubs)
}

// Header returns a redacted copy of h; h itself is never modified, and
// nil gives nil. Map keys are kept as they are (not canonicalised).
//
// Authorization and Proxy-Authorization keep their scheme ("Bearer
// [REDACTED]"); any other sensitive header loses its whole value. Empty
// values stay empty, so "the header was sent but empty" remains visible.
// Location, Content-Location and Referer values go through URL, because a
// redirect can carry a fresh token in its query or fragment.
//
// Sensitive values are collected in s before any other value is masked,
// so the result does not depend on map iteration order.
func (r *Redactor) Header(h http.Header, s *Secrets) http.Header {
	if h == nil {
		return nil
	}
	n := 0
	for _, vs := range h {
		n += len(vs)
	}
	backing := make([]string, n) // one allocation for all values
	out := make(http.Header, len(h))
	for name, vs := range h {
		if vs == nil {
			out[name] = nil
			continue
		}
		nv := backing[:len(vs):len(vs)] // full slice expression: an append by the caller must not spill into the next header
		backing = backing[len(vs):]
		copy(nv, vs)
		out[name] = nv
		if !r.sensitiveHeader(name) {
			continue
		}
		for i, v := range nv {
			nv[i] = r.redactHeaderValue(name, v, s)
		}
	}
	for name, nv := range out {
		if r.sensitiveHeader(name) {
			continue
		}
		urlish := equalFoldLower(name, "location") || equalFoldLower(name, "content-location") ||
			equalFoldLower(name, "referer")
		for i, v := range nv {
			if urlish {
				nv[i] = r.URL(v, s)
			} else {
				nv[i] = s.Mask(v)
			}
		}
	}
	return out
}

func (r *Redactor) redactHeaderValue(name, v string, s *Secrets) string {
	t := strings.TrimSpace(v)
	if t == "" {
		return v
	}
	switch {
	case equalFoldLower(name, "authorization"), equalFoldLower(name, "proxy-authorization"):
		return redactAuthorization(t, s)
	case equalFoldLower(name, "cookie"):
		addCookieValues(t, false, s)
	case equalFoldLower(name, "set-cookie"):
		addCookieValues(t, true, s)
	}
	s.Add(t)
	return Redacted
}

// redactAuthorization keeps a leading auth scheme. A value without one (some
// APIs put a bare key in Authorization) is redacted whole. For Basic, the
// base64 blob, the decoded "user:pass" and the password alone are all
// collected, since an echo may show any of them; the user name alone is
// not, as it is rarely secret and often short.
func redactAuthorization(t string, s *Secrets) string {
	sp := strings.IndexAny(t, " \t")
	if sp <= 0 || !isAuthScheme(t[:sp]) {
		s.Add(t)
		return Redacted
	}
	scheme, cred := t[:sp], strings.TrimSpace(t[sp+1:])
	s.Add(cred)
	if equalFoldLower(scheme, "basic") {
		dec, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			dec, err = base64.RawStdEncoding.DecodeString(cred) // some clients drop the padding
		}
		if err == nil {
			up := string(dec)
			s.Add(up)
			if i := strings.IndexByte(up, ':'); i >= 0 {
				s.Add(up[i+1:])
			}
		}
	}
	return scheme + " " + Redacted
}

// isAuthScheme accepts an RFC 9110 token of plausible length. The length cap
// keeps "Authorization: <long key> <more>" from leaking the key as a scheme.
func isAuthScheme(s string) bool {
	if len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// addCookieValues collects cookie values so an echo of the bare value is
// masked too. For Set-Cookie only the first pair is the cookie; the rest are
// attributes (Path, Expires...), which must not become secrets.
func addCookieValues(v string, setCookie bool, s *Secrets) {
	for part := range strings.SplitSeq(v, ";") {
		if _, val, ok := strings.Cut(part, "="); ok {
			val = strings.TrimSpace(val)
			s.Add(val)
			s.Add(strings.Trim(val, `"`))
		}
		if setCookie {
			return
		}
	}
}

// URL redacts the userinfo and the values of sensitive query keys, then
// masks known secrets. Everything else is kept byte for byte: the raw
// query is rewritten in place, never re-encoded or reordered, and raw need
// not parse with net/url.
//
// Userinfo: with a password ("user:pw@") the user name stays and the
// password becomes [REDACTED]; a user name alone ("tok@") is redacted whole,
// because that form is how tokens are usually put in URLs (git remotes).
// A fragment that looks like a query ("#access_token=...", the OAuth
// implicit flow) gets the query treatment. Query keys are compared after
// percent-decoding, so "api%5Fkey" counts as api_key. A password holding
// an unescaped '/', '?' or '#' ends the authority early, as in net/url, and
// is then not recognised as userinfo.
func (r *Redactor) URL(raw string, s *Secrets) string {
	out := raw
	changed := false
	rest := 0 // where the path starts
	if a := authorityStart(raw); a >= 0 {
		e := len(raw)
		if k := strings.IndexAny(raw[a:], "/?#"); k >= 0 {
			e = a + k
		}
		rest = e
		if at := strings.LastIndexByte(raw[a:e], '@'); at >= 0 {
			if ui, ok := redactUserinfo(raw[a:a+at], s); ok {
				out = raw[:a] + ui + raw[a+at:]
				rest += len(out) - len(raw)
				changed = true
			}
		}
	}
	frag := ""
	if h := strings.IndexByte(out[rest:], '#'); h >= 0 {
		frag = out[rest+h:]
		out = out[:rest+h]
	}
	if q := strings.IndexByte(out[rest:], '?'); q >= 0 {
		q += rest + 1
		if nq, ok := r.redactPairs(out[q:], false, s); ok {
			out = out[:q] + nq
			changed = true
		}
	}
	if strings.IndexByte(frag, '=') >= 0 {
		if nf, ok := r.redactPairs(frag[1:], false, s); ok {
			frag = "#" + nf
			changed = true
		}
	}
	if changed {
		out += frag
	} else {
		out = raw
	}
	return s.Mask(out)
}

// authorityStart returns the index after "scheme://" or a leading "//", or
// -1. The scheme check stops "/cb?next=http://x" counting as absolute.
func authorityStart(raw string) int {
	if strings.HasPrefix(raw, "//") {
		return 2
	}
	i := strings.Index(raw, "://")
	if i <= 0 {
		return -1
	}
	for j := 0; j < i; j++ {
		c := raw[j]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (j == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return -1
		}
	}
	return i + 3
}

func redactUserinfo(ui string, s *Secrets) (string, bool) {
	user, pw, hasPw := strings.Cut(ui, ":")
	secret := ui
	if hasPw {
		secret = pw
	}
	if secret == "" {
		return "", false
	}
	s.Add(secret)
	if dec, err := url.PathUnescape(secret); err == nil {
		s.Add(dec)
	}
	if hasPw {
		return user + ":" + Redacted, true
	}
	return Redacted, true
}

// redactPairs rewrites "k=v&k=v" in place, replacing the values of
// sensitive keys (query rules, or body-key rules when body is set). It
// returns ok=false, without allocating, when nothing matched. Pairs without
// "=" or with an empty value are left alone: there is nothing to hide.
func (r *Redactor) redactPairs(q string, body bool, s *Secrets) (string, bool) {
	var b []byte // nil until the first change
	last := 0    // q[last:] not yet copied to b
	for off := 0; off < len(q); {
		end := strings.IndexByte(q[off:], '&')
		if end < 0 {
			end = len(q)
		} else {
			end += off
		}
		pair := q[off:end]
		if eq := strings.IndexByte(pair, '='); eq >= 0 && eq+1 < len(pair) {
			key, val := pair[:eq], pair[eq+1:]
			if strings.ContainsAny(key, "%+") {
				if k, err := url.QueryUnescape(key); err == nil {
					key = k
				}
			}
			var hit bool
			if body {
				hit = sensitiveBodyKey(r, key)
			} else {
				hit = r.sensitiveQueryKey(key)
			}
			if hit {
				s.Add(val)
				if v, err := url.QueryUnescape(val); err == nil {
					s.Add(v)
				}
				vstart := off + eq + 1
				b = append(b, q[last:vstart]...)
				b = append(b, Redacted...)
				last = end
			}
		}
		off = end + 1
	}
	if b == nil {
		return q, false
	}
	b = append(b, q[last:]...)
	return string(b), true
}

type redactKind int

const (
	redactAsText redactKind = iota
	redactAsJSON
	redactAsForm
)

// redactKindOf trusts a JSON or form content type; anything else (including none)
// is sniffed for JSON only. Form bodies are never sniffed: "a=b&c" is too
// common in plain text.
func redactKindOf(contentType string, body []byte) redactKind {
	mt := contentType
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = strings.TrimSpace(mt)
	switch {
	case equalFoldLower(mt, "application/x-www-form-urlencoded"):
		return redactAsForm
	case containsFoldLower(mt, "json"): // application/json, +json, x-ndjson, text/json
		return redactAsJSON
	}
	i := jsonSkipWS(body, 0)
	if i < len(body) && (body[i] == '{' || body[i] == '[') {
		return redactAsJSON
	}
	return redactAsText
}

// Body returns a redacted copy of body, or body itself when nothing
// changed. In JSON the value of a sensitive key, whatever its type, becomes
// the string "[REDACTED]", at any depth; everything else, key order,
// whitespace, escapes and number spelling included, is kept byte for byte.
// Invalid JSON and other content (text, XML, multipart) is only masked
// with s. Whitespace-separated JSON values (NDJSON) count as JSON. Strings
// that themselves contain JSON are not parsed.
//
// Trap: a cut-off JSON body is invalid, so Body finds no sensitive keys in
// it. For a capture that may have been cut short, use BodyPrefix.
//
// Masking inside JSON is token-aware so the output stays valid: a string
// containing a secret is re-encoded with the secret replaced, and a number
// containing one becomes "[REDACTED]" entirely.
func (r *Redactor) Body(body []byte, contentType string, s *Secrets) []byte {
	return r.body(body, contentType, false, s)
}

// BodyPrefix redacts body, which may be only the first bytes of a longer body (truncated ==
// true). For a JSON body cut short, it redacts every sensitive value that starts within the
// prefix, including a value cut off at the end (that partial value becomes "[REDACTED]" or is
// dropped entirely; the result need not be valid JSON, since it is a prefix). A form body cut
// short is redacted pair by pair, the last pair included. Other content is masked with s as
// Body does. With truncated == false it behaves exactly like Body.
//
// The rules for a JSON prefix, which is JSON if everything before the cut
// is (a syntax error before the cut makes it text, as in Body):
//   - A value under a sensitive key that is still open at the cut, a
//     scalar cut in half or a container whose end is missing, is replaced
//     from its start to the end of the prefix by "[REDACTED]". Its scalars,
//     the partial last one included, are collected in s.
//   - A key cut in half is dropped: the output ends where that key began.
//   - Any other token cut in half is kept as it is, unless it contains a
//     secret of s or ends with the first 4 or more bytes of one (the
//     secret may continue after the cut); then the whole partial token
//     becomes "[REDACTED]".
//
// Text and form prefixes are masked like Body's, and likewise a tail that
// begins a known secret (4 or more bytes of it) becomes [REDACTED]. A
// secret cut after fewer bytes may show those bytes. Outside redacted
// values the bytes are kept, so a multi-byte character cut at the end
// stays cut.
func (r *Redactor) BodyPrefix(body []byte, contentType string, truncated bool, s *Secrets) []byte {
	return r.body(body, contentType, truncated, s)
}

func (r *Redactor) body(body []byte, contentType string, prefix bool, s *Secrets) []byte {
	if len(body) == 0 {
		return body
	}
	switch redactKindOf(contentType, body) {
	case redactAsJSON:
		if out, ok := r.redactJSON(body, prefix, s); ok {
			return out
		}
	case redactAsForm:
		if out, ok := r.redactPairs(string(body), true, s); ok {
			body = []byte(out)
		}
	}
	if prefix {
		return s.maskPrefixBytes(body)
	}
	return s.maskBytes(body)
}

// redactJSON redacts body if it is valid JSON or, with prefix set, a valid
// start of JSON; ok is false otherwise.
func (r *Redactor) redactJSON(body []byte, prefix bool, s *Secrets) ([]byte, bool) {
	sc := jsonScanner{b: body, r: r, prefix: prefix}
	if !sc.run() {
		return nil, false
	}
	if s != nil {
		for _, l := range sc.leaves {
			addJSONLeaf(body[l.start:l.end], s)
		}
		if p := sc.partialLeaf; p.end > p.start {
			addPartialJSONLeaf(body[p.start:p.end], s)
		}
	}
	out := applyJSONEdits(clipTo(body, sc.cut), sc.edits)
	if !s.anyIn(out) && (!prefix || s.tailPrefixLen(out) == 0) {
		return out, true
	}
	if !prefix {
		return applyJSONEdits(out, maskJSONTokens(out, s, s.spans(out))), true
	}
	mk := jsonScanner{b: out, mask: s, prefix: prefix, hits: s.spans(out)}
	if !mk.run() { // cannot happen: out is body with values swapped for strings
		if prefix {
			return s.maskPrefixBytes(out), true
		}
		return s.maskBytes(out), true
	}
	return applyJSONEdits(clipTo(out, mk.cut), mk.edits), true
}

// maskJSONTokens returns the edits that mask every string or number token of b holding a
// secret wholly, as the scanner in mask mode does, for a complete document b already proved
// valid. It only looks closely where the secrets occur (hits, sorted): the strings on the way
// are skipped by searching for their closing quote, and it stops after the last hit. A
// response that echoes a secret is mostly not near it.
func maskJSONTokens(b []byte, s *Secrets, hits []maskSpan) []jsonEdit {
	if len(hits) == 0 {
		return nil
	}
	j := jsonScanner{b: b, mask: s, hits: hits}
	last := hits[len(hits)-1].start
	for pos := 0; pos <= last; {
		q := bytes.IndexByte(b[pos:], '"')
		if q < 0 {
			q = len(b) - pos
		}
		q += pos
		// b[pos:q] holds no string: numbers, literals, punctuation. A hit inside it can only
		// be in a number.
		if hitBetween(hits, pos, q) {
			for i := pos; i < q; {
				if c := b[i]; c == '-' || '0' <= c && c <= '9' {
					end, _ := scanNumber(b, i)
					j.maskToken(i, end)
					i = end
				} else {
					i++
				}
			}
		}
		if q >= len(b) {
			break
		}
		end := closingQuote(b, q) + 1
		j.maskToken(q, end)
		pos = end
	}
	return j.edits
}

// hitBetween reports whether a hit starts in [from, to).
func hitBetween(hits []maskSpan, from, to int) bool {
	k, _ := slices.BinarySearchFunc(hits, from, func(h maskSpan, at int) int { return h.start - at })
	return k < len(hits) && hits[k].start < to
}

// closingQuote returns the index of the quote that ends the valid JSON string starting at
// b[open]: the next quote not escaped by an odd run of backslashes.
func closingQuote(b []byte, open int) int {
	for i := open + 1; ; {
		k := bytes.IndexByte(b[i:], '"')
		if k < 0 {
			return len(b) - 1 // cannot happen: b is valid
		}
		i += k
		n := 0
		for n < i-open-1 && b[i-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			return i
		}
		i++
	}
}

// clipTo returns b[:n], with its capacity clipped when n < len(b), so that
// an append to a returned prefix cannot overwrite the rest of b.
func clipTo(b []byte, n int) []byte {
	if n < len(b) {
		return b[:n:n]
	}
	return b
}

// addJSONLeaf collects a scalar from inside a redacted JSON value: a string
// both decoded and as spelled (escapes may differ in an echo), a number as
// spelled. true/false/null are not secrets and would mask every "true".
func addJSONLeaf(tok []byte, s *Secrets) {
	if tok[0] != '"' {
		s.Add(string(tok))
		return
	}
	inner := string(tok[1 : len(tok)-1])
	s.Add(inner)
	if strings.IndexByte(inner, '\\') >= 0 {
		if dec, ok := unquoteJSON(tok); ok {
			s.Add(dec)
		}
	}
}

// addPartialJSONLeaf collects a scalar cut off by the end of a prefix,
// like addJSONLeaf: a number as spelled, a string as spelled and decoded,
// without an escape or UTF-8 sequence cut in half at its end. A cut-off
// true/false/null is not collected.
func addPartialJSONLeaf(tok []byte, s *Secrets) {
	if tok[0] != '"' {
		if tok[0] == '-' || '0' <= tok[0] && tok[0] <= '9' {
			s.Add(string(tok))
		}
		return
	}
	inner := trimPartialRune(trimPartialEscape(tok[1:]))
	s.Add(string(inner))
	if bytes.IndexByte(inner, '\\') >= 0 {
		q := make([]byte, 0, len(inner)+2)
		q = append(append(append(q, '"'), inner...), '"')
		if dec, ok := unquoteJSON(q); ok {
			s.Add(dec)
		}
	}
}

// trimPartialEscape drops an escape sequence cut short at the end of the
// string contents b (`ab\u00` gives `ab`).
func trimPartialEscape(b []byte) []byte {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		n := 2 // length of the escape
		if i+1 < len(b) && b[i+1] == 'u' {
			n = 6
		}
		if i+n > len(b) {
			return b[:i]
		}
		i += n - 1
	}
	return b
}

// trimPartialRune drops a UTF-8 sequence cut short at the end of b.
func trimPartialRune(b []byte) []byte {
	for k := 1; k <= utf8.UTFMax-1 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < utf8.RuneSelf {
			return b // ASCII: nothing after it can be a started sequence
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-k:]) {
				return b[:len(b)-k]
			}
			return b
		}
	}
	return b
}

type jsonEdit struct {
	start, end int
	repl       []byte // nil means quotedRedacted
}

type maskSpan struct{ start, end int }

func applyJSONEdits(b []byte, edits []jsonEdit) []byte {
	if len(edits) == 0 {
		return b
	}
	n := len(b)
	for _, e := range edits {
		n -= e.end - e.start
		if e.repl == nil {
			n += len(quotedRedacted)
		} else {
			n += len(e.repl)
		}
	}
	out := make([]byte, 0, n)
	last := 0
	for _, e := range edits {
		out = append(out, b[last:e.start]...)
		if e.repl == nil {
			out = append(out, quotedRedacted...)
		} else {
			out = append(out, e.repl...)
		}
		last = e.end
	}
	return append(out, b[last:]...)
}

// jsonScanner validates JSON in one pass with an explicit stack (no
// recursion, so hostile nesting depth cannot exhaust the goroutine stack)
// and records edits as it goes. With r set it redacts sensitive keys'
// values; with mask set it masks secrets inside string and number tokens.
// Edits are only applied once the whole input proved valid.
//
// With prefix set, the input may be the start of a longer document: running
// out of input anywhere is not an error (any other syntax error still is),
// and the token open at the end is settled by finishPrefix.
type jsonScanner struct {
	b           []byte
	r           *Redactor
	mask        *Secrets
	prefix      bool
	edits       []jsonEdit
	leaves      []maskSpan // scalars inside redacted values
	partialLeaf maskSpan   // prefix mode: a scalar inside a redacted value, cut off by the end
	cut         int        // the output is b[:cut] with edits applied; less than len(b) only in prefix mode
	hits        []maskSpan // mask mode: where the secrets occur in b, by start
	nextHit     int        // hits before it start before the last token masked
}

const (
	jsStValue      = iota // a value must follow
	jsStValueOrEnd        // just after '['
	jsStKeyOrEnd          // just after '{'
	jsStKey               // after ',' in an object
	jsStAfterValue        // ',' or a closer must follow
	jsStTopDone           // a top-level value ended; EOF or another value
)

func (j *jsonScanner) run() bool {
	b := j.b
	stack := make([]byte, 0, 32) // stays on the goroutine stack unless nesting is deeper
	st := jsStValue
	redactDepth := -1 // stack depth at which the value being redacted started
	redactStart := 0
	pending := false // the last key read was sensitive
	j.cut = len(b)
	for i := 0; ; {
		i = jsonSkipWS(b, i)
		if i >= len(b) {
			if j.prefix {
				return j.finishPrefix(redactDepth, redactStart, -1, -1)
			}
			return st == jsStTopDone
		}
		c := b[i]
		ended := false // a value (scalar or container) ended at i
		switch st {
		case jsStTopDone:
			st = jsStValue
			continue
		case jsStKeyOrEnd, jsStKey:
			if c == '}' && st == jsStKeyOrEnd {
				stack = stack[:len(stack)-1]
				i++
				ended = true
				break
			}
			if c != '"' {
				return false
			}
			end, esc, sst := scanString(b, i)
			if sst != scanOK {
				return sst == scanEOF && j.prefix && j.finishPrefix(redactDepth, redactStart, i, -1)
			}
			if j.r != nil && redactDepth < 0 {
				key := b[i+1 : end-1]
				if esc {
					k, ok := unquoteJSON(b[i:end])
					if !ok {
						return false
					}
					pending = sensitiveBodyKey(j.r, k)
				} else {
					pending = sensitiveBodyKey(j.r, key)
				}
			}
			if j.mask != nil {
				j.maskToken(i, end)
			}
			i = jsonSkipWS(b, end)
			if i >= len(b) && j.prefix {
				return j.finishPrefix(redactDepth, redactStart, -1, -1)
			}
			if i >= len(b) || b[i] != ':' {
				return false
			}
			i++
			st = jsStValue
		case jsStAfterValue:
			switch {
			case c == ',':
				i++
				if stack[len(stack)-1] == '{' {
					st = jsStKey
				} else {
					st = jsStValue
				}
			case c == '}' || c == ']':
				if open := stack[len(stack)-1]; open == '{' && c != '}' || open == '[' && c != ']' {
					return false
				}
				stack = stack[:len(stack)-1]
				i++
				ended = true
			default:
				return false
			}
		case jsStValue, jsStValueOrEnd:
			if c == ']' && st == jsStValueOrEnd {
				stack = stack[:len(stack)-1]
				i++
				ended = true
				break
			}
			if pending {
				pending = false
				redactDepth, redactStart = len(stack), i
			}
			var end int
			switch c {
			case '{', '[':
				stack = append(stack, c)
				i++
				if c == '{' {
					st = jsStKeyOrEnd
				} else {
					st = jsStValueOrEnd
				}
				continue
			case '"':
				var sst scanStatus
				if end, _, sst = scanString(b, i); sst != scanOK {
					return sst == scanEOF && j.prefix && j.finishPrefix(redactDepth, redactStart, -1, i)
				}
			case 't', 'f', 'n':
				lit := "null"
				if c == 't' {
					lit = "true"
				} else if c == 'f' {
					lit = "false"
				}
				if !bytes.HasPrefix(b[i:], []byte(lit)) {
					cutShort := len(b)-i < len(lit) && bytes.HasPrefix([]byte(lit), b[i:])
					return cutShort && j.prefix && j.finishPrefix(redactDepth, redactStart, -1, i)
				}
				i += len(lit)
				ended = true
			default:
				var sst scanStatus
				end, sst = scanNumber(b, i)
				if sst == scanOK && end == len(b) && j.prefix {
					sst = scanEOF // more digits may follow the cut
				}
				if sst != scanOK {
					return sst == scanEOF && j.prefix && j.finishPrefix(redactDepth, redactStart, -1, i)
				}
			}
			if !ended { // string or number token b[i:end]
				if redactDepth >= 0 {
					j.leaves = append(j.leaves, maskSpan{i, end})
				}
				if j.mask != nil {
					j.maskToken(i, end)
				}
				i = end
				ended = true
			}
		}
		if ended {
			if redactDepth == len(stack) {
				j.edits = append(j.edits, jsonEdit{start: redactStart, end: i})
				redactDepth = -1
			}
			if len(stack) == 0 {
				st = jsStTopDone
			} else {
				st = jsStAfterValue
			}
		}
	}
}

// finishPrefix settles the end of a prefix (prefix mode only) and returns
// true. keyStart is where a key cut in half began, valStart where a scalar
// cut in half began, -1 when there is none. A value under a sensitive key
// that is still open (redactDepth >= 0) is redacted to the end, whatever
// was cut inside it. Otherwise a key cut in half is dropped, and in mask
// mode a scalar cut in half that holds a secret, or the start of one, is
// replaced whole.
func (j *jsonScanner) finishPrefix(redactDepth, redactStart, keyStart, valStart int) bool {
	b := j.b
	switch {
	case redactDepth >= 0:
		if valStart >= 0 {
			j.partialLeaf = maskSpan{valStart, len(b)}
		}
		j.edits = append(j.edits, jsonEdit{start: redactStart, end: len(b)})
	case keyStart >= 0:
		j.cut = keyStart
	case valStart >= 0 && j.mask != nil:
		if tok := b[valStart:]; j.mask.anyIn(tok) || j.mask.tailPrefixLen(tok) > 0 {
			j.edits = append(j.edits, jsonEdit{start: valStart, end: len(b)})
		}
	}
	return true
}

// maskToken masks secrets inside the string or number token b[start:end]
// (mask mode only). A string is decoded, masked and re-encoded, so escapes
// cannot be cut in half; a number cannot hold "[REDACTED]" and is replaced.
func (j *jsonScanner) maskToken(start, end int) {
	if j.mask == nil {
		return
	}
	if !j.hitWithin(start, end) {
		return
	}
	tok := j.b[start:end]
	if tok[0] != '"' {
		j.edits = append(j.edits, jsonEdit{start: start, end: end})
		return
	}
	dec, ok := unquoteJSON(tok)
	if !ok {
		return
	}
	if m := j.mask.Mask(dec); m != dec {
		j.edits = append(j.edits, jsonEdit{start: start, end: end, repl: appendJSONString(nil, m, false, false)})
	}
}

// hitWithin reports whether a secret occurs wholly inside b[start:end], as anyIn(b[start:end])
// would, from the occurrences found once for the whole input: a body has hundreds of tokens,
// and searching each for every spelling of every secret cost more than the rest of the scan.
// Tokens come in order, so the search resumes where the last one stopped.
func (j *jsonScanner) hitWithin(start, end int) bool {
	for j.nextHit < len(j.hits) && j.hits[j.nextHit].start < start {
		j.nextHit++
	}
	for _, h := range j.hits[j.nextHit:] {
		if h.start >= end {
			return false
		}
		if h.end <= end {
			return true
		}
	}
	return false
}

func jsonSkipWS(b []byte, i int) int {
	for i < len(b) && jsonSpace[b[i]] {
		i++
	}
	return i
}

var jsonSpace = [256]bool{' ': true, '\n': true, '\r': true, '\t': true}

// scanStatus is how a token scan ended.
type scanStatus uint8

const (
	scanOK  scanStatus = iota
	scanBad            // a syntax error
	scanEOF            // the input ended inside the token, which was valid so far
)

// scanString returns the index after the closing quote of the string
// starting at b[i] == '"', and whether it contains escapes.
func scanString(b []byte, i int) (end int, escaped bool, st scanStatus) {
	for i++; i < len(b); {
		for i < len(b) && plainStringByte[b[i]] {
			i++
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			return i + 1, escaped, scanOK
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return 0, false, scanEOF
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				hexEnd := min(i+6, len(b))
				for _, h := range b[i+2 : hexEnd] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return 0, false, scanBad
					}
				}
				if hexEnd < i+6 {
					return 0, false, scanEOF
				}
				i += 6
			default:
				return 0, false, scanBad
			}
		case c < 0x20:
			return 0, false, scanBad
		default:
			i++
		}
	}
	return 0, false, scanEOF
}

// plainStringByte marks bytes that may appear unescaped in a JSON string
// and need no further look.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanNumber returns the end of the JSON number at b[i]. A number that
// ends at len(b) is scanOK; the caller decides whether it may go on.
func scanNumber(b []byte, i int) (int, scanStatus) {
	digits := func(i int) (int, scanStatus) { // end of a non-empty digit run
		j := i
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
		switch {
		case j > i:
			return j, scanOK
		case j >= len(b):
			return j, scanEOF
		}
		return j, scanBad
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	st := scanOK
	switch {
	case i >= len(b):
		return i, scanEOF
	case b[i] == '0':
		i++
	default:
		if i, st = digits(i); st != scanOK {
			return i, st
		}
	}
	if i < len(b) && b[i] == '.' {
		if i, st = digits(i + 1); st != scanOK {
			return i, st
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i, st = digits(i); st != scanOK {
			return i, st
		}
	}
	return i, scanOK
}

// appendJSONString appends s as a quoted JSON string. html escapes <, >
// and & like encoding/json's default; slash escapes / as \/ like PHP's
// json_encode. Both spellings show up in echoes, so Secrets masks each.
func appendJSONString(dst []byte, s string, html, slash bool) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		start := i
		for i < len(s) && jsonPlain[s[i]] {
			i++
		}
		dst = append(dst, s[start:i]...) // a run that needs no escape, copied at once
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\b':
				dst = append(dst, '\\', 'b')
			case c == '\f':
				dst = append(dst, '\\', 'f')
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || html && (c == '<' || c == '>' || c == '&'):
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			case c == '/' && slash:
				dst = append(dst, '\\', '/')
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}

// jsonPlain marks the ASCII bytes appendJSONString copies as they are in every mode.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = !strings.ContainsRune(`"\<>&/`, rune(c))
	}
	return t
}()

// Secrets collects the values redacted from one integration call so that
// echoes of them elsewhere in the same call are masked too. It belongs to
// that one call and goroutine: it has no locking. The zero value is ready
// to use and a nil *Secrets is a valid empty set.
//
// Values shorter than 4 bytes are kept but never searched for: a 3-digit
// CVV would garble every number in the text. Neither are values that occur
// inside "[REDACTED]" itself (masking those would re-mask the placeholder).
type Secrets struct {
	seen  map[string]struct{}
	forms []secretForm // spellings to search for, longest first
}

type secretForm struct {
	s string
	b []byte // same bytes, so body checks need no conversion
}

// Add records v; empty and repeated values are ignored. Besides v itself,
// its JSON-escaped spellings (plain, HTML-escaped, PHP-style \/) and its
// query- and path-escaped forms are searched for.
func (s *Secrets) Add(v string) {
	if s == nil || v == "" {
		return
	}
	if _, ok := s.seen[v]; ok {
		return
	}
	if s.seen == nil {
		s.seen = make(map[string]struct{})
	}
	s.seen[v] = struct{}{}
	if len(v) < minMaskLen || strings.Contains(Redacted, v) {
		return
	}
	add := func(f string) {
		for _, have := range s.forms {
			if have.s == f {
				return
			}
		}
		s.forms = append(s.forms, secretForm{s: f, b: []byte(f)})
	}
	add(v)
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r >= utf8.RuneSelf || strings.ContainsRune(`"\<>&/`, r) }) {
		for _, html := range []bool{false, true} {
			for _, slash := range []bool{false, true} {
				q := appendJSONString(nil, v, html, slash)
				add(string(q[1 : len(q)-1]))
			}
		}
	}
	add(url.QueryEscape(v))
	add(url.PathEscape(v))
	slices.SortStableFunc(s.forms, func(a, b secretForm) int { return len(b.s) - len(a.s) })
}

// Mask replaces every occurrence of every secret (in any spelling Add
// lists) with [REDACTED]. Overlapping matches merge into one placeholder,
// so a short secret inside a longer one never leaves part of the longer
// one behind; the text is scanned once per spelling and the placeholder is
// never searched again. Without a match text is returned as is, with no
// allocation.
func (s *Secrets) Mask(text string) string {
	if s == nil || len(text) < minMaskLen {
		return text
	}
	var hits []maskSpan
	for _, f := range s.forms {
		for off := 0; ; {
			k := strings.Index(text[off:], f.s)
			if k < 0 {
				break
			}
			hits = append(hits, maskSpan{off + k, off + k + len(f.s)})
			off += k + 1 // +1, not +len: "aaaa" in "aaaaa" must cover the last byte too
		}
	}
	if hits == nil {
		return text
	}
	slices.SortFunc(hits, func(a, b maskSpan) int { return a.start - b.start })
	var sb strings.Builder
	sb.Grow(len(text))
	last := 0 // text[last:] not yet written
	cur := hits[0]
	flush := func() {
		sb.WriteString(text[last:cur.start])
		sb.WriteString(Redacted)
		last = cur.end
	}
	for _, h := range hits[1:] {
		if h.start < cur.end {
			cur.end = max(cur.end, h.end)
			continue
		}
		flush()
		cur = h
	}
	flush()
	sb.WriteString(text[last:])
	return sb.String()
}

// spans returns every occurrence of every secret spelling in b, sorted by start.
func (s *Secrets) spans(b []byte) []maskSpan {
	if s == nil {
		return nil
	}
	var hits []maskSpan
	for _, f := range s.forms {
		for off := 0; ; {
			k := bytes.Index(b[off:], f.b)
			if k < 0 {
				break
			}
			hits = append(hits, maskSpan{off + k, off + k + len(f.b)})
			off += k + 1
		}
	}
	slices.SortFunc(hits, func(a, b maskSpan) int { return a.start - b.start })
	return hits
}

// anyIn reports whether b contains any secret spelling.
func (s *Secrets) anyIn(b []byte) bool {
	if s == nil {
		return false
	}
	for _, f := range s.forms {
		if bytes.Contains(b, f.b) {
			return true
		}
	}
	return false
}

func (s *Secrets) maskBytes(b []byte) []byte {
	if !s.anyIn(b) {
		return b
	}
	return []byte(s.Mask(string(b)))
}

// tailPrefixLen returns the length of the longest end of b that is the
// start of a secret spelling, at least minMaskLen bytes long, or 0. In a
// prefix of a longer text, that is where a secret may have been cut.
func (s *Secrets) tailPrefixLen(b []byte) int {
	if s == nil || len(b) < minMaskLen {
		return 0
	}
	last, best := b[len(b)-1], 0
	for _, f := range s.forms {
		for k := min(len(f.b), len(b)); k > best && k >= minMaskLen; k-- {
			if f.b[k-1] == last && bytes.HasSuffix(b, f.b[:k]) {
				best = k
				break
			}
		}
	}
	return best
}

// maskPrefixBytes is maskBytes for a text that may continue after its end:
// a tail that begins a secret becomes [REDACTED] too.
func (s *Secrets) maskPrefixBytes(b []byte) []byte {
	b = s.maskBytes(b)
	if k := s.tailPrefixLen(b); k > 0 {
		b = append(clipTo(b, len(b)-k), Redacted...)
	}
	return b
}
