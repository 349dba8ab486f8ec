package httperr

import (
	"fmt"

	"github.com/go-playground/validator/v10"
)

// ValidationDetails turns validator errors into client-safe field errors. Field names are what
// the validator reports: the JSON names when the validator was built with a tag-name function
// (normalize's is), so clients see "email", not "Email".
func ValidationDetails(errs validator.ValidationErrors) []FieldError {
	out := make([]FieldError, 0, len(errs))
	for _, fe := range errs {
		out = append(out, FieldError{Field: fieldPath(fe), Message: validationMessage(fe)})
	}
	return out
}

// fieldPath drops the top-level struct name: "SignupRequest.address.city" → "address.city".
func fieldPath(fe validator.FieldError) string {
	ns := fe.Namespace()
	for i := 0; i < len(ns); i++ {
		if ns[i] == '.' {
			return ns[i+1:]
		}
	}
	return fe.Field()
}

// validationMessage says in plain words what a tag wants. Unknown tags fall back to a generic
// sentence naming the rule, which is still better than the validator's Go-flavoured text.
func validationMessage(fe validator.FieldError) string {
	p := fe.Param()
	switch fe.Tag() {
	case "required", "required_if", "required_unless", "required_with", "required_without":
		return "is required"
	case "email":
		return "must be a valid email address"
	case "url", "http_url":
		return "must be a valid URL"
	case "uuid", "uuid4", "uuid7":
		return "must be a valid UUID"
	case "min":
		if isText(fe) {
			return fmt.Sprintf("must be at least %s characters long", p)
		}
		return fmt.Sprintf("must be at least %s", p)
	case "max":
		if isText(fe) {
			return fmt.Sprintf("must be at most %s characters long", p)
		}
		return fmt.Sprintf("must be at most %s", p)
	case "len":
		return fmt.Sprintf("must have length %s", p)
	case "gte":
		return fmt.Sprintf("must be greater than or equal to %s", p)
	case "gt":
		return fmt.Sprintf("must be greater than %s", p)
	case "lte":
		return fmt.Sprintf("must be less than or equal to %s", p)
	case "lt":
		return fmt.Sprintf("must be less than %s", p)
	case "oneof":
		return fmt.Sprintf("must be one of: %s", p)
	case "alphanum":
		return "must contain only letters and digits"
	case "eqfield":
		return fmt.Sprintf("must equal %s", p)
	case "datetime":
		return fmt.Sprintf("must be a date/time in the format %s", p)
	}
	return fmt.Sprintf("failed the %q rule", fe.Tag())
}

func isText(fe validator.FieldError) bool {
	k := fe.Kind().String()
	return k == "string" || k == "slice" || k == "map" || k == "array"
}
