package integration

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"testing"
)

// unquoteJSON decodes exactly what encoding/json decodes, and rejects what it rejects.
func TestUnquoteJSONMatchesEncodingJSON(t *testing.T) {
	tokens := []string{
		`""`, `"plain"`, `"caf\u00e9"`, `"café"`, `"a\"b\\c\/d"`, `"\b\f\n\r\t"`,
		`"\ud83d\ude00"`, `"😀"`, `"\ud83d"`, `"\ude00"`, `"\ud83d\u0041"`, `"\ud83dx"`, `"\ud83d\ud83d\ude00"`,
		"\"\xff\xfe\"", "\"a\xc3\"", `"\u0000"`, `"\u00"`, `"\x"`, `"\"`, "\"a\nb\"", `"a"b"`, `"`, `x`, `"\uZZZZ"`,
		`"\u2028\u2029"`, `"tab	in"`,
	}
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := []string{`a`, `é`, `\n`, `\\`, `\"`, `\/`, `\u00e9`, `\ud83d`, `\ude00`, `\u0041`, "\xff", `"`, "\x01", `\`, `\u12`, `\q`}
	for range 20_000 {
		var b bytes.Buffer
		b.WriteByte('"')
		for range rng.IntN(8) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		b.WriteByte('"')
		tokens = append(tokens, b.String())
	}
	for _, tok := range tokens {
		var want string
		wantErr := json.Unmarshal([]byte(tok), &want)
		got, ok := unquoteJSON([]byte(tok))
		if ok != (wantErr == nil) || ok && got != want {
			t.Fatalf("unquoteJSON(%q) = %q, %v; encoding/json: %q, %v", tok, got, ok, want, wantErr)
		}
	}
}

// headerJSON writes what json.Marshal writes.
func TestHeaderJSONMatchesEncodingJSON(t *testing.T) {
	for _, h := range []http.Header{
		{"Content-Type": {"application/json"}},
		{"B": {"2", "3"}, "A": {"1"}, "C": {}, "D": nil},
		{"X-Html": {"<a href=\"x\">&amp;</a>"}, "X-Unicode": {"café 😀 \u2028 \u2029"}, "X-Bad": {"a\xffb"}},
		{"X-Control": {"a\x01b\tc\nd\be\ff"}, "Weird\"Key\\": {"v"}},
	} {
		want, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		if got := headerJSON(h); !bytes.Equal(got, want) {
			t.Errorf("headerJSON(%v) = %s; json.Marshal: %s", h, got, want)
		}
	}
	if got := headerJSON(http.Header{}); got != nil {
		t.Errorf("headerJSON of an empty header = %s; want nil (NULL)", got)
	}
}
