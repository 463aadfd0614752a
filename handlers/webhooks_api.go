package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// WebhookTargetCheck says whether a URL may receive webhooks; its refusals
// are ValidationErrors on "url". main passes the webhooks package's check
// with the operator's CALLBOOK_WEBHOOK_ALLOW_PRIVATE.
type WebhookTargetCheck func(ctx context.Context, rawURL string) error

// httpsOnly is the target check when none is given: absolute https URLs.
func httpsOnly(_ context.Context, raw string) error {
	if u, err := url.Parse(raw); err != nil || u.Scheme != "https" || u.Host == "" {
		return models.Invalid("url", "must be an absolute https URL (http is allowed only with CALLBOOK_WEBHOOK_ALLOW_PRIVATE=true)")
	}
	return nil
}

// WebhookData renders a change's payload data with the API's own shapes:
// {"booking": Booking with lead_id, "lead": Lead}, booking left out for
// lead events. main installs it with Store.SetWebhookRenderer, so the
// payload always carries what the API shows.
func (s *Server) WebhookData(c models.WebhookChange) (json.RawMessage, error) {
	data := map[string]any{"lead": toLeadJSON(c.Lead)}
	if c.Booking != nil {
		b := s.toBookingJSON(c.Booking, c.HostName)
		if len(c.Hosts) > 0 {
			b.Hosts = make([]hostRef, len(c.Hosts))
			for i, h := range c.Hosts {
				b.Hosts[i] = hostRef{h.ID, h.Name}
			}
		}
		lead := c.Booking.LeadID
		b.LeadID = &lead
		data["booking"] = b
	}
	return json.Marshal(data)
}

// webhookJSON is a webhook as the API shows it; Secret only at creation.
type webhookJSON struct {
	ID           uint     `json:"id"`
	URL          string   `json:"url"`
	Events       []string `json:"events"`
	Secret       string   `json:"secret,omitempty"`
	CreatedAt    string   `json:"created_at"`
	State        string   `json:"state"`
	Failures     int      `json:"consecutive_failures"`
	FailingSince *string  `json:"failing_since"`
	DisabledAt   *string  `json:"disabled_at"`
	LastError    string   `json:"last_error"`
}

func toWebhookJSON(w *models.Webhook) webhookJSON {
	return webhookJSON{
		ID: w.ID, URL: w.URL, Events: w.EventList(), CreatedAt: rfc3339(w.CreatedAt), State: w.State(), Failures: w.Failures,
		FailingSince: optRFC3339(w.FailingSince), DisabledAt: optRFC3339(w.DisabledAt), LastError: w.LastError,
	}
}

// deliveryJSON is one delivery and its last attempt.
type deliveryJSON struct {
	ID            uint    `json:"id"`
	MessageID     string  `json:"message_id"`
	Type          string  `json:"type"`
	Status        string  `json:"status"`
	Attempts      int     `json:"attempts"`
	LeadID        uint    `json:"lead_id"`
	BookingID     *uint   `json:"booking_id"`
	StatusCode    int     `json:"status_code"`
	DurationMS    int64   `json:"duration_ms"`
	Response      string  `json:"response"`
	Error         string  `json:"error"`
	NextAttemptAt *string `json:"next_attempt_at"`
	LastAttemptAt *string `json:"last_attempt_at"`
	DeliveredAt   *string `json:"delivered_at"`
	CreatedAt     string  `json:"created_at"`
}

func toDeliveryJSON(d *models.WebhookDelivery) deliveryJSON {
	out := deliveryJSON{
		ID: d.ID, MessageID: d.MessageID, Type: d.Type, Status: d.Status, Attempts: d.Attempts, LeadID: d.LeadID,
		BookingID: d.BookingID, StatusCode: d.LastStatusCode, DurationMS: d.LastDurationMS, Response: d.LastResponse,
		Error: d.LastError, LastAttemptAt: optRFC3339(d.LastAttemptAt), DeliveredAt: optRFC3339(d.DeliveredAt),
		CreatedAt: rfc3339(d.CreatedAt),
	}
	if d.Status == models.DeliveryPending || d.Status == models.DeliverySending {
		out.NextAttemptAt = optRFC3339(&d.NextAttemptAt)
	}
	return out
}

// webhookInput is the body of POST /api/v1/admin/webhooks.
type webhookInput struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// createWebhook checks the target and stores the webhook.
func (s *Server) createWebhook(c *gin.Context, in webhookInput) (*models.Webhook, error) {
	if err := s.webhookTargets(c.Request.Context(), in.URL); err != nil {
		return nil, err
	}
	return s.store.CreateWebhook(c.Request.Context(), models.WebhookInput{URL: in.URL, Events: in.Events}, staffUser(c))
}

// apiCreateWebhook adds a webhook (POST /api/v1/admin/webhooks, admin); the
// answer is the only time its secret is shown.
func (s *Server) apiCreateWebhook(c *gin.Context) {
	var in webhookInput
	if _, err := readJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	w, err := s.createWebhook(c, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := toWebhookJSON(w)
	out.Secret = w.Secret
	c.JSON(http.StatusCreated, gin.H{"webhook": out})
}

// apiWebhooks lists webhooks (GET /api/v1/admin/webhooks, admin).
func (s *Server) apiWebhooks(c *gin.Context) {
	hooks, err := s.store.ListWebhooks(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"webhooks": each(hooks, toWebhookJSON)})
}

// apiDeleteWebhook removes a webhook and its deliveries (DELETE
// /api/v1/admin/webhooks/{id}, admin) → 204.
func (s *Server) apiDeleteWebhook(c *gin.Context) {
	if _, ok := s.onWebhook(c, s.store.DeleteWebhook); ok {
		c.Status(http.StatusNoContent)
	}
}

// apiWebhookDeliveries lists a webhook's latest deliveries, newest first
// (GET /api/v1/admin/webhooks/{id}/deliveries?limit=, admin).
func (s *Server) apiWebhookDeliveries(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	limit, err := queryLimit(c.Query("limit"), 50, 500)
	if err != nil {
		s.fail(c, err)
		return
	}
	rows, err := s.store.ListWebhookDeliveries(c.Request.Context(), id, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": each(rows, toDeliveryJSON)})
}

// apiRetryDelivery sends a delivery again as soon as possible (POST
// /api/v1/admin/webhooks/{id}/deliveries/{delivery_id}/retry, admin) →
// 202 with the delivery, now pending.
func (s *Server) apiRetryDelivery(c *gin.Context) {
	hookID, id, err := s.retryDelivery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.store.WebhookDeliveryByID(c.Request.Context(), hookID, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"delivery": toDeliveryJSON(d)})
}

// retryDelivery retries the delivery the path names and returns the ids of
// its webhook and of the delivery.
func (s *Server) retryDelivery(c *gin.Context) (hookID, id uint, err error) {
	if hookID, err = pathID(c, "id"); err != nil {
		return 0, 0, err
	}
	if id, err = pathID(c, "delivery_id"); err != nil {
		return 0, 0, err
	}
	return hookID, id, s.store.RetryWebhookDelivery(c.Request.Context(), hookID, id)
}
