package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// maxBufferMinutes bounds the buffer setting, and so how far past its end a
// call's claims can reach.
const maxBufferMinutes = 240

func decodeWeekly(s string) models.Weekly {
	var m map[string]models.HoursJSON
	_ = json.Unmarshal([]byte(s), &m)
	return models.WeeklyFromJSON(m, &models.ValidationError{})
}

func encodeJSON(v any) string {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer jsonBuffers.Put(buf)
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		panic(err) // only called with plain data types
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// jsonBuffers are encodeJSON's buffers: a booking encodes several payloads,
// and json.Marshal copies each out of its own buffer before the string
// conversion copies it again.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const (
	settingBooking      = "booking"
	settingAvailVersion = "availability_version"
)

// BookingSettings returns the shared settings, or the defaults when none
// were saved.
func (s *Store) BookingSettings(ctx context.Context) (models.BookingSettings, error) {
	return s.bookingSettings(s.read.WithContext(ctx))
}

func (s *Store) bookingSettings(db *gorm.DB) (models.BookingSettings, error) {
	return readOnce(db, func(r *batchReads) *once[models.BookingSettings] { return &r.settings },
		func() (models.BookingSettings, error) { return s.readBookingSettings(db) })
}

func (s *Store) readBookingSettings(db *gorm.DB) (models.BookingSettings, error) {
	var value string
	err := s.queryRow(db, "SELECT value FROM settings WHERE key = ?", []any{settingBooking}, &value)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.DefaultBookingSettings, nil
	}
	if err != nil {
		return models.BookingSettings{}, err
	}
	bs := models.DefaultBookingSettings
	if err := json.Unmarshal([]byte(value), &bs); err != nil {
		return models.BookingSettings{}, fmt.Errorf("booking settings: %w", err)
	}
	return bs, nil
}

// weekly decodes a host's weekly hours, remembering the last few: they
// change rarely and every booking needs them.
func (s *Store) weekly(raw string) models.Weekly {
	s.weeklyMu.Lock()
	defer s.weeklyMu.Unlock()
	if w, ok := s.weeklies[raw]; ok {
		return w
	}
	w := decodeWeekly(raw)
	if len(s.weeklies) >= 64 {
		clear(s.weeklies)
	}
	if s.weeklies == nil {
		s.weeklies = map[string]models.Weekly{}
	}
	s.weeklies[raw] = w
	return w
}

// bumpAvailability marks every cached slot list stale, in the transaction of
// the change, so other processes see it too. In a group commit the batch
// writes one new version for all its changes (finishBatch): a version per
// booking would be as many statements for the same effect.
//
// On PostgreSQL the transaction only notes the change, and the version, a
// sequence, is raised once it has committed (availabilityChanged).
func (s *Store) bumpAvailability(tx *gorm.DB) error {
	if st := batchOf(tx); st != nil {
		st.availabilityChanged = true
		return nil
	}
	if c, ok := txContext(tx).Value(availabilityChangedKey{}).(*availabilityChanged); ok {
		c.Store(true)
		return nil
	}
	return upsertSetting(tx, settingAvailVersion, RandomToken(8))
}

// finishBatch does, once per group commit, what the batch's jobs deferred.
func (s *Store) finishBatch(tx *gorm.DB, st *batchState) error {
	if err := s.indexDeferredLeads(tx, st); err != nil {
		return err
	}
	if !st.availabilityChanged {
		return nil
	}
	return upsertSetting(tx, settingAvailVersion, RandomToken(8))
}

func upsertSetting(tx *gorm.DB, key, value string) error {
	res := tx.Model(&models.Setting{}).Where("key = ?", key).Update("value", value)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return tx.Create(&models.Setting{Key: key, Value: value}).Error
	}
	return nil
}

// Hosts returns every user marked as a host, enabled or not, by id.
func (s *Store) Hosts(ctx context.Context) ([]models.User, error) {
	var hs []models.User
	err := s.read.WithContext(ctx).Where("host = ?", true).Order("id").Find(&hs).Error
	return hs, err
}

// EnsureDefaultHost creates the "Discovery team" host, who cannot sign in,
// when there is no host at all, so booking works on a fresh install.
func (s *Store) EnsureDefaultHost(ctx context.Context) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&models.User{}).Where("host = ?", true).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		email := s.mailFrom
		if email == "" {
			email = "discovery-team@localhost"
		}
		var clash int64
		tx.Model(&models.User{}).Where("email = ?", email).Count(&clash)
		if clash > 0 {
			email = "discovery-team+" + RandomToken(3) + "@localhost"
		}
		u := models.User{Email: email, Name: models.DefaultHostName, Role: models.RoleSales, Host: true, WeeklyJSON: encodeJSON(models.DefaultWeekly().ToJSON())}
		if err := tx.Create(&u).Error; err != nil {
			return err
		}
		return s.bumpAvailability(tx)
	})
}

// Availability returns one host's availability; hostID 0 means the first
// enabled host.
func (s *Store) Availability(ctx context.Context, hostID uint) (models.AvailabilityConfig, error) {
	db := s.read.WithContext(ctx)
	var h models.User
	q := db.Where("host = ?", true)
	if hostID != 0 {
		q = q.Where("id = ?", hostID)
	} else {
		q = q.Order("disabled, id")
	}
	if err := q.Take(&h).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return models.AvailabilityConfig{}, models.ErrNotFound
		}
		return models.AvailabilityConfig{}, err
	}
	bs, err := s.bookingSettings(db)
	if err != nil {
		return models.AvailabilityConfig{}, err
	}
	var ovs []models.AvailabilityOverride
	if err := db.Where("host_id = ?", h.ID).Order("date").Find(&ovs).Error; err != nil {
		return models.AvailabilityConfig{}, err
	}
	cfg := models.AvailabilityConfig{HostID: h.ID, BookingSettings: bs, MaxPerDay: h.MaxPerDay,
		Weekly: decodeWeekly(h.WeeklyJSON).ToJSON(), Overrides: []models.OverrideJSON{}}
	m := s.HostMeeting(&h)
	cfg.Meeting, cfg.MeetingIsDefault = &m, h.MeetingKind == ""
	for _, o := range ovs {
		var hj models.HoursJSON
		_ = json.Unmarshal([]byte(o.HoursJSON), &hj)
		if hj == nil {
			hj = models.HoursJSON{}
		}
		cfg.Overrides = append(cfg.Overrides, models.OverrideJSON{Date: o.Date, Hours: hj})
	}
	return cfg, nil
}

// SetAvailability validates cfg and saves it: the shared settings for all
// hosts, the weekly hours, overrides and cap for cfg.HostID (0: first host).
func (s *Store) SetAvailability(ctx context.Context, cfg models.AvailabilityConfig) (models.AvailabilityConfig, error) {
	ctx, now := s.withTxNow(ctx)
	verr := &models.ValidationError{}
	bs := cfg.BookingSettings
	switch {
	case bs.DurationMinutes < 5 || bs.DurationMinutes > 480 || bs.DurationMinutes%5 != 0:
		verr.Add("duration_minutes", "must be a multiple of 5 from 5 to 480")
	}
	if bs.BufferMinutes < 0 || bs.BufferMinutes > maxBufferMinutes || bs.BufferMinutes%5 != 0 {
		verr.Add("buffer_minutes", "must be a multiple of 5 from 0 to "+strconv.Itoa(maxBufferMinutes))
	}
	if bs.MinNoticeMinutes < 0 || bs.MinNoticeMinutes > 60*24*30 {
		verr.Add("min_notice_minutes", "must be from 0 to 43200 (30 days)")
	}
	if bs.HorizonDays < 1 || bs.HorizonDays > models.MaxHorizonDays {
		verr.Add("horizon_days", "must be from 1 to 365")
	}
	if cfg.MaxPerDay < 0 || cfg.MaxPerDay > 100 {
		verr.Add("max_per_day", "must be from 0 (no cap) to 100")
	}
	weekly := models.WeeklyFromJSON(cfg.Weekly, verr)
	seen := map[string]bool{}
	overrides := make([]models.AvailabilityOverride, 0, len(cfg.Overrides))
	for i, o := range cfg.Overrides {
		f := fmt.Sprintf("overrides[%d]", i)
		if _, err := time.Parse(time.DateOnly, o.Date); err != nil {
			verr.Add(f+".date", "must be a date as YYYY-MM-DD")
			continue
		}
		if seen[o.Date] {
			verr.Add(f+".date", "this date is listed twice")
			continue
		}
		seen[o.Date] = true
		ws := models.ParseHours(f+".hours", o.Hours, verr)
		overrides = append(overrides, models.AvailabilityOverride{Date: o.Date, HoursJSON: encodeJSON(models.ToHours(ws))})
	}
	upd := map[string]any{"weekly_json": encodeJSON(weekly.ToJSON()), "max_per_day": cfg.MaxPerDay, "updated_at": now}
	if cfg.Meeting != nil {
		m := checkMeeting(verr, *cfg.Meeting)
		upd["meeting_kind"], upd["meeting_url"], upd["meeting_address"] = m.Kind, m.URL, m.Address
	}
	if err := verr.Err(); err != nil {
		return models.AvailabilityConfig{}, err
	}
	var hostID uint
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var h models.User
		q := tx.Where("host = ?", true)
		if cfg.HostID != 0 {
			q = q.Where("id = ?", cfg.HostID)
		} else {
			q = q.Order("disabled, id")
		}
		if err := q.Take(&h).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return models.Invalid("host_id", "no such host")
			}
			return err
		}
		hostID = h.ID
		if err := s.lockHost(tx, h.ID); err != nil {
			return err
		}
		if err := upsertSetting(tx, settingBooking, encodeJSON(bs)); err != nil {
			return err
		}
		if err := tx.Model(&models.User{}).Where("id = ?", h.ID).Updates(upd).Error; err != nil {
			return err
		}
		if err := tx.Where("host_id = ?", h.ID).Delete(&models.AvailabilityOverride{}).Error; err != nil {
			return err
		}
		for i := range overrides {
			overrides[i].HostID = h.ID
		}
		if len(overrides) > 0 {
			if err := tx.Create(&overrides).Error; err != nil {
				return err
			}
		}
		if err := s.bumpAvailability(tx); err != nil {
			return err
		}
		return s.audit(tx, models.AuditAvailabilityChanged, models.AuditTarget{Type: models.AuditTargetUser, ID: h.ID},
			map[string]any{"host_id": h.ID, "booking_settings": bs, "max_per_day": cfg.MaxPerDay, "overrides": len(overrides)})
	})
	if err != nil {
		return models.AvailabilityConfig{}, err
	}
	return s.Availability(ctx, hostID)
}
