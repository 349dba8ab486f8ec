package integration

import (
	"bytes"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

func defaultRedactor() *Redactor { return NewRedactor(DefaultRedactConfig()) }

// The spec's lists, spelled out so that a default dropped by mistake fails
// the tests instead of silently shrinking them.
var (
	specQueryKeys = []string{"token", "access_token", "refresh_token", "api_key", "apikey", "key",
		"password", "secret", "client_secret", "signature", "sig", "X-Amz-Signature", "X-Amz-Credential",
		"X-Amz-Security-Token", "AWSAccessKeyId", "X-Goog-Signature"}
	specBodyKeys = []string{"password", "passwd", "secret", "token", "api_key", "apikey", "authorization",
		"client_secret", "private_key", "card_number", "cvv", "cvc", "ssn"}
)

func basicAuth(userpass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userpass))
}

func TestRedactHeader(t *testing.T) {
	tests := []struct {
		name, header, value, want string
		secrets                   []string // must be collected
	}{
		{"bearer keeps scheme", "Authorization", "Bearer abcd1234efgh", "Bearer [REDACTED]", []string{"abcd1234efgh"}},
		{"basic keeps scheme", "Authorization", basicAuth("alice:s3cr3t-pw"), "Basic [REDACTED]",
			[]string{base64.StdEncoding.EncodeToString([]byte("alice:s3cr3t-pw")), "alice:s3cr3t-pw", "s3cr3t-pw"}},
		{"bare key in authorization", "Authorization", "k3y-without-scheme", Redacted, []string{"k3y-without-scheme"}},
		{"proxy authorization", "Proxy-Authorization", basicAuth("bob:hunter22"), "Basic [REDACTED]", []string{"hunter22"}},
		{"cookie", "Cookie", "sid=abc123456; theme=dark", Redacted, []string{"sid=abc123456; theme=dark", "abc123456"}},
		{"set-cookie", "Set-Cookie", "sid=zyx98765; Path=/; HttpOnly", Redacted, []string{"zyx98765"}},
		{"x-api-key", "X-Api-Key", "key-0001", Redacted, []string{"key-0001"}},
		{"x-auth-token", "X-Auth-Token", "tok-0001", Redacted, []string{"tok-0001"}},
		{"lower-case map key", "x-api-key", "key-0002", Redacted, []string{"key-0002"}},
		{"substring token", "X-Refresh-Token", "v1", Redacted, nil},
		{"substring secret", "X-Client-SECRET", "v2", Redacted, nil},
		{"substring password", "X-Db-Password", "v3", Redacted, nil},
		{"substring passwd", "X-Passwd", "v4", Redacted, nil},
		{"substring api-key", "X-Partner-Api-Key", "v5", Redacted, nil},
		{"substring apikey", "X-Apikey", "v6", Redacted, nil},
		{"substring api-key spelled ApiKey", "X-Partner-ApiKey", "v7", Redacted, nil},
		{"substring api-key spelled with underscores", "X_API_KEY", "v8", Redacted, nil},
		{"empty value stays empty", "Authorization", "", "", nil},
		{"unrelated header", "Content-Type", "application/json", "application/json", nil},
		{"unrelated header with auth-like value", "Accept", "Bearer abcd", "Bearer abcd", nil},
	}
	r := defaultRedactor()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := http.Header{tt.header: {tt.value}}
			var s Secrets
			got := r.Header(in, &s)[tt.header]
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("got %q; want [%q]", got, tt.want)
			}
			if in[tt.header][0] != tt.value {
				t.Errorf("input mutated: got %q; want %q", in[tt.header][0], tt.value)
			}
			for _, sec := range tt.secrets {
				if _, ok := s.seen[sec]; !ok {
					t.Errorf("secret %q not collected; got %v", sec, s.seen)
				}
			}
		})
	}
}

func TestRedactHeaderCopyAndMask(t *testing.T) {
	r := defaultRedactor()
	if got := r.Header(nil, nil); got != nil {
		t.Errorf("got %v; want nil", got)
	}
	// The echo header may be visited before Authorization in map order;
	// it must be masked either way.
	for range 20 {
		in := http.Header{
			"Authorization": {"Bearer tok-abcdef"},
			"X-Echo":        {"got tok-abcdef"},
			"X-Multi":       {"a", "b"},
			"Location":      {"https://cb.example/done?state=1&access_token=newtok99#token=frag77"},
		}
		out := r.Header(in, &Secrets{})
		if got, want := out.Get("X-Echo"), "got [REDACTED]"; got != want {
			t.Fatalf("got %q; want %q", got, want)
		}
		if got, want := out.Get("Location"), "https://cb.example/done?state=1&access_token=[REDACTED]#token=[REDACTED]"; got != want {
			t.Fatalf("got %q; want %q", got, want)
		}
		out["X-Multi"] = append(out["X-Multi"], "c") // must not overwrite another header's value
		if got, want := strings.Join(in["X-Multi"], ","), "a,b"; got != want {
			t.Fatalf("got %q; want %q", got, want)
		}
		if got, want := in.Get("X-Echo"), "got tok-abcdef"; got != want {
			t.Fatalf("input mutated: got %q; want %q", got, want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no secrets", "https://api.example/v1/items?page=2&sort=asc#top", "https://api.example/v1/items?page=2&sort=asc#top"},
		{"userinfo password", "https://bob:pa55word@erp.example:8443/x", "https://bob:[REDACTED]@erp.example:8443/x"},
		{"userinfo user only", "https://ghp_tok123@git.example/r.git", "https://[REDACTED]@git.example/r.git"},
		{"userinfo empty password", "https://bob:@h/x", "https://bob:@h/x"},
		{"order kept", "https://h/p?b=1&token=t0k3n&a=2&Sig=zz&c=3", "https://h/p?b=1&token=[REDACTED]&a=2&Sig=[REDACTED]&c=3"},
		{"raw encoding kept", "https://h/p?q=a+b%2Fc&key=x%2By&z=%7e", "https://h/p?q=a+b%2Fc&key=[REDACTED]&z=%7e"},
		{"encoded key", "https://h/p?api%5Fkey=abcd", "https://h/p?api%5Fkey=[REDACTED]"},
		{"empty value and bare key", "https://h/p?token=&token&x=1", "https://h/p?token=&token&x=1"},
		{"relative", "/v1/cb?access_token=abc&x=1", "/v1/cb?access_token=[REDACTED]&x=1"},
		{"url in query is not authority", "/cb?next=https://u:pw@h/", "/cb?next=https://u:pw@h/"},
		{"fragment as query", "https://h/cb#access_token=zzz&token_type=bearer", "https://h/cb#access_token=[REDACTED]&token_type=bearer"},
		{"plain fragment", "https://h/doc#section-2", "https://h/doc#section-2"},
		{"presigned s3", "https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F2024&X-Amz-Date=1&X-Amz-Security-Token=tt&X-Amz-Signature=abc123",
			"https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4&X-Amz-Credential=[REDACTED]&X-Amz-Date=1&X-Amz-Security-Token=[REDACTED]&X-Amz-Signature=[REDACTED]"},
	}
	// Every default query key, in three spellings.
	for _, k := range specQueryKeys {
		for _, kk := range []string{k, strings.ToLower(k), strings.ToUpper(k)} {
			tests = append(tests, struct{ name, in, want string }{
				"query key " + kk, "https://h/p?a=1&" + kk + "=v4lue&b=2", "https://h/p?a=1&" + kk + "=[REDACTED]&b=2",
			})
		}
	}
	r := defaultRedactor()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.URL(tt.in, nil); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestRedactBodyJSON(t *testing.T) {
	tests := []struct {
		name, ct, in, want string
	}{
		{"nested object in array in object", "application/json",
			`{"data":[{"id":1,"auth":{"password":"p@ss","user":"u"}}],"ok":true}`,
			`{"data":[{"id":1,"auth":{"password":"[REDACTED]","user":"u"}}],"ok":true}`},
		{"number value", "application/json", `{"cvv": 123, "amount": 10.50}`, `{"cvv": "[REDACTED]", "amount": 10.50}`},
		{"object value", "application/json", `{"client_secret":{"a":[1,{"b":"c"}]},"n":1}`, `{"client_secret":"[REDACTED]","n":1}`},
		{"array value", "application/json", `{"tokens":["a","b"],"n":1}`, `{"tokens":"[REDACTED]","n":1}`},
		{"null and bool values", "application/json", `{"ssn":null,"api_key":false}`, `{"ssn":"[REDACTED]","api_key":"[REDACTED]"}`},
		{"key order, spacing and numbers exact", "application/json",
			"{\n  \"z\": 1.0000000000000001,\n  \"a\": 1e400,\n  \"Card_Number\": 4111111111111111,\n  \"m\": -0.0\n}",
			"{\n  \"z\": 1.0000000000000001,\n  \"a\": 1e400,\n  \"Card_Number\": \"[REDACTED]\",\n  \"m\": -0.0\n}"},
		{"escaped key", "application/json", `{"pass\u0077ord":"x"}`, `{"pass\u0077ord":"[REDACTED]"}`},
		{"camelCase keys", "application/json", `{"cardNumber":"4111","privateKey":"k","clientSecret":"s","apiKey":"a","n":1}`,
			`{"cardNumber":"[REDACTED]","privateKey":"[REDACTED]","clientSecret":"[REDACTED]","apiKey":"[REDACTED]","n":1}`},
		{"kebab-case and upper snake_case keys", "application/json", `{"card-number":"4111","PRIVATE_KEY":"k","n":1}`,
			`{"card-number":"[REDACTED]","PRIVATE_KEY":"[REDACTED]","n":1}`},
		{"words of a key apart are not the key", "application/json", `{"card":"visa","number":4111,"private":true,"key":"k"}`,
			`{"card":"visa","number":4111,"private":true,"key":"k"}`},
		{"a one-word entry does not match across a separator", "application/json",
			`{"business_name":"Acme","address_number":"12","class-name":"x","customer_ssn":"078-05-1120","SSN":"1"}`,
			`{"business_name":"Acme","address_number":"12","class-name":"x","customer_ssn":"[REDACTED]","SSN":"[REDACTED]"}`},
		{"runs of separators", "application/json", `{"card__number":"4111","private-_key":"k"}`,
			`{"card__number":"[REDACTED]","private-_key":"[REDACTED]"}`},
		{"escapes elsewhere kept", "application/json", `{"msg":"a\"b\u00e9\/","token":"t"}`, `{"msg":"a\"b\u00e9\/","token":"[REDACTED]"}`},
		{"top-level array", "application/json", `[{"secret":"s"},{"x":[]},{}]`, `[{"secret":"[REDACTED]"},{"x":[]},{}]`},
		{"sniffed without content type", "", ` {"token":"t"}`, ` {"token":"[REDACTED]"}`},
		{"sniffed despite text/plain", "text/plain", `[{"token":"t"}]`, `[{"token":"[REDACTED]"}]`},
		{"problem+json", "application/problem+json; charset=utf-8", `{"apikey":"k"}`, `{"apikey":"[REDACTED]"}`},
		{"ndjson", "application/x-ndjson", "{\"token\":\"a\"}\n{\"token\":\"b\"}\n", "{\"token\":\"[REDACTED]\"}\n{\"token\":\"[REDACTED]\"}\n"},
		{"invalid JSON left alone", "application/json", `{"password":"x",}`, `{"password":"x",}`},
		{"truncated JSON left alone", "application/json", `{"password":"x"`, `{"password":"x"`},
		{"bad number left alone", "application/json", `{"password":01}`, `{"password":01}`},
		{"text left alone", "text/plain", `password=x token: y`, `password=x token: y`},
		{"xml left alone", "application/xml", `<password>x</password>`, `<password>x</password>`},
	}
	for _, k := range specBodyKeys {
		key := "My" + strings.ToUpper(k) + "x"
		tests = append(tests, struct{ name, ct, in, want string }{
			"body key " + k, "application/json", `{"a":1,"` + key + `":"v","b":2}`, `{"a":1,"` + key + `":"[REDACTED]","b":2}`,
		})
	}
	r := defaultRedactor()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(r.Body([]byte(tt.in), tt.ct, nil))
			if got != tt.want {
				t.Errorf("got %s; want %s", got, tt.want)
			}
			if json.Valid([]byte(tt.in)) && !json.Valid([]byte(got)) {
				t.Errorf("got invalid JSON %s; want valid", got)
			}
		})
	}
}

func TestRedactBodyCleanNoAlloc(t *testing.T) {
	r := defaultRedactor()
	body := cleanJSONBody(4096)
	var s Secrets
	s.Add("not-in-the-body")
	got := testing.AllocsPerRun(50, func() {
		if out := r.Body(body, "application/json", &s); &out[0] != &body[0] {
			t.Fatal("got a copy of a clean body; want the input slice")
		}
	})
	if got != 0 {
		t.Errorf("got %v allocs; want 0", got)
	}
}

func TestRedactBodyJSONDeepNesting(t *testing.T) {
	const depth = 200000 // far beyond what a recursive parser survives comfortably
	in := strings.Repeat(`{"a":[`, depth) + `{"token":"t"}` + strings.Repeat(`]}`, depth)
	want := strings.Repeat(`{"a":[`, depth) + `{"token":"[REDACTED]"}` + strings.Repeat(`]}`, depth)
	if got := string(defaultRedactor().Body([]byte(in), "application/json", nil)); got != want {
		t.Errorf("got %d bytes; want %d bytes", len(got), len(want))
	}
}

func TestRedactBodyCollectsSecrets(t *testing.T) {
	var s Secrets
	defaultRedactor().Body([]byte(`{"secret":{"a":"n3sted-str","b":[41111111,true,null],"c":"esc\u0061ped"}}`), "application/json", &s)
	for _, want := range []string{"n3sted-str", "41111111", "escaped", `esc\u0061ped`} {
		if _, ok := s.seen[want]; !ok {
			t.Errorf("got %v; want it to contain %q", s.seen, want)
		}
	}
	for _, notWant := range []string{"true", "null"} {
		if _, ok := s.seen[notWant]; ok {
			t.Errorf("got %v; want no %q", s.seen, notWant)
		}
	}
}

func TestRedactBodyForm(t *testing.T) {
	tests := []struct {
		name, ct, in, want string
	}{
		{"form", "application/x-www-form-urlencoded", "grant_type=password&username=bob&password=p%40ss+w&client_secret=cs", "grant_type=password&username=bob&password=[REDACTED]&client_secret=[REDACTED]"},
		{"form with charset", "Application/X-WWW-Form-Urlencoded; charset=utf-8", "Card_Number=4111&amount=5", "Card_Number=[REDACTED]&amount=5"},
		{"encoded key", "application/x-www-form-urlencoded", "refresh%5Ftoken=r&x=1", "refresh%5Ftoken=[REDACTED]&x=1"},
		{"nothing sensitive", "application/x-www-form-urlencoded", "a=1&b=2", "a=1&b=2"},
		{"form is not sniffed", "", "password=x", "password=x"},
	}
	for _, k := range specBodyKeys {
		tests = append(tests, struct{ name, ct, in, want string }{
			"form key " + k, "application/x-www-form-urlencoded", "a=1&x" + strings.ToUpper(k) + "=v&b=2", "a=1&x" + strings.ToUpper(k) + "=[REDACTED]&b=2",
		})
	}
	r := defaultRedactor()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(r.Body([]byte(tt.in), tt.ct, nil)); got != tt.want {
				t.Errorf("got %s; want %s", got, tt.want)
			}
		})
	}
}

func TestRedactConfig(t *testing.T) {
	allow := DefaultRedactConfig()
	allow.Allow = append(allow.Allow, "Token_Type", "X-Token-Hint", "sig")

	removed := DefaultRedactConfig()
	removed.BodyKeySubstrings = slices.DeleteFunc(removed.BodyKeySubstrings, func(s string) bool { return s == "ssn" })
	removed.QueryKeys = slices.DeleteFunc(removed.QueryKeys, func(s string) bool { return s == "key" })
	removed.Headers = slices.DeleteFunc(removed.Headers, func(s string) bool { return s == "Cookie" })

	added := DefaultRedactConfig()
	added.BodyKeySubstrings = append(added.BodyKeySubstrings, "PIN", "", "  ")
	added.QueryKeys = append(added.QueryKeys, "code")
	added.Headers = append(added.Headers, "X-Signature")
	added.HeaderSubstrings = append(added.HeaderSubstrings, "session")

	body := `{"access_token":"a","token_type":"bearer","ssn":"123","pin":"9","x":"y"}`
	tests := []struct {
		name                  string
		cfg                   RedactConfig
		wantBody, wantURL     string
		wantHeader            http.Header
		inHeader              http.Header
		inURL                 string
		untouchedDefaultLists bool
	}{
		{
			name:       "allow",
			cfg:        allow,
			wantBody:   `{"access_token":"[REDACTED]","token_type":"bearer","ssn":"[REDACTED]","pin":"9","x":"y"}`,
			inURL:      "/p?sig=1&code=2&key=3",
			wantURL:    "/p?sig=1&code=2&key=[REDACTED]",
			inHeader:   http.Header{"X-Token-Hint": {"h"}, "X-Token-Other": {"o"}},
			wantHeader: http.Header{"X-Token-Hint": {"h"}, "X-Token-Other": {Redacted}},
		},
		{
			name:       "remove defaults",
			cfg:        removed,
			wantBody:   `{"access_token":"[REDACTED]","token_type":"[REDACTED]","ssn":"123","pin":"9","x":"y"}`,
			inURL:      "/p?sig=1&code=2&key=3",
			wantURL:    "/p?sig=[REDACTED]&code=2&key=3",
			inHeader:   http.Header{"Cookie": {"c=1"}, "X-Auth-Token": {"t"}},
			wantHeader: http.Header{"Cookie": {"c=1"}, "X-Auth-Token": {Redacted}},
		},
		{
			name:       "add keys",
			cfg:        added,
			wantBody:   `{"access_token":"[REDACTED]","token_type":"[REDACTED]","ssn":"[REDACTED]","pin":"[REDACTED]","x":"y"}`,
			inURL:      "/p?sig=1&code=2&key=3",
			wantURL:    "/p?sig=[REDACTED]&code=[REDACTED]&key=[REDACTED]",
			inHeader:   http.Header{"X-Signature": {"s"}, "X-Session-Id": {"i"}, "Accept": {"a"}},
			wantHeader: http.Header{"X-Signature": {Redacted}, "X-Session-Id": {Redacted}, "Accept": {"a"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRedactor(tt.cfg)
			if got := string(r.Body([]byte(body), "application/json", nil)); got != tt.wantBody {
				t.Errorf("body: got %s; want %s", got, tt.wantBody)
			}
			if got := r.URL(tt.inURL, nil); got != tt.wantURL {
				t.Errorf("url: got %s; want %s", got, tt.wantURL)
			}
			got := r.Header(tt.inHeader, nil)
			for k, want := range tt.wantHeader {
				if !slices.Equal(got[k], want) {
					t.Errorf("header %s: got %q; want %q", k, got[k], want)
				}
			}
		})
	}
	// Each call returns fresh slices.
	a := DefaultRedactConfig()
	a.QueryKeys[0] = "changed"
	if got := DefaultRedactConfig().QueryKeys[0]; got != "token" {
		t.Errorf("got %q; want %q", got, "token")
	}
}

func TestSecretsMask(t *testing.T) {
	var s Secrets
	for _, v := range []string{"", "abc", "p@ss w/\"rd<>", "longsecret", "secret", "RED", "DACT", "hunter22"} {
		s.Add(v)
	}
	s.Add("hunter22") // duplicate
	tests := []struct {
		name, in, want string
	}{
		{"no match", "nothing to see", "nothing to see"},
		{"short secret not masked", "abc abc", "abc abc"},
		{"raw", "pw=p@ss w/\"rd<> ok", "pw=[REDACTED] ok"},
		{"json escaped", `{"m":"p@ss w/\"rd<>"}`, `{"m":"[REDACTED]"}`},
		{"json html escaped", `{"m":"p@ss w/\"rd\u003c\u003e"}`, `{"m":"[REDACTED]"}`},
		{"php escaped slash", `{"m":"p@ss w\/\"rd<>"}`, `{"m":"[REDACTED]"}`},
		{"query escaped", "?q=p%40ss+w%2F%22rd%3C%3E&x", "?q=[REDACTED]&x"},
		{"path escaped", "/u/p@ss%20w%2F%22rd%3C%3E/x", "/u/[REDACTED]/x"},
		{"longest first", "xlongsecretx", "x[REDACTED]x"},
		{"adjacent and repeated", "hunter22hunter22 hunter22", "[REDACTED][REDACTED] [REDACTED]"},
		{"placeholder not re-masked", "[REDACTED]", "[REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Mask(tt.in); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
	if got := len(s.seen); got != 7 {
		t.Errorf("got %d distinct secrets; want 7", got)
	}
	var nilS *Secrets
	nilS.Add("x")
	if got := nilS.Mask("text"); got != "text" {
		t.Errorf("got %q; want %q", got, "text")
	}
	text := strings.Repeat("clean log line ", 100)
	if got := testing.AllocsPerRun(100, func() { _ = s.Mask(text) }); got != 0 {
		t.Errorf("got %v allocs on no match; want 0", got)
	}
}

// The echo case: a service returns what it received inside a string field
// where no key gives it away, and again in an error.
func TestRedactEcho(t *testing.T) {
	r := defaultRedactor()
	var s Secrets
	req := r.Body([]byte(`{"username":"bob","password":"Tr0ub4dor&3","card_number":4111111111111111}`), "application/json", &s)
	if got, want := string(req), `{"username":"bob","password":"[REDACTED]","card_number":"[REDACTED]"}`; got != want {
		t.Fatalf("got %s; want %s", got, want)
	}
	resp := `{"error":{"detail":"invalid credentials for bob / Tr0ub4dor\u00263","card":4111111111111111,"last4":"1111"},"echo":["Tr0ub4dor&3"]}`
	got := string(r.Body([]byte(resp), "application/json", &s))
	want := `{"error":{"detail":"invalid credentials for bob / [REDACTED]","card":"[REDACTED]","last4":"1111"},"echo":["[REDACTED]"]}`
	if got != want {
		t.Errorf("got %s; want %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Errorf("got invalid JSON %s; want valid", got)
	}
	errText := fmt.Errorf("erp: login failed: password %q rejected", "Tr0ub4dor&3").Error()
	if got, want := s.Mask(errText), `erp: login failed: password "[REDACTED]" rejected`; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	if got, want := string(r.Body([]byte("denied for Tr0ub4dor&3"), "text/plain", &s)), "denied for [REDACTED]"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

// redactTestCall is one recorded integration call; redactCall runs the full
// redaction in the documented order and returns every output string.
type redactTestCall struct {
	reqHeader, respHeader http.Header
	url                   string
	reqBody, respBody     []byte
	reqCT, respCT         string
	reqTrunc, respTrunc   bool // the body is only a captured prefix
	err                   string
}

func redactCall(r *Redactor, c redactTestCall) []string {
	var s Secrets
	var out []string
	addHeader := func(h http.Header) {
		for k, vs := range h {
			out = append(out, k)
			out = append(out, vs...)
		}
	}
	addHeader(r.Header(c.reqHeader, &s))
	out = append(out, string(r.BodyPrefix(c.reqBody, c.reqCT, c.reqTrunc, &s)))
	out = append(out, r.URL(c.url, &s))
	addHeader(r.Header(c.respHeader, &s))
	out = append(out, string(r.BodyPrefix(c.respBody, c.respCT, c.respTrunc, &s)))
	out = append(out, s.Mask(c.err))
	return out
}

func randSecretHex(t testing.TB, rng *mrand.Rand) string {
	b := make([]byte, 8+rng.IntN(13)) // 16–40 hex chars
	if _, err := crand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestRedactProperty plants random secrets in every place a secret may be
// and checks that none survives anywhere in the redacted call.
func TestRedactProperty(t *testing.T) {
	r := defaultRedactor()
	rng := mrand.New(mrand.NewPCG(1, 2))
	for iter := range 200 {
		var secrets []string
		sec := func() string {
			v := randSecretHex(t, rng)
			secrets = append(secrets, v)
			return v
		}
		enc := func(v string) string { b, _ := json.Marshal(v); return string(b) }

		reqH := http.Header{"Content-Type": {"application/json"}, "Accept": {"*/*"}}
		basicPw := sec()
		basicBlob := base64.StdEncoding.EncodeToString([]byte("user" + fmt.Sprint(iter) + ":" + basicPw))
		secrets = append(secrets, basicBlob)
		if rng.IntN(2) == 0 {
			reqH.Set("Authorization", "Basic "+basicBlob)
		} else {
			reqH.Set("Authorization", "Bearer "+sec())
			reqH.Set("Proxy-Authorization", "Basic "+basicBlob)
		}
		reqH.Set("Cookie", "sid="+sec()+"; csrf="+sec())
		for _, name := range []string{"X-Api-Key", "X-Auth-Token", "X-Refresh-Token", "X-Client-Secret",
			"X-Db-Password", "X-Passwd", "X-Partner-Api-Key", "X-Apikey"} {
			reqH[name] = []string{sec()}
		}

		q := []string{"page=" + fmt.Sprint(iter)}
		for _, k := range specQueryKeys {
			if rng.IntN(2) == 0 {
				k = strings.ToLower(k)
			}
			q = append(q, k+"="+sec())
		}
		rng.Shuffle(len(q), func(i, j int) { q[i], q[j] = q[j], q[i] })
		u := "https://svc" + fmt.Sprint(iter) + ":" + sec() + "@erp.example/v1/orders?" + strings.Join(q, "&")

		// JSON: each sensitive key at a random depth, with a random value type.
		var fields []string
		for _, k := range specBodyKeys {
			key := []string{k, "x_" + k, strings.ToUpper(k) + "_id"}[rng.IntN(3)]
			var val string
			switch rng.IntN(4) {
			case 0:
				val = enc(sec())
			case 1:
				val = `{"inner":` + enc(sec()) + `,"n":[` + enc(sec()) + `]}`
			case 2:
				val = `[1,` + enc(sec()) + `]`
			default:
				d := fmt.Sprint(1 + rng.IntN(9))
				for range 15 {
					d += fmt.Sprint(rng.IntN(10))
				}
				secrets = append(secrets, d)
				val = d
			}
			f := enc(key) + ":" + val
			for range rng.IntN(4) {
				f = `"wrap":[{"n":1,` + f + `}]`
			}
			fields = append(fields, f)
		}
		reqBody := "{" + strings.Join(fields, ",") + "}"
		if !json.Valid([]byte(reqBody)) {
			t.Fatalf("test bug: invalid request body %s", reqBody)
		}

		// Response: fresh tokens under sensitive keys, echoes of the request
		// secrets inside free-text fields, headers and the error.
		sent := slices.Clone(secrets) // request-side secrets
		pick := func() string { return sent[rng.IntN(len(sent))] }
		fresh := sec()
		var echoes []string
		for _, v := range secrets {
			echoes = append(echoes, enc("you sent "+v+"."))
		}
		respBody := `{"access_token":` + enc(fresh) + `,"token_type":"bearer","log":[` + strings.Join(echoes, ",") + `]}`
		respH := http.Header{
			"Set-Cookie": {"sess=" + sec() + "; Path=/; HttpOnly"},
			"X-Debug":    {"auth=" + pick()},
			"Location":   {"https://erp.example/next?token=" + sec()},
		}
		errText := fmt.Sprintf("erp: 401 for %s (fresh %s)", pick(), fresh)

		outs := redactCall(r, redactTestCall{
			reqHeader: reqH, url: u,
			reqBody: []byte(reqBody), reqCT: "application/json",
			respHeader: respH, respBody: []byte(respBody), respCT: "application/json",
			err: errText,
		})

		callSecrets := secrets // the form's secrets below are not the call's

		// Form bodies, separately (a call has one request body).
		var form []string
		for _, k := range specBodyKeys {
			form = append(form, "a"+k+"="+sec())
		}
		formOut := r.Body([]byte(strings.Join(form, "&")+"&plain=1"), "application/x-www-form-urlencoded", nil)
		outs = append(outs, string(formOut))

		for _, o := range outs {
			for _, v := range secrets {
				if strings.Contains(o, v) {
					t.Fatalf("iteration %d: got secret %q in output %q; want it redacted", iter, v, o)
				}
			}
		}
		for _, o := range outs {
			if strings.HasPrefix(o, "{") && !json.Valid([]byte(o)) {
				t.Fatalf("iteration %d: got invalid JSON %s; want valid", iter, o)
			}
		}

		// The same call with both bodies captured only up to a random cut.
		// A secret the recorder never saw, because fewer than 4 of its
		// bytes lie before the cut, may still show where it is echoed;
		// no other may show anywhere, nor its first 4 bytes at a body's end.
		reqCut, respCut := rng.IntN(len(reqBody)+1), rng.IntN(len(respBody)+1)
		unseen := func(v string) bool {
			if k := strings.Index(reqBody, v); k >= 0 && reqCut-k < minMaskLen {
				return true
			}
			return v == fresh && respCut-strings.Index(respBody, v) < minMaskLen
		}
		touts := redactCall(r, redactTestCall{
			reqHeader: reqH, url: u,
			reqBody: []byte(reqBody[:reqCut]), reqCT: "application/json", reqTrunc: true,
			respHeader: respH, respBody: []byte(respBody[:respCut]), respCT: "application/json", respTrunc: true,
			err: errText,
		})
		nh := 0 // request header outputs: each name and its values
		for _, vs := range reqH {
			nh += 1 + len(vs)
		}
		tReq, tResp := touts[nh], touts[len(touts)-2] // the response body is followed by the error
		for _, v := range callSecrets {
			if unseen(v) {
				continue
			}
			for _, o := range touts {
				if strings.Contains(o, v) {
					t.Fatalf("iteration %d (cuts %d, %d): got secret %q in output %q; want it redacted", iter, reqCut, respCut, v, o)
				}
			}
			for _, o := range []string{tReq, tResp} {
				for k := minMaskLen; k < len(v); k++ {
					if strings.HasSuffix(o, v[:k]) {
						t.Fatalf("iteration %d (cuts %d, %d): got %q ending with %q, the start of secret %q", iter, reqCut, respCut, o, v[:k], v)
					}
				}
			}
		}
		// Sensitive values in the request body are redacted from their first byte.
		for _, v := range secrets {
			if strings.Contains(tReq, v[:minMaskLen]) {
				t.Fatalf("iteration %d (cut %d): got %q in request body %s; want no part of secret %q", iter, reqCut, v[:minMaskLen], tReq, v)
			}
		}
	}
}

func TestRedactorConcurrent(t *testing.T) {
	r := defaultRedactor()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				pw := fmt.Sprintf("pw-%d-%d-xyz", g, i)
				var s Secrets
				r.Header(http.Header{"Authorization": {"Bearer " + pw}}, &s)
				got := string(r.Body([]byte(`{"m":"`+pw+`"}`), "application/json", &s))
				if want := `{"m":"[REDACTED]"}`; got != want {
					t.Errorf("got %s; want %s", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// cleanJSONBody builds a realistic JSON body of about n bytes with no
// sensitive keys.
func cleanJSONBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"orders":[`)
	for i := 0; b.Len() < n-120; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"sku":"SKU-%05d","qty":%d,"price":%d.%02d,"note":"deliver to dock \"B\"","tags":["a","b"],"paid":true}`,
			i, i*7, i%5+1, 10+i, i%100)
	}
	b.WriteString(`],"next":null}`)
	return b.Bytes()
}

func BenchmarkRedactBodyClean(b *testing.B) {
	r := defaultRedactor()
	body := cleanJSONBody(4096)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var s Secrets
		if out := r.Body(body, "application/json", &s); len(out) != len(body) {
			b.Fatal("changed a clean body")
		}
	}
}

func BenchmarkRedactBodySecrets(b *testing.B) {
	r := defaultRedactor()
	base := cleanJSONBody(4096)
	// Sensitive keys plus an echo of one request secret.
	body := append([]byte(`{"password":"hunter22-long","card_number":4111111111111111,"auth":{"api_key":"k-123456"},"msg":"hi hunter22-long","data":`), base...)
	body = append(body, '}')
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var s Secrets
		s.Add("Bearer-abcdef")
		r.Body(body, "application/json", &s)
	}
}

// prefixLoopBodies are ~300-byte JSON bodies with secrets early and a long
// tail, for cutting at every offset.
func prefixLoopBodies() []struct {
	name, body string
	secrets    []string
	ngram      int  // no run of this many bytes of a secret may appear in any output
	prefixFull bool // every output is a prefix of Body's output for the whole body
} {
	tail := `,"items":[`
	for i := range 3 {
		if i > 0 {
			tail += ","
		}
		tail += fmt.Sprintf(`{"id":%d,"sku":"SKU-%05d","note":"caf\u00e9 \"ü\" 日本","qty":-2.5e+1,"ok":true,"x":null}`, i, i*7)
	}
	tail += `],"next":null}`
	const pw, inner, num = `Zq9!hUnt3r2~Xy`, `Kw7#pLmQ-vR4`, `98765432101234`
	return []struct {
		name, body string
		secrets    []string
		ngram      int
		prefixFull bool
	}{
		{"string value", `{"user":"bob","password":"` + pw + `"` + tail, []string{pw}, 3, true},
		{"escaped string value", `{"user":"bob","password":"` + `Zq9\u0021hUnt3r2\/\u00e9~Xy` + `"` + tail, []string{"Zq9", "hUnt3r2", "~Xy"}, 3, true},
		{"nested sensitive object", `{"user":"bob","auth":{"client_secret":{"v":"` + inner + `","alt":[` + num + `,"` + pw + `"]},"n":1}` + tail,
			[]string{pw, inner, num}, 3, true},
		{"number value and echo", `{"cvv":` + num + `,"password":"` + pw + `","log":"you sent ` + pw + ` and ` + num + `!"` + tail,
			[]string{pw, num}, 4, false},
	}
}

// TestRedactBodyPrefixEveryCut cuts bodies at every byte offset, mid-key,
// mid-string, mid-escape, mid-number and mid-rune included.
func TestRedactBodyPrefixEveryCut(t *testing.T) {
	r := defaultRedactor()
	for _, tt := range prefixLoopBodies() {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			if !json.Valid(body) {
				t.Fatalf("test bug: invalid body %s", body)
			}
			full := string(r.Body(body, "application/json", &Secrets{}))
			for _, ct := range []string{"application/json", ""} {
				for cut := 0; cut <= len(body); cut++ {
					in := slices.Clip(body[:cut])
					before := string(in)
					var s Secrets
					got := string(r.BodyPrefix(in, ct, true, &s))
					if string(in) != before {
						t.Fatalf("cut %d: input mutated", cut)
					}
					for _, sec := range tt.secrets {
						for k := 0; k+tt.ngram <= len(sec); k++ {
							if g := sec[k : k+tt.ngram]; strings.Contains(got, g) {
								t.Fatalf("cut %d (ct %q): got %s; want no %q of secret %q", cut, ct, got, g, sec)
							}
						}
					}
					if tt.prefixFull && !strings.HasPrefix(full, got) {
						t.Fatalf("cut %d (ct %q): got %s; want a prefix of %s", cut, ct, got, full)
					}
				}
			}
		})
	}
}

func TestRedactBodyPrefix(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name, ct, in, want string
	}{
		{"cut mid string value", "application/json", `{"a":1,"password":"hunt`, `{"a":1,"password":"[REDACTED]"`},
		{"cut after opening quote", "application/json", `{"password":"`, `{"password":"[REDACTED]"`},
		{"cut after colon", "application/json", `{"password": `, `{"password": `},
		{"cut before colon", "application/json", `{"password"`, `{"password"`},
		{"cut after value", "application/json", `{"password":"hunter22"`, `{"password":"[REDACTED]"`},
		{"cut after comma", "application/json", `{"password":"hunter22",`, `{"password":"[REDACTED]",`},
		{"later values kept", "application/json", `{"password":"x","items":[1,{"a":"b"`, `{"password":"[REDACTED]","items":[1,{"a":"b"`},
		{"cut mid number", "application/json", `{"cvv":12`, `{"cvv":"[REDACTED]"`},
		{"cut after minus", "application/json", `{"cvv":-`, `{"cvv":"[REDACTED]"`},
		{"cut mid exponent", "application/json", `{"cvv":1e+`, `{"cvv":"[REDACTED]"`},
		{"cut mid literal", "application/json", `{"ssn":nu`, `{"ssn":"[REDACTED]"`},
		{"complete literal at cut", "application/json", `{"ssn":null`, `{"ssn":"[REDACTED]"`},
		{"nested sensitive object cut in the middle", "application/json",
			`{"id":7,"auth":{"client_secret":{"k":"v1","n":[1,{"deep":"abc`, `{"id":7,"auth":{"client_secret":"[REDACTED]"`},
		{"sensitive object cut between members", "application/json", `{"secret":{"a":1,`, `{"secret":"[REDACTED]"`},
		{"sensitive array cut", "application/json", `{"tokens":["a","b`, `{"tokens":"[REDACTED]"`},
		{"cut inside key", "application/json", `{"a":1,"passw`, `{"a":1,`},
		{"cut inside nested key", "application/json", `{"a":{"b":2,"tok`, `{"a":{"b":2,`},
		{"cut inside harmless key", "application/json", `{"a":1,"nam`, `{"a":1,`},
		{"cut inside key of sensitive object", "application/json", `{"secret":{"pub`, `{"secret":"[REDACTED]"`},
		{"cut inside escaped key", "application/json", `{"x":1,"pass\u00`, `{"x":1,`},
		{"escaped sensitive key", "application/json", `{"pass\u0077ord":"hun`, `{"pass\u0077ord":"[REDACTED]"`},
		{"cut inside escape in sensitive value", "application/json", `{"token":"ab\u00`, `{"token":"[REDACTED]"`},
		{"cut after backslash in sensitive value", "application/json", `{"token":"ab\`, `{"token":"[REDACTED]"`},
		{"cut inside escape in other value", "application/json", `{"msg":"caf\u00`, `{"msg":"caf\u00`},
		{"cut mid rune in sensitive value", "application/json", "{\"password\":\"p\xc3", `{"password":"[REDACTED]"`},
		{"cut mid 3-byte rune in sensitive value", "application/json", "{\"password\":\"\xe6\x97", `{"password":"[REDACTED]"`},
		{"cut mid rune in other value", "application/json", "{\"msg\":\"caf\xc3", "{\"msg\":\"caf\xc3"},
		{"other partial string kept", "application/json", `{"a":"hello wor`, `{"a":"hello wor`},
		{"other partial number kept", "application/json", `{"a":1.`, `{"a":1.`},
		{"top-level array", "application/json", `[{"secret":"s"},{"secret":"t`, `[{"secret":"[REDACTED]"},{"secret":"[REDACTED]"`},
		{"ndjson second line cut", "application/x-ndjson", "{\"token\":\"a\"}\n{\"token\":\"b", "{\"token\":\"[REDACTED]\"}\n{\"token\":\"[REDACTED]\""},
		{"sniffed", "", ` {"token":"abc`, ` {"token":"[REDACTED]"`},
		{"complete body", "application/json", `{"token":"t"}`, `{"token":"[REDACTED]"}`},
		{"only an opener", "application/json", `{`, `{`},
		{"syntax error before the cut", "application/json", `{"password":"x",,"a":"`, `{"password":"x",,"a":"`},
		{"bad escape before the cut", "application/json", `{"password":"a\x`, `{"password":"a\x`},
		{"bad hex escape before the cut", "application/json", `{"password":"a\u0g`, `{"password":"a\u0g`},
		{"bad literal before the cut", "application/json", `{"ssn":nul1`, `{"ssn":nul1`},
		{"bad number before the cut", "application/json", `{"cvv":-x`, `{"cvv":-x`},
		{"mismatched closer before the cut", "application/json", `{"a":[1},"token":"x`, `{"a":[1},"token":"x`},
		{"control character before the cut", "application/json", "{\"token\":\"a\x01b", "{\"token\":\"a\x01b"},
		{"empty", "application/json", "", ""},
		{"form cut mid value", form, "grant_type=password&username=bob&password=hunt", "grant_type=password&username=bob&password=[REDACTED]"},
		{"form cut mid escape", form, "a=1&client_secret=ab%2", "a=1&client_secret=[REDACTED]"},
		{"form cut after equals", form, "a=1&password=", "a=1&password="},
		{"form cut mid key", form, "a=1&passw", "a=1&passw"},
		{"text left alone", "text/plain", "password: hunt", "password: hunt"},
	}
	r := defaultRedactor()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(r.BodyPrefix([]byte(tt.in), tt.ct, true, &Secrets{}))
			if got != tt.want {
				t.Errorf("got %s; want %s", got, tt.want)
			}
		})
	}
}

// A prefix cut at a key returns a shorter slice of the input; appending to
// it must not write into the input.
func TestRedactBodyPrefixNoAlias(t *testing.T) {
	in := []byte(`{"a":1,"passw`)
	out := defaultRedactor().BodyPrefix(in, "application/json", true, nil)
	if got, want := string(out), `{"a":1,`; got != want {
		t.Fatalf("got %s; want %s", got, want)
	}
	_ = append(out, 'X')
	if got, want := string(in), `{"a":1,"passw`; got != want {
		t.Errorf("got input %s; want %s", got, want)
	}
}

// Known secrets are masked in a prefix, including one cut off at its end
// after at least 4 bytes.
func TestRedactBodyPrefixMasksKnownSecrets(t *testing.T) {
	tests := []struct {
		name, ct, in, want string
	}{
		{"whole secret in cut string", "application/json", `{"msg":"you sent Tr0ub4dor\u00263 and`, `{"msg":"[REDACTED]"`},
		{"secret cut after 5 bytes", "application/json", `{"msg":"you sent Tr0ub`, `{"msg":"[REDACTED]"`},
		{"secret cut after 3 bytes shows them", "application/json", `{"msg":"you sent Tr0`, `{"msg":"you sent Tr0`},
		{"complete string before the cut", "application/json", `{"msg":"Tr0ub4dor&3","n":12`, `{"msg":"[REDACTED]","n":12`},
		{"card number cut", "application/json", `{"card":41111`, `{"card":"[REDACTED]"`},
		{"cut key is dropped", "application/json", `{"a":1,"Tr0ub`, `{"a":1,`},
		{"text", "text/plain", "denied for Tr0ub4d", "denied for [REDACTED]"},
		{"text, whole and cut", "text/plain", "denied for Tr0ub4dor&3 ok Tr0u", "denied for [REDACTED] ok [REDACTED]"},
		{"form, query-escaped", "application/x-www-form-urlencoded", "msg=hi&echo=Tr0ub4dor%26", "msg=hi&echo=[REDACTED]"},
		{"invalid JSON", "application/json", `{"a":,"m":"Tr0ub4`, `{"a":,"m":"[REDACTED]`},
	}
	r := defaultRedactor()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Secrets
			s.Add("Tr0ub4dor&3")
			s.Add("4111111111111111")
			in := []byte(tt.in)
			got := string(r.BodyPrefix(in, tt.ct, true, &s))
			if got != tt.want {
				t.Errorf("got %s; want %s", got, tt.want)
			}
			if string(in) != tt.in {
				t.Errorf("got input %s; want it unchanged %s", in, tt.in)
			}
		})
	}
}

func TestRedactBodyPrefixCollectsSecrets(t *testing.T) {
	tests := []struct {
		name, in     string
		want, noWant []string
	}{
		{"nested, cut mid string", `{"secret":{"a":"n3sted-str","b":[41111111,"esc\u0061ped-and-cu`,
			[]string{"n3sted-str", "41111111", `esc\u0061ped-and-cu`, "escaped-and-cu"}, nil},
		{"cut mid number", `{"card_number":411111`, []string{"411111"}, nil},
		{"cut mid escape", `{"token":"abcd\u00`, []string{"abcd"}, []string{`abcd\u00`}},
		{"cut after backslash", `{"token":"abcde\`, []string{"abcde"}, []string{`abcde\`}},
		{"cut mid rune", "{\"token\":\"abcd\xc3", []string{"abcd"}, []string{"abcd\xc3"}},
		{"cut mid literal", `{"token":tr`, nil, []string{"tr"}},
	}
	r := defaultRedactor()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Secrets
			r.BodyPrefix([]byte(tt.in), "application/json", true, &s)
			for _, w := range tt.want {
				if _, ok := s.seen[w]; !ok {
					t.Errorf("got %q; want it to contain %q", slices.Sorted(maps.Keys(s.seen)), w)
				}
			}
			for _, w := range tt.noWant {
				if _, ok := s.seen[w]; ok {
					t.Errorf("got %q; want no %q", slices.Sorted(maps.Keys(s.seen)), w)
				}
			}
		})
	}
}

// With truncated == false, BodyPrefix is Body: same output, same secrets.
func TestRedactBodyPrefixNotTruncatedIsBody(t *testing.T) {
	inputs := []struct{ ct, in string }{
		{"application/json", `{"data":[{"id":1,"auth":{"password":"p@ss","user":"u"}}],"ok":true}`},
		{"application/json", `{"client_secret":{"a":[1,{"b":"c"}]},"n":1,"msg":"echo Tr0ub4dor&3"}`},
		{"application/json", `{"password":"x"`},
		{"application/json", `{"a":1,"passw`},
		{"application/json", `{"password":"x",}`},
		{"", ` {"token":"t"}`},
		{"application/x-ndjson", "{\"token\":\"a\"}\n{\"token\":\"b\"}\n"},
		{"application/x-www-form-urlencoded", "grant_type=password&password=p%40ss+w&x=Tr0ub4dor%26"},
		{"application/x-www-form-urlencoded", "a=1&password=hunt"},
		{"text/plain", "denied for Tr0ub4dor&3 ok Tr0ub"},
		{"text/plain", ""},
	}
	r := defaultRedactor()
	for _, tt := range inputs {
		var sb, sp Secrets
		sb.Add("Tr0ub4dor&3")
		sp.Add("Tr0ub4dor&3")
		want := string(r.Body([]byte(tt.in), tt.ct, &sb))
		got := string(r.BodyPrefix([]byte(tt.in), tt.ct, false, &sp))
		if got != want {
			t.Errorf("%s: got %s; want %s", tt.in, got, want)
		}
		if !maps.Equal(sp.seen, sb.seen) {
			t.Errorf("%s: got secrets %q; want %q", tt.in, slices.Sorted(maps.Keys(sp.seen)), slices.Sorted(maps.Keys(sb.seen)))
		}
	}
}

// maskJSONTokens (complete bodies) masks exactly what the scanner in mask mode masks:
// random documents, secrets planted in keys, strings (plain and escaped), numbers, and across
// tokens.
func TestMaskJSONTokensMatchesTheScanner(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(7, 8))
	secrets := []string{"hunter2-pw", "4111111111111111", `quo"te-secret`, "tok/en-é-xyz"}
	var s Secrets
	for _, v := range secrets {
		s.Add(v)
	}
	pieces := []string{"plain", "hunter2-pw", `quo\"te-secret`, `tok\/en-\u00e9-xyz`, "tok/en-é-xyz", `a\\`, `\n`, "é", " "}
	str := func() string {
		var b strings.Builder
		b.WriteByte('"')
		for range rng.IntN(4) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		b.WriteByte('"')
		return b.String()
	}
	var value func(depth int) string
	value = func(depth int) string {
		switch k := rng.IntN(8); {
		case k < 2 && depth < 4:
			var parts []string
			for range rng.IntN(4) {
				parts = append(parts, str()+":"+value(depth+1))
			}
			return "{" + strings.Join(parts, ", ") + "}"
		case k < 4 && depth < 4:
			var parts []string
			for range rng.IntN(4) {
				parts = append(parts, value(depth+1))
			}
			return "[" + strings.Join(parts, ",") + "]"
		case k < 6:
			return str()
		case k < 7:
			return []string{"4111111111111111", "-4111111111111111.5e3", "12", "0.4111111111111111"}[rng.IntN(4)]
		default:
			return []string{"true", "false", "null"}[rng.IntN(3)]
		}
	}
	masked := 0
	for n := 0; n < 5000; n++ {
		doc := []byte(value(0))
		if !json.Valid(doc) {
			t.Fatalf("generated invalid JSON %s", doc)
		}
		hits := s.spans(doc)
		sc := jsonScanner{b: doc, mask: &s, hits: hits}
		if !sc.run() {
			t.Fatalf("scanner rejected %s", doc)
		}
		want := string(applyJSONEdits(doc, sc.edits))
		got := string(applyJSONEdits(doc, maskJSONTokens(doc, &s, hits)))
		if got != want {
			t.Fatalf("document %s\n got %s\nwant %s", doc, got, want)
		}
		if want != string(doc) {
			masked++
		}
	}
	if masked < 1000 {
		t.Errorf("only %d of 5000 documents had something to mask; the test proves little", masked)
	}
}
