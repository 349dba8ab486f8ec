package redact

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Mask replaces every redacted value.
const Mask = "[REDACTED]"

// Config lists the names a Redactor treats as secret. A name is split into
// lower-case words at any byte but a letter or digit, at a camelCase boundary
// (clientSecret, APIKey), and where digits start or stop (token2); bytes of
// non-ASCII characters count as lower-case letters. A Words entry matches a
// name when a run of the name's words, joined, spells the entry's words joined:
// "api_key" matches apiKey, X-Api-Key and APIKEY, "pass" matches user_pass but
// neither passenger nor bypass.
type Config struct {
	Words []string // matches a name holding the entry's words in a row: "token" matches X-Auth-Token
	Names []string // matches only a whole name: "key" matches ?key= but not cache_key
	Allow []string // whole names never secret; wins over Words and Names
}

// Default returns the default configuration, in fresh slices.
//
// Plurals are listed only where they are secrets too: "credentials", never
// "tokens" (max_tokens). "session" is not a word (session_count is no secret)
// but "session_id" is. "code" is not a name: error and country codes are
// everywhere. "auth" is a name for Firebase's ?auth=. Allow holds token_type,
// whose value is always "bearer" or the like, and the CORS header
// Access-Control-Allow-Credentials, whose "true" would mask every true.
func Default() Config {
	return Config{
		Words: []string{
			"authorization", "cookie", "cookies", "password", "passwords", "passwd", "pass", "pwd",
			"passphrase", "passcode", "secret", "secrets", "token", "jwt", "otp", "signature", "credential",
			"credentials", "api_key", "api_keys", "auth_key", "access_key", "subscription_key", "functions_key",
			"private_key", "signing_key", "encryption_key", "master_key", "application_key", "session_id",
			"session_key", "card_number", "cvv", "cvc", "ssn", "pin", "iban", "security_code",
			"social_security_number",
			// Also matched when written as one word (ACCESSTOKEN), which splitting cannot see into:
			"access_token", "refresh_token", "id_token", "auth_token", "client_secret", "aws_access_key_id",
		},
		Names: []string{"key", "sig", "auth", "pan"},
		Allow: []string{"token_type", "access_control_allow_credentials"},
	}
}

// Redactor applies a Config. It is immutable and safe for concurrent use.
type Redactor struct {
	words        [256][]string // folded Words entries, by first byte
	names, allow []string      // folded

	// known remembers the answers for names seen before: a body repeats its keys in every
	// element of an array, and every call to a service repeats the last call's. It saves
	// most of the name checks of a JSON body (record_total_vs_otelhttp in docs/BENCHMARKS.md).
	// Readers take no lock: a write copies the map, so at most maxKnown names are kept and
	// hostile keys cost a bounded number of copies.
	known atomic.Pointer[map[string]bool]
	mu    sync.Mutex // serializes writers of known
}

const maxKnown = 1024

// New builds a Redactor; later changes to cfg's slices have no effect.
func New(cfg Config) *Redactor {
	r := &Redactor{names: foldAll(cfg.Names), allow: foldAll(cfg.Allow)}
	for _, w := range foldAll(cfg.Words) {
		r.words[w[0]] = append(r.words[w[0]], w)
	}
	return r
}

var standard = sync.OnceValue(func() *Redactor { return New(Default()) })

// Standard returns a shared Redactor of Default().
func Standard() *Redactor { return standard() }

// Secret reports whether values under name must be redacted. It does not
// allocate for names of up to 64 letters and digits.
func (r *Redactor) Secret(name string) bool { return secret(r, name) }

func secret[T string | []byte](r *Redactor, name T) bool {
	if known := r.known.Load(); known != nil {
		if is, ok := (*known)[string(name)]; ok {
			return is
		}
	}
	is := match(r, name)
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.known.Load()
	if old == nil || len(*old) < maxKnown {
		known := make(map[string]bool, 1+len(deref(old)))
		for k, v := range deref(old) {
			known[k] = v
		}
		known[string(name)] = is
		r.known.Store(&known)
	}
	return is
}

func deref(m *map[string]bool) map[string]bool {
	if m == nil {
		return nil
	}
	return *m
}

// match is secret without the memory.
func match[T string | []byte](r *Redactor, name T) bool {
	var fb [64]byte
	var sb [64]bool
	f, starts := fold(name, fb[:0], sb[:0])
	if in(r.allow, f) {
		return false
	}
	if in(r.names, f) {
		return true
	}
	for p := range f {
		for _, w := range r.words[f[p]] {
			end := p + len(w)
			if starts[p] && end <= len(f) && string(f[p:end]) == w && (end == len(f) || starts[end]) {
				return true
			}
		}
	}
	return false
}

// fold appends the letters and digits of name, lower-cased, to f, and to
// starts whether each begins a word.
func fold[T string | []byte](name T, f []byte, starts []bool) ([]byte, []bool) {
	for i := 0; i < len(name); i++ {
		c := class(name[i])
		if c == sep {
			continue
		}
		p := sep
		if i > 0 {
			p = class(name[i-1])
		}
		start := p == sep || p != c && (p == digit || c == digit) || p == low && c == up ||
			p == up && c == up && i+1 < len(name) && class(name[i+1]) == low
		f, starts = append(f, lower(name[i])), append(starts, start)
	}
	return f, starts
}

const (
	sep = iota
	low
	up
	digit
)

func class(c byte) int {
	switch {
	case 'a' <= c && c <= 'z', c >= 0x80:
		return low
	case 'A' <= c && c <= 'Z':
		return up
	case '0' <= c && c <= '9':
		return digit
	}
	return sep
}

func lower(c byte) byte {
	if class(c) == up {
		return c + 'a' - 'A'
	}
	return c
}

// in is slices.Contains(list, string(f)), which may allocate.
func in(list []string, f []byte) bool {
	for _, v := range list {
		if string(f) == v {
			return true
		}
	}
	return false
}

// foldAll folds entries, dropping empty and repeated ones.
func foldAll(in []string) []string {
	var out []string
	for _, v := range in {
		if f, _ := fold(v, nil, nil); len(f) > 0 && !slices.Contains(out, string(f)) {
			out = append(out, string(f))
		}
	}
	return out
}
