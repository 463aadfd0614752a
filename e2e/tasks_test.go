package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callbook/callbook/models"
)

// A sales person adds a task on the lead page without JavaScript, moves
// it to tomorrow, finds it under "My tasks" and ticks it off there. Both
// pages pass axe.
func TestTasks_AddMoveAndTickOffWithoutJavaScript(t *testing.T) {
	a := startApp(t)
	axe := loadAxe(t)
	a.mustStaff(t, "sam@callbook.test", models.RoleSales)
	a.bookViaAPIWith(t, map[string]any{"email": "grace@example.com", "timezone": businessZone})
	lead := a.leadByEmail(t, "grace@example.com")
	b := newBrowser(t)
	b.setViewport(desktopWidth, screenHeight(desktopWidth))
	leadPage := fmt.Sprintf("/admin/leads/%d", lead.ID)
	b.signIn(a.URL, leadPage, "sam@callbook.test")
	b.do(noScript(), chromedp.Navigate(a.URL+leadPage),
		chromedp.WaitVisible(chromedp.CSS("#task_body")),
		chromedp.SendKeys(chromedp.CSS("#task_body"), "Send the salary guide"),
		chromedp.Click(chromedp.CSS(`form[action$="/tasks"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.task form.task-edit`)),
	)
	tomorrow := time.Now().In(a.Store.Location()).AddDate(0, 0, 1).Format(time.DateOnly)
	b.do(chromedp.SetValue(chromedp.CSS(`.task-edit input[type="date"]`), tomorrow),
		chromedp.Click(chromedp.CSS(`.task-edit button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.task-edit input[value="`+tomorrow+`"]`)),
	)
	if got := b.attr(`.task-edit input[type="date"]`, "value"); got != tomorrow {
		t.Fatalf("due %q after moving it, want %s", got, tomorrow)
	}
	b.do(scriptOn())
	b.axeCheck(axe, "lead page with a task")
	b.do(noScript(), chromedp.Navigate(a.URL+"/admin/tasks"), chromedp.WaitVisible(chromedp.CSS("#later-h")))
	if later := b.text(`section[aria-labelledby="later-h"]`); !strings.Contains(later, "Send the salary guide") || !strings.Contains(later, "Grace Hopper") {
		t.Fatalf("My tasks, later: %q", later)
	}
	b.do(scriptOn())
	b.axeCheck(axe, "my tasks")
	b.do(noScript(), chromedp.Click(chromedp.CSS(`section[aria-labelledby="later-h"] button[name="done"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`section[aria-labelledby="later-h"] button[name="done"]`)),
	)
	if later := b.text(`section[aria-labelledby="later-h"]`); strings.Contains(later, "Send the salary guide") {
		t.Fatalf("the task is still open after ticking it off: %q", later)
	}
	var task models.Task
	if err := a.Store.DB().Where("lead_id = ?", lead.ID).Take(&task).Error; err != nil || task.DoneAt == nil || task.Due != tomorrow {
		t.Fatalf("task %+v (%v)", task, err)
	}
}
