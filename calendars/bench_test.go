package calendars_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
)

// bigFeed is an ICS file of about 5 MB with n weekly events in several
// zones, each with an EXDATE and a long description, a tenth of them with a
// moved occurrence, some begun a year ago.
func bigFeed(n int, size int) string {
	r := rand.New(rand.NewPCG(5, 6))
	zones := []string{"America/New_York", "Europe/Berlin", "America/Los_Angeles", "Europe/London"}
	pad := strings.Repeat("Agenda: review the pipeline, the open roles and next steps. ", 12)
	var evs []string
	for i := range n {
		start := now.AddDate(0, 0, -r.IntN(28)).Add(-time.Duration(r.IntN(2)) * 365 * 24 * time.Hour)
		zone := zones[r.IntN(len(zones))]
		loc, _ := time.LoadLocation(zone)
		s := time.Date(start.Year(), start.Month(), start.Day(), 7+r.IntN(10), 15*r.IntN(4), 0, 0, loc)
		ex := s.AddDate(0, 0, 7*(1+r.IntN(60)))
		ev := fmt.Sprintf(`BEGIN:VEVENT
UID:bench-%d@example.com
DTSTAMP:20260201T000000Z
DTSTART;TZID=%s:%s
DTEND;TZID=%s:%s
RRULE:FREQ=WEEKLY;BYDAY=%s
EXDATE;TZID=%s:%s
SUMMARY:Weekly meeting %d
DESCRIPTION:%s
END:VEVENT`, i, zone, s.Format("20060102T150405"), zone, s.Add(30*time.Minute).Format("20060102T150405"),
			[]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}[s.Weekday()], zone, ex.Format("20060102T150405"), i, pad)
		if i%10 == 0 {
			moved := s.AddDate(0, 0, 7*(1+r.IntN(8)))
			ev += fmt.Sprintf(`
BEGIN:VEVENT
UID:bench-%d@example.com
DTSTAMP:20260201T000000Z
RECURRENCE-ID;TZID=%s:%s
DTSTART;TZID=%s:%s
DTEND;TZID=%s:%s
SUMMARY:Weekly meeting %d (moved)
END:VEVENT`, i, zone, moved.Format("20060102T150405"), zone, moved.Add(2*time.Hour).Format("20060102T150405"),
				zone, moved.Add(150*time.Minute).Format("20060102T150405"), i)
		}
		evs = append(evs, ev)
	}
	body := calendarText(evs...)
	if len(body) < size { // top up to the size asked with one long note
		body = strings.Replace(body, "END:VCALENDAR", "BEGIN:VJOURNAL\r\nUID:pad\r\nDTSTAMP:20260201T000000Z\r\nDESCRIPTION:"+
			strings.Repeat("x", size-len(body)-100)+"\r\nEND:VJOURNAL\r\nEND:VCALENDAR", 1)
	}
	return body
}

// peakHeap samples the live heap until stop is closed, and returns the
// highest figure seen, in bytes.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// BenchmarkSyncFeed5MB reads a 5 MB feed of 5,000 recurring events over
// HTTP, expands it over the booking horizon and stores the busy times.
// peak-heap-MB is the highest heap (live and not yet collected) during the
// runs, heap-before-MB the heap before them (the feed text the test serves
// is 10 MB of it); cpu-ms/op is the process's CPU time per read, which a
// busy machine does not inflate as it does wall time.
func BenchmarkSyncFeed5MB(b *testing.B) {
	body := bigFeed(5000, 5<<20-1024)
	b.Logf("feed: %.2f MB", float64(len(body))/(1<<20))
	f := mustFeedB(b, body)
	e := mustEnvB(b)
	ctx := context.Background()
	if _, err := e.store.SetHostCalendars(ctx, e.hostID, []models.CalendarSourceInput{{URL: f.srv.URL}}); err != nil {
		b.Fatal(err)
	}
	var variant atomic.Int64
	runtime.GC()
	base := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(base)
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	stop := make(chan struct{})
	peak := peakHeap(stop)
	b.ReportAllocs()
	for b.Loop() {
		// Shift one event each run, so every read stores new busy times.
		f.mu.Lock()
		f.body = strings.Replace(body, "SUMMARY:Weekly meeting 1\r\n", fmt.Sprintf("SUMMARY:Weekly meeting 1 v%d\r\n", variant.Add(1)), 1)
		f.mu.Unlock()
		if err := e.sync.SyncHost(ctx, e.hostID); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	close(stop)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(base[0].Value.Uint64())/(1<<20), "heap-before-MB")
	b.ReportMetric(float64(<-peak)/(1<<20), "peak-heap-MB")
	srcs, _ := e.store.HostCalendars(ctx, e.hostID)
	if len(srcs) != 1 || srcs[0].LastError != nil || srcs[0].BusyCount == 0 {
		b.Fatalf("after the read: %+v", srcs)
	}
	b.ReportMetric(float64(srcs[0].BusyCount), "busy-times")
}
