package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// apiExportLeads streams the leads matching the lead list's filters as
// CSV (GET /api/v1/admin/leads/export.csv, admin; docs/API.md, CSV export). Rows leave
// as they are read; a client that goes away stops the query. Every export
// writes its leads.exported audit entry before the first row leaves, and,
// finished or not, is recorded as a lead.exported event.
func (s *Server) apiExportLeads(c *gin.Context) {
	f, err := readLeadListQuery(c.Request.URL.Query()).filter(s.store.Location())
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.AuditExport(c.Request.Context(), f); err != nil {
		s.fail(c, err)
		return
	}
	name := "callbook-leads-" + s.now().In(s.store.Location()).Format("2006-01-02") + ".csv"
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	ctx := c.Request.Context()
	n, err := s.store.ExportLeads(ctx, f, c.Writer, nil)
	if rerr := s.store.RecordExport(context.WithoutCancel(ctx), models.ActorUser(staffUser(c)), f, n, err == nil); rerr != nil {
		s.log.Error("record export", "err", rerr)
	}
	switch {
	case err == nil:
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		s.log.Info("export stopped: client went away", "rows", n)
	case !c.Writer.Written():
		s.fail(c, err) // nothing sent yet: a clean error answer
	default:
		// The status is gone; the client sees a cut-off file.
		s.log.Error("export failed midway", "rows", n, "err", err)
	}
}

// adminExport is the export page (GET /admin/export, admin): the lead
// list's filters, prefilled from the URL, submitted straight to the CSV
// endpoint, with how many leads they match.
func (s *Server) adminExport(c *gin.Context) {
	q := readLeadListQuery(c.Request.URL.Query())
	data := gin.H{"Title": "Export leads", "Q": q, "Statuses": models.LeadStatuses}
	if err := s.leadChoices(c, data); err != nil {
		s.fail(c, err)
		return
	}
	f, err := q.filter(s.store.Location())
	var verr *models.ValidationError
	if errors.As(err, &verr) {
		data["Errors"] = verr.Fields
		s.render(c, http.StatusUnprocessableEntity, "admin/export.html", data)
		return
	}
	count, more, err := s.store.CountLeadsUpTo(c.Request.Context(), f, maxLeadCount)
	if err != nil {
		s.fail(c, err)
		return
	}
	data["Count"], data["CountMore"] = int(count), more
	data["CSVURL"] = "/api/v1/admin/leads/export.csv?" + q.values().Encode()
	data["ListURL"] = "/admin/leads?" + q.values().Encode()
	s.render(c, http.StatusOK, "admin/export.html", data)
}
