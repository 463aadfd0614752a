package models

import (
	"testing"
	"time"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func weekdayHost(id uint, ws ...Window) *HostSchedule {
	var w Weekly
	if len(ws) == 0 {
		ws = []Window{{9 * 60, 17 * 60}}
	}
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = ws
	}
	return &HostSchedule{ID: id, Weekly: w, Overrides: map[string][]Window{}, PerDay: map[string]int{}}
}

func everyDayHost(ws ...Window) *HostSchedule {
	h := weekdayHost(1, ws...)
	h.Weekly[time.Saturday], h.Weekly[time.Sunday] = ws, ws
	return h
}

// localStarts formats the starts of slots as "2006-01-02 15:04 MST" in loc.
func localStarts(slots []Slot, loc *time.Location) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.Start.In(loc).Format("2006-01-02 15:04 MST")
	}
	return out
}

func dayRange(loc *time.Location, date string, days int) (time.Time, time.Time) {
	d, _ := time.ParseInLocation(time.DateOnly, date, loc)
	return d, d.AddDate(0, 0, days)
}

func TestComputeSlots_DefaultWeekGivesSixteenSlotsPerWeekday(t *testing.T) {
	ny := zone(t, "America/New_York")
	rules := SlotRules{Settings: DefaultBookingSettings, Loc: ny, Now: time.Date(2026, 11, 27, 12, 0, 0, 0, ny)}
	from, to := dayRange(ny, "2026-11-30", 7) // Monday to Sunday
	slots := ComputeSlots([]*HostSchedule{weekdayHost(1)}, from, to, rules)
	if len(slots) != 5*16 {
		t.Fatalf("got %d slots, want 80", len(slots))
	}
	got := localStarts(slots, ny)
	if got[0] != "2026-11-30 09:00 EST" || got[15] != "2026-11-30 16:30 EST" || got[16] != "2026-12-01 09:00 EST" {
		t.Errorf("unexpected grid: %v … %v, %v", got[0], got[15], got[16])
	}
	for _, s := range slots {
		if s.End.Sub(s.Start) != 30*time.Minute {
			t.Fatalf("slot %v lasts %v", s.Start, s.End.Sub(s.Start))
		}
	}
}

func TestComputeSlots_DaylightSavingKeepsLocalTimes(t *testing.T) {
	ny, berlin := zone(t, "America/New_York"), zone(t, "Europe/Berlin")
	cases := []struct {
		name      string
		now       time.Time
		from      string
		days      int
		visitor   *time.Location
		wantFirst map[string]string // local date in visitor zone → first slot
	}{
		{"US spring forward", time.Date(2027, 3, 10, 0, 0, 0, 0, ny), "2027-03-12", 4, ny,
			map[string]string{"2027-03-12": "09:00 EST", "2027-03-15": "09:00 EDT"}},
		{"US fall back", time.Date(2026, 10, 28, 0, 0, 0, 0, ny), "2026-10-30", 4, ny,
			map[string]string{"2026-10-30": "09:00 EDT", "2026-11-02": "09:00 EST"}},
		{"EU spring forward seen from Berlin", time.Date(2027, 3, 20, 0, 0, 0, 0, ny), "2027-03-26", 4, berlin,
			map[string]string{"2027-03-26": "14:00 CET", "2027-03-29": "15:00 CEST"}},
		{"EU fall back seen from Berlin", time.Date(2026, 10, 20, 0, 0, 0, 0, ny), "2026-10-23", 4, berlin,
			map[string]string{"2026-10-23": "15:00 CEST", "2026-10-26": "14:00 CET"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rules := SlotRules{Settings: DefaultBookingSettings, Loc: ny, Now: tc.now}
			from, to := dayRange(tc.visitor, tc.from, tc.days)
			slots := ComputeSlots([]*HostSchedule{weekdayHost(1)}, from, to, rules)
			first := map[string]string{}
			perDay := map[string]int{}
			seen := map[int64]bool{}
			for _, s := range slots {
				l := s.Start.In(tc.visitor)
				d := l.Format(time.DateOnly)
				if _, ok := first[d]; !ok {
					first[d] = l.Format("15:04 MST")
				}
				perDay[d]++
				if seen[s.Start.Unix()] {
					t.Fatalf("slot %v listed twice", l)
				}
				seen[s.Start.Unix()] = true
			}
			for d, want := range tc.wantFirst {
				if first[d] != want {
					t.Errorf("%s: first slot %q, want %q", d, first[d], want)
				}
				if perDay[d] != 16 {
					t.Errorf("%s: %d slots, want 16", d, perDay[d])
				}
			}
		})
	}
}

func TestComputeSlots_WindowAcrossDSTGapNeitherShiftsNorDuplicates(t *testing.T) {
	ny := zone(t, "America/New_York")
	host := everyDayHost(Window{60, 4 * 60}) // 01:00–04:00 local
	rules := SlotRules{Settings: BookingSettings{DurationMinutes: 30, HorizonDays: 30}, Loc: ny}

	rules.Now = time.Date(2027, 3, 10, 0, 0, 0, 0, ny)
	from, to := dayRange(ny, "2027-03-14", 1) // 02:00 does not exist
	got := localStarts(ComputeSlots([]*HostSchedule{host}, from, to, rules), ny)
	want := []string{"2027-03-14 01:00 EST", "2027-03-14 01:30 EST", "2027-03-14 03:00 EDT", "2027-03-14 03:30 EDT"}
	if len(got) != len(want) {
		t.Fatalf("spring forward: got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("spring forward: got %v, want %v", got, want)
		}
	}

	rules.Now = time.Date(2026, 10, 28, 0, 0, 0, 0, ny)
	from, to = dayRange(ny, "2026-11-01", 1) // 01:00–02:00 happens twice
	slots := ComputeSlots([]*HostSchedule{host}, from, to, rules)
	// 01:00 EDT to 04:00 EST is four real hours: eight distinct instants.
	if len(slots) != 8 {
		t.Fatalf("fall back: got %v", localStarts(slots, ny))
	}
	for i := 1; i < len(slots); i++ {
		if slots[i].Start.Sub(slots[i-1].Start) != 30*time.Minute {
			t.Fatalf("fall back: uneven steps %v", localStarts(slots, ny))
		}
	}
}

func TestComputeSlots_HalfHourOffsetZones(t *testing.T) {
	kolkata, kathmandu := zone(t, "Asia/Kolkata"), zone(t, "Asia/Kathmandu")
	rules := SlotRules{Settings: DefaultBookingSettings, Loc: kolkata, Now: time.Date(2026, 11, 27, 0, 0, 0, 0, kolkata)}
	from, to := dayRange(kathmandu, "2026-11-30", 1)
	slots := ComputeSlots([]*HostSchedule{weekdayHost(1)}, from, to, rules)
	got := localStarts(slots, kathmandu)
	if len(got) != 16 || got[0] != "2026-11-30 09:15 +0545" {
		t.Fatalf("got %v", got)
	}
	if slots[0].Start.UTC().Format("15:04") != "03:30" {
		t.Errorf("09:00 Kolkata should be 03:30 UTC, got %v", slots[0].Start.UTC())
	}
}

func TestComputeSlots_Rules(t *testing.T) {
	ny := zone(t, "America/New_York")
	mon := func(h, m int) time.Time { return time.Date(2026, 11, 30, h, m, 0, 0, ny) }
	busy := func(h *HostSchedule, start time.Time, d time.Duration) *HostSchedule {
		h.Busy = append(h.Busy, Interval{start, start.Add(d)})
		h.PerDay[start.Format(time.DateOnly)]++
		return h
	}
	cases := []struct {
		name     string
		settings BookingSettings
		now      time.Time
		hosts    func() []*HostSchedule
		want     []string // local HH:MM starts on Monday 30 Nov
	}{
		{"minimum notice hides the morning", BookingSettings{30, 0, 240, 30}, mon(11, 10),
			func() []*HostSchedule { return []*HostSchedule{weekdayHost(1, Window{9 * 60, 17 * 60})} },
			[]string{"15:30", "16:00", "16:30"}},
		{"a booking blocks its slot", BookingSettings{30, 0, 0, 30}, mon(8, 0),
			func() []*HostSchedule {
				return []*HostSchedule{busy(weekdayHost(1, Window{9 * 60, 11 * 60}), mon(10, 0), 30*time.Minute)}
			},
			[]string{"09:00", "09:30", "10:30"}},
		{"buffers keep a gap on both sides", BookingSettings{30, 15, 0, 30}, mon(8, 0),
			func() []*HostSchedule {
				return []*HostSchedule{busy(weekdayHost(1, Window{9 * 60, 12 * 60}), mon(10, 0), 45*time.Minute)}
			},
			[]string{"09:00", "11:00", "11:30"}},
		{"a second host keeps the slot open", BookingSettings{30, 0, 0, 30}, mon(8, 0),
			func() []*HostSchedule {
				return []*HostSchedule{busy(weekdayHost(1, Window{9 * 60, 10 * 60}), mon(9, 0), 30*time.Minute), weekdayHost(2, Window{9 * 60, 10 * 60})}
			},
			[]string{"09:00", "09:30"}},
		{"daily cap closes the day", BookingSettings{30, 0, 0, 30}, mon(8, 0),
			func() []*HostSchedule {
				h := busy(weekdayHost(1, Window{9 * 60, 11 * 60}), mon(9, 0), 30*time.Minute)
				h.MaxPerDay = 1
				return []*HostSchedule{h}
			}, nil},
		{"an override replaces the weekly hours", BookingSettings{60, 0, 0, 30}, mon(8, 0),
			func() []*HostSchedule {
				h := weekdayHost(1)
				h.Overrides["2026-11-30"] = []Window{{13 * 60, 15 * 60}}
				return []*HostSchedule{h}
			}, []string{"13:00", "14:00"}},
		{"an empty override closes the day", BookingSettings{30, 0, 0, 30}, mon(8, 0),
			func() []*HostSchedule {
				h := weekdayHost(1)
				h.Overrides["2026-11-30"] = []Window{}
				return []*HostSchedule{h}
			}, nil},
		{"calls never run past the window", BookingSettings{45, 0, 0, 30}, mon(8, 0),
			func() []*HostSchedule { return []*HostSchedule{weekdayHost(1, Window{9 * 60, 11 * 60})} },
			[]string{"09:00", "09:45"}},
		{"horizon ends the list", BookingSettings{30, 0, 0, 1}, mon(10, 0).AddDate(0, 0, -1),
			func() []*HostSchedule { return []*HostSchedule{everyDayHost(Window{9 * 60, 17 * 60})} },
			[]string{"09:00", "09:30", "10:00"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rules := SlotRules{Settings: tc.settings, Loc: ny, Now: tc.now}
			from, to := dayRange(ny, "2026-11-30", 1)
			slots := ComputeSlots(tc.hosts(), from, to, rules)
			got := make([]string, len(slots))
			for i, s := range slots {
				got[i] = s.Start.In(ny).Format("15:04")
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestParseHours_Validation(t *testing.T) {
	cases := []struct {
		in      HoursJSON
		wantErr string
	}{
		{HoursJSON{{"09:00", "12:00"}, {"13:00", "17:00"}}, ""},
		{HoursJSON{{"09:00", "24:00"}}, ""},
		{HoursJSON{{"9:00", "12:00"}}, "w[0]"},
		{HoursJSON{{"12:00", "09:00"}}, "w[0]"},
		{HoursJSON{{"09:07", "12:00"}}, "w[0]"},
		{HoursJSON{{"09:00", "12:00"}, {"11:00", "13:00"}}, "w"},
		{HoursJSON{{"25:00", "26:00"}}, "w[0]"},
	}
	for _, tc := range cases {
		v := &ValidationError{}
		ParseHours("w", tc.in, v)
		_, has := v.Fields[tc.wantErr]
		if tc.wantErr == "" && len(v.Fields) > 0 || tc.wantErr != "" && !has {
			t.Errorf("%v: errors %v, want one on %q", tc.in, v.Fields, tc.wantErr)
		}
	}
}
