package store

import "context"

// RawStatsForTest computes the dashboard from the leads and bookings
// themselves, the reference the daily roll-up is checked against.
func (s *Store) RawStatsForTest(ctx context.Context, p Period) (*Stats, error) {
	return s.stats(ctx, p, true)
}
