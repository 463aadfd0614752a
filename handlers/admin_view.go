package handlers

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/callbook/callbook/models"
)

// eventView is one timeline entry as the lead page shows it.
type eventView struct {
	models.Event
	Details []detail
}

// detail is one key and value of an event's data.
type detail struct{ Key, Value string }

// eventViews turns each event's JSON data into sorted key/value pairs; the
// template escapes them like any other text.
func eventViews(evs []models.Event) []eventView {
	out := make([]eventView, len(evs))
	for i, e := range evs {
		out[i] = eventView{Event: e}
		var m map[string]any
		if json.Unmarshal([]byte(e.Data), &m) != nil {
			continue
		}
		for k, v := range m {
			out[i].Details = append(out[i].Details, detail{k, detailValue(v)})
		}
		sort.Slice(out[i].Details, func(a, b int) bool { return out[i].Details[a].Key < out[i].Details[b].Key })
	}
	return out
}

func detailValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return t.UTC().Format("2006-01-02 15:04 MST")
		}
		return x
	case float64:
		return fmt.Sprint(int64(x))
	}
	b, _ := json.Marshal(v)
	return string(b)
}

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
