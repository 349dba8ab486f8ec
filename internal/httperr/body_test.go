package httperr_test

import (
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/apitemplate/server/internal/httperr"
)

// A broken request body is the client's: 400, or 408 when the read deadline passed, however
// deep a binder wrapped the error, and without a stack.
func TestBrokenBodyIsAClientError(t *testing.T) {
	t.Parallel()
	readErr := func(cause error) error {
		_, err := io.ReadAll(httperr.Body(io.NopCloser(io.MultiReader(strings.NewReader("{"), errReader{cause}))))
		return err
	}
	c := echo.New().NewContext(httptest.NewRequest("POST", "/", nil), httptest.NewRecorder())
	tests := []struct {
		name string
		err  error
		code string
	}{
		{"cut short", readErr(io.ErrUnexpectedEOF), "400-006"},
		{"malformed chunked encoding", readErr(errors.New("invalid byte in chunk length")), "400-006"},
		{"read deadline", readErr(os.ErrDeadlineExceeded), "408-000"},
		{"wrapped by a binder", echo.NewHTTPError(400, "bad").SetInternal(readErr(io.ErrUnexpectedEOF)), "400-006"},
		{"wrapped by a typed error", httperr.MalformedJSON.Wrap(readErr(os.ErrDeadlineExceeded)), "408-000"},
		{"wrapped with %w", fmt.Errorf("decode: %w", readErr(io.ErrUnexpectedEOF)), "400-006"},
	}
	for _, tt := range tests {
		got := httperr.From(tt.err, c)
		if got.Code != tt.code || got.Stack() != "" {
			t.Errorf("From(%s) = %s with stack %q; want %s without one", tt.name, got.Code, got.Stack(), tt.code)
		}
	}
	if _, err := io.ReadAll(httperr.Body(io.NopCloser(strings.NewReader("ok")))); err != nil {
		t.Errorf("reading a whole body = %v; want nil (io.EOF is not an error)", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
