package handlers

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// dashboardPeriods are the periods the dashboard offers, in days.
var dashboardPeriods = []int{7, 30, 90}

// dashboardDefaultDays is the period the dashboard opens on.
const dashboardDefaultDays = 30

// dashboard is the staff home (GET /admin?days=7|30|90): the period's
// leads and calls booked per week by target title, the funnel, how often
// the recommended title differs, calls today and this week, and mail
// health. Every lead figure links to the lead list showing those leads.
func (s *Server) dashboard(c *gin.Context) {
	days := dashboardDefaultDays
	if v := c.Query("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || (n != 7 && n != 30 && n != 90) {
			s.fail(c, models.Invalid("days", "must be 7, 30 or 90"))
			return
		}
		days = n
	}
	p := s.store.LastDays(days)
	st, err := s.store.Stats(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	answers, err := s.answerCounts(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	kinds, err := s.store.CallsByKind(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	u := staffUser(c)
	s.render(c, http.StatusOK, "admin/dashboard.html", gin.H{"Kinds": kinds,
		"Title": "Dashboard", "Nav": "dashboard", "Days": days, "Periods": dashboardPeriods,
		"D": newDashboardView(st), "Answers": answers,
		"IsAdmin": u != nil && u.Role == models.RoleAdmin, "NoMailServer": s.noMailServer,
	})
}

// apiStats returns the dashboard's figures as JSON
// (GET /api/v1/admin/stats?from=&to=, staff): dates are business days,
// both included; the default is the last 30 days.
func (s *Server) apiStats(c *gin.Context) {
	p, err := s.store.ParsePeriod(c.Query("from"), c.Query("to"))
	if err != nil {
		s.fail(c, err)
		return
	}
	st, err := s.store.Stats(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toStatsJSON(st, s.store.Location().String()))
}

// leadsLink is the lead list showing the leads created in p with the given
// target title and status ("" for any): the leads a dashboard figure counts.
func leadsLink(p store.Period, title, status string) string {
	v := url.Values{}
	v.Set("created_from", p.FirstDay())
	v.Set("created_to", p.LastDay())
	if title != "" {
		v.Set("target_title", title)
	}
	if status != "" {
		v.Set("status", status)
	}
	return "/admin/leads?" + v.Encode()
}

// figure is a number on the dashboard and the lead list behind it.
type figure struct {
	N    int64
	Href string
}

// Text is the number with thousands separators.
func (f figure) Text() string { return thousands(int(f.N)) }

// titleView is one target title's row of the funnel and weekly tables.
type titleView struct {
	models.TitleStats
	Label                                string
	Booked, Completed, Qualified, Client figure
	Weekly                               []weekCell
	NoShowPct, DiffersPct, ConvertedPct  string
	OutcomeCalls                         int64 // completed + no-show
}

// weekCell is one week's leads (linked) and calls booked.
type weekCell struct {
	Leads figure
	Calls int64
}

// weekLabel names a week by its first and last business dates: Short
// ("2 Nov – 8 Nov") heads the table, Tick ("2 Nov", the week's first day)
// sits under the chart's bars, where a range would not fit.
type weekLabel struct {
	From, To string
	Short    string
	Tick     string
}

// dashboardView is everything the dashboard template shows.
type dashboardView struct {
	Stats               *store.Stats
	From, To            string
	Weeks               []weekLabel
	Titles              []titleView
	Total               titleView
	Charts              []chart
	CallsToday, CallsWk int64
	TodayDays, WeekDays int
	Mail                models.MailHealth
}

func newDashboardView(st *store.Stats) *dashboardView {
	v := &dashboardView{Stats: st, From: st.Period.FirstDay(), To: st.Period.LastDay(), Mail: st.Mail,
		CallsToday: st.CallsToday.Count, CallsWk: st.CallsThisWeek.Count}
	for _, w := range st.Weeks {
		v.Weeks = append(v.Weeks, weekLabel{From: w.FirstDay(), To: w.LastDay(), Short: w.Start.Format("2 Jan") + " – " + w.End.AddDate(0, 0, -1).Format("2 Jan"), Tick: w.Start.Format("2 Jan")})
	}
	for _, t := range st.Titles {
		v.Titles = append(v.Titles, newTitleView(st, t, t.TargetTitle))
	}
	v.Total = newTitleView(st, st.Total, "All titles")
	v.Charts = weeklyCharts(v, maxCharts)
	return v
}

func newTitleView(st *store.Stats, t models.TitleStats, label string) titleView {
	p := st.Period
	tv := titleView{TitleStats: t, Label: label,
		Booked:    figure{t.Booked, leadsLink(p, t.TargetTitle, "")},
		Completed: figure{t.Completed, leadsLink(p, t.TargetTitle, "")},
		Qualified: figure{t.Qualified, leadsLink(p, t.TargetTitle, models.LeadQualified)},
		Client:    figure{t.Client, leadsLink(p, t.TargetTitle, models.LeadClient)},
		NoShowPct: pct(t.NoShowRate(), t.CompletedCalls+t.NoShowCalls), DiffersPct: pct(t.DiffersRate(), t.Recommended),
		OutcomeCalls: t.CompletedCalls + t.NoShowCalls,
	}
	conv := 0.0
	if t.Booked > 0 {
		conv = float64(t.Qualified+t.Client) / float64(t.Booked)
	}
	tv.ConvertedPct = pct(conv, t.Booked)
	for i, w := range st.Weeks {
		tv.Weekly = append(tv.Weekly, weekCell{Leads: figure{t.WeeklyLeads[i], leadsLink(w, t.TargetTitle, "")}, Calls: t.WeeklyCalls[i]})
	}
	return tv
}

// pct formats a rate as a whole percentage, "—" when it has no base.
func pct(r float64, base int64) string {
	if base == 0 {
		return "—"
	}
	return strconv.Itoa(int(r*100+0.5)) + "%"
}

// statsJSON is the body of GET /api/v1/admin/stats.
type statsJSON struct {
	From         string            `json:"from"`
	To           string            `json:"to"`
	Timezone     string            `json:"timezone"`
	Weeks        []weekJSON        `json:"weeks"`
	TargetTitles []titleJSON       `json:"target_titles"`
	Total        titleJSON         `json:"total"`
	Calls        map[string]any    `json:"calls"`
	Mail         map[string]any    `json:"mail"`
	Definitions  map[string]string `json:"definitions"`
}

type weekJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type titleJSON struct {
	TargetTitle         *string           `json:"target_title"`
	LeadsPerWeek        []int64           `json:"leads_per_week"`
	CallsBookedPerWeek  []int64           `json:"calls_booked_per_week"`
	Leads               int64             `json:"leads"`
	Completed           int64             `json:"completed"`
	Qualified           int64             `json:"qualified"`
	Client              int64             `json:"client"`
	CompletedCalls      int64             `json:"completed_calls"`
	NoShowCalls         int64             `json:"no_show_calls"`
	NoShowRate          float64           `json:"no_show_rate"`
	WithRecommendation  int64             `json:"with_recommendation"`
	RecommendationDiffs int64             `json:"recommendation_differs"`
	DiffersRate         float64           `json:"recommendation_differs_rate"`
	Links               map[string]string `json:"links"`
}

func toStatsJSON(st *store.Stats, zone string) statsJSON {
	out := statsJSON{From: st.Period.FirstDay(), To: st.Period.LastDay(), Timezone: zone,
		Weeks: []weekJSON{}, TargetTitles: []titleJSON{},
		Calls: map[string]any{"today": st.CallsToday.Count, "this_week": st.CallsThisWeek.Count,
			"today_date": st.CallsToday.Period.FirstDay(), "week_from": st.CallsThisWeek.Period.FirstDay(), "week_to": st.CallsThisWeek.Period.LastDay()},
		Mail:        map[string]any{"queued": st.Mail.Queued, "failed": st.Mail.Failed},
		Definitions: statsDefinitions,
	}
	for _, w := range st.Weeks {
		out.Weeks = append(out.Weeks, weekJSON{w.FirstDay(), w.LastDay()})
	}
	for _, t := range st.Titles {
		out.TargetTitles = append(out.TargetTitles, toTitleJSON(st.Period, t, true))
	}
	out.Total = toTitleJSON(st.Period, st.Total, false)
	return out
}

func toTitleJSON(p store.Period, t models.TitleStats, named bool) titleJSON {
	j := titleJSON{LeadsPerWeek: t.WeeklyLeads, CallsBookedPerWeek: t.WeeklyCalls, Leads: t.Booked, Completed: t.Completed,
		Qualified: t.Qualified, Client: t.Client, CompletedCalls: t.CompletedCalls, NoShowCalls: t.NoShowCalls,
		NoShowRate: t.NoShowRate(), WithRecommendation: t.Recommended, RecommendationDiffs: t.RecommendedDiffers,
		DiffersRate: t.DiffersRate(),
		Links: map[string]string{"leads": leadsLink(p, t.TargetTitle, ""),
			"qualified": leadsLink(p, t.TargetTitle, models.LeadQualified), "client": leadsLink(p, t.TargetTitle, models.LeadClient)}}
	if named {
		title := t.TargetTitle
		j.TargetTitle = &title
	}
	return j
}

// statsDefinitions say what each figure counts, for API readers.
var statsDefinitions = map[string]string{
	"leads":                  "leads created in the period (each booked a call then); erased leads are left out, as in the lead list",
	"completed":              "of those leads, how many have at least one call marked completed",
	"qualified":              "of those leads, how many have status qualified now",
	"client":                 "of those leads, how many have status client now",
	"no_show_rate":           "no-show calls over calls with an outcome (completed + no-show), of those leads",
	"recommendation_differs": "of those leads with a recommended title, how many were recommended another title than their target title",
	"calls_booked_per_week":  "bookings made in each week by the title they were booked for, whatever became of them",
	"calls":                  "calls not canceled that start today and this week (Monday to Sunday) in the business time zone",
	"mail":                   "queued: emails waiting or being sent; failed: emails that gave up",
}
