package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrBackupPostgres: Backup copies SQLite files only.
var ErrBackupPostgres = errors.New("backup copies SQLite databases only; on PostgreSQL use pg_dump")

// ErrBackupExists: the backup file is there already and force was not given.
var ErrBackupExists = errors.New("backup file already exists")

// Backup writes a consistent copy of the live SQLite database to path with
// VACUUM INTO on a read-only connection. It takes a read snapshot, so bookings
// go on being written while it runs and are in the copy up to the moment it
// began. The copy is written beside path under a temporary name and renamed
// into place, so path is never a half-written file. An existing path is
// refused unless force is set.
func (s *Store) Backup(ctx context.Context, path string, force bool) error {
	if s.dialect != DialectSQLite {
		return ErrBackupPostgres
	}
	if _, err := os.Stat(path); err == nil && !force {
		return fmt.Errorf("%w: %s", ErrBackupExists, path)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	tmp, err := backupTempName(path)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := s.vacuumInto(ctx, tmp); err != nil {
		return fmt.Errorf("copy database: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("move copy into place: %w", err)
	}
	return nil
}

// backupTempName reserves a unique, absent name in path's folder: VACUUM
// INTO refuses to write over a file that is not empty.
func backupTempName(path string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("create backup in %s: %w", filepath.Dir(path), err)
	}
	name := f.Name()
	f.Close()
	return name, os.Remove(name)
}

// vacuumInto runs VACUUM INTO on a read-only connection of its own: the
// reader pool is query-only, which SQLite extends to the file VACUUM INTO
// writes, and the single writer must stay free for bookings.
func (s *Store) vacuumInto(ctx context.Context, dest string) error {
	db, err := openSQLiteReadOnly(s.path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "VACUUM INTO ?", dest)
	return err
}

// openSQLiteReadOnly opens path read-only through the driver GORM's SQLite
// dialect registers.
func openSQLiteReadOnly(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}
