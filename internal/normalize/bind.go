package normalize

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"

	"github.com/apitemplate/server/internal/httperr"
)

// Validate is the validator Bind uses (and Echo's, through Validator). It reports fields by
// their JSON names, so clients see "email", not "Email".
var Validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			return ""
		case "":
			return f.Name
		}
		return name
	})
	return v
}

// Validator adapts Validate to echo.Validator, so c.Validate works in handlers too.
type Validator struct{}

// Validate implements echo.Validator.
func (Validator) Validate(i any) error { return Validate.Struct(i) }

// Bind fills dst (a pointer to a struct) from the path parameters (`param` tags), the query
// string (`query` tags), and the body: JSON (`json` tags) or a form (`form` tags), chosen by
// Content-Type. Then it validates dst's `validate` tags. Failures come back as API errors:
//   - a path or query value of the wrong type: 400 "400-005" naming the parameter;
//   - a body that is not JSON: 400 "400-004" naming the problem;
//   - a body of another media type: 415;
//   - wrong JSON types and failed rules, all together: 422 "422-001" with one entry per field.
func Bind(c echo.Context, dst any) error {
	b := &echo.DefaultBinder{}
	if err := b.BindPathParams(c, dst); err != nil {
		return paramError(err, c.ParamNames(), c.ParamValues())
	}
	if err := b.BindQueryParams(c, dst); err != nil {
		var names, values []string
		for name, vs := range c.QueryParams() {
			for _, v := range vs {
				names, values = append(names, name), append(values, v)
			}
		}
		return paramError(err, names, values)
	}
	var details []httperr.FieldError
	if err := bindBody(c, b, dst); err != nil {
		typeErr, ok := err.(*json.UnmarshalTypeError) //nolint:errorlint // decodeJSON returns it bare
		if !ok {
			return err
		}
		// encoding/json fills the other fields after a type error, so validation still
		// runs and the client gets every problem in one answer.
		details = append(details, httperr.FieldError{Field: typeErr.Field, Message: "must be " + jsonKind(typeErr.Type)})
	}
	if err := Validate.Struct(dst); err != nil {
		var ve validator.ValidationErrors
		if !errors.As(err, &ve) {
			return httperr.Internal.Wrap(err)
		}
		for _, d := range httperr.ValidationDetails(ve) {
			if len(details) == 0 || d.Field != details[0].Field {
				details = append(details, d)
			}
		}
	}
	if len(details) > 0 {
		return httperr.Validation.New().WithDetails(details...)
	}
	return nil
}

func bindBody(c echo.Context, b *echo.DefaultBinder, dst any) error {
	req := c.Request()
	if req.ContentLength == 0 || req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	mediaType, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	switch {
	case mediaType == echo.MIMEApplicationJSON || strings.HasSuffix(mediaType, "+json"):
		return decodeJSON(req.Body, dst)
	case mediaType == echo.MIMEApplicationForm || mediaType == echo.MIMEMultipartForm:
		if err := b.BindBody(c, dst); err != nil {
			return paramError(err, nil, nil)
		}
		return nil
	}
	ct := mediaType
	if ct == "" {
		ct = "(none)"
	}
	return httperr.UnsupportedMediaType.New("content_type", ct)
}

func decodeJSON(body io.Reader, dst any) error {
	dec := json.NewDecoder(body)
	err := dec.Decode(dst)
	if err == nil {
		// Anything but white space after the value is an error; dec.More alone would let a
		// stray "}" or "]" through.
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			return httperr.MalformedJSON.New("problem", "unexpected data after the JSON value")
		}
	}
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return nil
	case errors.As(err, &syntaxErr):
		return httperr.MalformedJSON.Wrap(err, "problem", fmt.Sprintf("%s (at byte %d)", strings.TrimPrefix(syntaxErr.Error(), "json: "), syntaxErr.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return httperr.MalformedJSON.Wrap(err, "problem", "unexpected end of input")
	case errors.As(err, &typeErr):
		if typeErr.Field == "" { // the whole body has the wrong shape, e.g. an array
			return httperr.MalformedJSON.Wrap(err, "problem", "expected "+jsonKind(typeErr.Type)+", got "+typeErr.Value)
		}
		return typeErr
	}
	// *http.MaxBytesError (413) and read errors keep their meaning for httperr.From.
	return err
}

// paramError turns a binder failure into 400 "400-005". Echo's message is Go's strconv text,
// so the parameter is found by its value instead.
func paramError(err error, names, values []string) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) { // a form body read past BODY_LIMIT
		return httperr.PayloadTooLarge.Wrap(err)
	}
	var numErr *strconv.NumError
	if !errors.As(err, &numErr) {
		return httperr.BadRequest.Wrap(err)
	}
	field := "parameter"
	for i, v := range values {
		if v == numErr.Num {
			field = names[i]
			break
		}
	}
	problem := fmt.Sprintf("%q is not a valid number", numErr.Num)
	if strings.HasPrefix(numErr.Func, "ParseBool") {
		problem = fmt.Sprintf("%q is not true or false", numErr.Num)
	} else if errors.Is(numErr.Err, strconv.ErrRange) {
		problem = fmt.Sprintf("%q is out of range", numErr.Num)
	}
	return httperr.InvalidParameter.Wrap(err, "field", field, "problem", problem)
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a value of another type"
}
