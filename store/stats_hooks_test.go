package store

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/callbook/callbook/models"
)

// RawStatsForTest computes the dashboard from the leads and bookings
// themselves, the reference the daily roll-up is checked against.
func (s *Store) RawStatsForTest(ctx context.Context, p Period) (*Stats, error) {
	return s.stats(ctx, p, true)
}

// StatsRowsForTest returns the roll-up as the dashboard reads it: each
// date and title's row of stats_daily plus its parts, by date and title.
func (s *Store) StatsRowsForTest(ctx context.Context) ([]models.StatsDaily, error) {
	var rows []models.StatsDaily
	db := s.write.WithContext(ctx)
	if err := db.Find(&rows).Error; err != nil {
		return nil, err
	}
	parts, err := statsParts(db, "0000-00-00", "9999-99-99")
	if err != nil {
		return nil, err
	}
	sums := map[[2]string]int{}
	var out []models.StatsDaily
	for _, r := range append(rows, parts...) {
		k := [2]string{r.Day, r.TargetTitle}
		if i, ok := sums[k]; ok {
			out[i].Add(r)
			continue
		}
		sums[k] = len(out)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b models.StatsDaily) int {
		return cmp.Or(strings.Compare(a.Day, b.Day), strings.Compare(a.TargetTitle, b.TargetTitle))
	})
	return out, nil
}
