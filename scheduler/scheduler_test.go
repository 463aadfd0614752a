package scheduler_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/scheduler"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// drainFunc adapts a function to scheduler.Drainer.
type drainFunc func(ctx context.Context) (int, error)

func (f drainFunc) Drain(ctx context.Context) (int, error) { return f(ctx) }

func mustStore(t testing.TB) (*store.Store, *storetest.Clock) {
	t.Helper()
	clock := storetest.NewClock(mondayMorning)
	return storetest.MustOpen(t, store.DialectSQLite, storetest.Options(clock)), clock
}

func TestNew_InvalidDigestSpecNamesTheVariable(t *testing.T) {
	s, _ := mustStore(t)
	for _, spec := range []string{"every morning", "0 8 * *", "61 8 * * 1-5"} {
		_, err := scheduler.New(scheduler.Options{Store: s, DigestSpec: spec, Log: quiet})
		if err == nil || !strings.Contains(err.Error(), "CALLBOOK_DIGEST_CRON") {
			t.Errorf("spec %q: error %v, want one naming CALLBOOK_DIGEST_CRON", spec, err)
		}
	}
	if _, err := scheduler.New(scheduler.Options{Log: quiet}); err == nil {
		t.Error("no store: want an error")
	}
}

func TestNew_RegistersJobsAndCountersPerJob(t *testing.T) {
	s, _ := mustStore(t)
	reg := prometheus.NewRegistry()
	sc, err := scheduler.New(scheduler.Options{Store: s, Log: quiet, Registerer: reg,
		Outbox: drainFunc(func(context.Context) (int, error) { return 0, nil })})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sc.Jobs(), ","); got != "cleanup,digest,outbox,reminders" {
		t.Errorf("jobs = %s", got)
	}
	for _, job := range sc.Jobs() {
		for _, name := range []string{"callbook_job_runs_total", "callbook_job_failures_total", "callbook_job_items_total"} {
			if v := counterValue(t, reg, name, job); v != 0 {
				t.Errorf("%s{job=%s} starts at %v", name, job, v)
			}
		}
	}
	// A second scheduler on the same registry would export clashing series.
	if _, err := scheduler.New(scheduler.Options{Store: s, Log: quiet, Registerer: reg}); err == nil {
		t.Error("second scheduler on one registry: want a registration error")
	}
	// No outbox, no outbox job.
	sc2, err := scheduler.New(scheduler.Options{Store: s, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc2.RunOnce(t.Context(), scheduler.JobOutbox); err == nil {
		t.Error("outbox job without an outbox: want an error")
	}
}

func TestRunOnce_CountsRunsItemsAndFailures(t *testing.T) {
	s, clock := mustStore(t)
	reg := prometheus.NewRegistry()
	var calls atomic.Int32
	outbox := drainFunc(func(context.Context) (int, error) {
		switch calls.Add(1) {
		case 1:
			return 3, nil
		case 2:
			return 1, errors.New("smtp: connection refused")
		default:
			panic("boom")
		}
	})
	sc, err := scheduler.New(scheduler.Options{Store: s, Outbox: outbox, Log: quiet, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if n, err := sc.RunOnce(ctx, scheduler.JobOutbox); n != 3 || err != nil {
		t.Errorf("first drain = %d, %v", n, err)
	}
	if _, err := sc.RunOnce(ctx, scheduler.JobOutbox); err == nil {
		t.Error("failing drain: want its error")
	}
	if _, err := sc.RunOnce(ctx, scheduler.JobOutbox); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("panicking drain: %v, want the panic as an error", err)
	}
	if _, err := sc.RunOnce(ctx, "nope"); err == nil || !strings.Contains(err.Error(), "reminders") {
		t.Errorf("unknown job: %v, want an error listing the jobs", err)
	}
	b := storetest.MustBookAt(t, s, ny(time.March, 4, 10, 0), "ada@example.com").Booking
	clock.Set(b.StartAt.Add(-23 * time.Hour))
	if n, err := sc.RunOnce(ctx, scheduler.JobReminders); n != 1 || err != nil {
		t.Errorf("reminders = %d, %v; want 1", n, err)
	}
	for _, c := range []struct {
		name, job string
		want      float64
	}{
		{"callbook_job_runs_total", "outbox", 3},
		{"callbook_job_failures_total", "outbox", 2},
		{"callbook_job_items_total", "outbox", 4},
		{"callbook_job_runs_total", "reminders", 1},
		{"callbook_job_items_total", "reminders", 1},
		{"callbook_job_failures_total", "reminders", 0},
	} {
		if got := counterValue(t, reg, c.name, c.job); got != c.want {
			t.Errorf("%s{job=%s} = %v, want %v", c.name, c.job, got, c.want)
		}
	}
}

func TestRunOnce_DigestUsesTheInjectedClock(t *testing.T) {
	s, clock := mustStore(t)
	if err := s.DB().Create(&models.User{Email: "sales@example.com", Name: "Sam", Role: models.RoleSales,
		PasswordHash: "$argon2id$test"}).Error; err != nil {
		t.Fatal(err)
	}
	storetest.MustBookAt(t, s, ny(time.March, 3, 14, 0), "ada@example.com")
	sc, err := scheduler.New(scheduler.Options{Store: s, Log: quiet, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(ny(time.March, 3, 8, 0))
	if n, err := sc.RunOnce(t.Context(), scheduler.JobDigest); n != 1 || err != nil {
		t.Fatalf("digest = %d, %v; want 1 email", n, err)
	}
	if n, err := sc.RunOnce(t.Context(), scheduler.JobDigest); n != 0 || err != nil {
		t.Fatalf("second digest the same day = %d, %v; want 0", n, err)
	}
}

func TestStart_DigestAndCleanupRunInTheBusinessZone(t *testing.T) {
	clock := storetest.NewClock(mondayMorning)
	opts := storetest.Options(clock)
	opts.Location = berlin
	s := storetest.MustOpen(t, store.DialectSQLite, opts)
	sc, err := scheduler.New(scheduler.Options{Store: s, Log: quiet, Tick: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !sc.NextRun(scheduler.JobDigest).IsZero() {
		t.Error("NextRun before Start: want zero")
	}
	sc.Start()
	defer sc.Stop(context.Background())
	next := sc.NextRun(scheduler.JobDigest).In(berlin)
	if next.Hour() != 8 || next.Minute() != 0 || next.Weekday() == time.Saturday || next.Weekday() == time.Sunday {
		t.Errorf("next digest %s, want 08:00 Berlin on a weekday", next)
	}
	if c := sc.NextRun(scheduler.JobCleanup).In(berlin); c.Hour() != 3 || c.Minute() != 30 {
		t.Errorf("next clean-up %s, want 03:30 Berlin", c)
	}
}

// The one test that lets real time pass: cron must really fire the tick
// jobs, and Stop must wait for a running one.
func TestStartStop_TicksRunJobsAndStopWaitsForThem(t *testing.T) {
	s, _ := mustStore(t)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	var finished atomic.Bool
	outbox := drainFunc(func(ctx context.Context) (int, error) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		finished.Store(true)
		return 0, nil
	})
	reg := prometheus.NewRegistry()
	sc, err := scheduler.New(scheduler.Options{Store: s, Outbox: outbox, Tick: 20 * time.Millisecond, Log: quiet, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	sc.Start()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the outbox job never ran")
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := sc.Stop(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop with a job still running = %v, want it to wait until its deadline", err)
	}
	close(release)
	if err := sc.Stop(context.Background()); err != nil {
		t.Fatalf("Stop after the job finished: %v", err)
	}
	if !finished.Load() {
		t.Error("Stop returned before the running job finished")
	}
	if runs := counterValue(t, reg, "callbook_job_runs_total", "reminders"); runs < 1 {
		t.Errorf("reminder sweep ran %v times on a 20ms tick", runs)
	}
}

func TestStop_CancelsRunningJobsWhenItsDeadlinePasses(t *testing.T) {
	s, _ := mustStore(t)
	entered, canceled := make(chan struct{}, 1), make(chan struct{})
	outbox := drainFunc(func(ctx context.Context) (int, error) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-ctx.Done()
		close(canceled)
		return 0, ctx.Err()
	})
	sc, err := scheduler.New(scheduler.Options{Store: s, Outbox: outbox, Tick: 20 * time.Millisecond, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sc.Start()
	<-entered
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := sc.Stop(short); err == nil {
		t.Fatal("Stop returned nil while a job ran past its deadline")
	}
	select {
	case <-canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("the running job's context was not canceled")
	}
	if err := sc.Stop(context.Background()); err != nil {
		t.Fatalf("Stop once the job returned: %v", err)
	}
}
