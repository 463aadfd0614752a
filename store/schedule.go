package store

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// availabilityCache keeps the hosts' schedules in memory between changes.
// Every change to bookings or availability writes a new version in its
// transaction; a reader compares one small row and reloads only when it
// moved, so any number of replicas stay correct.
type availabilityCache struct {
	mu       sync.Mutex
	version  string
	loadedAt time.Time
	settings models.BookingSettings
	hosts    []*models.HostSchedule
	// offered is every start at which some host is free, from a day before
	// the load to past the horizon, ignoring notice and horizon (which move
	// with the clock and are applied per request).
	offered []models.Slot
	// wide are the rules offered was computed with, from and to its span.
	wide     models.SlotRules
	from, to time.Time
	// routed holds the same list for subsets of the hosts a route names,
	// by their ids, computed on first use from the cached schedules. It is
	// emptied with every reload; routes are few, so it stays small.
	routed map[string][]models.Slot
	// stale is set by a change this process committed, so its own next
	// request reloads without waiting for the version other processes read.
	stale bool
}

// invalidate makes the next request reload.
func (c *availabilityCache) invalidate() {
	c.mu.Lock()
	c.stale = true
	c.mu.Unlock()
}

// cacheMaxAge bounds how long a schedule is reused even without a version
// change, since calls drift from the future into the past.
const cacheMaxAge = time.Minute

// Slots lists the offered slots starting in [from, to). The answer is a
// window onto the cached list of free starts, cut by the minimum notice and
// the horizon as of now; it costs two binary searches. The slice is shared:
// callers must not modify it.
func (s *Store) Slots(ctx context.Context, from, to time.Time) ([]models.Slot, models.BookingSettings, error) {
	return s.RoutedSlots(ctx, from, to, nil)
}

// RoutedSlots is Slots for the hosts a route names by email (see
// routeHosts; none: every host), as the booking will pick among them. A
// subset's list is computed once from the cached schedules, not read again.
func (s *Store) RoutedSlots(ctx context.Context, from, to time.Time, hosts []string) ([]models.Slot, models.BookingSettings, error) {
	return s.KindSlots(ctx, from, to, nil, hosts)
}

// KindSlots is RoutedSlots for one kind of call (nil: the discovery call
// of the shared length): its length and step, its hosts narrowed by the
// route, its daily cap, and for a collective call only the times every
// one of its hosts is free. The settings returned carry the kind's length.
func (s *Store) KindSlots(ctx context.Context, from, to time.Time, kind *models.CallKind, hosts []string) ([]models.Slot, models.BookingSettings, error) {
	offered, bs, err := s.cachedOffered(ctx, kind, normalizeEmails(hosts))
	if err != nil {
		return nil, models.BookingSettings{}, err
	}
	rules := models.SlotRules{Settings: bs, Loc: s.loc, Now: s.Now()}
	lo, hi := from, to
	if e := rules.Earliest(); e.After(lo) {
		lo = e
	}
	if l := rules.Latest().Add(time.Nanosecond); l.Before(hi) {
		hi = l
	}
	i := sort.Search(len(offered), func(i int) bool { return !offered[i].Start.Before(lo) })
	j := sort.Search(len(offered), func(i int) bool { return !offered[i].Start.Before(hi) })
	if i >= j {
		return []models.Slot{}, bs, nil
	}
	return offered[i:j:j], bs, nil
}

// SlotsMoving lists the times booking b could move to in [from, to): the
// offered slots as if b were not booked (its own buffer and its place in a
// daily cap no longer block its neighbours), without its current time. It
// reads the calendar afresh, so use it for one visitor's reschedule page.
func (s *Store) SlotsMoving(ctx context.Context, b *models.Booking, from, to time.Time) ([]models.Slot, models.BookingSettings, error) {
	db := s.read.WithContext(ctx)
	bs, err := s.bookingSettings(db)
	if err != nil {
		return nil, models.BookingSettings{}, err
	}
	now := s.Now()
	hosts, err := s.loadSchedules(db, nil, bs, s.weekStart(now.Add(-24*time.Hour)), time.Time{}, b.ID)
	if err != nil {
		return nil, models.BookingSettings{}, err
	}
	kind := s.bookingKind(b)
	cs := settingsFor(bs, kind)
	hosts = kindSchedules(hosts, kind, splitRouteHosts(b.RouteHosts))
	all := models.ComputeSlots(hosts, from, to, cs.rules(s.loc, now))
	out := all[:0]
	for _, sl := range all {
		if !sl.Start.Equal(b.StartAt) {
			out = append(out, sl)
		}
	}
	return out, cs.BookingSettings, nil
}

// cachedOffered returns the cached free starts, reloading them when the
// availability version moved or the cache is a minute old.
func (s *Store) cachedOffered(ctx context.Context, kind *models.CallKind, emails []string) ([]models.Slot, models.BookingSettings, error) {
	db := s.read.WithContext(ctx)
	var v models.Setting
	err := s.queryRow(db, s.availabilityVersionSQL(), []any{settingAvailVersion}, &v.Value)
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.BookingSettings{}, err
	}
	c := &s.avail
	c.mu.Lock()
	defer c.mu.Unlock()
	now := s.Now()
	if c.hosts != nil && !c.stale && c.version == v.Value && now.Sub(c.loadedAt) < cacheMaxAge && !now.Before(c.loadedAt) {
		return c.subset(kind, emails), settingsFor(c.settings, kind).BookingSettings, nil
	}
	bs, err := s.bookingSettings(db)
	if err != nil {
		return nil, models.BookingSettings{}, err
	}
	// From the start of the business week (or a day back, if earlier), so
	// a host's weekly cap counts the week's earlier calls.
	hosts, err := s.loadSchedules(db, nil, bs, s.weekStart(now.Add(-24*time.Hour)), time.Time{}, 0)
	if err != nil {
		return nil, models.BookingSettings{}, err
	}
	// Every start from a day back to two days past the horizon, free of
	// notice and horizon: those are cut per request as the clock moves.
	wide := models.SlotRules{Settings: bs, Loc: s.loc, Now: now.Add(-24 * time.Hour)}
	wide.Settings.MinNoticeMinutes = 0
	wide.Settings.HorizonDays = bs.HorizonDays + 3
	to := now.Add(bs.Horizon() + 48*time.Hour)
	offered := models.ComputeSlots(hosts, wide.Now, to, wide)
	c.version, c.loadedAt, c.settings, c.hosts, c.offered = v.Value, now, bs, hosts, offered
	c.wide, c.from, c.to, c.routed, c.stale = wide, wide.Now, to, map[string][]models.Slot{}, false
	return c.subset(kind, emails), settingsFor(bs, kind).BookingSettings, nil
}

// subset returns the cached free starts of kind for the hosts routed to
// by emails. The caller holds c.mu.
func (c *availabilityCache) subset(kind *models.CallKind, emails []string) []models.Slot {
	hosts := kindSchedules(c.hosts, kind, emails)
	if len(hosts) == len(c.hosts) && kind.IsDiscovery() {
		return c.offered
	}
	ids := make([]string, len(hosts))
	for i, h := range hosts {
		ids[i] = strconv.FormatUint(uint64(h.ID), 10)
	}
	key := kind.Key() + "|" + strings.Join(ids, ",")
	if sl, ok := c.routed[key]; ok {
		return sl
	}
	rules := c.wide
	rules.Settings, rules.Kind = kind.Settings(rules.Settings)
	sl := models.ComputeSlots(hosts, c.from, c.to, rules)
	c.routed[key] = sl
	return sl
}

// kindSchedules is kindHosts for schedules.
func kindSchedules(hosts []*models.HostSchedule, kind *models.CallKind, routed []string) []*models.HostSchedule {
	email := func(h **models.HostSchedule) string { return (*h).Email }
	hosts = routeHosts(hosts, kind.HostEmails(), email)
	if kind != nil && kind.Collective() {
		return hosts
	}
	return routeHosts(hosts, routed, email)
}

// loadSchedules reads enabled hosts (all, or those in ids) with their
// overrides and their confirmed calls starting in [from, to) (no upper bound
// when to is zero), leaving out booking skip (0: none).
func (s *Store) loadSchedules(db *gorm.DB, ids []uint, bs models.BookingSettings, from, to time.Time, skip uint) ([]*models.HostSchedule, error) {
	var users []models.User
	q := db.Where("host = ? AND disabled = ?", true, false)
	if ids != nil {
		q = q.Where("id IN ?", ids)
	}
	if err := q.Order("id").Find(&users).Error; err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return []*models.HostSchedule{}, nil
	}
	byID := map[uint]*models.HostSchedule{}
	hostIDs := make([]uint, 0, len(users))
	out := make([]*models.HostSchedule, 0, len(users))
	for _, u := range users {
		h := &models.HostSchedule{ID: u.ID, Email: u.Email, Weekly: decodeWeekly(u.WeeklyJSON), MaxPerDay: u.MaxPerDay,
			Overrides: map[string][]models.Window{}, PerDay: map[string]int{}, MaxPerWeek: u.MaxPerWeek,
			PerWeek: map[string]int{}, KindPerDay: map[string]int{}}
		byID[u.ID] = h
		hostIDs = append(hostIDs, u.ID)
		out = append(out, h)
	}
	var ovs []models.AvailabilityOverride
	if err := db.Where("host_id IN ?", hostIDs).Find(&ovs).Error; err != nil {
		return nil, err
	}
	for _, o := range ovs {
		var hj models.HoursJSON
		_ = json.Unmarshal([]byte(o.HoursJSON), &hj)
		byID[o.HostID].Overrides[o.Date] = models.ParseHours("", hj, &models.ValidationError{})
	}
	type busyRow struct {
		HostID         uint
		StartAt, EndAt time.Time
		CallID         string
	}
	var rows []busyRow
	q = db.Model(&models.Booking{}).Select("host_id, start_at, end_at, call_id").
		Where("status = ? AND host_id IN ? AND start_at >= ? AND id <> ?", models.BookingConfirmed, hostIDs, from, skip)
	if !to.IsZero() {
		q = q.Where("start_at < ?", to)
	}
	if err := q.Order("start_at").Scan(&rows).Error; err != nil {
		return nil, err
	}
	// The other hosts of collective calls are busy then too.
	var others []busyRow
	q = db.Table("booking_hosts bh").Joins("JOIN bookings b ON b.id = bh.booking_id").
		Select("bh.host_id AS host_id, b.start_at AS start_at, b.end_at AS end_at, b.call_id AS call_id").
		Where("b.collective = ? AND b.status = ? AND bh.host_id <> b.host_id AND bh.host_id IN ? AND b.start_at >= ? AND b.id <> ?",
			true, models.BookingConfirmed, hostIDs, from, skip)
	if !to.IsZero() {
		q = q.Where("b.start_at < ?", to)
	}
	if err := q.Scan(&others).Error; err != nil {
		return nil, err
	}
	for _, r := range append(rows, others...) {
		h := byID[r.HostID]
		h.Busy = append(h.Busy, models.Interval{Start: r.StartAt, End: r.EndAt.Add(bs.Buffer())})
		local := r.StartAt.In(s.loc)
		date := local.Format(time.DateOnly)
		h.PerDay[date]++
		h.KindPerDay[models.KindDayKey(r.CallID, date)]++
		h.PerWeek[models.WeekOf(local)]++
	}
	if err := addCalendarBusy(db, byID, hostIDs, bs, from); err != nil {
		return nil, err
	}
	for _, h := range out {
		h.Busy = mergeIntervals(h.Busy)
	}
	return out, nil
}

// mergeIntervals sorts spans and joins those that touch or overlap, which a
// larger buffer set after calls were booked can cause.
func mergeIntervals(in []models.Interval) []models.Interval {
	sort.Slice(in, func(i, j int) bool { return in[i].Start.Before(in[j].Start) })
	out := in[:0]
	for _, iv := range in {
		if n := len(out); n > 0 && !iv.Start.After(out[n-1].End) {
			if iv.End.After(out[n-1].End) {
				out[n-1].End = iv.End
			}
			continue
		}
		out = append(out, iv)
	}
	return out
}

// weekStart is the midnight that begins the business week of t, or t when
// that is later (no earlier call matters then).
func (s *Store) weekStart(t time.Time) time.Time {
	monday, err := time.ParseInLocation(time.DateOnly, models.WeekOf(t.In(s.loc)), s.loc)
	if err != nil || monday.After(t) {
		return t
	}
	return monday
}
