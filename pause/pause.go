// Package pause holds delivery to an outside server (the SMTP server, a
// webhook receiver) while that server cannot be reached. An unreachable
// server says nothing about the messages waiting for it, so the sender
// pauses as a whole, with its own capped backoff, instead of pushing every
// message's next attempt further out; the first success ends the pause and
// everything due goes at once, as a mail server's queue does when its
// transport comes back.
package pause

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Defaults for a Gate built with zero values.
const (
	DefaultFirst = time.Second
	DefaultMax   = time.Minute
)

// Gate is one sender's pause. It is safe for concurrent use. The zero value
// is not usable: call New.
type Gate struct {
	now        func() time.Time
	first, max time.Duration

	mu       sync.Mutex
	failures int
	since    time.Time // first failure of the current pause
	until    time.Time // the next try
	lastErr  string
}

// New builds a Gate on clock now (time.Now when nil) whose wait after n
// consecutive failures is first·2^(n-1), capped at limit, with jitter taking
// it to between half and all of that. Zero durations take the defaults.
func New(now func() time.Time, first, limit time.Duration) *Gate {
	if now == nil {
		now = time.Now
	}
	if first <= 0 {
		first = DefaultFirst
	}
	if limit <= 0 {
		limit = DefaultMax
	}
	return &Gate{now: now, first: first, max: max(first, limit)}
}

// State is a Gate's pause as staff pages and metrics show it.
type State struct {
	// Paused is true from a failure to reach the server until a success.
	Paused bool
	// Since is when the pause began (the first failure in a row).
	Since time.Time
	// Until is when the next try may be made; it can be in the past when
	// nothing has tried since.
	Until time.Time
	// Failures counts the consecutive failures.
	Failures  int
	LastError string
}

// Wait reports how long until a try may be made: zero when not paused or
// when the pause's backoff has passed (the next try probes the server).
func (g *Gate) Wait() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failures == 0 {
		return 0
	}
	return max(g.until.Sub(g.now()), 0)
}

// Fail records that the server could not be reached (refused, timed out,
// TLS or authentication failed). It starts the pause or lengthens its
// backoff, and reports whether this failure started it.
func (g *Gate) Fail(err error) (started bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if g.failures == 0 {
		g.since, started = now, true
	}
	g.failures++
	g.until = now.Add(g.backoff(g.failures))
	if err != nil {
		g.lastErr = err.Error()
	}
	return started
}

// Succeed records that the server answered, ending any pause. It returns
// the state the pause had, Paused false when there was none.
func (g *Gate) Succeed() (ended State) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failures == 0 {
		return State{}
	}
	ended = g.state()
	g.failures, g.since, g.until, g.lastErr = 0, time.Time{}, time.Time{}, ""
	return ended
}

// State returns the current pause.
func (g *Gate) State() State {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state()
}

func (g *Gate) state() State {
	return State{Paused: g.failures > 0, Since: g.since, Until: g.until, Failures: g.failures, LastError: g.lastErr}
}

func (g *Gate) backoff(n int) time.Duration {
	d := g.first
	for i := 1; i < n && d < g.max; i++ {
		d *= 2
	}
	d = min(d, g.max)
	half := d / 2
	return half + rand.N(half+1)
}
