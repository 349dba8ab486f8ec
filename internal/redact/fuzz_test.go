package redact

import (
	"net/http"
	"strings"
	"testing"
)

const planted = "pl4nted-s3cret"

// FuzzBody plants a known secret anywhere in any body, of any type, whole or
// cut: Body must not panic, must not modify its input, and must not let the
// secret through.
func FuzzBody(f *testing.F) {
	for _, seed := range []struct {
		body, ct string
	}{
		{`{"user":"bob","password":"x","n":[1,2.5e3,null],"s":"{\"token\":\"t\"}"}`, "application/json"},
		{`{'password': 'x', a: NaN, /* c */ "b": [1,],}`, "application/json"},
		{"\ufeff[{\"token\":\"a\"}", ""},
		{`<s:Envelope><wsse:Password Type="t">p</wsse:Password><a href="https://h/?token=t"/></s:Envelope>`, "text/xml"},
		{"<x><password>p", "application/xml"},
		{"a=1&password=p%40ss&next=https%3A%2F%2Fh%2F%3Ftoken%3Dx", "application/x-www-form-urlencoded"},
		{"--b\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nx\r\n--b\r\nContent-Type: application/json\r\n\r\n{\"token\":1}\r\n--b--", "multipart/form-data; boundary=b"},
		{"password=x token: y https://u:p@h/?key=k 'q' \"k\": v", "text/plain"},
		{strings.Repeat("[", 20000), "application/json"},
		{"\xff\xfe\x00binary", "application/octet-stream"},
	} {
		f.Add([]byte(seed.body), seed.ct, uint16(7), false)
		f.Add([]byte(seed.body), seed.ct, uint16(len(seed.body)), true)
	}
	r := Standard()
	f.Fuzz(func(t *testing.T, body []byte, ct string, at uint16, truncated bool) {
		i := int(at) % (len(body) + 1)
		in := append(append(append([]byte(nil), body[:i]...), planted...), body[i:]...)
		orig := string(in)
		var s Secrets
		s.Add(planted)
		out := r.Body(in, ct, truncated, &s)
		if string(in) != orig {
			t.Fatalf("Body(%q) modified its input", orig)
		}
		if strings.Contains(string(out), planted) {
			t.Fatalf("Body(%q, %q) = %q; want no %q", orig, ct, out, planted)
		}
		_ = r.Body(body, ct, truncated, nil)
	})
}

// FuzzText covers the string entry points: no panic, and a known secret
// never gets through URL or Header.
func FuzzText(f *testing.F) {
	for _, seed := range []string{
		"https://u:p@h:1/p?token=x&next=https%3A%2F%2Fh%2F%3Fkey%3Dk#access_token=y",
		"//@?#=&%zz", "database_url=postgres://a:b@c/d?password=e", `{"api_key": "k"} Authorization: Bearer x`,
		"a://b://c?d=e://f?g=h", "\"'\\\"",
	} {
		f.Add(seed)
	}
	r := Standard()
	f.Fuzz(func(t *testing.T, text string) {
		_ = r.Text(text)
		_ = r.Secret(text)
		var s Secrets
		s.Add(planted)
		if got := r.URL(text+planted+text, &s); strings.Contains(got, planted) {
			t.Fatalf("URL(%q) = %q; want no %q", text+planted+text, got, planted)
		}
		h := r.Header(http.Header{text: {text + planted}, "Authorization": {text}}, &s)
		for _, vs := range h {
			for _, v := range vs {
				if strings.Contains(v, planted) {
					t.Fatalf("Header value %q holds %q", v, planted)
				}
			}
		}
	})
}
