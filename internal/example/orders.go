package example

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/apitemplate/server/internal/httperr"
	"github.com/apitemplate/server/internal/integration"
	"github.com/apitemplate/server/internal/normalize"
	"github.com/apitemplate/server/internal/redact"
)

// Errors of the orders endpoint: the ERP is another company's system, so its failures are a
// 502 for our client, never a 500.
var (
	ErrERPRejected    = httperr.Define(http.StatusBadGateway, "502-001", "The ERP rejected order {order_id} with status {status}")
	ErrERPUnreachable = httperr.Define(http.StatusBadGateway, "502-002", "The ERP could not be reached")
)

// ERP is how the orders endpoint reaches the ERP: its base URL, its token, and the recording
// client (integration.NewClient), so every call lands in the integration log.
type ERP struct {
	URL    string
	Token  string
	Client *integration.Client
}

// createOrder forwards the order JSON, unchanged, to the ERP's POST /orders and returns the
// ERP's answer. The call is recorded with service "erp" and reference Order + order_id.
func (m *Module) createOrder(c echo.Context) (json.RawMessage, error) {
	req := c.Request()
	if mediaType, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); mediaType != echo.MIMEApplicationJSON {
		return nil, httperr.UnsupportedMediaType.New("content_type", cmp.Or(mediaType, "(none)"))
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err // a body over BODY_LIMIT is a 413 (httperr.From)
	}
	var order struct {
		OrderID json.RawMessage `json:"order_id"`
	}
	if err := json.Unmarshal(body, &order); err != nil {
		return nil, httperr.MalformedJSON.Wrap(err, "problem", "want a JSON object")
	}
	orderID := jsonScalar(order.OrderID)
	if orderID == "" {
		return nil, httperr.MissingField.New("placeholder", "order_id")
	}

	ctx := integration.WithReference(req.Context(), "Order", orderID)
	if user, ok := c.Get(normalize.UserKey).(string); ok {
		ctx = integration.WithOwner(ctx, user)
	}
	answer, status, err := m.erp.post(ctx, "/orders", body)
	if err != nil {
		return nil, ErrERPUnreachable.Wrap(err)
	}
	if status < 200 || status > 299 {
		// The ERP's answer helps the client fix its order, but it is another system's text:
		// redact it as the integration log does, in case it repeats our token.
		var secrets redact.Secrets
		secrets.Add(m.erp.Token)
		answer = redact.Standard().Body(answer, "application/json", false, &secrets)
		return nil, ErrERPRejected.New("order_id", orderID, "status", status).
			WithData(map[string]any{"erp_response": json.RawMessage(answer)})
	}
	return answer, nil
}

func (e *ERP) post(ctx context.Context, path string, body []byte) (answer []byte, status int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL+path, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.Token)
	resp, err := e.Client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("post %s: %w", path, err)
	}
	defer resp.Body.Close()
	answer, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("read %s answer: %w", path, err)
	}
	if !json.Valid(answer) {
		answer, _ = json.Marshal(string(answer)) // keep a non-JSON answer readable in the envelope
	}
	return answer, resp.StatusCode, nil
}

// jsonScalar returns a JSON string or number as text ("42" for both 42 and "42"), else "".
func jsonScalar(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if _, err := strconv.ParseFloat(n.String(), 64); err == nil {
			return n.String()
		}
	}
	return ""
}
