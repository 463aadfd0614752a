package models

import (
	"strings"
	"time"
)

// Task is a sales person's next step with a lead: "send the salary guide on
// Thursday". Due is a business date; DoneAt is set when it is ticked off.
type Task struct {
	ID         uint   `gorm:"primaryKey"`
	LeadID     uint   `gorm:"not null;index"`
	Body       string `gorm:"size:500;not null"`
	Due        string `gorm:"size:10;not null;index:ix_tasks_assignee_due,priority:2"` // YYYY-MM-DD, business time zone
	AssigneeID uint   `gorm:"not null;index:ix_tasks_assignee_due,priority:1"`
	DoneAt     *time.Time
	CreatedBy  uint      `gorm:"not null;default:0"`
	CreatedAt  time.Time `gorm:"not null"`
	UpdatedAt  time.Time `gorm:"not null"`
}

// TaskRow is a task with its assignee's name and its lead's, for lists.
type TaskRow struct {
	Task
	AssigneeName string
	LeadName     string
}

// TaskChange is a staff change to a task. Nil fields stay as they are.
type TaskChange struct {
	Body       *string
	Due        *string
	AssigneeID *uint
	Done       *bool
}

// TaskFilter selects tasks for GET /api/v1/admin/tasks and the "My tasks"
// page. Zero fields do not filter.
type TaskFilter struct {
	AssigneeID uint
	LeadID     uint
	OpenOnly   bool
	DueBefore  string // YYYY-MM-DD, exclusive
}

// CheckTaskDue validates a due date written YYYY-MM-DD.
func CheckTaskDue(due string) (string, error) {
	due = strings.TrimSpace(due)
	if _, err := time.Parse(time.DateOnly, due); err != nil {
		return "", Invalid("due", "must be a date written YYYY-MM-DD")
	}
	return due, nil
}

// Timeline events of tasks.
const (
	EventTaskAdded = "task.added"
	EventTaskDone  = "task.done"
)

// DigestTask is one open task, due that day or overdue, in its assignee's
// daily digest.
type DigestTask struct {
	LeadID uint   `json:"lead_id"`
	Name   string `json:"name"` // the lead's
	Body   string `json:"body"`
	Due    string `json:"due"`
}
