package example

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// FakeERP is a tiny stand-in for a customer's ERP, so POST /api/v1/orders works out of the box:
// the server starts it on a loopback port when EXAMPLE_ERP_URL is not set. It checks the
// bearer token, accepts orders with items, and rejects orders without (422), so both paths
// of the example can be tried with curl.
type FakeERP struct {
	URL string
	srv *http.Server
}

// StartFakeERP listens on 127.0.0.1 on a free port. Close stops it.
func StartFakeERP(token string) (*FakeERP, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake ERP: %w", err)
	}
	var seq atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid token"})
			return
		}
		var order struct {
			OrderID any   `json:"order_id"`
			Items   []any `json:"items"`
		}
		if err := json.NewDecoder(r.Body).Decode(&order); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid JSON"})
			return
		}
		if len(order.Items) == 0 {
			w.WriteHeader(http.StatusUnprocessableEntity)
			json.NewEncoder(w).Encode(map[string]string{"error": "order has no items"})
			return
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{
			"erp_order_id": fmt.Sprintf("SO-%05d", seq.Add(1)),
			"order_id":     order.OrderID,
			"status":       "accepted",
		})
	})
	f := &FakeERP{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go f.srv.Serve(ln)
	return f, nil
}

// Close stops the fake ERP, waiting for calls in flight within ctx.
func (f *FakeERP) Close(ctx context.Context) error {
	if err := f.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
