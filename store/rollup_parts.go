package store

import (
	"strings"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// On PostgreSQL, bookings run side by side, and most of them add to the
// same roll-up row: today's, for a popular title. Updated by every
// booking, that row would make each wait for the commit of the one before
// (a row stays locked until its transaction's commit is on disk), so
// PostgreSQL adds a transaction's deltas to its connection's own row for
// the date and title, in stats_daily_parts, keyed by the connection's
// backend process id: transactions running at the same moment are on
// different connections, so they never share a row, and those of one
// connection run one after another. The dashboard adds a date's parts to
// its stats_daily row, and a rebuild folds them into it. A date and title
// has as many parts as connections booked for it that day: a few dozen.
// SQLite, one writer, keeps adding to stats_daily's row.

const statsPartsTable = "stats_daily_parts"

// statsPartsUpsert is addStats's statement for n rows on PostgreSQL.
func statsPartsUpsert(n int) string {
	row := "(?,?,pg_backend_pid()," + strings.Repeat("?,", len(statsCounters)-1) + "?)"
	sets := make([]string, len(statsCounters))
	for i, c := range statsCounters {
		sets[i] = c + " = " + statsPartsTable + "." + c + " + excluded." + c
	}
	return "INSERT INTO " + statsPartsTable + " (day, target_title, part, " + strings.Join(statsCounters, ", ") + ") VALUES " +
		strings.Repeat(row+",", n-1) + row +
		" ON CONFLICT (day, target_title, part) DO UPDATE SET " + strings.Join(sets, ", ")
}

// statsParts reads the parts of the dates in [from, to), summed per date
// and title (none on SQLite).
func statsParts(tx *gorm.DB, from, to string) ([]models.StatsDaily, error) {
	sums := make([]string, len(statsCounters))
	for i, c := range statsCounters {
		sums[i] = "SUM(" + c + ") AS " + c
	}
	var rows []models.StatsDaily
	err := tx.Table(statsPartsTable).Select("day, target_title, "+strings.Join(sums, ", ")).
		Where("day >= ? AND day < ?", from, to).Group("day, target_title").Scan(&rows).Error
	return rows, err
}
