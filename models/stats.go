package models

// TitleStats are one target title's figures; slices follow Stats.Weeks.
type TitleStats struct {
	TargetTitle        string
	WeeklyLeads        []int64
	WeeklyCalls        []int64
	Booked             int64
	Completed          int64
	Qualified          int64
	Client             int64
	CompletedCalls     int64
	NoShowCalls        int64
	Recommended        int64
	RecommendedDiffers int64
}

// NoShowRate is no-show calls over calls with an outcome, 0 with none.
func (t TitleStats) NoShowRate() float64 {
	return ratio(t.NoShowCalls, t.CompletedCalls+t.NoShowCalls)
}

// DiffersRate is how often the recommended title differs from the target
// title, over the leads that have one; 0 with none.
func (t TitleStats) DiffersRate() float64 { return ratio(t.RecommendedDiffers, t.Recommended) }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// MailHealth says how the outbox is doing: Queued are waiting or being
// sent, Failed gave up.
type MailHealth struct {
	Queued, Failed int64
}
