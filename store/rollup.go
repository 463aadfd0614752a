package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

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

// statsZoneSetting holds the zone stats_daily's dates were computed in.
const statsZoneSetting = "stats_daily_zone"

// leadStat is one lead's share of its cohort row; a lead that is erased or
// missing has none (live false).
type leadStat struct {
	live                                    bool
	day, title                              string
	qualified, client, recommended, differs int64
	completedCalls, noShowCalls             int64
}

// row turns the share into the figures it adds to its row.
func (l leadStat) row(sign int64) models.StatsDaily {
	r := models.StatsDaily{Day: l.day, TargetTitle: l.title, Leads: sign, Qualified: sign * l.qualified, Client: sign * l.client,
		Recommended: sign * l.recommended, Differs: sign * l.differs,
		CompletedCalls: sign * l.completedCalls, NoShowCalls: sign * l.noShowCalls}
	if l.completedCalls > 0 {
		r.CompletedLeads = sign
	}
	return r
}

// statOfLead is the share of a lead row with the given outcome counts.
func (s *Store) statOfLead(l *models.Lead, completed, noShow int64) leadStat {
	if l == nil || l.ErasedAt != nil {
		return leadStat{}
	}
	st := leadStat{live: true, day: l.CreatedAt.In(s.loc).Format(time.DateOnly), title: l.TargetTitle,
		completedCalls: completed, noShowCalls: noShow}
	switch l.Status {
	case models.LeadQualified:
		st.qualified = 1
	case models.LeadClient:
		st.client = 1
	}
	if l.RecommendedTitle != "" {
		st.recommended = 1
		if s.titleKey(l.RecommendedTitle) != s.titleKey(l.TargetTitle) {
			st.differs = 1
		}
	}
	return st
}

// titleKey compares titles as the raw dashboard query does, with SQL's
// LOWER(TRIM(x)): TRIM removes spaces only, and SQLite's LOWER folds ASCII
// letters only, where PostgreSQL's folds every letter.
func (s *Store) titleKey(t string) string {
	t = strings.Trim(t, " ")
	if s.dialect == DialectPostgres {
		return strings.ToLower(t)
	}
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, t)
}

// readLeadStat reads a lead's current share, outcome counts included.
func (s *Store) readLeadStat(tx *gorm.DB, leadID uint) (leadStat, error) {
	var l models.Lead
	err := tx.Session(&gorm.Session{NewDB: true}).Where("id = ?", leadID).Take(&l).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return leadStat{}, nil
	}
	if err != nil {
		return leadStat{}, err
	}
	var c struct{ Completed, NoShow int64 }
	err = tx.Session(&gorm.Session{NewDB: true}).Table("bookings").
		Select("COALESCE(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END), 0) AS completed, "+
			"COALESCE(SUM(CASE WHEN status = 'no_show' THEN 1 ELSE 0 END), 0) AS no_show").
		Where("lead_id = ? AND status IN ?", leadID, []string{models.BookingCompleted, models.BookingNoShow}).Scan(&c).Error
	if err != nil {
		return leadStat{}, err
	}
	return s.statOfLead(&l, c.Completed, c.NoShow), nil
}

// trackLead runs change, which alters lead leadID or its calls inside tx,
// and moves the lead's share in stats_daily from before to after.
func (s *Store) trackLead(tx *gorm.DB, leadID uint, change func() error) error {
	rows, err := s.leadStatMove(tx, leadID, change)
	if err != nil {
		return err
	}
	return s.addStats(tx, rows...)
}

// leadStatMove runs change and returns the rows that move the lead's share,
// for a caller that must write them later in its transaction (see
// addStats on lock order).
func (s *Store) leadStatMove(tx *gorm.DB, leadID uint, change func() error) ([]models.StatsDaily, error) {
	before, err := s.readLeadStat(tx, leadID)
	if err != nil {
		return nil, err
	}
	if err := change(); err != nil {
		return nil, err
	}
	after, err := s.readLeadStat(tx, leadID)
	if err != nil {
		return nil, err
	}
	return statMove(before, after), nil
}

// statMove is the rows that move a share from before to after.
func statMove(before, after leadStat) []models.StatsDaily {
	var rows []models.StatsDaily
	if before.live {
		rows = append(rows, before.row(-1))
	}
	if after.live {
		rows = append(rows, after.row(1))
	}
	return rows
}

// bookingStat is the row a new booking adds: one call booked on the date
// it was made, for the title it was made for.
func (s *Store) bookingStat(b *models.Booking) models.StatsDaily {
	return models.StatsDaily{Day: b.CreatedAt.In(s.loc).Format(time.DateOnly), TargetTitle: b.TargetTitle, Calls: 1}
}

// addStats adds rows to stats_daily in one statement. Rows for the same
// date and title are merged first and sent in key order, so concurrent
// transactions on PostgreSQL lock them in one order. A transaction that
// locks hosts (a booking) must write its rows after taking those locks:
// rows locked before them deadlock with a booking that holds a host and
// wants the same row.
func (s *Store) addStats(tx *gorm.DB, rows ...models.StatsDaily) error {
	// A change adds a handful of rows: merging by linear search beats a map.
	out := make([]models.StatsDaily, 0, len(rows))
	for _, r := range rows {
		i := slices.IndexFunc(out, func(m models.StatsDaily) bool { return m.Day == r.Day && m.TargetTitle == r.TargetTitle })
		if i < 0 {
			out = append(out, r)
			continue
		}
		out[i].Add(r)
	}
	out = slices.DeleteFunc(out, models.StatsDaily.IsZero)
	if len(out) == 0 {
		return nil
	}
	slices.SortFunc(out, func(a, b models.StatsDaily) int {
		return cmp.Or(strings.Compare(a.Day, b.Day), strings.Compare(a.TargetTitle, b.TargetTitle))
	})
	args := make([]any, 0, (2+len(statsCounters))*len(out))
	for _, r := range out {
		args = append(args, r.Day, r.TargetTitle, r.Leads, r.Qualified, r.Client, r.Recommended, r.Differs,
			r.CompletedLeads, r.CompletedCalls, r.NoShowCalls, r.Calls)
	}
	if s.dialect == DialectPostgres {
		return s.execLater(tx, statsPartsUpsert(len(out)), args...)
	}
	_, err := s.exec(tx, statsUpsertHead+placeholders(len(out), 2+len(statsCounters))+statsUpsertTail, args...)
	return err
}

// statsUpsertHead and statsUpsertTail wrap the rows addStats adds: each
// counter is added to the row of its date and title.
var statsUpsertHead, statsUpsertTail = func() (string, string) {
	sets := make([]string, len(statsCounters))
	for i, c := range statsCounters {
		sets[i] = c + " = stats_daily." + c + " + excluded." + c
	}
	return "INSERT INTO stats_daily (day, target_title, " + strings.Join(statsCounters, ", ") + ") VALUES ",
		" ON CONFLICT (day, target_title) DO UPDATE SET " + strings.Join(sets, ", ")
}()

// statsCounters are stats_daily's counting columns.
var statsCounters = []string{"leads", "qualified", "client", "recommended", "differs",
	"completed_leads", "completed_calls", "no_show_calls", "calls"}

// RebuildStats recomputes stats_daily from the leads and bookings, in one
// transaction, and records the zone its dates are in.
func (s *Store) RebuildStats(ctx context.Context) error {
	return s.write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return s.rebuildStats(tx)
	})
}

func (s *Store) rebuildStats(tx *gorm.DB) error {
	tx = tx.Session(&gorm.Session{NewDB: true})
	if err := execAll(tx, "DELETE FROM stats_daily", "DELETE FROM "+statsPartsTable); err != nil {
		return err
	}
	sums := map[[2]string]*models.StatsDaily{}
	add := func(r models.StatsDaily) {
		k := [2]string{r.Day, r.TargetTitle}
		if m := sums[k]; m != nil {
			m.Add(r)
			return
		}
		sums[k] = &r
	}
	// Live leads with their outcome counts, in id pages.
	type leadRow struct {
		models.Lead
		Completed, NoShow int64
	}
	var after uint
	for {
		var page []leadRow
		err := tx.Table("leads").Select(`leads.*,
			(SELECT COUNT(*) FROM bookings b WHERE b.lead_id = leads.id AND b.status = 'completed') AS completed,
			(SELECT COUNT(*) FROM bookings b WHERE b.lead_id = leads.id AND b.status = 'no_show') AS no_show`).
			Where("leads.erased_at IS NULL AND leads.id > ?", after).Order("leads.id").Limit(5000).Scan(&page).Error
		if err != nil {
			return err
		}
		for i := range page {
			add(s.statOfLead(&page[i].Lead, page[i].Completed, page[i].NoShow).row(1))
		}
		if len(page) < 5000 {
			break
		}
		after = page[len(page)-1].ID
	}
	// Calls booked, by the date and title they were booked for.
	var bAfter uint
	for {
		var page []models.Booking
		if err := tx.Select("id", "created_at", "target_title").Where("id > ?", bAfter).Order("id").Limit(20000).Find(&page).Error; err != nil {
			return err
		}
		for i := range page {
			add(s.bookingStat(&page[i]))
		}
		if len(page) < 20000 {
			break
		}
		bAfter = page[len(page)-1].ID
	}
	rows := make([]models.StatsDaily, 0, len(sums))
	for _, r := range sums {
		rows = append(rows, *r)
	}
	if len(rows) > 0 {
		if err := tx.CreateInBatches(rows, 500).Error; err != nil {
			return err
		}
	}
	return upsertSetting(tx, statsZoneSetting, s.loc.String())
}

// ensureStats rebuilds stats_daily at start when it was computed in
// another business zone, or never (a database from before the table).
func (s *Store) ensureStats(conn *gorm.DB) error {
	return conn.Transaction(func(tx *gorm.DB) error {
		tx = tx.Session(&gorm.Session{NewDB: true})
		var zone []string
		if err := tx.Model(&models.Setting{}).Where("key = ?", statsZoneSetting).Pluck("value", &zone).Error; err != nil {
			return err
		}
		if len(zone) == 1 && zone[0] == s.loc.String() {
			return nil
		}
		start := time.Now()
		if err := s.rebuildStats(tx); err != nil {
			return fmt.Errorf("rebuild dashboard figures: %w", err)
		}
		if len(zone) == 1 {
			s.log.Info("rebuilt the dashboard figures for a new business time zone", "was", zone[0], "now", s.loc.String(), "took", time.Since(start).Round(time.Millisecond))
		}
		return nil
	})
}
