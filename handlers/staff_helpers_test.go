package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/callbook/callbook/models"
)

// staffPassword signs in the users mustStaff creates; staffHash is its
// bcrypt hash at cost 12, so tests do not pay for hashing each user.
const (
	staffPassword = "staff-test-password-42"
	staffHash     = "$2a$12$WElekM8AKepQdBZCYpA/OunH4ZPyydqHvyBpuvwwPiq7sWVVa0Hsa"
)

// staffer is a signed-in staff user: a session for pages and a token for
// the API.
type staffer struct {
	User   *models.User
	Cookie string // session cookie value
	CSRF   string
	Token  string // API token
}

// mustStaff creates an enabled user of role with a session and an API token.
func (e *testEnv) mustStaff(email, role string) *staffer {
	e.t.Helper()
	ctx := context.Background()
	u := &models.User{Email: email, Name: strings.Split(email, "@")[0], Role: role, PasswordHash: staffHash, WeeklyJSON: "{}"}
	if err := e.store.DB().Create(u).Error; err != nil {
		e.t.Fatal(err)
	}
	ns, err := e.store.CreateSession(ctx, u, "192.0.2.1", "test")
	if err != nil {
		e.t.Fatal(err)
	}
	token, _, err := e.store.CreateAPIToken(ctx, u.ID, "tests")
	if err != nil {
		e.t.Fatal(err)
	}
	return &staffer{User: u, Cookie: ns.Token, CSRF: ns.Session.CSRFToken, Token: token}
}

// page sends a request with the staffer's session cookie (nil: anonymous).
func (e *testEnv) page(st *staffer, method, path string, form url.Values, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	if st != nil {
		headers = append(headers, "Cookie", sessionCookie+"="+st.Cookie)
	}
	if method == http.MethodGet {
		return e.do(method, path, nil, headers...)
	}
	if form == nil {
		form = url.Values{}
	}
	if st != nil && !form.Has(csrfField) {
		form.Set(csrfField, st.CSRF)
	}
	return e.postFormMethod(method, path, form, headers...)
}

// postFormMethod sends a same-origin form with any method.
func (e *testEnv) postFormMethod(method, path string, form url.Values, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do(method, path, strings.NewReader(form.Encode()),
		append([]string{"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "same-origin"}, headers...)...)
}

// api sends a JSON request with the staffer's bearer token (nil: anonymous).
func (e *testEnv) api(st *staffer, method, path, body string) *httptest.ResponseRecorder {
	e.t.Helper()
	headers := []string{"Content-Type", "application/json"}
	if st != nil {
		headers = append(headers, "Authorization", "Bearer "+st.Token)
	}
	return e.do(method, path, strings.NewReader(body), headers...)
}

// mustBookLead books the i-th offered slot for email through the public
// API and returns the lead and booking ids.
func (e *testEnv) mustBookLead(email string, slot int, edit func(map[string]any)) (leadID, bookingID uint) {
	e.t.Helper()
	start := e.firstSlots(slot+1, "Europe/Berlin")[slot]
	body := bookingBody(email, start)
	if edit != nil {
		edit(body)
	}
	w := e.postJSON("/api/v1/bookings", body)
	if w.Code != http.StatusCreated {
		e.t.Fatalf("book: %d %s", w.Code, w.Body.String())
	}
	out := decode[struct {
		Booking struct{ ID uint } `json:"booking"`
		Lead    struct{ ID uint } `json:"lead"`
	}](e.t, w)
	return out.Lead.ID, out.Booking.ID
}

// mustInsertLeads inserts n leads directly, oldest first, one a minute
// apart ending at the clock's time.
func (e *testEnv) mustInsertLeads(n int, edit func(i int, l *models.Lead)) []models.Lead {
	e.t.Helper()
	now := e.clock.Now().UTC()
	out := make([]models.Lead, n)
	for i := range n {
		at := now.Add(time.Duration(i-n+1) * time.Minute)
		l := models.Lead{EmailKey: "lead" + itoa(i) + "@example.com", Email: "lead" + itoa(i) + "@example.com",
			Name: "Lead " + itoa(i), TargetTitle: "Backend Engineer", Status: models.LeadNew, CreatedAt: at, UpdatedAt: at}
		if edit != nil {
			edit(i, &l)
		}
		if err := e.store.DB().Create(&l).Error; err != nil {
			e.t.Fatal(err)
		}
		out[i] = l
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

// location returns a redirect's target.
func location(w *httptest.ResponseRecorder) string { return w.Header().Get("Location") }

// rawScript matches a visitor's script tag that escaping should have defused.
var rawScript = regexp.MustCompile(`(?i)<script>alert|<img src=x|<[^>]* onerror=`)

// regexpFind returns the first group of pattern in s, failing without one.
func regexpFind(t interface {
	Helper()
	Fatalf(string, ...any)
}, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in %.300s", pattern, s)
	}
	return m[1]
}
