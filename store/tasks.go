package store

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// maxTaskLen bounds a task's text.
const maxTaskLen = 500

// maxTasks bounds one task list.
const maxTasks = 500

// AddTask gives a live lead a task, due on a business date and assigned to
// a staff member who can sign in (the author when assignee is 0), with
// task.added on the lead's timeline in the same transaction. ErrNotFound for
// no such lead; a ValidationError for a bad body, date or assignee.
func (s *Store) AddTask(ctx context.Context, leadID uint, body, due string, assignee uint, author *models.User) (*models.TaskRow, error) {
	ctx, now := s.withTxNow(ctx)
	verr := &models.ValidationError{}
	body = models.CheckMultiline(verr, "body", body, maxTaskLen)
	if body == "" {
		verr.Add("body", "is required")
	}
	due, derr := models.CheckTaskDue(due)
	if derr != nil {
		verr.Add("due", "must be a date written YYYY-MM-DD")
	}
	if err := verr.Err(); err != nil {
		return nil, err
	}
	if assignee == 0 {
		assignee = author.ID
	}
	t := &models.Task{LeadID: leadID, Body: body, Due: due, AssigneeID: assignee, CreatedBy: author.ID, CreatedAt: now, UpdatedAt: now}
	err := s.tx(withUserActor(ctx, author), func(tx *gorm.DB) error {
		if err := liveLead(tx, leadID); err != nil {
			return err
		}
		if err := taskAssignee(tx, assignee); err != nil {
			return err
		}
		if err := tx.Create(t).Error; err != nil {
			return err
		}
		data := map[string]any{"task_id": t.ID, "body": body, "due": due, "assignee_id": assignee}
		if err := s.addEvent(tx, leadID, 0, models.EventTaskAdded, models.ActorUser(author), data); err != nil {
			return err
		}
		return s.audit(tx, models.AuditLeadTaskAdded, models.AuditTarget{Type: models.AuditTargetLead, ID: leadID}, data)
	})
	if err != nil {
		return nil, err
	}
	return s.TaskByID(ctx, leadID, t.ID)
}

// UpdateTask changes a task of a live lead: its text, due date, assignee,
// or whether it is done (ticking it off records when; unticking clears
// it). Ticking off writes task.done on the lead's timeline in the same
// transaction. ErrNotFound when the task is not the lead's.
func (s *Store) UpdateTask(ctx context.Context, leadID, taskID uint, ch models.TaskChange, actor *models.User) (*models.TaskRow, error) {
	ctx, now := s.withTxNow(ctx)
	upd, verr := map[string]any{"updated_at": now}, &models.ValidationError{}
	if ch.Body != nil {
		b := models.CheckMultiline(verr, "body", *ch.Body, maxTaskLen)
		if b == "" {
			verr.Add("body", "is required")
		}
		upd["body"] = b
	}
	if ch.Due != nil {
		d, err := models.CheckTaskDue(*ch.Due)
		if err != nil {
			verr.Add("due", "must be a date written YYYY-MM-DD")
		}
		upd["due"] = d
	}
	if err := verr.Err(); err != nil {
		return nil, err
	}
	err := s.tx(withUserActor(ctx, actor), func(tx *gorm.DB) error {
		if err := liveLead(tx, leadID); err != nil {
			return err
		}
		var t models.Task
		if err := s.lockRows(tx.Where("id = ? AND lead_id = ?", taskID, leadID)).Take(&t).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return models.ErrNotFound
			}
			return err
		}
		if ch.AssigneeID != nil {
			if err := taskAssignee(tx, *ch.AssigneeID); err != nil {
				return err
			}
			upd["assignee_id"] = *ch.AssigneeID
		}
		ticked := ch.Done != nil && *ch.Done && t.DoneAt == nil
		if ch.Done != nil {
			switch {
			case ticked:
				upd["done_at"] = now
			case !*ch.Done:
				upd["done_at"] = nil
			}
		}
		if err := tx.Model(&models.Task{}).Where("id = ?", t.ID).Updates(upd).Error; err != nil {
			return err
		}
		changed := map[string]any{"task_id": t.ID}
		for k, v := range upd {
			if k != "updated_at" {
				changed[k] = v
			}
		}
		if err := s.audit(tx, models.AuditLeadTaskChanged, models.AuditTarget{Type: models.AuditTargetLead, ID: leadID}, changed); err != nil {
			return err
		}
		if !ticked {
			return nil
		}
		return s.addEvent(tx, leadID, 0, models.EventTaskDone, models.ActorUser(actor), map[string]any{"task_id": t.ID, "body": t.Body})
	})
	if err != nil {
		return nil, err
	}
	return s.TaskByID(ctx, leadID, taskID)
}

// liveLead returns ErrNotFound unless lead id exists and is not erased.
func liveLead(tx *gorm.DB, id uint) error {
	var live int64
	if err := tx.Model(&models.Lead{}).Where("id = ? AND erased_at IS NULL", id).Count(&live).Error; err != nil {
		return err
	}
	if live == 0 {
		return models.ErrNotFound
	}
	return nil
}

// taskAssignee checks that a task can go to user id: an enabled staff
// member.
func taskAssignee(tx *gorm.DB, id uint) error {
	var n int64
	if err := tx.Model(&models.User{}).Where("id = ? AND disabled = ?", id, false).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return models.Invalid("assignee_id", "must be an enabled staff user")
	}
	return nil
}

// taskQuery reads tasks with their assignee's and lead's names, leaving out
// erased leads' tasks.
func (s *Store) taskQuery(ctx context.Context) *gorm.DB {
	return s.read.WithContext(ctx).Table("tasks").
		Select("tasks.*, COALESCE(u.name, '') AS assignee_name, l.name AS lead_name").
		Joins("JOIN leads l ON l.id = tasks.lead_id AND l.erased_at IS NULL").
		Joins("LEFT JOIN users u ON u.id = tasks.assignee_id")
}

// TaskByID returns one task of a live lead, or ErrNotFound.
func (s *Store) TaskByID(ctx context.Context, leadID, taskID uint) (*models.TaskRow, error) {
	var rows []models.TaskRow
	if err := s.taskQuery(ctx).Where("tasks.id = ? AND tasks.lead_id = ?", taskID, leadID).Limit(1).Scan(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, models.ErrNotFound
	}
	return &rows[0], nil
}

// ListTasks returns the tasks matching f, soonest due first (open ones
// before done ones), at most 500.
func (s *Store) ListTasks(ctx context.Context, f models.TaskFilter) ([]models.TaskRow, error) {
	q := s.taskQuery(ctx)
	if f.AssigneeID != 0 {
		q = q.Where("tasks.assignee_id = ?", f.AssigneeID)
	}
	if f.LeadID != 0 {
		q = q.Where("tasks.lead_id = ?", f.LeadID)
	}
	if f.OpenOnly {
		q = q.Where("tasks.done_at IS NULL")
	}
	if f.DueBefore != "" {
		d, err := models.CheckTaskDue(f.DueBefore)
		if err != nil {
			return nil, models.Invalid("due_before", "must be a date written YYYY-MM-DD")
		}
		q = q.Where("tasks.due < ?", d)
	}
	rows := []models.TaskRow{}
	err := q.Order("CASE WHEN tasks.done_at IS NULL THEN 0 ELSE 1 END, tasks.due, tasks.id").Limit(maxTasks).Scan(&rows).Error
	return rows, err
}

// digestTasks lists each staff member's open tasks due on or before date,
// by assignee.
func digestTasks(tx *gorm.DB, date string) (map[uint][]models.DigestTask, error) {
	var rows []struct {
		models.DigestTask
		AssigneeID uint
	}
	err := tx.Table("tasks").Select("tasks.assignee_id, tasks.lead_id, tasks.body, tasks.due, l.name").
		Joins("JOIN leads l ON l.id = tasks.lead_id AND l.erased_at IS NULL").
		Where("tasks.done_at IS NULL AND tasks.due <= ?", date).
		Order("tasks.due, tasks.id").Scan(&rows).Error
	out := map[uint][]models.DigestTask{}
	for _, r := range rows {
		out[r.AssigneeID] = append(out[r.AssigneeID], r.DigestTask)
	}
	return out, err
}
