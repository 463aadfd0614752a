package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/pause"
)

// MailPreview is an outbox email rendered as it is (or was) sent.
type MailPreview struct {
	Subject string
	Text    string
	HTML    string
	ICS     []byte // the calendar attachment, nil when there is none
}

// MailViewer renders an outbox row for the staff mail viewer, exactly as
// the sender renders it. main adapts the mailer's renderer to it.
type MailViewer interface {
	ViewOutbox(row models.OutboxMessage) (MailPreview, error)
}

// MailViewerFunc lets a plain function be a MailViewer, so main can adapt
// the mailer without a named type:
//
//	handlers.MailViewerFunc(func(row models.OutboxMessage) (handlers.MailPreview, error) {
//		r, err := outbox.Render(row)
//		return handlers.MailPreview{Subject: r.Subject, Text: r.Text, HTML: r.HTML, ICS: r.ICS}, err
//	})
type MailViewerFunc func(row models.OutboxMessage) (MailPreview, error)

// ViewOutbox calls f.
func (f MailViewerFunc) ViewOutbox(row models.OutboxMessage) (MailPreview, error) { return f(row) }

// mailStatuses are the mail viewer's tabs, in order.
var mailStatuses = []string{models.OutboxFailed, models.OutboxPending, models.OutboxSending, models.OutboxSent, models.OutboxCanceled, models.OutboxSkipped}

// adminMail lists the outbox (GET /admin/mail?status=): counts per status,
// then the newest emails with attempts and last error.
func (s *Server) adminMail(c *gin.Context) {
	ctx := c.Request.Context()
	status := c.Query("status")
	rows, err := s.store.ListOutbox(ctx, status, 200)
	if err != nil {
		s.fail(c, err)
		return
	}
	counts, err := s.store.OutboxCounts(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	var paused pause.State
	if s.mailPause != nil {
		paused = s.mailPause()
	}
	views := make([]mailRow, len(rows))
	for i := range rows {
		views[i] = mailRow{OutboxMessage: rows[i], State: s.followupState(&rows[i])}
	}
	s.render(c, http.StatusOK, "admin/mail.html", gin.H{
		"Title": "Mail", "Nav": "mail", "Rows": views, "Counts": counts, "Statuses": mailStatuses, "Status": status,
		"Retried": c.Query("retried") != "",
		"Pause":   paused, "NoMailServer": s.noMailServer,
	})
}

// adminMailMessage shows one email as sent (GET /admin/mail/:id): its
// envelope, subject, text part, HTML part (in a sandboxed frame) and
// calendar file. Without a renderer it shows the stored snapshot.
func (s *Server) adminMailMessage(c *gin.Context) {
	m, ok := s.outboxRow(c)
	if !ok {
		return
	}
	data := gin.H{"Title": "Email " + strconv.FormatUint(uint64(m.ID), 10), "Nav": "mail", "M": m}
	if s.mailView != nil {
		p, err := s.mailView.ViewOutbox(*m)
		if err != nil {
			data["RenderError"] = err.Error()
		} else {
			data["P"], data["ICS"] = p, string(p.ICS)
		}
	} else {
		data["RenderError"] = "no renderer is configured in this process; showing the stored snapshot"
	}
	var snap any
	if json.Unmarshal([]byte(m.Payload), &snap) == nil {
		pretty, _ := json.MarshalIndent(snap, "", "  ")
		data["Snapshot"] = string(pretty)
	}
	s.render(c, http.StatusOK, "admin/mail_message.html", data)
}

// adminMailHTML serves an email's HTML part on its own, for the viewer's
// frame, under a policy that runs no script, loads nothing and may only be
// framed by this site.
func (s *Server) adminMailHTML(c *gin.Context) {
	m, ok := s.outboxRow(c)
	if !ok {
		return
	}
	if s.mailView == nil {
		s.fail(c, models.ErrNotFound)
		return
	}
	p, err := s.mailView.ViewOutbox(*m)
	if err != nil {
		s.fail(c, err)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(p.HTML))
}

func (s *Server) outboxRow(c *gin.Context) (*models.OutboxMessage, bool) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	m, err := s.store.OutboxByID(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return m, true
}

// adminRetryMail makes a failed email pending again (POST /admin/mail/:id/retry).
func (s *Server) adminRetryMail(c *gin.Context) {
	m, ok := s.outboxRow(c)
	if !ok {
		return
	}
	if err := s.store.RetryOutbox(c.Request.Context(), m.ID); err != nil {
		s.fail(c, err)
		return
	}
	var leadID uint
	if m.LeadID != nil {
		leadID = *m.LeadID
	}
	data := map[string]any{"outbox_id": m.ID, "kind": m.Kind}
	if err := s.store.AddEvent(leadID, "email.retried", models.ActorUser(staffUser(c)), data); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/mail?status=failed&retried=1")
}

// mailRow is one email on the mail page, with a follow-up's state in words.
type mailRow struct {
	models.OutboxMessage
	State string
}

// followupState says where a follow-up email stands: waiting until its
// due time, sent, or skipped and why. "" for other kinds.
func (s *Server) followupState(m *models.OutboxMessage) string {
	if !strings.HasPrefix(m.Kind, models.MailFollowupPrefix) {
		return ""
	}
	loc := s.store.Location()
	switch m.Status {
	case models.OutboxPending:
		return "Waiting until " + m.NextAttemptAt.In(loc).Format("Mon 2 Jan 15:04")
	case models.OutboxSent:
		if m.SentAt != nil {
			return "Sent " + m.SentAt.In(loc).Format("Mon 2 Jan 15:04")
		}
		return "Sent"
	case models.OutboxSkipped:
		return "Skipped: " + models.SkipReasonText(m.SkipReason)
	}
	return ""
}
