package handlers

import (
	"time"

	"github.com/callbook/callbook/models"
)

// dayGroup is the calls of one business day.
type dayGroup struct {
	Day   time.Time // midnight in the business zone
	Calls []callView
}

// callView is a call with its start in the visitor's own zone.
type callView struct {
	models.StaffBooking
	VisitorStart time.Time
}

// groupByDay groups calls, sorted by start, by their day in loc, each with
// its start in the visitor's zone.
func groupByDay(calls []models.StaffBooking, loc *time.Location, zones *zoneCache) []dayGroup {
	var out []dayGroup
	for _, b := range calls {
		t := b.StartAt.In(loc)
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		if n := len(out); n == 0 || !out[n-1].Day.Equal(day) {
			out = append(out, dayGroup{Day: day})
		}
		z, ok := zones.load(b.Timezone)
		if !ok {
			z = time.UTC
		}
		out[len(out)-1].Calls = append(out[len(out)-1].Calls, callView{StaffBooking: b, VisitorStart: b.StartAt.In(z)})
	}
	return out
}
