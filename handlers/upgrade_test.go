package handlers

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/store/storetest"
)

// TestUpgrade_TheServiceWorksOnEveryReleasedDatabase migrates each
// database a released version wrote (store/testdata/upgrade) and uses it
// through the whole router, on SQLite and PostgreSQL: the API tokens and
// the visitor's booking link that version handed out still work, the lead
// list shows its leads as it left them, a new visitor books a call, and the
// export holds old and new leads. Every API answer is also checked against
// the API description, so old rows must still make valid JSON.
func TestUpgrade_TheServiceWorksOnEveryReleasedDatabase(t *testing.T) {
	for _, fixture := range storetest.UpgradeFixtures(t) {
		t.Run(fixture, func(t *testing.T) {
			storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
				// A month after the fixtures were written: their calls are
				// past, and the hosts' hours still offer slots.
				clock := storetest.NewClock(time.Date(2027, 1, 4, 9, 0, 0, 0, mustZone("America/New_York")))
				opts := storetest.Options(clock)
				opts.Secret = []byte(storetest.FixtureSecret)
				db := storetest.MustOpenURL(t, storetest.RestoreFixture(t, fixture, dialect), opts)
				e := newTestServerOn(t, db, clock)
				creds := storetest.ReadFixtureCredentials(t, fixture, dialect)
				admin, sales := &staffer{Token: creds.AdminToken}, &staffer{Token: creds.SalesToken}

				if w := e.do(http.MethodGet, "/api/v1/bookings/"+creds.BookingToken, nil); w.Code != http.StatusOK {
					t.Errorf("the visitor's booking link: %d %s", w.Code, w.Body.String())
				}

				w := e.api(sales, http.MethodGet, "/api/v1/admin/leads?limit=200", "")
				if w.Code != http.StatusOK {
					t.Fatalf("lead list with the version's sales token: %d %s", w.Code, w.Body.String())
				}
				list := decode[struct {
					Leads []struct{ Name, Email, Status string } `json:"leads"`
				}](t, w)
				var ada string
				for _, l := range list.Leads {
					// She came back as " ADA@example.com ": the same lead.
					if strings.EqualFold(l.Email, "ada@example.com") {
						ada = l.Name + ", " + l.Status
					}
				}
				if ada != "Ada King, contacted" {
					t.Errorf("Ada's lead in the list: %q among %d leads", ada, len(list.Leads))
				}

				start := e.firstSlots(1, "Europe/Berlin")[0]
				if w := e.postJSON("/api/v1/bookings", bookingBody("newcomer@example.com", start)); w.Code != http.StatusCreated {
					t.Fatalf("booking after the upgrade: %d %s", w.Code, w.Body.String())
				}

				w = e.api(admin, http.MethodGet, "/api/v1/admin/leads/export.csv", "")
				if w.Code != http.StatusOK {
					t.Fatalf("export with the version's admin token: %d %s", w.Code, w.Body.String())
				}
				rows, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
				if err != nil {
					t.Fatalf("export: %v", err)
				}
				var emails []string
				for _, r := range rows[1:] {
					emails = append(emails, strings.ToLower(r[3]))
				}
				for _, want := range []string{"ada@example.com", "grace@example.com", "margaret@example.com", "newcomer@example.com"} {
					if !slices.Contains(emails, want) {
						t.Errorf("export without %s: %v", want, emails)
					}
				}
			})
		})
	}
}
