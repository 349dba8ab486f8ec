package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestREADMEExamples runs every curl example of README.md, in order, against a fresh server
// in production mode and compares each answer with the one the README shows, request ids
// aside. A README that drifts from the code fails the build.
func TestREADMEExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	examples := curlExamples(string(readme))
	if len(examples) < 20 {
		t.Fatalf("found %d curl examples in README.md; want the documented set", len(examples))
	}
	base := startServer(t, nil)
	for _, ex := range examples {
		req, err := ex.request(base)
		if err != nil {
			t.Fatalf("%s: %v", ex.command, err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", ex.command, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got, want := withoutRequestID(t, body), withoutRequestID(t, []byte(ex.response))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s\n got: %s\nwant: %s", ex.command, body, ex.response)
		}
	}
}

type curlExample struct {
	command, response string
}

// curlExamples returns "$ curl ..." lines of ```console blocks with the line after each.
func curlExamples(markdown string) []curlExample {
	var out []curlExample
	inConsole := false
	lines := strings.Split(markdown, "\n")
	for i, line := range lines {
		switch {
		case strings.HasPrefix(line, "```console"):
			inConsole = true
		case strings.HasPrefix(line, "```"):
			inConsole = false
		case inConsole && strings.HasPrefix(line, "$ curl ") && i+1 < len(lines):
			out = append(out, curlExample{command: line[2:], response: lines[i+1]})
		}
	}
	return out
}

// request builds the request a curl command line describes: -X, -H, -d and a URL on
// localhost:8080, with single-quoted arguments.
func (ex curlExample) request(base string) (*http.Request, error) {
	args := shellWords(ex.command)[1:]
	method, url, body := "", "", ""
	header := http.Header{}
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "-s", "-i":
		case "-X":
			i++
			method = args[i]
		case "-H":
			i++
			k, v, _ := strings.Cut(args[i], ":")
			header.Set(k, strings.TrimSpace(v))
		case "-d":
			i++
			body = args[i]
		default:
			url = strings.Replace(a, "localhost:8080", strings.TrimPrefix(base, "http://"), 1)
		}
	}
	if method == "" {
		method = "GET"
		if body != "" {
			method = "POST"
		}
	}
	req, err := http.NewRequest(method, "http://"+strings.TrimPrefix(url, "http://"), strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != "" && header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/x-www-form-urlencoded") // as curl -d does
	}
	req.Header = header
	return req, nil
}

// shellWords splits on spaces outside single quotes.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	quoted, inWord := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

func withoutRequestID(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Errorf("not a JSON object: %s", body)
		return nil
	}
	delete(m, "request_id")
	return m
}
