package models

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// ClaimUnit is the grain of host time: every call length, buffer and window
// edge is a multiple of it, so claims of whole units never under-reserve.
const ClaimUnit = 5 * time.Minute

// BookingSettings are shared by all hosts.
type BookingSettings struct {
	DurationMinutes  int `json:"duration_minutes"`
	BufferMinutes    int `json:"buffer_minutes"`
	MinNoticeMinutes int `json:"min_notice_minutes"`
	HorizonDays      int `json:"horizon_days"`
}

// MaxHorizonDays is the furthest ahead calls can ever be offered.
const MaxHorizonDays = 365

// DefaultBookingSettings are the contract's defaults.
var DefaultBookingSettings = BookingSettings{DurationMinutes: 30, BufferMinutes: 0, MinNoticeMinutes: 240, HorizonDays: 30}

// Duration is the call length.
func (b BookingSettings) Duration() time.Duration {
	return time.Duration(b.DurationMinutes) * time.Minute
}

// maxBufferMinutes bounds the buffer setting, and so how far past its end a
// call's claims can reach.
const maxBufferMinutes = 240

// Buffer is the gap kept free after (and so before) each call.
func (b BookingSettings) Buffer() time.Duration { return time.Duration(b.BufferMinutes) * time.Minute }

// Notice is the minimum time between booking and call.
func (b BookingSettings) Notice() time.Duration {
	return time.Duration(b.MinNoticeMinutes) * time.Minute
}

// Horizon is how far ahead calls can be booked.
func (b BookingSettings) Horizon() time.Duration {
	return time.Duration(b.HorizonDays) * 24 * time.Hour
}

// Window is an open interval of a day, in minutes after local midnight.
type Window struct{ Start, End int }

// Weekly is a host's open windows per weekday (index time.Weekday).
type Weekly [7][]Window

var dayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// DefaultWeekly is Monday to Friday, 09:00 to 17:00.
func DefaultWeekly() Weekly {
	var w Weekly
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = []Window{{9 * 60, 17 * 60}}
	}
	return w
}

// HoursJSON is the contract's wire form of windows: [["09:00","17:00"], …].
type HoursJSON [][2]string

// AvailabilityConfig is one host's availability plus the shared settings,
// exactly as GET/PUT /api/v1/admin/availability carry it.
type AvailabilityConfig struct {
	HostID uint `json:"host_id"`
	BookingSettings
	MaxPerDay int                  `json:"max_per_day"`
	Weekly    map[string]HoursJSON `json:"weekly"`
	Overrides []OverrideJSON       `json:"overrides"`
	// Meeting is where the host's calls happen: its own place, or the
	// default one. Saving without it leaves the host's place as it is.
	Meeting *Meeting `json:"meeting"`
	// MeetingIsDefault is true when the host has no meeting place of its
	// own and Meeting is the default one.
	MeetingIsDefault bool `json:"-"`
}

// OverrideJSON replaces the weekly hours on one date; no hours closes it.
type OverrideJSON struct {
	Date  string    `json:"date"`
	Hours HoursJSON `json:"hours"`
}

func formatHM(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

func parseHM(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

// ToHours turns windows into their wire form.
func ToHours(ws []Window) HoursJSON {
	out := HoursJSON{}
	for _, w := range ws {
		out = append(out, [2]string{formatHM(w.Start), formatHM(w.End)})
	}
	return out
}

// ParseHours validates a list of windows: HH:MM on a 5-minute boundary, end
// after start, no overlaps. field names the input for error messages.
func ParseHours(field string, h HoursJSON, verr *ValidationError) []Window {
	out := make([]Window, 0, len(h))
	for i, pair := range h {
		f := fmt.Sprintf("%s[%d]", field, i)
		a, ok1 := parseHM(pair[0])
		b, ok2 := parseHM(pair[1])
		switch {
		case !ok1 || !ok2:
			verr.Add(f, "times must be HH:MM, from 00:00 to 24:00")
			continue
		case a%5 != 0 || b%5 != 0:
			verr.Add(f, "times must fall on a 5-minute boundary")
			continue
		case b <= a:
			verr.Add(f, "end must be after start")
			continue
		}
		out = append(out, Window{a, b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	for i := 1; i < len(out); i++ {
		if out[i].Start < out[i-1].End {
			verr.Add(field, fmt.Sprintf("windows overlap (%s–%s and %s–%s)",
				formatHM(out[i-1].Start), formatHM(out[i-1].End), formatHM(out[i].Start), formatHM(out[i].End)))
		}
	}
	return out
}

func (w Weekly) toJSON() map[string]HoursJSON {
	out := map[string]HoursJSON{}
	for d, ws := range w {
		if len(ws) > 0 {
			out[dayKeys[d]] = ToHours(ws)
		}
	}
	return out
}

func weeklyFromJSON(m map[string]HoursJSON, verr *ValidationError) Weekly {
	var w Weekly
	for k, h := range m {
		idx := -1
		for i, dk := range dayKeys {
			if dk == strings.ToLower(k) {
				idx = i
			}
		}
		if idx < 0 {
			verr.Add("weekly."+k, "not a day: use mon, tue, wed, thu, fri, sat or sun")
			continue
		}
		w[idx] = ParseHours("weekly."+k, h, verr)
	}
	return w
}

func decodeWeekly(s string) Weekly {
	var m map[string]HoursJSON
	_ = json.Unmarshal([]byte(s), &m)
	return weeklyFromJSON(m, &ValidationError{})
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
func (s *Store) BookingSettings(ctx context.Context) (BookingSettings, error) {
	return s.bookingSettings(s.read.WithContext(ctx))
}

func (s *Store) bookingSettings(db *gorm.DB) (BookingSettings, error) {
	return readOnce(db, func(r *batchReads) *once[BookingSettings] { return &r.settings },
		func() (BookingSettings, error) { return s.readBookingSettings(db) })
}

func (s *Store) readBookingSettings(db *gorm.DB) (BookingSettings, error) {
	var value string
	err := s.queryRow(db, "SELECT value FROM settings WHERE key = ?", []any{settingBooking}, &value)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return DefaultBookingSettings, nil
	}
	if err != nil {
		return BookingSettings{}, err
	}
	bs := DefaultBookingSettings
	if err := json.Unmarshal([]byte(value), &bs); err != nil {
		return BookingSettings{}, fmt.Errorf("booking settings: %w", err)
	}
	return bs, nil
}

// weekly decodes a host's weekly hours, remembering the last few: they
// change rarely and every booking needs them.
func (s *Store) weekly(raw string) Weekly {
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
		s.weeklies = map[string]Weekly{}
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
	res := tx.Model(&Setting{}).Where("key = ?", key).Update("value", value)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return tx.Create(&Setting{Key: key, Value: value}).Error
	}
	return nil
}

// Hosts returns every user marked as a host, enabled or not, by id.
func (s *Store) Hosts(ctx context.Context) ([]User, error) {
	var hs []User
	err := s.read.WithContext(ctx).Where("host = ?", true).Order("id").Find(&hs).Error
	return hs, err
}

// DefaultHostName is the host created when none exists.
const DefaultHostName = "Discovery team"

// EnsureDefaultHost creates the "Discovery team" host, who cannot sign in,
// when there is no host at all, so booking works on a fresh install.
func (s *Store) EnsureDefaultHost(ctx context.Context) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&User{}).Where("host = ?", true).Count(&n).Error; err != nil {
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
		tx.Model(&User{}).Where("email = ?", email).Count(&clash)
		if clash > 0 {
			email = "discovery-team+" + RandomToken(3) + "@localhost"
		}
		u := User{Email: email, Name: DefaultHostName, Role: RoleSales, Host: true, WeeklyJSON: encodeJSON(DefaultWeekly().toJSON())}
		if err := tx.Create(&u).Error; err != nil {
			return err
		}
		return s.bumpAvailability(tx)
	})
}

// Availability returns one host's availability; hostID 0 means the first
// enabled host.
func (s *Store) Availability(ctx context.Context, hostID uint) (AvailabilityConfig, error) {
	db := s.read.WithContext(ctx)
	var h User
	q := db.Where("host = ?", true)
	if hostID != 0 {
		q = q.Where("id = ?", hostID)
	} else {
		q = q.Order("disabled, id")
	}
	if err := q.Take(&h).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return AvailabilityConfig{}, ErrNotFound
		}
		return AvailabilityConfig{}, err
	}
	bs, err := s.bookingSettings(db)
	if err != nil {
		return AvailabilityConfig{}, err
	}
	var ovs []AvailabilityOverride
	if err := db.Where("host_id = ?", h.ID).Order("date").Find(&ovs).Error; err != nil {
		return AvailabilityConfig{}, err
	}
	cfg := AvailabilityConfig{HostID: h.ID, BookingSettings: bs, MaxPerDay: h.MaxPerDay,
		Weekly: decodeWeekly(h.WeeklyJSON).toJSON(), Overrides: []OverrideJSON{}}
	m := s.HostMeeting(&h)
	cfg.Meeting, cfg.MeetingIsDefault = &m, h.MeetingKind == ""
	for _, o := range ovs {
		var hj HoursJSON
		_ = json.Unmarshal([]byte(o.HoursJSON), &hj)
		if hj == nil {
			hj = HoursJSON{}
		}
		cfg.Overrides = append(cfg.Overrides, OverrideJSON{Date: o.Date, Hours: hj})
	}
	return cfg, nil
}

// SetAvailability validates cfg and saves it: the shared settings for all
// hosts, the weekly hours, overrides and cap for cfg.HostID (0: first host).
func (s *Store) SetAvailability(ctx context.Context, cfg AvailabilityConfig) (AvailabilityConfig, error) {
	verr := &ValidationError{}
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
	if bs.HorizonDays < 1 || bs.HorizonDays > MaxHorizonDays {
		verr.Add("horizon_days", "must be from 1 to 365")
	}
	if cfg.MaxPerDay < 0 || cfg.MaxPerDay > 100 {
		verr.Add("max_per_day", "must be from 0 (no cap) to 100")
	}
	weekly := weeklyFromJSON(cfg.Weekly, verr)
	seen := map[string]bool{}
	overrides := make([]AvailabilityOverride, 0, len(cfg.Overrides))
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
		ws := ParseHours(f+".hours", o.Hours, verr)
		overrides = append(overrides, AvailabilityOverride{Date: o.Date, HoursJSON: encodeJSON(ToHours(ws))})
	}
	upd := map[string]any{"weekly_json": encodeJSON(weekly.toJSON()), "max_per_day": cfg.MaxPerDay, "updated_at": s.Now()}
	if cfg.Meeting != nil {
		m := checkMeeting(verr, *cfg.Meeting)
		upd["meeting_kind"], upd["meeting_url"], upd["meeting_address"] = m.Kind, m.URL, m.Address
	}
	if err := verr.Err(); err != nil {
		return AvailabilityConfig{}, err
	}
	var hostID uint
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var h User
		q := tx.Where("host = ?", true)
		if cfg.HostID != 0 {
			q = q.Where("id = ?", cfg.HostID)
		} else {
			q = q.Order("disabled, id")
		}
		if err := q.Take(&h).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return Invalid("host_id", "no such host")
			}
			return err
		}
		hostID = h.ID
		if err := upsertSetting(tx, settingBooking, encodeJSON(bs)); err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("id = ?", h.ID).Updates(upd).Error; err != nil {
			return err
		}
		if err := tx.Where("host_id = ?", h.ID).Delete(&AvailabilityOverride{}).Error; err != nil {
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
		return s.bumpAvailability(tx)
	})
	if err != nil {
		return AvailabilityConfig{}, err
	}
	return s.Availability(ctx, hostID)
}
