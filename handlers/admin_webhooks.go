package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// webhookRow is one webhook in the staff list, with its deliveries by status.
type webhookRow struct {
	models.Webhook
	Counts map[string]int64
}

// adminWebhooks lists webhooks with their state and the add form
// (GET /admin/webhooks).
func (s *Server) adminWebhooks(c *gin.Context) {
	s.renderWebhooks(c, http.StatusOK, webhookInput{Events: []string{models.WebhookAllEvents}}, nil, nil)
}

// renderWebhooks shows the list; created, when set, is a webhook just
// added, whose secret is shown this once.
func (s *Server) renderWebhooks(c *gin.Context, status int, form webhookInput, errs map[string]string, created *models.Webhook) {
	ctx := c.Request.Context()
	hooks, err := s.store.ListWebhooks(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	counts, err := s.store.WebhookDeliveryCounts(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	rows := make([]webhookRow, len(hooks))
	for i, h := range hooks {
		rows[i] = webhookRow{Webhook: h, Counts: counts[h.ID]}
	}
	s.render(c, status, "admin/webhooks.html", gin.H{
		"Title": "Webhooks", "Nav": "webhooks", "Hooks": rows, "Form": form, "Errors": errs, "Created": created,
		"EventTypes": models.WebhookEventTypes(), "Deleted": c.Query("deleted") != "",
	})
}

// adminAddWebhook adds a webhook from the form (POST /admin/webhooks) and
// shows its secret once; bad input re-shows the form with it kept.
func (s *Server) adminAddWebhook(c *gin.Context) {
	in := webhookInput{URL: strings.TrimSpace(c.PostForm("url")), Events: c.PostFormArray("events")}
	w, err := s.createWebhook(c, in)
	var verr *models.ValidationError
	switch {
	case errors.As(err, &verr):
		s.renderWebhooks(c, http.StatusUnprocessableEntity, in, verr.Fields, nil)
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	s.renderWebhooks(c, http.StatusCreated, webhookInput{Events: []string{models.WebhookAllEvents}}, nil, w)
}

// adminWebhook shows one webhook and its latest deliveries: status code,
// time taken, the start of the answer, and the next try
// (GET /admin/webhooks/:id).
func (s *Server) adminWebhook(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	w, err := s.store.WebhookByID(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	rows, err := s.store.ListWebhookDeliveries(ctx, id, 100)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "admin/webhook.html", gin.H{
		"Title": "Webhook " + strconv.FormatUint(uint64(id), 10), "Nav": "webhooks", "W": w, "Rows": rows,
		"Retried": c.Query("retried") != "", "Enabled": c.Query("enabled") != "",
	})
}

// adminDeleteWebhook removes a webhook (POST /admin/webhooks/:id/delete).
func (s *Server) adminDeleteWebhook(c *gin.Context) {
	if _, ok := s.onWebhook(c, s.store.DeleteWebhook); ok {
		c.Redirect(http.StatusSeeOther, "/admin/webhooks?deleted=1")
	}
}

// adminEnableWebhook lets a disabled webhook receive again
// (POST /admin/webhooks/:id/enable).
func (s *Server) adminEnableWebhook(c *gin.Context) {
	if id, ok := s.onWebhook(c, s.store.EnableWebhook); ok {
		c.Redirect(http.StatusSeeOther, "/admin/webhooks/"+strconv.FormatUint(uint64(id), 10)+"?enabled=1")
	}
}

// onWebhook applies act to the webhook the path names; on failure it has
// rendered the error and returns false.
func (s *Server) onWebhook(c *gin.Context, act func(ctx context.Context, id uint) error) (uint, bool) {
	id, err := pathID(c, "id")
	if err == nil {
		err = act(c.Request.Context(), id)
	}
	if err != nil {
		s.fail(c, err)
		return 0, false
	}
	return id, true
}

// adminRetryDelivery sends a delivery again
// (POST /admin/webhooks/:id/deliveries/:delivery_id/retry).
func (s *Server) adminRetryDelivery(c *gin.Context) {
	hookID, _, err := s.retryDelivery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/webhooks/"+strconv.FormatUint(uint64(hookID), 10)+"?retried=1")
}
