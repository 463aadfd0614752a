package store_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

var newYorkLoc, _ = time.LoadLocation("America/New_York")

// Kinds of call as a role file declares them, checked as serve checks them.
func kinds(t *testing.T, ks ...models.CallKind) map[string]*models.CallKind {
	t.Helper()
	if err := models.CheckCallKinds(ks); err != nil {
		t.Fatal(err)
	}
	out := map[string]*models.CallKind{}
	for i := range ks {
		out[ks[i].ID] = &ks[i]
	}
	return out
}

func kindRequest(email string, start time.Time, k *models.CallKind) models.BookingRequest {
	r := request(email, start)
	r.Call = k
	return r
}

// localStarts lists the local HH:MM of the slots on one business date.
func localStarts(slots []models.Slot, date string) (starts []string, lengths map[time.Duration]bool) {
	lengths = map[time.Duration]bool{}
	for _, sl := range slots {
		l := sl.Start.In(newYorkLoc)
		if l.Format(time.DateOnly) == date {
			starts = append(starts, l.Format("15:04"))
			lengths[sl.End.Sub(sl.Start)] = true
		}
	}
	return starts, lengths
}

func TestKindSlots_LengthStepHostsAndCapsAcrossADaylightSavingChange(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		// Friday 30 October 2026, 08:00 in New York; summer time ends on
		// Sunday 1 November.
		clock := storetest.NewClock(time.Date(2026, 10, 30, 8, 0, 0, 0, newYorkLoc))
		s := storetest.MustOpen(t, dialect, storetest.Options(clock))
		ctx := context.Background()
		addHost(t, s, "ana")
		ks := kinds(t,
			models.CallKind{ID: "intro", Title: "Intro call", Minutes: 20, StepMinutes: 10},
			models.CallKind{ID: "strategy", Title: "Strategy session", Minutes: 45, StepMinutes: 15,
				Hosts: []string{"ana@callbook.test"}, MaxPerDay: 1})
		// Ana takes at most two calls a week, of any kind.
		if err := s.DB().Model(&models.User{}).Where("email = ?", "ana@callbook.test").Update("max_per_week", 2).Error; err != nil {
			t.Fatal(err)
		}
		from, to := clock.Now(), clock.Now().Add(14*24*time.Hour)
		list := func(k *models.CallKind) []models.Slot {
			t.Helper()
			sl, bs, err := s.KindSlots(ctx, from, to, k, nil)
			if err != nil {
				t.Fatal(err)
			}
			if bs.DurationMinutes != k.Minutes {
				t.Fatalf("%s: duration %d, want %d", k.ID, bs.DurationMinutes, k.Minutes)
			}
			return sl
		}
		for _, date := range []string{"2026-10-30", "2026-11-02"} { // summer time, then winter time
			intro, lengths := localStarts(list(ks["intro"]), date)
			if !lengths[20*time.Minute] || len(lengths) != 1 {
				t.Fatalf("%s intro lengths %v, want 20 minutes", date, lengths)
			}
			if want := "16:40"; intro[len(intro)-1] != want || (date == "2026-11-02" && intro[0] != "09:00") || intro[1] != addMinutes(intro[0], 10) {
				t.Fatalf("%s intro starts %v: want 10-minute steps from 09:00 local to 16:40", date, intro)
			}
			strategy, lengths := localStarts(list(ks["strategy"]), date)
			if !lengths[45*time.Minute] || len(lengths) != 1 || strategy[len(strategy)-1] != "16:15" || strategy[1] != addMinutes(strategy[0], 15) {
				t.Fatalf("%s strategy starts %v lengths %v: want 45 minutes every 15 to 16:15", date, strategy, lengths)
			}
		}
		// Only Ana gives the strategy session; her daily cap for it is one.
		monday := time.Date(2026, 11, 2, 10, 0, 0, 0, newYorkLoc)
		res, err := s.BookSlot(ctx, kindRequest("a@example.com", monday, ks["strategy"]), nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Host.Email != "ana@callbook.test" || !res.Booking.EndAt.Equal(monday.Add(45*time.Minute)) || res.Booking.CallID != "strategy" {
			t.Fatalf("strategy went to %s ending %v as %q", res.Host.Email, res.Booking.EndAt, res.Booking.CallID)
		}
		if st, _ := localStarts(list(ks["strategy"]), "2026-11-02"); len(st) != 0 {
			t.Fatalf("strategy still offered on Monday after its daily cap: %v", st)
		}
		if _, err := s.BookSlot(ctx, kindRequest("b@example.com", monday.Add(2*time.Hour), ks["strategy"]), nil); !errors.Is(err, models.ErrSlotTaken) {
			t.Fatalf("a second strategy session on Monday: %v, want ErrSlotTaken", err)
		}
		// The intro call is still offered on Monday, by the team, but not
		// over Ana's session if she were the only host.
		if in, _ := localStarts(list(ks["intro"]), "2026-11-02"); len(in) == 0 {
			t.Fatal("intro no longer offered on Monday")
		}
		// A second call on Tuesday fills Ana's week: Wednesday's strategy
		// sessions are gone, the next Monday's are not.
		if _, err := s.BookSlot(ctx, kindRequest("c@example.com", monday.AddDate(0, 0, 1), ks["strategy"]), nil); err != nil {
			t.Fatal(err)
		}
		if st, _ := localStarts(list(ks["strategy"]), "2026-11-04"); len(st) != 0 {
			t.Fatalf("strategy offered on Wednesday past Ana's weekly cap: %v", st)
		}
		if _, err := s.BookSlot(ctx, kindRequest("d@example.com", monday.AddDate(0, 0, 2), ks["strategy"]), nil); !errors.Is(err, models.ErrSlotTaken) {
			t.Fatalf("a third call in Ana's week: %v, want ErrSlotTaken", err)
		}
		if st, _ := localStarts(list(ks["strategy"]), "2026-11-09"); len(st) == 0 {
			t.Fatal("the next week's strategy sessions are gone too")
		}
		// Days later, the week's earlier calls still count.
		clock.Set(time.Date(2026, 11, 4, 12, 0, 0, 0, newYorkLoc))
		from = clock.Now()
		if st, _ := localStarts(list(ks["strategy"]), "2026-11-05"); len(st) != 0 {
			t.Fatalf("strategy offered on Thursday past Ana's weekly cap, counted on Wednesday: %v", st)
		}
	})
}

func addMinutes(hm string, m int) string {
	t, _ := time.Parse("15:04", hm)
	return t.Add(time.Duration(m) * time.Minute).Format("15:04")
}

// assertNoOverlap fails when any host has two confirmed calls that overlap.
func assertNoOverlap(t *testing.T, s *store.Store) {
	t.Helper()
	var rows []struct {
		HostID         uint
		StartAt, EndAt time.Time
	}
	err := s.DB().Raw("SELECT b.host_id AS host_id, b.start_at AS start_at, b.end_at AS end_at FROM bookings b WHERE b.status = ? "+
		"UNION ALL SELECT bh.host_id, b.start_at, b.end_at FROM bookings b JOIN booking_hosts bh ON bh.booking_id = b.id "+
		"WHERE b.status = ? AND bh.host_id <> b.host_id", models.BookingConfirmed, models.BookingConfirmed).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].HostID != rows[j].HostID {
			return rows[i].HostID < rows[j].HostID
		}
		return rows[i].StartAt.Before(rows[j].StartAt)
	})
	for i := 1; i < len(rows); i++ {
		if rows[i].HostID == rows[i-1].HostID && rows[i].StartAt.Before(rows[i-1].EndAt) {
			t.Fatalf("host %d has overlapping calls: %v–%v and %v–%v", rows[i].HostID,
				rows[i-1].StartAt, rows[i-1].EndAt, rows[i].StartAt, rows[i].EndAt)
		}
	}
}

func TestBookSlot_RaceAcrossKindsNeverOverlapsAHostsCalls(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		ks := kinds(t,
			models.CallKind{ID: "intro", Title: "Intro call", Minutes: 20, StepMinutes: 5},
			models.CallKind{ID: "strategy", Title: "Strategy session", Minutes: 45, StepMinutes: 5})
		// One host, the team, over Tuesday morning: every 20- and 45-minute
		// start from 09:00 to 10:30 overlaps many others.
		tuesday := time.Date(2026, 12, 1, 9, 0, 0, 0, newYorkLoc)
		if dialect == store.DialectPostgres {
			openConnections(t, s, 20)
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		gate := make(chan struct{})
		wins := map[string]int{}
		for i := range 50 {
			k := ks["intro"]
			if i%2 == 1 {
				k = ks["strategy"]
			}
			start := tuesday.Add(time.Duration(i%19) * 5 * time.Minute)
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				_, err := s.BookSlot(ctx, kindRequest(fmt.Sprintf("racer%d@example.com", i), start, k), nil)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins[k.ID]++
				case !errors.Is(err, models.ErrSlotTaken):
					t.Errorf("booking %d: %v", i, err)
				}
			}()
		}
		close(gate)
		wg.Wait()
		if wins["intro"]+wins["strategy"] == 0 {
			t.Fatal("no call was booked")
		}
		assertNoOverlap(t, s)
	})
}

func TestBookSlot_CollectiveCallIsAllOrNothingAgainstAOneHostRace(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		addHost(t, s, "ana")
		addHost(t, s, "ben")
		ks := kinds(t,
			models.CallKind{ID: "panel", Title: "Mock interview panel", Minutes: 60, Mode: models.ModeCollective,
				Hosts: []string{"ana@callbook.test", "ben@callbook.test"}},
			models.CallKind{ID: "ben", Title: "With Ben", Minutes: 30, Hosts: []string{"ben@callbook.test"}})
		if dialect == store.DialectPostgres {
			openConnections(t, s, 20)
		}
		// For each hour of Tuesday, a panel and a call with Ben race for
		// Ben's time: exactly one wins, and a lost panel holds nothing.
		day := time.Date(2026, 12, 1, 9, 0, 0, 0, newYorkLoc)
		var wg sync.WaitGroup
		gate := make(chan struct{})
		panels := make([]error, 8)
		bens := make([]error, 8)
		for h := range 8 {
			start := day.Add(time.Duration(h) * time.Hour)
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-gate
				_, panels[h] = s.BookSlot(ctx, kindRequest(fmt.Sprintf("panel%d@example.com", h), start, ks["panel"]), nil)
			}()
			go func() {
				defer wg.Done()
				<-gate
				_, bens[h] = s.BookSlot(ctx, kindRequest(fmt.Sprintf("ben%d@example.com", h), start.Add(30*time.Minute), ks["ben"]), nil)
			}()
		}
		close(gate)
		wg.Wait()
		anaID := hostID(t, s, "ana@callbook.test")
		for h := range 8 {
			for _, err := range []error{panels[h], bens[h]} {
				if err != nil && !errors.Is(err, models.ErrSlotTaken) {
					t.Fatalf("hour %d: %v", h, err)
				}
			}
			if (panels[h] == nil) == (bens[h] == nil) {
				t.Fatalf("hour %d: panel %v, Ben's call %v: want exactly one", h, panels[h], bens[h])
			}
			start := day.Add(time.Duration(h) * time.Hour)
			var claims int64
			s.DB().Model(&models.BookingClaim{}).Where("host_id = ? AND unit >= ? AND unit < ?", anaID, start.Unix(),
				start.Add(time.Hour).Unix()).Count(&claims)
			if want := map[bool]int64{true: 12, false: 0}[panels[h] == nil]; claims != want {
				t.Fatalf("hour %d: Ana holds %d units, want %d", h, claims, want)
			}
		}
		assertNoOverlap(t, s)
		// A panel has both hosts and moves and frees both. The race may
		// have gone to Ben every hour, so this one is booked on its own.
		res, err := s.BookSlot(ctx, kindRequest("panel@example.com", time.Date(2026, 12, 3, 9, 0, 0, 0, newYorkLoc), ks["panel"]), nil)
		if err != nil {
			t.Fatalf("booking a panel on a free morning: %v", err)
		}
		panel := *res.Booking
		hosts, err := s.HostsOf(ctx, &panel)
		if err != nil || len(hosts) != 2 {
			t.Fatalf("panel hosts %v, %v", hosts, err)
		}
		// Each host gets the notice, with the invite naming them both.
		var notices []models.OutboxMessage
		s.DB().Where("booking_id = ? AND kind = ?", panel.ID, models.MailHostNotice).Order("to_addr").Find(&notices)
		if len(notices) != 2 || notices[0].ToAddr != "ana@callbook.test" || notices[1].ToAddr != "ben@callbook.test" ||
			!strings.Contains(notices[0].Payload, `"hosts":[{"name":"ana","email":"ana@callbook.test"},{"name":"ben","email":"ben@callbook.test"}]`) {
			t.Fatalf("panel notices %+v", notices)
		}
		next := time.Date(2026, 12, 2, 9, 0, 0, 0, newYorkLoc)
		if _, err := s.RescheduleBookingByID(ctx, panel.ID, next, "test"); err != nil {
			t.Fatal(err)
		}
		for _, h := range hosts {
			var n int64
			s.DB().Model(&models.BookingClaim{}).Where("host_id = ? AND booking_id = ?", h.ID, panel.ID).Count(&n)
			if n != 12 {
				t.Fatalf("after the move host %s holds %d units of the panel, want 12", h.Name, n)
			}
		}
		if _, err := s.CancelBookingByID(ctx, panel.ID, "", "test"); err != nil {
			t.Fatal(err)
		}
		var left int64
		s.DB().Model(&models.BookingClaim{}).Where("booking_id = ?", panel.ID).Count(&left)
		if left != 0 {
			t.Fatalf("a canceled panel still holds %d units", left)
		}
	})
}

func TestBookSlot_WeightsTwentyAndTenSplitThreeHundredCallsTwoToOne(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := mustOpen(t, dialect)
		ctx := context.Background()
		// Two hosts free around the clock, every day; the team is disabled.
		for _, n := range []string{"ana", "ben"} {
			u := models.User{Email: n + "@callbook.test", Name: n, Role: models.RoleSales, Host: true,
				WeeklyJSON: `{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],"thu":[["00:00","24:00"]],"fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]}`}
			if err := s.DB().Create(&u).Error; err != nil {
				t.Fatal(err)
			}
		}
		s.DB().Model(&models.User{}).Where("email = ?", storetest.TeamEmail).Update("disabled", true)
		s.DB().Model(&models.User{}).Where("email = ?", "ana@callbook.test").Update("weight", 20)
		s.DB().Model(&models.User{}).Where("email = ?", "ben@callbook.test").Update("weight", 10)
		counts := map[string]int{}
		start := clock.Now().Add(5 * time.Hour).Truncate(time.Hour)
		for i := range 300 {
			res, err := s.BookSlot(ctx, request(fmt.Sprintf("v%d@example.com", i), start.Add(time.Duration(i)*30*time.Minute)), nil)
			if err != nil {
				t.Fatalf("booking %d: %v", i, err)
			}
			counts[res.Host.Name]++
		}
		if counts["ana"] < 180 || counts["ana"] > 220 || counts["ana"]+counts["ben"] != 300 {
			t.Fatalf("split %v, want ana 200 ± 20 of 300", counts)
		}
	})
}

// A collective call counts toward the daily cap of every one of its hosts,
// not only the first: a host capped at one call a day who sits on a panel
// takes no other call that day.
func TestBookSlot_CollectiveCallCountsTowardEachHostsCaps(t *testing.T) {
	tuesday := time.Date(2026, 12, 1, 9, 0, 0, 0, newYorkLoc)
	for _, c := range []struct {
		column          string
		refused, booked time.Time // Ben's call after the panel: in its day or week, and the next
	}{
		{"max_per_day", tuesday.Add(5 * time.Hour), tuesday.AddDate(0, 0, 1).Add(5 * time.Hour)},
		{"max_per_week", tuesday.AddDate(0, 0, 2), tuesday.AddDate(0, 0, 6)},
	} {
		t.Run(c.column, func(t *testing.T) {
			storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
				s, _ := mustOpen(t, dialect)
				ctx := context.Background()
				addHost(t, s, "ana")
				addHost(t, s, "ben")
				if err := s.DB().Model(&models.User{}).Where("email = ?", "ben@callbook.test").Update(c.column, 1).Error; err != nil {
					t.Fatal(err)
				}
				ks := kinds(t,
					models.CallKind{ID: "panel", Title: "Mock interview panel", Minutes: 60, Mode: models.ModeCollective,
						Hosts: []string{"ana@callbook.test", "ben@callbook.test"}},
					models.CallKind{ID: "ben", Title: "With Ben", Minutes: 30, Hosts: []string{"ben@callbook.test"}})
				if _, err := s.BookSlot(ctx, kindRequest("panel@example.com", tuesday, ks["panel"]), nil); err != nil {
					t.Fatalf("panel: %v", err)
				}
				_, err := s.BookSlot(ctx, kindRequest("late@example.com", c.refused, ks["ben"]), nil)
				if !errors.Is(err, models.ErrSlotTaken) {
					t.Fatalf("a second call for Ben in the panel's %s: %v, want it refused by his cap", c.column, err)
				}
				if _, err := s.BookSlot(ctx, kindRequest("next@example.com", c.booked, ks["ben"]), nil); err != nil {
					t.Fatalf("Ben after the cap's period: %v", err)
				}
			})
		})
	}
}

// Whose turn it is counts a collective call for each of its hosts: a host
// who sat on two panels has had two calls, and the next call of a kind he
// shares with an idle host goes to the idle one.
func TestBookSlot_CollectiveCallsCountInWhoseTurnItIs(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		for _, name := range []string{"ana", "ben", "cy"} {
			addHost(t, s, name)
		}
		ks := kinds(t,
			models.CallKind{ID: "panel", Title: "Mock interview panel", Minutes: 60, Mode: models.ModeCollective,
				Hosts: []string{"ana@callbook.test", "ben@callbook.test"}},
			models.CallKind{ID: "duo", Title: "Career chat", Minutes: 30, Hosts: []string{"ben@callbook.test", "cy@callbook.test"}})
		tuesday := time.Date(2026, 12, 1, 9, 0, 0, 0, newYorkLoc)
		for i := range 2 {
			if _, err := s.BookSlot(ctx, kindRequest(fmt.Sprintf("panel%d@example.com", i), tuesday.Add(time.Duration(i)*time.Hour), ks["panel"]), nil); err != nil {
				t.Fatalf("panel %d: %v", i, err)
			}
		}
		res, err := s.BookSlot(ctx, kindRequest("chat@example.com", tuesday.AddDate(0, 0, 1), ks["duo"]), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Host.Email; got != "cy@callbook.test" {
			t.Fatalf("the chat went to %s, who sat on two panels; want cy, who had none", got)
		}
	})
}
