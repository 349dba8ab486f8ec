// Package example is the module a new user reads first: one small handler per error pattern
// of the template (missing fields, a custom not-found, an ad-hoc business error, tag
// validation, bulk validation, a method check, a panic, an unexpected Go error) and, in
// orders.go, an outbound call to a third party recorded in the integration log.
//
// Handlers return (data, error) and never write responses: normalize.Handle writes successes
// and httperr.Handler writes failures. Copy this package to start a module of your own.
package example

import (
	"net/http"
	"sync/atomic"

	"github.com/labstack/echo/v4"

	"github.com/apitemplate/server/internal/normalize"
)

// Module holds the example's dependencies.
type Module struct {
	r        *normalize.Responder
	erp      *ERP
	users    *userStore
	bookings atomic.Int64 // last booking number handed out
}

// New returns the example module; erp is where POST /api/v1/orders sends orders.
func New(r *normalize.Responder, erp *ERP) *Module {
	return &Module{r: r, erp: erp, users: newUserStore()}
}

// Routes registers the example's routes. A route is registered only for the methods it
// serves, so the router answers other methods with 405 "405-001" and an Allow header.
func (m *Module) Routes(e *echo.Echo) {
	g := e.Group("/api/v1")
	g.POST("/users", normalize.Handle(m.r, m.createUser, normalize.Status(http.StatusCreated)))
	g.GET("/users/:id", normalize.Handle(m.r, m.getUser))
	g.POST("/bookings", normalize.Handle(m.r, m.createBooking))
	g.POST("/signup", normalize.Handle(m.r, m.signup, normalize.Status(http.StatusCreated)))
	g.POST("/orders", normalize.Handle(m.r, m.createOrder, normalize.Status(http.StatusCreated), normalize.Message("Order sent to the ERP")))

	// The seed's case: a route reachable by GET and POST whose handler only accepts POST.
	legacy := normalize.Handle(m.r, m.legacy, normalize.Method(http.MethodPost), normalize.Message("Legacy action accepted"))
	g.GET("/examples/legacy", legacy)
	g.POST("/examples/legacy", legacy)
	g.GET("/examples/panic", normalize.Handle(m.r, m.panics))
	g.GET("/examples/failure", normalize.Handle(m.r, m.fails, normalize.ErrorMessage("Failed to build the report")))
}
