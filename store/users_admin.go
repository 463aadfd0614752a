package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// UpdateUser applies ch to user id on behalf of actor and returns the user
// as saved. It guarantees at least one enabled admin remains, and that an
// admin cannot disable or demote themselves. Disabling a user ends their
// sessions and revokes their API tokens in the same transaction; a change
// to a host's availability marks the cached slots stale. ErrNotFound when
// there is no such user.
func (s *Store) UpdateUser(ctx context.Context, id uint, ch models.UserChange, actor *models.User) (*models.User, error) {
	verr := &models.ValidationError{}
	upd := map[string]any{}
	if ch.Name != nil {
		upd["name"] = models.CheckText(verr, "name", *ch.Name, 1, 120)
	}
	if ch.Role != nil {
		if *ch.Role != models.RoleAdmin && *ch.Role != models.RoleSales {
			verr.Add("role", "must be admin or sales")
		}
		upd["role"] = *ch.Role
	}
	if ch.Host != nil {
		upd["host"] = *ch.Host
	}
	if ch.Disabled != nil {
		upd["disabled"] = *ch.Disabled
	}
	if actor != nil && actor.ID == id {
		if ch.Disabled != nil && *ch.Disabled {
			verr.Add("disabled", "you cannot disable your own account")
		}
		if ch.Role != nil && *ch.Role != models.RoleAdmin && actor.Role == models.RoleAdmin {
			verr.Add("role", "you cannot remove your own admin role")
		}
	}
	if err := verr.Err(); err != nil {
		return nil, err
	}
	err := s.tx(withUserActor(ctx, actor), func(tx *gorm.DB) error { return s.updateUser(tx, id, ch, upd, actor) })
	if err != nil {
		return nil, err
	}
	return s.UserByID(ctx, id)
}

func (s *Store) updateUser(tx *gorm.DB, id uint, ch models.UserChange, upd map[string]any, actor *models.User) error {
	var u models.User
	if err := s.lockRows(tx.Where("id = ?", id)).Take(&u).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return models.ErrNotFound
		}
		return err
	}
	if err := s.lockHost(tx, id); err != nil {
		return err
	}
	losesAdmin := u.Role == models.RoleAdmin && !u.Disabled &&
		((ch.Role != nil && *ch.Role != models.RoleAdmin) || (ch.Disabled != nil && *ch.Disabled))
	if losesAdmin {
		var others int64
		if err := tx.Model(&models.User{}).Where("role = ? AND disabled = ? AND id <> ?", models.RoleAdmin, false, id).
			Count(&others).Error; err != nil {
			return err
		}
		if others == 0 {
			return models.Invalid("role", "this is the only enabled admin; make someone else an admin first")
		}
	}
	if ch.Host != nil && *ch.Host && !u.Host && u.WeeklyJSON == "{}" {
		upd["weekly_json"] = encodeJSON(models.DefaultWeekly().ToJSON())
	}
	upd["updated_at"] = s.txNow(tx)
	if err := tx.Model(&models.User{}).Where("id = ?", id).Updates(upd).Error; err != nil {
		return err
	}
	if ch.Disabled != nil && *ch.Disabled {
		if err := endAccess(tx, id, s.txNow(tx)); err != nil {
			return err
		}
	}
	if err := s.addEvent(tx, 0, 0, "user.updated", actorName(actor), userChangeData(id, ch)); err != nil {
		return err
	}
	if err := s.auditUserChange(tx, &u, ch); err != nil {
		return err
	}
	if (ch.Host != nil && *ch.Host != u.Host) || (u.Host && ch.Disabled != nil && *ch.Disabled != u.Disabled) {
		return s.bumpAvailability(tx)
	}
	return nil
}

// endAccess signs a user out everywhere and revokes their API tokens.
func endAccess(tx *gorm.DB, userID uint, now time.Time) error {
	if err := tx.Where("user_id = ?", userID).Delete(&models.Session{}).Error; err != nil {
		return err
	}
	return tx.Model(&models.APIToken{}).Where("user_id = ? AND revoked_at IS NULL", userID).Update("revoked_at", now).Error
}

func userChangeData(id uint, ch models.UserChange) map[string]any {
	d := map[string]any{"user_id": id}
	if ch.Name != nil {
		d["name"] = *ch.Name
	}
	if ch.Role != nil {
		d["role"] = *ch.Role
	}
	if ch.Host != nil {
		d["host"] = *ch.Host
	}
	if ch.Disabled != nil {
		d["disabled"] = *ch.Disabled
	}
	return d
}

// actorName names u as an event's actor, or the system when u is nil.
func actorName(u *models.User) string {
	if u == nil {
		return models.ActorSystem
	}
	return models.ActorUser(u)
}

// auditUserChange writes an audit entry for each kind of change ch makes
// to u (as it was before): its role, its being disabled or enabled, and its
// name or host flag.
func (s *Store) auditUserChange(tx *gorm.DB, u *models.User, ch models.UserChange) error {
	target := models.AuditTarget{Type: models.AuditTargetUser, ID: u.ID}
	if ch.Role != nil && *ch.Role != u.Role {
		if err := s.audit(tx, models.AuditUserRoleChanged, target, map[string]any{"from": u.Role, "to": *ch.Role}); err != nil {
			return err
		}
	}
	if ch.Disabled != nil && *ch.Disabled != u.Disabled {
		action := models.AuditUserEnabled
		if *ch.Disabled {
			action = models.AuditUserDisabled
		}
		if err := s.audit(tx, action, target, nil); err != nil {
			return err
		}
	}
	d := map[string]any{}
	if ch.Name != nil && *ch.Name != u.Name {
		d["name"] = map[string]any{"from": u.Name, "to": *ch.Name}
	}
	if ch.Host != nil && *ch.Host != u.Host {
		d["host"] = map[string]any{"from": u.Host, "to": *ch.Host}
	}
	if len(d) == 0 {
		return nil
	}
	return s.audit(tx, models.AuditUserUpdated, target, d)
}
