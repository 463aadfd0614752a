package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/callbook/callbook/models"
)

func TestAuthenticate_RunsAtMostTheAllowedPasswordChecksAtOnce(t *testing.T) {
	s, err := Open("sqlite:"+filepath.Join(t.TempDir(), "x.db"), Options{Secret: []byte("test-secret-test-secret"), PasswordChecks: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Each check waits inside the gate until the test lets it go, and
	// says how many were inside when it came in.
	var running atomic.Int32
	entered := make(chan int32, 12)
	proceed := make(chan struct{})
	compare := s.passwords.compare
	s.passwords.compare = func(hash, pw []byte) error {
		entered <- running.Add(1)
		<-proceed
		running.Add(-1)
		return compare(hash, pw)
	}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			_, err := s.Authenticate(context.Background(), fmt.Sprintf("u%d@example.com", i), "not-it", fmt.Sprintf("192.0.2.%d", i))
			if !errors.Is(err, models.ErrBadCredentials) {
				t.Errorf("sign-in %d: %v", i, err)
			}
		})
	}
	// Two come in and are held; from then on, each one let go lets the
	// next come in. That the gate lets no third in is the gate's own test
	// (TestPasswordGate_LetsInAsManyChecksAsItHasSlots).
	var total, most int32
	next := func() {
		select {
		case n := <-entered:
			total, most = total+1, max(most, n)
		case <-time.After(30 * time.Second):
			t.Fatalf("after %d checks, no other came in within 30 s", total)
		}
	}
	next()
	for total < 12 {
		next()
		proceed <- struct{}{}
	}
	proceed <- struct{}{}
	wg.Wait()
	// Two at once, not fewer: the gate bounds the checks without queueing
	// them one by one behind a single slot.
	if total != 12 || most != 2 {
		t.Errorf("%d checks, at most %d at once; want 12, two at once", total, most)
	}
}

// The gate itself, in a bubble whose goroutines the test can see blocked:
// with twelve checks started and the first ones held inside, exactly as
// many as the gate has slots are inside, and the rest wait at the gate.
func TestPasswordGate_LetsInAsManyChecksAsItHasSlots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newPasswordGate(2)
		var inside atomic.Int32
		proceed := make(chan struct{})
		g.compare = func(hash, pw []byte) error {
			inside.Add(1)
			defer inside.Add(-1)
			<-proceed
			return nil
		}
		var wg sync.WaitGroup
		for range 12 {
			wg.Go(func() {
				if ok, err := g.check(context.Background(), "hash", "pw"); !ok || err != nil {
					t.Errorf("check: %v, %v", ok, err)
				}
			})
		}
		synctest.Wait() // every check is held inside or waits at the gate
		if n := inside.Load(); n != 2 {
			t.Fatalf("%d checks inside a gate of two slots", n)
		}
		close(proceed)
		wg.Wait()
	})
}
