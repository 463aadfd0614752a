package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// Lead list page size and the point past which its count reads "10,000+".
const (
	pageLeadLimit = 50
	maxLeadCount  = 10000
)

// leadListRow is one row of the lead list.
type leadListRow struct {
	models.LeadRow
	Source string
}

// adminLeads shows the lead list (GET /admin/leads): newest first,
// filtered by the URL query, with a count and a next-page link.
func (s *Server) adminLeads(c *gin.Context) {
	ctx := c.Request.Context()
	q := readLeadListQuery(c.Request.URL.Query())
	data := gin.H{"Title": "Leads", "Nav": "leads", "Q": q, "Statuses": models.LeadStatuses, "Erased": c.Query("erased") != "",
		"Count": 0, "Rows": []leadListRow{}}
	if err := s.leadChoices(c, data); err != nil {
		s.fail(c, err)
		return
	}
	f, err := q.filter(s.store.Location())
	var verr *models.ValidationError
	if errors.As(err, &verr) {
		data["Errors"] = verr.Fields
		s.render(c, http.StatusUnprocessableEntity, "admin/leads.html", data)
		return
	}
	rows, next, err := s.store.ListLeads(ctx, f, pageLeadLimit, q.Cursor)
	if errors.As(err, &verr) {
		data["Errors"] = verr.Fields
		s.render(c, http.StatusUnprocessableEntity, "admin/leads.html", data)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	// A text search reads every lead's name and email, so it is not run a
	// second time just to count: the page says how many it shows.
	count, more := int64(len(rows)), next != ""
	if f.Q == "" {
		if count, more, err = s.store.CountLeadsUpTo(ctx, f, maxLeadCount); err != nil {
			s.fail(c, err)
			return
		}
	}
	list := make([]leadListRow, len(rows))
	for i := range rows {
		list[i] = leadListRow{LeadRow: rows[i], Source: leadSource(&rows[i].Lead)}
	}
	base := q.values()
	data["Rows"], data["Count"], data["CountMore"], data["Searched"] = list, int(count), more, f.Q != ""
	data["Filtered"], data["FirstURL"] = len(base) > 0, "/admin/leads?"+base.Encode()
	if next != "" {
		base.Set("cursor", next)
		data["NextURL"] = "/admin/leads?" + base.Encode()
	}
	data["Paged"] = q.Cursor != ""
	s.render(c, http.StatusOK, "admin/leads.html", data)
}

// leadChoices adds the lists the filters and forms choose from: known
// target titles, staff who can own leads, and the business zone.
func (s *Server) leadChoices(c *gin.Context, data gin.H) error {
	titles, err := s.store.TargetTitles(c.Request.Context())
	if err != nil {
		return err
	}
	owners, err := s.store.StaffUsers(c.Request.Context())
	if err != nil {
		return err
	}
	data["Titles"], data["Owners"] = titles, owners
	data["AnswerChoices"] = s.answerChoices()
	return nil
}

// leadPageForm is what the lead page's change form holds.
type leadPageForm struct {
	Status, OwnerID, RecommendedTitle string
	Note                              string
	TaskBody, TaskDue                 string // a task being added
}

// adminLead shows one lead (GET /admin/leads/:id).
func (s *Server) adminLead(c *gin.Context) {
	s.renderLead(c, http.StatusOK, nil, nil)
}

// renderLeadWith shows the lead page with extra data (a link just made).
func (s *Server) renderLeadWith(c *gin.Context, extra gin.H) {
	s.renderLeadData(c, http.StatusOK, nil, nil, extra)
}

// renderLead shows the lead page; form and errors redisplay a failed post.
func (s *Server) renderLead(c *gin.Context, status int, form *leadPageForm, errs map[string]string) {
	s.renderLeadData(c, status, form, errs, nil)
}

func (s *Server) renderLeadData(c *gin.Context, status int, form *leadPageForm, errs map[string]string, extra gin.H) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.store.LeadDetail(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if form == nil || form.Status == "" {
		kept := leadPageForm{}
		if form != nil {
			kept = *form
		}
		form = &leadPageForm{Status: d.Lead.Status, RecommendedTitle: d.Lead.RecommendedTitle, Note: kept.Note,
			TaskBody: kept.TaskBody, TaskDue: kept.TaskDue}
		if d.Lead.OwnerID != nil {
			form.OwnerID = strconv.FormatUint(uint64(*d.Lead.OwnerID), 10)
		}
	}
	data := gin.H{
		"Title": d.Lead.Name, "Nav": "leads", "D": d, "Source": leadSource(&d.Lead.Lead), "Form": form, "Errors": errs,
		"Statuses": models.LeadStatuses, "Now": s.now(),
		"Role": s.content.Role(d.Lead.RoleSlug), "Saved": c.Query("saved") != "", "Back": c.Request.URL.Path,
	}
	if err := s.leadChoices(c, data); err != nil {
		s.fail(c, err)
		return
	}
	data["InactiveOwner"] = inactiveOwner(&d.Lead, data["Owners"].([]models.User))
	if data["Tasks"], err = s.store.ListTasks(c.Request.Context(), models.TaskFilter{LeadID: id}); err != nil {
		s.fail(c, err)
		return
	}
	data["Today"] = s.now().In(s.store.Location()).Format("2006-01-02")
	staff, err := s.store.ListUsers(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	data["Events"] = newTimeline(d, staff, s.store.Location(), s.now()).views(d.Events)
	data["FirstTouch"], data["LatestTouch"], data["TouchesDiffer"] = leadTouches(&d.Lead.Lead)
	data["Answers"] = s.answerRows(d.Lead.RoleSlug, d.Lead.AnswersJSON)
	data["LinkCalls"] = s.linkCalls(d.Lead.RoleSlug)
	for k, v := range extra {
		data[k] = v
	}
	s.render(c, status, "admin/lead.html", data)
}

// inactiveOwner is the lead's owner when they can no longer own leads
// (disabled), so the owner choice still shows them and saving the form
// does not silently clear them.
func inactiveOwner(l *models.LeadRow, owners []models.User) *models.User {
	if l.OwnerID == nil {
		return nil
	}
	for _, o := range owners {
		if o.ID == *l.OwnerID {
			return nil
		}
	}
	return &models.User{ID: *l.OwnerID, Name: l.OwnerName}
}

// adminUpdateLead saves the lead page's change form (POST /admin/leads/:id).
func (s *Server) adminUpdateLead(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	form := &leadPageForm{Status: c.PostForm("status"), OwnerID: c.PostForm("owner_id"), RecommendedTitle: c.PostForm("recommended_title")}
	ch := models.LeadChange{Status: &form.Status, RecommendedTitle: &form.RecommendedTitle, SetOwner: true}
	if form.OwnerID != "" {
		n, err := strconv.ParseUint(form.OwnerID, 10, 32)
		if err != nil {
			s.renderLead(c, http.StatusUnprocessableEntity, form, map[string]string{"owner_id": "choose a staff user"})
			return
		}
		owner := uint(n)
		ch.OwnerID = &owner
	}
	_, err = s.store.UpdateLead(c.Request.Context(), id, ch, staffUser(c))
	var verr *models.ValidationError
	switch {
	case errors.As(err, &verr):
		s.renderLead(c, http.StatusUnprocessableEntity, form, verr.Fields)
	case err != nil:
		s.fail(c, err)
	default:
		c.Redirect(http.StatusSeeOther, "/admin/leads/"+strconv.FormatUint(uint64(id), 10)+"?saved=1")
	}
}

// adminAddNote adds a note from the lead page (POST /admin/leads/:id/notes).
func (s *Server) adminAddNote(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	body := c.PostForm("body")
	_, err = s.store.AddNote(c.Request.Context(), id, body, staffUser(c))
	var verr *models.ValidationError
	switch {
	case errors.As(err, &verr):
		s.renderLead(c, http.StatusUnprocessableEntity, &leadPageForm{Note: body}, map[string]string{"note": verr.Fields["body"]})
	case err != nil:
		s.fail(c, err)
	default:
		c.Redirect(http.StatusSeeOther, "/admin/leads/"+strconv.FormatUint(uint64(id), 10)+"#notes")
	}
}

// eraseConfirmWord is what an admin types to confirm an erasure.
const eraseConfirmWord = "ERASE"

// adminEraseConfirm asks an admin to confirm erasing a lead
// (GET /admin/leads/:id/erase).
func (s *Server) adminEraseConfirm(c *gin.Context) {
	s.renderErase(c, http.StatusOK, "")
}

func (s *Server) renderErase(c *gin.Context, status int, msg string) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	row, err := s.store.LeadRowByID(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, status, "admin/lead_erase.html", gin.H{"Title": "Erase " + row.Name, "Nav": "leads", "L": row, "Error": msg, "Word": eraseConfirmWord})
}

// adminErase erases a lead once the admin has typed the confirmation word
// (POST /admin/leads/:id/erase).
func (s *Server) adminErase(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if c.PostForm("confirm") != eraseConfirmWord {
		s.renderErase(c, http.StatusUnprocessableEntity, "Type "+eraseConfirmWord+" in capitals to confirm.")
		return
	}
	if err := s.store.EraseLead(c.Request.Context(), id, staffUser(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/leads?erased=1")
}
