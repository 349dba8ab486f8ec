package example

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/apitemplate/server/internal/httperr"
	"github.com/apitemplate/server/internal/normalize"
)

type bookingRequest struct {
	HotelID  string `json:"hotel_id" form:"hotel_id"`
	CheckIn  string `json:"check_in" form:"check_in" validate:"omitempty,datetime=2006-01-02"`
	CheckOut string `json:"check_out" form:"check_out" validate:"omitempty,datetime=2006-01-02"`
	Guests   int    `json:"guests" form:"guests" validate:"gte=0"`
}

// Booking is what createBooking returns.
type Booking struct {
	BookingID string `json:"booking_id"`
	HotelID   string `json:"hotel_id"`
	CheckIn   string `json:"check_in"`
	CheckOut  string `json:"check_out"`
	Guests    int    `json:"guests"`
}

// createBooking is the seed's create_booking: required fields in order, then a business rule
// raised as an ad-hoc error with its own status and code.
func (m *Module) createBooking(c echo.Context) (Booking, error) {
	var req bookingRequest
	if err := normalize.Bind(c, &req); err != nil {
		return Booking{}, err
	}
	for _, f := range []struct {
		name    string
		missing bool
	}{
		{"hotel_id", req.HotelID == ""},
		{"check_in", req.CheckIn == ""},
		{"check_out", req.CheckOut == ""},
		{"guests", req.Guests == 0},
	} {
		if f.missing {
			return Booking{}, httperr.MissingField.New("placeholder", f.name)
		}
	}
	// YYYY-MM-DD strings order like the dates they name.
	if req.CheckIn >= req.CheckOut {
		return Booking{}, httperr.New(http.StatusBadRequest, "400-002", "Check-in date must be before check-out date")
	}
	return Booking{
		BookingID: fmt.Sprintf("BK-%04d", m.bookings.Add(1)),
		HotelID:   req.HotelID, CheckIn: req.CheckIn, CheckOut: req.CheckOut, Guests: req.Guests,
	}, nil
}
