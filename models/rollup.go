package models

// The dashboard reads its lead and call figures from stats_daily, one row
// per business date and target title, instead of counting leads and calls
// at every view: on a million leads the 90-day dashboard took 314 ms that
// way. Every transaction that changes what a row counts (a booking, a lead
// edit, a call outcome, an erasure) adds its change to the row in the same
// transaction, as a delta, so the table is never out of step with the
// leads and bookings it sums. RebuildStats recomputes it from scratch
// (`callbook stats rebuild`), and the start-up rebuilds it when the
// business time zone, which decides the dates, has changed.
//
// The figures follow Stats: lead figures belong to the date a lead was
// created and its current target title (its "cohort"), call outcomes to
// their lead's cohort, and calls booked to the date the booking was made and
// the title it was made for.

// StatsDaily is one business date's figures for one target title.
type StatsDaily struct {
	Day            string `gorm:"primaryKey;size:10"` // YYYY-MM-DD in the business zone
	TargetTitle    string `gorm:"primaryKey;size:120"`
	Leads          int64  `gorm:"not null;default:0"`
	Qualified      int64  `gorm:"not null;default:0"`
	Client         int64  `gorm:"not null;default:0"`
	Recommended    int64  `gorm:"not null;default:0"`
	Differs        int64  `gorm:"not null;default:0"`
	CompletedLeads int64  `gorm:"not null;default:0"`
	CompletedCalls int64  `gorm:"not null;default:0"`
	NoShowCalls    int64  `gorm:"not null;default:0"`
	Calls          int64  `gorm:"not null;default:0"`
}

// TableName keeps the table name stable.
func (StatsDaily) TableName() string { return "stats_daily" }

// add sums o's counters into r (the key is the caller's to match).
func (r *StatsDaily) Add(o StatsDaily) {
	r.Leads += o.Leads
	r.Qualified += o.Qualified
	r.Client += o.Client
	r.Recommended += o.Recommended
	r.Differs += o.Differs
	r.CompletedLeads += o.CompletedLeads
	r.CompletedCalls += o.CompletedCalls
	r.NoShowCalls += o.NoShowCalls
	r.Calls += o.Calls
}

// IsZero reports whether r counts nothing.
func (r StatsDaily) IsZero() bool { return r == StatsDaily{Day: r.Day, TargetTitle: r.TargetTitle} }

// StatsDailyPart is one database connection's share of a date and title's
// figures, on PostgreSQL: bookings there run side by side, and a row every
// booking updated would make each wait for the commit of the one before,
// so each connection adds its deltas to a row of its own (see the store's
// rollup_parts.go). The dashboard adds a date's parts to its StatsDaily
// row; a rebuild folds them into it.
type StatsDailyPart struct {
	StatsDaily `gorm:"embedded"`
	// Part is the writing connection's backend process id.
	Part int32 `gorm:"primaryKey;autoIncrement:false"`
}

// TableName keeps the table name stable.
func (StatsDailyPart) TableName() string { return "stats_daily_parts" }
