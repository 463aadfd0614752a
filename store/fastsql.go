package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// The booking transaction runs a dozen statements, hundreds of times a
// second on SQLite's single writer connection. Built by GORM, each costs
// reflection and allocations in Go, and SQLite parses and plans it anew:
// GORM's own statement cache keeps nothing across transactions, and every
// write here runs in one. So the statements on that path are fixed SQL run
// through exec, queryRow and query below, which on SQLite keep each
// statement prepared on the writer connection for the life of the store.
// On PostgreSQL the same SQL goes through GORM, which numbers the
// placeholders, and pgx keeps its own per-connection statement cache.
//
// The SQL is portable between the two: ? placeholders, no backquotes,
// RETURNING for generated ids, ON CONFLICT for upserts.

// stmtCache holds statements prepared on the group committer's connection
// (see groupCommit). They run inside whatever transaction is open on it.
type stmtCache struct {
	conn *sql.Conn
	mu   sync.Mutex
	m    map[string]*sql.Stmt
}

// stmtCacheMax bounds the cache. The fixed statements number a few dozen;
// the rest are variants by row count (a batch of events, a lead's answers)
// and by host count, so the bound is only a guard.
const stmtCacheMax = 256

func newStmtCache(conn *sql.Conn) *stmtCache {
	return &stmtCache{conn: conn, m: map[string]*sql.Stmt{}}
}

// get returns q prepared on the connection, preparing it on first use; nil
// when the cache is full, and the caller then runs q unprepared.
func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok || len(c.m) >= stmtCacheMax {
		return st, nil
	}
	st, err := c.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.m[q] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// prepared returns q prepared on SQLite's writer connection, to run in
// tx's transaction there, or nil where GORM should run it: on PostgreSQL,
// when the cache is full, and outside the group committer's transactions
// (reads, and the rare write that runs on its own connection).
func (s *Store) prepared(tx *gorm.DB, q string) (*sql.Stmt, error) {
	if s.group == nil || batchOf(tx) == nil {
		return nil, nil
	}
	st, err := s.group.stmts.get(txContext(tx), q)
	return st, s.translate(err)
}

// insertID runs insert statement q, which names no RETURNING clause, and
// returns the id of the row it created; gorm.ErrRecordNotFound when it
// created none (an ON CONFLICT DO NOTHING that found the row).
func (s *Store) insertID(tx *gorm.DB, q string, args ...any) (uint, error) {
	if p := pipeOf(tx); p != nil {
		var id int64
		err := s.queryRow(tx, q+" RETURNING id", args, &id)
		return uint(id), err
	}
	st, err := s.prepared(tx, q)
	if err != nil {
		return 0, err
	}
	if st == nil {
		var id int64
		err := s.queryRow(tx, q+" RETURNING id", args, &id)
		return uint(id), err
	}
	r, err := st.ExecContext(txContext(tx), args...)
	if err != nil {
		return 0, s.translate(err)
	}
	if n, err := r.RowsAffected(); err != nil || n == 0 {
		return 0, cmp.Or(err, gorm.ErrRecordNotFound)
	}
	id, err := r.LastInsertId()
	return uint(id), err
}

// exec runs a fixed statement in tx and reports the rows it changed.
func (s *Store) exec(tx *gorm.DB, q string, args ...any) (int64, error) {
	if p := pipeOf(tx); p != nil && pipeable(args) {
		n, err := p.exec(txContext(tx), q, args)
		return n, s.translate(err)
	}
	st, err := s.prepared(tx, q)
	if err != nil {
		return 0, err
	}
	if st == nil {
		res := tx.Session(&gorm.Session{NewDB: true}).Exec(q, args...)
		return res.RowsAffected, res.Error
	}
	r, err := st.ExecContext(txContext(tx), args...)
	if err != nil {
		return 0, s.translate(err)
	}
	return r.RowsAffected()
}

// queryRow runs a fixed one-row query in tx and scans it into dest. No row
// is gorm.ErrRecordNotFound, as from GORM's Take.
func (s *Store) queryRow(tx *gorm.DB, q string, args []any, dest ...any) error {
	if p := pipeOf(tx); p != nil && pipeable(args) {
		st, err := s.pipedAnswer(tx, p, q, args)
		if err == nil && len(st.rows) == 0 {
			err = gorm.ErrRecordNotFound
		}
		if err != nil {
			return err
		}
		return st.scanRow(0, dest...)
	}
	st, err := s.prepared(tx, q)
	if err != nil {
		return err
	}
	var row *sql.Row
	if st == nil {
		row = tx.Session(&gorm.Session{NewDB: true}).Raw(q, args...).Row()
	} else {
		row = st.QueryRowContext(txContext(tx), args...)
	}
	err = row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return gorm.ErrRecordNotFound
	}
	return s.translate(err)
}

// query runs a fixed query in tx and calls scan for each row.
func (s *Store) query(tx *gorm.DB, q string, args []any, scan func(rowScanner) error) error {
	if p := pipeOf(tx); p != nil && pipeable(args) {
		st, err := s.pipedAnswer(tx, p, q, args)
		if err != nil {
			return err
		}
		for i := range st.rows {
			if err := scan(keptRow{st, i}); err != nil {
				return err
			}
		}
		return nil
	}
	st, err := s.prepared(tx, q)
	if err != nil {
		return err
	}
	var rows *sql.Rows
	if st == nil {
		rows, err = tx.Session(&gorm.Session{NewDB: true}).Raw(q, args...).Rows()
	} else {
		rows, err = st.QueryContext(txContext(tx), args...)
	}
	if err != nil {
		return s.translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return s.translate(rows.Err())
}

// translate maps a driver error to GORM's (a unique violation to
// gorm.ErrDuplicatedKey), as TranslateError does for GORM's own queries.
func (s *Store) translate(err error) error {
	if err == nil {
		return nil
	}
	if t, ok := s.write.Dialector.(gorm.ErrorTranslator); ok {
		return t.Translate(err)
	}
	return err
}

func txContext(tx *gorm.DB) context.Context {
	if ctx := tx.Statement.Context; ctx != nil {
		return ctx
	}
	return context.Background()
}

// placeholders returns n comma-separated groups of k placeholders, as in
// "(?,?),(?,?)" for a multi-row insert.
func placeholders(n, k int) string {
	group := "(" + strings.Repeat("?,", k-1) + "?)"
	return strings.Repeat(group+",", n-1) + group
}

// inList returns "?,?,?" for n values, for an IN list.
func inList(n int) string {
	return strings.Repeat("?,", n-1) + "?"
}

// nullID is an optional id as a statement argument: NULL or the number.
func nullID(id *uint) any {
	if id == nil {
		return nil
	}
	return int64(*id)
}

// idArgs turns ids into statement arguments.
func idArgs(ids []uint) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}

// deferredWrites holds, in a booking's transaction on PostgreSQL, the
// inserts nothing later in the transaction reads (its answers, roll-up
// part, events, emails and reminders), to send them as one statement with
// the commit (pipelineTx). SQLite, in process, runs each at once.
type deferredWrites struct {
	stmts []string
	args  []any
}

// execLater runs insert or upsert statement q in tx, or, in a pipelined
// transaction, defers it to the commit. Its rows must not be read, nor
// its error handled, before the commit.
func (s *Store) execLater(tx *gorm.DB, q string, args ...any) error {
	if p := pipeOf(tx); p != nil {
		p.deferred.stmts = append(p.deferred.stmts, q)
		p.deferred.args = append(p.deferred.args, args...)
		return nil
	}
	_, err := s.exec(tx, q, args...)
	return err
}

// flushDeferredOf sends what tx's transaction deferred so far, before a
// read that needs it.
func (s *Store) flushDeferredOf(tx *gorm.DB) error {
	p := pipeOf(tx)
	if p == nil {
		return nil
	}
	q, args, ok := p.deferred.take()
	if !ok {
		return nil
	}
	_, err := s.exec(tx, q, args...)
	return err
}

// take returns the deferred statements as one, and forgets them; false
// when there are none. The first ones become data-modifying WITH queries
// of the last, which PostgreSQL runs all (RowsAffected is then the last
// one's alone, and nothing reads it).
func (d *deferredWrites) take() (string, []any, bool) {
	if len(d.stmts) == 0 {
		return "", nil, false
	}
	var q strings.Builder
	for i, st := range d.stmts[:len(d.stmts)-1] {
		if i == 0 {
			q.WriteString("WITH ")
		} else {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "w%d AS (%s)", i, st)
	}
	if len(d.stmts) > 1 {
		q.WriteByte(' ')
	}
	q.WriteString(d.stmts[len(d.stmts)-1])
	args := d.args
	d.stmts, d.args = nil, nil
	return q.String(), args, true
}

// pipeable reports whether args can go to PostgreSQL as they are: GORM
// expands a slice into a list of placeholders, pgx would send an array.
func pipeable(args []any) bool {
	for _, a := range args {
		if v := reflect.ValueOf(a); v.Kind() == reflect.Slice && v.Type().Elem().Kind() != reflect.Uint8 {
			return false
		}
	}
	return true
}
