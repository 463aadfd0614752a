package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// UserChange is an admin's change to a staff user; nil fields stay as they are.
type UserChange struct {
	Name     *string
	Role     *string
	Host     *bool
	Disabled *bool
}

// UpdateUser applies ch to user id on behalf of actor and returns the user
// as saved. It guarantees at least one enabled admin remains, and that an
// admin cannot disable or demote themselves. Disabling a user ends their
// sessions and revokes their API tokens in the same transaction; a change
// to a host's availability marks the cached slots stale. ErrNotFound when
// there is no such user.
func (s *Store) UpdateUser(ctx context.Context, id uint, ch UserChange, actor *User) (*User, error) {
	verr := &ValidationError{}
	upd := map[string]any{}
	if ch.Name != nil {
		upd["name"] = CheckText(verr, "name", *ch.Name, 1, 120)
	}
	if ch.Role != nil {
		if *ch.Role != RoleAdmin && *ch.Role != RoleSales {
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
		if ch.Role != nil && *ch.Role != RoleAdmin && actor.Role == RoleAdmin {
			verr.Add("role", "you cannot remove your own admin role")
		}
	}
	if err := verr.Err(); err != nil {
		return nil, err
	}
	err := s.tx(ctx, func(tx *gorm.DB) error { return s.updateUser(tx, id, ch, upd, actor) })
	if err != nil {
		return nil, err
	}
	return s.UserByID(ctx, id)
}

func (s *Store) updateUser(tx *gorm.DB, id uint, ch UserChange, upd map[string]any, actor *User) error {
	var u User
	if err := s.lockRows(tx.Where("id = ?", id)).Take(&u).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		}
		return err
	}
	losesAdmin := u.Role == RoleAdmin && !u.Disabled &&
		((ch.Role != nil && *ch.Role != RoleAdmin) || (ch.Disabled != nil && *ch.Disabled))
	if losesAdmin {
		var others int64
		if err := tx.Model(&User{}).Where("role = ? AND disabled = ? AND id <> ?", RoleAdmin, false, id).
			Count(&others).Error; err != nil {
			return err
		}
		if others == 0 {
			return Invalid("role", "this is the only enabled admin; make someone else an admin first")
		}
	}
	if ch.Host != nil && *ch.Host && !u.Host && u.WeeklyJSON == "{}" {
		upd["weekly_json"] = encodeJSON(DefaultWeekly().ToJSON())
	}
	upd["updated_at"] = s.Now()
	if err := tx.Model(&User{}).Where("id = ?", id).Updates(upd).Error; err != nil {
		return err
	}
	if ch.Disabled != nil && *ch.Disabled {
		if err := endAccess(tx, id, s.Now()); err != nil {
			return err
		}
	}
	if err := s.addEvent(tx, 0, 0, "user.updated", actorName(actor), userChangeData(id, ch)); err != nil {
		return err
	}
	if (ch.Host != nil && *ch.Host != u.Host) || (u.Host && ch.Disabled != nil && *ch.Disabled != u.Disabled) {
		return s.bumpAvailability(tx)
	}
	return nil
}

// endAccess signs a user out everywhere and revokes their API tokens.
func endAccess(tx *gorm.DB, userID uint, now time.Time) error {
	if err := tx.Where("user_id = ?", userID).Delete(&Session{}).Error; err != nil {
		return err
	}
	return tx.Model(&APIToken{}).Where("user_id = ? AND revoked_at IS NULL", userID).Update("revoked_at", now).Error
}

func userChangeData(id uint, ch UserChange) map[string]any {
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
func actorName(u *User) string {
	if u == nil {
		return ActorSystem
	}
	return ActorUser(u)
}
