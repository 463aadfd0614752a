package itest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// reminderPlan gives slot j (j = 0, 1, …) of the next few 5-minute starts
// its own reminder offset, chosen so that this slot's reminder falls due at
// dueFrom + j seconds, while every other offset of that slot is already
// past when it is booked (so skipped) or far in the future. Each booking
// then has one reminder that falls due during the test.
type reminderPlan struct {
	starts []time.Time
	labels []string
	due    []time.Time
}

func planReminders(slots int, dueFrom time.Time) reminderPlan {
	first := dueFrom.Add(2 * time.Minute).Truncate(5 * time.Minute).Add(5 * time.Minute)
	var p reminderPlan
	for j := range slots {
		start := first.Add(time.Duration(j) * 5 * time.Minute)
		due := dueFrom.Add(time.Duration(j) * time.Second).Truncate(time.Second)
		p.starts = append(p.starts, start)
		p.labels = append(p.labels, start.Sub(due).String())
		p.due = append(p.due, due)
	}
	return p
}

// Three hundred bookings spread over three processes: each gets exactly one
// confirmation and one host notice, and each reminder that falls due is
// sent exactly once, though all three processes send mail and sweep
// reminders every second.
func TestReplicas_LoadSendsEachEmailExactlyOnce(t *testing.T) {
	const hosts, slots = 30, 10 // 300 bookings: every host at each of 10 starts
	// Time from starting the replicas to the first reminder: enough for
	// 300 bookings on two busy cores. A reminder that falls due before its
	// call is booked is skipped, as the rules say; the test checks that
	// too, and wants most of them sent.
	const bookWithin = 45 * time.Second
	var plan reminderPlan
	c := newCluster(t, clusterOptions{replicas: 3, hosts: hosts, reminders: func() string {
		plan = planReminders(slots, time.Now().Add(bookWithin))
		return strings.Join(plan.labels, ",")
	}})

	type job struct{ slot, n int }
	jobs := make(chan job)
	go func() {
		defer close(jobs)
		for j := range slots { // the slot whose reminder falls due first, first
			for n := range hosts {
				jobs <- job{j, n}
			}
		}
	}()
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		slotOf = map[string]int{} // booking id → plan slot
		bad    []string
	)
	began := time.Now()
	for w := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for jb := range jobs {
				r := c.replicas[(w+jb.n)%len(c.replicas)]
				a, err := r.book(plan.starts[jb.slot], fmt.Sprintf("load-%d-%d@example.com", jb.slot, jb.n))
				mu.Lock()
				if err != nil || a.Status != http.StatusCreated {
					bad = append(bad, fmt.Sprintf("%s: %d %s %v", r.name, a.Status, a.Error.Code, err))
				} else {
					slotOf[strconv.FormatUint(uint64(a.Booking.ID), 10)] = jb.slot
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("%d bookings took %s, done %s before the first reminder fell due", len(slotOf),
		time.Since(began).Round(time.Millisecond), time.Until(plan.due[0]).Round(time.Millisecond))
	if len(bad) > 0 {
		t.Fatalf("%d of %d bookings failed, first: %s", len(bad), hosts*slots, bad[0])
	}

	// Wait until every reminder the plan makes fall due has been swept
	// (none is pending with a due time up to the last one's) and every
	// email sent; then until each replica has finished what it was
	// sweeping or sending, for any duplicate to show.
	lastDue := plan.due[slots-1]
	const unswept = "SELECT count(*) FROM reminders WHERE status = 'pending' AND due_at <= $1"
	settled := waitFor(t, time.Until(lastDue)+60*time.Second, func() bool {
		return c.count(unswept, lastDue) == 0 && c.count("SELECT count(*) FROM outbox WHERE status <> 'sent'") == 0
	})
	if !settled {
		t.Fatalf("a minute after the last reminder fell due: %d due reminders unswept, %d emails unsent",
			c.count(unswept, lastDue), c.count("SELECT count(*) FROM outbox WHERE status <> 'sent'"))
	}
	c.waitMailSettled(c.replicas)

	// What the database says was sent: reminders by booking.
	sentReminder := map[string]string{} // booking id → offset label
	rows, err := c.db.Query("SELECT booking_id, offset_label FROM reminders WHERE status = 'sent'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, label string
		if err := rows.Scan(&id, &label); err != nil {
			t.Fatal(err)
		}
		if _, dup := sentReminder[id]; dup {
			t.Fatalf("booking %s has two reminders marked sent; only one of its offsets can fall due in the test", id)
		}
		sentReminder[id] = label
	}
	rows.Close()

	seen := map[string]int{}
	for _, m := range c.mail.Messages() {
		slot, ok := slotOf[m.Booking]
		if !ok {
			t.Fatalf("email %s for booking %q that no visitor booked", m.Kind, m.Booking)
		}
		if kind, isReminder := strings.CutPrefix(m.Kind, "reminder-"); isReminder && kind != plan.labels[slot] {
			t.Fatalf("booking %s at slot %d got %s, whose time had passed when it was booked", m.Booking, slot, m.Kind)
		}
		seen[m.Booking+" "+m.Kind]++
	}
	for id, slot := range slotOf {
		kinds := []string{"confirmation", "host-notice"}
		if label, ok := sentReminder[id]; ok {
			if label != plan.labels[slot] {
				t.Errorf("booking %s at slot %d: reminder %s marked sent, want %s", id, slot, label, plan.labels[slot])
			}
			kinds = append(kinds, "reminder-"+label)
		}
		for _, kind := range kinds {
			if n := seen[id+" "+kind]; n != 1 {
				t.Errorf("booking %s: %d %s emails, want exactly 1", id, n, kind)
			}
		}
	}
	want := 2*len(slotOf) + len(sentReminder)
	if got := len(c.mail.Messages()); got != want {
		t.Errorf("%d emails at the SMTP server, want %d", got, want)
	}
	if len(sentReminder) < len(slotOf)/2 {
		t.Errorf("only %d of %d reminders fell due after their call was booked: too few to show anything", len(sentReminder), len(slotOf))
	}
	byReplica := map[int]int{}
	for _, m := range c.mail.Messages() {
		byReplica[m.Via]++
	}
	t.Logf("%d reminders sent; emails delivered by each replica: %v", len(sentReminder), byReplica)
}
