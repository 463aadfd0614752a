#!/bin/sh
# Writes the upgrade fixtures: for each released version, a SQLite database
# and a PostgreSQL dump written by that version's own binary, with data in
# every table (see README.md). Run from anywhere in the repository, with a
# PostgreSQL server whose user may create databases:
#
#   store/testdata/upgrade/generate.sh              # every release below
#   store/testdata/upgrade/generate.sh 4-c03747a    # one of them
#
# A new release adds its line at the end (its commit, a name, and the build
# tags its README gives), runs it once, and commits the new folder. Never
# regenerate an existing fixture: it is what that version wrote.
set -eu
cd "$(git rev-parse --show-toplevel)"
: "${CALLBOOK_FIXTURE_POSTGRES:=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"

releases='
1-c8b210b c8b210b
2-d6da975 d6da975 sqlite_fts5
3-500fe69 500fe69 sqlite_fts5
4-c03747a c03747a sqlite_fts5
'

echo "$releases" | while read -r name commit tags; do
	[ -n "$name" ] || continue
	if [ $# -gt 0 ] && [ "$1" != "$name" ]; then
		continue
	fi
	go run ./store/testdata/upgrade/generate -commit "$commit" -name "$name" -tags "${tags:-}" \
		-postgres "$CALLBOOK_FIXTURE_POSTGRES"
done
