package store

import (
	"errors"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// returningLeadChanges lists what a returning visitor's booking changes on
// their lead l: the columns to update, and the event recording the old and
// new value of each detail they gave anew (name, titles, phone). A blank
// phone or current title keeps the one on file. The latest-touch source is
// replaced when the booking carries one; a visit with neither UTM nor
// referrer (a typed address) keeps the previous one, and the first touch
// never changes.
func returningLeadChanges(l *models.Lead, req models.BookingRequest) (upd map[string]any, changes map[string]any) {
	upd, changes = map[string]any{"email": req.Email}, map[string]any{}
	detail := func(col, old, new string, keepBlank bool) {
		if new == old || (keepBlank && new == "") {
			return
		}
		upd[col] = new
		changes[col] = map[string]string{"from": old, "to": new}
	}
	detail("name", l.Name, req.Name, false)
	detail("target_title", l.TargetTitle, req.TargetTitle, false)
	detail("current_title", l.CurrentTitle, req.CurrentTitle, true)
	detail("phone", l.Phone, req.Phone, true)
	if req.RoleSlug != "" {
		upd["role_slug"] = req.RoleSlug
	}
	if req.HasSource() {
		upd["utm_source"], upd["utm_medium"], upd["utm_campaign"] = req.UTMSource, req.UTMMedium, req.UTMCampaign
		upd["utm_term"], upd["utm_content"], upd["referrer"] = req.UTMTerm, req.UTMContent, req.Referrer
	}
	return upd, changes
}

// assignFirstCallOwner makes the host of a lead's first call its owner, and
// emails them, when the lead has no owner and the host is a staff user who
// can sign in (the built-in team host cannot, so its calls stay unowned).
// A lead this booking created has no earlier call to look for, and may
// have been written with the host as its owner already (insertClaimed).
func (s *Store) assignFirstCallOwner(tx *gorm.DB, l *models.Lead, newLead bool, b *models.Booking, host *models.User) error {
	ownedAtInsert := newLead && l.OwnerID != nil && *l.OwnerID == host.ID
	if (l.OwnerID != nil && !ownedAtInsert) || !ownsFirstCalls(host) {
		return nil
	}
	if !newLead {
		var earlier int64
		if err := tx.Model(&models.Booking{}).Where("lead_id = ? AND id <> ?", l.ID, b.ID).Count(&earlier).Error; err != nil {
			return err
		}
		if earlier > 0 {
			return nil
		}
	}
	switch {
	case ownedAtInsert:
		// Written with the lead's row.
	case newLead:
		// The lead is this transaction's own, so no one else has given it
		// an owner: the update goes with the booking's deferred writes.
		if err := s.execLater(tx, "UPDATE leads SET owner_id = ?, updated_at = ? WHERE id = ?",
			int64(host.ID), s.txNow(tx), int64(l.ID)); err != nil {
			return err
		}
	default:
		res := tx.Model(&models.Lead{}).Where("id = ? AND owner_id IS NULL", l.ID).Update("owner_id", host.ID)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
	}
	l.OwnerID = &host.ID
	if err := s.addEvent(tx, l.ID, b.ID, "lead.owner_changed", models.ActorSystem, map[string]any{
		"from": nil, "to": host.ID, "to_name": host.Name, "reason": "first_call"}); err != nil {
		return err
	}
	return s.queueLeadAssigned(tx, l, host, "", b)
}

// queueLeadAssigned queues the lead-assigned email to owner, in tx. by is
// the staff member who assigned the lead ("" when its first call did), and
// b the call it is about, if any.
func (s *Store) queueLeadAssigned(tx *gorm.DB, l *models.Lead, owner *models.User, by string, b *models.Booking) error {
	d := models.MailData{
		Kind: models.MailLeadAssigned, LeadID: l.ID, Name: l.Name, Email: l.Email, Phone: l.Phone,
		CurrentTitle: l.CurrentTitle, TargetTitle: l.TargetTitle, RoleSlug: l.RoleSlug,
		OwnerName: owner.Name, AssignedBy: by,
	}
	if b != nil {
		d.BookingID, d.Start, d.End, d.Timezone = b.ID, b.StartAt.UTC(), b.EndAt.UTC(), b.Timezone
		d.Message = b.Message
	}
	return s.queueMail(tx, owner.Email, owner.Name, d)
}

// nextCallOf returns the lead's next confirmed call, or nil.
func (s *Store) nextCallOf(tx *gorm.DB, leadID uint) (*models.Booking, error) {
	var b models.Booking
	err := tx.Where("lead_id = ? AND status = ? AND start_at > ?", leadID, models.BookingConfirmed, s.txNow(tx)).
		Order("start_at").Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &b, nil
}
