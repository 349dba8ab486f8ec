package redact

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// Header returns a redacted copy of h (nil for nil); h is not modified.
//
// A secret header's value becomes Mask, but Authorization and the like
// (Proxy-Authorization, X-Forwarded-Authorization) keep their scheme: "Bearer
// [REDACTED]". For Basic, the decoded "user:password" and the password are
// collected too; for Cookie and Set-Cookie, each cookie's value. Empty values
// stay empty. Location, Content-Location and Referer go through URL, and URLs
// in other values are redacted too. Secret headers are collected before any
// other value is masked, so map order does not matter.
func (r *Redactor) Header(h http.Header, s *Secrets) http.Header {
	out := h.Clone()
	for name, vs := range out {
		for i, v := range vs {
			if r.Secret(name) {
				vs[i] = headerValue(strings.ToLower(name), v, s)
			}
		}
	}
	for name, vs := range out {
		for i, v := range vs {
			switch {
			case r.Secret(name):
			case strings.EqualFold(name, "Location"), strings.EqualFold(name, "Content-Location"), strings.EqualFold(name, "Referer"):
				vs[i] = r.URL(v, s)
			default:
				vs[i] = s.Mask(r.urls(v, s, 0))
			}
		}
	}
	return out
}

func headerValue(name, v string, s *Secrets) string {
	t := strings.TrimSpace(v)
	scheme, cred, ok := strings.Cut(t, " ")
	switch {
	case t == "":
		return v
	case strings.HasSuffix(name, "authorization") && ok && isScheme(scheme):
		cred = strings.TrimSpace(cred)
		s.Add(cred)
		if !strings.EqualFold(scheme, "Basic") {
			return scheme + " " + Mask
		}
		if dec, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(cred, "=")); err == nil {
			_, pw, _ := strings.Cut(string(dec), ":")
			s.Add(string(dec))
			s.Add(pw)
		}
		return scheme + " " + Mask
	case name == "cookie" || name == "set-cookie":
		for cookie := range strings.SplitSeq(t, ";") {
			if _, val, ok := strings.Cut(cookie, "="); ok {
				s.Add(strings.Trim(strings.TrimSpace(val), `"`))
			}
			if name == "set-cookie" {
				break // the rest are attributes: Path, Expires...
			}
		}
	}
	s.Add(t)
	return Mask
}

// isScheme reports a plausible auth scheme: a short word, so that a long key
// followed by a space is not kept as one.
func isScheme(v string) bool {
	for i := 0; i < len(v); i++ {
		if !identByte(v[i]) {
			return false
		}
	}
	return len(v) <= 20
}
