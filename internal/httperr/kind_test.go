package httperr_test

import (
	"strings"
	"testing"

	"github.com/apitemplate/server/internal/httperr"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		template string
		args     []any
		want     string
	}{
		{"Field {placeholder} is required", []any{"placeholder", "username"}, "Field username is required"},
		{"Expected {expected_method} but received {actual_method}", []any{"expected_method", "POST", "actual_method", "GET"}, "Expected POST but received GET"},
		{"User with ID {user_id} not found", []any{"user_id", 42}, "User with ID 42 not found"},
		{"Field {placeholder} is required", nil, "Field {placeholder} is required"},
		{"Field {placeholder} is required", []any{"other", "x"}, "Field {placeholder} is required"},
		{"{a} and {b}", []any{"a", "1"}, "1 and {b}"},
		{"odd {a}", []any{"a", "1", "dangling"}, "odd 1"},
		{"unclosed {a", []any{"a", "1"}, "unclosed {a"},
		{"{}", []any{"", "empty"}, "empty"},
		{"100% {x}", []any{"x", "%d"}, "100% %d"},
		{"no placeholders", []any{"a", "b"}, "no placeholders"},
		{"{a}{a}", []any{"a", "x"}, "xx"},
	}
	for _, tc := range tests {
		if got := httperr.Format(tc.template, tc.args...); got != tc.want {
			t.Errorf("Format(%q, %v) = %q; want %q", tc.template, tc.args, got, tc.want)
		}
	}
}

// FuzzFormat: no template and no arguments make Format panic or print fmt's %! noise, and
// text outside placeholders is kept.
func FuzzFormat(f *testing.F) {
	f.Add("Field {placeholder} is required", "placeholder", "username")
	f.Add("{a}{b}{", "a", "{b}")
	f.Add("}{", "", "")
	f.Add("%s %d {x}", "x", "%v")
	f.Fuzz(func(t *testing.T, template, key, value string) {
		got := httperr.Format(template, key, value)
		if strings.Contains(got, "%!") && !strings.Contains(template, "%!") && !strings.Contains(value, "%!") {
			t.Errorf("Format(%q, %q, %q) = %q; has fmt noise", template, key, value, got)
		}
		if !strings.Contains(template, "{"+key+"}") && got != template {
			t.Errorf("Format(%q, %q, %q) = %q; want the template unchanged", template, key, value, got)
		}
	})
}

func TestCatalogCodesAreUnique(t *testing.T) {
	if dups := httperr.Duplicates(httperr.Catalog()); len(dups) > 0 {
		t.Errorf("duplicate error codes: %v", dups)
	}
	// The check itself must be able to fail.
	twice := []*httperr.Kind{{Code: "400-001"}, {Code: "400-001"}, {Code: "404-000"}}
	if got := httperr.Duplicates(twice); len(got) != 1 || got[0] != "400-001" {
		t.Errorf("Duplicates(two 400-001) = %v; want [400-001]", got)
	}
}

func TestCatalogHasTheIssuesKinds(t *testing.T) {
	tests := []struct {
		kind     *httperr.Kind
		status   int
		code     string
		template string
	}{
		{httperr.MissingField, 400, "400-001", "Field {placeholder} is required"},
		{httperr.MethodNotAllowed, 405, "405-001", "Method not allowed. Expected {expected_method} but received {actual_method}"},
		{httperr.BulkValidation, 400, "400-003", "Multiple validation errors occurred"},
		{httperr.Validation, 422, "422-001", "Validation failed"},
		{httperr.Internal, 500, "INTERNAL_SERVER_ERROR", "An unexpected error occurred"},
		{httperr.Unauthorized, 401, "401-000", httperr.Unauthorized.Template},
		{httperr.Forbidden, 403, "403-000", httperr.Forbidden.Template},
		{httperr.NotFound, 404, "404-000", httperr.NotFound.Template},
		{httperr.Conflict, 409, "409-000", httperr.Conflict.Template},
		{httperr.PayloadTooLarge, 413, "413-000", httperr.PayloadTooLarge.Template},
		{httperr.UnsupportedMediaType, 415, "415-000", httperr.UnsupportedMediaType.Template},
		{httperr.TooManyRequests, 429, "429-000", httperr.TooManyRequests.Template},
		{httperr.ServiceUnavailable, 503, "503-000", httperr.ServiceUnavailable.Template},
	}
	for _, tc := range tests {
		if tc.kind.Status != tc.status || tc.kind.Code != tc.code || tc.kind.Template != tc.template {
			t.Errorf("kind = %d %s %q; want %d %s %q", tc.kind.Status, tc.kind.Code, tc.kind.Template, tc.status, tc.code, tc.template)
		}
	}
}

func TestErrorString(t *testing.T) {
	err := httperr.MissingField.New("placeholder", "username")
	if got, want := err.Error(), "[400-001] Field username is required (HTTP 400)"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
}
