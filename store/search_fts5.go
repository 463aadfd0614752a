//go:build sqlite_fts5 || fts5

package store

// sqliteFTS5 says the SQLite driver was compiled with FTS5, which the same
// build tags turn on in github.com/mattn/go-sqlite3.
const sqliteFTS5 = true
