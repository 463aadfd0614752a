package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/callbook/callbook/store"
)

// loadSecret returns CALLBOOK_SECRET, or for SQLite the secret kept in
// "callbook.secret" beside the database file, created on first start.
func loadSecret(cfg *config) ([]byte, error) {
	if cfg.Secret != "" {
		if len(cfg.Secret) < 16 {
			return nil, errors.New("CALLBOOK_SECRET: must be at least 16 characters")
		}
		return []byte(cfg.Secret), nil
	}
	dialect, path, err := store.ParseDatabaseURL(cfg.DatabaseURL)
	if err != nil || dialect != store.DialectSQLite {
		return nil, errors.New("CALLBOOK_SECRET: required with PostgreSQL")
	}
	file := filepath.Join(filepath.Dir(path), "callbook.secret")
	if b, err := os.ReadFile(file); err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 32 {
			return nil, fmt.Errorf("%s is too short: delete it to generate a new one (visitors' links will change)", file)
		}
		return []byte(s), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
		return nil, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	s := hex.EncodeToString(raw)
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return loadSecret(cfg) // another process made it first
	}
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", file, err)
	}
	defer f.Close()
	if _, err := f.WriteString(s + "\n"); err != nil {
		return nil, err
	}
	return []byte(s), f.Sync()
}
