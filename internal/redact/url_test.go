package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.example/v1/items?page=2&sort=asc#top", "https://api.example/v1/items?page=2&sort=asc#top"},
		{"https://bob:pa55word@erp.example:8443/x", "https://bob:[REDACTED]@erp.example:8443/x"},
		{"https://ghp_tok123@git.example/r.git", "https://[REDACTED]@git.example/r.git"},
		{"https://bob:@h/x", "https://bob:@h/x"},
		{"postgres://app:dbpw@db:5432/app?sslmode=disable&password=pw2", "postgres://app:[REDACTED]@db:5432/app?sslmode=disable&password=[REDACTED]"},
		{"https://h/p?b=1&token=t0k3n&a=2&Sig=zz&c=3", "https://h/p?b=1&token=[REDACTED]&a=2&Sig=[REDACTED]&c=3"},
		{"https://h/p?q=a+b%2Fc&key=x%2By&z=%7e", "https://h/p?q=a+b%2Fc&key=[REDACTED]&z=%7e"},
		{"https://h/p?api%5Fkey=abcd", "https://h/p?api%5Fkey=[REDACTED]"},
		{"https://h/p?token=&token&x=1", "https://h/p?token=&token&x=1"},
		{"/v1/cb?access_token=abc&x=1", "/v1/cb?access_token=[REDACTED]&x=1"},
		{"https://h/cb#access_token=zzz&token_type=bearer&expires_in=3600", "https://h/cb#access_token=[REDACTED]&token_type=bearer&expires_in=3600"},
		{"https://h/app#/login?token=zzz", "https://h/app#/login?token=[REDACTED]"},
		{"https://h/doc#section-2", "https://h/doc#section-2"},
		{"https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F2024&X-Amz-Date=1&X-Amz-Security-Token=tt&X-Amz-Signature=abc123",
			"https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4&X-Amz-Credential=[REDACTED]&X-Amz-Date=1&X-Amz-Security-Token=[REDACTED]&X-Amz-Signature=[REDACTED]"},
		{"https://login.example/cb?next=https://x.example/?token=abc", "https://login.example/cb?next=https://x.example/?token=[REDACTED]"},
		{"https://login.example/cb?next=https%3A%2F%2Fu%3Apw%40x.example%2F%3Ftoken%3Dabc%26a%3D1&b=2",
			"https://login.example/cb?next=https%3A%2F%2Fu%3A[REDACTED]%40x.example%2F%3Ftoken%3D[REDACTED]%26a%3D1&b=2"},
		{"https://h/?redirect_uri=https%3A%2F%2Fapp%2Fcb", "https://h/?redirect_uri=https%3A%2F%2Fapp%2Fcb"},
		{"/cb?next=https://u:pw@h/", "/cb?next=https://u:[REDACTED]@h/"},
		{"https://h/p?a=1&amp;token=t", "https://h/p?a=1&amp;token=[REDACTED]"},
		{"::garbage?token=x&%zz=1&key=%zz", "::garbage?token=[REDACTED]&%zz=1&key=[REDACTED]"},
		{"", ""},
		{"?", "?"},
		{"#", "#"},
		{"https://@", "https://@"},
	}
	for _, k := range []string{"token", "access_token", "api_key", "apikey", "key", "password", "secret", "client_secret",
		"clientSecret", "accessToken", "auth_token", "passwd", "api-key", "signature", "sig", "X-Amz-Signature",
		"X-Amz-Credential", "X-Amz-Security-Token", "X-Goog-Signature", "AWSAccessKeyId"} {
		for _, kk := range []string{k, strings.ToUpper(k)} {
			tests = append(tests, struct{ in, want string }{"https://h/p?a=1&" + kk + "=v4lue&b=2", "https://h/p?a=1&" + kk + "=[REDACTED]&b=2"})
		}
	}
	r := Standard()
	for _, tt := range tests {
		if got := r.URL(tt.in, nil); got != tt.want {
			t.Errorf("URL(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestURLCollectsAndMasks(t *testing.T) {
	r := Standard()
	var s Secrets
	s.Add("known-secret-1")
	got := r.URL("https://u:p%40ss-word@h/known-secret-1/x?token=t0k3n-value", &s)
	if want := "https://u:[REDACTED]@h/[REDACTED]/x?token=[REDACTED]"; got != want {
		t.Errorf("URL = %q; want %q", got, want)
	}
	for _, v := range []string{"p%40ss-word", "p@ss-word", "t0k3n-value"} {
		if !s.seen[v] {
			t.Errorf("URL did not collect %q", v)
		}
	}
	clean := "https://api.example/v1/items?page=2&sort=asc#top"
	if n := testing.AllocsPerRun(100, func() { _ = r.URL(clean, &s) }); n != 0 {
		t.Errorf("URL of a clean URL allocates %v times; want 0", n)
	}
}
