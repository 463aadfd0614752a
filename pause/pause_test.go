package pause_test

import (
	"errors"
	"testing"
	"time"

	"github.com/callbook/callbook/pause"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestGate_BackoffGrowsToItsCapAndOneSuccessEndsThePause(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	g := pause.New(c.now, time.Second, 8*time.Second)
	if g.Wait() != 0 || g.State().Paused {
		t.Fatal("a new gate is paused")
	}
	start := c.t
	if !g.Fail(errors.New("dial tcp: connection refused")) {
		t.Fatal("the first failure did not start the pause")
	}
	if w := g.Wait(); w < 500*time.Millisecond || w > time.Second {
		t.Errorf("wait after one failure = %v, want 0.5–1s", w)
	}
	for range 20 {
		c.t = c.t.Add(time.Hour)
		if g.Fail(errors.New("i/o timeout")) {
			t.Fatal("a later failure started the pause again")
		}
		if w := g.Wait(); w > 8*time.Second {
			t.Fatalf("wait = %v, want at most the 8s cap", w)
		}
	}
	if w := g.Wait(); w < 4*time.Second {
		t.Errorf("wait after 21 failures = %v, want 4–8s", w)
	}
	st := g.State()
	if !st.Paused || !st.Since.Equal(start) || st.Failures != 21 || st.LastError != "i/o timeout" || !st.Until.After(c.t) {
		t.Fatalf("state = %+v", st)
	}
	c.t = st.Until
	if g.Wait() != 0 {
		t.Error("still waiting once the backoff has passed")
	}
	ended := g.Succeed()
	if !ended.Paused || !ended.Since.Equal(start) {
		t.Errorf("Succeed returned %+v, want the pause that ended", ended)
	}
	if g.State().Paused || g.Wait() != 0 || g.Succeed().Paused {
		t.Error("still paused after a success")
	}
}
