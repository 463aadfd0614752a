package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
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
	var running, most, total atomic.Int32
	compare := s.passwords.compare
	s.passwords.compare = func(hash, pw []byte) error {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		total.Add(1)
		time.Sleep(20 * time.Millisecond) // long enough for the others to pile up
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
	wg.Wait()
	// Two at once, not fewer: the gate bounds the checks without queueing
	// them one by one behind a single slot.
	if total.Load() != 12 || most.Load() != 2 {
		t.Errorf("%d checks, at most %d at once; want 12, two at once", total.Load(), most.Load())
	}
}
