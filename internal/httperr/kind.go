package httperr

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Kind is a predefined error: its status, code and message template. Kinds are declared once,
// as package variables, with Define; handlers then make errors from them with New:
//
//	var ErrUserNotFound = httperr.Define(404, "404-001", "User with ID {user_id} not found")
//	return httperr.ErrUserNotFound.New("user_id", id)
//
// A Kind is itself an error, so errors.Is(err, ErrUserNotFound) reports whether err was made
// from it.
type Kind struct {
	Status     int
	Code       string
	Template   string // message with {named} placeholders
	DetailsKey string // JSON name of the details list; "" means "errors"
}

var (
	registryMu sync.Mutex
	registry   []*Kind
)

// Define declares a Kind and adds it to the catalog printed by `server errors` and checked
// for duplicate codes by the tests. Call it from package-level var declarations.
func Define(status int, code, template string) *Kind {
	k := &Kind{Status: status, Code: code, Template: template}
	registryMu.Lock()
	registry = append(registry, k)
	registryMu.Unlock()
	return k
}

// Catalog returns every defined Kind, sorted by code.
func Catalog() []*Kind {
	registryMu.Lock()
	out := slices.Clone(registry)
	registryMu.Unlock()
	slices.SortStableFunc(out, func(a, b *Kind) int { return cmp.Compare(a.Code, b.Code) })
	return out
}

// Duplicates returns codes defined by more than one Kind. The catalog test fails on any.
func Duplicates(kinds []*Kind) []string {
	seen := map[string]int{}
	var dups []string
	for _, k := range kinds {
		seen[k.Code]++
		if seen[k.Code] == 2 {
			dups = append(dups, k.Code)
		}
	}
	return dups
}

// Error returns the template, so a Kind can be an errors.Is target.
func (k *Kind) Error() string { return k.Template }

// New makes an error of this Kind, filling the template from key-value pairs, as with slog:
// New("placeholder", "username"). Placeholders without a value stay as written.
func (k *Kind) New(args ...any) *Error {
	return &Error{
		Status:  k.Status,
		Code:    k.Code,
		Message: Format(k.Template, args...),
		kind:    k,
		stack:   callers(k.Status),
	}
}

// Wrap makes an error of this Kind with its default message that keeps cause for the logs.
func (k *Kind) Wrap(cause error, args ...any) *Error {
	e := k.New(args...)
	e.stack = callers(k.Status)
	e.cause = cause
	return e
}

// Format fills {name} placeholders in template from key-value pairs. A placeholder with no
// value is left as it is, an odd trailing key is ignored, and "{" without a closing "}" is
// text: a bad template or a forgotten argument never panics or prints %!-noise.
func Format(template string, args ...any) string {
	if len(args) < 2 || !strings.Contains(template, "{") {
		return template
	}
	var b strings.Builder
	b.Grow(len(template) + 16)
	rest := template
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			break
		}
		name := rest[open+1 : open+end]
		b.WriteString(rest[:open])
		if v, ok := lookup(args, name); ok {
			b.WriteString(v)
		} else {
			b.WriteString(rest[open : open+end+1])
		}
		rest = rest[open+end+1:]
	}
	b.WriteString(rest)
	return b.String()
}

func lookup(args []any, name string) (string, bool) {
	for i := 0; i+1 < len(args); i += 2 {
		if key, ok := args[i].(string); ok && key == name {
			switch v := args[i+1].(type) {
			case string:
				return v, true
			case fmt.Stringer:
				return v.String(), true
			default:
				return fmt.Sprint(v), true
			}
		}
	}
	return "", false
}
