package redact

import (
	"strings"
	"testing"
)

// TestBodyEveryCut cuts bodies holding secrets at every byte and checks that
// no 4 bytes in a row of any secret survive: under its key, echoed, or cut at
// the end.
func TestBodyEveryCut(t *testing.T) {
	const pw, inner, num = `Zq9!hUnt3r2~Xy`, `Kw7#pLmQ-vR4`, `98765432101234`
	items := `,"items":[{"id":1,"sku":"SKU-00001","note":"caf\u00e9 \"\u00fc\" 日本","qty":-2.5e+1,"ok":true,"x":null}],"next":null}`
	part := func(headers, content string) string { return "--b\r\n" + headers + "\r\n\r\n" + content + "\r\n" }
	tests := []struct{ ct, body string }{
		{"application/json", `{"user":"bob","password":"` + pw + `"` + items},
		{"application/json", `{"user":"bob","password":"Zq9\u0021hUnt3r2\/~Xy","log":"you sent Zq9!hUnt3r2/~Xy"` + items},
		{"application/json", `{"user":"bob","auth":{"client_secret":{"v":"` + inner + `","alt":[` + num + `,"` + pw + `"]},"n":1}` + items},
		{"application/json", `{"cvv":` + num + `,"password":"` + pw + `","log":"you sent ` + pw + ` and ` + num + `!"` + items},
		{"application/json", `{"payload":"{\"password\":\"` + pw + `\"}","n":1` + items},
		{"application/json", `{'password': '` + pw + `', "note": "echo ` + pw + `", token: ` + num + `}`},
		{"application/x-www-form-urlencoded", "grant_type=password&username=bob&password=" + pw + "&client_secret=" + inner + "&note=you+sent+Zq9%21hUnt3r2~Xy"},
		{"application/xml", `<r><user>bob</user><password>` + pw + `</password><k token="` + inner + `"/><log>you sent ` + pw + `</log></r>`},
		{"multipart/form-data; boundary=b", part(`Content-Disposition: form-data; name="password"`, pw) +
			part("Content-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json", `{"api_key":"`+inner+`"}`) +
			part(`Content-Disposition: form-data; name="note"`, "echo "+pw) + "--b--\r\n"},
		{"text/plain", "login password=" + pw + " token: " + inner + " echo " + pw + " and " + inner},
	}
	r := Standard()
	for _, tt := range tests {
		for cut := 0; cut <= len(tt.body); cut++ {
			in := []byte(tt.body[:cut])
			var s Secrets
			got := string(r.Body(in, tt.ct, true, &s))
			if string(in) != tt.body[:cut] {
				t.Fatalf("Body(%q) modified its input", tt.body[:cut])
			}
			for _, sec := range []string{pw, inner, num} {
				for k := 0; k+4 <= len(sec); k++ {
					if g := sec[k : k+4]; strings.Contains(got, g) {
						t.Fatalf("Body(%q) = %q; want no %q of secret %q", tt.body[:cut], got, g, sec)
					}
				}
			}
		}
	}
}

func TestBodyTruncated(t *testing.T) {
	tests := []bodyTest{
		{"application/json", `{"a":1,"password":"hunt`, `{"a":1,"password":"[REDACTED]"`},
		{"application/json", `{"password":"`, `{"password":"[REDACTED]"`},
		{"application/json", `{"password": `, `{"password": `},
		{"application/json", `{"cvv":12`, `{"cvv":"[REDACTED]"`},
		{"application/json", `{"ssn":nu`, `{"ssn":"[REDACTED]"`},
		{"application/json", `{"id":7,"auth":{"client_secret":{"k":"v1","n":[1,{"deep":"abc`, `{"id":7,"auth":"[REDACTED]"`},
		{"application/json", `{"id":7,"login":{"client_secret":{"k":"v1","n":[1,{"deep":"abc`, `{"id":7,"login":{"client_secret":"[REDACTED]"`},
		{"application/json", `{"token":"ab\u00`, `{"token":"[REDACTED]"`},
		{"application/json", `{"a":"hello wor`, `{"a":"hello wor`},
		{"application/json", `{"msg":"you sent Tr0ub`, `{"msg":"you sent [REDACTED]`},
		{"application/json", `{"msg":"you sent Tr0`, `{"msg":"you sent Tr0`},
		{"application/json", `{"card":41111`, `{"card":[REDACTED]`},
		{"application/x-www-form-urlencoded", "a=1&client_secret=ab%2", "a=1&client_secret=[REDACTED]"},
		{"application/x-www-form-urlencoded", "a=1&passw", "a=1&passw"},
		{"application/xml", `<a><password>hun`, `<a><password>[REDACTED]`},
		{"application/xml", `<a><Credentials password="hun`, `<a><Credentials password="[REDACTED]`},
		{"text/plain", "denied for Tr0ub4dor&3 ok Tr0u", "denied for [REDACTED] ok [REDACTED]"},
		{"multipart/form-data; boundary=b", "--b\r\nContent-Type: application/json\r\n\r\n{\"token\":\"abc", "--b\r\nContent-Type: application/json\r\n\r\n{\"token\":\"[REDACTED]\""},
	}
	r := Standard()
	for _, tt := range tests {
		var s Secrets
		s.Add("Tr0ub4dor&3")
		s.Add("4111111111111111")
		if got := string(r.Body([]byte(tt.in), tt.ct, true, &s)); got != tt.want {
			t.Errorf("Body(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
