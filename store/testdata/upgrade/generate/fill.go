package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// password is every fixture staff user's password.
const password = "fixture passphrase 2026"

// staff are the fixture's staff users: an admin who takes no calls, two
// hosts (the second is the one the Backend Engineer page's routes name) and
// a sales user who owns a lead.
var staff = []struct{ email, name, role string }{
	{"admin@callbook.example", "Ada Admin", "admin"},
	{"coach@callbook.example", "Cora Coach", "sales --host"},
	{"senior-coach@callbook.example", "Sid Senior", "admin --host"},
	{"sales@callbook.example", "Sam Sales", "sales"},
}

// filler drives one version's binary to fill a fresh database.
type filler struct {
	in           *instance
	admin, sales string          // API tokens
	users        map[string]uint // by email
	hosts        []uint
	slots        []string
	used         map[string]bool
	leads        map[string]booked
	questions    bool // the Backend Engineer page asks questions
	webhooks     bool
	calendars    bool
}

// credentials are what the upgrade tests sign in with: the fixture's own API
// tokens and a visitor's booking token, which must still work after the
// upgrade.
type credentials struct {
	AdminToken   string `json:"admin_token"`
	SalesToken   string `json:"sales_token"`
	BookingToken string `json:"booking_token"`
}

// fill writes data into every table the version has, through its CLI,
// API and pages, and returns the credentials it made.
func fill(in *instance) (credentials, error) {
	f, err := fillAll(in)
	if err != nil {
		return credentials{}, err
	}
	return credentials{AdminToken: f.admin, SalesToken: f.sales, BookingToken: f.leads["ada"].token}, nil
}

func fillAll(in *instance) (*filler, error) {
	f := &filler{in: in, users: map[string]uint{}, used: map[string]bool{}}
	if err := f.staffUsers(); err != nil {
		return nil, err
	}
	// First run: hours for both hosts, then the earliest slot, so the
	// second run can make a reminder fall due a minute after booking it.
	if err := in.start(); err != nil {
		return nil, err
	}
	if err := f.availability(); err != nil {
		return nil, err
	}
	if err := f.loadSlots(); err != nil {
		return nil, err
	}
	if err := in.stop(); err != nil {
		return nil, fmt.Errorf("stop after setting hours: %w", err)
	}
	first, _ := time.Parse(time.RFC3339, f.slots[0])
	offset := time.Until(first) - 150*time.Second
	if offset < time.Minute {
		return nil, fmt.Errorf("the earliest slot %s is too close to now; run again", f.slots[0])
	}

	smtp, err := startSMTP()
	if err != nil {
		return nil, err
	}
	defer smtp.close()
	recv := startReceivers()
	defer recv.srv.Close()
	if err := in.start("CALLBOOK_SMTP_URL=smtp://"+smtp.addr(),
		fmt.Sprintf("CALLBOOK_REMINDERS=24h,%ds", int(offset.Seconds()))); err != nil {
		return nil, err
	}
	defer in.stop()
	steps := []struct {
		what string
		run  func() error
	}{
		{"webhooks", func() error { return f.addWebhooks(recv) }},
		{"bookings", f.bookings},
		{"sign in", f.signIn},
		{"calendars", func() error { return f.addCalendars(recv) }},
		{"staff work", f.staffWork},
		{"mail and deliveries", func() error { return f.waitForDeliveries(smtp, recv) }},
	}
	for _, s := range steps {
		log.Printf("  %s", s.what)
		if err := s.run(); err != nil {
			return nil, fmt.Errorf("%s: %w", s.what, err)
		}
	}
	// Mail from now on stays pending: the server is gone.
	smtp.close()
	if _, err := f.book("Margaret Hamilton", "margaret@example.com", "software-engineer", nil, nil); err != nil {
		return nil, err
	}
	return f, in.stop()
}

func (f *filler) staffUsers() error {
	if _, err := f.in.cli("", nil, "migrate"); err != nil {
		return err
	}
	for _, u := range staff {
		args := append([]string{"user", "add", "--email", u.email, "--name", u.name, "--role"}, strings.Fields(u.role)...)
		out, err := f.in.cli(password+"\n", nil, args...)
		if err != nil {
			return err
		}
		var id uint
		if _, err := fmt.Sscan(lastLine(out), &id); err != nil {
			return fmt.Errorf("user add printed %q, not an id", out)
		}
		f.users[u.email] = id
		if strings.Contains(u.role, "--host") {
			f.hosts = append(f.hosts, id)
		}
	}
	var err error
	if f.admin, err = f.in.cli("", nil, "token", "create", "--email", staff[0].email, "--name", "fixture admin"); err != nil {
		return err
	}
	f.sales, err = f.in.cli("", nil, "token", "create", "--email", staff[3].email, "--name", "fixture sales")
	f.admin, f.sales = lastLine(f.admin), lastLine(f.sales)
	return err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// availability opens every day around the clock for both hosts, with a
// closed day and a short day as overrides, and gives each its meeting place
// where the version has them.
func (f *filler) availability() error {
	today := time.Now().In(mustZone("America/New_York"))
	meetings := []map[string]string{
		{"kind": "video", "url": "https://meet.example.com/fixture-{booking}"},
		{"kind": "in_person", "address": "1 Harbour Street, Boston"},
	}
	weekly := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		weekly[d] = [][2]string{{"00:00", "24:00"}}
	}
	for i, h := range f.hosts {
		q := fmt.Sprintf("/api/v1/admin/availability?host_id=%d", h)
		cur, err := f.in.call(http.MethodGet, q, f.admin, nil)
		if err != nil {
			return err
		}
		if err := cur.want("GET availability", http.StatusOK); err != nil {
			return err
		}
		body := map[string]any{
			"host_id": h, "duration_minutes": 30, "buffer_minutes": 0, "min_notice_minutes": 0,
			"horizon_days": 30, "max_per_day": 12 * i, "weekly": weekly,
			"overrides": []map[string]any{
				{"date": today.AddDate(0, 0, 20).Format("2006-01-02"), "hours": [][2]string{}},
				{"date": today.AddDate(0, 0, 21).Format("2006-01-02"), "hours": [][2]string{{"10:00", "12:00"}}},
			},
		}
		if _, ok := cur.body["meeting"]; ok {
			body["meeting"] = meetings[i%len(meetings)]
		}
		r, err := f.in.call(http.MethodPut, q, f.admin, body)
		if err != nil {
			return err
		}
		if err := r.want("PUT availability", http.StatusOK); err != nil {
			return err
		}
	}
	return nil
}

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// loadSlots lists the next week's slots, earliest first.
func (f *filler) loadSlots() error {
	from := time.Now().In(mustZone("America/New_York"))
	q := fmt.Sprintf("/api/v1/slots?from=%s&to=%s&tz=America/New_York", from.Format("2006-01-02"), from.AddDate(0, 0, 6).Format("2006-01-02"))
	r, err := f.in.call(http.MethodGet, q, "", nil)
	if err != nil {
		return err
	}
	if err := r.want("GET slots", http.StatusOK); err != nil {
		return err
	}
	var out struct {
		Slots []struct{ Start string } `json:"slots"`
	}
	if err := json.Unmarshal(r.raw, &out); err != nil {
		return err
	}
	f.slots = f.slots[:0]
	for _, s := range out.Slots {
		t, err := time.Parse(time.RFC3339, s.Start)
		if err != nil {
			return err
		}
		if time.Until(t) > 5*time.Minute {
			f.slots = append(f.slots, t.UTC().Format(time.RFC3339))
		}
	}
	if len(f.slots) < 40 {
		return fmt.Errorf("only %d slots in the next week", len(f.slots))
	}
	return nil
}

// signIn fails once (a login attempt) and then signs the admin in (a
// session, kept for the staff pages below).
func (f *filler) signIn() error {
	r, err := f.in.form("/admin/login", url.Values{"email": {staff[3].email}, "password": {"not the password"}, "next": {"/admin/leads"}})
	if err != nil {
		return err
	}
	if err := r.want("failed sign-in", http.StatusUnauthorized); err != nil {
		return err
	}
	r, err = f.in.form("/admin/login", url.Values{"email": {staff[0].email}, "password": {password}, "next": {"/admin/leads"}})
	if err != nil {
		return err
	}
	return r.want("sign-in", http.StatusSeeOther)
}

// addWebhooks registers one receiver that takes every event and one that
// refuses bookings, where the version has webhooks.
func (f *filler) addWebhooks(recv *receivers) error {
	r, err := f.in.call(http.MethodGet, "/api/v1/admin/webhooks", f.admin, nil)
	if err != nil {
		return err
	}
	if r.status == http.StatusNotFound {
		log.Printf("    this version has no webhooks")
		return nil
	}
	f.webhooks = true
	for _, w := range []map[string]any{
		{"url": recv.url("/ok"), "events": []string{"*"}},
		{"url": recv.url("/fail"), "events": []string{"booking.created", "booking.canceled"}},
	} {
		r, err := f.in.call(http.MethodPost, "/api/v1/admin/webhooks", f.admin, w)
		if err != nil {
			return err
		}
		if err := r.want("POST webhooks", http.StatusCreated); err != nil {
			return err
		}
	}
	return nil
}

// addCalendars gives the first host a calendar feed with basic-auth
// credentials (sealed in the database) and shows both hosts' private feeds,
// where the version has them.
func (f *filler) addCalendars(recv *receivers) error {
	path := fmt.Sprintf("/api/v1/admin/hosts/%d/calendars", f.hosts[0])
	r, err := f.in.call(http.MethodGet, path, f.admin, nil)
	if err != nil {
		return err
	}
	if r.status == http.StatusNotFound {
		log.Printf("    this version has no host calendars")
		return nil
	}
	f.calendars = true
	r, err = f.in.call(http.MethodPut, path, f.admin, map[string]any{"calendars": []map[string]string{
		{"url": recv.url("/busy.ics"), "username": "cora", "password": "feed password"},
	}})
	if err != nil {
		return err
	}
	if err := r.want("PUT calendars", http.StatusOK); err != nil {
		return err
	}
	for _, h := range f.hosts {
		p, err := f.in.page(fmt.Sprintf("/admin/availability?host_id=%d", h))
		if err != nil {
			return err
		}
		if err := p.want("availability page", http.StatusOK); err != nil {
			return err
		}
	}
	return nil
}

// booked is what a booking answered.
type booked struct {
	id    string
	lead  string
	token string
}

// bookings books, books again with the same Idempotency-Key, comes back as
// a returning visitor, answers the role's questions (one visitor is turned
// away), reschedules one call and cancels another.
func (f *filler) bookings() error {
	r, err := f.in.call(http.MethodGet, "/api/v1/roles/backend-engineer", "", nil)
	if err != nil {
		return err
	}
	f.questions = r.status == http.StatusOK && strings.Contains(string(r.raw), `"questions":[{`)
	answers := func(experience string) map[string]any {
		if !f.questions {
			return nil
		}
		return map[string]any{"experience": experience, "timeline": "0-3 months", "linkedin": "https://www.linkedin.com/in/fixture"}
	}
	utm := map[string]string{"source": "google", "medium": "cpc", "campaign": "be-2026", "term": "backend jobs", "content": "ad-1"}
	ada, err := f.bookWith("Ada Lovelace", "ada@example.com", "backend-engineer", answers("1-2"), utm, "fixture-key-1")
	if err != nil {
		return err
	}
	if _, err := f.bookWith("Ada Lovelace", "ada@example.com", "backend-engineer", answers("1-2"), utm, "fixture-key-1"); err != nil {
		return fmt.Errorf("idempotent repeat: %w", err)
	}
	grace, err := f.book("Grace Hopper", "grace@example.com", "software-engineer", nil, nil)
	if err != nil {
		return err
	}
	alan, err := f.book("Alan Turing", "alan@example.com", "backend-engineer", answers("6+"), nil)
	if err != nil {
		return err
	}
	edsger, err := f.book("Edsger Dijkstra", "edsger@example.com", "software-engineer", nil,
		map[string]string{"source": "newsletter", "medium": "email", "campaign": "december"})
	if err != nil {
		return err
	}
	if _, err := f.book("Ada King", " ADA@example.com ", "backend-engineer", answers("3-5"),
		map[string]string{"source": "linkedin", "medium": "social"}); err != nil {
		return fmt.Errorf("returning visitor: %w", err)
	}
	barbara, err := f.book("Barbara Liskov", "barbara@example.com", "software-engineer", nil, nil)
	if err != nil {
		return err
	}
	if f.questions {
		r, err := f.in.call(http.MethodPost, "/api/v1/bookings", "", f.bookingBody("Linus Newcomer", "linus@example.com",
			"backend-engineer", answers("0"), nil, f.nextSlot()))
		if err != nil {
			return err
		}
		if err := r.want("disqualified visitor", http.StatusUnprocessableEntity); err != nil {
			return err
		}
	}
	if err := f.reschedule(alan); err != nil {
		return err
	}
	r, err = f.in.call(http.MethodPost, "/api/v1/bookings/"+edsger.token+"/cancel", "", map[string]string{"reason": "Found a job already"})
	if err != nil {
		return err
	}
	if err := r.want("cancel", http.StatusOK); err != nil {
		return err
	}
	f.leads = map[string]booked{"ada": ada, "grace": grace, "barbara": barbara}
	return nil
}

func (f *filler) reschedule(b booked) error {
	for range 5 {
		r, err := f.in.call(http.MethodPost, "/api/v1/bookings/"+b.token+"/reschedule", "", map[string]string{"start": f.nextSlot()})
		if err != nil {
			return err
		}
		if r.status == http.StatusConflict {
			continue
		}
		return r.want("reschedule", http.StatusOK)
	}
	return errors.New("reschedule: no free slot")
}

func (f *filler) nextSlot() string {
	for _, s := range f.slots {
		if !f.used[s] {
			f.used[s] = true
			return s
		}
	}
	return ""
}

func (f *filler) bookingBody(name, email, role string, answers map[string]any, utm map[string]string, start string) map[string]any {
	b := map[string]any{
		"name": name, "email": email, "phone": "+1 617 555 0100", "current_title": "Data Analyst",
		"target_title": map[string]string{"backend-engineer": "Backend Engineer", "software-engineer": "Software Engineer"}[role],
		"role_slug":    role, "start": start, "timezone": "Europe/Berlin", "consent": true,
		"message": "I would like to talk about moving into engineering.",
	}
	if utm != nil {
		b["utm"], b["referrer"] = utm, "https://www.google.com/"
	}
	if answers != nil {
		b["answers"] = answers
	}
	return b
}

func (f *filler) book(name, email, role string, answers map[string]any, utm map[string]string) (booked, error) {
	return f.bookWith(name, email, role, answers, utm, "")
}

// bookWith books the next free slot (the same slot again for a repeat with
// an Idempotency-Key already used).
func (f *filler) bookWith(name, email, role string, answers map[string]any, utm map[string]string, key string) (booked, error) {
	var headers []string
	if key != "" {
		headers = append(headers, "Idempotency-Key: "+key)
	}
	for range 5 {
		start := f.nextSlot()
		if key != "" {
			start = f.slots[0]
		}
		r, err := f.in.call(http.MethodPost, "/api/v1/bookings", "", f.bookingBody(name, email, role, answers, utm, start), headers...)
		if err != nil {
			return booked{}, err
		}
		if r.status == http.StatusConflict && key == "" {
			continue
		}
		if err := r.want("book "+name, http.StatusCreated); err != nil {
			return booked{}, err
		}
		manage := r.str("booking", "manage_url")
		return booked{id: r.str("booking", "id"), lead: r.str("lead", "id"), token: manage[strings.LastIndex(manage, "/")+1:]}, nil
	}
	return booked{}, errors.New("no free slot")
}
