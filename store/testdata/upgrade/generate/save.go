package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// tableCounts is the rows per table a version left in one database.
type tableCounts struct {
	dialect string
	order   []string
	rows    map[string]int
}

// checkNoneEmpty fails when a table holds no row: a fixture must exercise
// every table its version has.
func (c tableCounts) checkNoneEmpty() error {
	var empty []string
	for _, t := range c.order {
		if c.rows[t] == 0 {
			empty = append(empty, t)
		}
	}
	if len(empty) > 0 {
		return fmt.Errorf("%s tables without a row: %s", c.dialect, strings.Join(empty, ", "))
	}
	return nil
}

func countTables(dialect string, tables []string, count func(string) (int, error)) (tableCounts, error) {
	sort.Strings(tables)
	c := tableCounts{dialect: dialect, order: tables, rows: map[string]int{}}
	for _, t := range tables {
		n, err := count(t)
		if err != nil {
			return c, err
		}
		c.rows[t] = n
	}
	log.Printf("  %s rows: %v", dialect, c.rows)
	return c, c.checkNoneEmpty()
}

func generateSQLite(v *version, dir string) (tableCounts, error) {
	log.Printf("SQLite, %s", v.short)
	tmp, err := os.MkdirTemp("", "cb-fixture-")
	if err != nil {
		return tableCounts{}, err
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, "callbook.db")
	in, err := newInstance(v, "sqlite:"+path, filepath.Join(tmp, "callbook.log"))
	if err != nil {
		return tableCounts{}, err
	}
	creds, err := fill(in)
	if err != nil {
		return tableCounts{}, err
	}
	if err := saveCredentials(dir, "sqlite", creds); err != nil {
		return tableCounts{}, err
	}
	sqlite := func(db, q string) (string, error) { return output("sqlite3", "-batch", db, q) }
	names, err := sqlite(path, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
	if err != nil {
		return tableCounts{}, err
	}
	counts, err := countTables("sqlite", strings.Fields(names), func(t string) (int, error) {
		out, err := sqlite(path, `SELECT count(*) FROM "`+t+`"`)
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(strings.TrimSpace(out))
	})
	if err != nil {
		return counts, err
	}
	dst := filepath.Join(dir, "callbook.db")
	_ = os.Remove(dst)
	abs, err := filepath.Abs(dst)
	if err != nil {
		return counts, err
	}
	if _, err := sqlite(path, "VACUUM INTO '"+abs+"'"); err != nil {
		return counts, err
	}
	// Small pages: most tables and indexes of a fixture fit in one page.
	_, err = sqlite(abs, "PRAGMA journal_mode = DELETE; PRAGMA page_size = 1024; VACUUM")
	return counts, err
}

func generatePostgres(v *version, dir, server, name string, keep bool) (tableCounts, error) {
	log.Printf("PostgreSQL, %s", v.short)
	dbName := "callbook_fixture_" + strings.NewReplacer("-", "_", ".", "_").Replace(name)
	psql := func(db, q string) (string, error) {
		return output("psql", db, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", q)
	}
	if _, err := psql(server, "DROP DATABASE IF EXISTS "+dbName); err != nil {
		return tableCounts{}, err
	}
	if _, err := psql(server, "CREATE DATABASE "+dbName); err != nil {
		return tableCounts{}, err
	}
	if !keep {
		defer psql(server, "DROP DATABASE IF EXISTS "+dbName)
	}
	u, err := url.Parse(server)
	if err != nil {
		return tableCounts{}, err
	}
	u.Path = "/" + dbName
	dbURL := u.String()
	tmp, err := os.MkdirTemp("", "cb-fixture-")
	if err != nil {
		return tableCounts{}, err
	}
	defer os.RemoveAll(tmp)
	in, err := newInstance(v, dbURL, filepath.Join(tmp, "callbook.log"))
	if err != nil {
		return tableCounts{}, err
	}
	creds, err := fill(in)
	if err != nil {
		return tableCounts{}, err
	}
	if err := saveCredentials(dir, "postgres", creds); err != nil {
		return tableCounts{}, err
	}
	names, err := psql(dbURL, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
	if err != nil {
		return tableCounts{}, err
	}
	counts, err := countTables("postgres", strings.Fields(names), func(t string) (int, error) {
		out, err := psql(dbURL, `SELECT count(*) FROM "`+t+`"`)
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(strings.TrimSpace(out))
	})
	if err != nil {
		return counts, err
	}
	dump, err := output("pg_dump", "--no-owner", "--no-privileges", "--column-inserts", "--dbname", dbURL)
	if err != nil {
		return counts, err
	}
	return counts, os.WriteFile(filepath.Join(dir, "postgres.sql"), []byte(cleanDump(dump)), 0o644)
}

// cleanDump drops psql's meta-commands (\restrict and \unrestrict, which
// recent pg_dump versions write) so the dump is plain SQL any client can
// run, and the version comments that differ from server to server.
func cleanDump(dump string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(dump, "\n") {
		if strings.HasPrefix(line, `\`) || strings.HasPrefix(line, "-- Dumped from") || strings.HasPrefix(line, "-- Dumped by") {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

// saveCredentials adds one database's credentials to credentials.json.
func saveCredentials(dir, dialect string, c credentials) error {
	path := filepath.Join(dir, "credentials.json")
	all := map[string]credentials{}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &all); err != nil {
			return err
		}
	}
	all[dialect] = c
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
