package models

import (
	"context"
	"path/filepath"
	"testing"
)

// openInternalStore opens a migrated SQLite store in the test's folder, for
// tests inside the package (storetest imports models, so they cannot use
// it), and closes it when the test ends.
func openInternalStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open("sqlite:"+filepath.Join(t.TempDir(), "internal.db"), Options{Secret: []byte("test-secret-test-secret")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}
