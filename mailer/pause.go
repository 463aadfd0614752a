package mailer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/callbook/callbook/models"
)

// ErrUnreachable wraps the error of a Drain that could not reach the SMTP
// server (refused, timed out, TLS or authentication failed). Delivery is
// paused; it is not the emails' fault and counts against none of them.
var ErrUnreachable = errors.New("SMTP server unreachable")

// unreachableError is the server's failure, marked temporary for callers
// (the scheduler logs those as warnings, not errors).
type unreachableError struct{ cause error }

func (e unreachableError) Error() string   { return fmt.Sprintf("%v: %v", ErrUnreachable, e.cause) }
func (e unreachableError) Unwrap() []error { return []error{ErrUnreachable, e.cause} }
func (e unreachableError) Temporary() bool { return true }

// unreachable pauses the sender after a failure to reach the server,
// logging once when the pause begins.
func (o *Outbox) unreachable(cause error) {
	o.metrics.outages.Inc()
	if o.gate.Fail(cause) {
		o.log.Warn("SMTP server unreachable: mail delivery paused until it answers", "err", cause, "smtp", o.smtp.String())
		return
	}
	o.log.Debug("SMTP server still unreachable", "err", cause, "next_try_in", o.gate.Wait())
}

// reached ends a pause once a connection to the server is up (connected,
// TLS and authentication done), logging how long the pause lasted.
func (o *Outbox) reached() {
	if ended := o.gate.Succeed(); ended.Paused {
		o.log.Info("SMTP server answers again: mail delivery resumed", "paused_for", o.now().Sub(ended.Since).Round(time.Second),
			"failed_tries", ended.Failures)
	}
}

// lease keeps a drain's claim on the rows it holds: it renews them every
// third of a lease while the drain works, and tracks until when the claim
// is known to hold.
type lease struct {
	mu    sync.Mutex
	rows  []models.OutboxMessage
	until time.Time

	quit, done chan struct{}
}

func (l *lease) start(ctx context.Context, o *Outbox) {
	l.quit, l.done = make(chan struct{}), make(chan struct{})
	go l.renewLoop(ctx, o)
}

func (l *lease) stop() {
	close(l.quit)
	<-l.done
}

// hold records a newly claimed batch as the rows to renew.
func (d *drain) hold(rows []models.OutboxMessage) {
	d.lease.mu.Lock()
	defer d.lease.mu.Unlock()
	d.lease.rows = rows
	if len(rows) > 0 && rows[0].ClaimedUntil != nil {
		d.lease.until = *rows[0].ClaimedUntil
	}
}

// heldFor is how long the current claim is known to last.
func (d *drain) heldFor() time.Duration {
	d.lease.mu.Lock()
	defer d.lease.mu.Unlock()
	return d.lease.until.Sub(d.o.now())
}

func (l *lease) renewLoop(ctx context.Context, o *Outbox) {
	defer close(l.done)
	t := time.NewTicker(o.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-l.quit:
			return
		case <-t.C:
		}
		l.mu.Lock()
		rows := l.rows
		l.mu.Unlock()
		if len(rows) == 0 {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, storeTimeout)
		until, err := o.store.RenewOutbox(sctx, rows, o.lease)
		cancel()
		if err != nil {
			o.log.Warn("could not renew the claim on emails being sent; the batch stops before its lease ends", "err", err)
			continue
		}
		l.mu.Lock()
		if len(l.rows) > 0 && &l.rows[0] == &rows[0] {
			l.until = until
		}
		l.mu.Unlock()
	}
}
