package handlers

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

// TestAPIBooking_RacingAnEraseOfTheSamePersonIsCreatedOrConflict books a
// call for a person while an admin erases that person, round after round:
// whichever commits first, the booking answers 201 (a new lead when the
// erase won) or 409, never a server error, and the erase 204.
func TestAPIBooking_RacingAnEraseOfTheSamePersonIsCreatedOrConflict(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		admin := e.mustStaff("admin@callbook.test", models.RoleAdmin)
		const rounds = 20
		starts := e.firstSlots(2*rounds, "UTC")
		for i := range rounds {
			email := fmt.Sprintf("race%d@example.com", i)
			first := e.postJSON("/api/v1/bookings", bookingBody(email, starts[2*i]))
			if first.Code != http.StatusCreated {
				t.Fatalf("round %d, first booking: %d %s", i, first.Code, first.Body)
			}
			lead := decode[createdBody](t, first).Lead.ID
			var wg sync.WaitGroup
			var booked, erased int
			var bookedBody string
			wg.Go(func() {
				w := e.postJSON("/api/v1/bookings", bookingBody(email, starts[2*i+1]))
				booked, bookedBody = w.Code, w.Body.String()
			})
			wg.Go(func() {
				erased = e.do(http.MethodDelete, fmt.Sprintf("/api/v1/admin/leads/%d", lead), nil,
					"Authorization", "Bearer "+admin.Token).Code
			})
			wg.Wait()
			if booked != http.StatusCreated && booked != http.StatusConflict {
				t.Errorf("round %d: the booking racing the erase answered %d %s, want 201 or 409", i, booked, bookedBody)
			}
			if erased != http.StatusNoContent {
				t.Errorf("round %d: the erase answered %d, want 204", i, erased)
			}
		}
	})
}
