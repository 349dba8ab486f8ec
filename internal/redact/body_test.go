package redact

import (
	"strings"
	"testing"
)

func TestBodyXML(t *testing.T) {
	const x = "text/xml; charset=utf-8"
	wsse := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><wsse:Security>` +
		`<wsse:UsernameToken><wsse:Username>alice</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss#PasswordText">hunter22</wsse:Password></wsse:UsernameToken>` +
		`</wsse:Security></s:Header><s:Body><GetOrder><id>7</id></GetOrder></s:Body></s:Envelope>`
	runBodyTests(t, []bodyTest{
		{x, wsse, strings.Replace(wsse, `<wsse:Username>alice</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss#PasswordText">hunter22</wsse:Password>`, Mask, 1)},
		{"application/soap+xml", `<Auth><wsse:Password Type="t">p</wsse:Password><User>u</User></Auth>`, `<Auth>[REDACTED]</Auth>`},
		{"application/soap+xml", `<Login><wsse:Password Type="t">p</wsse:Password><User>u</User></Login>`, `<Login><wsse:Password Type="t">[REDACTED]</wsse:Password><User>u</User></Login>`},
		{"application/xml", `<req><apiKey>k-123</apiKey><n>1</n></req>`, `<req><apiKey>[REDACTED]</apiKey><n>1</n></req>`},
		{"application/xml", `<Credentials password="x" user='u' token='t' sig=bare/>`, `<Credentials password="[REDACTED]" user='u' token='[REDACTED]' sig=[REDACTED]/>`},
		{"application/xml", `<a:secret xmlns:a="u"><![CDATA[s3cr3t <b>]]></a:secret>`, `<a:secret xmlns:a="u">[REDACTED]</a:secret>`},
		{"application/xml", `<r><password/><password></password><token> </token></r>`, `<r><password/><password></password><token>[REDACTED]</token></r>`},
		{"application/atom+xml", `<link href="https://h/?a=1&amp;token=t"/><u>see https://h/?key=k&amp;b=2</u>`, `<link href="https://h/?a=1&amp;token=[REDACTED]"/><u>see https://h/?key=[REDACTED]&amp;b=2</u>`},
		{"", ` <?xml version="1.0" encoding="ISO-8859-1"?><x><pin>1234</pin></x>`, ` <?xml version="1.0" encoding="ISO-8859-1"?><x><pin>[REDACTED]</pin></x>`},
		{"application/xml", `<x><note>no secrets &amp; such</note><!-- <password>c</password> --></x>`, `<x><note>no secrets &amp; such</note><!-- <password>c</password> --></x>`},
		{"application/xml", `<x><password>p</x><<<garbage <token a="1">t</token> <k secret="s"`, `<x><password>[REDACTED]</x><<<garbage <token a="1">[REDACTED]</token> <k secret="[REDACTED]"`},
		{"application/xml", `<x><b>1</b><<<garbage <token a="1">t</token> <k secret="s" password='p`, `<x><b>1</b><<<garbage <token a="1">[REDACTED]</token> <k secret="[REDACTED]" password='[REDACTED]`},
		{"application/xml", `<x>echo Tr0ub4dor&amp;3 and 4111111111111111</x>`, `<x>echo [REDACTED] and [REDACTED]</x>`},
	})
}

func TestBodyForm(t *testing.T) {
	const f = "application/x-www-form-urlencoded"
	tests := []bodyTest{
		{f, "grant_type=password&username=bob&password=p%40ss+w&client_secret=cs", "grant_type=password&username=bob&password=[REDACTED]&client_secret=[REDACTED]"},
		{"Application/X-WWW-Form-Urlencoded; charset=utf-8", "Card_Number=4111&amount=5", "Card_Number=[REDACTED]&amount=5"},
		{f, "refresh%5Ftoken=r&x=1", "refresh%5Ftoken=[REDACTED]&x=1"},
		{f, "a=1&b=2", "a=1&b=2"},
		{f, "redirect_uri=https%3A%2F%2Fapp%2Fcb%3Fsig%3Dabc&a=1", "redirect_uri=https%3A%2F%2Fapp%2Fcb%3Fsig%3D[REDACTED]&a=1"},
		{f, "msg=echo+Tr0ub4dor%263", "msg=echo+[REDACTED]"},
		{f, "msg=echo+%54r0ub4dor%263%21", "msg=echo+[REDACTED]%21"},
	}
	for _, k := range Default().Words {
		tests = append(tests, bodyTest{f, "a=1&x_" + strings.ToUpper(k) + "=v&b=2", "a=1&x_" + strings.ToUpper(k) + "=[REDACTED]&b=2"})
	}
	runBodyTests(t, tests)
}

func TestBodyMultipart(t *testing.T) {
	part := func(b, headers, content string) string {
		return "--" + b + "\r\n" + headers + "\r\n\r\n" + content + "\r\n"
	}
	formData := part("XyZ", `Content-Disposition: form-data; name="username"`, "bob") +
		part("XyZ", `Content-Disposition: form-data; name="password"`, "hunter22") +
		part("XyZ", "Content-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json", `{"api_key":"k","n":1}`) +
		part("XyZ", "Content-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png", "\x89PNG\r\n\x1a\n\x00\xff") +
		part("XyZ", `Content-Disposition: form-data; name="note"`, "token=abc; see https://h/?sig=s") +
		"--XyZ--\r\nepilogue"
	wantFormData := part("XyZ", `Content-Disposition: form-data; name="username"`, "bob") +
		part("XyZ", `Content-Disposition: form-data; name="password"`, Mask) +
		part("XyZ", "Content-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json", `{"api_key":"[REDACTED]","n":1}`) +
		part("XyZ", "Content-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png", "[binary part: 10 bytes]") +
		part("XyZ", `Content-Disposition: form-data; name="note"`, "token=[REDACTED]; see https://h/?sig=[REDACTED]") +
		"--XyZ--\r\nepilogue"
	related := "preamble\r\n" + part("rel", "Content-Type: application/xop+xml; type=\"application/soap+xml\"", `<Envelope><Password>p</Password></Envelope>`) +
		part("rel", "Content-Type: application/json", "\n{\"token\": \"t\"}") + "--rel--"
	wantRelated := "preamble\r\n" + part("rel", "Content-Type: application/xop+xml; type=\"application/soap+xml\"", `<Envelope><Password>[REDACTED]</Password></Envelope>`) +
		part("rel", "Content-Type: application/json", "\n{\"token\": \"[REDACTED]\"}") + "--rel--"
	inner := part("in", "Content-Type: application/x-www-form-urlencoded", "a=1&secret=s") + "--in--"
	mixed := part("out", `Content-Type: multipart/mixed; boundary="in"`, inner) + part("out", "Content-Type: text/plain", "password=x") + "--out--"
	wantMixed := part("out", `Content-Type: multipart/mixed; boundary="in"`, strings.Replace(inner, "secret=s", "secret=[REDACTED]", 1)) +
		part("out", "Content-Type: text/plain", "password=[REDACTED]") + "--out--"
	runBodyTests(t, []bodyTest{
		{"multipart/form-data; boundary=XyZ", formData, wantFormData},
		{`multipart/related; boundary="rel"; type="application/xop+xml"`, related, wantRelated},
		{"multipart/mixed; boundary=out", mixed, wantMixed},
		{"multipart/form-data; boundary=b", "--b\nContent-Disposition: form-data; name=\"pin\"\n\n1234\n--b--\n", "--b\nContent-Disposition: form-data; name=\"pin\"\n\n[REDACTED]\n--b--\n"},
		{"multipart/form-data", "--b\r\n\r\npassword=x\r\n--b--", "--b\r\n\r\npassword=[REDACTED]\r\n--b--"}, // no boundary: text
		{"multipart/form-data; boundary=b", "--b\r\n\r\npassword=x\r\n--b--", "--b\r\n\r\npassword=[REDACTED]\r\n--b--"},
		{"multipart/form-data; boundary=none", "password=x", "password=[REDACTED]"},
	})
}

func TestBodyText(t *testing.T) {
	runBodyTests(t, []bodyTest{
		{"text/plain", "password=x token: y", "password=[REDACTED] token: [REDACTED]"},
		{"text/html", `<input name="password" value="x"><p>token=abc</p>`, `<input name="password" value="x"><p>token=abc</p>`},
		{"text/plain", "denied for Tr0ub4dor&3", "denied for [REDACTED]"},
		{"application/octet-stream", "\xff\xfe password=x Tr0ub4dor&3", "\xff\xfe password=x [REDACTED]"},
		{"text/plain", "", ""},
	})
}

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"starting env=production http_addr=:8080 database_url=postgres://app:dbpw@db/app?sslmode=disable",
			"starting env=production http_addr=:8080 database_url=postgres://app:[REDACTED]@db/app?sslmode=disable"},
		{`time=2024 level=INFO msg=starting config.example_erp_token=abc123 config.jobs=true`,
			`time=2024 level=INFO msg=starting config.example_erp_token=[REDACTED] config.jobs=true`},
		{`{"api_key": "zzz", "user": "bob", "password": null}`, `{"api_key": "[REDACTED]", "user": "bob", "password": [REDACTED]}`},
		{`erp: 401: GET https://erp/api?key=k1&id=2: Authorization: Bearer abc.def.ghi rejected`,
			`erp: 401: GET https://erp/api?key=[REDACTED]&id=2: Authorization: Bearer [REDACTED] rejected`},
		{`login failed: password "hunter22" rejected for user bob`, `login failed: password "hunter22" rejected for user bob`},
		{`don't log password='x y' or token="a\"b", ok`, `don't log password='[REDACTED]' or token="[REDACTED]", ok`},
		{`--password=hunter22 --user=bob`, `--password=[REDACTED] --user=bob`},
		{`secret=abcdef; again abcdef`, `secret=[REDACTED]; again [REDACTED]`},
		{"token=", "token="},
		{"clean: className=x max_tokens=5", "clean: className=x max_tokens=5"},
		{"invalid token: expired", "invalid token: [REDACTED]"}, // prose loses a word rather than a secret
	}
	r := Standard()
	for _, tt := range tests {
		if got := r.Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
