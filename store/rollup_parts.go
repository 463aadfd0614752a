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
// its stats_daily row; the nightly clean-up (foldStatsParts) and a rebuild
// fold them into it. Connections are replaced every half hour, so a date
// and title gathers up to a few hundred parts in a day before the fold.
// SQLite, one writer, keeps adding to stats_daily's row.

const statsPartsTable = "stats_daily_parts"

// statsPartsHead, statsPartsRow and statsPartsTail make addStats's
// statement on PostgreSQL: each row's counters are added to the part of
// its date and title that belongs to the writing connection.
var statsPartsHead, statsPartsRow, statsPartsTail = func() (string, string, string) {
	sets := make([]string, len(statsCounters))
	for i, c := range statsCounters {
		sets[i] = c + " = " + statsPartsTable + "." + c + " + excluded." + c
	}
	return "INSERT INTO " + statsPartsTable + " (day, target_title, part, " + strings.Join(statsCounters, ", ") + ") VALUES ",
		"(?,?,pg_backend_pid()," + strings.Repeat("?,", len(statsCounters)-1) + "?)",
		" ON CONFLICT (day, target_title, part) DO UPDATE SET " + strings.Join(sets, ", ")
}()

// statsPartsUpsert is addStats's statement for n rows on PostgreSQL.
func statsPartsUpsert(n int) string {
	return statsPartsHead + strings.Repeat(statsPartsRow+",", n-1) + statsPartsRow + statsPartsTail
}

// foldStatsParts moves every part into its stats_daily row, in one
// statement: the DELETE … RETURNING removes exactly the parts whose
// counts it adds (a part a booking writes meanwhile waits for it, then
// starts afresh), so nothing is counted twice or lost. PostgreSQL only.
func foldStatsParts(tx *gorm.DB) (int64, error) {
	sums := make([]string, len(statsCounters))
	for i, c := range statsCounters {
		sums[i] = "SUM(" + c + ")"
	}
	res := tx.Exec("WITH moved AS (DELETE FROM " + statsPartsTable + " RETURNING *) " +
		statsUpsertHead[:strings.Index(statsUpsertHead, " VALUES ")] +
		" SELECT day, target_title, " + strings.Join(sums, ", ") + " FROM moved GROUP BY day, target_title" +
		statsUpsertTail)
	return res.RowsAffected, res.Error
}

// statsParts reads the parts of the dates in [from, to), summed per date
// and title (PostgreSQL only: SQLite writes none).
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
