package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// taskJSON is the API's Task object (docs/openapi.yaml).
type taskJSON struct {
	ID        uint       `json:"id"`
	LeadID    uint       `json:"lead_id"`
	Body      string     `json:"body"`
	Due       string     `json:"due"`
	DoneAt    *string    `json:"done_at"`
	Assignee  authorJSON `json:"assignee"`
	CreatedAt string     `json:"created_at"`
}

func toTaskJSON(t *models.TaskRow) taskJSON {
	return taskJSON{ID: t.ID, LeadID: t.LeadID, Body: t.Body, Due: t.Due, DoneAt: optRFC3339(t.DoneAt),
		Assignee: authorJSON{ID: t.AssigneeID, Name: t.AssigneeName}, CreatedAt: rfc3339(t.CreatedAt)}
}

// taskInput is the body of POST /api/v1/admin/leads/{id}/tasks.
type taskInput struct {
	Body       string `json:"body"`
	Due        string `json:"due"`
	AssigneeID uint   `json:"assignee_id"`
}

// taskPatch is the body of PATCH /api/v1/admin/leads/{id}/tasks/{task_id}.
type taskPatch struct {
	Body       *string `json:"body"`
	Due        *string `json:"due"`
	AssigneeID *uint   `json:"assignee_id"`
	Done       *bool   `json:"done"`
}

// apiAddTask gives a lead a task (POST /api/v1/admin/leads/{id}/tasks): 201.
func (s *Server) apiAddTask(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	var in taskInput
	if _, err := readJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.store.AddTask(c.Request.Context(), id, in.Body, in.Due, in.AssigneeID, staffUser(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"task": toTaskJSON(t)})
}

// apiUpdateTask ticks a task off or changes it
// (PATCH /api/v1/admin/leads/{id}/tasks/{task_id}).
func (s *Server) apiUpdateTask(c *gin.Context) {
	leadID, taskID, err := taskPath(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var p taskPatch
	if _, err := readJSON(c, &p); err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.store.UpdateTask(c.Request.Context(), leadID, taskID,
		models.TaskChange{Body: p.Body, Due: p.Due, AssigneeID: p.AssigneeID, Done: p.Done}, staffUser(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"task": toTaskJSON(t)})
}

// apiTasks lists tasks (GET /api/v1/admin/tasks): by default the caller's
// open ones, soonest due first.
func (s *Server) apiTasks(c *gin.Context) {
	f := models.TaskFilter{AssigneeID: staffUser(c).ID, OpenOnly: true, DueBefore: strings.TrimSpace(c.Query("due_before"))}
	verr := &models.ValidationError{}
	if v := strings.TrimSpace(c.Query("assignee_id")); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			verr.Add("assignee_id", "must be a staff user's id")
		}
		f.AssigneeID = uint(n)
	}
	switch c.Query("open") {
	case "", "true":
	case "false":
		f.OpenOnly = false
	default:
		verr.Add("open", "must be true or false")
	}
	if err := verr.Err(); err != nil {
		s.fail(c, err)
		return
	}
	rows, err := s.store.ListTasks(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tasks": each(rows, toTaskJSON)})
}

// taskPath reads a task's lead id and its own id from the path.
func taskPath(c *gin.Context) (leadID, taskID uint, err error) {
	if leadID, err = pathID(c, "id"); err != nil {
		return 0, 0, err
	}
	taskID, err = pathID(c, "task_id")
	return leadID, taskID, err
}

// myTaskView is one task on the "My tasks" page.
type myTaskView struct {
	models.TaskRow
	Overdue, Today bool
}

// adminMyTasks is the "My tasks" page (GET /admin/tasks): the signed-in
// person's open tasks, overdue and due today first, then the later ones.
func (s *Server) adminMyTasks(c *gin.Context) {
	rows, err := s.store.ListTasks(c.Request.Context(), models.TaskFilter{AssigneeID: staffUser(c).ID, OpenOnly: true})
	if err != nil {
		s.fail(c, err)
		return
	}
	today := s.now().In(s.store.Location()).Format("2006-01-02")
	var now, later []myTaskView
	for _, r := range rows {
		v := myTaskView{TaskRow: r, Overdue: r.Due < today, Today: r.Due == today}
		if r.Due <= today {
			now = append(now, v)
		} else {
			later = append(later, v)
		}
	}
	s.render(c, http.StatusOK, "admin/tasks.html", gin.H{"Title": "My tasks", "Nav": "tasks", "Now": now, "Later": later, "Today": today})
}

// adminAddTask adds a task from the lead page (POST /admin/leads/:id/tasks).
func (s *Server) adminAddTask(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	assignee, _ := strconv.ParseUint(c.PostForm("assignee_id"), 10, 32)
	_, err = s.store.AddTask(c.Request.Context(), id, c.PostForm("body"), c.PostForm("due"), uint(assignee), staffUser(c))
	var verr *models.ValidationError
	switch {
	case errors.As(err, &verr):
		s.renderLead(c, http.StatusUnprocessableEntity, &leadPageForm{TaskBody: c.PostForm("body"), TaskDue: c.PostForm("due")},
			map[string]string{"task_body": verr.Fields["body"], "task_due": verr.Fields["due"], "task_assignee": verr.Fields["assignee_id"]})
	case err != nil:
		s.fail(c, err)
	default:
		c.Redirect(http.StatusSeeOther, leadPath(id)+"#tasks")
	}
}

// adminUpdateTask ticks a task off, or changes its due date or assignee,
// from the lead page or "My tasks" (POST /admin/leads/:id/tasks/:task_id).
func (s *Server) adminUpdateTask(c *gin.Context) {
	leadID, taskID, err := taskPath(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var ch models.TaskChange
	switch c.PostForm("done") {
	case "true":
		done := true
		ch.Done = &done
	case "false":
		done := false
		ch.Done = &done
	}
	if v, ok := c.GetPostForm("due"); ok {
		ch.Due = &v
	}
	if v, ok := c.GetPostForm("assignee_id"); ok {
		n, _ := strconv.ParseUint(v, 10, 32)
		a := uint(n)
		ch.AssigneeID = &a
	}
	_, err = s.store.UpdateTask(c.Request.Context(), leadID, taskID, ch, staffUser(c))
	var verr *models.ValidationError
	switch {
	case errors.As(err, &verr):
		s.renderLead(c, http.StatusUnprocessableEntity, nil, map[string]string{"task": verr.Error()})
	case err != nil:
		s.fail(c, err)
	case c.PostForm("back") == "tasks":
		c.Redirect(http.StatusSeeOther, "/admin/tasks")
	default:
		c.Redirect(http.StatusSeeOther, leadPath(leadID)+"#tasks")
	}
}

func leadPath(id uint) string { return "/admin/leads/" + strconv.FormatUint(uint64(id), 10) }
