// Command generate writes the upgrade fixtures: databases written by a
// released version of Callbook, through that version's own binary, CLI and
// API, with data in every table. The upgrade tests migrate each fixture with
// the current code and check that every row survived.
//
// Run it from the repository root, once per release (see generate.sh):
//
//	go run ./store/testdata/upgrade/generate -commit c8b210b -name 1-c8b210b -tags ''
//
// It builds that commit's binary from `git archive` in a temporary folder,
// then for SQLite and for PostgreSQL starts it against a fresh database,
// fills it (see fill.go), stops it, checks that no table is empty, and saves
// store/testdata/upgrade/<name>/callbook.db (VACUUMed) and postgres.sql (a
// plain pg_dump with one INSERT per row).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// secret is the CALLBOOK_SECRET every fixture is written with: sealed
// columns (calendar credentials) open only with it.
const secret = "upgrade-fixture-secret-do-not-use-in-production"

type options struct {
	commit, name, tags, out, pgURL, work string
	keep                                 bool
	captureInitial, captureMigrate       string
}

func main() {
	var o options
	flag.StringVar(&o.commit, "commit", "", "the released commit to build and run")
	flag.StringVar(&o.name, "name", "", "the fixture's folder name under -out")
	flag.StringVar(&o.tags, "tags", "sqlite_fts5", "build tags of that version (its README says which)")
	flag.StringVar(&o.out, "out", "store/testdata/upgrade", "where fixtures go")
	flag.StringVar(&o.pgURL, "postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"a PostgreSQL server URL whose user may create databases; empty skips PostgreSQL")
	flag.StringVar(&o.work, "work", os.TempDir(), "where the version's source and binary are built")
	flag.BoolVar(&o.keep, "keep", false, "keep the fixture's PostgreSQL database afterwards")
	flag.StringVar(&o.captureInitial, "capture-initial", "",
		"instead of a fixture, write the SQL migration 1 of -commit sends to empty databases into this folder")
	flag.StringVar(&o.captureMigrate, "capture-migrate", "",
		"instead of a fixture, record the SQL -commit's migrations send to this database URL, into -out (a file)")
	flag.Parse()
	if o.commit == "" || (o.name == "" && o.captureInitial == "" && o.captureMigrate == "") {
		fmt.Fprintln(os.Stderr, "usage: generate -commit SHA -name NAME [-tags T] [-out DIR] [-postgres URL]")
		os.Exit(2)
	}
	log.SetFlags(log.Ltime)
	if err := run(o); err != nil {
		log.Fatalf("generate %s: %v", o.name, err)
	}
}

func run(o options) error {
	v, err := buildVersion(o.commit, o.tags, o.work)
	if err != nil {
		return err
	}
	switch {
	case o.captureInitial != "":
		return captureInitialSchema(v, o.tags, o.captureInitial, o.pgURL)
	case o.captureMigrate != "":
		return runCapture(v, o.tags, "migrate", o.captureMigrate, o.out)
	}
	dir := filepath.Join(o.out, o.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var counts []tableCounts
	sq, err := generateSQLite(v, dir)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	counts = append(counts, sq)
	if o.pgURL != "" {
		pg, err := generatePostgres(v, dir, o.pgURL, o.name, o.keep)
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		counts = append(counts, pg)
	}
	return writeFixtureReadme(dir, v, o, counts)
}

// writeFixtureReadme records which version wrote the fixture, when and how,
// and the rows each table holds.
func writeFixtureReadme(dir string, v *version, o options, counts []tableCounts) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Fixture %s\n\n", o.name)
	fmt.Fprintf(&b, "Written by Callbook %s (%s, committed %s), built with tags `%s`,\n", v.short, v.subject, v.date, o.tags)
	fmt.Fprintf(&b, "on %s by `go run ./store/testdata/upgrade/generate -commit %s -name %s -tags '%s'`.\n\n",
		time.Now().UTC().Format("2006-01-02"), v.short, o.name, o.tags)
	b.WriteString("That version's own binary migrated a fresh database and was then driven through its\n")
	b.WriteString("CLI (`migrate`, `user add`, `token create`) and its HTTP API and staff pages; see\n")
	b.WriteString("`../generate/fill.go` for every step. `CALLBOOK_SECRET` was `" + secret + "`.\n\n")
	b.WriteString("Rows per table:\n\n| table |")
	for _, c := range counts {
		b.WriteString(" " + c.dialect + " |")
	}
	b.WriteString("\n|---|")
	for range counts {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, t := range counts[0].order {
		fmt.Fprintf(&b, "| %s |", t)
		for _, c := range counts {
			if n, ok := c.rows[t]; ok {
				fmt.Fprintf(&b, " %d |", n)
			} else {
				b.WriteString(" – |")
			}
		}
		b.WriteString("\n")
	}
	return os.WriteFile(filepath.Join(dir, "README.md"), []byte(b.String()), 0o644)
}
