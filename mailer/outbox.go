// Package mailer renders Callbook's emails (text, HTML and invite.ics) from
// the snapshots the models package queues in the outbox, and delivers them
// through an SMTP server with go-mail.
//
// Delivery is at least once and, unless the server (or this process) fails
// between the server accepting a message and its outcome being recorded,
// exactly once: a row is claimed before it is sent, so two senders (or a
// restart) never send it twice. An outage only delays mail: when the server
// cannot be reached the whole sender pauses (see package pause), attempts
// that never reached a server are not counted against MaxAttempts, and no
// email's next attempt moves; the first success sends everything due.
package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/pause"
	"github.com/callbook/callbook/store"
)

// Defaults for Options left zero.
const (
	DefaultFrom        = "Callbook <no-reply@localhost>"
	DefaultBaseURL     = "http://localhost:8080"
	DefaultBatchSize   = 50
	DefaultTimeout     = 30 * time.Second
	DefaultLease       = time.Minute
	DefaultMaxAttempts = 10
	DefaultPoll        = 5 * time.Second
)

// notConfigured is logged once when no SMTP server is given.
const notConfigured = "CALLBOOK_SMTP_URL is not set: emails are kept in the outbox and not delivered"

// Options configure an Outbox. Store is required; the rest have defaults.
type Options struct {
	Store *store.Store
	// SMTP is the server (ParseSMTPURL); the zero value delivers nothing.
	SMTP SMTPConfig
	// From is CALLBOOK_MAIL_FROM.
	From string
	// BaseURL is CALLBOOK_BASE_URL, for links and calendar UIDs.
	BaseURL    string
	Log        *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock for leases and backoff; time.Now when nil.
	Now func() time.Time
	// TLSConfig replaces the default TLS settings (tests add their CA);
	// certificates are always verified.
	TLSConfig *tls.Config
	// BatchSize is how many rows are claimed at a time.
	BatchSize int
	// Timeout bounds connecting and each SMTP command.
	Timeout time.Duration
	// Lease is how long a claimed row is held before another sender may
	// take it over. The sender renews it every third of a lease while it
	// works, so a crashed sender's rows move about one lease after it
	// died. A batch gives its unsent rows back when its claim (not renewed,
	// say with the database away) has less than a Timeout left; the lease
	// is raised to at least two Timeouts.
	Lease time.Duration
	// MaxAttempts is how many times an email that meets temporary refusals
	// is tried before it is failed. Outages do not count.
	MaxAttempts int
	// PollInterval is how often Run looks for retries that came due.
	PollInterval time.Duration
	// PauseMax caps the wait between tries while the server cannot be
	// reached (pause.DefaultMax when zero); the first wait is PauseFirst
	// (pause.DefaultFirst when zero). Once the server is back, the backlog
	// goes within PauseMax.
	PauseFirst, PauseMax time.Duration
}

// Outbox delivers queued emails. It is safe for concurrent use; one Outbox
// holds at most one SMTP connection at a time.
type Outbox struct {
	store       *store.Store
	smtp        SMTPConfig
	from        string
	renderer    *Renderer
	log         *slog.Logger
	now         func() time.Time
	tls         *tls.Config
	batch       int
	timeout     time.Duration
	lease       time.Duration
	maxAttempts int
	poll        time.Duration
	metrics     *metrics

	drainMu sync.Mutex
	// gate pauses the whole sender while the server cannot be reached.
	gate *pause.Gate
}

// New builds an Outbox and its Renderer, registers its metrics, and logs
// once whether mail will be delivered. It fails on a bad sender or base
// URL, a broken template or a metric already registered.
func New(opts Options) (*Outbox, error) {
	if opts.Store == nil {
		return nil, errors.New("mailer: Options.Store is required")
	}
	o := &Outbox{
		store: opts.Store, smtp: opts.SMTP, from: orDefault(opts.From, DefaultFrom), log: opts.Log,
		now: opts.Now, tls: opts.TLSConfig, batch: opts.BatchSize, timeout: opts.Timeout, lease: opts.Lease,
		maxAttempts: opts.MaxAttempts, poll: opts.PollInterval,
	}
	o.setDefaults()
	o.gate = pause.New(o.now, opts.PauseFirst, opts.PauseMax)
	var err error
	o.renderer, err = NewRenderer(RendererOptions{
		BaseURL: orDefault(opts.BaseURL, DefaultBaseURL), From: o.from, Location: opts.Store.Location(),
		Token: opts.Store.BookingToken, Now: o.now,
	})
	if err != nil {
		return nil, err
	}
	if o.metrics, err = newMetrics(opts.Registerer, o.gate); err != nil {
		return nil, err
	}
	if o.smtp.Configured() {
		o.log.Info("mail is delivered through " + o.smtp.String())
	} else {
		o.log.Warn(notConfigured)
	}
	return o, nil
}

func (o *Outbox) setDefaults() {
	if o.log == nil {
		o.log = slog.Default()
	}
	if o.now == nil {
		o.now = time.Now
	}
	o.batch = orDefault(o.batch, DefaultBatchSize)
	o.timeout = orDefault(o.timeout, DefaultTimeout)
	o.lease = max(orDefault(o.lease, DefaultLease), 2*o.timeout)
	o.maxAttempts = orDefault(o.maxAttempts, DefaultMaxAttempts)
	o.poll = orDefault(o.poll, DefaultPoll)
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Renderer is the Outbox's renderer, for handlers (invite.ics, the mail
// viewer).
func (o *Outbox) Renderer() *Renderer { return o.renderer }

// Configured reports whether an SMTP server was given; without one every
// email stays pending in the outbox.
func (o *Outbox) Configured() bool { return o.smtp.Configured() }

// Pause reports whether delivery is paused because the server could not be
// reached, since when, and the last error, for the staff mail page.
func (o *Outbox) Pause() pause.State { return o.gate.State() }

// Run delivers mail until ctx is done: right after each commit that queued
// email (Store.OutboxSignal), every PollInterval for retries that came
// due, and, while paused, as soon as the pause's wait is over. Without an
// SMTP server it only waits for ctx.
func (o *Outbox) Run(ctx context.Context) {
	if !o.Configured() {
		<-ctx.Done()
		return
	}
	tick := time.NewTicker(o.poll)
	defer tick.Stop()
	probe := time.NewTimer(time.Hour)
	defer probe.Stop()
	for {
		if _, err := o.Drain(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, ErrUnreachable) {
			o.log.Warn("mail delivery stopped; will retry", "err", err)
		}
		probe.Reset(time.Hour)
		if st := o.gate.State(); st.Paused {
			probe.Reset(max(o.gate.Wait(), time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-o.store.OutboxSignal():
		case <-tick.C:
		case <-probe.C:
		}
	}
}

// Drain sends every email that is due, in batches over one SMTP connection,
// and returns how many the server accepted. It returns an error when the
// database fails, or one wrapping ErrUnreachable when the server cannot be
// reached, which pauses delivery; rows it could not send stay in the
// outbox, due as they were. While paused it touches no row: until the
// pause's wait is over it returns 0 and no error, then it connects first
// and claims rows only once the server answers, which ends the pause. Every outcome is recorded
// before Drain returns. Without an SMTP server it sends nothing. Calls on
// one Outbox take turns.
func (o *Outbox) Drain(ctx context.Context) (sent int, err error) {
	if !o.Configured() {
		return 0, nil
	}
	o.drainMu.Lock()
	defer o.drainMu.Unlock()
	if o.gate.Wait() > 0 {
		return 0, nil
	}
	d := o.startDrain(ctx)
	defer d.stop()
	if o.gate.State().Paused {
		// Probe the server before claiming anything, so a server still
		// down leaves every row as it was.
		if err := d.conn.open(ctx); err != nil {
			o.unreachable(err)
			return 0, unreachableError{err}
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return sent, err
		}
		rows, err := o.store.ClaimOutbox(ctx, o.batch, o.lease)
		if err != nil || len(rows) == 0 {
			return sent, err
		}
		d.hold(rows)
		n, err := d.sendBatch(ctx, rows)
		sent += n
		if err != nil {
			return sent, err
		}
	}
}

// sendBatch sends claimed rows one by one. It stops early, giving the rest
// back, when ctx is done, when the server cannot be reached, or when the
// claim is about to run out without having been renewed (so no other
// sender takes over a row this one is still sending).
func (d *drain) sendBatch(ctx context.Context, rows []models.OutboxMessage) (int, error) {
	o := d.o
	sent := 0
	for i, row := range rows {
		if ctx.Err() != nil || d.heldFor() < o.timeout {
			d.release(ctx, rows[i:], "")
			return sent, ctx.Err()
		}
		ok, err := d.sendOne(ctx, row)
		if ok {
			sent++
		}
		if err != nil {
			d.unreachable(ctx, rows[i:], err)
			return sent, unreachableError{err}
		}
	}
	return sent, nil
}

// sendOne hands one row to the server and queues its outcome for the
// recorder. It returns an error, recording nothing, only when the server
// could not be reached.
func (d *drain) sendOne(ctx context.Context, row models.OutboxMessage) (bool, error) {
	msg, err := d.o.compose(row)
	if err != nil {
		d.record(row, permanent, "cannot build this email: "+err.Error())
		return false, nil
	}
	if err := d.conn.open(ctx); err != nil {
		return false, err
	}
	start := time.Now()
	err = d.conn.client.Send(msg)
	d.o.metrics.sendSeconds.Observe(time.Since(start).Seconds())
	result := classify(msg, err)
	if result == unreachable {
		d.conn.close()
		return false, err
	}
	d.record(row, result, errText(err))
	return result == delivered, nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
