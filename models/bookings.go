package models

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// BookingRequest is a visitor's validated request for a call.
type BookingRequest struct {
	Name, Email, Phone        string
	CurrentTitle, TargetTitle string
	RoleSlug                  string
	Start                     time.Time
	Timezone                  string
	Message                   string
	UTMSource, UTMMedium      string
	UTMCampaign, UTMTerm      string
	UTMContent                string
	Referrer                  string
}

// Idempotency ties a request to its Idempotency-Key. Render builds the
// response stored for replays, inside the booking's transaction.
type Idempotency struct {
	Key      string
	BodyHash string
	Render   func(b *Booking, l *Lead, host *User) (status int, body string, err error)
}

// Replay is the stored answer to a repeated idempotent request.
type Replay struct {
	Status int
	Body   string
}

// Error lets a Replay travel as an error out of BookSlot.
func (r *Replay) Error() string { return "idempotent replay" }

// BookingResult is what BookSlot made.
type BookingResult struct {
	Booking *Booking
	Lead    *Lead
	Host    *User
	Token   string
	// NewLead is true when this booking created the lead.
	NewLead bool
}

// BookingToken derives the visitor's secret token for a booking from its UID
// and the service secret: 256 bits no one without the secret can compute, so
// the database keeps only its hash yet emails sent later can carry the link.
func (s *Store) BookingToken(uid string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("callbook booking token v1\x00" + uid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// BookingByToken finds a booking by its visitor token. Any miss is
// ErrNotFound, saying nothing about whether the token ever existed.
func (s *Store) BookingByToken(ctx context.Context, token string) (*Booking, error) {
	if len(token) < 20 || len(token) > 100 {
		return nil, ErrNotFound
	}
	want := hashToken(token)
	var b Booking
	err := s.read.WithContext(ctx).Where("token_hash = ?", want).Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(b.TokenHash), []byte(want)) != 1 {
		return nil, ErrNotFound
	}
	return &b, nil
}

// BookSlot books the call req asks for: it upserts the lead by email, gives
// the call to the free host with the fewest upcoming calls, claims that
// host's time, and queues the confirmation, the host notice and the
// reminders, all in one transaction. A slot that is not offered, or that
// another request took first, is ErrSlotTaken; a repeated idempotent request
// returns *Replay.
func (s *Store) BookSlot(ctx context.Context, req BookingRequest, idem *Idempotency) (*BookingResult, error) {
	var res *BookingResult
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if idem != nil {
			if err := s.claimIdempotencyKey(tx, idem); err != nil {
				return err
			}
		}
		lead, isNew, err := s.upsertLead(tx, req)
		if err != nil {
			return err
		}
		b, host, err := s.placeBooking(tx, req, lead.ID)
		if err != nil {
			return err
		}
		res = &BookingResult{Booking: b, Lead: lead, Host: host, Token: s.BookingToken(b.UID), NewLead: isNew}
		if isNew {
			if err := s.addEvent(tx, lead.ID, 0, "lead.created", ActorVisitor, map[string]any{
				"target_title": lead.TargetTitle, "role_slug": lead.RoleSlug, "utm_source": lead.UTMSource}); err != nil {
				return err
			}
		}
		if err := s.addEvent(tx, lead.ID, b.ID, "booking.created", ActorVisitor, map[string]any{
			"booking_id": b.ID, "start": b.StartAt, "timezone": b.Timezone, "host": host.Name}); err != nil {
			return err
		}
		if err := s.queueBookingMails(tx, MailConfirmation, "booked", b, lead, host, nil); err != nil {
			return err
		}
		if err := s.scheduleReminders(tx, b); err != nil {
			return err
		}
		if idem != nil {
			status, body, err := idem.Render(b, lead, host)
			if err != nil {
				return err
			}
			if err := tx.Model(&IdempotencyKey{}).Where("key = ?", idem.Key).
				Updates(map[string]any{"status_code": status, "response": body}).Error; err != nil {
				return err
			}
		}
		return s.bumpAvailability(tx)
	})
	if err != nil {
		var rp *Replay
		if idem != nil && errors.As(err, &rp) {
			return nil, rp
		}
		if idem != nil && isUniqueViolation(err) {
			// Another request with this key committed while we worked.
			if rp, e := s.idempotentReplay(ctx, idem); e == nil {
				return nil, rp
			} else if !errors.Is(e, ErrNotFound) {
				return nil, e
			}
		}
		return nil, err
	}
	s.signalOutbox()
	return res, nil
}

// claimIdempotencyKey inserts the key first, so a concurrent twin blocks on
// it and then replays; an earlier use answers with a *Replay or a conflict.
func (s *Store) claimIdempotencyKey(tx *gorm.DB, idem *Idempotency) error {
	var prev IdempotencyKey
	err := tx.Where("key = ?", idem.Key).Take(&prev).Error
	switch {
	case err == nil && prev.CreatedAt.After(s.Now().Add(-24*time.Hour)):
		if prev.BodyHash != idem.BodyHash {
			return ErrIdempotencyConflict
		}
		return &Replay{Status: prev.StatusCode, Body: prev.Response}
	case err == nil:
		if err := tx.Delete(&prev).Error; err != nil {
			return err
		}
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return err
	}
	return tx.Create(&IdempotencyKey{Key: idem.Key, BodyHash: idem.BodyHash, CreatedAt: s.Now()}).Error
}

func (s *Store) idempotentReplay(ctx context.Context, idem *Idempotency) (*Replay, error) {
	var prev IdempotencyKey
	err := s.write.WithContext(ctx).Where("key = ?", idem.Key).Take(&prev).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if prev.BodyHash != idem.BodyHash {
		return nil, ErrIdempotencyConflict
	}
	return &Replay{Status: prev.StatusCode, Body: prev.Response}, nil
}

// upsertLead finds the lead by normalized email or creates it. A returning
// visitor's contact details are refreshed; the first source is kept.
func (s *Store) upsertLead(tx *gorm.DB, req BookingRequest) (*Lead, bool, error) {
	now := s.Now()
	l := Lead{
		EmailKey: NormalizeEmail(req.Email), Email: req.Email, Name: req.Name, Phone: req.Phone,
		CurrentTitle: req.CurrentTitle, TargetTitle: req.TargetTitle, RoleSlug: req.RoleSlug, Status: LeadNew,
		UTMSource: req.UTMSource, UTMMedium: req.UTMMedium, UTMCampaign: req.UTMCampaign, UTMTerm: req.UTMTerm,
		UTMContent: req.UTMContent, Referrer: req.Referrer, CreatedAt: now, UpdatedAt: now,
	}
	res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "email_key"}}, DoNothing: true}).Create(&l)
	if res.Error != nil {
		return nil, false, res.Error
	}
	if res.RowsAffected == 1 && l.ID != 0 {
		return &l, true, nil
	}
	var existing Lead
	if err := s.lockRows(tx.Where("email_key = ?", l.EmailKey)).Take(&existing).Error; err != nil {
		return nil, false, err
	}
	upd := map[string]any{"name": req.Name, "email": req.Email, "target_title": req.TargetTitle, "updated_at": now}
	if req.Phone != "" {
		upd["phone"] = req.Phone
	}
	if req.CurrentTitle != "" {
		upd["current_title"] = req.CurrentTitle
	}
	if req.RoleSlug != "" {
		upd["role_slug"] = req.RoleSlug
	}
	if err := tx.Model(&existing).Updates(upd).Error; err != nil {
		return nil, false, err
	}
	return &existing, false, nil
}

// placeBooking picks a free host for req.Start, claims its time and inserts
// the booking. Candidate hosts are locked in id order on PostgreSQL, so
// racing requests queue per host and can never deadlock.
func (s *Store) placeBooking(tx *gorm.DB, req BookingRequest, leadID uint) (*Booking, *User, error) {
	now := s.Now()
	bs, err := s.bookingSettings(tx)
	if err != nil {
		return nil, nil, err
	}
	var hosts []User
	if err := s.lockRows(tx.Where("host = ? AND disabled = ?", true, false).Order("id")).Find(&hosts).Error; err != nil {
		return nil, nil, err
	}
	host, err := s.pickHost(tx, hosts, req.Start, bs, now, 0)
	if err != nil {
		return nil, nil, err
	}
	uid := RandomToken(16)
	b := &Booking{
		UID: uid, TokenHash: hashToken(s.BookingToken(uid)), LeadID: leadID, HostID: host.ID,
		Status: BookingConfirmed, StartAt: req.Start.UTC(), EndAt: req.Start.Add(bs.Duration()).UTC(),
		Timezone: req.Timezone, TargetTitle: req.TargetTitle, RoleSlug: req.RoleSlug, Message: req.Message,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.Create(b).Error; err != nil {
		return nil, nil, err
	}
	if err := s.claimTime(tx, b, bs); err != nil {
		return nil, nil, err
	}
	return b, host, nil
}

// pickHost returns the free host for start with the fewest upcoming calls,
// ignoring booking skip (the one being moved). ErrSlotTaken when none is.
func (s *Store) pickHost(tx *gorm.DB, hosts []User, start time.Time, bs BookingSettings, now time.Time, skip uint) (*User, error) {
	scheds, err := s.schedulesAround(tx, hosts, start, bs, skip)
	if err != nil {
		return nil, err
	}
	rules := SlotRules{Settings: bs, Loc: s.loc, Now: now}
	var free []*HostSchedule
	for _, h := range scheds {
		if hostCanTake(h, start, rules) {
			free = append(free, h)
		}
	}
	if len(free) == 0 {
		return nil, ErrSlotTaken
	}
	if len(free) > 1 {
		upcoming, err := upcomingCalls(tx, free, now)
		if err != nil {
			return nil, err
		}
		sort.SliceStable(free, func(i, j int) bool { return upcoming[free[i].ID] < upcoming[free[j].ID] })
	}
	for i := range hosts {
		if hosts[i].ID == free[0].ID {
			return &hosts[i], nil
		}
	}
	return nil, ErrSlotTaken
}

// longestSpan bounds how far back a call that still overlaps start can have
// begun: the longest call plus the largest buffer.
const longestSpan = 8*time.Hour + 4*time.Hour

// schedulesAround builds, for the hosts whose hours offer start, just what
// deciding that one slot needs: the calls that could overlap it and the
// count of calls on its business day. It reads a few rows, not a calendar.
func (s *Store) schedulesAround(tx *gorm.DB, hosts []User, start time.Time, bs BookingSettings, skip uint) ([]*HostSchedule, error) {
	local := start.In(s.loc)
	date := local.Format(time.DateOnly)
	byID := map[uint]*HostSchedule{}
	var ids []uint
	capped := false
	for _, u := range hosts {
		byID[u.ID] = &HostSchedule{ID: u.ID, Weekly: decodeWeekly(u.WeeklyJSON), MaxPerDay: u.MaxPerDay,
			Overrides: map[string][]Window{}, PerDay: map[string]int{}}
		ids = append(ids, u.ID)
		capped = capped || u.MaxPerDay > 0
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var ovs []AvailabilityOverride
	if err := tx.Where("host_id IN ? AND date = ?", ids, date).Find(&ovs).Error; err != nil {
		return nil, err
	}
	for _, o := range ovs {
		var hj HoursJSON
		_ = json.Unmarshal([]byte(o.HoursJSON), &hj)
		byID[o.HostID].Overrides[date] = ParseHours("", hj, &ValidationError{})
	}
	rules := SlotRules{Settings: bs, Loc: s.loc}
	var out []*HostSchedule
	var onGridIDs []uint
	for _, id := range ids {
		if h := byID[id]; onGrid(h, start, rules) {
			out = append(out, h)
			onGridIDs = append(onGridIDs, id)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	type busyRow struct {
		HostID         uint
		StartAt, EndAt time.Time
	}
	var rows []busyRow
	if err := tx.Model(&Booking{}).Select("host_id, start_at, end_at").
		Where("host_id IN ? AND status = ? AND start_at >= ? AND start_at < ? AND id <> ?", onGridIDs, BookingConfirmed,
			start.Add(-longestSpan), start.Add(bs.Duration()+bs.Buffer()), skip).
		Scan(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		h := byID[r.HostID]
		h.Busy = append(h.Busy, Interval{Start: r.StartAt, End: r.EndAt.Add(bs.Buffer())})
	}
	for _, h := range out {
		h.Busy = mergeIntervals(h.Busy)
	}
	if capped {
		if err := countDay(tx, byID, onGridIDs, local, date, skip); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// countDay fills PerDay[date] with each host's confirmed calls that day.
func countDay(tx *gorm.DB, byID map[uint]*HostSchedule, ids []uint, local time.Time, date string, skip uint) error {
	y, m, d := local.Date()
	dayStart := time.Date(y, m, d, 0, 0, 0, 0, local.Location())
	var rows []struct {
		HostID uint
		N      int
	}
	err := tx.Model(&Booking{}).Select("host_id, COUNT(*) AS n").
		Where("host_id IN ? AND status = ? AND start_at >= ? AND start_at < ? AND id <> ?", ids, BookingConfirmed,
			dayStart.UTC(), dayStart.AddDate(0, 0, 1).UTC(), skip).
		Group("host_id").Scan(&rows).Error
	for _, r := range rows {
		byID[r.HostID].PerDay[date] = r.N
	}
	return err
}

// upcomingCalls counts each host's confirmed calls still to come.
func upcomingCalls(tx *gorm.DB, hosts []*HostSchedule, now time.Time) (map[uint]int, error) {
	ids := make([]uint, len(hosts))
	for i, h := range hosts {
		ids[i] = h.ID
	}
	var rows []struct {
		HostID uint
		N      int
	}
	err := tx.Model(&Booking{}).Select("host_id, COUNT(*) AS n").
		Where("status = ? AND host_id IN ? AND start_at > ?", BookingConfirmed, ids, now).
		Group("host_id").Scan(&rows).Error
	out := map[uint]int{}
	for _, r := range rows {
		out[r.HostID] = r.N
	}
	return out, err
}

// claimTime inserts b's claims. A unique violation means another booking
// holds part of that time: ErrSlotTaken.
func (s *Store) claimTime(tx *gorm.DB, b *Booking, bs BookingSettings) error {
	units := claimUnits(b.StartAt, b.EndAt.Sub(b.StartAt)+bs.Buffer())
	claims := make([]BookingClaim, len(units))
	for i, u := range units {
		claims[i] = BookingClaim{HostID: b.HostID, Unit: u, BookingID: b.ID}
	}
	if err := tx.Create(&claims).Error; err != nil {
		if isUniqueViolation(err) {
			return ErrSlotTaken
		}
		return err
	}
	return nil
}

// releaseTime frees b's claims.
func releaseTime(tx *gorm.DB, bookingID uint) error {
	return tx.Where("booking_id = ?", bookingID).Delete(&BookingClaim{}).Error
}

// scheduleReminders writes one reminder per configured offset for b, due at
// the offset before the call. One already due is written as skipped: the
// confirmation (or reschedule notice) has just gone out.
func (s *Store) scheduleReminders(tx *gorm.DB, b *Booking) error {
	if len(s.reminders) == 0 {
		return nil
	}
	now := s.Now()
	rows := make([]Reminder, 0, len(s.reminders))
	for _, r := range s.reminders {
		due := b.StartAt.Add(-r.Before)
		st := ReminderPending
		if !due.After(now) {
			st = ReminderSkipped
		}
		rows = append(rows, Reminder{BookingID: b.ID, Offset: r.Label, DueAt: due, Status: st, CreatedAt: now, UpdatedAt: now})
	}
	return tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "booking_id"}, {Name: "offset_label"}},
		DoUpdates: clause.AssignmentColumns([]string{"due_at", "status", "updated_at"}),
	}).Create(&rows).Error
}

// BookingHost returns the host of a booking.
func (s *Store) BookingHost(ctx context.Context, b *Booking) (*User, error) {
	var u User
	if err := s.read.WithContext(ctx).Where("id = ?", b.HostID).Take(&u).Error; err != nil {
		return nil, err
	}
	return &u, nil
}

// LeadByID returns one lead.
func (s *Store) LeadByID(ctx context.Context, id uint) (*Lead, error) {
	var l Lead
	err := s.read.WithContext(ctx).Where("id = ?", id).Take(&l).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &l, err
}

// MailDataFor snapshots booking b as an email of kind would see it; the
// handlers use it for invite.ics.
func (s *Store) MailDataFor(ctx context.Context, b *Booking, kind string) (MailData, error) {
	db := s.read.WithContext(ctx)
	var l Lead
	if err := db.Where("id = ?", b.LeadID).Take(&l).Error; err != nil {
		return MailData{}, err
	}
	var h User
	if err := db.Where("id = ?", b.HostID).Take(&h).Error; err != nil {
		return MailData{}, err
	}
	d := bookingMail(kind, b, &l, &h)
	d.Reason = b.CancelReason
	return d, nil
}

// HostNames maps host ids to names, for listing bookings.
func (s *Store) HostNames(ctx context.Context) (map[uint]string, error) {
	var us []User
	if err := s.read.WithContext(ctx).Select("id, name").Where("host = ?", true).Find(&us).Error; err != nil {
		return nil, err
	}
	m := make(map[uint]string, len(us))
	for _, u := range us {
		m[u.ID] = u.Name
	}
	return m, nil
}
