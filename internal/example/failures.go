package example

import (
	"errors"
	"fmt"

	"github.com/labstack/echo/v4"
)

type legacyResult struct {
	Accepted bool `json:"accepted"`
}

// legacy is registered for GET and POST but its wrapper expects POST: GET gets 405 "405-001",
// as with the seed's request_method="POST".
func (m *Module) legacy(echo.Context) (legacyResult, error) {
	return legacyResult{Accepted: true}, nil
}

// panics shows that a panic becomes a 500 envelope (with the panic's stack in development)
// and the server keeps serving.
func (m *Module) panics(echo.Context) (any, error) {
	var counts map[string]int
	//lint:ignore SA5000 the nil-map write is the point: a real runtime panic becomes a 500
	counts["boom"]++
	return counts, nil
}

var errReportStore = errors.New("report store: connection reset by peer")

// fails returns a plain Go error. Clients get 500 INTERNAL_SERVER_ERROR with the route's
// ErrorMessage; the Go error's text reaches only the log (and the traceback in development).
func (m *Module) fails(echo.Context) (any, error) {
	return nil, fmt.Errorf("build report: %w", errReportStore)
}
