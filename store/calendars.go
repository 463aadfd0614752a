package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

type calendarCredentials struct {
	Username string `json:"u"`
	Password string `json:"p"`
}

func credentialsContext(hostID uint) string { return fmt.Sprintf("calendar source of host %d", hostID) }

func viewOf(src models.CalendarSource) models.CalendarSourceView {
	v := models.CalendarSourceView{ID: src.ID, Kind: src.Kind, URL: src.URL, LastSyncedAt: src.LastSyncedAt,
		BusyCount: src.BusyCount, HasCredentials: src.CredentialsEnc != ""}
	if src.LastError != "" {
		e := src.LastError
		v.LastError = &e
	}
	return v
}

// requireHost returns ErrNotFound unless id is a host.
func requireHost(db *gorm.DB, id uint) error {
	var n int64
	if err := db.Model(&models.User{}).Where("id = ? AND host = ?", id, true).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return models.ErrNotFound
	}
	return nil
}

// HostCalendars lists host hostID's calendar sources in the order they were
// saved. ErrNotFound when hostID is not a host.
func (s *Store) HostCalendars(ctx context.Context, hostID uint) ([]models.CalendarSourceView, error) {
	db := s.read.WithContext(ctx)
	if err := requireHost(db, hostID); err != nil {
		return nil, err
	}
	var rows []models.CalendarSource
	if err := db.Where("host_id = ?", hostID).Order("position, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]models.CalendarSourceView, len(rows))
	for i, r := range rows {
		out[i] = viewOf(r)
	}
	return out, nil
}

// SetHostCalendars replaces host hostID's sources with in. A source whose
// kind and URL match one already saved keeps its id, its last good busy
// times and, unless new ones are given, its credentials. Credentials are
// sealed with a key derived from the service secret. ErrNotFound when
// hostID is not a host; a ValidationError names "calendars[i].field".
func (s *Store) SetHostCalendars(ctx context.Context, hostID uint, in []models.CalendarSourceInput) ([]models.CalendarSourceView, error) {
	verr := &models.ValidationError{}
	if len(in) > models.MaxCalendarSources {
		verr.Add("calendars", fmt.Sprintf("at most %d calendars per host", models.MaxCalendarSources))
	}
	seen := map[string]bool{}
	for i := range in {
		f := fmt.Sprintf("calendars[%d]", i)
		c := &in[i]
		c.Kind = strings.ToLower(strings.TrimSpace(c.Kind))
		if c.Kind == "" {
			c.Kind = models.CalendarICS
		}
		if c.Kind != models.CalendarICS && c.Kind != models.CalendarCalDAV {
			verr.Add(f+".kind", "must be ics or caldav")
		}
		u, err := models.NormalizeCalendarURL(c.URL)
		if err != nil {
			verr.Add(f+".url", err.Error())
			continue
		}
		c.URL = u
		if seen[c.Kind+" "+u] {
			verr.Add(f+".url", "this calendar is listed twice")
		}
		seen[c.Kind+" "+u] = true
		if len(c.Username) > 254 || len(c.Password) > 1024 {
			verr.Add(f+".username", "user name or password is too long")
		}
		if c.Password != "" && c.Username == "" {
			verr.Add(f+".username", "is required with a password")
		}
	}
	if err := verr.Err(); err != nil {
		return nil, err
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := requireHost(tx, hostID); err != nil {
			return err
		}
		var old []models.CalendarSource
		if err := tx.Where("host_id = ?", hostID).Find(&old).Error; err != nil {
			return err
		}
		byKey := map[string]models.CalendarSource{}
		for _, o := range old {
			byKey[o.Kind+" "+o.URL] = o
		}
		now := s.txNow(tx)
		for i, c := range in {
			src, exists := byKey[c.Kind+" "+c.URL]
			delete(byKey, c.Kind+" "+c.URL)
			if !exists {
				src = models.CalendarSource{HostID: hostID, Kind: c.Kind, URL: c.URL, CreatedAt: now}
			}
			if err := s.auditCalendar(tx, hostID, c, exists); err != nil {
				return err
			}
			if c.Username != "" || c.Password != "" {
				src.CredentialsEnc = s.sealSecret("calendar credentials", credentialsContext(hostID),
					encodeJSON(calendarCredentials{Username: c.Username, Password: c.Password}))
			}
			src.Position, src.UpdatedAt = i, now
			if err := tx.Save(&src).Error; err != nil {
				return err
			}
		}
		changed := false
		for _, gone := range byKey {
			changed = changed || gone.BusyCount > 0
			if err := s.audit(tx, models.AuditCalendarDisconnected, models.AuditTarget{Type: models.AuditTargetUser, ID: hostID},
				calendarDetails(gone.Kind, gone.URL)); err != nil {
				return err
			}
			if err := tx.Where("source_id = ?", gone.ID).Delete(&models.CalendarBusy{}).Error; err != nil {
				return err
			}
			if err := tx.Delete(&models.CalendarSource{}, gone.ID).Error; err != nil {
				return err
			}
		}
		if changed {
			return s.bumpAvailability(tx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.HostCalendars(ctx, hostID)
}

// CalendarsToRead lists the sources to read, with their credentials opened:
// those of host hostID, or with 0 those of every enabled host.
func (s *Store) CalendarsToRead(ctx context.Context, hostID uint) ([]models.CalendarToRead, error) {
	db := s.read.WithContext(ctx)
	q := db.Model(&models.CalendarSource{}).Order("calendar_sources.id")
	if hostID != 0 {
		q = q.Where("host_id = ?", hostID)
	} else {
		q = q.Joins("JOIN users ON users.id = calendar_sources.host_id").
			Where("users.host = ? AND users.disabled = ?", true, false)
	}
	var rows []models.CalendarSource
	if err := q.Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]models.CalendarToRead, len(rows))
	for i, r := range rows {
		out[i] = models.CalendarToRead{ID: r.ID, HostID: r.HostID, Kind: r.Kind, URL: r.URL}
		plain, err := s.openSecret("calendar credentials", credentialsContext(r.HostID), r.CredentialsEnc)
		var cred calendarCredentials
		if err == nil && plain != "" {
			err = json.Unmarshal([]byte(plain), &cred)
		}
		out[i].Username, out[i].Password, out[i].OpenErr = cred.Username, cred.Password, err
	}
	return out, nil
}

// CalendarWindow is the span a read expands recurring events over: from a
// day back (the slot cache starts there) to three days past the horizon.
func (s *Store) CalendarWindow(ctx context.Context) (from, to time.Time, err error) {
	bs, err := s.BookingSettings(ctx)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	now := s.Now()
	return now.Add(-24 * time.Hour), now.Add(bs.Horizon() + 72*time.Hour), nil
}

// SaveCalendarRead stores busy as source sourceID's busy times, replacing
// its last read. It takes the host's lock alone first (lockHost), which
// bookings considering the host share, so a booking and a read of the
// same host run one after the other: a booking that committed first
// stays, one that comes after sees the busy times.
// A source removed meanwhile is left removed. Only a change of busy times
// moves the availability version.
func (s *Store) SaveCalendarRead(ctx context.Context, sourceID uint, busy []models.Interval) error {
	busy = mergeIntervals(busy)
	hash := busyHash(busy)
	return s.tx(ctx, func(tx *gorm.DB) error {
		var src models.CalendarSource
		if err := tx.Where("id = ?", sourceID).Take(&src).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil
			}
			return err
		}
		var host models.User
		if err := s.lockRows(tx.Where("id = ?", src.HostID)).Take(&host).Error; err != nil {
			return err
		}
		if err := s.lockHost(tx, src.HostID); err != nil {
			return err
		}
		now := s.txNow(tx)
		upd := map[string]any{"last_synced_at": now, "last_attempt_at": now, "last_error": "",
			"busy_count": len(busy), "busy_hash": hash}
		if err := tx.Model(&models.CalendarSource{}).Where("id = ?", src.ID).Updates(upd).Error; err != nil {
			return err
		}
		if src.BusyHash == hash {
			return nil
		}
		if err := tx.Where("source_id = ?", src.ID).Delete(&models.CalendarBusy{}).Error; err != nil {
			return err
		}
		rows := make([]models.CalendarBusy, len(busy))
		for i, iv := range busy {
			rows[i] = models.CalendarBusy{SourceID: src.ID, HostID: src.HostID, StartAt: iv.Start.UTC(), EndAt: iv.End.UTC()}
		}
		if len(rows) > 0 {
			if err := tx.CreateInBatches(rows, 500).Error; err != nil {
				return err
			}
		}
		return s.bumpAvailability(tx)
	})
}

// RecordCalendarFailure notes that reading source sourceID failed with msg;
// its last good busy times stay in force.
func (s *Store) RecordCalendarFailure(ctx context.Context, sourceID uint, msg string) error {
	ctx, now := s.withTxNow(ctx)
	if len(msg) > 500 {
		msg = msg[:497] + "..."
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		return tx.Model(&models.CalendarSource{}).Where("id = ?", sourceID).
			Updates(map[string]any{"last_error": msg, "last_attempt_at": now}).Error
	})
}

// busyHash fingerprints sorted busy spans.
func busyHash(busy []models.Interval) string {
	h := sha256.New()
	var b [16]byte
	for _, iv := range busy {
		binary.BigEndian.PutUint64(b[:8], uint64(iv.Start.UnixNano()))
		binary.BigEndian.PutUint64(b[8:], uint64(iv.End.UnixNano()))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// OwnBookingUIDs reports which of uids are this service's bookings. A
// calendar UID counts with or without the "@host" the invites add.
func (s *Store) OwnBookingUIDs(ctx context.Context, uids []string) (map[string]bool, error) {
	bare := map[string][]string{}
	for _, u := range uids {
		b, _, _ := strings.Cut(u, "@")
		if len(b) == 32 { // RandomToken(16): anything else cannot be ours
			bare[b] = append(bare[b], u)
		}
	}
	keys := make([]string, 0, len(bare))
	for k := range bare {
		keys = append(keys, k)
	}
	out := map[string]bool{}
	db := s.read.WithContext(ctx)
	for len(keys) > 0 {
		n := min(len(keys), 500)
		var found []string
		if err := db.Model(&models.Booking{}).Where("uid IN ?", keys[:n]).Pluck("uid", &found).Error; err != nil {
			return nil, err
		}
		for _, f := range found {
			for _, u := range bare[f] {
				out[u] = true
			}
		}
		keys = keys[n:]
	}
	return out, nil
}

// addCalendarBusy adds the hosts' calendar busy times ending after from to
// their schedules, widened by the buffer after them as calls are.
func addCalendarBusy(db *gorm.DB, byID map[uint]*models.HostSchedule, hostIDs []uint, bs models.BookingSettings, from time.Time) error {
	var rows []struct {
		HostID         uint
		StartAt, EndAt time.Time
	}
	if err := db.Model(&models.CalendarBusy{}).Select("host_id, start_at, end_at").
		Where("host_id IN ? AND end_at > ?", hostIDs, from).Scan(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		if h := byID[r.HostID]; h != nil {
			h.Busy = append(h.Busy, models.Interval{Start: r.StartAt, End: r.EndAt.Add(bs.Buffer())})
		}
	}
	return nil
}

// auditCalendar records a source of host hostID as connected (new) or, when
// it existed and new credentials are given, as updated.
func (s *Store) auditCalendar(tx *gorm.DB, hostID uint, c models.CalendarSourceInput, exists bool) error {
	action := models.AuditCalendarConnected
	if exists {
		if c.Username == "" && c.Password == "" {
			return nil
		}
		action = models.AuditCalendarUpdated
	}
	return s.audit(tx, action, models.AuditTarget{Type: models.AuditTargetUser, ID: hostID}, calendarDetails(c.Kind, c.URL))
}

// calendarDetails names a calendar source for the audit log by its kind
// and server only: a calendar's full address often is its password.
func calendarDetails(kind, raw string) map[string]any {
	server := ""
	if u, err := url.Parse(raw); err == nil {
		server = u.Host
	}
	return map[string]any{"kind": kind, "server": server}
}
