package models

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"gorm.io/gorm"
)

// groupCommit funnels SQLite write transactions through one goroutine that
// commits as many as are waiting in a single database transaction, each in
// its own savepoint. With synchronous=FULL every commit waits for the disk,
// so sharing one commit among concurrent bookings multiplies throughput
// while each booking still succeeds or fails on its own: a failing job rolls
// back to its savepoint and leaves the others untouched.
type groupCommit struct {
	db       *gorm.DB
	jobs     chan *writeJob
	quit     chan struct{}
	done     sync.WaitGroup
	maxBatch int
}

type writeJob struct {
	ctx  context.Context
	fn   func(tx *gorm.DB) error
	done chan error
}

var errStoreClosed = errors.New("models: store is closed")

func newGroupCommit(db *gorm.DB, maxBatch int) *groupCommit {
	g := &groupCommit{db: db, jobs: make(chan *writeJob), quit: make(chan struct{}), maxBatch: maxBatch}
	g.done.Add(1)
	go g.run()
	return g
}

// do runs fn in a write transaction shared with whatever else is waiting,
// and returns once that transaction has committed (or fn failed).
func (g *groupCommit) do(ctx context.Context, fn func(tx *gorm.DB) error) error {
	j := &writeJob{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case g.jobs <- j:
	case <-g.quit:
		return errStoreClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-j.done
}

// close stops taking jobs and waits for the batch in flight.
func (g *groupCommit) close() {
	close(g.quit)
	g.done.Wait()
}

func (g *groupCommit) run() {
	defer g.done.Done()
	for {
		var first *writeJob
		select {
		case first = <-g.jobs:
		case <-g.quit:
			return
		}
		batch := []*writeJob{first}
	collect:
		for len(batch) < g.maxBatch {
			select {
			case j := <-g.jobs:
				batch = append(batch, j)
			default:
				break collect
			}
		}
		g.commit(batch)
	}
}

// commit runs a batch in one transaction. A lone job runs plainly. A batch
// first runs without savepoints, since jobs rarely fail; if one does, that
// attempt is rolled back and the batch runs again with a savepoint per job,
// so each job still succeeds or fails on its own.
func (g *groupCommit) commit(batch []*writeJob) {
	results := make([]error, len(batch))
	var err error
	switch {
	case len(batch) == 1:
		err = g.db.Transaction(func(tx *gorm.DB) error {
			results[0] = runJob(tx, batch[0], batch[0].fn)
			return results[0]
		})
	default:
		err = g.db.Transaction(func(tx *gorm.DB) error {
			for _, j := range batch {
				if e := runJob(tx, j, j.fn); e != nil {
					return errJobFailed
				}
			}
			return nil
		})
		if errors.Is(err, errJobFailed) {
			err = g.db.Transaction(func(tx *gorm.DB) error {
				for i, j := range batch {
					results[i] = runJob(tx, j, func(tx *gorm.DB) error { return tx.Transaction(j.fn) })
				}
				return nil
			})
		}
	}
	for i, j := range batch {
		if results[i] == nil && err != nil {
			results[i] = err
		}
		j.done <- results[i]
	}
}

// errJobFailed rolls back a batch's first, savepoint-free attempt.
var errJobFailed = errors.New("a job in the batch failed")

// runJob skips a job whose caller has gone, and runs the rest with the
// batch's own context: cancelling one request must not interrupt the
// connection the others share.
//
// A panic in fn fails that job (and rolls back its attempt) instead of
// killing the writer goroutine, which no request's recovery could catch.
func runJob(tx *gorm.DB, j *writeJob, fn func(tx *gorm.DB) error) (err error) {
	if err := j.ctx.Err(); err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("models: write transaction panicked: %v", r)
		}
	}()
	return fn(tx.Session(&gorm.Session{NewDB: true, Context: context.WithoutCancel(j.ctx)}))
}
