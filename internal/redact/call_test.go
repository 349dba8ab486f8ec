package redact

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// call is one recorded integration call.
type call struct {
	reqHeader, respHeader http.Header
	url                   string
	reqBody, respBody     string
	reqCT, respCT         string
	reqCut, respCut       bool
	err                   string
}

// redactCall redacts c in the documented order, sharing one Secrets, and
// returns every output.
func redactCall(r *Redactor, c call) []string {
	var s Secrets
	var out []string
	header := func(h http.Header) {
		for k, vs := range r.Header(h, &s) {
			out = append(out, k+": "+strings.Join(vs, ", "))
		}
	}
	header(c.reqHeader)
	out = append(out, string(r.Body([]byte(c.reqBody), c.reqCT, c.reqCut, &s)))
	out = append(out, r.URL(c.url, &s))
	header(c.respHeader)
	out = append(out, string(r.Body([]byte(c.respBody), c.respCT, c.respCut, &s)))
	return append(out, s.Mask(c.err))
}

func TestEcho(t *testing.T) {
	const pw = "Tr0ub4dor&3/ü"
	jsonEsc := func(v string) string { b, _ := json.Marshal(v); return string(b[1 : len(b)-1]) }
	b64 := base64.StdEncoding.EncodeToString([]byte(pw))
	echoes := map[string]string{
		"raw":        pw,
		"JSON":       jsonEsc(pw),
		"JSON \\/":   strings.ReplaceAll(jsonEsc(pw), "/", `\/`),
		"all \\u":    `\u0054\u0072\u0030\u0075\u0062\u0034\u0064\u006f\u0072\u0026\u0033\u002f\u00fc`,
		"all \\U":    `\u0054\u0072\u0030\u0075\u0062\u0034\u0064\u006F\u0072\u0026\u0033\u002F\u00FC`,
		"query":      url.QueryEscape(pw),
		"path":       url.PathEscape(pw),
		"base64":     b64,
		"base64 url": base64.RawURLEncoding.EncodeToString([]byte(pw)),
		"html":       "Tr0ub4dor&amp;3/ü",
		"PHP json":   `Tr0ub4dor&3\/\u00fc`,
	}
	r := Standard()
	for name, echo := range echoes {
		outs := redactCall(r, call{
			reqBody: `{"user":"bob","password":"` + jsonEsc(pw) + `"}`, reqCT: "application/json",
			url:        "https://erp.example/login?x=" + echo,
			respHeader: http.Header{"X-Debug": {"saw " + echo}},
			respBody:   "error: bad password " + echo + "!", respCT: "text/plain",
			err: "erp: login failed for " + echo,
		})
		for _, o := range outs {
			if strings.Contains(o, echo) {
				t.Errorf("%s echo: output %q holds %q", name, o, echo)
			}
		}
	}
}

func randSecret(rng *mrand.Rand) string {
	b := make([]byte, 8+rng.IntN(13))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return hex.EncodeToString(b)
}

// TestProperty plants random secrets in every place a secret may be, whole
// and cut, and checks that none survives anywhere in the redacted call.
func TestProperty(t *testing.T) {
	r := Standard()
	rng := mrand.New(mrand.NewPCG(1, 2))
	enc := func(v string) string { b, _ := json.Marshal(v); return string(b) }
	for iter := range 200 {
		var secrets []string
		sec := func() string { v := randSecret(rng); secrets = append(secrets, v); return v }
		reqH := http.Header{"Content-Type": {"application/json"}, "Accept": {"*/*"}}
		pw := sec()
		blob := base64.StdEncoding.EncodeToString([]byte("user:" + pw))
		secrets = append(secrets, blob)
		reqH.Set("Authorization", "Basic "+blob)
		reqH.Set("Cookie", "sid="+sec()+"; csrf="+sec())
		for _, name := range []string{"X-Api-Key", "X-Auth-Token", "X-Refresh-Token", "X-Client-Secret", "Ocp-Apim-Subscription-Key"} {
			reqH[name] = []string{sec()}
		}
		q := []string{"page=1"}
		for _, k := range []string{"token", "access_token", "api_key", "key", "sig", "X-Amz-Signature", "AWSAccessKeyId", "clientSecret"} {
			q = append(q, k+"="+sec())
		}
		q = append(q, "next="+url.QueryEscape("https://x/?token="+sec()))
		u := "https://svc:" + sec() + "@erp.example/v1/orders?" + strings.Join(q, "&") + "#access_token=" + sec()
		var fields []string
		for _, k := range []string{"password", "client_secret", "card_number", "cvv", "ssn", "pin", "private_key", "iban"} {
			var val string
			switch rng.IntN(3) {
			case 0:
				val = enc(sec())
			case 1:
				val = `{"inner":` + enc(sec()) + `,"n":[` + enc(sec()) + `]}`
			case 2:
				d := fmt.Sprint(1+rng.IntN(9)) + fmt.Sprint(rng.Int64N(1e15)+1e15)
				secrets = append(secrets, d)
				val = d
			}
			f := enc(k) + ":" + val
			for range rng.IntN(3) {
				f = `"wrap":[{"n":1,` + f + `}]`
			}
			fields = append(fields, f)
		}
		reqBody := "{" + strings.Join(fields, ",") + `,"payload":` + enc(`{"token":"`+sec()+`"}`) + "}"
		sent := append([]string(nil), secrets...)
		var echoes []string
		for _, v := range sent {
			echoes = append(echoes, enc("you sent "+v+"."))
		}
		fresh := sec()
		respBody := `{"access_token":` + enc(fresh) + `,"token_type":"bearer","log":[` + strings.Join(echoes, ",") + `]}`
		respH := http.Header{
			"Set-Cookie": {"sess=" + sec() + "; Path=/; HttpOnly"},
			"X-Debug":    {"auth=" + sent[rng.IntN(len(sent))]},
			"Location":   {"https://erp.example/next?token=" + sec()},
		}
		errText := fmt.Sprintf("erp: 401 for %s (fresh %s)", sent[rng.IntN(len(sent))], fresh)
		c := call{reqHeader: reqH, url: u, reqBody: reqBody, reqCT: "application/json",
			respHeader: respH, respBody: respBody, respCT: "application/json", err: errText}
		for _, o := range redactCall(r, c) {
			for _, v := range secrets {
				if strings.Contains(o, v) {
					t.Fatalf("iteration %d: output %q holds secret %q", iter, o, v)
				}
			}
		}
		// The same with both bodies cut: a secret whose first 4 bytes lie
		// before a cut is masked everywhere; others may show where echoed.
		reqCut, respCut := rng.IntN(len(reqBody)+1), rng.IntN(len(respBody)+1)
		c.reqBody, c.respBody, c.reqCut, c.respCut = reqBody[:reqCut], respBody[:respCut], true, true
		outs := redactCall(r, c)
		for _, v := range secrets {
			k := strings.Index(reqBody, v)
			if k >= 0 && reqCut-k < minLen || v == fresh && respCut-strings.Index(respBody, v) < minLen {
				continue // never seen whole, or not even 4 bytes of it
			}
			for i, o := range outs {
				if strings.Contains(o, v) {
					t.Fatalf("iteration %d (cuts %d, %d): output %q holds secret %q", iter, reqCut, respCut, o, v)
				}
				for k := minLen; k < len(v) && (i == len(reqH) || i == len(outs)-2); k++ {
					if strings.HasSuffix(o, v[:k]) {
						t.Fatalf("iteration %d (cuts %d, %d): body %q ends with the start of secret %q", iter, reqCut, respCut, o, v)
					}
				}
			}
		}
	}
}

func TestConcurrent(t *testing.T) {
	r := Standard()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				pw := fmt.Sprintf("pw-%d-%d-xyz", g, i)
				var s Secrets
				r.Header(http.Header{"Authorization": {"Bearer " + pw}}, &s)
				if got, want := string(r.Body([]byte(`{"m":"`+pw+`"}`), "application/json", false, &s)), `{"m":"[REDACTED]"}`; got != want {
					t.Errorf("Body = %s; want %s", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
