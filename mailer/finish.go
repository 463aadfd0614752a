package mailer

import (
	"context"
	"fmt"
	"time"

	"github.com/callbook/callbook/models"
)

// storeTimeout bounds recording outcomes. They are recorded even when the
// drain's context was canceled meanwhile: the email went out (or not)
// either way, and forgetting that would send it again.
const storeTimeout = 10 * time.Second

// maxGroup bounds how many outcomes one transaction records.
const maxGroup = 256

// drain is one Drain call: its SMTP connection, and the recorder that
// group-commits outcomes while sending goes on. Sending never waits for a
// database commit; an outcome waits at most one commit, which bounds what
// a crash could send twice to the emails of that moment.
type drain struct {
	o        *Outbox
	conn     conn
	outcomes chan models.OutboxOutcome
	done     chan struct{}
	lease    lease
}

func (o *Outbox) startDrain(ctx context.Context) *drain {
	d := &drain{o: o, conn: conn{o: o}, outcomes: make(chan models.OutboxOutcome, maxGroup), done: make(chan struct{})}
	go d.recordLoop(context.WithoutCancel(ctx))
	d.lease.start(context.WithoutCancel(ctx), o)
	return d
}

// stop says QUIT, waits until every outcome is recorded, then stops
// renewing the claim (nothing is held any more).
func (d *drain) stop() {
	d.conn.close()
	close(d.outcomes)
	<-d.done
	d.lease.stop()
}

// recordLoop commits whatever outcomes are waiting, as one transaction,
// until the drain stops.
func (d *drain) recordLoop(ctx context.Context) {
	defer close(d.done)
	for first := range d.outcomes {
		group := append(make([]models.OutboxOutcome, 0, 16), first)
	more:
		for len(group) < maxGroup {
			select {
			case oc, ok := <-d.outcomes:
				if !ok {
					break more
				}
				group = append(group, oc)
			default:
				break more
			}
		}
		d.commit(ctx, group)
	}
}

func (d *drain) commit(ctx context.Context, group []models.OutboxOutcome) {
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	lost, err := d.o.store.RecordOutbox(sctx, group)
	if err != nil {
		d.o.log.Error("could not record emails' outcomes; they may be sent again when their lease ends", "err", err, "count", len(group))
	}
	if len(lost) > 0 {
		d.o.log.Warn("email outcomes not recorded: another sender took the rows over", "ids", lost)
	}
}

// record decides what becomes of one attempt (sent; failed for good; or,
// for a temporary refusal, another attempt after a backoff, until
// MaxAttempts) and queues it for the recorder.
func (d *drain) record(row models.OutboxMessage, result outcome, text string) {
	o := d.o
	oc := models.OutboxOutcome{Message: row, Error: text}
	switch {
	case result == delivered:
		oc.Status, oc.Error = models.OutboxSent, ""
		o.metrics.sent.WithLabelValues(row.Kind).Inc()
	case result == permanent:
		oc.Status = models.OutboxFailed
		o.metrics.failed.WithLabelValues(row.Kind).Inc()
		o.log.Warn("email refused by the SMTP server; not retried", "id", row.ID, "kind", row.Kind, "to", row.ToAddr, "answer", text)
	case row.Attempts >= o.maxAttempts:
		oc.Status, oc.Error = models.OutboxFailed, fmt.Sprintf("%s (gave up after %d attempts)", text, row.Attempts)
		o.metrics.failed.WithLabelValues(row.Kind).Inc()
		o.log.Warn("email failed after its last attempt", "id", row.ID, "kind", row.Kind, "to", row.ToAddr, "answer", text)
	default:
		oc.Status, oc.NextAttemptAt = models.OutboxPending, o.now().Add(backoff(row.Attempts, backoffMax))
		o.metrics.retried.WithLabelValues(row.Kind).Inc()
		o.log.Info("email deferred by the SMTP server", "id", row.ID, "kind", row.Kind, "next_attempt", oc.NextAttemptAt, "answer", text)
	}
	d.outcomes <- oc
}

// unreachable gives rows back after the server could not be reached,
// without counting the attempt or moving their due time, keeps the cause
// as their last error, and pauses the sender.
func (d *drain) unreachable(ctx context.Context, rows []models.OutboxMessage, cause error) {
	d.o.unreachable(cause)
	d.release(ctx, rows, "SMTP server unreachable: "+cause.Error())
}

// release gives claimed rows back, due as they were, without counting the
// attempt.
func (d *drain) release(ctx context.Context, rows []models.OutboxMessage, text string) {
	if len(rows) == 0 {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := d.o.store.ReleaseOutbox(sctx, rows, text); err != nil {
		d.o.log.Error("could not give emails back to the outbox; they return when their lease ends", "err", err, "count", len(rows))
	}
}
