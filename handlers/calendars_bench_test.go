package handlers

import (
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
)

// seedCalendarBusy gives each host one calendar source whose last read
// found n/len(hosts) busy times of 15 to 90 minutes, at random in business
// hours over the next 30 days: n busy events across the hosts.
func seedCalendarBusy(b *testing.B, e *testEnv, hosts []uint, n int) {
	b.Helper()
	ctx := b.Context()
	r := rand.New(rand.NewPCG(3, 4))
	loc := e.store.Location()
	day0 := e.clock.Now().In(loc)
	for i, h := range hosts {
		srcs, err := e.store.SetHostCalendars(ctx, h, []models.CalendarSourceInput{{URL: "https://cal.example/host.ics"}})
		if err != nil {
			b.Fatal(err)
		}
		per := n / len(hosts)
		if i < n%len(hosts) {
			per++
		}
		busy := make([]models.Interval, 0, per)
		for range per {
			d := day0.AddDate(0, 0, r.IntN(30))
			start := time.Date(d.Year(), d.Month(), d.Day(), 8+r.IntN(10), 5*r.IntN(12), 0, 0, loc)
			busy = append(busy, models.Interval{Start: start, End: start.Add(time.Duration(15+15*r.IntN(6)) * time.Minute)})
		}
		if err := e.store.SaveCalendarRead(ctx, srcs[0].ID, busy); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSlots30Days10kCalendarBusy lists 30 days of slots with 10,000
// busy events from 30 hosts' own calendars, through the full router and
// over a loopback HTTP connection.
func BenchmarkSlots30Days10kCalendarBusy(b *testing.B) {
	e := newBenchServer(b)
	hosts := addHosts(b, e.store, 29)
	seedCalendarBusy(b, e, hosts, 10000)
	path := slots30DaysPath(b, e)
	b.Run("router", func(b *testing.B) { benchSlotsRouter(b, e, path) })
	b.Run("http", func(b *testing.B) {
		srv := httptest.NewServer(e.srv)
		defer srv.Close()
		client := srv.Client()
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Get(srv.URL + path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatal(resp.StatusCode)
			}
		}
	})
}
