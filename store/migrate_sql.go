package store

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// migrationFiles holds every migration's SQL, one file per dialect:
// migrations/<name>.sqlite.sql and migrations/<name>.postgres.sql.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationSQL returns the statements of migration file name for dialect.
// A migration with work for one dialect only has no file for the other.
// Statements end with a semicolon at the end of a line; lines starting with
// "--" are comments.
func migrationSQL(name, dialect string) ([]string, error) {
	b, err := migrationFiles.ReadFile("migrations/" + name + "." + dialect + ".sql")
	if errors.Is(err, fs.ErrNotExist) {
		if !migrationExists(name) {
			return nil, fmt.Errorf("no SQL file for migration %s", name)
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			stmts = append(stmts, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		return nil, fmt.Errorf("migration %s.%s.sql: %q does not end with a semicolon", name, dialect, rest)
	}
	return stmts, nil
}

// migrationExists reports whether any dialect has a file for migration name.
func migrationExists(name string) bool {
	matches, _ := fs.Glob(migrationFiles, "migrations/"+name+".*.sql")
	return len(matches) > 0
}
