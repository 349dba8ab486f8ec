package redact

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

func basic(userpass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userpass))
}

func TestHeader(t *testing.T) {
	tests := []struct {
		name, value, want string
		collected         []string
	}{
		{"Authorization", "Bearer abcd1234efgh", "Bearer [REDACTED]", []string{"abcd1234efgh"}},
		{"Authorization", basic("alice:s3cr3t-pw"), "Basic [REDACTED]",
			[]string{base64.StdEncoding.EncodeToString([]byte("alice:s3cr3t-pw")), "alice:s3cr3t-pw", "s3cr3t-pw"}},
		{"Authorization", "k3y-without-scheme", Mask, []string{"k3y-without-scheme"}},
		{"Authorization", strings.Repeat("k", 40) + " more", Mask, nil}, // too long for a scheme
		{"Proxy-Authorization", basic("bob:hunter22"), "Basic [REDACTED]", []string{"hunter22"}},
		{"X-Forwarded-Authorization", "Token t0k3n", "Token [REDACTED]", []string{"t0k3n"}},
		{"Cookie", "sid=abc123456; theme=dark", Mask, []string{"sid=abc123456; theme=dark", "abc123456", "dark"}},
		{"Set-Cookie", "sid=zyx98765; Path=/; HttpOnly", Mask, []string{"zyx98765"}},
		{"X-Api-Key", "key-0001", Mask, []string{"key-0001"}},
		{"x-api-key", "key-0002", Mask, []string{"key-0002"}},
		{"X-Auth-Token", "tok-0001", Mask, nil},
		{"X-Auth-Key", "v", Mask, nil},
		{"X-Access-Key", "v", Mask, nil},
		{"Ocp-Apim-Subscription-Key", "v", Mask, nil},
		{"X-Functions-Key", "v", Mask, nil},
		{"X-Amz-Security-Token", "v", Mask, nil},
		{"Authorization", "", "", nil},
		{"Content-Type", "application/json", "application/json", nil},
		{"Accept", "Bearer abcd", "Bearer abcd", nil},
		{"Location", "https://cb.example/done?state=1&access_token=newtok99#token=frag77",
			"https://cb.example/done?state=1&access_token=[REDACTED]#token=[REDACTED]", []string{"newtok99", "frag77"}},
		{"Referer", "/from?sig=abcd", "/from?sig=[REDACTED]", nil},
		{"Link", "<https://api.example/p?page=2&api_key=kkkk>; rel=next", "<https://api.example/p?page=2&api_key=[REDACTED]>; rel=next", nil},
	}
	r := Standard()
	for _, tt := range tests {
		in := http.Header{tt.name: {tt.value}}
		var s Secrets
		got := r.Header(in, &s)[tt.name]
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("Header(%s: %q) = %q; want [%q]", tt.name, tt.value, got, tt.want)
		}
		if in[tt.name][0] != tt.value {
			t.Errorf("Header(%s: %q) modified its input", tt.name, tt.value)
		}
		for _, v := range tt.collected {
			if !s.seen[v] {
				t.Errorf("Header(%s: %q) did not collect %q", tt.name, tt.value, v)
			}
		}
	}
}

func TestHeaderCopyAndOrder(t *testing.T) {
	r := Standard()
	if got := r.Header(nil, nil); got != nil {
		t.Errorf("Header(nil) = %v; want nil", got)
	}
	for range 20 { // the echo may come before Authorization in map order
		in := http.Header{
			"Authorization": {"Bearer tok-abcdef"},
			"X-Echo":        {"got tok-abcdef"},
			"X-Multi":       {"a", "b"},
			"X-Nil":         nil,
		}
		out := r.Header(in, &Secrets{})
		if got, want := out.Get("X-Echo"), "got [REDACTED]"; got != want {
			t.Fatalf("X-Echo = %q; want %q", got, want)
		}
		if _, ok := out["X-Nil"]; !ok || out["X-Nil"] != nil {
			t.Fatalf("X-Nil = %#v; want nil kept", out["X-Nil"])
		}
		out["X-Multi"] = append(out["X-Multi"], "c")
		if got := strings.Join(in["X-Multi"], ","); got != "a,b" {
			t.Fatalf("input X-Multi = %q after appending to the copy; want a,b", got)
		}
	}
}
