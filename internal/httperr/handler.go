package httperr

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"

	"github.com/apitemplate/server/internal/requestid"
)

// writtenKey marks, in the echo.Context, that Handler already answered this request. Echo's
// Logger and BodyDump middlewares call the error handler themselves and then return the error,
// so Echo calls it a second time; the mark makes that second call a no-op.
const writtenKey = "httperr.written"

// Handler writes every error that reaches Echo as the JSON envelope:
//
//	{"success": false, "http_status": 400, "error_code": "400-001", "message": "...",
//	 "request_id": "...", "errors": [...], "traceback": "..."}
//
// or, for clients that send "Accept: application/problem+json", as RFC 9457 problem details.
// "errors" appears only when there are details; "traceback" only in development.
type Handler struct {
	Development bool // tracebacks and the text of unexpected errors go to the client
	Logger      *slog.Logger
}

// Handle is the echo.HTTPErrorHandler: e.HTTPErrorHandler = handler.Handle.
func (h *Handler) Handle(err error, c echo.Context) {
	if c.Get(writtenKey) != nil {
		return
	}
	c.Set(writtenKey, true)
	apiErr := From(err, c)
	id := requestIDOf(c)
	if c.Response().Committed {
		// Headers are gone; another body would corrupt the one already sent. One line says
		// both what failed and that the client did not hear of it.
		h.Logger.Warn("error after response was committed; nothing more written",
			"request_id", id, "http_status", apiErr.Status, "error_code", apiErr.Code, "error", err)
		return
	}
	h.log(c, id, err, apiErr)

	var werr error
	switch {
	case c.Request().Method == http.MethodHead:
		werr = c.NoContent(apiErr.Status)
	case wantsProblem(c.Request()):
		werr = writeJSON(c, apiErr.Status, "application/problem+json", h.problem(c, id, apiErr))
	default:
		werr = writeJSON(c, apiErr.Status, echo.MIMEApplicationJSON, h.envelope(id, apiErr))
	}
	if werr != nil {
		h.Logger.Warn("writing error response failed", "request_id", id, "error", werr)
	}
}

// envelope is the JSON error body. Field order is the order clients see.
type envelope struct {
	Success          bool           `json:"success"`
	HTTPStatus       int            `json:"http_status"`
	ErrorCode        string         `json:"error_code"`
	Message          string         `json:"message"`
	RequestID        string         `json:"request_id,omitempty"`
	Errors           []FieldError   `json:"errors,omitempty"`
	ValidationErrors []FieldError   `json:"validation_errors,omitempty"`
	Data             map[string]any `json:"data,omitempty"`
	Traceback        string         `json:"traceback,omitempty"`
}

func (h *Handler) envelope(id string, e *Error) *envelope {
	env := &envelope{
		HTTPStatus: e.Status,
		ErrorCode:  e.Code,
		Message:    e.Message,
		RequestID:  id,
		Data:       e.Data,
	}
	if len(e.Details) > 0 {
		if e.detailsKey() == "validation_errors" {
			env.ValidationErrors = e.Details
		} else {
			env.Errors = e.Details
		}
	}
	if h.Development {
		env.Traceback = traceback(e)
	}
	return env
}

// problem is the RFC 9457 form. "type" is about:blank, so "title" is the status text; the
// envelope's code, request id and details travel as extension members.
type problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail"`
	Instance  string         `json:"instance"`
	ErrorCode string         `json:"error_code"`
	RequestID string         `json:"request_id,omitempty"`
	Errors    []FieldError   `json:"errors,omitempty"`
	Data      map[string]any `json:"data,omitempty"`
	Traceback string         `json:"traceback,omitempty"`
}

func (h *Handler) problem(c echo.Context, id string, e *Error) *problem {
	p := &problem{
		Type:      "about:blank",
		Title:     http.StatusText(e.Status),
		Status:    e.Status,
		Detail:    e.Message,
		Instance:  c.Request().URL.Path,
		ErrorCode: e.Code,
		RequestID: id,
		Errors:    e.Details,
		Data:      e.Data,
	}
	if h.Development {
		p.Traceback = traceback(e)
	}
	return p
}

func traceback(e *Error) string {
	stack := e.Stack()
	switch {
	case e.cause == nil:
		return stack
	case stack == "":
		return e.Error()
	}
	return e.Error() + "\n\n" + stack
}

// log writes one line per failed request. Server errors carry the real error, its code and
// the request id at Error level: this line is the only place the cause of a 500 appears.
// Client errors are the client's business and go to Debug.
func (h *Handler) log(c echo.Context, id string, err error, e *Error) {
	if e.Status >= 500 {
		h.Logger.Error("request failed",
			"request_id", id, "method", c.Request().Method, "path", c.Request().URL.Path,
			"http_status", e.Status, "error_code", e.Code, "error", err.Error(), "stack", e.Stack())
		return
	}
	ctx := c.Request().Context()
	if h.Logger.Enabled(ctx, slog.LevelDebug) {
		h.Logger.LogAttrs(ctx, slog.LevelDebug, "request rejected",
			slog.String("request_id", id), slog.String("method", c.Request().Method), slog.String("path", c.Request().URL.Path),
			slog.Int("http_status", e.Status), slog.String("error_code", e.Code), slog.String("message", e.Message))
	}
}

func writeJSON(c echo.Context, status int, contentType string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.Blob(status, contentType, b)
}

func wantsProblem(r *http.Request) bool {
	return strings.Contains(r.Header.Get(echo.HeaderAccept), "application/problem+json")
}

func requestIDOf(c echo.Context) string {
	if id := requestid.Get(c); id != "" {
		return id
	}
	return c.Response().Header().Get(requestid.Header)
}

// From converts any error into an *Error, the one mapping from Go and Echo errors to the
// catalog:
//   - an *Error anywhere in the chain is used as is (so fmt.Errorf("...: %w", err) keeps its
//     status and code);
//   - *echo.HTTPError (router 404/405, body limit 413, 415, timeouts...) maps by status;
//   - validator.ValidationErrors becomes Validation (422) with one detail per field;
//   - context.DeadlineExceeded becomes Timeout;
//   - anything else is Internal, with err kept as the cause, for the logs only.
func From(err error, c echo.Context) *Error {
	if e, ok := fromBody(err); ok { // before As: a typed error may wrap the broken body
		return e
	}
	if e := As(err); e != nil {
		return e
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return fromEcho(he, c)
	}
	var ve validator.ValidationErrors
	if errors.As(err, &ve) {
		return Validation.New().Wrap(err).WithDetails(ValidationDetails(ve)...)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return PayloadTooLarge.Wrap(err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Timeout.Wrap(err)
	}
	return Internal.Wrap(err)
}

// fromEcho maps Echo's own errors. They come from the router, the binder or a middleware, not
// from application code, so they carry no stack: a traceback would only show the error handler.
func fromEcho(he *echo.HTTPError, c echo.Context) *Error {
	e := fromEchoStatus(he, c)
	e.stack = nil
	return e
}

func fromEchoStatus(he *echo.HTTPError, c echo.Context) *Error {
	// Echo sometimes nests the HTTPError that matters in Internal.
	var inner *echo.HTTPError
	if errors.As(he.Internal, &inner) {
		he = inner
	}
	req := c.Request()
	switch he.Code {
	case http.StatusNotFound:
		return NotFound.Wrap(he)
	case http.StatusMethodNotAllowed:
		// The router has already set Allow: "OPTIONS, GET, POST"; OPTIONS is answered for
		// every path, so the expected method(s) are the others.
		return MethodNotAllowed.Wrap(he, "expected_method", ExpectedMethods(c.Response().Header().Get(echo.HeaderAllow)), "actual_method", req.Method)
	case http.StatusRequestEntityTooLarge:
		return PayloadTooLarge.Wrap(he)
	case http.StatusUnsupportedMediaType:
		return UnsupportedMediaType.Wrap(he, "content_type", contentTypeOf(req))
	}
	kind := kindForStatus(he.Code)
	// echo.NewHTTPError(status, "message") written by application code is meant for the client;
	// errors from Echo's binder carry their Go error in Internal and are not.
	if msg, ok := he.Message.(string); ok && he.Internal == nil && he.Code < 500 && msg != http.StatusText(he.Code) {
		return kind.Wrap(he).withMessage(msg)
	}
	return kind.Wrap(he)
}

func (e *Error) withMessage(msg string) *Error {
	e.Message = msg
	return e
}

// kindForStatus returns the generic Kind for a status; for statuses the catalog does not
// name, a Kind with code "STATUS-000" and the status text.
func kindForStatus(status int) *Kind {
	for _, k := range []*Kind{BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, TooManyRequests, Internal, BadGateway, ServiceUnavailable, Timeout} {
		if k.Status == status {
			return k
		}
	}
	if status < 400 || status > 599 {
		return Internal
	}
	return &Kind{Status: status, Code: itoa3(status) + "-000", Template: http.StatusText(status)}
}

func itoa3(n int) string {
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}

// ExpectedMethods turns an Allow header into the methods a route accepts, without OPTIONS:
// "OPTIONS, GET, POST" → "GET, POST".
func ExpectedMethods(allow string) string {
	var out []string
	for _, m := range strings.Split(allow, ",") {
		if m = strings.TrimSpace(m); m != "" && m != http.MethodOptions {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return allow
	}
	return strings.Join(out, ", ")
}

func contentTypeOf(r *http.Request) string {
	ct := r.Header.Get(echo.HeaderContentType)
	if ct == "" {
		return "(none)"
	}
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}
