package redact_test

import (
	"fmt"
	"net/http"

	"github.com/apitemplate/server/internal/redact"
)

// One recorded call, redacted in order with one Secrets: the password sent in
// the request is masked where the response echoes it.
func Example() {
	r := redact.Standard()
	var s redact.Secrets

	reqHeader := r.Header(http.Header{"Authorization": {"Bearer eyJhbGciOi.abc"}}, &s)
	reqBody := r.Body([]byte(`{"user":"bob","password":"hunter2!x"}`), "application/json", false, &s)
	url := r.URL("https://erp.example/login?api_key=k-123&lang=en", &s)
	respBody := r.Body([]byte(`<fault>wrong password hunter2!x</fault>`), "text/xml", false, &s)
	errText := s.Mask("erp: login as bob with hunter2!x failed")

	fmt.Println(reqHeader.Get("Authorization"))
	fmt.Println(string(reqBody))
	fmt.Println(url)
	fmt.Println(string(respBody))
	fmt.Println(errText)
	fmt.Println(r.Text("starting database_url=postgres://app:pw@db/app token=abc level=info"))
	// Output:
	// Bearer [REDACTED]
	// {"user":"bob","password":"[REDACTED]"}
	// https://erp.example/login?api_key=[REDACTED]&lang=en
	// <fault>wrong password [REDACTED]</fault>
	// erp: login as bob with [REDACTED] failed
	// starting database_url=postgres://app:[REDACTED]@db/app token=[REDACTED] level=info
}
