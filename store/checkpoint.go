package store

import (
	"context"
	"database/sql"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// SQLite appends every commit to the write-ahead log (WAL) and copies the
// pages back into the database file at checkpoints. Left to itself, the
// connection whose commit pushes the log past 1,000 pages runs the
// checkpoint right after that commit: on the group committer, a pause of
// a thousand page writes and a sync of the database file, during which the
// bookings of the next batch wait.
//
// So on SQLite a checkpointer does that copying on a connection of its own,
// in a goroutine of its own, a short while after commits. A passive checkpoint
// never blocks the writer or the readers. The writer still checkpoints once
// the log is writerCheckpointPages long: under steady load that is what
// lets SQLite start the log over from its beginning (the log restarts only
// when it is copied in full with no commit since), and as the background
// one has by then copied nearly everything, that checkpoint is short.
//
// Durability does not depend on any of this: a commit is on disk once the
// log is synced, and a checkpoint only moves committed pages.
type checkpointer struct {
	db   *sql.DB
	poke chan struct{}
	quit chan struct{}
	done sync.WaitGroup
	log  *slog.Logger
	// failing says the last checkpoint failed; only checkpoint touches it.
	failing bool
}

// checkpointEvery is the least time between background checkpoints. Under
// a full booking load the log grows by about 15,000 pages a second, so each
// checkpoint copies a few hundred distinct pages.
const checkpointEvery = 100 * time.Millisecond

// writerCheckpointPages is the log length (in pages) at which the writer
// checkpoints after its own commit: ten times SQLite's default, so that
// the background checkpointer does the copying and the writer only the
// last few pages and the restart of the log (a log of about 40 MB).
const writerCheckpointPages = 10000

func newCheckpointer(db *sql.DB, log *slog.Logger) *checkpointer {
	c := &checkpointer{db: db, poke: make(chan struct{}, 1), quit: make(chan struct{}), log: log}
	c.done.Add(1)
	go c.run()
	return c
}

// committed tells the checkpointer that the log has grown. It never blocks.
func (c *checkpointer) committed() {
	select {
	case c.poke <- struct{}{}:
	default:
	}
}

// run checkpoints after each poke, at most once every checkpointEvery.
func (c *checkpointer) run() {
	defer c.done.Done()
	var last time.Time
	for {
		select {
		case <-c.poke:
		case <-c.quit:
			return
		}
		if wait := checkpointEvery - time.Since(last); wait > 0 {
			select {
			case <-time.After(wait):
			case <-c.quit:
				return
			}
		}
		last = time.Now()
		c.checkpoint()
	}
}

// checkpoint runs one PASSIVE checkpoint, which copies what it can without
// waiting for anyone (a busy answer only means another checkpoint is
// running). A failure is logged once per failing streak, not at every
// commit.
func (c *checkpointer) checkpoint() {
	var busy, logPages, copied int
	err := c.db.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &copied)
	switch {
	case err != nil && !c.failing:
		c.log.Warn("background checkpoint failed; until it works again the writer checkpoints the log itself at "+
			strconv.Itoa(writerCheckpointPages)+" pages", "err", err)
	case err == nil && c.failing:
		c.log.Info("background checkpoint works again", "log_pages", logPages, "copied", copied)
	}
	c.failing = err != nil
}

// close stops the checkpointer and closes its connection. The store calls
// it once.
func (c *checkpointer) close() {
	close(c.quit)
	c.done.Wait()
	c.db.Close()
}
