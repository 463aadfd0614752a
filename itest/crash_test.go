package itest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A replica killed with SIGKILL in the middle of sending mail, while
// visitors keep booking: no booking that was acknowledged is lost, and the
// emails it had claimed go out from the other replicas once its lease
// runs out. Only an email the dead replica may already have handed to the
// server can arrive twice.
func TestReplicas_KilledReplicaLosesNoBookingAndItsMailMovesOn(t *testing.T) {
	const hosts, perHost = 20, 12
	const lease = 8 * time.Second
	c := newCluster(t, clusterOptions{replicas: 3, hosts: hosts, mailLease: lease.String(), mailDelay: 10 * time.Millisecond})
	starts := c.freeStarts(c.replicas[0])[:perHost]
	victim := c.replicas[2]

	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		acked   = map[string]bool{} // booking ids answered 201
		lost    atomic.Int32        // requests to the victim that got no answer
		jobs    = make(chan int)
		stuck   email
		killErr error
	)
	go func() {
		defer close(jobs)
		for i := range hosts * perHost {
			jobs <- i
		}
	}()
	for w := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				r := c.replicas[(w+i)%len(c.replicas)]
				a, err := r.book(starts[i%perHost], fmt.Sprintf("crash-%d@example.com", i))
				switch {
				case err != nil && r == victim:
					lost.Add(1)
				case err != nil || (a.Status != http.StatusCreated && a.Status != http.StatusConflict):
					t.Errorf("%s: %d %s %v", r.name, a.Status, a.Error.Code, err)
				case a.Status == http.StatusCreated:
					mu.Lock()
					acked[strconv.FormatUint(uint64(a.Booking.ID), 10)] = true
					mu.Unlock()
				}
			}
		}()
	}

	// Mid-load: hold the victim's next email at the server, so it is
	// mid-send with its claimed batch, then kill it.
	if !waitFor(t, 60*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 80 }) {
		// Error, not Fatal: the booking workers are still running.
		t.Error("fewer than 80 bookings acknowledged in a minute")
	}
	c.mail.Stall(2)
	select {
	case stuck = <-c.mail.Stuck():
		victim.kill()
	case <-time.After(20 * time.Second):
		killErr = fmt.Errorf("the victim sent no email within 20 s")
	}
	killedAt := time.Now()
	wg.Wait()
	if killErr != nil {
		t.Fatal(killErr)
	}
	t.Logf("%d bookings acknowledged, %d requests to the killed replica unanswered; it was holding %s for booking %s",
		len(acked), lost.Load(), stuck.Kind, stuck.Booking)

	// No acknowledged booking is lost.
	ids := make([]any, 0, len(acked))
	for id := range acked {
		ids = append(ids, id)
	}
	var confirmed int
	for _, id := range ids {
		confirmed += c.count("SELECT count(*) FROM bookings WHERE id = $1 AND status = 'confirmed'", id)
	}
	if confirmed != len(acked) {
		t.Fatalf("%d of %d acknowledged bookings are in the database", confirmed, len(acked))
	}

	// Every email of every booking in the database goes out, the held
	// one too, after the lease.
	done := waitFor(t, lease+45*time.Second, func() bool {
		return c.count("SELECT count(*) FROM outbox WHERE status <> 'sent'") == 0
	})
	if !done {
		t.Fatalf("%d emails still unsent %s after the kill",
			c.count("SELECT count(*) FROM outbox WHERE status <> 'sent'"), time.Since(killedAt).Round(time.Second))
	}
	survivors := c.replicas[:2]
	c.waitMailSettled(survivors)
	copies := map[string][]int{} // booking+kind → replicas that delivered it
	for _, m := range c.mail.Messages() {
		k := m.Booking + " " + m.Kind
		copies[k] = append(copies[k], m.Via)
	}
	for id := range acked {
		for _, kind := range []string{"confirmation", "host-notice"} {
			if len(copies[id+" "+kind]) == 0 {
				t.Errorf("booking %s: no %s email", id, kind)
			}
		}
	}
	held := copies[stuck.Booking+" "+stuck.Kind]
	if len(held) == 0 || slices.Contains(held, 2) {
		t.Errorf("the email held when the replica died (%s, booking %s) was delivered by %v, want a surviving replica", stuck.Kind, stuck.Booking, held)
	}
	dups := 0
	for k, via := range copies {
		if len(via) > 1 {
			dups++
			if len(via) > 2 || via[0] != 2 {
				t.Errorf("%s delivered %d times, by replicas %v: only an email the dead replica had sent may come twice", k, len(via), via)
			}
		}
	}
	if n := c.count("SELECT count(*) FROM outbox"); len(copies) != n {
		t.Errorf("%d distinct emails at the server, %d in the outbox", len(copies), n)
	}
	t.Logf("%d emails, %d sent twice (sent by the killed replica, not yet recorded when it died)", len(copies), dups)
}
