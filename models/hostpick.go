package models

import (
	"encoding/json"
	"sort"
	"time"

	"gorm.io/gorm"
)

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
	// The host is busy exactly when a unit the call would claim is held
	// by another booking: read those few claim rows by primary key.
	span := bs.Duration() + bs.Buffer()
	units := claimUnits(start, span)
	var busyIDs []uint
	if err := tx.Model(&BookingClaim{}).Distinct("host_id").
		Where("host_id IN ? AND unit >= ? AND unit <= ? AND booking_id <> ?", onGridIDs, units[0], units[len(units)-1], skip).
		Pluck("host_id", &busyIDs).Error; err != nil {
		return nil, err
	}
	for _, id := range busyIDs {
		byID[id].Busy = []Interval{{Start: start, End: start.Add(span)}}
	}
	if err := markCalendarBusy(tx, byID, onGridIDs, start, bs); err != nil {
		return nil, err
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
