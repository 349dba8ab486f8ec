package example

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/apitemplate/server/internal/httperr"
	"github.com/apitemplate/server/internal/normalize"
)

type signupRequest struct {
	Username string `json:"username" form:"username" validate:"required,min=3,max=32,alphanum"`
	Email    string `json:"email" form:"email" validate:"required,email"`
	Password string `json:"password" form:"password" validate:"required,min=8"`
	Age      int    `json:"age" form:"age" validate:"omitempty,gte=13,lte=150"`
}

// Account is what signup returns; it never echoes the password.
type Account struct {
	Username string `json:"username"`
	Email    string `json:"email"`
}

var reservedUsernames = map[string]bool{"admin": true, "root": true, "support": true}

// signup shows both validation styles: struct tags checked by normalize.Bind (422 "422-001",
// every failing field at once), then business rules collected into one BulkValidation error
// (400 "400-003" with validation_errors).
func (m *Module) signup(c echo.Context) (normalize.Reply[Account], error) {
	var req signupRequest
	if err := normalize.Bind(c, &req); err != nil {
		return normalize.Reply[Account]{}, err
	}
	var problems []httperr.FieldError
	if reservedUsernames[strings.ToLower(req.Username)] {
		problems = append(problems, httperr.FieldError{Field: "username", Message: "is reserved"})
	}
	if strings.Contains(strings.ToLower(req.Password), strings.ToLower(req.Username)) {
		problems = append(problems, httperr.FieldError{Field: "password", Message: "must not contain the username"})
	}
	if strings.HasSuffix(strings.ToLower(req.Email), "@example.invalid") {
		problems = append(problems, httperr.FieldError{Field: "email", Message: "domain does not accept mail"})
	}
	if len(problems) > 0 {
		return normalize.Reply[Account]{}, httperr.BulkValidation.New().WithDetails(problems...)
	}
	return normalize.Reply[Account]{
		Data:    Account{Username: req.Username, Email: req.Email},
		Message: "Welcome, " + req.Username,
	}, nil
}
