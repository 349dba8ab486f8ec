package integration

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/apitemplate/server/internal/database/dbtest"
	"github.com/apitemplate/server/internal/requestid"
)

func TestCreateRequestLog(t *testing.T) {
	type order struct {
		Doctype string `json:"reference_doctype"`
		Docname string `json:"reference_docname"`
		Amount  int    `json:"amount"`
	}
	tests := []struct {
		name                 string
		data                 any
		opts                 LogOptions
		wantData             *string
		wantRefType, wantRef string
	}{
		{"string stored as is", "plain text, not JSON", LogOptions{Service: "erp"},
			new("plain text, not JSON"), "", ""},
		{"struct encoded, reference from it", order{"Sales Order", "SO-1", 3}, LogOptions{},
			new(`{"reference_doctype":"Sales Order","reference_docname":"SO-1","amount":3}`), "Sales Order", "SO-1"},
		{"map with reference_type and a numeric id", map[string]any{"reference_type": "Invoice", "reference_id": uint64(12345678901234567890)}, LogOptions{},
			new(`{"reference_id":12345678901234567890,"reference_type":"Invoice"}`), "Invoice", "12345678901234567890"},
		{"JSON text, reference from it", `{"reference_doctype":"Payment","reference_docname":"PAY-9"}`, LogOptions{},
			new(`{"reference_doctype":"Payment","reference_docname":"PAY-9"}`), "Payment", "PAY-9"},
		{"explicit reference wins", order{"Sales Order", "SO-1", 3}, LogOptions{ReferenceType: "Customer", ReferenceID: "C-1"},
			new(`{"reference_doctype":"Sales Order","reference_docname":"SO-1","amount":3}`), "Customer", "C-1"},
		{"nil data is NULL", nil, LogOptions{}, nil, "", ""},
	}
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r, err := CreateRequestLog(ctx, db, tt.data, tt.opts)
				if err != nil {
					t.Fatalf("CreateRequestLog: %v", err)
				}
				if (r.Data == nil) != (tt.wantData == nil) || r.Data != nil && *r.Data != *tt.wantData {
					t.Errorf("data = %v; want %v", deref(r.Data), deref(tt.wantData))
				}
				if r.ReferenceType != tt.wantRefType || r.ReferenceID != tt.wantRef {
					t.Errorf("reference = %q, %q; want %q, %q", r.ReferenceType, r.ReferenceID, tt.wantRefType, tt.wantRef)
				}
				if r.Status != StatusQueued || r.ID == "" || r.CreatedAt.IsZero() {
					t.Errorf("status %q, id %q, created %v; want Queued, a new id, now", r.Status, r.ID, r.CreatedAt)
				}
				sameRequest(t, rowsByID(t, db)[r.ID], *r)
			})
		}
		t.Run("name, status, headers and request id", func(t *testing.T) {
			ctx := requestid.NewContext(ctx, "req-abc")
			r, err := CreateRequestLog(ctx, db, "x", LogOptions{
				Name: "my-name", Status: StatusAuthorized, IsRemote: true, Method: "POST", URL: "https://x.example/hook",
				Owner: "bob", Description: "webhook", RequestHeaders: http.Header{"Content-Type": {"application/json"}},
			})
			if err != nil {
				t.Fatalf("CreateRequestLog: %v", err)
			}
			got := rowsByID(t, db)["my-name"]
			if got.RequestID != "req-abc" || got.Status != StatusAuthorized || !got.IsRemoteRequest ||
				!jsonEqual(got.RequestHeaders, json.RawMessage(`{"Content-Type":["application/json"]}`)) {
				t.Errorf("stored %+v; want request id req-abc, Authorized, remote, the headers as JSON", got)
			}
			sameRequest(t, got, *r)
			if _, err := CreateRequestLog(ctx, db, "again", LogOptions{Name: "my-name"}); err == nil {
				t.Error("CreateRequestLog with a taken name = nil error")
			}
		})
		t.Run("headers that are not JSON", func(t *testing.T) {
			if _, err := CreateRequestLog(ctx, db, "x", LogOptions{RequestHeaders: "Content-Type: text/plain"}); err == nil {
				t.Error("CreateRequestLog with non-JSON header text = nil error")
			}
		})
	})
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func TestStatusChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		r, err := CreateRequestLog(ctx, db, "payload", LogOptions{Service: "psp"})
		if err != nil {
			t.Fatal(err)
		}
		past := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		dbtest.Exec(t, db, "UPDATE integration_requests SET created_at = ?, updated_at = ? WHERE id = ?", past, past, r.ID)

		tests := []struct {
			name       string
			change     func() error
			wantStatus Status
			wantOutput any
			wantError  any
		}{
			{"UpdateStatus", func() error { return UpdateStatus(ctx, db, r.ID, StatusAuthorized) }, StatusAuthorized, nil, nil},
			{"HandleSuccess", func() error { return HandleSuccess(ctx, db, r.ID, map[string]bool{"ok": true}) }, StatusCompleted, `{"ok":true}`, nil},
			{"HandleFailure", func() error { return HandleFailure(ctx, db, r.ID, errors.New("card declined")) }, StatusFailed, `{"ok":true}`, "card declined"},
		}
		for _, tt := range tests {
			before := time.Now().Add(-time.Second)
			if err := tt.change(); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			got := rowsByID(t, db)[r.ID]
			if got.Status != tt.wantStatus || deref(got.Output) != tt.wantOutput || deref(got.Error) != tt.wantError {
				t.Errorf("after %s: status %q, output %v, error %v; want %q, %v, %v",
					tt.name, got.Status, deref(got.Output), deref(got.Error), tt.wantStatus, tt.wantOutput, tt.wantError)
			}
			if !got.CreatedAt.Equal(past) || got.UpdatedAt.Before(before) {
				t.Errorf("after %s: created_at %v, updated_at %v; want %v unchanged, updated now", tt.name, got.CreatedAt, got.UpdatedAt, past)
			}
		}
		if got := rowsByID(t, db)[r.ID]; got.OutputSize != int64(len(`{"ok":true}`)) {
			t.Errorf("output_size = %d; want %d", got.OutputSize, len(`{"ok":true}`))
		}
	})
}

func TestStatusChangesNotFound(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		for name, change := range map[string]func() error{
			"UpdateStatus":  func() error { return UpdateStatus(ctx, db, "nope", StatusCancelled) },
			"HandleSuccess": func() error { return HandleSuccess(ctx, db, "nope", "out") },
			"HandleFailure": func() error { return HandleFailure(ctx, db, "nope", "err") },
		} {
			if err := change(); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s(unknown id) = %v; want ErrNotFound", name, err)
			}
		}
	})
}
