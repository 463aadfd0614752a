package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// The API's Idempotency-Key and the form's form_key follow one rule: at
// most 200 printable ASCII characters. The API answers a bad key with a
// 422 naming it beside the other problems (bytes that are not UTF-8 at
// all are refused before, with 400, like any such header); a key within
// the rule books once and replays.
func TestBookingAPI_IdempotencyKeyRule(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	start := e.firstSlots(1, "Europe/Berlin")[0]
	for name, key := range map[string]string{
		"201 characters": strings.Repeat("k", 201),
		"a control byte": "k\x01k",
		"not ASCII":      "clé-1",
	} {
		body := bookingBody("ada@example.com", start)
		delete(body, "name")
		w := e.postJSON("/api/v1/bookings", body, "Idempotency-Key", key)
		got := decode[errorJSON](t, w)
		if w.Code != http.StatusUnprocessableEntity || got.Error.Fields["Idempotency-Key"] == "" || got.Error.Fields["name"] == "" {
			t.Errorf("key of %s: %d %s, want 422 naming Idempotency-Key and name", name, w.Code, w.Body)
		}
	}
	body := bookingBody("ada@example.com", start)
	if w := e.postJSON("/api/v1/bookings", body, "Idempotency-Key", "k\xff\xfe"); w.Code != http.StatusBadRequest {
		t.Errorf("key not UTF-8: %d %s, want 400", w.Code, w.Body)
	}
	key := strings.Repeat("k", 200)
	first := e.postJSON("/api/v1/bookings", bookingBody("ada@example.com", start), "Idempotency-Key", key)
	again := e.postJSON("/api/v1/bookings", bookingBody("ada@example.com", start), "Idempotency-Key", key)
	if first.Code != http.StatusCreated || again.Code != http.StatusCreated || first.Body.String() != again.Body.String() {
		t.Fatalf("200-character key: %d then %d, want the first answer replayed", first.Code, again.Code)
	}
}

// bookForm is the booking form as the page sends it, with form_key key.
func bookForm(start, key string) url.Values {
	return url.Values{"name": {"Ada"}, "email": {"ada@example.com"}, "phone": {"+1 555 0100"}, "target_title": {"Backend Engineer"},
		"start": {start}, "timezone": {"Europe/Berlin"}, "consent": {"yes"}, "answers.experience": {"1-2"}, "form_key": {key}}
}

// The form's key follows the API's rule: a 100-character key (longer than
// the page writes, within the rule) still makes a double submit book once,
// and a key that breaks the rule, which the page never writes, is a 400.
func TestBookForm_IdempotencyKeyRule(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	start := e.firstSlots(1, "Europe/Berlin")[0]
	for name, key := range map[string]string{"201 characters": strings.Repeat("k", 201), "a control byte": "k\x01k"} {
		if w := e.postForm("/roles/backend-engineer/book", bookForm(start, key)); w.Code != http.StatusBadRequest {
			t.Errorf("form key of %s: %d, want 400", name, w.Code)
		}
	}
	key := strings.Repeat("f", 100)
	first := e.postForm("/roles/backend-engineer/book", bookForm(start, key))
	again := e.postForm("/roles/backend-engineer/book", bookForm(start, key))
	if first.Code != http.StatusSeeOther || again.Code != http.StatusSeeOther || first.Header().Get("Location") != again.Header().Get("Location") {
		t.Fatalf("double submit with a 100-character key: %d %q then %d %q, want the same confirmation twice",
			first.Code, first.Header().Get("Location"), again.Code, again.Header().Get("Location"))
	}
}

// mustPhoningHost adds an enabled host who phones visitors.
func (e *testEnv) mustPhoningHost(email, name string) *models.User {
	e.t.Helper()
	u, err := e.store.CreateUser(context.Background(), models.NewUser{Email: email, Name: name, Role: models.RoleSales,
		Host: true, Password: "violet harbour tram 81"})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.DB().Model(&models.User{}).Where("id = ?", u.ID).Update("meeting_kind", models.MeetingPhone).Error; err != nil {
		e.t.Fatal(err)
	}
	return u
}

// The phone rule is judged for the hosts the answers route to: routed to
// a coach who only phones, a visitor who left no number is told so with
// their other problems at once, by the API and the form alike, even while
// other hosts take video calls.
func TestBooking_PhoneRuleFollowsTheRoute(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		e.mustPhoningHost("senior-coach@callbook.example", "Senior Coach")
		start := e.firstSlots(1, "Europe/Berlin")[0]
		body := bookingBody("ada@example.com", start)
		delete(body, "phone")
		delete(body, "name")
		body["answers"] = map[string]any{"experience": "6+"}
		w := e.postJSON("/api/v1/bookings", body)
		got := decode[errorJSON](t, w)
		if w.Code != http.StatusUnprocessableEntity || got.Error.Fields["phone"] == "" || got.Error.Fields["name"] == "" {
			t.Fatalf("API, routed to a coach who phones, no name and no phone: %d %s, want 422 naming both", w.Code, w.Body)
		}
		form := bookForm(start, "")
		form.Del("phone")
		form.Del("name")
		form.Set("answers.experience", "6+")
		w = e.postForm("/roles/backend-engineer/book", form)
		if html := w.Body.String(); w.Code != http.StatusUnprocessableEntity || !strings.Contains(html, `id="phone-error"`) || !strings.Contains(html, `id="name-error"`) {
			t.Fatalf("form, routed to a coach who phones, no name and no phone: %d, want 422 with both beside their fields", w.Code)
		}
		// Not routed there, the video host takes the visitor without a number.
		body["name"], body["answers"] = "Ada", map[string]any{"experience": "1-2"}
		if w := e.postJSON("/api/v1/bookings", body); w.Code != http.StatusCreated {
			t.Fatalf("API, routed to the video host, no phone: %d %s", w.Code, w.Body)
		}
	})
}

// A visitor who left no number is never moved to a host who phones: when
// only such a host is free at the new time, the time is not theirs to take.
func TestReschedule_NeverGivesAVisitorWithoutPhoneAHostWhoPhones(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		phoning := e.mustPhoningHost("ana@example.com", "Ana")
		slots := e.firstSlots(2, "Europe/Berlin")
		// Bob, without a number, takes the video host at the second time;
		// only Ana, who phones, is free then.
		if w := e.bookWithoutPhone("bob@example.com", slots[1]); w.Code != http.StatusCreated {
			t.Fatalf("book Bob: %d %s", w.Code, w.Body)
		}
		w := e.bookWithoutPhone("ada@example.com", slots[0])
		created := decode[struct {
			Booking struct {
				ManageURL string `json:"manage_url"`
			} `json:"booking"`
		}](t, w)
		if w.Code != http.StatusCreated {
			t.Fatalf("book Ada: %d %s", w.Code, w.Body)
		}
		token := created.Booking.ManageURL[strings.LastIndex(created.Booking.ManageURL, "/")+1:]
		w = e.postJSON("/api/v1/bookings/"+token+"/reschedule", map[string]string{"start": slots[1]})
		if w.Code != http.StatusConflict {
			t.Fatalf("move to a time only a host who phones has free: %d %s, want 409", w.Code, w.Body)
		}
		var n int64
		if err := e.store.DB().Model(&models.Booking{}).Where("host_id = ?", phoning.ID).Count(&n).Error; err != nil || n != 0 {
			t.Fatalf("%d calls with the host who phones (%v), want none", n, err)
		}
	})
}
