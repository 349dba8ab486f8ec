package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

type bodyTest struct{ ct, in, want string }

func runBodyTests(t *testing.T, tests []bodyTest) {
	t.Helper()
	r := Standard()
	for _, tt := range tests {
		var s Secrets
		s.Add("Tr0ub4dor&3")
		s.Add("4111111111111111")
		in := []byte(tt.in)
		got := string(r.Body(in, tt.ct, false, &s))
		if got != tt.want {
			t.Errorf("Body(%q) = %q; want %q", tt.in, got, tt.want)
		}
		if string(in) != tt.in {
			t.Errorf("Body(%q) modified its input", tt.in)
		}
		if json.Valid(in) && !json.Valid([]byte(got)) {
			t.Errorf("Body(%q) = %q; want valid JSON", tt.in, got)
		}
	}
}

func TestBodyJSON(t *testing.T) {
	const j = "application/json"
	tests := []bodyTest{
		{j, `{"data":[{"id":1,"login":{"password":"p@ss","user":"u"}}],"ok":true}`,
			`{"data":[{"id":1,"login":{"password":"[REDACTED]","user":"u"}}],"ok":true}`},
		{j, `{"auth":{"user":"u","pw":"p"},"n":1}`, `{"auth":"[REDACTED]","n":1}`},
		{j, `{"cvv": 123, "amount": 10.50}`, `{"cvv": "[REDACTED]", "amount": 10.50}`},
		{j, `{"client_secret":{"a":[1,{"b":"c"}]},"n":1}`, `{"client_secret":"[REDACTED]","n":1}`},
		{j, `{"api_keys":["a","b"],"n":1}`, `{"api_keys":"[REDACTED]","n":1}`},
		{j, `{"ssn":null,"api_key":false}`, `{"ssn":"[REDACTED]","api_key":"[REDACTED]"}`},
		{j, "{\n  \"z\": 1.0000000000000001,\n  \"a\": 1e400,\n  \"Card_Number\": 4111111111111112,\n  \"m\": -0.0\n}",
			"{\n  \"z\": 1.0000000000000001,\n  \"a\": 1e400,\n  \"Card_Number\": \"[REDACTED]\",\n  \"m\": -0.0\n}"},
		{j, `{"pass\u0077ord":"x"}`, `{"pass\u0077ord":"[REDACTED]"}`},
		{j, `{"cardNumber":"4111","privateKey":"k","clientSecret":"s","apiKey":"a","card-number":"1","PRIVATE_KEY":"k","n":1}`,
			`{"cardNumber":"[REDACTED]","privateKey":"[REDACTED]","clientSecret":"[REDACTED]","apiKey":"[REDACTED]","card-number":"[REDACTED]","PRIVATE_KEY":"[REDACTED]","n":1}`},
		{j, `{"className":"x","max_tokens":5,"business_name":"Acme","shipping":"s","passenger":"p","keyboard":"k","sort_order":1,"tokenizer":"t","token_type":"bearer"}`,
			`{"className":"x","max_tokens":5,"business_name":"Acme","shipping":"s","passenger":"p","keyboard":"k","sort_order":1,"tokenizer":"t","token_type":"bearer"}`},
		{j, `{"msg":"a\"b\u00e9\/","token":"t"}`, `{"msg":"a\"b\u00e9\/","token":"[REDACTED]"}`},
		{j, `[{"secret":"s"},{"x":[]},{}]`, `[{"secret":"[REDACTED]"},{"x":[]},{}]`},
		{j, `{"token":"a","token":"b"}`, `{"token":"[REDACTED]","token":"[REDACTED]"}`},
		{j, "{\"msg\":\"caf\xe9\",\"token\":\"t\"}", "{\"msg\":\"caf\xe9\",\"token\":\"[REDACTED]\"}"},
		{"", ` {"token":"t"}`, ` {"token":"[REDACTED]"}`},
		{"text/plain", `[{"token":"t"}]`, `[{"token":"[REDACTED]"}]`},
		{"application/problem+json; charset=utf-8", `{"apikey":"k"}`, `{"apikey":"[REDACTED]"}`},
		{"application/x-ndjson", "{\"token\":\"a\"}\n{\"token\":\"b\"}\n", "{\"token\":\"[REDACTED]\"}\n{\"token\":\"[REDACTED]\"}\n"},
		// JSON, XML and URLs inside strings.
		{j, `{"payload":"{\"password\":\"hunter2\",\"n\":1}"}`, `{"payload":"{\"password\":\"[REDACTED]\",\"n\":1}"}`},
		{j, `{"a":"{\"b\":\"{\\\"token\\\":\\\"x\\\"}\"}"}`, `{"a":"{\"b\":\"{\\\"token\\\":\\\"[REDACTED]\\\"}\"}"}`},
		{j, `{"payload":"{'password': 'hunter2'}"}`, `{"payload":"{'password': '[REDACTED]'}"}`},
		{j, `{"soap":"<Login><Password>pw</Password></Login>"}`, `{"soap":"<Login><Password>[REDACTED]</Password></Login>"}`},
		{j, `{"next":"https://h/cb?token=abc&x=1","self":"https://h/items/1"}`, `{"next":"https://h/cb?token=[REDACTED]&x=1","self":"https://h/items/1"}`},
		{j, `{"next":"https:\/\/h\/cb?token=abc"}`, `{"next":"https://h/cb?token=[REDACTED]"}`},
		{j, `{"log":"called https://u:pw@h/x then failed"}`, `{"log":"called https://u:[REDACTED]@h/x then failed"}`},
		{j, `{"s":"[1,2,3]","t":"{not json}"}`, `{"s":"[1,2,3]","t":"{not json}"}`},
		// Known secrets: raw, escaped any way, as a number, in a key.
		{j, `{"msg":"you sent Tr0ub4dor&3!","echo":"Tr0ub4\u0064or\u00263","card":4111111111111111,"last4":"1111"}`,
			`{"msg":"you sent [REDACTED]!","echo":"[REDACTED]","card":"[REDACTED]","last4":"1111"}`},
		{j, `{"Tr0ub4dor&3":1}`, `{"[REDACTED]":1}`},
	}
	for _, k := range Default().Words {
		key := "My" + strings.ToUpper(k[:1]) + k[1:]
		tests = append(tests, bodyTest{j, `{"a":1,"` + key + `":"v","b":2}`, `{"a":1,"` + key + `":"[REDACTED]","b":2}`})
	}
	runBodyTests(t, tests)
}

func TestBodyLenientJSON(t *testing.T) {
	const j = "application/json"
	runBodyTests(t, []bodyTest{
		{j, "\ufeff{\"password\":\"x\",\"a\":\"https://h/?token=t\"}", "\ufeff{\"password\":\"[REDACTED]\",\"a\":\"https://h/?token=[REDACTED]\"}"},
		{j, `{"password":"x","a":1,}`, `{"password":"[REDACTED]","a":1,}`},
		{j, `{"a":[1,2,],"password":"x","t":{"token":7}}`, `{"a":[1,2,],"password":"[REDACTED]","t":{"token":"[REDACTED]"}}`},
		{j, "{\n // the password\n \"password\": \"x\", /* note */ \"token\": \"y\"}", "{\n // the password\n \"password\": \"[REDACTED]\", /* note */ \"token\": \"[REDACTED]\"}"},
		{j, `{/* token: */ "a": 1}`, `{/* token: "[REDACTED]" "a": 1}`}, // loose: masks more rather than less
		{j, `{"a":NaN,"token":"x","b":-Infinity}`, `{"a":NaN,"token":"[REDACTED]","b":-Infinity}`},
		{j, `{"token":NaN,"secret":Infinity}`, `{"token":"[REDACTED]","secret":"[REDACTED]"}`},
		{j, `{'password':'x','a':'it''s'}`, `{'password':'[REDACTED]','a':'it''s'}`},
		{j, `{"a":1,"password":'x y'}`, `{"a":1,"password":'[REDACTED]'}`},
		{j, `{password: "x", apiKey: 12, user: "u"}`, `{password: "[REDACTED]", apiKey: "[REDACTED]", user: "u"}`},
		{j, "{\"a\":\"line\nbreak\",\"password\":\"x\"}", "{\"a\":\"line\nbreak\",\"password\":\"[REDACTED]\"}"},
		{j, "{\"password\":\"x\ny\"}", "{\"password\":\"[REDACTED]\"}"},
		{j, `{'secret': {"a": [1, {"b": "c}"}]}, "n": 1}`, `{'secret': "[REDACTED]", "n": 1}`},
		{j, `{"secret": {"a": [1, {"b": "c"}], "n": 1}`, `{"secret": "[REDACTED]"`},
		{j, `callback({"token":"x"})`, `callback({"token":"[REDACTED]"})`},
		{j, `{"password" "x"}`, `{"password" "[REDACTED]"}`},
		{j, `{"token":"[REDACTED]","x":1,}`, `{"token":"[REDACTED]","x":1,}`},
	})
}

func TestBodyJSONCollects(t *testing.T) {
	var s Secrets
	Standard().Body([]byte(`{"secret":{"a":"n3sted-str","b":[41111111,true,null],"c":"esc\u0061ped"}}`), "application/json", false, &s)
	for _, want := range []string{"n3sted-str", "41111111", "escaped", `esc\u0061ped`} {
		if !s.seen[want] {
			t.Errorf("got %v; want it to hold %q", s.seen, want)
		}
	}
	for _, notWant := range []string{"true", "null", "a", "b"} {
		if s.seen[notWant] {
			t.Errorf("got %v; want no %q", s.seen, notWant)
		}
	}
}

func TestBodyJSONCleanIsInput(t *testing.T) {
	r := Standard()
	body := cleanJSON(4096)
	var s Secrets
	s.Add("not-in-the-body")
	n := testing.AllocsPerRun(50, func() {
		if out := r.Body(body, "application/json", false, &s); &out[0] != &body[0] || len(out) != len(body) {
			t.Fatal("Body of a clean body returned a copy; want the input")
		}
	})
	if n != 0 && !raceEnabled {
		t.Errorf("Body of a clean body allocates %v times; want 0", n)
	}
}

func TestBodyDeepNesting(t *testing.T) {
	r := Standard()
	for _, tt := range []bodyTest{
		{"application/json", strings.Repeat("[", 100000), strings.Repeat("[", 100000)},
		{"application/json", strings.Repeat(`{"a":[`, 200000) + `{"token":"t"}` + strings.Repeat(`]}`, 200000),
			strings.Repeat(`{"a":[`, 200000) + `{"token":"[REDACTED]"}` + strings.Repeat(`]}`, 200000)},
		{"application/xml", strings.Repeat("<a>", 100000) + "<password>p</password>", strings.Repeat("<a>", 100000) + "<password>[REDACTED]</password>"},
		{"text/plain", "x" + strings.Repeat("{", 100000) + "token: x", "x" + strings.Repeat("{", 100000) + "token: [REDACTED]"},
	} {
		start := time.Now()
		got := string(r.Body([]byte(tt.in), tt.ct, false, nil))
		if got != tt.want {
			t.Errorf("Body(%.40q...) = %.40q... (%d bytes); want %d bytes", tt.in, got, len(got), len(tt.want))
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Body(%.40q...) took %v", tt.in, d)
		}
	}
}

// TestBodyLinear redacts 256 KiB and 1 MiB bodies of each kind with secrets
// throughout, and fails if the larger takes far more than 4 times as long.
func TestBodyLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	r := Standard()
	kinds := []struct {
		ct   string
		unit string
	}{
		{"application/json", `{"id":1,"password":"hunter22","note":"caf\u00e9 https://h/?token=x","n":[1,2]},`},
		{"application/json", `{'id':1,'password':'hunter22',"n":[1,2,],},`}, // lenient
		{"application/xml", `<item id="1" token="t"><password>p</password><note>x</note></item>`},
		{"text/plain", `line password=hunter22 see https://u:pw@h/?key=1 'quoted' "x": 1` + "\n"},
		{"application/x-www-form-urlencoded", `a=1&password=hunter22&next=https%3A%2F%2Fh%2F%3Ftoken%3Dx&`},
	}
	for _, k := range kinds {
		body := func(n int) []byte { return bytes.Repeat([]byte(k.unit), n/len(k.unit)) }
		timeOf := func(b []byte) time.Duration {
			best := time.Hour
			for range 3 {
				var s Secrets
				s.Add("hunter22-echo")
				start := time.Now()
				r.Body(b, k.ct, true, &s)
				best = min(best, time.Since(start))
			}
			return best
		}
		small, large := timeOf(body(256<<10)), timeOf(body(1<<20))
		if large > 10*small+50*time.Millisecond {
			t.Errorf("%s: 256 KiB in %v, 1 MiB in %v: not linear", k.ct, small, large)
		}
	}
}

// cleanJSON builds a realistic JSON body of about n bytes with no secrets.
func cleanJSON(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"orders":[`)
	for i := 0; b.Len() < n-150; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"sku":"SKU-%05d","qty":%d,"price":%d.%02d,"note":"deliver to dock \"B\"","tags":["a","b"],"paid":true,"href":"https://api.example/orders/%d"}`,
			i, i*7, i%5+1, 10+i, i%100, i)
	}
	b.WriteString(`],"next":null}`)
	return b.Bytes()
}
