package store

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// Stats are the dashboard's figures for one period.
//
// Definitions, chosen so every lead figure is a lead-list filter (see
// Period.Leads) and its link shows exactly the leads it counts:
//   - the period's leads ("booked") are the leads created in it: a lead is
//     created by its first booking, so each booked a call then;
//   - qualified and client are the current status of those leads
//     (status qualified, status client), so a client is not also counted
//     as qualified;
//   - completed is those leads with at least one call marked completed,
//     and the no-show rate is no-show calls over calls with an outcome
//     (completed + no-show), both over the same leads;
//   - recommended counts those leads with a recommended title (staff input
//     is trimmed when saved), and differs
//     those whose recommended title is not the target title (compared
//     without case and surrounding spaces);
//   - calls booked per week are bookings made that week, by the title they
//     were booked for, whatever became of them (repeat bookings count).
//
// Erased leads are left out of lead figures, as the lead list leaves them
// out; their calls still count.
type Stats struct {
	Period Period
	Weeks  []Period
	// Titles has one entry per target title seen in the period, most leads
	// first; Total sums them (its TargetTitle is "").
	Titles []models.TitleStats
	Total  models.TitleStats
	// CallsToday and CallsThisWeek count calls (not canceled) that start
	// today and this business week.
	CallsToday, CallsThisWeek CallCount
	Mail                      models.MailHealth
}

// CallCount is the number of calls that start in a period.
type CallCount struct {
	Period Period
	Count  int64
}

// Stats computes the dashboard's figures for p. Each figure is one grouped
// query over the period's rows, read in one snapshot.
func (s *Store) Stats(ctx context.Context, p Period) (*Stats, error) {
	return s.stats(ctx, p, false)
}

// stats computes the figures from stats_daily, or with raw from the leads
// and bookings themselves (the roll-up's reference in tests).
func (s *Store) stats(ctx context.Context, p Period, raw bool) (*Stats, error) {
	st := &Stats{Period: p, Weeks: p.Weeks()}
	titles := map[string]*models.TitleStats{}
	get := func(title string) *models.TitleStats {
		t := titles[title]
		if t == nil {
			t = &models.TitleStats{TargetTitle: title, WeeklyLeads: make([]int64, len(st.Weeks)), WeeklyCalls: make([]int64, len(st.Weeks))}
			titles[title] = t
		}
		return t
	}
	err := s.read.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		steps := []func(*gorm.DB) error{
			func(tx *gorm.DB) error { return rolledUp(tx, s.dialect, st, get) },
			func(tx *gorm.DB) error { return s.callCounts(tx, st) },
			func(tx *gorm.DB) error { return mailHealth(tx, &st.Mail) },
		}
		if raw {
			steps[0] = func(tx *gorm.DB) error {
				if err := weeklyLeads(tx, st, get); err != nil {
					return err
				}
				if err := cohortCalls(tx, p, get); err != nil {
					return err
				}
				return weeklyCalls(tx, st, get)
			}
		}
		for _, step := range steps {
			if err := step(tx); err != nil {
				return err
			}
		}
		return nil
	}, s.readSnapshot())
	if err != nil {
		return nil, err
	}
	st.Titles, st.Total = sortTitles(titles, len(st.Weeks))
	return st, nil
}

// rolledUp adds the period's rows of stats_daily: a few rows per day
// (one per target title), whatever the number of leads.
func rolledUp(tx *gorm.DB, dialect string, st *Stats, get func(string) *models.TitleStats) error {
	week := map[string]int{}
	for i, w := range st.Weeks {
		for d := w.Start; d.Before(w.End); d = addDays(d, 1) {
			week[d.Format(time.DateOnly)] = i
		}
	}
	var rows []models.StatsDaily
	weeks := span(st.Period, st.Weeks)
	err := tx.Where("day >= ? AND day < ?", weeks.FirstDay(), weeks.End.Format(time.DateOnly)).Find(&rows).Error
	if err != nil {
		return err
	}
	if dialect == DialectPostgres { // parts exist only there (rollup_parts.go)
		parts, err := statsParts(tx, weeks.FirstDay(), weeks.End.Format(time.DateOnly))
		if err != nil {
			return err
		}
		rows = append(rows, parts...)
	}
	first, end := st.Period.FirstDay(), st.Period.End.Format(time.DateOnly)
	for _, r := range rows {
		wk, ok := week[r.Day]
		if !ok || r.IsZero() {
			continue
		}
		t := get(r.TargetTitle)
		t.WeeklyLeads[wk] += r.Leads
		t.WeeklyCalls[wk] += r.Calls
		if r.Day < first || r.Day >= end {
			continue // a day of the first or last week outside the period
		}
		t.Booked += r.Leads
		t.Qualified += r.Qualified
		t.Client += r.Client
		t.Recommended += r.Recommended
		t.RecommendedDiffers += r.Differs
		t.Completed += r.CompletedLeads
		t.CompletedCalls += r.CompletedCalls
		t.NoShowCalls += r.NoShowCalls
	}
	return nil
}

// weekCase numbers the week a column's time falls in (0 for the first),
// for rows already known to be in the weeks.
func weekCase(col string, weeks []Period) (string, []any) {
	if len(weeks) < 2 {
		return "0", nil
	}
	var b strings.Builder
	args := make([]any, 0, len(weeks))
	b.WriteString("CASE")
	for i, w := range weeks[:len(weeks)-1] {
		b.WriteString(" WHEN " + col + " < ? THEN " + strconv.Itoa(i))
		args = append(args, w.End.UTC())
	}
	b.WriteString(" ELSE " + strconv.Itoa(len(weeks)-1) + " END")
	return b.String(), args
}

// weeklyLeads counts the leads of the period's weeks by title and week,
// and the period's own leads with their statuses and recommendations, in
// one pass.
func weeklyLeads(tx *gorm.DB, st *Stats, get func(string) *models.TitleStats) error {
	wk, args := weekCase("leads.created_at", st.Weeks)
	args = append(args, st.Period.Start.UTC(), st.Period.End.UTC())
	var rows []struct {
		Title                                string
		Wk                                   int
		Inp                                  bool
		N, Qualified, Client, Recom, Differs int64
	}
	q := tx.Table("leads").Select(`leads.target_title AS title, `+wk+` AS wk,
		CASE WHEN leads.created_at >= ? AND leads.created_at < ? THEN 1 ELSE 0 END AS inp, COUNT(*) AS n,
		SUM(CASE WHEN leads.status = 'qualified' THEN 1 ELSE 0 END) AS qualified,
		SUM(CASE WHEN leads.status = 'client' THEN 1 ELSE 0 END) AS client,
		SUM(CASE WHEN leads.recommended_title <> '' THEN 1 ELSE 0 END) AS recom,
		SUM(CASE WHEN leads.recommended_title <> ''
			AND LOWER(TRIM(leads.recommended_title)) <> LOWER(TRIM(leads.target_title)) THEN 1 ELSE 0 END) AS differs`, args...)
	if err := span(st.Period, st.Weeks).Leads("", "").apply(q).Group("1, 2, 3").Scan(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		t := get(r.Title)
		t.WeeklyLeads[r.Wk] += r.N
		if !r.Inp {
			continue
		}
		t.Booked += r.N
		t.Qualified += r.Qualified
		t.Client += r.Client
		t.Recommended += r.Recom
		t.RecommendedDiffers += r.Differs
	}
	return nil
}

// cohortCalls counts the outcomes of the calls of the period's leads.
func cohortCalls(tx *gorm.DB, p Period, get func(string) *models.TitleStats) error {
	var rows []struct {
		Title                     string
		Completed, Calls, NoShows int64
	}
	q := tx.Table("leads").Select(`leads.target_title AS title,
		COUNT(DISTINCT CASE WHEN b.status = 'completed' THEN b.lead_id END) AS completed,
		SUM(CASE WHEN b.status = 'completed' THEN 1 ELSE 0 END) AS calls,
		SUM(CASE WHEN b.status = 'no_show' THEN 1 ELSE 0 END) AS no_shows`).
		Joins("JOIN bookings b ON b.lead_id = leads.id AND b.status IN ('completed', 'no_show')")
	if err := p.Leads("", "").apply(q).Group("leads.target_title").Scan(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		t := get(r.Title)
		t.Completed, t.CompletedCalls, t.NoShowCalls = r.Completed, r.Calls, r.NoShows
	}
	return nil
}

// weeklyCalls counts the bookings made in the period's weeks by title and week.
func weeklyCalls(tx *gorm.DB, st *Stats, get func(string) *models.TitleStats) error {
	wk, args := weekCase("bookings.created_at", st.Weeks)
	var rows []struct {
		Title string
		Wk    int
		N     int64
	}
	err := tx.Table("bookings").Select("bookings.target_title AS title, "+wk+" AS wk, COUNT(*) AS n", args...).
		Where("bookings.created_at >= ? AND bookings.created_at < ?", span(st.Period, st.Weeks).Start.UTC(), span(st.Period, st.Weeks).End.UTC()).
		Group("1, 2").Scan(&rows).Error
	if err != nil {
		return err
	}
	for _, r := range rows {
		get(r.Title).WeeklyCalls[r.Wk] += r.N
	}
	return nil
}

// callCounts counts the calls, not canceled, that start today and this week.
func (s *Store) callCounts(tx *gorm.DB, st *Stats) error {
	st.CallsToday.Period, st.CallsThisWeek.Period = s.Today(), s.ThisWeek()
	for _, c := range []*CallCount{&st.CallsToday, &st.CallsThisWeek} {
		err := tx.Table("bookings").
			Where("bookings.status IN ? AND bookings.start_at >= ? AND bookings.start_at < ?",
				[]string{models.BookingConfirmed, models.BookingCompleted, models.BookingNoShow}, c.Period.Start.UTC(), c.Period.End.UTC()).
			Count(&c.Count).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// mailHealth counts queued and failed email. Each count is a seek on the
// outbox's (status, next_attempt_at) index, however much mail was sent.
func mailHealth(tx *gorm.DB, m *models.MailHealth) error {
	err := tx.Table("outbox").Where("status IN ?", []string{models.OutboxPending, models.OutboxSending}).Count(&m.Queued).Error
	if err != nil {
		return err
	}
	return tx.Table("outbox").Where("status = ?", models.OutboxFailed).Count(&m.Failed).Error
}

// sortTitles orders titles by leads, most first, then by name, and sums them.
func sortTitles(titles map[string]*models.TitleStats, weeks int) ([]models.TitleStats, models.TitleStats) {
	list := make([]models.TitleStats, 0, len(titles))
	total := models.TitleStats{WeeklyLeads: make([]int64, weeks), WeeklyCalls: make([]int64, weeks)}
	for _, t := range titles {
		list = append(list, *t)
		total.Booked += t.Booked
		total.Completed += t.Completed
		total.Qualified += t.Qualified
		total.Client += t.Client
		total.CompletedCalls += t.CompletedCalls
		total.NoShowCalls += t.NoShowCalls
		total.Recommended += t.Recommended
		total.RecommendedDiffers += t.RecommendedDiffers
		for i := range weeks {
			total.WeeklyLeads[i] += t.WeeklyLeads[i]
			total.WeeklyCalls[i] += t.WeeklyCalls[i]
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Booked != list[j].Booked {
			return list[i].Booked > list[j].Booked
		}
		return list[i].TargetTitle < list[j].TargetTitle
	})
	return list, total
}
