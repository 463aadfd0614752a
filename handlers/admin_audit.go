package handlers

import (
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// Audit log page sizes (docs/openapi.yaml).
const (
	auditPageLimit  = 100
	auditStaffLimit = 50
)

// Retention is the data-retention policy in force, for the staff area.
type Retention struct {
	// Audit is how long audit entries are kept (CALLBOOK_AUDIT_RETENTION).
	Audit time.Duration
	// Leads erases leads inactive this long (CALLBOOK_RETENTION_LEADS);
	// zero: off.
	Leads time.Duration
	// NextRun is when the nightly clean-up and retention run next; may be nil.
	NextRun func() time.Time
}

// auditQuery is the audit log's URL query, shared by the API, the staff
// page and the CSV download.
type auditQuery struct {
	ActorID, Action, TargetType, TargetID, From, To, Cursor string
}

func readAuditQuery(v url.Values) auditQuery {
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	return auditQuery{ActorID: get("actor_id"), Action: get("action"), TargetType: get("target_type"),
		TargetID: get("target_id"), From: get("from"), To: get("to"), Cursor: get("cursor")}
}

// values writes the filters back, without empty fields and the cursor.
func (q auditQuery) values() url.Values {
	v := url.Values{}
	for k, val := range map[string]string{"actor_id": q.ActorID, "action": q.Action, "target_type": q.TargetType,
		"target_id": q.TargetID, "from": q.From, "to": q.To} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

// filter validates the query. from and to are calendar days in the
// business zone (to included) or RFC 3339 instants (to excluded).
func (q auditQuery) filter(loc *time.Location) (store.AuditFilter, error) {
	verr := &models.ValidationError{}
	f := store.AuditFilter{Action: q.Action, TargetType: q.TargetType}
	f.ActorID = queryUint(verr, "actor_id", q.ActorID)
	f.TargetID = queryUint(verr, "target_id", q.TargetID)
	if len(f.Action) > 64 {
		verr.Add("action", "must be at most 64 characters")
	}
	if len(f.TargetType) > 32 {
		verr.Add("target_type", "must be at most 32 characters")
	}
	f.From = parseDay(verr, "from", q.From, loc, false)
	f.To = parseDay(verr, "to", q.To, loc, true)
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		verr.Add("to", "must be after from")
	}
	return f, verr.Err()
}

// queryUint reads an optional id; "" is nil.
func queryUint(verr *models.ValidationError, field, s string) *uint {
	if s == "" {
		return nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		verr.Add(field, "must be a whole number")
		return nil
	}
	id := uint(n)
	return &id
}

// apiAudit lists audit entries newest first, filtered and paged by cursor
// (GET /api/v1/admin/audit, admin).
func (s *Server) apiAudit(c *gin.Context) {
	q := readAuditQuery(c.Request.URL.Query())
	f, err := q.filter(s.store.Location())
	if err != nil {
		s.fail(c, err)
		return
	}
	servePage(s, c, "entries", auditPageLimit, store.MaxAuditPage, func(limit int) ([]models.AuditEntry, string, error) {
		return s.store.ListAudit(c.Request.Context(), f, limit, q.Cursor)
	}, (*models.AuditEntry).JSON)
}

// apiAuditCSV downloads the audit entries matching the filters as CSV
// (GET /api/v1/admin/audit/export.csv, admin), every cell safe for
// spreadsheets. The download is itself audited, before the first row
// leaves.
func (s *Server) apiAuditCSV(c *gin.Context) {
	q := readAuditQuery(c.Request.URL.Query())
	f, err := q.filter(s.store.Location())
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if err := s.store.RecordAuditExport(ctx, q.values()); err != nil {
		s.fail(c, err)
		return
	}
	name := "callbook-audit-" + s.now().In(s.store.Location()).Format("2006-01-02") + ".csv"
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Status(http.StatusOK)
	w := csv.NewWriter(c.Writer)
	if err := w.Write(models.AuditCSVColumns); err != nil {
		return
	}
	err = s.store.EachAudit(ctx, f, func(e *models.AuditEntry) error { return w.Write(e.CSVRecord()) })
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	if err != nil && ctx.Err() == nil {
		s.log.Error("audit download failed midway", "err", err)
	}
}

// auditRow is one entry on the staff page.
type auditRow struct {
	models.AuditEntry
	Details string
}

// adminAudit is the audit log page (GET /admin/audit, admin): the entries
// matching the filters, newest first, a page at a time, with the CSV
// download of the same filters and the retention policy in force.
func (s *Server) adminAudit(c *gin.Context) {
	q := readAuditQuery(c.Request.URL.Query())
	data := gin.H{"Title": "Audit log", "Nav": "audit", "Q": q, "Actions": models.AuditActions,
		"Retention": s.retentionView()}
	f, err := q.filter(s.store.Location())
	var verr *models.ValidationError
	if errors.As(err, &verr) {
		data["Errors"] = verr.Fields
		s.render(c, http.StatusUnprocessableEntity, "admin/audit.html", data)
		return
	}
	rows, next, err := s.store.ListAudit(c.Request.Context(), f, auditStaffLimit, q.Cursor)
	if err != nil {
		s.fail(c, err)
		return
	}
	view := make([]auditRow, len(rows))
	for i := range rows {
		view[i] = auditRow{AuditEntry: rows[i], Details: rows[i].Details}
		if view[i].Details == "{}" {
			view[i].Details = ""
		}
	}
	filters := q.values()
	data["Rows"], data["Filtered"] = view, len(filters) > 0
	data["CSVURL"] = "/api/v1/admin/audit/export.csv?" + filters.Encode()
	if next != "" {
		filters.Set("cursor", next)
		data["NextURL"] = "/admin/audit?" + filters.Encode()
	}
	s.render(c, http.StatusOK, "admin/audit.html", data)
}

// retentionView says, for the staff area, what is kept how long and when
// the next nightly run is.
func (s *Server) retentionView() gin.H {
	v := gin.H{"Audit": humanDuration(s.retention.Audit), "Leads": ""}
	if s.retention.Leads > 0 {
		v["Leads"] = humanDuration(s.retention.Leads)
	}
	if s.retention.NextRun != nil {
		if t := s.retention.NextRun(); !t.IsZero() {
			v["NextRun"] = t.In(s.store.Location())
		}
	}
	return v
}

// humanDuration writes d in days when it is whole days ("365 days"), else
// as Go writes it.
func humanDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return strconv.Itoa(n) + " days"
	}
	return d.String()
}
