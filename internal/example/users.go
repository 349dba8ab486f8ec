package example

import (
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/apitemplate/server/internal/httperr"
	"github.com/apitemplate/server/internal/normalize"
)

// ErrUserNotFound is an application-defined error: one line, and it is in the catalog
// (docs/errors.md) and matched by errors.Is.
var ErrUserNotFound = httperr.Define(404, "404-001", "User with ID {user_id} not found")

// User is what the users endpoints return.
type User struct {
	ID       int    `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

type createUserRequest struct {
	Username string `json:"username" form:"username"`
	Email    string `json:"email" form:"email"`
}

// createUser checks its fields by hand, in order, as the seed does: the first missing one is
// the error. (signup shows the tag-based alternative that reports every field at once.)
func (m *Module) createUser(c echo.Context) (User, error) {
	var req createUserRequest
	if err := normalize.Bind(c, &req); err != nil {
		return User{}, err
	}
	req.Username, req.Email = strings.TrimSpace(req.Username), strings.TrimSpace(req.Email)
	if req.Username == "" {
		return User{}, httperr.MissingField.New("placeholder", "username")
	}
	if req.Email == "" {
		return User{}, httperr.MissingField.New("placeholder", "email")
	}
	return m.users.add(req.Username, req.Email), nil
}

type getUserRequest struct {
	ID int `param:"id"`
}

func (m *Module) getUser(c echo.Context) (User, error) {
	var req getUserRequest
	if err := normalize.Bind(c, &req); err != nil {
		return User{}, err
	}
	u, ok := m.users.get(req.ID)
	if !ok {
		return User{}, ErrUserNotFound.New("user_id", req.ID)
	}
	return u, nil
}

// userStore keeps users in memory, so the example runs without a schema of its own. A real
// module keeps a store type like this one, backed by the database, and translates
// gorm.ErrRecordNotFound into its own not-found error.
type userStore struct {
	mu    sync.Mutex
	users []User
}

func newUserStore() *userStore { return &userStore{} }

func (s *userStore) add(username, email string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := User{ID: len(s.users) + 1, Username: username, Email: email}
	s.users = append(s.users, u)
	return u
}

func (s *userStore) get(id int) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id < 1 || id > len(s.users) {
		return User{}, false
	}
	return s.users[id-1], true
}
