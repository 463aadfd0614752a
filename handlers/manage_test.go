package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

// bookingResponse is the {"booking": Booking} answer.
type bookingResponse struct {
	Booking bookingJSON `json:"booking"`
}

// mustBookAPI books start through the API and returns the visitor token
// and the booking id.
func (e *testEnv) mustBookAPI(email, start string) (string, uint) {
	e.t.Helper()
	w := e.postJSON("/api/v1/bookings", bookingBody(email, start))
	if w.Code != http.StatusCreated {
		e.t.Fatalf("book %s: %d %s", start, w.Code, w.Body.String())
	}
	b := decode[bookingResponse](e.t, w).Booking
	return path.Base(b.ManageURL), b.ID
}

// offered reports whether start (RFC 3339) is among the offered slots.
func (e *testEnv) offered(start string) bool {
	e.t.Helper()
	w := e.do(http.MethodGet, "/api/v1/slots?tz=Europe/Berlin", nil)
	for _, sl := range decode[slotsJSON](e.t, w).Slots {
		if sl.Start == start {
			return true
		}
	}
	return false
}

func (e *testEnv) mustBooking(id uint) models.Booking {
	e.t.Helper()
	var b models.Booking
	if err := e.store.DB().Where("id = ?", id).Take(&b).Error; err != nil {
		e.t.Fatal(err)
	}
	return b
}

// outboxKinds lists a booking's emails as "kind/status".
func (e *testEnv) outboxKinds(id uint) []string {
	e.t.Helper()
	var rows []models.OutboxMessage
	if err := e.store.DB().Where("booking_id = ?", id).Order("id").Find(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Kind + "/" + r.Status
	}
	return out
}

// outboxPayload decodes the newest email of kind about booking id.
func (e *testEnv) outboxPayload(id uint, kind string) models.MailData {
	e.t.Helper()
	var row models.OutboxMessage
	if err := e.store.DB().Where("booking_id = ? AND kind = ?", id, kind).Order("id DESC").Take(&row).Error; err != nil {
		e.t.Fatalf("no %s email: %v", kind, err)
	}
	var d models.MailData
	if err := json.Unmarshal([]byte(row.Payload), &d); err != nil {
		e.t.Fatal(err)
	}
	return d
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// attr is how html/template writes s inside an attribute value.
func attr(s string) string { return strings.ReplaceAll(s, "+", "&#43;") }

func TestManageAPI_RescheduleMovesTheCallAndKeepsTheToken(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		slots := e.firstSlots(3, "Europe/Berlin")
		token, id := e.mustBookAPI("ada@example.com", slots[0])

		w := e.postJSON("/api/v1/bookings/"+token+"/reschedule", map[string]string{"start": slots[2]})
		if w.Code != http.StatusOK {
			t.Fatalf("reschedule: %d %s", w.Code, w.Body.String())
		}
		if got := decode[bookingResponse](t, w).Booking; got.Start != slots[2] || got.Status != "confirmed" || got.ID != id ||
			path.Base(got.ManageURL) != token {
			t.Fatalf("answer %+v", got)
		}
		w = e.do(http.MethodGet, "/api/v1/bookings/"+token, nil)
		if w.Code != http.StatusOK || decode[bookingResponse](t, w).Booking.Start != slots[2] {
			t.Fatalf("the token after the move: %d %s", w.Code, w.Body.String())
		}
		if !e.offered(slots[0]) || e.offered(slots[2]) {
			t.Errorf("old slot offered %v (want true), new slot offered %v (want false)", e.offered(slots[0]), e.offered(slots[2]))
		}

		b := e.mustBooking(id)
		newStart := mustTime(t, slots[2])
		if b.Sequence != 1 || !b.StartAt.Equal(newStart) {
			t.Errorf("booking %+v", b)
		}
		var rems []models.Reminder
		e.store.DB().Where("booking_id = ? AND offset_label = ?", id, "1h").Find(&rems)
		if len(rems) != 1 || !rems[0].DueAt.Equal(newStart.Add(-time.Hour)) {
			t.Errorf("1h reminder not moved: %+v", rems)
		}
		kinds := strings.Join(e.outboxKinds(id), " ")
		if !strings.Contains(kinds, "reschedule/pending") || strings.Count(kinds, "host-notice/pending") != 2 {
			t.Errorf("outbox %s", kinds)
		}
		for _, kind := range []string{models.MailReschedule, models.MailHostNotice} {
			d := e.outboxPayload(id, kind)
			if d.PreviousStart == nil || !d.PreviousStart.Equal(mustTime(t, slots[0])) || d.Sequence != 1 {
				t.Errorf("%s payload %+v", kind, d)
			}
		}
	})
}

func TestManageAPI_CancelFreesTheSlotForTheNextVisitor(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		slot := e.firstSlots(1, "Europe/Berlin")[0]
		token, id := e.mustBookAPI("ada@example.com", slot)
		now := e.clock.Now()
		reminder := models.OutboxMessage{Kind: "reminder-1h", BookingID: &id, ToAddr: "ada@example.com", MessageID: "<r1@t>",
			Payload: "{}", Status: models.OutboxPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
		if err := e.store.DB().Create(&reminder).Error; err != nil {
			t.Fatal(err)
		}

		w := e.postJSON("/api/v1/bookings/"+token+"/cancel", map[string]string{"reason": "Found a job"})
		if w.Code != http.StatusOK || decode[bookingResponse](t, w).Booking.Status != "canceled" {
			t.Fatalf("cancel: %d %s", w.Code, w.Body.String())
		}
		if !e.offered(slot) {
			t.Fatal("the freed slot is not offered")
		}
		if w := e.postJSON("/api/v1/bookings", bookingBody("bob@example.com", slot)); w.Code != http.StatusCreated {
			t.Fatalf("booking the freed slot: %d %s", w.Code, w.Body.String())
		}

		kinds := e.outboxKinds(id)
		// The role's follow-up for a canceled call waits its day.
		want := []string{"confirmation/canceled", "host-notice/pending", "reminder-1h/canceled", "cancellation/pending", "host-notice/pending",
			"followup-come-back/pending"}
		if strings.Join(kinds, " ") != strings.Join(want, " ") {
			t.Errorf("outbox %v, want %v", kinds, want)
		}
		if d := e.outboxPayload(id, models.MailHostNotice); d.Change != "canceled" || d.Reason != "Found a job" {
			t.Errorf("host notice %+v", d)
		}
		var pending int64
		e.store.DB().Model(&models.Reminder{}).Where("booking_id = ? AND status = ?", id, models.ReminderPending).Count(&pending)
		if pending != 0 {
			t.Errorf("%d reminders still pending", pending)
		}
		var ev models.Event
		if err := e.store.DB().Where("booking_id = ? AND type = ?", id, models.EventBookingCanceled).Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if ev.LeadID == nil || ev.Actor != models.ActorVisitor || !strings.Contains(ev.Data, `"reason":"Found a job"`) ||
			!strings.Contains(ev.Data, `"actor":"visitor"`) {
			t.Errorf("event %+v", ev)
		}
		// Without a body the reason is simply empty.
		token2, _ := e.mustBookAPI("cy@example.com", e.firstSlots(1, "Europe/Berlin")[0])
		if w := e.do(http.MethodPost, "/api/v1/bookings/"+token2+"/cancel", nil); w.Code != http.StatusOK {
			t.Errorf("cancel without a body: %d %s", w.Code, w.Body.String())
		}
	})
}

// TestManageAPI_RaceBetweenRescheduleAndNewBooking sends a move and a new
// booking for one slot at the same moment, many times: exactly one wins.
func TestManageAPI_RaceBetweenRescheduleAndNewBooking(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		const rounds = 10
		slots := e.firstSlots(2*rounds, "Europe/Berlin")
		moved := 0
		for r := range rounds {
			token, id := e.mustBookAPI(fmt.Sprintf("mover%d@example.com", r), slots[2*r])
			target := slots[2*r+1]
			var move, book *httptest.ResponseRecorder
			var wg sync.WaitGroup
			gate := make(chan struct{})
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-gate
				move = e.postJSON("/api/v1/bookings/"+token+"/reschedule", map[string]string{"start": target})
			}()
			go func() {
				defer wg.Done()
				<-gate
				book = e.postJSON("/api/v1/bookings", bookingBody(fmt.Sprintf("rival%d@example.com", r), target))
			}()
			close(gate)
			wg.Wait()
			switch {
			case move.Code == http.StatusOK && book.Code == http.StatusConflict:
				moved++
			case move.Code == http.StatusConflict && book.Code == http.StatusCreated:
				if b := e.mustBooking(id); !b.StartAt.Equal(mustTime(t, slots[2*r])) {
					t.Fatalf("round %d: the lost move moved the call to %s", r, b.StartAt)
				}
			default:
				t.Fatalf("round %d: move %d %s, booking %d %s", r, move.Code, move.Body.String(), book.Code, book.Body.String())
			}
			loser := move
			if move.Code == http.StatusOK {
				loser = book
			}
			if code := decode[errorJSON](t, loser).Error.Code; code != "slot_unavailable" {
				t.Fatalf("round %d: loser's code %q", r, code)
			}
		}
		var n int64
		e.store.DB().Model(&models.Booking{}).Where("status = ?", models.BookingConfirmed).Count(&n)
		// Every mover keeps one call; a rival has one only where the move lost.
		if want := int64(2*rounds - moved); n != want {
			t.Fatalf("%d confirmed calls, want %d", n, want)
		}
		t.Logf("the move won %d of %d rounds", moved, rounds)
	})
}

func TestManageAPI_ClosedCallsAndBadTimesAreRefused(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		slots := e.firstSlots(4, "Europe/Berlin")
		ended, _ := e.mustBookAPI("ended@example.com", slots[0])
		begun, _ := e.mustBookAPI("begun@example.com", slots[1])
		canceled, _ := e.mustBookAPI("canceled@example.com", slots[2])
		open, openID := e.mustBookAPI("open@example.com", slots[3])
		if w := e.postJSON("/api/v1/bookings/"+canceled+"/cancel", map[string]string{}); w.Code != http.StatusOK {
			t.Fatalf("cancel: %d", w.Code)
		}
		later := e.clock.Now().Add(48 * time.Hour).Truncate(time.Hour).UTC().Format(time.RFC3339)

		type call struct{ path, body string }
		cases := map[string][]call{}
		for name, tok := range map[string]string{"ended": ended, "begun": begun, "canceled": canceled} {
			cases[name] = []call{
				{"/api/v1/bookings/" + tok + "/reschedule", `{"start":"` + later + `"}`},
				{"/api/v1/bookings/" + tok + "/cancel", `{"reason":"x"}`},
			}
		}
		e.clock.Set(mustTime(t, slots[1])) // the second call begins now
		for name, calls := range cases {
			for _, c := range calls {
				w := e.postJSON(c.path, c.body)
				if w.Code != http.StatusUnprocessableEntity || decode[errorJSON](t, w).Error.Code != "validation_failed" {
					t.Errorf("%s %s: %d %s", name, c.path, w.Code, w.Body.String())
				}
			}
		}

		tooSoon := mustTime(t, slots[1]).Add(time.Hour).UTC().Format(time.RFC3339)
		refusals := []struct {
			body   string
			status int
			code   string
			field  string
		}{
			{`{"start":"` + tooSoon + `"}`, 422, "validation_failed", "start"},
			{`{"start":"` + slots[3] + `"}`, 422, "validation_failed", "start"},
			{`{"start":"` + slots[1] + `"}`, 422, "validation_failed", "start"},
			{`{"start":"tomorrow"}`, 422, "validation_failed", "start"},
			{`{}`, 422, "validation_failed", "start"},
			{`{"start":12}`, 400, "bad_request", ""},
			{`not json`, 400, "bad_request", ""},
		}
		for _, r := range refusals {
			w := e.postJSON("/api/v1/bookings/"+open+"/reschedule", r.body)
			got := decode[errorJSON](t, w).Error
			if w.Code != r.status || got.Code != r.code || (r.field != "" && got.Fields[r.field] == "") {
				t.Errorf("reschedule %s: %d %s", r.body, w.Code, w.Body.String())
			}
		}
		if b := e.mustBooking(openID); b.Sequence != 0 || !b.StartAt.Equal(mustTime(t, slots[3])) {
			t.Errorf("refused moves changed the call: %+v", b)
		}
		if w := e.postJSON("/api/v1/bookings/"+open+"/cancel", map[string]string{"reason": strings.Repeat("x", 1001)}); w.Code != 422 ||
			decode[errorJSON](t, w).Error.Fields["reason"] == "" {
			t.Errorf("long reason: %d %s", w.Code, w.Body.String())
		}
	})
}

func TestManageRoutes_UnknownTokenIsNotFoundEverywhere(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		slots := e.firstSlots(2, "Europe/Berlin")
		real, _ := e.mustBookAPI("ada@example.com", slots[0])
		fake := real[:len(real)-3] + "abc"
		for _, tok := range []string{fake, "nope"} {
			for _, r := range []struct{ method, path, body string }{
				{"GET", "/bookings/" + tok + "/reschedule", ""},
				{"POST", "/bookings/" + tok + "/reschedule", "start=" + url.QueryEscape(slots[1])},
				{"GET", "/bookings/" + tok + "/cancel", ""},
				{"POST", "/bookings/" + tok + "/cancel", "reason=x"},
				{"POST", "/api/v1/bookings/" + tok + "/cancel", `{"reason":"x"}`},
				{"POST", "/api/v1/bookings/" + tok + "/reschedule", `{"start":"` + slots[1] + `"}`},
			} {
				ct := "application/x-www-form-urlencoded"
				if strings.HasPrefix(r.path, "/api/") {
					ct = "application/json"
				}
				w := e.do(r.method, r.path, strings.NewReader(r.body), "Content-Type", ct)
				if w.Code != http.StatusNotFound {
					t.Errorf("%s %s: %d", r.method, r.path, w.Code)
				}
				if strings.HasPrefix(r.path, "/api/") {
					if got := decode[errorJSON](t, w).Error; got.Code != "not_found" || got.Message != "not found" {
						t.Errorf("%s: %+v", r.path, got)
					}
				}
			}
		}
		if !e.offered(slots[1]) {
			t.Error("a request with a wrong token moved a call")
		}
	})
}

func TestManagePages_RescheduleThenCancelWithoutJavaScript(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		slots := e.firstSlots(3, "Europe/Berlin")
		token, id := e.mustBookAPI("ada@example.com", slots[0])
		page := "/bookings/" + token

		w := e.do(http.MethodGet, page+"/reschedule", nil)
		body := w.Body.String()
		if w.Code != http.StatusOK || !strings.Contains(body, `value="Europe/Berlin" selected`) ||
			!strings.Contains(body, `value="`+attr(slots[1])+`"`) || !strings.Contains(body, "18:00") ||
			!strings.Contains(body, `method="post" action="/bookings/`+token+`/reschedule?tz=`) {
			t.Fatalf("reschedule page: %d\n%s", w.Code, body)
		}
		if w := e.do(http.MethodGet, page+"/reschedule?tz=Asia/Tokyo", nil); !strings.Contains(w.Body.String(), `value="Asia/Tokyo" selected`) {
			t.Error("?tz= does not choose the zone")
		}

		w = e.postForm(page+"/reschedule", url.Values{"start": {slots[2]}, "timezone": {"Europe/Berlin"}})
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != page+"?done=rescheduled" {
			t.Fatalf("reschedule form: %d %s %s", w.Code, w.Header().Get("Location"), w.Body.String())
		}
		newStart := mustTime(t, slots[2])
		w = e.do(http.MethodGet, page+"?done=rescheduled", nil)
		if !strings.Contains(w.Body.String(), "has been moved") || !strings.Contains(w.Body.String(), newStart.Format("15:04")) {
			t.Fatalf("booking page after the move:\n%s", w.Body.String())
		}
		// One message about the move: not also the first booking's
		// "emailed you a confirmation".
		if strings.Contains(w.Body.String(), "emailed you a confirmation") {
			t.Errorf("booking page after the move also says a confirmation was emailed")
		}
		if b := e.mustBooking(id); !b.StartAt.Equal(newStart) {
			t.Fatalf("the form did not move the call: %s", b.StartAt)
		}

		w = e.do(http.MethodGet, page+"/cancel", nil)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Cancel your call on") ||
			!strings.Contains(w.Body.String(), `name="reason"`) || !strings.Contains(w.Body.String(), "btn-danger") {
			t.Fatalf("cancel page: %d\n%s", w.Code, w.Body.String())
		}
		w = e.postForm(page+"/cancel", url.Values{"reason": {"Found a job"}})
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != page+"?done=canceled" {
			t.Fatalf("cancel form: %d %s", w.Code, w.Body.String())
		}
		w = e.do(http.MethodGet, page+"?done=canceled", nil)
		if !strings.Contains(w.Body.String(), "has been canceled") || !strings.Contains(w.Body.String(), "This call was canceled") {
			t.Fatalf("booking page after the cancel:\n%s", w.Body.String())
		}
		if b := e.mustBooking(id); b.Status != models.BookingCanceled || b.CancelReason != "Found a job" {
			t.Fatalf("the form did not cancel the call: %+v", b)
		}

		for _, p := range []string{"/reschedule", "/cancel"} {
			w := e.do(http.MethodGet, page+p, nil)
			if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "This call was canceled, so it can no longer") {
				t.Errorf("GET %s of a canceled call: %d\n%s", p, w.Code, w.Body.String())
			}
		}
		if w := e.postForm(page+"/reschedule", url.Values{"start": {slots[1]}}); w.Code != http.StatusUnprocessableEntity {
			t.Errorf("moving a canceled call by form: %d", w.Code)
		}
	})
}

func TestManagePages_LostRaceAndBadInputShowTheFormAgain(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		slots := e.firstSlots(3, "Europe/Berlin")
		token, id := e.mustBookAPI("ada@example.com", slots[0])
		e.mustBookAPI("bob@example.com", slots[1]) // taken meanwhile

		w := e.postForm("/bookings/"+token+"/reschedule", url.Values{"start": {slots[1]}, "timezone": {"Europe/Berlin"}})
		body := w.Body.String()
		if w.Code != http.StatusConflict || !strings.Contains(body, "just taken") ||
			strings.Contains(body, `value="`+attr(slots[1])+`"`) || !strings.Contains(body, `value="`+attr(slots[2])+`"`) {
			t.Fatalf("lost race: %d\n%s", w.Code, body)
		}
		if w := e.postForm("/bookings/"+token+"/reschedule", url.Values{"timezone": {"Europe/Berlin"}}); w.Code != http.StatusUnprocessableEntity ||
			!strings.Contains(w.Body.String(), "pick a new time") {
			t.Errorf("no time chosen: %d", w.Code)
		}
		long := strings.Repeat("x", 1001)
		w = e.postForm("/bookings/"+token+"/cancel", url.Values{"reason": {long}})
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), long) ||
			!strings.Contains(w.Body.String(), "at most 1000") {
			t.Errorf("long reason: %d", w.Code)
		}
		if b := e.mustBooking(id); b.Status != models.BookingConfirmed || !b.StartAt.Equal(mustTime(t, slots[0])) {
			t.Fatalf("refused forms changed the call: %+v", b)
		}
	})
}

func TestManagePages_CrossSitePostsAreRefused(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		slots := e.firstSlots(2, "Europe/Berlin")
		token, id := e.mustBookAPI("ada@example.com", slots[0])
		for _, p := range []string{"/bookings/" + token + "/reschedule", "/bookings/" + token + "/cancel"} {
			w := e.postForm(p, url.Values{"start": {slots[1]}, "reason": {"x"}}, "Sec-Fetch-Site", "cross-site")
			if w.Code != http.StatusForbidden {
				t.Errorf("cross-site POST %s: %d", p, w.Code)
			}
		}
		w := e.postJSON("/api/v1/bookings/"+token+"/cancel", `{}`, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		if w.Code != http.StatusForbidden {
			t.Errorf("cross-site API cancel: %d", w.Code)
		}
		b, err := e.store.BookingByToken(context.Background(), token)
		if err != nil || b.ID != id || b.Status != models.BookingConfirmed || b.Sequence != 0 {
			t.Fatalf("a refused cross-site POST changed the call: %+v %v", b, err)
		}
	})
}
