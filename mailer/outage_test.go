package mailer_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callbook/callbook/mailer"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

// runningClock follows real time from t0, plus the jumps a test makes, so
// the sender's real timers and the outage's length can both be tested.
type runningClock struct {
	start time.Time
	jump  atomic.Int64
}

func (c *runningClock) Now() time.Time {
	return t0.Add(time.Since(c.start) + time.Duration(c.jump.Load()))
}

// An SMTP outage while 200 calls are booked (400 emails), lasting hours:
// nothing is lost, no email's next attempt moves, and once the server is
// back every email arrives at once, exactly once. "At once" is what the
// sender does, not a stopwatch: the poll interval is an hour and a backoff
// would be minutes, so a backlog still missing after the generous deadline
// below waited for one of them. The time it took is logged (about 3 s on
// a shared 2-core machine with -race; docs/PERFORMANCE.md has the figure).
func TestRun_OutageBacklogArrivesAtOnceWhenTheServerReturns(t *testing.T) {
	const backlogDeadline = time.Minute
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		rc := &runningClock{start: time.Now()}
		opts := storetest.Options(storetest.NewClock(t0))
		opts.Now = rc.Now
		s := storetest.MustOpen(t, dialect, opts)
		addr, port := freeAddr(t)
		o := mustOutbox(t, s, storetest.NewClock(t0), "smtp://127.0.0.1:"+strconv.Itoa(port), func(op *mailer.Options) {
			op.Now = rc.Now
			op.PollInterval = time.Hour // only commits and the pause's own wait wake the sender
			op.PauseFirst, op.PauseMax = 20*time.Millisecond, 200*time.Millisecond
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { o.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()

		mustBook(t, s, 200)
		waitFor(t, 30*time.Second, "the sender to try and fail several times", func() bool { return o.Pause().Failures >= 4 })
		rc.jump.Add(int64(6 * time.Hour)) // a long outage
		before := o.Pause().Failures
		waitFor(t, 30*time.Second, "another try after six hours", func() bool { return o.Pause().Failures > before })

		st := o.Pause()
		if !st.Paused || !strings.Contains(st.LastError, "connect") || st.Since.After(t0.Add(time.Minute)) {
			t.Errorf("pause = %+v, want paused since the first bookings with the dial error", st)
		}
		if v := gaugeValue(t, o, "callbook_smtp_paused"); v != 1 {
			t.Errorf("callbook_smtp_paused = %v during the outage", v)
		}
		if v := gaugeValue(t, o, "callbook_smtp_paused_since_seconds"); v != float64(st.Since.Unix()) {
			t.Errorf("callbook_smtp_paused_since_seconds = %v, want %d", v, st.Since.Unix())
		}
		rows := outboxRows(t, s)
		if len(rows) != 400 {
			t.Fatalf("%d emails queued, want 400", len(rows))
		}
		for _, r := range rows {
			if r.Status != models.OutboxPending || r.Attempts != 0 || !r.NextAttemptAt.Equal(r.CreatedAt) {
				t.Fatalf("during the outage row %d = %s, %d attempts, next %v (queued %v): want pending, uncounted, due as queued",
					r.ID, r.Status, r.Attempts, r.NextAttemptAt, r.CreatedAt)
			}
		}

		srv := startSMTP(t, smtpBehaviour{Addr: addr})
		back := time.Now()
		for len(srv.Messages()) < 400 && time.Since(back) < backlogDeadline {
			time.Sleep(10 * time.Millisecond)
		}
		took := time.Since(back)
		if got := len(srv.Messages()); got < 400 {
			t.Fatalf("%v after the server returned it has %d of 400 emails", backlogDeadline, got)
		}
		t.Logf("%s: 400 emails arrived %v after the SMTP server returned", dialect, took.Round(time.Millisecond))
		waitFor(t, 10*time.Second, "every outcome to be recorded", func() bool {
			for _, r := range outboxRows(t, s) {
				if r.Status != models.OutboxSent {
					return false
				}
			}
			return true
		})
		// Drains take turns, so this one runs after the sender has finished
		// what it was sending: a duplicate would have arrived by now.
		if n := mustDrain(t, o); n != 0 {
			t.Errorf("a drain after the backlog went sent %d more", n)
		}
		assertEachOnce(t, srv.Messages(), rows)
		for _, r := range outboxRows(t, s) {
			if r.Attempts != 1 {
				t.Errorf("row %d sent after %d attempts, want 1", r.ID, r.Attempts)
			}
		}
		if o.Pause().Paused || gaugeValue(t, o, "callbook_smtp_paused") != 0 {
			t.Error("still paused after the backlog went")
		}
	})
}

// waitFor polls cond until it holds, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %v", what, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// gaugeValue reads an unlabelled gauge from the outbox's registry.
func gaugeValue(t testing.TB, o testOutbox, name string) float64 {
	t.Helper()
	families, err := o.Reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}
