package store

import "context"

// MigrateTo applies the pending migrations up to version last, for tests
// that compare with what a released version left.
func MigrateTo(ctx context.Context, s *Store, last int) error { return s.migrateTo(ctx, last) }
