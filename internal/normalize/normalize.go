// Package normalize is the Go form of the seed's api_response_normalizer: Handle wraps a
// handler that returns (data, error) into an echo.HandlerFunc that checks the method, logs,
// times, and writes every success as
//
//	{"success": true, "message": "...", "data": ..., "metadata": {...}}
//
// Failures are returned to Echo, whose error handler (internal/httperr) writes them, so both
// shapes are written in exactly one place each. Options are evaluated once, when the route is
// built; the per-request path does no reflection of its own beyond encoding the data.
package normalize

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/apitemplate/server/internal/httperr"
	"github.com/apitemplate/server/internal/requestid"
)

// UserKey is the echo.Context key an authentication middleware sets (to a string) so that
// request log lines name the user.
const UserKey = "user"

// Responder holds what every wrapped handler shares: the environment and the logger.
type Responder struct {
	Development bool // adds "metadata" to successes (unless NoMetadata)
	Logger      *slog.Logger
}

// Reply is data with its own success message, the seed's (data, message) tuple:
//
//	return normalize.Reply[User]{Data: u, Message: "Welcome aboard"}, nil
type Reply[T any] struct {
	Data    T
	Message string
}

func (r Reply[T]) reply() (any, string) { return r.Data, r.Message }

type replier interface{ reply() (any, string) }

// Option configures one wrapped handler.
type Option func(*options)

type options struct {
	name         string
	method       string
	checkMethod  bool
	message      string
	errorMessage string
	log          bool
	metadata     bool
	raw          bool
	status       int
}

// Method sets the method the handler expects; another method gets 405 "405-001" with an Allow
// header. Useful when one route is registered for several methods but the handler serves one.
func Method(method string) Option {
	return func(o *options) { o.method = strings.ToUpper(method) }
}

// SkipMethodCheck keeps Method for documentation but does not enforce it (the seed's
// validate_request=False).
func SkipMethodCheck() Option { return func(o *options) { o.checkMethod = false } }

// Message replaces the default success message, which otherwise comes from the request's method.
func Message(msg string) Option { return func(o *options) { o.message = msg } }

// ErrorMessage is the message clients get when the handler returns an unexpected (non-API)
// error. "{handler}" is replaced by the handler's name. Default: "An unexpected error occurred
// in {handler}".
func ErrorMessage(msg string) Option { return func(o *options) { o.errorMessage = msg } }

// NoLog turns off the start/success/failure log lines.
func NoLog() Option { return func(o *options) { o.log = false } }

// NoMetadata leaves "metadata" out even in development.
func NoMetadata() Option { return func(o *options) { o.metadata = false } }

// Raw writes successful data as it is, without the envelope. Errors still use the envelope.
func Raw() Option { return func(o *options) { o.raw = true } }

// Status sets the success status (default 200; e.g. http.StatusCreated).
func Status(code int) Option { return func(o *options) { o.status = code } }

// Name sets the handler name used in logs and the default error message; by default it is the
// Go function's name.
func Name(name string) Option { return func(o *options) { o.name = name } }

// Handle wraps fn. See the package comment for the envelope; Options change the defaults,
// which follow the seed: method check on (when Method is set), logging on, metadata on (in
// development), status 200.
func Handle[T any](r *Responder, fn func(c echo.Context) (T, error), opts ...Option) echo.HandlerFunc {
	o := options{checkMethod: true, log: true, metadata: true, status: http.StatusOK}
	for _, opt := range opts {
		opt(&o)
	}
	if o.name == "" {
		o.name = funcName(fn)
	}
	if o.errorMessage == "" {
		o.errorMessage = "An unexpected error occurred in {handler}"
	}
	errorMessage := httperr.Format(o.errorMessage, "handler", o.name)
	withMetadata := o.metadata && r.Development
	var fixedMessage []byte
	if o.message != "" {
		fixedMessage = quote(o.message)
	}
	log := r.Logger

	return func(c echo.Context) error {
		start := time.Now()
		req := c.Request()
		if o.checkMethod && o.method != "" && req.Method != o.method {
			c.Response().Header().Set(echo.HeaderAllow, o.method)
			return httperr.MethodNotAllowed.New("expected_method", o.method, "actual_method", req.Method)
		}
		if o.log {
			log.LogAttrs(req.Context(), slog.LevelInfo, "request started", requestAttrs(c, o.name)...)
		}

		data, err := call(fn, c, errorMessage)
		if err != nil {
			apiErr := httperr.As(err)
			if apiErr == nil {
				apiErr = httperr.From(err, c)
				if apiErr.Code == httperr.Internal.Code {
					apiErr.Message = errorMessage
				}
				err = apiErr
			}
			if o.log {
				log.LogAttrs(req.Context(), slog.LevelInfo, "request failed", append(requestAttrs(c, o.name),
					slog.Int("http_status", apiErr.Status), slog.String("error_code", apiErr.Code),
					slog.Float64("execution_time_ms", elapsedMS(start)))...)
			}
			return err
		}

		var payload any = data
		message := fixedMessage
		if rp, ok := payload.(replier); ok {
			var custom string
			payload, custom = rp.reply()
			if custom != "" {
				message = quote(custom)
			}
		}
		if message == nil {
			message = defaultMessages[methodIndex(req.Method)]
		}
		var werr error
		if o.raw {
			werr = c.JSON(o.status, payload)
		} else {
			werr = writeEnvelope(c, o.status, message, payload, withMetadata, start)
		}
		if o.log {
			log.LogAttrs(req.Context(), slog.LevelInfo, "request completed", append(requestAttrs(c, o.name),
				slog.Float64("execution_time_ms", elapsedMS(start)))...)
		}
		return werr
	}
}

// call runs fn, turning a panic into an Internal error with the route's error message and
// the panic's stack, as the seed's decorator does with any exception.
func call[T any](fn func(echo.Context) (T, error), c echo.Context, errorMessage string) (data T, err error) {
	defer func() {
		if r := recover(); r != nil {
			e := httperr.FromPanic(r)
			e.Message = errorMessage
			err = e
		}
	}()
	return fn(c)
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeEnvelope writes the success envelope by hand around the encoded data: the envelope's
// own fields are fixed, so only the data goes through encoding/json.
func writeEnvelope(c echo.Context, status int, message []byte, data any, withMetadata bool, start time.Time) error {
	encoded, err := json.Marshal(data)
	if err != nil {
		return httperr.Internal.Wrap(err)
	}
	if string(encoded) == "null" { // nil data, typed or not, is {} as in the seed
		encoded = []byte("{}")
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	buf.WriteString(`{"success":true,"message":`)
	buf.Write(message)
	buf.WriteString(`,"data":`)
	buf.Write(encoded)
	if withMetadata {
		req := c.Request()
		buf.WriteString(`,"metadata":{"request_id":`)
		buf.Write(quote(requestid.Get(c)))
		buf.WriteString(`,"execution_time_ms":`)
		buf.Write(strconv.AppendFloat(nil, elapsedMS(start), 'f', -1, 64))
		buf.WriteString(`,"method":`)
		buf.Write(quote(req.Method))
		buf.WriteString(`,"endpoint":`)
		buf.Write(quote(req.URL.Path))
		buf.WriteByte('}')
	}
	buf.WriteByte('}')
	return c.Blob(status, echo.MIMEApplicationJSON, buf.Bytes())
}

// defaultMessageText are the seed's per-method success messages, indexed by methodIndex;
// defaultMessages holds them JSON-quoted once, at start.
var (
	defaultMessageText = [...]string{
		"Data retrieved successfully",
		"Resource created successfully",
		"Resource updated successfully",
		"Resource partially updated successfully",
		"Resource deleted successfully",
		"Headers retrieved successfully",
		"Options retrieved successfully",
		"Request completed successfully",
	}
	defaultMessages = func() (q [len(defaultMessageText)][]byte) {
		for i, m := range defaultMessageText {
			q[i] = quote(m)
		}
		return q
	}()
)

func methodIndex(method string) int {
	switch method {
	case http.MethodGet:
		return 0
	case http.MethodPost:
		return 1
	case http.MethodPut:
		return 2
	case http.MethodPatch:
		return 3
	case http.MethodDelete:
		return 4
	case http.MethodHead:
		return 5
	case http.MethodOptions:
		return 6
	}
	return 7
}

// DefaultMessage returns the success message used for method when none is set.
func DefaultMessage(method string) string { return defaultMessageText[methodIndex(method)] }

func quote(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

func elapsedMS(start time.Time) float64 {
	return math.Round(float64(time.Since(start).Microseconds())/10) / 100
}

func requestAttrs(c echo.Context, handler string) []slog.Attr {
	req := c.Request()
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs,
		slog.String("request_id", requestid.Get(c)),
		slog.String("handler", handler),
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path))
	if user, ok := c.Get(UserKey).(string); ok {
		attrs = append(attrs, slog.String("user", user))
	}
	return attrs
}

// funcName returns "createUser" for the method value example.(*Module).createUser-fm, and
// "TestX" for a closure TestX.func1 (closure numbers mean nothing in a log line).
func funcName(fn any) string {
	name := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
	name = strings.TrimSuffix(name, "-fm")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	parts := strings.Split(name, ".")
	for len(parts) > 1 && strings.HasPrefix(parts[len(parts)-1], "func") {
		parts = parts[:len(parts)-1]
	}
	return parts[len(parts)-1]
}
