package integration

import (
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
)

// Status is the state of an integration request, as in Frappe's Integration Request.
type Status string

// Statuses, in their usual order.
const (
	StatusQueued     Status = "Queued"
	StatusAuthorized Status = "Authorized"
	StatusCompleted  Status = "Completed"
	StatusCancelled  Status = "Cancelled"
	StatusFailed     Status = "Failed"
)

// Request is one recorded integration call: one attempt of an outbound HTTP call (each
// redirect hop or retry is its own Request with a higher Attempt), or one inbound webhook.
//
// It is the row of integration_requests as it is: the writers (COPY, INSERT, spill files)
// take their columns from the gorm tags, so adding a column is a field here, a migration per
// database, and the line that sets it. Column names are fixed: operators query them with SQL.
type Request struct {
	ID                 string    `gorm:"column:id;primaryKey" json:"id"`
	Service            string    `gorm:"column:service" json:"service"`
	IsRemoteRequest    bool      `gorm:"column:is_remote_request" json:"is_remote_request"`
	RequestDescription string    `gorm:"column:request_description" json:"request_description"`
	RequestID          string    `gorm:"column:request_id" json:"request_id"`
	TraceID            string    `gorm:"column:trace_id" json:"trace_id"`
	Status             Status    `gorm:"column:status" json:"status"`
	Method             string    `gorm:"column:method" json:"method"`
	URL                string    `gorm:"column:url" json:"url"`
	RequestHeaders     JSON      `gorm:"column:request_headers;type:jsonb" json:"request_headers,omitempty"`
	Data               *string   `gorm:"column:data" json:"data"`
	ResponseHeaders    JSON      `gorm:"column:response_headers;type:jsonb" json:"response_headers,omitempty"`
	Output             *string   `gorm:"column:output" json:"output"`
	Error              *string   `gorm:"column:error" json:"error"`
	StatusCode         *int      `gorm:"column:status_code" json:"status_code"`
	DurationMS         *float64  `gorm:"column:duration_ms" json:"duration_ms"`
	Attempt            int       `gorm:"column:attempt" json:"attempt"`
	ReferenceType      string    `gorm:"column:reference_type" json:"reference_type"`
	ReferenceID        string    `gorm:"column:reference_id" json:"reference_id"`
	Owner              string    `gorm:"column:owner" json:"owner"`
	DataTruncated      bool      `gorm:"column:data_truncated" json:"data_truncated"`
	DataSize           int64     `gorm:"column:data_size" json:"data_size"`
	OutputTruncated    bool      `gorm:"column:output_truncated" json:"output_truncated"`
	OutputSize         int64     `gorm:"column:output_size" json:"output_size"`
	CreatedAt          time.Time `gorm:"column:created_at" json:"created_at"`
	UpdatedAt          time.Time `gorm:"column:updated_at" json:"updated_at"`

	// seen, when set, is what a Transport captured and has not yet redacted into the fields
	// above. A Buffer keeps it so that the caller's goroutine pays for a copy, not for the
	// redaction; build fills the fields just before the record is written or spilled.
	seen *seenCall
	// encoded says the JSON columns were written by headerJSON, so sanitize need not check
	// that they parse (a tenth of BenchmarkBuild).
	encoded bool
}

// TableName fixes the table name, whatever gorm's naming strategy.
func (Request) TableName() string { return "integration_requests" }

// build fills the fields that wait for redaction, once. It runs on the Buffer's goroutine,
// where a panic would end the process: a build that panics leaves the record with its cheap
// fields and an error saying so, and nothing of headers or bodies (they may not be redacted).
func (r *Request) build() {
	seen := r.seen
	if seen == nil {
		return
	}
	r.seen = nil
	defer func() {
		if p := recover(); p != nil {
			r.RequestHeaders, r.ResponseHeaders, r.Data, r.Output, r.URL = nil, nil, nil, nil, ""
			r.Error = new(fmt.Sprintf("integration: building the record failed: %v", p))
		}
	}()
	seen.build(r)
}

// size is what the record counts against BufferConfig.MaxBytes: its text, plus a fixed
// share for the struct, its pointers and the allocator's rounding.
func (r *Request) size() int64 {
	const fixed = 512
	n := len(r.ID) + len(r.Service) + len(r.RequestDescription) + len(r.RequestID) + len(r.TraceID) +
		len(r.Method) + len(r.URL) + len(r.RequestHeaders) + len(r.ResponseHeaders) +
		len(r.ReferenceType) + len(r.ReferenceID) + len(r.Owner) +
		strLen(r.Data) + strLen(r.Output) + strLen(r.Error)
	if r.seen != nil {
		n += r.seen.size()
	}
	return int64(n) + fixed
}

func strLen(s *string) int {
	if s == nil {
		return 0
	}
	return len(*s)
}

// JSON is a JSON document column: JSONB on PostgreSQL, TEXT on SQLite. It scans from either
// (json.RawMessage scans only from bytes, which SQLite's TEXT is not) and is written as text.
type JSON []byte

// Scan implements sql.Scanner.
func (j *JSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case []byte:
		*j = append(JSON(nil), v...)
	case string:
		*j = JSON(v)
	default:
		return fmt.Errorf("integration.JSON: cannot scan %T", src)
	}
	return nil
}

// Value implements driver.Valuer: text, or NULL when empty.
func (j JSON) Value() (driver.Value, error) {
	if len(j) == 0 {
		return nil, nil
	}
	return string(j), nil
}

// MarshalJSON writes the document as it is (null when empty).
func (j JSON) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("null"), nil
	}
	return j, nil
}

// UnmarshalJSON keeps the document as it is.
func (j *JSON) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*j = nil
		return nil
	}
	*j = append(JSON(nil), b...)
	return nil
}

// NewID returns a time-sortable id (UUIDv7): ids sort by creation time, so the primary key
// index stays append-mostly and "newest first" needs no extra sort key.
func NewID() string { return newID(time.Now()).String() }

// newID makes the UUIDv7 of something that happened at t: 48 bits of Unix milliseconds,
// then 12 bits of the millisecond's fraction (RFC 9562, section 6.2, method 3), so that ids
// sort by t to a quarter of a microsecond, then 62 random bits. The random bits come from
// math/rand/v2: an id must be unique, not secret.
func newID(t time.Time) uuid.UUID {
	ns := t.UnixNano()
	frac := uint64(ns%1e6) * 4096 / 1e6
	var id uuid.UUID
	binary.BigEndian.PutUint64(id[:8], uint64(ns/1e6)<<16|0x7000|frac)
	binary.BigEndian.PutUint64(id[8:], rand.Uint64()&(1<<62-1)|1<<63)
	return id
}

// fillDefaults sets what the table's column defaults would, for fields left zero: a new id,
// the creation time (now, in UTC, to the microsecond that PostgreSQL keeps), an update time
// equal to the creation time, status Queued and attempt 1. It never changes a set field.
func fillDefaults(r *Request, now time.Time) {
	if r.ID == "" {
		r.ID = newID(now).String()
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now.UTC().Truncate(time.Microsecond)
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	if r.Status == "" {
		r.Status = StatusQueued
	}
	if r.Attempt == 0 {
		r.Attempt = 1
	}
}
