package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// column is a Request field stored in integration_requests, found by its gorm tag, so that
// the writers and sanitize need no change when a column is added.
type column struct {
	name  string
	index []int
	limit int // bytes, for text
}

// Limits, in bytes, past which a text value is cut (at a UTF-8 boundary, with a note of its
// full size). A column in a B-tree index must fit PostgreSQL's entry limit, 2 704 bytes for
// the whole key: 1 KiB each leaves room for the two-column indexes. Bodies are capped by
// BodyCap when captured; their limit only catches records made by hand.
const defaultLimit = 1 << 10

var columnLimits = map[string]int{"url": 8 << 10, "data": 1 << 20, "output": 1 << 20, "error": 64 << 10}

var columns, columnNames = requestColumns()

func requestColumns() (cols []column, names []string) {
	t := reflect.TypeFor[Request]()
	for i := range t.NumField() {
		f := t.Field(i)
		for part := range strings.SplitSeq(f.Tag.Get("gorm"), ";") {
			if name, ok := strings.CutPrefix(part, "column:"); ok {
				limit := defaultLimit
				if l, ok := columnLimits[name]; ok {
					limit = l
				}
				cols = append(cols, column{name: name, index: f.Index, limit: limit})
				names = append(names, name)
			}
		}
	}
	return cols, names
}

// sanitize makes r storable whatever a client or an upstream put in it, so that no record is
// kept out of the log by its content: invalid UTF-8 and NUL (which PostgreSQL refuses in
// text and JSONB) become U+FFFD, and text over its column's limit is cut. A cut body sets its
// <column>_truncated flag; other cut values end with a note of their full size. A JSON column
// that is not JSON is stored as a JSON string of its text, and a duration that is NaN or
// infinite as NULL. Times are written in UTC.
func sanitize(r *Request) {
	row := reflect.ValueOf(r).Elem()
	for _, c := range columns {
		field := row.FieldByIndex(c.index)
		switch v := field.Addr().Interface().(type) {
		case *string:
			*v, _ = cleanText(*v, c.limit, true)
		case *Status:
			s, _ := cleanText(string(*v), c.limit, true)
			*v = Status(s)
		case **string:
			if *v == nil {
				continue
			}
			s, cut := cleanText(**v, c.limit, false)
			if s != **v {
				*v = &s
			}
			if flag := row.FieldByName(flagField(c.name)); cut && flag.IsValid() {
				flag.SetBool(true)
			}
		case *JSON:
			*v = cleanJSON(*v, r.encoded)
		case *time.Time:
			*v = v.UTC()
		case **float64:
			if *v != nil && (math.IsNaN(**v) || math.IsInf(**v, 0)) {
				*v = nil // a duration that is not a number says nothing
			}
		}
	}
}

// flagField names the bool field flagging a cut body column: data -> DataTruncated.
func flagField(column string) string {
	if column == "" {
		return ""
	}
	return strings.ToUpper(column[:1]) + column[1:] + "Truncated"
}

// cleanText returns s valid UTF-8 without NUL, at most limit bytes long (plus the note when
// note is set), and whether it was cut. It allocates only when s needs a change.
func cleanText(s string, limit int, note bool) (string, bool) {
	if len(s) <= limit && utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s, false
	}
	size := len(s)
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	if len(s) <= limit {
		return s, false
	}
	s = string(cutUTF8([]byte(s), int64(limit)))
	if note {
		s += fmt.Sprintf("…[cut from %d bytes]", size)
	}
	return s, true
}

// cleanJSON replaces what JSONB refuses: text that is not JSON (unless encoded says it was
// written here), invalid UTF-8 and the escape \u0000.
func cleanJSON(j JSON, encoded bool) JSON {
	if len(j) == 0 {
		return j
	}
	if !encoded && !json.Valid(j) {
		quoted, _ := json.Marshal(string(j)) // invalid UTF-8 becomes U+FFFD
		j = quoted
	} else if !encoded && !utf8.Valid(j) {
		j = bytes.ToValidUTF8(j, []byte("\uFFFD"))
	}
	if bytes.Contains(j, []byte(`\u0000`)) {
		j = bytes.ReplaceAll(j, []byte(`\u0000`), []byte(`\ufffd`))
	}
	return j
}
