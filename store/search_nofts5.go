//go:build !(sqlite_fts5 || fts5)

package store

// sqliteFTS5 says the SQLite driver was compiled without FTS5; lead search
// on SQLite then scans. Build with -tags sqlite_fts5 for the index.
const sqliteFTS5 = false
