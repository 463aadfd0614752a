package handlers

import (
	"strconv"
)

// maxCharts is how many small charts the dashboard draws: all titles
// together, then the titles with the most leads. The tables list them all.
const maxCharts = 6

// Chart geometry, in SVG user units.
const (
	chartW, chartH           = 360, 190
	chartLeft, chartRight    = 34, 8
	chartTop, chartBottom    = 16, 28
	chartPlotW, chartPlotH   = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
	chartValueLabelsMaxWeeks = 7 // beyond this, values are in tooltips and the table
)

// chart is one small server-drawn bar chart: a title's leads (solid bars,
// each a link to those leads) and calls booked (hatched bars) per week, so
// the two series differ by pattern, not only by colour.
type chart struct {
	ID, Title, Href  string
	W, H, Left, Base int
	Right            int
	Bars             []chartBar
	Ticks            []chartTick
	MaxLabel         string
	ValueLabels      bool
	Top              int
}

// chartBar is one bar; Href is empty for bars that are not lead figures.
type chartBar struct {
	X, Y, W, H float64
	LX, LY     float64 // value label position
	N          int64
	Href, Tip  string
	Calls      bool
}

// chartTick is a week's label under the bars.
type chartTick struct {
	X    float64
	Text string
}

// weeklyCharts draws all titles together and then up to limit-1 titles, on
// one scale so the charts compare.
func weeklyCharts(v *dashboardView, limit int) []chart {
	views := []titleView{v.Total}
	for i := 0; i < len(v.Titles) && len(views) < limit; i++ {
		views = append(views, v.Titles[i])
	}
	top := int64(1)
	for _, tv := range views {
		for _, w := range tv.Weekly {
			top = max64(top, max64(w.Leads.N, w.Calls))
		}
	}
	charts := make([]chart, len(views))
	for i, tv := range views {
		charts[i] = drawChart("chart"+strconv.Itoa(i), tv, v.Weeks, top)
	}
	return charts
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// drawChart lays out one title's bars against the common maximum top.
func drawChart(id string, tv titleView, weeks []weekLabel, top int64) chart {
	c := chart{ID: id, Title: tv.Label, Href: tv.Booked.Href, W: chartW, H: chartH, Left: chartLeft,
		Right: chartW - chartRight, Base: chartTop + chartPlotH, Top: chartTop,
		MaxLabel: thousands(int(top)), ValueLabels: len(weeks) <= chartValueLabelsMaxWeeks}
	n := float64(len(weeks))
	gw := float64(chartPlotW) / n
	bw := gw * 0.36
	for i, w := range tv.Weekly {
		x0 := float64(chartLeft) + float64(i)*gw + gw*0.12
		c.Bars = append(c.Bars,
			bar(x0, bw, w.Leads.N, top, w.Leads.Href, tv.Label+", week of "+weeks[i].From+": "+thousands(int(w.Leads.N))+" leads", false),
			bar(x0+bw+gw*0.04, bw, w.Calls, top, "", tv.Label+", week of "+weeks[i].From+": "+thousands(int(w.Calls))+" calls booked", true))
		if len(weeks) <= 2*chartValueLabelsMaxWeeks && (len(weeks) <= chartValueLabelsMaxWeeks || i%2 == 0) {
			c.Ticks = append(c.Ticks, chartTick{X: x0 + bw + gw*0.02, Text: weeks[i].Tick})
		}
	}
	return c
}

func bar(x, w float64, n, top int64, href, tip string, calls bool) chartBar {
	h := float64(n) / float64(top) * chartPlotH
	y := float64(chartTop+chartPlotH) - h
	return chartBar{X: round1(x), Y: round1(y), W: round1(w), H: round1(h), LX: round1(x + w/2), LY: round1(y - 3),
		N: n, Href: href, Tip: tip, Calls: calls}
}

// round1 keeps SVG coordinates short.
func round1(f float64) float64 { return float64(int(f*10+0.5)) / 10 }
