package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// A booking on PostgreSQL runs a handful of statements, and each one sent
// and awaited alone is a round trip: a write to the socket, a wake-up of
// the server process, its answer, a wake-up of the replica. On a small
// machine those wake-ups cost about as much as the statements' own work
// (docs/PERFORMANCE.md, "Three round trips a booking"). So a booking's
// transaction runs on one connection through pipeTx, which sends what it
// can together, as one pipeline of the extended protocol, and reads the
// answers in order:
//
//   - BEGIN goes with the transaction's first statement, and COMMIT with
//     the writes deferred to the end (execLater);
//   - statements whose answer the booking will need, and whose answer
//     nothing it does before then could change, are sent ahead with the
//     first round trip (prefetch): the lead's lookup, the host locks and
//     who is busy.
//
// PostgreSQL runs a pipeline's statements one after the other, each with
// its own snapshot, exactly as if they had been sent one by one; only the
// waiting between them is gone.

// pipeTx is a transaction on one PostgreSQL connection, its statements
// sent in pipelines. GORM's own statements run on the same connection
// (pipePool), after what is queued.
type pipeTx struct {
	conn     *sql.Conn
	pending  []*piped       // queued, not yet sent
	ready    []*piped       // sent ahead (prefetch), their answers kept
	deferred deferredWrites // sent with the COMMIT (execLater)
	last     []*piped       // the pipeline sent last
	began    bool           // BEGIN was sent
	count    *atomic.Int64  // the store's count of pipelines sent
}

// piped is one statement of a pipeline and, once sent, its answer.
type piped struct {
	q      string // as the store writes it, with ? placeholders
	args   []any
	result bool // its rows are wanted (prefetch, queryRow, query)

	sent   bool
	fields []pgconn.FieldDescription
	rows   [][][]byte
	tag    pgconn.CommandTag
	err    error
	types  *pgtype.Map // the connection's, to scan rows with
}

type pipeTxKey struct{}

// pipelinedKey asks runTx for a pipelined transaction (PostgreSQL).
type pipelinedKey struct{}

// pipeOf returns the pipelined transaction tx runs in, or nil.
func pipeOf(tx *gorm.DB) *pipeTx {
	p, _ := txContext(tx).Value(pipeTxKey{}).(*pipeTx)
	return p
}

// pipelineTx runs fn in a transaction on one connection whose statements
// go through pipeTx. The writes it deferred go with the COMMIT. It is
// runTx's transaction for bookings on PostgreSQL.
func (s *Store) pipelineTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	db, err := s.write.DB()
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	p := &pipeTx{conn: conn, count: &s.pipelines}
	p.queue("BEGIN", nil, false)
	// PostgreSQL plans a prepared statement afresh for its first five
	// runs on each connection before it settles on one plan for any
	// arguments. With three replicas holding 20 connections each, about a
	// quarter of a 1,000-booking run's statements were planned anew, the
	// busy check's union the costliest; their plans are the same for every
	// argument anyway (index scans by host and time), so a booking uses
	// the one plan from its first run on.
	p.queue("SET LOCAL plan_cache_mode = force_generic_plan", nil, false)
	ctx = context.WithValue(ctx, pipeTxKey{}, p)
	tx := s.write.Session(&gorm.Session{NewDB: true, Context: ctx})
	tx.Statement.ConnPool = pipePool{p}
	if err := fn(tx); err != nil {
		p.rollback(ctx)
		return err
	}
	if q, args, ok := p.deferred.take(); ok {
		p.queue(q, args, false)
	}
	commit := p.queue("COMMIT", nil, false)
	// A change to what slots are free raises the availability version
	// once it has committed (availabilityChanged): in the same pipeline,
	// right after the COMMIT, at no round trip of its own.
	var raise *piped
	if c, ok := ctx.Value(availabilityChangedKey{}).(*availabilityChanged); ok && c.Load() {
		raise = p.queue("SELECT nextval('availability_changes')", nil, false)
	}
	if err := p.flush(ctx); err != nil {
		return s.translate(err)
	}
	for _, st := range p.last {
		if st == raise {
			break
		}
		if st.err != nil {
			// PostgreSQL skipped the rest of the pipeline, the COMMIT too:
			// the transaction is still open, failed.
			p.rollback(ctx)
			return s.translate(st.err)
		}
	}
	if tag := commit.tag.String(); tag != "COMMIT" {
		return fmt.Errorf("the transaction was rolled back at its commit (%s)", tag)
	}
	if raise != nil {
		s.avail.invalidate()
		if raise.err != nil {
			// The caches' age bounds it (availabilityChanged).
			s.log.Warn("raising the availability version", "err", raise.err)
		}
	}
	return nil
}

// rollback ends the transaction, once BEGIN was sent; what is queued is
// dropped. A connection that cannot is dropped by flush, or by the pool
// when it is handed back still in a transaction.
func (p *pipeTx) rollback(ctx context.Context) {
	if p.began {
		p.pending = nil
		p.queue("ROLLBACK", nil, false)
		_ = p.flush(context.WithoutCancel(ctx))
	}
}

// queue adds a statement to the next pipeline.
func (p *pipeTx) queue(q string, args []any, result bool) *piped {
	st := &piped{q: q, args: args, result: result}
	p.pending = append(p.pending, st)
	return st
}

// prefetch queues q for the next pipeline; the answer is kept for the
// queryRow or query with the same statement and arguments. Only for a
// statement whose answer nothing the transaction does before it asks
// could change.
func (p *pipeTx) prefetch(q string, args []any) {
	p.ready = append(p.ready, p.queue(q, args, true))
}

// answer returns the answer of q with args: a prefetched one, or q sent
// now with whatever is queued.
func (p *pipeTx) answer(ctx context.Context, q string, args []any) (*piped, error) {
	for i, st := range p.ready {
		if st.q == q && reflect.DeepEqual(st.args, args) {
			p.ready = append(p.ready[:i:i], p.ready[i+1:]...)
			if !st.sent {
				if err := p.flush(ctx); err != nil {
					return nil, err
				}
			}
			return st, nil
		}
	}
	st := p.queue(q, args, true)
	if err := p.flush(ctx); err != nil {
		return nil, err
	}
	return st, nil
}

// pipedAnswer is p's answer to q with args in tx, its error the
// connection's or the statement's, translated as GORM's would be.
func (s *Store) pipedAnswer(tx *gorm.DB, p *pipeTx, q string, args []any) (*piped, error) {
	st, err := p.answer(txContext(tx), q, args)
	if err == nil {
		err = st.err
	}
	return st, s.translate(err)
}

// exec runs q after what is queued and reports the rows it changed.
func (p *pipeTx) exec(ctx context.Context, q string, args []any) (int64, error) {
	st := p.queue(q, args, false)
	if err := p.flush(ctx); err != nil {
		return 0, err
	}
	return st.tag.RowsAffected(), st.err
}

// flush sends every queued statement as one pipeline and reads each
// answer into its piped. Its error is the connection's: a statement's
// own is in its piped. After a failing statement PostgreSQL skips the
// rest of the pipeline; those report the first one's error.
func (p *pipeTx) flush(ctx context.Context) error {
	if len(p.pending) == 0 {
		return nil
	}
	sent := p.pending
	p.pending, p.last = nil, sent
	p.count.Add(1)
	var lost error
	err := p.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("pipelined transactions need pgx's connection, not %T", dc)
		}
		pc := c.Conn()
		b := &pgx.Batch{}
		for _, st := range sent {
			b.Queue(pgPlaceholders(st.q), st.args...)
		}
		p.began = p.began || sent[0].q == "BEGIN"
		br := pc.SendBatch(ctx, b)
		var first error
		for _, st := range sent {
			st.sent, st.types = true, pc.TypeMap()
			if st.result {
				st.err = readRows(br, st)
			} else {
				st.tag, st.err = br.Exec()
			}
			first = cmp.Or(first, st.err)
			st.err = cmp.Or(st.err, first)
		}
		if err := br.Close(); err != nil && first == nil {
			for _, st := range sent {
				st.err = err
			}
			first = err
		}
		if pc.IsClosed() {
			// database/sql drops a connection whose use says so.
			lost = cmp.Or(first, errors.New("the database connection closed"))
			return driver.ErrBadConn
		}
		return nil
	})
	if lost != nil {
		return lost
	}
	return err
}

// readRows keeps a statement's rows, copied, for scanning later.
func readRows(br pgx.BatchResults, st *piped) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	// pgx reuses the descriptions' memory for the next result.
	st.fields = slices.Clone(rows.FieldDescriptions())
	for rows.Next() {
		raw := rows.RawValues()
		row := make([][]byte, len(raw))
		for i, v := range raw {
			if v != nil {
				row[i] = append([]byte{}, v...)
			}
		}
		st.rows = append(st.rows, row)
	}
	st.tag = rows.CommandTag()
	return rows.Err()
}

// scanRow scans kept row i of st into dest.
func (st *piped) scanRow(i int, dest ...any) error {
	if len(dest) != len(st.fields) {
		return fmt.Errorf("%d columns, scanned into %d values", len(st.fields), len(dest))
	}
	for j, d := range dest {
		f := st.fields[j]
		if err := st.types.Scan(f.DataTypeOID, f.Format, st.rows[i][j], d); err != nil {
			return fmt.Errorf("column %s: %w", f.Name, err)
		}
	}
	return nil
}

// keptRow is one kept row, for query's scan function.
type keptRow struct {
	st *piped
	i  int
}

func (r keptRow) Scan(dest ...any) error { return r.st.scanRow(r.i, dest...) }

// rowScanner is a row of a query's answer: *sql.Rows, or a kept row.
type rowScanner interface{ Scan(dest ...any) error }

// pgPlaceholders numbers the ? placeholders of a store statement for
// PostgreSQL ($1, $2, …), leaving those inside quotes alone. GORM does
// this for the statements it runs; pipelined ones bypass it. The
// statements are fixed strings, so each is numbered once.
func pgPlaceholders(q string) string {
	if v, ok := numbered.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '\'':
			quoted = !quoted
			b.WriteByte(c)
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	numbered.Store(q, b.String())
	return b.String()
}

var numbered sync.Map // store statement → numbered for PostgreSQL

// pipePool is the connection GORM's statements use in a pipelined
// transaction: what is queued is sent first, so that statements run in
// the order the transaction gives them.
type pipePool struct{ p *pipeTx }

func (c pipePool) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	if err := c.p.flush(ctx); err != nil {
		return nil, err
	}
	return c.p.conn.PrepareContext(ctx, q)
}

func (c pipePool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := c.p.flush(ctx); err != nil {
		return nil, err
	}
	return c.p.conn.ExecContext(ctx, q, args...)
}

func (c pipePool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := c.p.flush(ctx); err != nil {
		return nil, err
	}
	return c.p.conn.QueryContext(ctx, q, args...)
}

func (c pipePool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	// A failed flush leaves the connection or the transaction unusable,
	// and the row then reports that.
	_ = c.p.flush(ctx)
	return c.p.conn.QueryRowContext(ctx, q, args...)
}

// Commit and Rollback make GORM treat the connection as a transaction's
// (a nested Transaction takes a savepoint); pipelineTx ends it.
func (c pipePool) Commit() error { return errors.New("a pipelined transaction commits in pipelineTx") }
func (c pipePool) Rollback() error {
	return errors.New("a pipelined transaction rolls back in pipelineTx")
}
