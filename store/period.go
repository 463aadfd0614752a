package store

import (
	"time"

	"github.com/callbook/callbook/models"
)

// Period is a run of whole days in the business time zone: Start is the
// first day's midnight and End the midnight after the last day, so a lead
// is in the period when Start <= created_at < End. Both are kept in the
// business zone, so dates read from them are business dates.
type Period struct {
	Start, End time.Time
}

// maxPeriodDays bounds a period asked for by date.
const maxPeriodDays = 366

// midnight is the start of t's day in loc.
func midnight(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// addDays moves a midnight by n calendar days; across a daylight-saving
// change it stays midnight, which adding 24 hours would not.
func addDays(t time.Time, n int) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day()+n, 0, 0, 0, 0, t.Location())
}

// FirstDay is the period's first business date, YYYY-MM-DD.
func (p Period) FirstDay() string { return p.Start.Format(time.DateOnly) }

// LastDay is the period's last business date, YYYY-MM-DD.
func (p Period) LastDay() string { return addDays(p.End, -1).Format(time.DateOnly) }

// Days is how many days the period spans.
func (p Period) Days() int {
	n := 0
	for d := p.Start; d.Before(p.End); d = addDays(d, 1) {
		n++
	}
	return n
}

// Leads is the lead filter that selects the leads created in the period
// with the given target title and status (empty: any). Every lead figure
// of the dashboard is CountLeads of such a filter, so its link to the lead
// list shows exactly the leads it counts.
func (p Period) Leads(targetTitle, status string) LeadFilter {
	return LeadFilter{TargetTitle: targetTitle, Status: status, CreatedFrom: p.Start, CreatedTo: p.End}
}

// Weeks are the whole weeks, Monday to Sunday, that hold the period's days:
// the first may begin before the period and the last end after it, so
// every week's bar counts seven days.
func (p Period) Weeks() []Period {
	var weeks []Period
	cur := addDays(p.Start, -((int(p.Start.Weekday()) + 6) % 7))
	for cur.Before(p.End) {
		next := addDays(cur, 7)
		weeks = append(weeks, Period{cur, next})
		cur = next
	}
	return weeks
}

// span is the period from the start of the first of weeks to the end of
// the last (p itself when there are none).
func span(p Period, weeks []Period) Period {
	if len(weeks) == 0 {
		return p
	}
	return Period{weeks[0].Start, weeks[len(weeks)-1].End}
}

// LastDays is the n days up to and including today in the business zone.
func (s *Store) LastDays(n int) Period {
	today := midnight(s.Now(), s.loc)
	return Period{Start: addDays(today, 1-n), End: addDays(today, 1)}
}

// Today is today in the business zone.
func (s *Store) Today() Period { return s.LastDays(1) }

// ThisWeek is the business week (Monday to Sunday) that holds today.
func (s *Store) ThisWeek() Period {
	today := midnight(s.Now(), s.loc)
	monday := addDays(today, -((int(today.Weekday()) + 6) % 7))
	return Period{Start: monday, End: addDays(monday, 7)}
}

// ParseDay reads a business date (YYYY-MM-DD) as its midnight in the
// business zone.
func (s *Store) ParseDay(v string) (time.Time, bool) {
	d, err := time.ParseInLocation(time.DateOnly, v, s.loc)
	if err != nil {
		return time.Time{}, false
	}
	return d, true
}

// ParsePeriod reads from and to, business dates (YYYY-MM-DD) both
// included. An empty from is 29 days before to; an empty to is today.
// Wrong dates are a ValidationError naming the field.
func (s *Store) ParsePeriod(from, to string) (Period, error) {
	p := s.LastDays(30)
	if to != "" {
		d, ok := s.ParseDay(to)
		if !ok {
			return Period{}, models.Invalid("to", "must be a date as YYYY-MM-DD")
		}
		p = Period{Start: addDays(d, -29), End: addDays(d, 1)}
	}
	if from != "" {
		d, ok := s.ParseDay(from)
		if !ok {
			return Period{}, models.Invalid("from", "must be a date as YYYY-MM-DD")
		}
		p.Start = d
	}
	if !p.Start.Before(p.End) {
		return Period{}, models.Invalid("to", "must not be before from")
	}
	if p.Days() > maxPeriodDays {
		return Period{}, models.Invalid("to", "must be at most 366 days after from")
	}
	return p, nil
}
