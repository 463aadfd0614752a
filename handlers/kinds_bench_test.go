package handlers

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
)

// BenchmarkSlots30DaysKinds lists 30 days of each public kind of the
// built-in Backend Engineer page (three kinds: the intro call, the
// strategy session with the senior coach, and a private follow-up) over a
// loopback HTTP connection, with five hosts and 2,000 calls booked. It
// reports the median request time (p50-ms) beside the mean.
func BenchmarkSlots30DaysKinds(b *testing.B) {
	e := newBenchServer(b)
	// Ten-minute default calls, so 2,000 distinct calls fit on five hosts'
	// 30 days; the kinds keep their own lengths.
	day := models.HoursJSON{{"09:00", "17:00"}}
	if _, err := e.store.SetAvailability(b.Context(), models.AvailabilityConfig{
		BookingSettings: models.BookingSettings{DurationMinutes: 10, HorizonDays: 60},
		Weekly:          map[string]models.HoursJSON{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day},
	}); err != nil {
		b.Fatal(err)
	}
	hosts := addHosts(b, e.store, 3) // and the test server's own host
	coach := models.User{Email: "senior-coach@callbook.example", Name: "Senior Coach", Role: models.RoleSales, Host: true,
		WeeklyJSON: `{"mon":[["09:00","17:00"]],"tue":[["09:00","17:00"]],"wed":[["09:00","17:00"]],"thu":[["09:00","17:00"]],"fri":[["09:00","17:00"]]}`}
	if err := e.store.DB().Create(&coach).Error; err != nil {
		b.Fatal(err)
	}
	hosts = append(hosts, coach.ID)
	if len(hosts) != 5 {
		b.Fatalf("%d hosts, want 5", len(hosts))
	}
	seedBookings(b, e, hosts, 2000)
	base := slots30DaysPath(b, e) + "&role_slug=backend-engineer&call="
	srv := httptest.NewServer(e.srv)
	defer srv.Close()
	client := srv.Client()
	for _, kind := range []string{"intro", "strategy"} {
		b.Run(kind, func(b *testing.B) {
			url := srv.URL + base + kind
			var took []time.Duration
			var size int64
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				resp, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, resp.Body)
				if err != nil {
					b.Fatal(err)
				}
				size = n
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatal(resp.StatusCode)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(size), "answer-bytes")
		})
	}
}
