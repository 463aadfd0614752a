package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// callSettings are the shared settings as one kind of call uses them
// (its length), with the kind's own rules.
type callSettings struct {
	models.BookingSettings
	kind models.CallRules
}

// settingsFor is callSettings for kind (nil: the discovery call).
func settingsFor(bs models.BookingSettings, kind *models.CallKind) callSettings {
	b, k := kind.Settings(bs)
	return callSettings{b, k}
}

// rules are the slot rules of these settings at now.
func (c callSettings) rules(loc *time.Location, now time.Time) models.SlotRules {
	return models.SlotRules{Settings: c.BookingSettings, Loc: loc, Now: now, Kind: c.kind}
}

// SetCallKinds tells the store where the role pages' kinds of call are
// found, so a reschedule uses the kind's step and hosts. Without it (or
// for a kind no longer offered) a call keeps its own length and moves on
// its length's grid among any hosts.
func (s *Store) SetCallKinds(find func(roleSlug, callID string) *models.CallKind) { s.callKinds = find }

// bookingKind is the kind of call b was booked as; nil: the discovery
// call of the shared length.
func (s *Store) bookingKind(b *models.Booking) *models.CallKind {
	if b.CallID == "" {
		return nil
	}
	if s.callKinds != nil {
		if k := s.callKinds(b.RoleSlug, b.CallID); k != nil {
			return k
		}
	}
	mode := models.ModeOneHost
	if b.Collective {
		mode = models.ModeCollective
	}
	m := int(b.EndAt.Sub(b.StartAt) / time.Minute)
	return &models.CallKind{ID: b.CallID, Title: b.CallTitle, Minutes: m, StepMinutes: m, Mode: mode}
}

// kindHosts narrows hosts to those the kind names, then to those the
// route names (routed); each step keeps every host when it would leave
// none, as routes do. A collective call has exactly the kind's hosts.
func kindHosts(hosts []models.User, kind *models.CallKind, routed []string) []models.User {
	email := func(u *models.User) string { return u.Email }
	hosts = routeHosts(hosts, kind.HostEmails(), email)
	if kind != nil && kind.Collective() {
		return hosts
	}
	return routeHosts(hosts, routed, email)
}

// bookingHostIDs are the hosts whose time b holds: its host, or every
// host of a collective call.
func bookingHostIDs(tx *gorm.DB, b *models.Booking) ([]uint, error) {
	if !b.Collective {
		return []uint{b.HostID}, nil
	}
	var ids []uint
	err := tx.Model(&models.BookingHost{}).Where("booking_id = ?", b.ID).Order("host_id").Pluck("host_id", &ids).Error
	return ids, err
}

// placeCollective books a collective call on every one of hosts, or on
// none: each must be free at req.Start, and each host's time is claimed
// in the booking's transaction, so a racing call on any of them makes the
// whole booking fail with ErrSlotTaken.
func (s *Store) placeCollective(tx *gorm.DB, hosts []models.User, req models.BookingRequest, bs callSettings,
	insert func(host *models.User) (*models.Booking, error)) (*models.Booking, *models.User, error) {
	if len(hosts) == 0 {
		return nil, nil, models.ErrSlotTaken
	}
	if err := s.allFree(tx, hosts, req.Start, bs, 0); err != nil {
		return nil, nil, err
	}
	b, err := insert(&hosts[0])
	if err != nil {
		return nil, nil, err
	}
	ids := make([]uint, len(hosts))
	for i, h := range hosts {
		ids[i] = h.ID
	}
	if err := setBookingHosts(tx, b.ID, ids); err != nil {
		return nil, nil, err
	}
	if err := s.claimTime(tx, b, bs, ids...); err != nil {
		return nil, nil, err
	}
	return b, &hosts[0], nil
}

// allFree is ErrSlotTaken unless every one of hosts can take a call at
// start, leaving booking skip out of their calls.
func (s *Store) allFree(tx *gorm.DB, hosts []models.User, start time.Time, bs callSettings, skip uint) error {
	scheds, _, err := s.schedulesAround(tx, hosts, start, bs, skip, time.Time{})
	if err != nil {
		return err
	}
	if len(scheds) != len(hosts) {
		return models.ErrSlotTaken
	}
	rules := bs.rules(s.loc, s.txNow(tx))
	for _, h := range scheds {
		if !models.HostCanTake(h, start, rules) {
			return models.ErrSlotTaken
		}
	}
	return nil
}

// setBookingHosts records the hosts of a collective call.
func setBookingHosts(tx *gorm.DB, bookingID uint, hostIDs []uint) error {
	rows := make([]models.BookingHost, len(hostIDs))
	for i, id := range hostIDs {
		rows[i] = models.BookingHost{BookingID: bookingID, HostID: id}
	}
	return tx.Create(&rows).Error
}

// HostsOf lists the hosts of booking b: its host, or every host of a
// collective call, in id order.
func (s *Store) HostsOf(ctx context.Context, b *models.Booking) ([]models.User, error) {
	return bookingHosts(s.read.WithContext(ctx), b)
}

func bookingHosts(tx *gorm.DB, b *models.Booking) ([]models.User, error) {
	ids, err := bookingHostIDs(tx, b)
	if err != nil {
		return nil, err
	}
	var hosts []models.User
	err = tx.Where("id IN ?", ids).Order("id").Find(&hosts).Error
	return hosts, err
}

// moveCollective moves collective call b to start with every one of its
// hosts, each of whom must be free then.
func (s *Store) moveCollective(tx *gorm.DB, b *models.Booking, start time.Time, bs callSettings, now time.Time) (*models.User, error) {
	hosts, err := bookingHosts(tx, b)
	if err != nil {
		return nil, err
	}
	if err := s.allFree(tx, hosts, start, bs, b.ID); err != nil {
		return nil, err
	}
	if err := s.moveBooking(tx, b, b.HostID, start, bs, now); err != nil {
		return nil, err
	}
	for i := range hosts {
		if hosts[i].ID == b.HostID {
			return &hosts[i], nil
		}
	}
	return &hosts[0], nil
}

// ReassignBooking gives confirmed call id to host hostID at the same time:
// ErrSlotTaken when that host is not free then (its hours, its calls, its
// calendar and caps; minimum notice aside). The old host gets a CANCEL,
// the new one a REQUEST, and the visitor an email of kind host-changed
// with the updated invite. A collective call keeps its hosts.
func (s *Store) ReassignBooking(ctx context.Context, id, hostID uint, by *models.User) (*models.BookingResult, error) {
	actor := models.ActorUser(by)
	var res *models.BookingResult
	err := s.tx(withUserActor(ctx, by), func(tx *gorm.DB) error {
		now := s.txNow(tx)
		b, err := s.lockOpenBooking(tx, idKey(id), now)
		if err != nil {
			return err
		}
		switch {
		case b.Collective:
			return models.Invalid("host_id", "a collective call keeps its hosts; move or cancel it instead")
		case b.HostID == hostID:
			return models.Invalid("host_id", "already hosts this call")
		}
		var host models.User
		if err := tx.Where("id = ? AND host = ? AND disabled = ?", hostID, true, false).Take(&host).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return models.Invalid("host_id", "no such host")
			}
			return err
		}
		shared, err := s.bookingSettings(tx)
		if err != nil {
			return err
		}
		bs := settingsFor(shared, s.bookingKind(b))
		bs.MinNoticeMinutes = 0 // staff may hand over a call about to start
		bs.HorizonDays = models.MaxHorizonDays
		if err := s.allFree(tx, []models.User{host}, b.StartAt, bs, b.ID); err != nil {
			return err
		}
		before := *b
		s.setBookingMeeting(b, &host)
		if err := s.moveBooking(tx, b, host.ID, b.StartAt, bs, now); err != nil {
			return err
		}
		lead, old, err := bookingParties(tx, &before)
		if err != nil {
			return err
		}
		if err := s.announceHostChange(tx, &before, b, lead, old, &host); err != nil {
			return err
		}
		if err := s.addEvent(tx, lead.ID, b.ID, "booking.host_changed", actor, map[string]any{
			"booking_id": b.ID, "from": old.Name, "to": host.Name, "actor": actor}); err != nil {
			return err
		}
		if err := s.audit(tx, models.AuditBookingHostChanged, models.AuditTarget{Type: models.AuditTargetBooking, ID: b.ID},
			map[string]any{"lead_id": lead.ID, "from_host_id": old.ID, "to_host_id": host.ID}); err != nil {
			return err
		}
		res = &models.BookingResult{Booking: b, Lead: lead, Host: &host, Token: s.BookingToken(b.UID)}
		if err := s.bumpAvailability(tx); err != nil {
			return err
		}
		return s.queueWebhooks(tx, lead.ID, b.ID, models.WebhookBookingRescheduled)
	})
	if err != nil {
		return nil, err
	}
	s.signalOutbox()
	return res, nil
}

// announceHostChange queues the emails of a call given to another host:
// the visitor's host-changed email with the updated invite, a REQUEST to
// the new host and a CANCEL to the old one.
func (s *Store) announceHostChange(tx *gorm.DB, before, b *models.Booking, lead *models.Lead, old, host *models.User) error {
	if err := s.queueBookingMails(tx, models.MailHostChanged, "booked", b, lead, host, nil); err != nil {
		return err
	}
	notice := s.bookingMail(models.MailHostNotice, before, lead, old)
	notice.Change, notice.Reason = "canceled", "given to "+host.Name
	notice.Sequence = b.Sequence
	notice.ReplyTo = visitorReplyTo(lead)
	return s.queueHostNotice(tx, old, notice)
}

// CallsByKind counts the calls booked in period p by kind of call and
// by what became of them, for the dashboard: booked (not canceled),
// completed, no-shows and canceled, the kinds in order of their calls.
func (s *Store) CallsByKind(ctx context.Context, p Period) ([]models.KindCount, error) {
	var rows []models.KindCount
	err := s.read.WithContext(ctx).Model(&models.Booking{}).
		Select("call_id, MAX(call_title) AS title, "+
			"SUM(CASE WHEN status <> ? THEN 1 ELSE 0 END) AS booked, "+
			"SUM(CASE WHEN status = ? THEN 1 ELSE 0 END) AS completed, "+
			"SUM(CASE WHEN status = ? THEN 1 ELSE 0 END) AS no_show, "+
			"SUM(CASE WHEN status = ? THEN 1 ELSE 0 END) AS canceled",
			models.BookingCanceled, models.BookingCompleted, models.BookingNoShow, models.BookingCanceled).
		Where("created_at >= ? AND created_at < ?", p.Start.UTC(), p.End.UTC()).
		Group("call_id").Order("booked DESC, call_id").Scan(&rows).Error
	for i := range rows {
		if rows[i].CallID == "" {
			rows[i].CallID, rows[i].Title = models.DiscoveryCallID, models.DiscoveryCallTitle
		}
	}
	return rows, err
}
