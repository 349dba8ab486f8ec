package redact

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestSecretsMask(t *testing.T) {
	var s Secrets
	for _, v := range []string{"", "abc", `p@ss w/"rd<>&`, "longsecret", "secret", "RED", "DACT", "hunter22", "pässwörd"} {
		s.Add(v)
	}
	s.Add("hunter22") // repeated
	b64 := base64.StdEncoding.EncodeToString([]byte("hunter22"))
	tests := []struct{ in, want string }{
		{"nothing to see", "nothing to see"},
		{"abc abc", "abc abc"}, // too short to search
		{`pw=p@ss w/"rd<>& ok`, "pw=[REDACTED] ok"},
		{`{"m":"p@ss w/\"rd<>&"}`, `{"m":"[REDACTED]"}`},
		{`{"m":"p@ss w/\"rd\u003c\u003e\u0026"}`, `{"m":"[REDACTED]"}`},
		{`{"m":"p@ss w\/\"rd<>&"}`, `{"m":"[REDACTED]"}`},
		{`{"m":"p@ss w\/\"rd\u003c\u003e\u0026"}`, `{"m":"[REDACTED]"}`},
		{"?q=p%40ss+w%2F%22rd%3C%3E%26&x", "?q=[REDACTED]&x"},
		{"/u/p@ss%20w%2F%22rd%3C%3E&/x", "/u/[REDACTED]/x"},
		{"<b>p@ss w/&#34;rd&lt;&gt;&amp;</b>", "<b>[REDACTED]</b>"},
		{`\u0068\u0075\u006e\u0074\u0065\u0072\u0032\u0032!`, "[REDACTED]!"},
		{`\u0068\u0075\u006E\u0074\u0065\u0072\u0032\u0032`, "[REDACTED]"},
		{"auth " + b64, "auth [REDACTED]"}, // padded: the unpadded prefix is found
		{"auth " + base64.RawURLEncoding.EncodeToString([]byte("p@ss w/\"rd<>&")), "auth [REDACTED]"},
		{`p\u00e4ssw\u00f6rd`, "[REDACTED]"},
		{"xlongsecretx", "x[REDACTED]x"},
		{"hunter22hunter22 hunter22", "[REDACTED][REDACTED] [REDACTED]"},
		{"[REDACTED]", "[REDACTED]"},
	}
	for _, tt := range tests {
		if got := s.Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q; want %q", tt.in, got, tt.want)
		}
		if got := string(s.MaskBytes([]byte(tt.in))); got != tt.want {
			t.Errorf("MaskBytes(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
	if got := len(s.seen); got != 8 {
		t.Errorf("got %d values; want 8", got)
	}
}

func TestSecretsNil(t *testing.T) {
	var s *Secrets
	s.Add("hunter22")
	if got := s.Mask("hunter22"); got != "hunter22" {
		t.Errorf("Mask(%q) = %q; want it unchanged", "hunter22", got)
	}
	if got := string(s.MaskBytes([]byte("hunter22"))); got != "hunter22" {
		t.Errorf("MaskBytes(%q) = %q; want it unchanged", "hunter22", got)
	}
}

func TestSecretsNoAllocWithoutMatch(t *testing.T) {
	var s Secrets
	s.Add("hunter22")
	s.Add("s3cr3t/with&specials")
	text := strings.Repeat("clean log line ", 100)
	b := []byte(text)
	if n := testing.AllocsPerRun(100, func() { _ = s.Mask(text); _ = s.MaskBytes(b) }); n != 0 {
		t.Errorf("got %v allocations; want 0", n)
	}
}

func TestSecretsMaskTail(t *testing.T) {
	var s Secrets
	s.Add("Tr0ub4dor&3")
	tests := []struct{ in, want string }{
		{"denied for Tr0ub", "denied for [REDACTED]"},
		{"denied for Tr0", "denied for Tr0"}, // 3 bytes: may be anything
		{"denied for Tr0ub4dor%26", "denied for [REDACTED]"},
		{"clean", "clean"},
	}
	for _, tt := range tests {
		in := []byte(tt.in)
		if got := string(s.maskTail(in)); got != tt.want {
			t.Errorf("maskTail(%q) = %q; want %q", tt.in, got, tt.want)
		}
		if string(in) != tt.in {
			t.Errorf("maskTail(%q) modified its input", tt.in)
		}
	}
}

func TestSecretsMaskLinear(t *testing.T) {
	var s Secrets
	s.Add("aaaa")
	if got := s.Mask(strings.Repeat("a", 1<<20) + "b"); got != Mask+"b" {
		t.Errorf("Mask(a...ab) = %.40q; want %q", got, Mask+"b")
	}
}
