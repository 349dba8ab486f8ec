// Package health serves GET /healthz: the success envelope when the server and its database
// answer, 503 "503-000" when the database does not. Load balancers and Kubernetes probes
// read the status code; people read the body.
package health

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/httperr"
	"github.com/apitemplate/server/internal/normalize"
)

// Module is the health check.
type Module struct {
	r  *normalize.Responder
	db *gorm.DB
}

// New returns the health module; db is pinged on every check.
func New(r *normalize.Responder, db *gorm.DB) *Module { return &Module{r: r, db: db} }

// Status is the body of a healthy answer.
type Status struct {
	Status   string `json:"status"`
	Database string `json:"database"`
}

// Routes registers GET /healthz. Probes hit it every few seconds, so it does not log.
func (m *Module) Routes(e *echo.Echo) {
	e.GET("/healthz", normalize.Handle(m.r, m.check, normalize.NoLog(), normalize.Message("Service is healthy")))
}

func (m *Module) check(c echo.Context) (Status, error) {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	sqlDB, err := m.db.DB()
	if err == nil {
		err = sqlDB.PingContext(ctx)
	}
	if err != nil {
		return Status{}, httperr.ServiceUnavailable.Wrap(err)
	}
	return Status{Status: "ok", Database: m.db.Dialector.Name()}, nil
}
