package itest

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// race sends n booking requests for start at once, spread over the
// replicas, and returns the answers by status.
func (c *cluster) race(start time.Time, n int, tag string) map[int][]bookingAnswer {
	c.t.Helper()
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		gate = make(chan struct{})
		got  = map[int][]bookingAnswer{}
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.replicas[i%len(c.replicas)]
			<-gate
			a, err := r.book(start, fmt.Sprintf("%s-%d@example.com", tag, i))
			if err != nil {
				c.t.Errorf("request %d to %s: %v", i, r.name, err)
				return
			}
			mu.Lock()
			got[a.Status] = append(got[a.Status], a)
			mu.Unlock()
		}()
	}
	close(gate)
	wg.Wait()
	return got
}

// checkRace wants exactly winners 201s and the rest 409 slot_unavailable,
// and the database to hold exactly total confirmed calls at start, each
// with its own host.
func (c *cluster) checkRace(got map[int][]bookingAnswer, start time.Time, n, winners, total int) {
	c.t.Helper()
	if len(got[http.StatusCreated]) != winners || len(got[http.StatusConflict]) != n-winners || len(got) > 2 {
		c.t.Fatalf("%d requests for one slot with %d free hosts: %d booked, %d refused, answers by status: %v",
			n, winners, len(got[http.StatusCreated]), len(got[http.StatusConflict]), statusCounts(got))
	}
	for _, a := range got[http.StatusConflict] {
		if a.Error.Code != "slot_unavailable" {
			c.t.Fatalf("a losing request got code %q, want slot_unavailable", a.Error.Code)
		}
	}
	calls := c.count("SELECT count(*) FROM bookings WHERE start_at = $1 AND status = 'confirmed'", start)
	hosts := c.count("SELECT count(DISTINCT host_id) FROM bookings WHERE start_at = $1 AND status = 'confirmed'", start)
	if calls != total || hosts != total {
		c.t.Fatalf("database holds %d confirmed calls on %d hosts at %s, want %d on %d", calls, hosts, start, total, total)
	}
}

func statusCounts(got map[int][]bookingAnswer) map[int]int {
	out := map[int]int{}
	for st, as := range got {
		out[st] = len(as)
	}
	return out
}

// Fifty visitors race for one slot through three processes: the database,
// not any one process's memory, decides, so one host's slot is booked once
// and two hosts' slot twice.
func TestReplicas_RaceForOneSlotBooksEachFreeHostOnce(t *testing.T) {
	c := newCluster(t, clusterOptions{replicas: 3, hosts: 2})
	starts := c.freeStarts(c.replicas[0])
	if len(starts) < 10 {
		t.Fatalf("only %d free starts", len(starts))
	}

	t.Run("one free host", func(t *testing.T) {
		start := starts[5]
		// Take one of the two hosts first, through another replica.
		if a, err := c.replicas[1].book(start, "first@example.com"); err != nil || a.Status != http.StatusCreated {
			t.Fatalf("first booking: %+v %v", a, err)
		}
		got := c.race(start, 50, "one")
		c.checkRace(got, start, 50, 1, 2)
	})
	t.Run("two free hosts", func(t *testing.T) {
		start := starts[8]
		got := c.race(start, 50, "two")
		c.checkRace(got, start, 50, 2, 2)
	})
}
