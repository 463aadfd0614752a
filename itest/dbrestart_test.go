package itest

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// outcome is one request made while the database went away and came back.
type outcome struct {
	what   string
	by     *replica
	at     time.Time // when it was sent
	status int
	code   string
	err    error
	took   time.Duration
}

// The database restarts under load: while it is away every replica says
// it is not ready and answers requests that need it with 503 "unavailable"
// (never 500, never a hang); when it is back they recover by themselves.
func TestReplicas_DatabaseRestartGives503AndRecovers(t *testing.T) {
	c := newCluster(t, clusterOptions{replicas: 3, hosts: 4, viaProxy: true})
	starts := c.freeStarts(c.replicas[0])
	before, err := c.replicas[0].book(starts[0], "before@example.com")
	if err != nil || before.Status != http.StatusCreated {
		t.Fatalf("booking before the restart: %+v %v", before, err)
	}

	manage, _ := url.Parse(before.Booking.ManageURL)
	managePath := manage.Path

	// Load: bookings and slot listings on every replica, throughout.
	var (
		mu       sync.Mutex
		outcomes []outcome
		acked    []uint
		next     atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	next.Store(4) // past the call booked above
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				r := c.replicas[(w+k)%len(c.replicas)]
				t0 := time.Now()
				o := outcome{what: r.name + " booking", by: r, at: t0}
				if k%2 == 0 {
					i := int(next.Add(1))
					a, err := r.book(starts[i/4%len(starts)], fmt.Sprintf("restart-%d@example.com", i))
					o.status, o.code, o.err = a.Status, a.Error.Code, err
					if a.Status == http.StatusCreated {
						mu.Lock()
						acked = append(acked, a.Booking.ID)
						mu.Unlock()
					}
				} else {
					o.what = r.name + " slots"
					o.status, o.err = r.get("/api/v1/slots?from="+time.Now().UTC().Format(time.DateOnly)+"&to="+
						time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)+"&tz=UTC", nil)
				}
				o.took = time.Since(t0)
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond) // the load's pace, not a wait for anything
			}
		}()
	}
	// servedSince reports whether every replica has answered a request of
	// the load sent after since, with 200 or 201.
	servedSince := func(since time.Time) bool {
		mu.Lock()
		defer mu.Unlock()
		served := map[*replica]bool{}
		for _, o := range outcomes {
			if o.at.After(since) && o.err == nil && (o.status == http.StatusOK || o.status == http.StatusCreated) {
				served[o.by] = true
			}
		}
		return len(served) == len(c.replicas)
	}
	loadFrom := time.Now()
	if !waitFor(t, 30*time.Second, func() bool { return servedSince(loadFrom) }) {
		close(stop)
		wg.Wait()
		t.Fatal("the load got no answer from every replica in 30 s before the restart")
	}

	// The restart: the server stops accepting connections and ends every
	// session of these replicas, as a shutdown does.
	c.proxy.Down()
	names := make([]string, len(c.replicas))
	for i, r := range c.replicas {
		names[i] = r.name
	}
	if _, err := c.db.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ANY($1)", names); err != nil {
		t.Fatal(err)
	}
	c.proxy.Cut()
	downAt := time.Now()

	for _, r := range c.replicas {
		if !waitFor(t, 5*time.Second, func() bool { st, _ := r.get("/readyz", nil); return st == http.StatusServiceUnavailable }) {
			t.Errorf("%s: /readyz still not 503 five seconds into the outage", r.name)
		}
		a, err := r.book(starts[len(starts)-1], "during@example.com")
		if err != nil || a.Status != http.StatusServiceUnavailable || a.Error.Code != "unavailable" || a.RetryAfter == "" {
			t.Errorf("%s: booking during the outage: status %d code %q Retry-After %q err %v, want 503 unavailable with Retry-After",
				r.name, a.Status, a.Error.Code, a.RetryAfter, err)
		}
		if st, err := r.get(managePath, nil); err != nil || st != http.StatusServiceUnavailable {
			t.Errorf("%s: manage page during the outage: %d %v, want 503", r.name, st, err)
		}
	}
	// The outage itself: the database stays away at least four seconds, as
	// a restart does, whatever the checks above took.
	time.Sleep(time.Until(downAt.Add(4 * time.Second)))

	// Back: every replica recovers without a restart.
	c.proxy.Up()
	upAt := time.Now()
	for _, r := range c.replicas {
		if !waitFor(t, 20*time.Second, func() bool { st, _ := r.get("/readyz", nil); return st == http.StatusOK }) {
			t.Fatalf("%s: /readyz not 200 twenty seconds after the database came back", r.name)
		}
	}
	t.Logf("outage of %s; all replicas ready %s after the database came back", upAt.Sub(downAt).Round(time.Millisecond),
		time.Since(upAt).Round(time.Millisecond))
	readyAt := time.Now()
	if !waitFor(t, 30*time.Second, func() bool { return servedSince(readyAt) }) {
		t.Error("after recovery the load got no answer from every replica in 30 s")
	}
	close(stop)
	wg.Wait()
	for i, r := range c.replicas {
		a, err := r.book(starts[len(starts)-2-i/4], fmt.Sprintf("after-%d@example.com", i))
		if err != nil || a.Status != http.StatusCreated {
			t.Errorf("%s: booking after recovery: %d %s %v", r.name, a.Status, a.Error.Code, err)
		}
	}

	counts := map[string]int{}
	for _, o := range outcomes {
		switch {
		case o.err != nil:
			t.Errorf("%s failed after %s: %v", o.what, o.took.Round(time.Millisecond), o.err)
		case o.status != http.StatusOK && o.status != http.StatusCreated && o.status != http.StatusConflict &&
			o.status != http.StatusServiceUnavailable:
			t.Errorf("%s answered %d %q", o.what, o.status, o.code)
		case o.took > 5*time.Second:
			t.Errorf("%s took %s", o.what, o.took)
		}
		counts[fmt.Sprint(o.status)]++
	}
	t.Logf("requests under load by status: %v", counts)
	if counts["503"] == 0 {
		t.Errorf("no request under load met the outage")
	}
	for _, id := range acked {
		if c.count("SELECT count(*) FROM bookings WHERE id = $1 AND status = 'confirmed'", id) != 1 {
			t.Errorf("acknowledged booking %d is not in the database", id)
		}
	}
}
