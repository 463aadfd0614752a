package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

type taskReply struct {
	Task taskJSON `json:"task"`
}

type tasksReply struct {
	Tasks []taskJSON `json:"tasks"`
}

// Sales add, tick off and move tasks on the leads they see; the task list
// defaults to the caller's open tasks; the lead counts its open tasks and
// the lead list filters by them.
func TestTasksAPI_SalesWorkTasksOnLeadsTheySee(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		lead, _ := e.mustBookLead("ada@example.com", 0, nil)
		other, _ := e.mustBookLead("bob@example.com", 1, nil)
		tasks := "/api/v1/admin/leads/" + itoa(int(lead)) + "/tasks"

		if w := e.api(nil, http.MethodPost, tasks, `{"body":"x","due":"2026-12-10"}`); w.Code != http.StatusUnauthorized {
			t.Fatalf("anonymous add: %d", w.Code)
		}
		w := e.api(sales, http.MethodPost, tasks, `{"body":"Send the salary guide","due":"2026-12-10"}`)
		mine := decode[taskReply](t, w).Task
		if w.Code != http.StatusCreated || mine.Assignee.ID != sales.User.ID || mine.Due != "2026-12-10" || mine.DoneAt != nil || mine.LeadID != lead {
			t.Fatalf("add: %d %s", w.Code, w.Body.String())
		}
		w = e.api(sales, http.MethodPost, tasks, `{"body":"Check the CV","due":"2026-12-09","assignee_id":`+itoa(int(admin.User.ID))+`}`)
		if w.Code != http.StatusCreated || decode[taskReply](t, w).Task.Assignee.Name != "admin" {
			t.Fatalf("add for the admin: %d %s", w.Code, w.Body.String())
		}
		for body, field := range map[string]string{
			`{"body":"","due":"2026-12-10"}`:                     "body",
			`{"body":"x","due":"10/12/2026"}`:                    "due",
			`{"body":"x","due":"2026-12-10","assignee_id":9999}`: "assignee_id",
		} {
			w := e.api(sales, http.MethodPost, tasks, body)
			if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `"`+field+`"`) {
				t.Errorf("%s: %d %s", body, w.Code, w.Body.String())
			}
		}
		if w := e.api(sales, http.MethodPost, "/api/v1/admin/leads/99999/tasks", `{"body":"x","due":"2026-12-10"}`); w.Code != http.StatusNotFound {
			t.Errorf("task on no lead: %d", w.Code)
		}

		w = e.api(sales, http.MethodGet, "/api/v1/admin/tasks", "")
		if got := decode[tasksReply](t, w).Tasks; w.Code != 200 || len(got) != 1 || got[0].ID != mine.ID {
			t.Fatalf("default list: %d %s", w.Code, w.Body.String())
		}
		w = e.api(sales, http.MethodGet, "/api/v1/admin/tasks?assignee_id="+itoa(int(admin.User.ID)), "")
		if got := decode[tasksReply](t, w).Tasks; len(got) != 1 || got[0].Body != "Check the CV" {
			t.Fatalf("the admin's tasks, as sales: %s", w.Body.String())
		}

		w = e.api(sales, http.MethodGet, "/api/v1/admin/leads/"+itoa(int(lead)), "")
		if l := decode[struct{ Lead leadJSON }](t, w).Lead; l.OpenTasks != 2 {
			t.Fatalf("open_tasks = %d, want 2", l.OpenTasks)
		}
		w = e.api(sales, http.MethodGet, "/api/v1/admin/leads?open_tasks=true", "")
		if ls := decode[struct{ Leads []leadJSON }](t, w).Leads; len(ls) != 1 || ls[0].ID != lead {
			t.Fatalf("leads with open tasks: %s", w.Body.String())
		}
		w = e.api(sales, http.MethodGet, "/api/v1/admin/leads?open_tasks=false", "")
		if ls := decode[struct{ Leads []leadJSON }](t, w).Leads; len(ls) != 1 || ls[0].ID != other {
			t.Fatalf("leads without open tasks: %s", w.Body.String())
		}

		one := tasks + "/" + itoa(int(mine.ID))
		w = e.api(sales, http.MethodPatch, one, `{"due":"2026-12-11","assignee_id":`+itoa(int(admin.User.ID))+`}`)
		if got := decode[taskReply](t, w).Task; w.Code != 200 || got.Due != "2026-12-11" || got.Assignee.ID != admin.User.ID {
			t.Fatalf("move: %d %s", w.Code, w.Body.String())
		}
		w = e.api(admin, http.MethodPatch, one, `{"done":true}`)
		if got := decode[taskReply](t, w).Task; w.Code != 200 || got.DoneAt == nil {
			t.Fatalf("tick off: %d %s", w.Code, w.Body.String())
		}
		if w := e.api(sales, http.MethodPatch, "/api/v1/admin/leads/"+itoa(int(other))+"/tasks/"+itoa(int(mine.ID)), `{"done":true}`); w.Code != http.StatusNotFound {
			t.Errorf("a task through another lead's path: %d", w.Code)
		}
		var added, changed int64
		e.store.DB().Model(&models.AuditEntry{}).Where("action = ?", models.AuditLeadTaskAdded).Count(&added)
		e.store.DB().Model(&models.AuditEntry{}).Where("action = ?", models.AuditLeadTaskChanged).Count(&changed)
		if added != 2 || changed != 2 {
			t.Errorf("audit: %d tasks added, %d changed; want 2 and 2", added, changed)
		}
		w = e.api(admin, http.MethodGet, "/api/v1/admin/tasks", "")
		if got := decode[tasksReply](t, w).Tasks; len(got) != 1 || got[0].Body != "Check the CV" {
			t.Fatalf("the admin's open tasks after one was done: %s", w.Body.String())
		}

		// The staff pages: add from the lead page, see it under My tasks,
		// tick it off there.
		w = e.page(sales, http.MethodPost, "/admin/leads/"+itoa(int(other))+"/tasks",
			url.Values{"body": {"Send <the> guide"}, "due": {"2020-01-01"}, "assignee_id": {itoa(int(sales.User.ID))}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("add from the page: %d %s", w.Code, w.Body.String())
		}
		w = e.page(sales, http.MethodGet, "/admin/tasks", nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), "Send &lt;the&gt; guide") || !strings.Contains(w.Body.String(), "Overdue") {
			t.Fatalf("my tasks: %d %s", w.Code, w.Body.String())
		}
		w = e.page(sales, http.MethodGet, "/admin/leads/"+itoa(int(other)), nil)
		if !strings.Contains(w.Body.String(), `id="tasks-h"`) || !strings.Contains(w.Body.String(), "Send &lt;the&gt; guide") {
			t.Fatalf("lead page lacks its task")
		}
	})
}

// Erasing a lead takes its tasks out of every list.
func TestTasksAPI_ErasedLeadsTasksAreGone(t *testing.T) {
	e := newTestServer(t, "sqlite")
	admin := e.mustStaff("admin@example.com", models.RoleAdmin)
	lead, _ := e.mustBookLead("ada@example.com", 0, nil)
	tasks := "/api/v1/admin/leads/" + itoa(int(lead)) + "/tasks"
	if w := e.api(admin, http.MethodPost, tasks, `{"body":"x","due":"2026-12-10"}`); w.Code != http.StatusCreated {
		t.Fatal(w.Body.String())
	}
	if w := e.api(admin, http.MethodDelete, "/api/v1/admin/leads/"+itoa(int(lead)), ""); w.Code != http.StatusNoContent {
		t.Fatal(w.Code)
	}
	if got := decode[tasksReply](t, e.api(admin, http.MethodGet, "/api/v1/admin/tasks", "")).Tasks; len(got) != 0 {
		t.Fatalf("an erased lead's task is listed: %+v", got)
	}
	if w := e.api(admin, http.MethodPost, tasks, `{"body":"x","due":"2026-12-10"}`); w.Code != http.StatusNotFound {
		t.Fatalf("a task on an erased lead: %d", w.Code)
	}
}
