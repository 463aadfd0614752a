package scheduler

import (
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
)

// every returns the schedule for a tick. cron.Every truncates to whole
// seconds (and raises anything shorter to one second), so a sub-second or
// fractional CALLBOOK_TICK gets a plain constant-delay schedule instead.
func every(d time.Duration) cron.Schedule {
	if d >= time.Second && d%time.Second == 0 {
		return cron.Every(d)
	}
	return constantDelay(d)
}

// constantDelay fires every d, measured from the previous activation.
type constantDelay time.Duration

// Next is d after t.
func (c constantDelay) Next(t time.Time) time.Time { return t.Add(time.Duration(c)) }

// cronLogger hands robfig/cron's log lines to slog. Its chatter (start,
// wake, schedule, skip) is debug-level; errors and recovered panics are
// errors.
type cronLogger struct{ log *slog.Logger }

// Info logs cron's routine messages at debug level.
func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }

// Error logs cron's error reports, such as a panic in a job.
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}
