package integration

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/redact"
	"github.com/apitemplate/server/internal/requestid"
)

// ErrNotFound is returned (wrapped) when no integration request has the given id.
var ErrNotFound = errors.New("integration request not found")

// LogOptions describe a record made by CreateRequestLog. They mirror the keyword arguments of
// Frappe's create_request_log.
type LogOptions struct {
	Service       string // integration_request_service: "stripe", "erp"
	Description   string // request_description
	ReferenceType string // the business record the call is for ("Order"); see CreateRequestLog
	ReferenceID   string
	Owner         string // who caused the call
	RequestID     string // defaults to requestid.FromContext(ctx)
	Method        string
	URL           string
	IsRemote      bool   // is_remote_request: a call a third party made to us
	Status        Status // defaults to StatusQueued
	// Name is a caller-chosen id, as Frappe's name argument; empty means NewID(). A name that is
	// already taken makes CreateRequestLog fail.
	Name string
	// RequestHeaders are stored as JSON: json.RawMessage, []byte and string must already be JSON,
	// anything else (http.Header, a map) is encoded.
	RequestHeaders any
	// Redactor masks secrets in the headers, URL and data before they are stored (default:
	// the default lists, as for the Transport).
	Redactor *redact.Redactor
}

// CreateRequestLog inserts a record now and returns it with its id: Frappe's
// create_request_log, for callers who need the row to exist before they go on (to update its
// status later with HandleSuccess or HandleFailure). Everything else should use a Buffer,
// which does not make the caller wait for the database.
//
// data is stored in the data column: a string (or []byte, json.RawMessage) as it is, nil as
// NULL, anything else JSON-encoded; secrets in it, in the headers and in the URL are redacted
// as the Transport redacts them. When opts.ReferenceType is empty the
// reference is read, as in Frappe, from data's "reference_doctype" and "reference_docname"
// keys (or "reference_type" and "reference_id"), whether data is a map, a struct or JSON text.
func CreateRequestLog(ctx context.Context, db *gorm.DB, data any, opts LogOptions) (*Request, error) {
	text, err := textOf(data)
	if err != nil {
		return nil, fmt.Errorf("create integration request log: data: %w", err)
	}
	red := cmp.Or(opts.Redactor, defaultRedactor)
	var secrets redact.Secrets
	var headers []byte
	if h, ok := opts.RequestHeaders.(http.Header); ok {
		headers = headerJSON(red.Header(h, &secrets))
	} else {
		if headers, err = jsonOf(opts.RequestHeaders); err != nil {
			return nil, fmt.Errorf("create integration request log: request headers: %w", err)
		}
		headers = red.Body(headers, "application/json", false, &secrets)
	}
	text = redactText(red, text, &secrets)
	opts.URL = red.URL(opts.URL, &secrets)
	r := &Request{
		ID:                 opts.Name,
		Service:            opts.Service,
		IsRemoteRequest:    opts.IsRemote,
		RequestDescription: opts.Description,
		RequestID:          cmp.Or(opts.RequestID, requestid.FromContext(ctx)),
		Status:             opts.Status,
		Method:             opts.Method,
		URL:                opts.URL,
		RequestHeaders:     JSON(headers),
		Data:               text,
		ReferenceType:      opts.ReferenceType,
		ReferenceID:        opts.ReferenceID,
		Owner:              opts.Owner,
	}
	if text != nil {
		r.DataSize = int64(len(*text))
		if r.ReferenceType == "" {
			var refID string
			r.ReferenceType, refID = referenceIn(*text)
			r.ReferenceID = cmp.Or(r.ReferenceID, refID)
		}
	}
	fillDefaults(r, time.Now())
	sanitize(r)
	if err := checkRow(r); err != nil {
		return nil, fmt.Errorf("create integration request log: %w", err)
	}
	// One row: a plain INSERT is a round trip cheaper than COPY, and a duplicate name must fail
	// rather than be isolated as a bad row.
	if err := insertRows(db.WithContext(ctx), []*Request{r}); err != nil {
		return nil, fmt.Errorf("create integration request log %s: %w", r.ID, err)
	}
	return r, nil
}

// UpdateStatus sets the status of the request with id, and its updated_at; never its
// created_at. An unknown id gives an error wrapping ErrNotFound.
func UpdateStatus(ctx context.Context, db *gorm.DB, id string, status Status) error {
	return updateRequest(ctx, db, id, "status = ?", string(status))
}

// HandleSuccess marks the request Completed and stores output: a string as it is, nil as
// NULL, anything else JSON-encoded. It is Frappe's IntegrationRequest.handle_success.
func HandleSuccess(ctx context.Context, db *gorm.DB, id string, output any) error {
	text, err := textOf(output)
	if err != nil {
		return fmt.Errorf("integration request %s: output: %w", id, err)
	}
	text = redactText(defaultRedactor, text, nil)
	size, cut := 0, false
	if text != nil {
		size = len(*text)
		*text, cut = cleanText(*text, columnLimits["output"], false)
	}
	return updateRequest(ctx, db, id, "status = ?, output = ?, output_size = ?, output_truncated = ?",
		string(StatusCompleted), stringOrNil(text), size, cut)
}

// HandleFailure marks the request Failed and stores errText (an error's message, a string as
// it is, anything else JSON-encoded). It is Frappe's IntegrationRequest.handle_failure.
func HandleFailure(ctx context.Context, db *gorm.DB, id string, errText any) error {
	if e, ok := errText.(error); ok {
		errText = e.Error()
	}
	text, err := textOf(errText)
	if err != nil {
		return fmt.Errorf("integration request %s: error: %w", id, err)
	}
	text = redactText(defaultRedactor, text, nil)
	if text != nil {
		*text, _ = cleanText(*text, columnLimits["error"], true)
	}
	return updateRequest(ctx, db, id, "status = ?, error = ?", string(StatusFailed), stringOrNil(text))
}

// redactText redacts a stored text the way bodies are: JSON (and form) values under secret
// keys, and the values in s. Free text without keys can only be masked with known secrets:
// HandleSuccess and HandleFailure, which run without the request's secrets, cannot find a
// password a third party repeats in plain words.
func redactText(red *redact.Redactor, text *string, s *redact.Secrets) *string {
	if text == nil {
		return nil
	}
	out := string(red.Body([]byte(*text), "", false, s))
	return &out
}

// updateRequest runs UPDATE ... SET <set>, updated_at = now WHERE id = id.
func updateRequest(ctx context.Context, db *gorm.DB, id, set string, args ...any) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	args = append(args, now, id)
	res := db.WithContext(ctx).Exec("UPDATE integration_requests SET "+set+", updated_at = ? WHERE id = ?", args...)
	if res.Error != nil {
		return fmt.Errorf("update integration request %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update integration request %s: %w", id, ErrNotFound)
	}
	return nil
}

func stringOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// textOf is how a body or message is stored: text as it is, nil as NULL, else JSON.
func textOf(v any) (*string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return &v, nil
	case []byte:
		return new(string(v)), nil
	case json.RawMessage:
		return new(string(v)), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return new(string(b)), nil
}

// jsonOf is how headers are stored: JSON, or NULL for nil.
func jsonOf(v any) (json.RawMessage, error) {
	var b []byte
	switch v := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		b = v
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return json.Marshal(v)
	}
	if !json.Valid(b) {
		return nil, errors.New("not valid JSON")
	}
	return json.RawMessage(b), nil
}

// referenceIn reads a reference from a JSON object's reference_doctype/reference_docname keys
// (Frappe's names) or reference_type/reference_id. Text that is not an object has none.
func referenceIn(text string) (refType, refID string) {
	b := bytes.TrimSpace([]byte(text))
	if len(b) == 0 || b[0] != '{' {
		return "", ""
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // an id of 12345678901234567890 must not become 1.2345678901234567e+19
	if dec.Decode(&obj) != nil {
		return "", ""
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			switch v := obj[k].(type) {
			case string:
				return v
			case json.Number:
				return v.String()
			}
		}
		return ""
	}
	return str("reference_doctype", "reference_type"), str("reference_docname", "reference_id")
}
