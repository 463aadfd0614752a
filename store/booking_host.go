package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// enabledHosts reads the hosts who take calls, in id order. Their rows are
// not locked: on PostgreSQL, bookings for different hosts, or for different
// times of one host, run side by side. The claims' key refuses an overlap,
// a daily cap is counted under its host's lock for that day (lockForPick),
// and a booking that loses a claim race picks again (placeOnAHost).
func (s *Store) enabledHosts(tx *gorm.DB) ([]models.User, error) {
	hosts, err := readOnce(tx, func(r *batchReads) *once[[]models.User] { return &r.hosts }, func() ([]models.User, error) {
		var hs []models.User
		err := tx.Where("host = ? AND disabled = ?", true, false).Order("id").Find(&hs).Error
		return hs, err
	})
	// A copy: the caller may hand out pointers into it.
	return slices.Clone(hosts), err
}

// pickHost returns the free host whose turn it is for a call at start (see
// orderByTurn), ignoring booking skip (the one being moved). ErrSlotTaken
// when none is free.
func (s *Store) pickHost(tx *gorm.DB, hosts []models.User, start time.Time, bs callSettings, now time.Time, skip uint) (*models.User, error) {
	// With several hosts, the statement that reads who is busy counts
	// whose turn it is too (orderByTurn): a round trip fewer.
	var turnsSince time.Time
	if len(hosts) > 1 {
		turnsSince = turnWindowStart(start, now)
	}
	scheds, turns, err := s.schedulesAround(tx, hosts, start, bs, skip, turnsSince)
	if err != nil {
		return nil, err
	}
	rules := bs.rules(s.loc, now)
	var free []*models.HostSchedule
	for _, h := range scheds {
		if models.HostCanTake(h, start, rules) {
			free = append(free, h)
		}
	}
	if len(free) == 0 {
		return nil, models.ErrSlotTaken
	}
	if len(free) > 1 {
		orderByTurn(hosts, free, turns)
	}
	for i := range hosts {
		if hosts[i].ID == free[0].ID {
			return &hosts[i], nil
		}
	}
	return nil, models.ErrSlotTaken
}

// schedulesAround builds, for the hosts whose hours offer start, just what
// deciding that one slot needs: whether another call holds any of its claim
// units, and the count of calls on its business day. It reads a few rows by
// primary key, not a calendar. Unless turnsSince is zero, it also counts
// each host's calls from then on (see orderByTurn).
func (s *Store) schedulesAround(tx *gorm.DB, hosts []models.User, start time.Time, bs callSettings, skip uint, turnsSince time.Time) ([]*models.HostSchedule, map[uint]hostTurn, error) {
	pp := s.planPick(tx, hosts, start, bs, skip, turnsSince)
	byID, ids, local, date := pp.byID, pp.ids, pp.local, pp.date
	if len(ids) == 0 {
		return nil, nil, nil
	}
	if err := s.lockForPick(tx, pp.lock); err != nil {
		return nil, nil, err
	}
	var turns map[uint]hostTurn
	if !turnsSince.IsZero() {
		turns = map[uint]hostTurn{}
	}
	busy := map[uint]bool{}
	span := bs.Duration() + bs.Buffer()
	err := s.query(tx, pp.busy.q, pp.busy.args, func(r rowScanner) error {
		var kind, hours string
		var id uint
		if err := r.Scan(&kind, &id, &hours); err != nil {
			return err
		}
		switch kind {
		case "t":
			n, last, _ := strings.Cut(hours, " ")
			t := hostTurn{}
			t.calls, _ = strconv.Atoi(n)
			t.last, _ = strconv.ParseInt(last, 10, 64)
			turns[id] = t
			return nil
		case "o":
		default:
			busy[id] = true
			return nil
		}
		var hj models.HoursJSON
		_ = json.Unmarshal([]byte(hours), &hj)
		byID[id].Overrides = map[string][]models.Window{date: models.ParseHours("", hj, &models.ValidationError{})}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	rules := bs.rules(s.loc, time.Time{})
	var out []*models.HostSchedule
	var onGridIDs []uint
	for _, id := range ids {
		if h := byID[id]; models.OnGrid(h, start, rules) {
			if busy[id] {
				h.Busy = []models.Interval{{Start: start, End: start.Add(span)}}
			}
			out = append(out, h)
			onGridIDs = append(onGridIDs, id)
		}
	}
	if len(out) == 0 {
		return nil, nil, nil
	}
	if pp.capped {
		if err := countDay(tx, byID, onGridIDs, local, date, skip); err != nil {
			return nil, nil, err
		}
	}
	if pp.weekCapped {
		if err := countWeek(tx, byID, onGridIDs, local, skip); err != nil {
			return nil, nil, err
		}
	}
	return out, turns, nil
}

// pickPlan is what schedulesAround reads for a start, before it reads it:
// the hosts' schedules to fill, and its two statements.
type pickPlan struct {
	byID               map[uint]*models.HostSchedule
	ids                []uint // in id order
	local              time.Time
	date               string
	capped, weekCapped bool
	lock, busy         statement
}

// statement is a statement with its arguments.
type statement struct {
	q    string
	args []any
}

// planPick plans schedulesAround's reads for hosts at start.
func (s *Store) planPick(tx *gorm.DB, hosts []models.User, start time.Time, bs callSettings, skip uint, turnsSince time.Time) pickPlan {
	pp := pickPlan{byID: map[uint]*models.HostSchedule{}, local: start.In(s.loc)}
	pp.date = pp.local.Format(time.DateOnly)
	for _, u := range hosts {
		// Overrides and PerDay stay nil (read as empty) unless filled below.
		pp.byID[u.ID] = &models.HostSchedule{ID: u.ID, Weekly: s.weekly(u.WeeklyJSON), MaxPerDay: u.MaxPerDay, MaxPerWeek: u.MaxPerWeek}
		pp.ids = append(pp.ids, u.ID)
		pp.capped = pp.capped || u.MaxPerDay > 0 || bs.kind.MaxPerDay > 0
		pp.weekCapped = pp.weekCapped || u.MaxPerWeek > 0
	}
	if len(pp.ids) == 0 {
		return pp
	}
	pp.lock = s.lockStatement(tx, pp.byID, pp.ids, pp.local, bs.kind.MaxPerDay > 0)
	// One statement reads what deciding needs: the day's overrides, and
	// which hosts are busy then. A host is busy exactly when a unit the
	// call would claim is held by another booking (a few claim rows, read
	// by primary key), or when its own calendar, as last read, holds
	// anything then: the cache that offered the slot may predate that read.
	span := bs.Duration() + bs.Buffer()
	units := claimUnits(start, span)
	in := inList(len(pp.ids))
	idv := idArgs(pp.ids)
	args := make([]any, 0, 6+3*len(pp.ids))
	args = append(append(args, pp.date), idv...)
	args = append(append(args, units[0], units[len(units)-1], int64(skip)), idv...)
	args = append(append(args, start.Add(-bs.Buffer()).UTC(), start.Add(span).UTC()), idv...)
	q := "SELECT 'o', host_id, hours_json FROM availability_overrides WHERE date = ? AND host_id IN (" + in + ")" +
		" UNION ALL SELECT DISTINCT 'c', host_id, '' FROM booking_claims WHERE unit >= ? AND unit <= ? AND booking_id <> ?" +
		" AND host_id IN (" + in + ")" +
		" UNION ALL SELECT DISTINCT 'b', host_id, '' FROM calendar_busy WHERE end_at > ? AND start_at < ?" +
		" AND host_id IN (" + in + ")"
	if !turnsSince.IsZero() {
		q += " UNION ALL " + turnCountSQL("("+in+")")
		args = append(args, heldCallsArgs(idv, turnsSince.UTC())...)
	}
	pp.busy = statement{q, args}
	return pp
}

// countWeek fills PerWeek with each host's calls of the business week of
// local, in which it holds the host's time (as its host or one of a
// collective call's).
func countWeek(tx *gorm.DB, byID map[uint]*models.HostSchedule, ids []uint, local time.Time, skip uint) error {
	week := models.WeekOf(local)
	monday, _ := time.ParseInLocation(time.DateOnly, week, local.Location())
	counts, err := hostCallCounts(tx, ids, monday, monday.AddDate(0, 0, 7), skip)
	for id, n := range counts {
		byID[id].PerWeek = map[string]int{week: n}
	}
	return err
}

// heldCallsSQL selects, per host among those in names (an IN operand:
// "?" for one GORM slice argument, or a parenthesized list), and per the
// columns of by (a GROUP BY list of b's columns; "" for none), the rows
// (h, by…, n, m): how many of the calls that hold the host's time match
// where, and the highest of their ids. The calls that hold a host's time
// are those it hosts and the collective calls it sits on as another host,
// so a collective call counts once for each of its hosts, in the caps and
// in whose turn it is, as the slot listing counts it. where applies to the
// call, as b, and is given twice; heldCallsArgs orders the arguments.
//
// Each half counts by itself: the busy check runs this for every booking
// with several hosts, over every upcoming call of theirs, and a count
// straight off the index costs far less than a union of the rows counted
// afterwards. A host can appear in both halves; callers add them up.
func heldCallsSQL(in, where, by string) string {
	cols, group := "", ""
	if by != "" {
		cols, group = by+", ", ", "+by
	}
	return "SELECT b.host_id AS h, " + cols + "COUNT(*) AS n, MAX(b.id) AS m FROM bookings b WHERE b.host_id IN " + in +
		" AND " + where + " GROUP BY b.host_id" + group +
		" UNION ALL SELECT bh.host_id AS h, " + cols + "COUNT(*) AS n, MAX(b.id) AS m FROM booking_hosts bh" +
		" JOIN bookings b ON b.id = bh.booking_id WHERE b.collective AND bh.host_id <> b.host_id AND bh.host_id IN " + in +
		" AND " + where + " GROUP BY bh.host_id" + group
}

// heldCallsArgs are heldCallsSQL's arguments: ids (one slice, or the ids
// one by one), then where's, twice.
func heldCallsArgs(ids []any, whereArgs ...any) []any {
	args := make([]any, 0, 2*(len(ids)+len(whereArgs)))
	args = append(append(args, ids...), whereArgs...)
	args = append(append(args, ids...), whereArgs...)
	return args
}

// hostCallCounts counts each host's confirmed calls starting in [from, to),
// those of collective calls included, leaving out booking skip.
func hostCallCounts(tx *gorm.DB, ids []uint, from, to time.Time, skip uint) (map[uint]int, error) {
	var rows []struct {
		HostID uint
		N      int
	}
	err := tx.Raw("SELECT h AS host_id, CAST(SUM(n) AS bigint) AS n FROM ("+heldCallsSQL("?", confirmedBetween, "")+") x GROUP BY h",
		heldCallsArgs([]any{ids}, models.BookingConfirmed, from.UTC(), to.UTC(), skip)...).Scan(&rows).Error
	out := map[uint]int{}
	for _, r := range rows {
		out[r.HostID] = r.N
	}
	return out, err
}

// confirmedBetween is heldCallsSQL's where for the confirmed calls
// starting in a range, but one: status, from, to, the call left out.
const confirmedBetween = "b.status = ? AND b.start_at >= ? AND b.start_at < ? AND b.id <> ?"

// countDay fills PerDay[date] with each host's confirmed calls that day,
// and KindPerDay with them by kind: a collective call counts toward the
// day of each of its hosts, as the slot listing counts it.
func countDay(tx *gorm.DB, byID map[uint]*models.HostSchedule, ids []uint, local time.Time, date string, skip uint) error {
	y, m, d := local.Date()
	dayStart := time.Date(y, m, d, 0, 0, 0, 0, local.Location())
	var rows []struct {
		HostID uint
		CallID string
		N      int
	}
	from, to := dayStart.UTC(), dayStart.AddDate(0, 0, 1).UTC()
	err := tx.Raw("SELECT h AS host_id, call_id, CAST(SUM(n) AS bigint) AS n FROM ("+heldCallsSQL("?", confirmedBetween, "b.call_id")+") x GROUP BY h, call_id",
		heldCallsArgs([]any{ids}, models.BookingConfirmed, from, to, skip)...).Scan(&rows).Error
	for _, r := range rows {
		h := byID[r.HostID]
		if h.PerDay == nil {
			h.PerDay, h.KindPerDay = map[string]int{}, map[string]int{}
		}
		h.PerDay[date] += r.N
		h.KindPerDay[models.KindDayKey(r.CallID, date)] += r.N
	}
	return err
}

// turnWindowStart is where the calls that decide whose turn it is begin,
// for a call at start: 30 days before it, or now when that is earlier, so
// every upcoming call counts too.
func turnWindowStart(start, now time.Time) time.Time {
	since := start.AddDate(0, 0, -30)
	if now.Before(since) {
		since = now
	}
	return since
}

// hostTurn is what decides a host's turn: its calls (not canceled)
// starting from the turn window's start, and the id of the latest.
type hostTurn struct {
	calls int
	last  int64
}

// turnCountSQL counts, per host among in's ids, the calls that hold its
// time (heldCallsSQL), are not canceled and start from a time on: rows
// ('t', host, "calls last-id"), to follow the busy check's rows in one
// statement. Its arguments: heldCallsArgs(ids, from). The status is
// written out, not an argument: a plan made for any arguments can use the
// partial index of the calls not canceled only when it sees that.
func turnCountSQL(in string) string {
	return "SELECT 't', h, CAST(SUM(n) AS text) || ' ' || CAST(MAX(m) AS text) FROM (" +
		heldCallsSQL(in, "b.status <> '"+models.BookingCanceled+"' AND b.start_at >= ?", "") + ") x GROUP BY h"
}

// orderByTurn sorts free hosts by whose turn it is: the highest priority
// first; among those, the fewest calls (those in the 30 days before start,
// and every upcoming one, collective calls counting for each of their
// hosts: turns) per unit of weight; then the one booked least recently,
// then the lowest id. With two always-free hosts of weights 20 and 10, the
// first takes two calls for each of the second's.
func orderByTurn(hosts []models.User, free []*models.HostSchedule, turns map[uint]hostTurn) {
	users := make(map[uint]*models.User, len(hosts))
	for i := range hosts {
		users[hosts[i].ID] = &hosts[i]
	}
	weight := func(id uint) int {
		if w := users[id].Weight; w > 0 {
			return w
		}
		return models.DefaultHostWeight
	}
	sort.SliceStable(free, func(i, j int) bool {
		a, b := free[i].ID, free[j].ID
		if pa, pb := users[a].Priority, users[b].Priority; pa != pb {
			return pa > pb
		}
		// calls[a]/weight(a) < calls[b]/weight(b), without division.
		if la, lb := turns[a].calls*weight(b), turns[b].calls*weight(a); la != lb {
			return la < lb
		}
		if turns[a].last != turns[b].last {
			return turns[a].last < turns[b].last
		}
		return a < b
	})
}

// takesVisitor is the phone rule, the one every booking path applies: a
// host who phones visitors can take only a visitor who left a number.
func (s *Store) takesVisitor(h *models.User, phone string) bool {
	return strings.TrimSpace(phone) != "" || s.HostMeeting(h).Kind != models.MeetingPhone
}

// hostsTaking splits hosts into those who can take a visitor with phone
// and those who cannot (they phone, and there is no number).
func (s *Store) hostsTaking(hosts []models.User, phone string) (takes, phoning []models.User) {
	for _, h := range hosts {
		if s.takesVisitor(&h, phone) {
			takes = append(takes, h)
		} else {
			phoning = append(phoning, h)
		}
	}
	return takes, phoning
}

// pickHostFor is pickHost for a visitor's request among the hosts who can
// take them. When only hosts who phone are free at that time, the number
// is required: a ValidationError on "phone".
func (s *Store) pickHostFor(tx *gorm.DB, hosts []models.User, req models.BookingRequest, bs callSettings) (*models.User, error) {
	now := s.txNow(tx)
	takes, phoning := s.hostsTaking(hosts, req.Phone)
	host, err := s.pickHost(tx, takes, req.Start, bs, now, 0)
	if !errors.Is(err, models.ErrSlotTaken) || len(phoning) == 0 {
		return host, err
	}
	if _, err := s.pickHost(tx, phoning, req.Start, bs, now, 0); err != nil {
		return nil, err
	}
	return nil, models.PhoneRequired()
}

// PhoneNeeded reports whether a visitor who leaves no phone number cannot
// be booked at all: every enabled host that routedHosts (a route's host
// emails; none: every host) may give them phones. The booking form asks for
// the number up front then, with its other problems.
func (s *Store) PhoneNeeded(ctx context.Context, routedHosts []string) (bool, error) {
	var hosts []models.User
	if err := s.read.WithContext(ctx).Where("host = ? AND disabled = ?", true, false).Order("id").Find(&hosts).Error; err != nil {
		return false, err
	}
	hosts = routeHosts(hosts, normalizeEmails(routedHosts), func(u *models.User) string { return u.Email })
	takes, _ := s.hostsTaking(hosts, "")
	return len(hosts) > 0 && len(takes) == 0, nil
}
