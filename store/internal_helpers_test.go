package store

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
	return openInternalStoreAt(t, filepath.Join(t.TempDir(), "internal.db"))
}

// openInternalStoreAt is openInternalStore on the database file at path, for
// tests that look at the file or open it again. Closing it early is safe.
func openInternalStoreAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open("sqlite:"+path, Options{Secret: []byte("test-secret-test-secret")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}
