package handlers

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/calendars"
	"github.com/callbook/callbook/mailer"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// busyFeed serves an ICS feed whose events a test sets.
type busyFeed struct {
	mu     sync.Mutex
	events []time.Time // 30-minute events
	srv    *httptest.Server
	served chan struct{} // receives after each answer, when nobody took the last
}

func mustBusyFeed(t *testing.T) *busyFeed {
	f := &busyFeed{served: make(chan struct{}, 1)}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var b strings.Builder
		b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\n")
		for i, s := range f.events {
			fmt.Fprintf(&b, "BEGIN:VEVENT\r\nUID:busy-%d\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:%s\r\nDTEND:%s\r\nEND:VEVENT\r\n",
				i, s.UTC().Format("20060102T150405Z"), s.Add(30*time.Minute).UTC().Format("20060102T150405Z"))
		}
		b.WriteString("END:VCALENDAR\r\n")
		w.Header().Set("Content-Type", "text/calendar")
		fmt.Fprint(w, b.String())
		select {
		case f.served <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *busyFeed) add(t time.Time) { f.mu.Lock(); f.events = append(f.events, t); f.mu.Unlock() }

// newCalendarServer is the router with the calendar reader and the mail
// renderer wired as serve wires them.
func newCalendarServer(t *testing.T, dialect string) (*testEnv, *calendars.Syncer) {
	t.Helper()
	var syncer *calendars.Syncer
	e := newTestServer(t, dialect, func(o *Options) {
		syncer = calendars.New(calendars.Options{Store: o.Store, AllowPrivate: true}) // test servers are on 127.0.0.1
		r, err := mailer.NewRenderer(mailer.RendererOptions{BaseURL: "http://callbook.test", From: "Callbook <team@callbook.test>",
			Token: o.Store.BookingToken, Now: o.Clock})
		if err != nil {
			t.Fatal(err)
		}
		o.Calendars, o.Mail = syncer, r
	})
	return e, syncer
}

func (e *testEnv) defaultHostID() uint {
	e.t.Helper()
	hosts, err := e.store.Hosts(context.Background())
	if err != nil || len(hosts) == 0 {
		e.t.Fatalf("hosts: %v", err)
	}
	return hosts[0].ID
}

type calendarsJSON struct {
	Calendars []calendarJSON `json:"calendars"`
}

func TestHostCalendarsAPI_SavesReadsAndNeverShowsCredentials(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e, _ := newCalendarServer(t, dialect)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		host := itoa(int(e.defaultHostID()))
		first := e.firstSlots(1, "UTC")[0]
		start, _ := time.Parse(time.RFC3339, first)
		feed := mustBusyFeed(t)
		feed.add(start)

		body := fmt.Sprintf(`{"calendars": [{"url": %q}, {"kind": "caldav", "url": "http://127.0.0.1:1/dav/ana/", "username": "ana-user", "password": "s3cret-pw"}]}`,
			feed.srv.URL+"/basic.ics")
		w := e.api(admin, http.MethodPut, "/api/v1/admin/hosts/"+host+"/calendars", body)
		if w.Code != http.StatusOK {
			t.Fatalf("PUT: %d %s", w.Code, w.Body.String())
		}
		for _, secret := range []string{"s3cret-pw", "ana-user"} {
			if strings.Contains(w.Body.String(), secret) {
				t.Fatalf("PUT answer shows a credential: %s", w.Body.String())
			}
		}
		got := decode[calendarsJSON](t, w).Calendars
		if len(got) != 2 || got[0].Kind != "ics" || got[1].Kind != "caldav" || !got[1].HasCredentials {
			t.Fatalf("calendars = %+v", got)
		}
		if got[0].LastSyncedAt == nil || got[0].LastError != nil || got[0].BusyCount != 1 {
			t.Fatalf("the feed was not read on save: %+v", got[0])
		}
		if got[1].LastError == nil || got[1].LastSyncedAt != nil {
			t.Fatalf("an unreachable CalDAV server shows no error: %+v", got[1])
		}
		if s := e.firstSlots(1, "UTC")[0]; s == first {
			t.Fatalf("the feed's busy time %s is still offered", first)
		}
		w = e.api(admin, http.MethodGet, "/api/v1/admin/hosts/"+host+"/calendars", "")
		if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "s3cret") || !strings.Contains(w.Body.String(), `"busy_count":1`) {
			t.Fatalf("GET: %d %s", w.Code, w.Body.String())
		}
		var enc []string
		e.store.DB().Model(&models.CalendarSource{}).Pluck("credentials_enc", &enc)
		for _, c := range enc {
			if strings.Contains(c, "s3cret") || strings.Contains(c, "ana-user") {
				t.Fatalf("credentials stored in the clear: %q", c)
			}
		}

		checks := []struct {
			who    *staffer
			method string
			path   string
			body   string
			status int
			field  string
		}{
			{nil, http.MethodGet, "/api/v1/admin/hosts/" + host + "/calendars", "", http.StatusUnauthorized, ""},
			{sales, http.MethodGet, "/api/v1/admin/hosts/" + host + "/calendars", "", http.StatusForbidden, ""},
			{sales, http.MethodPut, "/api/v1/admin/hosts/" + host + "/calendars", `{"calendars": []}`, http.StatusForbidden, ""},
			{admin, http.MethodGet, "/api/v1/admin/hosts/999/calendars", "", http.StatusNotFound, ""},
			{admin, http.MethodGet, "/api/v1/admin/hosts/" + itoa(int(sales.User.ID)) + "/calendars", "", http.StatusNotFound, ""},
			{admin, http.MethodPut, "/api/v1/admin/hosts/" + host + "/calendars", `{"calendars": [{"url": "file:///etc/passwd"}]}`, http.StatusUnprocessableEntity, "calendars[0].url"},
			{admin, http.MethodPut, "/api/v1/admin/hosts/" + host + "/calendars", `{"calendars": [{"url": "https://a.example/x.ics", "kind": "exchange"}]}`, http.StatusUnprocessableEntity, "calendars[0].kind"},
			{admin, http.MethodPut, "/api/v1/admin/hosts/" + host + "/calendars", `{}`, http.StatusUnprocessableEntity, "calendars"},
			{admin, http.MethodPut, "/api/v1/admin/hosts/" + host + "/calendars", `{"calendars": "x"}`, http.StatusBadRequest, ""},
		}
		for _, c := range checks {
			w := e.api(c.who, c.method, c.path, c.body)
			if w.Code != c.status {
				t.Errorf("%s %s %s: %d, want %d (%s)", c.method, c.path, c.body, w.Code, c.status, w.Body.String())
				continue
			}
			if c.field != "" {
				if ej := decode[errorJSON](t, w); ej.Error.Fields[c.field] == "" {
					t.Errorf("%s: no error on %s: %s", c.body, c.field, w.Body.String())
				}
			}
		}

		// Removing every calendar offers the slot again.
		if w := e.api(admin, http.MethodPut, "/api/v1/admin/hosts/"+host+"/calendars", `{"calendars": []}`); w.Code != http.StatusOK {
			t.Fatalf("PUT []: %d %s", w.Code, w.Body.String())
		}
		if s := e.firstSlots(1, "UTC")[0]; s != first {
			t.Fatalf("first slot %s after removing the calendar, want %s", s, first)
		}
	})
}

func TestAvailabilityPage_AddsRemovesAndShowsFailingCalendars(t *testing.T) {
	e, _ := newCalendarServer(t, store.DialectSQLite)
	admin := e.mustStaff("admin@example.com", models.RoleAdmin)
	host := itoa(int(e.defaultHostID()))
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "gone", http.StatusGone)
	}))
	defer broken.Close()

	w := e.page(admin, http.MethodPost, "/admin/hosts/"+host+"/calendars", url.Values{"kind": {"ics"}, "url": {"ftp://example.com/cal.ics"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `id="cal-url-error"`) ||
		!strings.Contains(w.Body.String(), "ftp://example.com/cal.ics") {
		t.Fatalf("bad address: %d, want the form again with the error beside the address", w.Code)
	}
	w = e.page(admin, http.MethodPost, "/admin/hosts/"+host+"/calendars", url.Values{"kind": {"ics"}, "url": {broken.URL + "/cal.ics"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("add: %d %s", w.Code, w.Body.String())
	}
	w = e.page(admin, http.MethodGet, location(w), nil)
	body := w.Body.String()
	if !strings.Contains(body, "Failing:") || !strings.Contains(body, "410 Gone") || !strings.Contains(body, broken.URL) {
		t.Fatalf("availability page does not show the failing calendar:\n%s", body)
	}
	if !strings.Contains(body, "http://callbook.test/calendars/") {
		t.Fatalf("availability page does not show the host's feed")
	}
	id := regexpFind(t, body, `name="remove" value="(\d+)"`)
	w = e.page(admin, http.MethodPost, "/admin/hosts/"+host+"/calendars", url.Values{"remove": {id}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("remove: %d", w.Code)
	}
	if list, _ := e.store.HostCalendars(context.Background(), e.defaultHostID()); len(list) != 0 {
		t.Fatalf("calendars after remove: %+v", list)
	}
}

func TestHostFeed_ListsCallsAndCanBeReplaced(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e, _ := newCalendarServer(t, dialect)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		leadID, _ := e.mustBookLead("ada@example.com", 0, nil)
		hostID := e.defaultHostID()
		// The first call is by video in the default room, the next in
		// person, the third by phone.
		meet := func(m models.Meeting) {
			t.Helper()
			cfg, err := e.store.Availability(context.Background(), hostID)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Meeting = &m
			if _, err := e.store.SetAvailability(context.Background(), cfg); err != nil {
				t.Fatal(err)
			}
		}
		meet(models.Meeting{Kind: models.MeetingInPerson, Address: "Room 4 at 1 Main St"})
		e.mustBookLead("bea@example.com", 1, nil)
		meet(models.Meeting{Kind: models.MeetingPhone})
		e.mustBookLead("cai@example.com", 1, func(b map[string]any) { b["phone"] = "+1 555 0199" })
		var videoUID string
		e.store.DB().Model(&models.Booking{}).Where("lead_id = ?", leadID).Pluck("uid", &videoUID)
		token, err := e.store.HostFeedToken(context.Background(), hostID)
		if err != nil {
			t.Fatal(err)
		}
		if len(token) < 22 { // 128 bits in base64
			t.Fatalf("feed token %q is too short", token)
		}
		w := e.do(http.MethodGet, "/calendars/"+token+".ics", nil)
		body := w.Body.String()
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/calendar") {
			t.Fatalf("feed: %d %s", w.Code, w.Header().Get("Content-Type"))
		}
		unfolded := strings.ReplaceAll(body, "\r\n ", "")
		for _, want := range []string{"BEGIN:VEVENT", "Ada Lovelace", "Backend Engineer",
			"http://callbook.test/admin/leads/" + itoa(int(leadID)), "@callbook.test", "STATUS:CONFIRMED",
			"LOCATION:https://meet.callbook.test/call-" + videoUID, "LOCATION:Room 4 at 1 Main St",
			"LOCATION:Phone call to +1 555 0199"} {
			if !strings.Contains(unfolded, want) {
				t.Errorf("feed lacks %q:\n%s", want, body)
			}
		}
		for _, bad := range []string{"/calendars/" + token, "/calendars/" + token + "x.ics", "/calendars/nope.ics"} {
			if w := e.do(http.MethodGet, bad, nil); w.Code != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", bad, w.Code)
			}
		}

		// A sales user who takes calls sees their own feed and may replace
		// it, but not another host's.
		coach := e.mustStaff("coach@example.com", models.RoleSales)
		e.store.DB().Model(&models.User{}).Where("id = ?", coach.User.ID).Update("host", true)
		w = e.page(coach, http.MethodGet, "/admin/calls", nil)
		if !strings.Contains(w.Body.String(), "http://callbook.test/calendars/") {
			t.Fatalf("calls page of a host lacks its feed")
		}
		if w := e.page(coach, http.MethodPost, "/admin/hosts/"+itoa(int(hostID))+"/feed", nil); w.Code != http.StatusForbidden {
			t.Fatalf("a sales host replaced another host's feed: %d", w.Code)
		}
		if w := e.page(coach, http.MethodPost, "/admin/hosts/"+itoa(int(coach.User.ID))+"/feed", nil); w.Code != http.StatusSeeOther {
			t.Fatalf("a host could not replace its own feed: %d", w.Code)
		}

		if w := e.page(admin, http.MethodPost, "/admin/hosts/"+itoa(int(hostID))+"/feed", url.Values{"back": {"availability"}}); w.Code != http.StatusSeeOther {
			t.Fatalf("replace: %d", w.Code)
		}
		if w := e.do(http.MethodGet, "/calendars/"+token+".ics", nil); w.Code != http.StatusNotFound {
			t.Fatalf("the replaced feed address still answers: %d", w.Code)
		}
		fresh, _ := e.store.HostFeedToken(context.Background(), hostID)
		if w := e.do(http.MethodGet, "/calendars/"+fresh+".ics", nil); w.Code != http.StatusOK || fresh == token {
			t.Fatalf("new feed address: %d", w.Code)
		}
	})
}

// TestBookingRace_CalendarReadMakingTheSlotBusy races a booking against a
// calendar read that makes the same slot busy: the booking either wins
// (and the read does not undo it) or gets 409, never a 5xx.
func TestBookingRace_CalendarReadMakingTheSlotBusy(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e, syncer := newCalendarServer(t, dialect)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		hostID := e.defaultHostID()
		feed := mustBusyFeed(t)
		body := fmt.Sprintf(`{"calendars": [{"url": %q}]}`, feed.srv.URL)
		if w := e.api(admin, http.MethodPut, "/api/v1/admin/hosts/"+itoa(int(hostID))+"/calendars", body); w.Code != http.StatusOK {
			t.Fatalf("PUT: %d %s", w.Code, w.Body.String())
		}
		slots := e.firstSlots(12, "UTC")
		won, lost := 0, 0
		for i, s := range slots {
			start, _ := time.Parse(time.RFC3339, s)
			feed.add(start)
			select { // forget the answer of the read before
			case <-feed.served:
			default:
			}
			var w *httptest.ResponseRecorder
			var syncErr error
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				if i%2 == 1 {
					// Every other time, book only once the read has its
					// answer, so the two meet at the commit.
					<-feed.served
				}
				w = e.postJSON("/api/v1/bookings", bookingBody(fmt.Sprintf("race%d@example.com", i), s))
			}()
			go func() { defer wg.Done(); syncErr = syncer.SyncHost(context.Background(), hostID) }()
			wg.Wait()
			if syncErr != nil {
				t.Fatalf("sync: %v", syncErr)
			}
			switch w.Code {
			case http.StatusCreated:
				won++
				var st string
				e.store.DB().Model(&models.Booking{}).Where("start_at = ?", start.UTC()).Pluck("status", &st)
				if st != models.BookingConfirmed {
					t.Fatalf("slot %s: booking won but is %q after the read", s, st)
				}
			case http.StatusConflict:
				lost++
				if ej := decode[errorJSON](t, w); ej.Error.Code != "slot_unavailable" {
					t.Fatalf("409 code %q", ej.Error.Code)
				}
			default:
				t.Fatalf("slot %s: booking answered %d %s", s, w.Code, w.Body.String())
			}
			if got := e.firstSlots(1, "UTC"); got[0] == s {
				t.Fatalf("slot %s still offered after the race", s)
			}
		}
		t.Logf("%s: booking won %d times, got 409 %d times", dialect, won, lost)
		// A late booking into a slot the calendar made busy is always 409.
		w := e.postJSON("/api/v1/bookings", bookingBody("late@example.com", slots[len(slots)-1]))
		if w.Code != http.StatusConflict {
			t.Fatalf("booking a busy slot: %d %s", w.Code, w.Body.String())
		}
	})
}

func TestHostCalendarsAPI_PrivateAddressesNeedTheSetting(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite, func(o *Options) {
		o.Calendars = calendars.New(calendars.Options{Store: o.Store}) // as deployed: public addresses only
	})
	admin := e.mustStaff("admin@example.com", models.RoleAdmin)
	host := itoa(int(e.defaultHostID()))
	for _, u := range []string{
		"http://169.254.169.254/latest/meta-data/", "https://10.0.0.1/cal.ics", "http://127.0.0.1:8080/cal.ics",
		"webcal://localhost/cal.ics", "https://[::1]/cal.ics", "https://192.168.1.20/dav/calendars/ana/work/",
		// IPv6 spellings of the same: IPv4-compatible, IPv4-mapped, 6to4.
		"https://[::127.0.0.1]/cal.ics", "https://[::ffff:10.0.0.1]/cal.ics", "https://[2002:7f00:1::]/cal.ics",
		"https://[2002:a9fe:a9fe::]/latest/meta-data/",
	} {
		for _, kind := range []string{"ics", "caldav"} {
			body := fmt.Sprintf(`{"calendars": [{"kind": %q, "url": %q}]}`, kind, u)
			w := e.api(admin, http.MethodPut, "/api/v1/admin/hosts/"+host+"/calendars", body)
			if w.Code != http.StatusUnprocessableEntity {
				t.Errorf("%s %s: %d, want 422 (%s)", kind, u, w.Code, w.Body.String())
				continue
			}
			if msg := decode[errorJSON](t, w).Error.Fields["calendars[0].url"]; !strings.Contains(msg, "public address") ||
				!strings.Contains(msg, "CALLBOOK_CALENDAR_ALLOW_PRIVATE") {
				t.Errorf("%s %s: calendars[0].url = %q, want the address rule and the setting named", kind, u, msg)
			}
		}
	}
	if got, _ := e.store.HostCalendars(context.Background(), e.defaultHostID()); len(got) != 0 {
		t.Fatalf("%d calendars stored from refused requests", len(got))
	}
}

// Finding calendars connects to an address the admin gives, with their
// credentials: it is held to the same public-address rule as a saved
// source, and refused with 422 on url naming the setting that allows it.
func TestDiscoverCalendarsAPI_PrivateAddressesNeedTheSetting(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite, func(o *Options) {
		o.Calendars = calendars.New(calendars.Options{Store: o.Store}) // as deployed: public addresses only
	})
	admin := e.mustStaff("admin@example.com", models.RoleAdmin)
	path := "/api/v1/admin/hosts/" + itoa(int(e.defaultHostID())) + "/calendars/discover"
	for _, u := range []string{"https://10.0.0.1/", "http://169.254.169.254/", "https://[::127.0.0.1]/dav/"} {
		w := e.api(admin, http.MethodPost, path, fmt.Sprintf(`{"url": %q, "username": "ana", "password": "secret"}`, u))
		if w.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422 (%s)", u, w.Code, w.Body.String())
			continue
		}
		if msg := decode[errorJSON](t, w).Error.Fields["url"]; !strings.Contains(msg, "public address") ||
			!strings.Contains(msg, "CALLBOOK_CALENDAR_ALLOW_PRIVATE") {
			t.Errorf("%s: url = %q, want the address rule and the setting named", u, msg)
		}
	}
}

// switchResolver answers every name with addr, or fails when addr is
// not valid: a DNS that works, then stops.
type switchResolver struct {
	mu   sync.Mutex
	addr netip.Addr
}

func (r *switchResolver) set(a netip.Addr) { r.mu.Lock(); r.addr = a; r.mu.Unlock() }

func (r *switchResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.addr.IsValid() {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []netip.Addr{r.addr}, nil
}

// The form and the API send a host's whole list of sources. Only the new
// ones are looked up before saving: a saved source whose name stopped
// resolving (it is checked again at every read) does not block adding or
// removing another.
func TestHostCalendarsAPI_SavedSourcesAreNotLookedUpAgain(t *testing.T) {
	dns := &switchResolver{addr: netip.MustParseAddr("93.184.216.34")}
	e := newTestServer(t, store.DialectSQLite, func(o *Options) {
		o.Calendars = calendars.New(calendars.Options{Store: o.Store, Resolver: dns})
	})
	admin := e.mustStaff("admin@example.com", models.RoleAdmin)
	path := "/api/v1/admin/hosts/" + itoa(int(e.defaultHostID())) + "/calendars"
	first := `{"url": "https://old.calendar.test/a.ics"}`
	if w := e.api(admin, http.MethodPut, path, `{"calendars": [`+first+`]}`); w.Code != http.StatusOK {
		t.Fatalf("first source: %d %s", w.Code, w.Body.String())
	}
	dns.set(netip.Addr{}) // the old name no longer resolves
	w := e.api(admin, http.MethodPut, path, `{"calendars": [`+first+`, {"url": "https://new.calendar.test/b.ics"}]}`)
	if w.Code != http.StatusUnprocessableEntity || decode[errorJSON](t, w).Error.Fields["calendars[1].url"] == "" ||
		decode[errorJSON](t, w).Error.Fields["calendars[0].url"] != "" {
		t.Fatalf("a new source that does not resolve: %d %s, want 422 on calendars[1].url only", w.Code, w.Body.String())
	}
	dns.set(netip.MustParseAddr("93.184.216.35"))
	if w := e.api(admin, http.MethodPut, path, `{"calendars": [`+first+`, {"url": "https://new.calendar.test/b.ics"}]}`); w.Code != http.StatusOK {
		t.Fatalf("adding a second source: %d %s", w.Code, w.Body.String())
	}
	dns.set(netip.Addr{})
	if w := e.api(admin, http.MethodPut, path, `{"calendars": [`+first+`]}`); w.Code != http.StatusOK {
		t.Fatalf("removing the second while the first's name fails to resolve: %d %s, want 200", w.Code, w.Body.String())
	}
}
