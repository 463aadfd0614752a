package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// firstDaySlots returns the offered starts on the business date of the
// first offered start.
func firstDaySlots(t *testing.T, s *store.Store) []time.Time {
	t.Helper()
	slots, _, err := s.Slots(context.Background(), s.Now(), s.Now().Add(7*24*time.Hour))
	if err != nil || len(slots) == 0 {
		t.Fatalf("no slots: %v", err)
	}
	day := slots[0].Start.In(s.Location()).Format(time.DateOnly)
	var out []time.Time
	for _, sl := range slots {
		if sl.Start.In(s.Location()).Format(time.DateOnly) == day {
			out = append(out, sl.Start)
		}
	}
	return out
}

// bookAll books starts[i] for visitor i, all at once, and returns the
// bookings made and the refusals (ErrSlotTaken); any other error fails.
func bookAll(t *testing.T, s *store.Store, starts []time.Time) (wins []*models.BookingResult, taken int) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i, start := range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			res, err := s.BookSlot(context.Background(), request(fmt.Sprintf("visitor%d@example.com", i), start), nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins = append(wins, res)
			case errors.Is(err, models.ErrSlotTaken):
				taken++
			default:
				t.Errorf("booking %d: %v", i, err)
			}
		}()
	}
	close(gate)
	wg.Wait()
	return wins, taken
}

// openConnections opens n connections in the store's pool and leaves them
// idle, so that racing bookings start at once instead of each waiting for
// a new connection.
func openConnections(t *testing.T, s *store.Store, n int) {
	t.Helper()
	var opened sync.WaitGroup
	opened.Add(n)
	hold := make(chan struct{})
	errs := make(chan error, n)
	for range n {
		go func() {
			errs <- s.DB().Transaction(func(tx *gorm.DB) error {
				err := tx.Exec("SELECT 1").Error
				opened.Done()
				<-hold
				return err
			})
		}()
	}
	opened.Wait()
	close(hold)
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestBookSlot_FiftyRacersForAHostCappedAtThreeADayGetThree(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		id := hostID(t, s, storetest.TeamEmail)
		cfg, err := s.Availability(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		cfg.MaxPerDay = 3
		if _, err := s.SetAvailability(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		day := firstDaySlots(t, s)
		if len(day) < 4 {
			t.Fatalf("only %d slots on the first day", len(day))
		}
		// 50 visitors over every start of one day: the cap, not the
		// claims, must refuse all but three.
		if dialect == store.DialectPostgres {
			openConnections(t, s, 20)
		}
		starts := make([]time.Time, 50)
		for i := range starts {
			starts[i] = day[i%len(day)]
		}
		wins, taken := bookAll(t, s, starts)
		if len(wins) != 3 || taken != 47 {
			t.Fatalf("got %d bookings and %d refusals, want 3 and 47", len(wins), taken)
		}
		var n int64
		s.DB().Model(&models.Booking{}).Where("host_id = ? AND status = ?", id, models.BookingConfirmed).Count(&n)
		if n != 3 {
			t.Fatalf("%d confirmed calls in the database, want 3", n)
		}
	})
}

func TestBookSlot_RaceForDifferentTimesOfOneHostBooksEveryOne(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		day := firstDaySlots(t, s)
		wins, taken := bookAll(t, s, day)
		if len(wins) != len(day) || taken != 0 {
			t.Fatalf("got %d bookings and %d refusals for %d distinct times, want every one booked", len(wins), taken, len(day))
		}
		var overlaps int64
		s.DB().Raw(`SELECT COUNT(*) FROM bookings a JOIN bookings b ON a.host_id = b.host_id AND a.id < b.id
			AND a.start_at < b.end_at AND b.start_at < a.end_at WHERE a.status = ? AND b.status = ?`,
			models.BookingConfirmed, models.BookingConfirmed).Scan(&overlaps)
		if overlaps != 0 {
			t.Fatalf("%d pairs of calls overlap", overlaps)
		}
	})
}

// pausedBooking starts a booking of start for email whose transaction
// stops just before it commits, after it has taken every lock it takes,
// until release is called (at the latest when the test ends). paused is
// closed once it has stopped there; the result arrives on done.
func pausedBooking(t *testing.T, s *store.Store, email string, start time.Time) (paused chan struct{}, release func(), done chan error) {
	paused, done = make(chan struct{}), make(chan error, 1)
	gate := make(chan struct{})
	release = sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release)
	idem := &models.Idempotency{Key: "pause-" + email, BodyHash: "h", Render: func(*models.Booking, *models.Lead, *models.User) (int, string, error) {
		close(paused)
		<-gate
		return 201, "{}", nil
	}}
	go func() {
		_, err := s.BookSlot(context.Background(), request(email, start), idem)
		done <- err
	}()
	return paused, release, done
}

// waitFor waits for ch with a deadline far beyond what the wait needs.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("still waiting after 30 s: %s", what)
		panic("unreachable")
	}
}

// openPostgres opens a PostgreSQL store whose connections carry name, so
// the test can see them in pg_stat_activity.
func openPostgres(t *testing.T, name string) *store.Store {
	t.Helper()
	clock := storetest.NewClock(monday)
	return storetest.MustOpenURL(t, storetest.URL(t, store.DialectPostgres)+"&application_name="+name, storetest.Options(clock))
}

// A booking in flight must not hold up a booking for another time of the
// same host: on PostgreSQL they run side by side.
func TestBookSlot_PostgresBookingDoesNotWaitForAnotherTimeOfItsHost(t *testing.T) {
	s := openPostgres(t, "cb_side_by_side")
	day := firstDaySlots(t, s)
	paused, release, first := pausedBooking(t, s, "first@example.com", day[0])
	waitFor(t, paused, "the first booking to reach its commit")
	second := make(chan error, 1)
	go func() {
		_, err := s.BookSlot(context.Background(), request("second@example.com", day[1]), nil)
		second <- err
	}()
	err := waitFor(t, second, "the second booking, while the first holds its locks")
	release()
	if err != nil {
		t.Fatalf("second booking: %v", err)
	}
	if err := waitFor(t, first, "the first booking"); err != nil {
		t.Fatalf("first booking: %v", err)
	}
}

// lockWaitIn is closed once a connection of the store's application name
// app waits for a lock held by another transaction. It polls PostgreSQL's
// own view of the sessions every few milliseconds (no clock to inject: the
// wait is the server's) until it sees one or the test ends. A failing poll
// never counts as a wait: the channel then stays open and the caller's
// deadline fails the test.
func lockWaitIn(t *testing.T, s *store.Store, app string) <-chan struct{} {
	blocked := make(chan struct{})
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var n int64
			if err := s.ReadDB().WithContext(t.Context()).Raw("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ? AND wait_event_type = 'Lock'", app).
				Scan(&n).Error; err != nil {
				return
			}
			if n > 0 {
				close(blocked)
				return
			}
			select {
			case <-tick.C:
			case <-t.Context().Done():
				return
			}
		}
	}()
	return blocked
}

// A booking that could be a capped host's last call of the day waits for
// one in flight that could be too, and then sees it: the third call of a
// day capped at three, uncommitted, must make a fourth fail.
func TestBookSlot_PostgresCapCountsTheCallInFlight(t *testing.T) {
	const app = "cb_cap_in_flight"
	s := openPostgres(t, app)
	ctx := context.Background()
	cfg, err := s.Availability(ctx, hostID(t, s, storetest.TeamEmail))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxPerDay = 3
	if _, err := s.SetAvailability(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	day := firstDaySlots(t, s)
	for i := range 2 {
		if _, err := s.BookSlot(ctx, request(fmt.Sprintf("early%d@example.com", i), day[i]), nil); err != nil {
			t.Fatal(err)
		}
	}
	paused, release, third := pausedBooking(t, s, "third@example.com", day[2])
	waitFor(t, paused, "the third booking to reach its commit")
	fourth := make(chan error, 1)
	go func() {
		_, err := s.BookSlot(ctx, request("fourth@example.com", day[3]), nil)
		fourth <- err
	}()
	select {
	case <-lockWaitIn(t, s, app):
	case err := <-fourth:
		release()
		t.Fatalf("the fourth call of a day capped at three ended (%v) while the third was in flight: it did not wait to count it", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the fourth booking neither waited nor ended in 30 s")
	}
	release()
	if err := waitFor(t, third, "the third booking"); err != nil {
		t.Fatalf("third booking: %v", err)
	}
	if err := waitFor(t, fourth, "the fourth booking"); !errors.Is(err, models.ErrSlotTaken) {
		t.Fatalf("fourth booking: %v, want ErrSlotTaken (the day is full)", err)
	}
}

// Two bookings for one time pick the same free host; the first claims its
// time and holds it uncommitted while the second tries to claim it too. The
// second must lose that race and take the other free host.
func TestBookSlot_PostgresLostClaimRaceTakesTheOtherFreeHost(t *testing.T) {
	const app = "cb_lost_claim"
	s := openPostgres(t, app)
	addHost(t, s, "Grace")
	start := firstSlot(t, s)
	paused, release, first := pausedBooking(t, s, "first@example.com", start)
	waitFor(t, paused, "the first booking to hold its claims")
	second := make(chan error, 1)
	var res *models.BookingResult
	go func() {
		var err error
		res, err = s.BookSlot(context.Background(), request("second@example.com", start), nil)
		second <- err
	}()
	// The second booking waits on the first one's claims once it has
	// picked the same host.
	blocked := lockWaitIn(t, s, app)
	waitFor(t, blocked, "the second booking to wait for the first one's claims")
	release()
	if err := waitFor(t, first, "the first booking"); err != nil {
		t.Fatalf("first booking: %v", err)
	}
	if err := waitFor(t, second, "the second booking"); err != nil {
		t.Fatalf("second booking: %v", err)
	}
	var firstHost uint
	s.DB().Model(&models.Booking{}).Where("start_at = ? AND id <> ?", start.UTC(), res.Booking.ID).Pluck("host_id", &firstHost)
	if res.Booking.HostID == firstHost {
		t.Fatalf("both calls went to host %d", firstHost)
	}
	if n := s.LostClaimRacesForTest(); n != 1 {
		t.Fatalf("%d lost claim races counted, want 1: the race was not the one this test sets up", n)
	}
	// The lost attempt left nothing behind: two calls, each holding its
	// own host's time.
	var calls, claims, leads int64
	s.DB().Model(&models.Booking{}).Count(&calls)
	s.DB().Model(&models.BookingClaim{}).Where("booking_id NOT IN (SELECT id FROM bookings)").Count(&claims)
	s.DB().Model(&models.Lead{}).Count(&leads)
	if calls != 2 || claims != 0 || leads != 2 {
		t.Fatalf("%d calls, %d claims of no call and %d leads after the race, want 2, 0 and 2", calls, claims, leads)
	}
}

// Bookings no longer lock the host's row, but a calendar read storing the
// host's busy times must still wait for a booking of that host in flight:
// the booking commits first and stays, and the next one sees the busy
// times.
func TestSaveCalendarRead_PostgresWaitsForABookingOfTheHostInFlight(t *testing.T) {
	const app = "cb_calendar_waits"
	s := openPostgres(t, app)
	ctx := context.Background()
	srcs, err := s.SetHostCalendars(ctx, hostID(t, s, storetest.TeamEmail), []models.CalendarSourceInput{{URL: "https://cal.example/busy.ics"}})
	if err != nil || len(srcs) != 1 {
		t.Fatalf("calendar source: %v %v", srcs, err)
	}
	day := firstDaySlots(t, s)
	paused, release, booking := pausedBooking(t, s, "first@example.com", day[0])
	waitFor(t, paused, "the booking to reach its commit")
	read := make(chan error, 1)
	go func() {
		read <- s.SaveCalendarRead(ctx, srcs[0].ID, []models.Interval{{Start: day[1], End: day[1].Add(30 * time.Minute)}})
	}()
	select {
	case <-lockWaitIn(t, s, app):
	case err := <-read:
		release()
		t.Fatalf("the calendar read was stored (%v) while a booking of its host was in flight", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the calendar read neither waited nor ended in 30 s")
	}
	release()
	if err := waitFor(t, booking, "the booking"); err != nil {
		t.Fatalf("booking: %v", err)
	}
	if err := waitFor(t, read, "the calendar read"); err != nil {
		t.Fatalf("calendar read: %v", err)
	}
	if _, err := s.BookSlot(ctx, request("second@example.com", day[1]), nil); !errors.Is(err, models.ErrSlotTaken) {
		t.Fatalf("booking a time the calendar made busy: %v, want ErrSlotTaken", err)
	}
}

// A new visitor's lead is written once, with its first call's host as its
// owner, by the statement that writes the booking: not written and then
// updated, which would add an entry to every index of the table (lead
// search's among them) a second time. In a new table the first row written
// is the first tuple of the first page; an update would leave it dead and
// write (0,2).
func TestBookSlot_PostgresNewLeadIsWrittenOnceWithItsOwner(t *testing.T) {
	s := openPostgres(t, "cb_lead_once")
	grace := models.User{Email: "grace@callbook.test", Name: "Grace", Role: models.RoleSales, Host: true, PasswordHash: "signs-in",
		WeeklyJSON: `{"mon":[["09:00","17:00"]],"tue":[["09:00","17:00"]],"wed":[["09:00","17:00"]],"thu":[["09:00","17:00"]],"fri":[["09:00","17:00"]]}`}
	if err := s.DB().Create(&grace).Error; err != nil {
		t.Fatal(err)
	}
	req := request("new@example.com", firstSlot(t, s))
	req.Hosts = []string{grace.Email}
	res, err := s.BookSlot(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Booking.HostID != grace.ID || res.Lead.OwnerID == nil || *res.Lead.OwnerID != grace.ID {
		t.Fatalf("host %d, owner %v: want Grace (%d) for both", res.Booking.HostID, res.Lead.OwnerID, grace.ID)
	}
	var row struct {
		Ctid    string
		OwnerID *uint
	}
	s.DB().Raw("SELECT CAST(ctid AS text) AS ctid, owner_id FROM leads WHERE id = ?", res.Lead.ID).Scan(&row)
	if row.OwnerID == nil || *row.OwnerID != grace.ID {
		t.Fatalf("stored owner %v, want %d", row.OwnerID, grace.ID)
	}
	if row.Ctid != "(0,1)" {
		t.Fatalf("the lead's row is %s: it was written more than once", row.Ctid)
	}
	var events int64
	s.DB().Model(&models.Event{}).Where("lead_id = ? AND type = ?", res.Lead.ID, "lead.owner_changed").Count(&events)
	if events != 1 {
		t.Fatalf("%d lead.owner_changed events, want 1", events)
	}
}

// Two first bookings of one visitor at once: the second finds no lead,
// and its insert of one waits for the first booking's. When the first
// commits, the second books again as a returning visitor: one lead, two
// calls, no error.
func TestBookSlot_PostgresTwoFirstBookingsOfOneVisitorMakeOneLead(t *testing.T) {
	const app = "cb_one_lead"
	s := openPostgres(t, app)
	day := firstDaySlots(t, s)
	paused, release, first := pausedBooking(t, s, "twice@example.com", day[0])
	waitFor(t, paused, "the first booking to hold its new lead")
	second := make(chan error, 1)
	var res *models.BookingResult
	go func() {
		var err error
		res, err = s.BookSlot(context.Background(), request("twice@example.com", day[1]), nil)
		second <- err
	}()
	waitFor(t, lockWaitIn(t, s, app), "the second booking to wait for the first one's lead")
	release()
	if err := waitFor(t, first, "the first booking"); err != nil {
		t.Fatalf("first booking: %v", err)
	}
	if err := waitFor(t, second, "the second booking"); err != nil {
		t.Fatalf("second booking: %v", err)
	}
	if res.NewLead {
		t.Fatal("the second booking made a new lead")
	}
	var leads, calls int64
	s.DB().Model(&models.Lead{}).Count(&leads)
	s.DB().Model(&models.Booking{}).Where("lead_id = ?", res.Lead.ID).Count(&calls)
	if leads != 1 || calls != 2 {
		t.Fatalf("%d leads and %d calls of the lead, want 1 and 2", leads, calls)
	}
}
