package models

import (
	"database/sql"
	"encoding/json"
	"slices"
	"sort"
	"time"

	"gorm.io/gorm"
)

// enabledHosts reads the hosts who take calls, in id order. Their rows are
// not locked: on PostgreSQL, bookings for different hosts, or for different
// times of one host, run side by side. The claims' key refuses an overlap,
// a daily cap is counted under its host's lock for that day (lockCaps),
// and a booking that loses a claim race picks again (placeOnAHost).
func (s *Store) enabledHosts(tx *gorm.DB) ([]User, error) {
	hosts, err := readOnce(tx, func(r *batchReads) *once[[]User] { return &r.hosts }, func() ([]User, error) {
		var hs []User
		err := tx.Where("host = ? AND disabled = ?", true, false).Order("id").Find(&hs).Error
		return hs, err
	})
	// A copy: the caller may hand out pointers into it.
	return slices.Clone(hosts), err
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

// schedulesAround builds, for the hosts whose hours offer start, just what
// deciding that one slot needs: whether another call holds any of its claim
// units, and the count of calls on its business day. It reads a few rows by
// primary key, not a calendar.
func (s *Store) schedulesAround(tx *gorm.DB, hosts []User, start time.Time, bs BookingSettings, skip uint) ([]*HostSchedule, error) {
	local := start.In(s.loc)
	date := local.Format(time.DateOnly)
	byID := map[uint]*HostSchedule{}
	var ids []uint
	capped := false
	for _, u := range hosts {
		// Overrides and PerDay stay nil (read as empty) unless filled below.
		byID[u.ID] = &HostSchedule{ID: u.ID, Weekly: s.weekly(u.WeeklyJSON), MaxPerDay: u.MaxPerDay}
		ids = append(ids, u.ID)
		capped = capped || u.MaxPerDay > 0
	}
	if len(ids) == 0 {
		return nil, nil
	}
	// One statement reads what deciding needs: the day's overrides, and
	// which hosts are busy then. A host is busy exactly when a unit the
	// call would claim is held by another booking (a few claim rows, read
	// by primary key), or when its own calendar, as last read, holds
	// anything then: the cache that offered the slot may predate that read.
	span := bs.Duration() + bs.Buffer()
	units := claimUnits(start, span)
	in := inList(len(ids))
	idv := idArgs(ids)
	args := make([]any, 0, 6+3*len(ids))
	args = append(append(args, date), idv...)
	args = append(append(args, units[0], units[len(units)-1], int64(skip)), idv...)
	args = append(append(args, start.Add(-bs.Buffer()).UTC(), start.Add(span).UTC()), idv...)
	busy := map[uint]bool{}
	err := s.query(tx, "SELECT 'o', host_id, hours_json FROM availability_overrides WHERE date = ? AND host_id IN ("+in+")"+
		" UNION ALL SELECT DISTINCT 'c', host_id, '' FROM booking_claims WHERE unit >= ? AND unit <= ? AND booking_id <> ?"+
		" AND host_id IN ("+in+")"+
		" UNION ALL SELECT DISTINCT 'b', host_id, '' FROM calendar_busy WHERE end_at > ? AND start_at < ?"+
		" AND host_id IN ("+in+")", args, func(r *sql.Rows) error {
		var kind, hours string
		var id uint
		if err := r.Scan(&kind, &id, &hours); err != nil {
			return err
		}
		if kind != "o" {
			busy[id] = true
			return nil
		}
		var hj HoursJSON
		_ = json.Unmarshal([]byte(hours), &hj)
		byID[id].Overrides = map[string][]Window{date: ParseHours("", hj, &ValidationError{})}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rules := SlotRules{Settings: bs, Loc: s.loc}
	var out []*HostSchedule
	var onGridIDs []uint
	for _, id := range ids {
		if h := byID[id]; onGrid(h, start, rules) {
			if busy[id] {
				h.Busy = []Interval{{Start: start, End: start.Add(span)}}
			}
			out = append(out, h)
			onGridIDs = append(onGridIDs, id)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	if capped {
		if err := s.lockCaps(tx, byID, onGridIDs, local); err != nil {
			return nil, err
		}
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
		byID[r.HostID].PerDay = map[string]int{date: r.N}
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
