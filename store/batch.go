package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// groupCommit funnels SQLite write transactions through one goroutine that
// commits as many as are waiting in a single database transaction, each in
// its own savepoint. With synchronous=FULL every commit waits for the disk,
// so sharing one commit among concurrent bookings multiplies throughput
// while each booking still succeeds or fails on its own: a failing job rolls
// back to its savepoint and leaves the others untouched.
type groupCommit struct {
	db *gorm.DB
	// conn is the writer connection every batch runs on, taken from db's
	// pool on first use and kept: stmts are prepared on it once, and its
	// page cache is the only one the bookings warm.
	conn     *sql.Conn
	stmts    *stmtCache
	jobs     chan *writeJob
	quit     chan struct{}
	done     sync.WaitGroup
	maxBatch int
	// finish runs once per batch after its jobs, in its transaction, to
	// do what the jobs deferred to the batch (see batchState).
	finish func(tx *gorm.DB, st *batchState) error
	// settle runs in a batch's transaction before each job that is not a
	// booking (keepsReads false), to bring in step what the bookings before
	// it deferred to the batch's end.
	settle func(tx *gorm.DB, st *batchState) error
	// committed, when set, runs after each batch that committed.
	committed func()
	// observe, when set (by tests), receives each batch's size once it has
	// committed or failed.
	observe func(size int)
	// queued counts the jobs handed to do that the writer has not taken
	// yet, so that tests can tell when jobs wait to join a batch.
	queued atomic.Int32
}

// batchState collects what a batch's jobs leave to be done once for all of
// them before the commit. A job finds it in its transaction's context
// (batchOf).
type batchState struct {
	// availabilityChanged asks for one new availability version for the
	// whole batch instead of one per booking.
	availabilityChanged bool
	// mayDefer allows holding back the lead index's insert trigger
	// (deferLeadIndex); indexDeferred says it is held back, and unindexed
	// lists the ids (as statement arguments) of the leads created since.
	mayDefer, indexDeferred bool
	unindexed               []any
	// reads is what consecutive bookings in the batch share.
	reads batchReads
	// session is the batch transaction's session that jobs run on.
	session *gorm.DB
}

// newBatchState starts the state of a batch running in tx; mayDefer as in
// batchState.
func newBatchState(tx *gorm.DB, mayDefer bool) *batchState {
	return &batchState{session: tx.Session(&gorm.Session{NewDB: true, Context: context.Background()}), mayDefer: mayDefer}
}

// in returns the batch's session with ctx, marked as the batch's (see
// batchOf), so that what runs on it shares the batch's reads and runs the
// fixed statements prepared. The session is reused: GORM gives each query a
// statement of its own, with the session's context.
func (st *batchState) in(ctx context.Context) *gorm.DB {
	st.session.Statement.Context = context.WithValue(ctx, batchKey{}, st)
	return st.session
}

// batchReads caches, for the bookings of one batch, the rows each of them
// reads and none of them writes: the booking settings, the enabled hosts,
// the admins and the live webhooks. Only a job of another kind can change
// those, and after each such job the cache is emptied, so a booking never
// sees anything but what its own transaction would read.
type batchReads struct {
	settings once[models.BookingSettings]
	hosts    once[[]models.User]
	admins   once[[]recipient]
	webhooks once[[]models.Webhook]
}

// once is an entry of batchReads: the value, and whether it was read.
type once[T any] struct {
	v  T
	ok bool
}

// readOnce returns what load reads, read once per batch of bookings and
// kept in the entry that entry picks out of the batch's reads; in a
// booking on PostgreSQL, out of the replica's cached configuration
// (bookingConfig). Elsewhere it just loads.
func readOnce[T any](tx *gorm.DB, entry func(*batchReads) *once[T], load func() (T, error)) (T, error) {
	var r *batchReads
	if b := batchOf(tx); b != nil {
		r = &b.reads
	} else if r = configReads(tx); r == nil {
		return load()
	}
	e := entry(r)
	if !e.ok {
		v, err := load()
		if err != nil {
			return v, err
		}
		e.v, e.ok = v, true
	}
	return e.v, nil
}

type batchKey struct{}

// batchOf returns the batch tx belongs to, or nil outside a group commit.
func batchOf(tx *gorm.DB) *batchState {
	st, _ := txContext(tx).Value(batchKey{}).(*batchState)
	return st
}

type writeJob struct {
	ctx  context.Context
	fn   func(tx *gorm.DB) error
	done chan error
	// keepsReads marks a job that changes none of what batchReads holds
	// (a booking); any other job empties that cache after it runs.
	keepsReads bool
}

var errStoreClosed = errors.New("models: store is closed")

func newGroupCommit(db *gorm.DB, maxBatch int, settle, finish func(tx *gorm.DB, st *batchState) error, committed func()) *groupCommit {
	g := &groupCommit{db: db, jobs: make(chan *writeJob), quit: make(chan struct{}), maxBatch: maxBatch,
		settle: settle, finish: finish, committed: committed}
	g.done.Add(1)
	go g.run()
	return g
}

// do runs fn in a write transaction shared with whatever else is waiting,
// and returns once that transaction has committed (or fn failed).
func (g *groupCommit) do(ctx context.Context, keepsReads bool, fn func(tx *gorm.DB) error) error {
	j := &writeJob{ctx: ctx, fn: fn, done: make(chan error, 1), keepsReads: keepsReads}
	var err error
	g.queued.Add(1)
	select {
	case g.jobs <- j:
	case <-g.quit:
		err = errStoreClosed
	case <-ctx.Done():
		err = ctx.Err()
	}
	g.queued.Add(-1)
	if err != nil {
		return err
	}
	return <-j.done
}

// close stops taking jobs and waits for the batch in flight.
func (g *groupCommit) close() {
	close(g.quit)
	g.done.Wait()
	if g.conn != nil {
		g.stmts.close()
		g.conn.Close()
	}
}

// pinned returns db on the batches' own connection, taking it from the
// pool the first time.
func (g *groupCommit) pinned() (*gorm.DB, error) {
	if g.conn == nil {
		sqlDB, err := g.db.DB()
		if err != nil {
			return nil, err
		}
		conn, err := sqlDB.Conn(context.Background())
		if err != nil {
			return nil, err
		}
		g.conn, g.stmts = conn, newStmtCache(conn)
	}
	// A session with a context has a statement of its own, so setting its
	// connection leaves g.db's untouched.
	db := g.db.Session(&gorm.Session{NewDB: true, Context: context.Background()})
	db.Statement.ConnPool = g.conn
	return db, nil
}

func (g *groupCommit) run() {
	defer g.done.Done()
	for {
		select {
		case first := <-g.jobs:
			g.commit(first)
		case <-g.quit:
			return
		}
	}
}

// commit runs first, and every job that arrives while the batch runs (up
// to maxBatch), in one transaction. Taking latecomers into the batch in
// flight, rather than leaving them to the next, keeps concurrent requests
// sharing one commit instead of settling into groups that take turns.
//
// The batch runs without savepoints, since jobs rarely fail. If one does,
// a lone job's error is its answer; a batch is rolled back and runs again
// with a savepoint per job, so each job still succeeds or fails on its own.
func (g *groupCommit) commit(first *writeJob) {
	batch := []*writeJob{first}
	db, err := g.pinned()
	if err != nil {
		first.done <- err
		return
	}
	var failure error
	err = db.Transaction(func(tx *gorm.DB) error {
		st := newBatchState(tx, true)
		for i := 0; i < len(batch); i++ {
			if err := g.settleFor(st, batch[i]); err != nil {
				return err
			}
			if e := runJob(tx, st, batch[i], batch[i].fn); e != nil {
				failure = e
				return errJobFailed
			}
			if !batch[i].keepsReads {
				st.reads = batchReads{}
			}
			batch = g.waiting(batch)
		}
		return g.finishBatch(st)
	})
	g.dropIfBroken(err)
	results := make([]error, len(batch))
	if errors.Is(err, errJobFailed) {
		if len(batch) == 1 {
			results[0], err = failure, nil
		} else {
			err = db.Transaction(func(tx *gorm.DB) error {
				st := newBatchState(tx, false)
				for i, j := range batch {
					results[i] = runJob(tx, st, j, func(tx *gorm.DB) error { return tx.Transaction(j.fn) })
					if !j.keepsReads {
						st.reads = batchReads{}
					}
				}
				return g.finishBatch(st)
			})
		}
	}
	if err == nil && g.committed != nil {
		g.committed()
	}
	if g.observe != nil {
		g.observe(len(batch))
	}
	for i, j := range batch {
		if results[i] == nil && err != nil {
			results[i] = err
		}
		j.done <- results[i]
	}
}

// dropIfBroken gives up the pinned connection when err says it is no
// longer usable, so that the next batch takes a fresh one from the pool
// instead of failing on it for good.
func (g *groupCommit) dropIfBroken(err error) {
	if g.conn == nil || !(errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone)) {
		return
	}
	g.stmts.close()
	g.conn.Close()
	g.conn, g.stmts = nil, nil
}

// waiting adds the jobs already waiting to batch, up to maxBatch.
func (g *groupCommit) waiting(batch []*writeJob) []*writeJob {
	for len(batch) < g.maxBatch {
		select {
		case j := <-g.jobs:
			batch = append(batch, j)
		default:
			return batch
		}
	}
	return batch
}

// settleFor runs settle before j when j is not a booking.
func (g *groupCommit) settleFor(st *batchState, j *writeJob) error {
	if j.keepsReads || g.settle == nil {
		return nil
	}
	return g.settle(st.in(context.Background()), st)
}

func (g *groupCommit) finishBatch(st *batchState) error {
	if g.finish == nil {
		return nil
	}
	return g.finish(st.in(context.Background()), st)
}

// errJobFailed rolls back a batch's first, savepoint-free attempt.
var errJobFailed = errors.New("a job in the batch failed")

// runJob skips a job whose caller has gone, and runs the rest with the
// batch's own context: cancelling one request must not interrupt the
// connection the others share.
//
// A panic in fn fails that job (and rolls back its attempt) instead of
// killing the writer goroutine, which no request's recovery could catch.
func runJob(tx *gorm.DB, st *batchState, j *writeJob, fn func(tx *gorm.DB) error) (err error) {
	if err := j.ctx.Err(); err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("models: write transaction panicked: %v", r)
		}
	}()
	return fn(st.in(context.WithoutCancel(j.ctx)))
}
