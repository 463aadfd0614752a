// Package scheduler runs Callbook's background work on one robfig/cron
// instance: the reminder sweep and the outbox retry every tick, the daily
// digest and the daily clean-up. Jobs claim their rows in database
// transactions (see store.Store.SweepReminders), so any number of
// schedulers on one database, or a restart, never send an email twice.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// Job names, as used in logs, metrics and RunOnce.
const (
	JobReminders = "reminders"
	JobOutbox    = "outbox"
	JobDigest    = "digest"
	JobCleanup   = "cleanup"
	JobCalendars = "calendars"
	JobRetention = "retention"
)

// Defaults for Options left empty.
const (
	DefaultTick        = time.Minute
	DefaultDigestSpec  = "0 8 * * 1-5" // 08:00 on weekdays, business time
	DefaultCleanupSpec = "30 3 * * *"  // 03:30 daily, business time
)

// reminderBatch bounds one sweep transaction; a run sweeps batches until
// one comes back short, so a backlog drains in one run without one huge
// transaction holding the SQLite writer.
const reminderBatch = 500

// jobTimeout bounds one run, so a hung query cannot block its job forever
// (SkipIfStillRunning would skip every later tick).
const jobTimeout = 5 * time.Minute

// Drainer delivers queued email: it sends what is due in the outbox and
// returns how many it handled. mailer's Outbox satisfies it.
type Drainer interface {
	Drain(ctx context.Context) (int, error)
}

// Options configure a Scheduler. Store is required; the rest have defaults.
type Options struct {
	Store *store.Store
	// Outbox is drained every tick to retry mail that could not go at once;
	// nil leaves out the outbox job.
	Outbox Drainer
	// Calendars reads hosts' own calendars every CalendarSync
	// (CALLBOOK_CALENDAR_SYNC, DefaultCalendarSync when zero); nil leaves
	// out the calendars job.
	Calendars    CalendarReader
	CalendarSync time.Duration
	// Tick is how often reminders are swept and the outbox retried
	// (CALLBOOK_TICK); DefaultTick when zero. Any positive duration works,
	// sub-second ones included.
	Tick time.Duration
	// DigestSpec is when the daily digest goes out, in robfig/cron syntax
	// (CALLBOOK_DIGEST_CRON) in the business zone; DefaultDigestSpec when empty.
	DigestSpec string
	// CleanupSpec is when the clean-up runs; DefaultCleanupSpec when empty.
	// The lead-retention run goes at the same time.
	CleanupSpec string
	// RetentionLeads erases, every night, the leads with no call, note or
	// change for this long (CALLBOOK_RETENTION_LEADS); zero leaves out the
	// retention job.
	RetentionLeads time.Duration
	// Log receives one line per job run; slog.Default when nil.
	Log *slog.Logger
	// Registerer receives the job metrics; they are not exported when nil.
	Registerer prometheus.Registerer
	// Now is the clock the digest's business date is read from; the
	// store's clock when nil.
	Now func() time.Time
}

// CalendarReader reads every host's calendar sources and returns how many
// it read; calendars.Syncer satisfies it.
type CalendarReader interface {
	SyncAll(ctx context.Context) (int, error)
}

// DefaultCalendarSync is how often hosts' calendars are read.
const DefaultCalendarSync = 5 * time.Minute

// Scheduler owns the one cron instance of a process. Start and Stop may be
// called once each; RunOnce may be called at any time, concurrently.
type Scheduler struct {
	store   *store.Store
	log     *slog.Logger
	now     func() time.Time
	tick    time.Duration
	metrics *metrics
	jobs    map[string]func(context.Context) (int, error)
	cron    *cron.Cron
	entries map[string]cron.EntryID

	// ctx is the parent of every run; cancel ends runs still going when
	// Stop's deadline passes.
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
}

// New checks opts and builds a Scheduler with its jobs registered but not
// started. An invalid DigestSpec is an error naming CALLBOOK_DIGEST_CRON.
func New(opts Options) (*Scheduler, error) {
	if opts.Store == nil {
		return nil, errors.New("scheduler: a store is required")
	}
	if opts.Tick < 0 {
		return nil, fmt.Errorf("CALLBOOK_TICK must be positive, not %s", opts.Tick)
	}
	opts = withDefaults(opts)
	digest, err := cron.ParseStandard(opts.DigestSpec)
	if err != nil {
		return nil, fmt.Errorf("CALLBOOK_DIGEST_CRON %q is not a cron schedule (for example %q): %w",
			opts.DigestSpec, DefaultDigestSpec, err)
	}
	cleanup, err := cron.ParseStandard(opts.CleanupSpec)
	if err != nil {
		return nil, fmt.Errorf("CALLBOOK_CLEANUP_CRON %q is not a cron schedule (for example %q): %w",
			opts.CleanupSpec, DefaultCleanupSpec, err)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Scheduler{store: opts.Store, log: opts.Log, now: opts.Now, tick: opts.Tick, metrics: m, entries: map[string]cron.EntryID{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.jobs = s.jobFuncs(opts.Outbox)
	if opts.Calendars != nil {
		s.jobs[JobCalendars] = opts.Calendars.SyncAll
	}
	cl := cronLogger{opts.Log}
	s.cron = cron.New(
		cron.WithLocation(opts.Store.Location()),
		cron.WithLogger(cl),
		cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)),
	)
	tick := every(opts.Tick)
	s.schedule(tick, JobReminders)
	if opts.Outbox != nil {
		s.schedule(tick, JobOutbox)
	}
	if opts.Calendars != nil {
		s.schedule(every(opts.CalendarSync), JobCalendars)
	}
	s.schedule(digest, JobDigest)
	s.schedule(cleanup, JobCleanup)
	if opts.RetentionLeads > 0 {
		s.jobs[JobRetention] = func(ctx context.Context) (int, error) {
			return s.store.EraseInactiveLeads(ctx, opts.RetentionLeads)
		}
		s.schedule(cleanup, JobRetention)
	}
	for name := range s.jobs {
		m.init(name)
	}
	return s, nil
}

func withDefaults(o Options) Options {
	if o.Tick == 0 {
		o.Tick = DefaultTick
	}
	if o.CalendarSync == 0 {
		o.CalendarSync = DefaultCalendarSync
	}
	if o.DigestSpec == "" {
		o.DigestSpec = DefaultDigestSpec
	}
	if o.CleanupSpec == "" {
		o.CleanupSpec = DefaultCleanupSpec
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = o.Store.Now
	}
	return o
}

// jobFuncs maps each job name to the work it does, returning items handled.
func (s *Scheduler) jobFuncs(outbox Drainer) map[string]func(context.Context) (int, error) {
	jobs := map[string]func(context.Context) (int, error){
		JobReminders: s.sweepReminders,
		JobDigest:    func(ctx context.Context) (int, error) { return s.store.QueueDigest(ctx, s.now()) },
		JobCleanup: func(ctx context.Context) (int, error) {
			r, err := s.store.CleanUp(ctx)
			return r.Total(), err
		},
	}
	if outbox != nil {
		jobs[JobOutbox] = outbox.Drain
	}
	return jobs
}

// sweepReminders sweeps in batches until the due reminders are all queued.
func (s *Scheduler) sweepReminders(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.store.SweepReminders(ctx, reminderBatch)
		total += n
		if err != nil || n < reminderBatch {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

func (s *Scheduler) schedule(when cron.Schedule, name string) {
	s.entries[name] = s.cron.Schedule(when, cron.FuncJob(func() { _, _ = s.run(s.ctx, name) }))
}

// NextRun is when cron next starts job, in the business zone; zero before
// Start or for an unknown job.
func (s *Scheduler) NextRun(job string) time.Time {
	id, ok := s.entries[job]
	if !ok {
		return time.Time{}
	}
	return s.cron.Entry(id).Next
}

// Jobs lists the registered job names, sorted.
func (s *Scheduler) Jobs() []string {
	names := make([]string, 0, len(s.jobs))
	for n := range s.jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Start runs the jobs on their schedules in the background until Stop.
func (s *Scheduler) Start() {
	s.cron.Start()
	s.log.Info("scheduler started", "jobs", s.Jobs(), "tick", s.tick,
		"next_digest", s.NextRun(JobDigest), "next_cleanup", s.NextRun(JobCleanup))
}

// Stop stops scheduling new runs and waits for the runs in progress to
// finish. When ctx ends first, it cancels those runs' context and returns
// ctx's error; their transactions roll back, so nothing is half done.
func (s *Scheduler) Stop(ctx context.Context) error {
	done := s.cron.Stop()
	select {
	case <-done.Done():
		s.once.Do(s.cancel)
		return nil
	case <-ctx.Done():
		s.once.Do(s.cancel)
		return fmt.Errorf("scheduler: stopped before running jobs finished: %w", ctx.Err())
	}
}

// RunOnce runs one job now, in the caller's goroutine, with the same
// logging and metrics as a scheduled run, and returns the items it handled.
// It is safe alongside scheduled runs of the same job: jobs claim their
// rows in transactions. An unknown name is an error listing the jobs.
func (s *Scheduler) RunOnce(ctx context.Context, job string) (int, error) {
	if _, ok := s.jobs[job]; !ok {
		return 0, fmt.Errorf("scheduler: no job %q (jobs: %v)", job, s.Jobs())
	}
	return s.run(ctx, job)
}

// run executes one job with a timeout, logs it and counts it. A panic is
// recovered and counted as a failure. What a job changes is audited as
// done by the system.
func (s *Scheduler) run(ctx context.Context, name string) (n int, err error) {
	ctx, cancel := context.WithTimeout(store.WithActor(ctx, models.SystemActor()), jobTimeout)
	defer cancel()
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("job %s panicked: %v", name, r)
		}
		s.record(name, n, time.Since(start), err)
	}()
	return s.jobs[name](ctx)
}

// record logs one run and updates the metrics. Runs of the every-tick jobs
// that handled nothing log at debug level, so an idle service stays quiet.
func (s *Scheduler) record(name string, n int, d time.Duration, err error) {
	s.metrics.observe(name, n, err)
	attrs := []any{"job", name, "items", n, "duration", d}
	var temp interface{ Temporary() bool }
	switch {
	case errors.As(err, &temp) && temp.Temporary():
		// An outside server is down (the mailer pauses and says so once).
		s.log.Warn("job could not finish; will retry", append(attrs, "err", err)...)
	case err != nil:
		s.log.Error("job failed", append(attrs, "err", err)...)
	case n == 0 && (name == JobReminders || name == JobOutbox):
		s.log.Debug("job ran", attrs...)
	default:
		s.log.Info("job ran", attrs...)
	}
}
