package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// addHosts adds n hosts with the default weekday hours.
func addHosts(b testing.TB, s *store.Store, n int) []uint {
	b.Helper()
	ids := []uint{}
	hosts, _ := s.Hosts(b.Context())
	for _, h := range hosts {
		ids = append(ids, h.ID)
	}
	weekly := `{"mon":[["09:00","17:00"]],"tue":[["09:00","17:00"]],"wed":[["09:00","17:00"]],"thu":[["09:00","17:00"]],"fri":[["09:00","17:00"]]}`
	for i := range n {
		u := models.User{Email: fmt.Sprintf("host%d@callbook.test", i), Name: fmt.Sprintf("Host %d", i), Role: models.RoleSales, Host: true, WeeklyJSON: weekly}
		if err := s.DB().Create(&u).Error; err != nil {
			b.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	return ids
}

// seedBookings writes n confirmed calls on the hosts' free slots over the
// next 30 days, directly, as a large existing calendar.
func seedBookings(b testing.TB, e *testEnv, hosts []uint, n int) {
	b.Helper()
	slots, _, err := e.store.Slots(b.Context(), e.clock.Now(), e.clock.Now().AddDate(0, 0, 31))
	if err != nil {
		b.Fatal(err)
	}
	lead := models.Lead{EmailKey: "seed@example.com", Email: "seed@example.com", Name: "Seed", TargetTitle: "Backend Engineer", Status: "new",
		CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if err := e.store.DB().Create(&lead).Error; err != nil {
		b.Fatal(err)
	}
	rows := make([]models.Booking, 0, n)
	r := rand.New(rand.NewPCG(1, 2))
	used := map[string]bool{}
	for len(rows) < n {
		sl := slots[r.IntN(len(slots))]
		h := hosts[r.IntN(len(hosts))]
		key := fmt.Sprint(h, sl.Start.Unix())
		if used[key] {
			continue
		}
		used[key] = true
		uid := store.RandomToken(16)
		rows = append(rows, models.Booking{UID: uid, TokenHash: uid, LeadID: lead.ID, HostID: h, Status: models.BookingConfirmed,
			StartAt: sl.Start.UTC(), EndAt: sl.End.UTC(), Timezone: "UTC", TargetTitle: "Backend Engineer", CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()})
	}
	if err := e.store.DB().CreateInBatches(rows, 500).Error; err != nil {
		b.Fatal(err)
	}
	// New bookings change the version that readers compare.
	if err := e.store.DB().Model(&models.Setting{}).Where("key = ?", "availability_version").Update("value", "seeded").Error; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSlots30Days10kBookings lists 30 days of slots through the full
// router with 10,000 calls already booked across 30 hosts.
func BenchmarkSlots30Days10kBookings(b *testing.B) {
	e := newBenchServer(b)
	hosts := addHosts(b, e.store, 29)
	seedBookings(b, e, hosts, 10000)
	benchSlotsRouter(b, e, slots30DaysPath(b, e))
}

// slots30DaysPath is the slots request for the 30 days from the bench
// server's today, answered once (200) before it is timed.
func slots30DaysPath(b *testing.B, e *testEnv) string {
	b.Helper()
	from := e.clock.Now().Format(time.DateOnly)
	to := e.clock.Now().AddDate(0, 0, 29).Format(time.DateOnly)
	path := "/api/v1/slots?from=" + from + "&to=" + to + "&tz=Europe/Berlin"
	if w := e.do(http.MethodGet, path, nil); w.Code != http.StatusOK {
		b.Fatalf("slots: %d", w.Code)
	}
	return path
}

// benchSlotsRouter times GET path through the full router, in memory.
func benchSlotsRouter(b *testing.B, e *testEnv, path string) {
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkBookingHTTP books calls through the full router, one client at a
// time and from 16 concurrent clients.
func BenchmarkBookingHTTP(b *testing.B) {
	for _, clients := range []int{1, 16} {
		b.Run("clients="+strconv.Itoa(clients), func(b *testing.B) {
			e := newBenchServer(b)
			// Five-minute calls around the clock for a year: plenty of slots.
			_, err := e.store.SetAvailability(b.Context(), models.AvailabilityConfig{
				BookingSettings: models.BookingSettings{DurationMinutes: 5, HorizonDays: 365},
				Weekly: map[string]models.HoursJSON{"mon": {{"00:00", "24:00"}}, "tue": {{"00:00", "24:00"}}, "wed": {{"00:00", "24:00"}},
					"thu": {{"00:00", "24:00"}}, "fri": {{"00:00", "24:00"}}, "sat": {{"00:00", "24:00"}}, "sun": {{"00:00", "24:00"}}},
			})
			if err != nil {
				b.Fatal(err)
			}
			slots, _, _ := e.store.Slots(b.Context(), e.clock.Now(), e.clock.Now().AddDate(1, 0, 0))
			// Each request body is the template with the email and start
			// filled in, in one buffer, so that the figures (allocations
			// above all) are the server's rather than the test harness's.
			tmpl, err := json.Marshal(bookingBody("visitor@example.com", "START"))
			if err != nil {
				b.Fatal(err)
			}
			head, rest, _ := bytes.Cut(tmpl, []byte("visitor@"))
			mid, tail, _ := bytes.Cut(rest, []byte("START"))
			body := func(i int) []byte {
				start := slots[i%len(slots)].Start.UTC()
				buf := make([]byte, 0, len(tmpl)+32)
				buf = strconv.AppendInt(append(append(buf, head...), "visitor"...), int64(i), 10)
				buf = start.AppendFormat(append(append(buf, '@'), mid...), time.RFC3339)
				return append(buf, tail...)
			}
			var next atomic.Int64
			book := func() {
				i := next.Add(1) - 1
				req, err := http.NewRequest(http.MethodPost, "/api/v1/bookings", bytes.NewReader(body(int(i))))
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.RemoteAddr = e.remote
				w := httptest.NewRecorder()
				e.srv.ServeHTTP(w, req)
				if w.Code != http.StatusCreated {
					b.Errorf("booking %d: %d %s", i, w.Code, w.Body)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			if clients == 1 {
				for b.Loop() {
					book()
				}
				return
			}
			b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					book()
				}
			})
		})
	}
}

// newBenchServer is a test server on SQLite, as deployed by default.
func newBenchServer(b *testing.B) *testEnv {
	b.Helper()
	return newTestServer(b, store.DialectSQLite)
}
