package store_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// crmSlots returns the first n offered starts.
func crmSlots(t *testing.T, s *store.Store, n int) []time.Time {
	t.Helper()
	slots, _, err := s.Slots(context.Background(), s.Now(), s.Now().Add(14*24*time.Hour))
	if err != nil || len(slots) < n {
		t.Fatalf("want %d slots, got %d (%v)", n, len(slots), err)
	}
	out := make([]time.Time, n)
	for i := range out {
		out[i] = slots[i].Start
	}
	return out
}

func crmBook(t *testing.T, s *store.Store, email string, start time.Time) *models.BookingResult {
	t.Helper()
	req := request(email, start)
	req.Phone, req.Message, req.Referrer = "+1 555 0100", "Please call me", "https://news.example.com/post?id=42"
	res, err := s.BookSlot(context.Background(), req, nil)
	if err != nil {
		t.Fatalf("book: %v", err)
	}
	return res
}

func crmEvents(t *testing.T, s *store.Store, leadID uint, typ string) []models.Event {
	t.Helper()
	var evs []models.Event
	if err := s.DB().Where("lead_id = ? AND type = ?", leadID, typ).Order("id").Find(&evs).Error; err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestUpdateLead_WritesOneEventPerRealChangeWithTheActor(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		sales := mustStaffUser(t, s, "sales@example.com", models.RoleSales)
		off := mustStaffUser(t, s, "gone@example.com", models.RoleSales)
		s.DB().Model(off).Update("disabled", true)
		lead := crmBook(t, s, "ada@example.com", crmSlots(t, s, 1)[0]).Lead

		st, title := models.LeadQualified, "Platform Engineer"
		row, err := s.UpdateLead(ctx, lead.ID, models.LeadChange{Status: &st, SetOwner: true, OwnerID: &sales.ID, RecommendedTitle: &title}, sales)
		if err != nil {
			t.Fatal(err)
		}
		if row.Status != st || row.OwnerID == nil || *row.OwnerID != sales.ID || row.RecommendedTitle != title || row.OwnerName != sales.Name {
			t.Fatalf("saved %+v", row)
		}
		for _, typ := range []string{"lead.status_changed", "lead.owner_changed", "lead.recommended_title_changed"} {
			evs := crmEvents(t, s, lead.ID, typ)
			if len(evs) != 1 || evs[0].Actor != models.ActorUser(sales) {
				t.Fatalf("%s: %+v", typ, evs)
			}
		}
		if d := crmEvents(t, s, lead.ID, "lead.status_changed")[0].Data; d != `{"from":"new","to":"qualified"}` {
			t.Fatalf("status data %s", d)
		}
		// The same values again change nothing and write nothing.
		if _, err := s.UpdateLead(ctx, lead.ID, models.LeadChange{Status: &st}, sales); err != nil {
			t.Fatal(err)
		}
		if n := len(crmEvents(t, s, lead.ID, "lead.status_changed")); n != 1 {
			t.Fatalf("no-op wrote %d events", n)
		}
		// A null owner clears it.
		row, err = s.UpdateLead(ctx, lead.ID, models.LeadChange{SetOwner: true}, sales)
		if err != nil || row.OwnerID != nil {
			t.Fatalf("clear owner: %+v %v", row, err)
		}
		bad := "won"
		if _, err := s.UpdateLead(ctx, lead.ID, models.LeadChange{Status: &bad}, sales); fieldError(err, "status") == "" {
			t.Fatalf("bad status: %v", err)
		}
		if _, err := s.UpdateLead(ctx, lead.ID, models.LeadChange{SetOwner: true, OwnerID: &off.ID}, sales); fieldError(err, "owner_id") == "" {
			t.Fatalf("disabled owner: %v", err)
		}
		if _, err := s.UpdateLead(ctx, 9999, models.LeadChange{Status: &st}, sales); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("unknown lead: %v", err)
		}
	})
}

func TestAddNote_ShowsOnTheLeadWithAuthorAndEvent(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := mustOpen(t, dialect)
		ctx := context.Background()
		sales := mustStaffUser(t, s, "sales@example.com", models.RoleSales)
		lead := crmBook(t, s, "ada@example.com", crmSlots(t, s, 1)[0]).Lead
		if _, err := s.AddNote(ctx, lead.ID, "  \n ", sales); fieldError(err, "body") == "" {
			t.Fatalf("empty note: %v", err)
		}
		if _, err := s.AddNote(ctx, lead.ID, "first", sales); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		n, err := s.AddNote(ctx, lead.ID, "second\nline", sales)
		if err != nil || n.AuthorName != sales.Name {
			t.Fatalf("note: %+v %v", n, err)
		}
		d, err := s.LeadDetail(ctx, lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Notes) != 2 || d.Notes[0].Body != "second\nline" || d.Notes[0].AuthorName != sales.Name {
			t.Fatalf("notes %+v", d.Notes)
		}
		if len(d.Bookings) != 1 || d.Bookings[0].HostName != models.DefaultHostName {
			t.Fatalf("bookings %+v", d.Bookings)
		}
		if len(d.Events) < 4 || d.Events[0].Type != "note.added" || d.Events[len(d.Events)-1].Type != "lead.created" {
			t.Fatalf("timeline not newest first: %+v", d.Events)
		}
		if _, err := s.AddNote(ctx, 9999, "x", sales); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("unknown lead: %v", err)
		}
	})
}

func TestSetOutcome_OnlyForCallsThatHaveBegun(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := mustOpen(t, dialect)
		ctx := context.Background()
		sales := mustStaffUser(t, s, "sales@example.com", models.RoleSales)
		starts := crmSlots(t, s, 2)
		b := crmBook(t, s, "ada@example.com", starts[0]).Booking
		other := crmBook(t, s, "bob@example.com", starts[1]).Booking
		if _, err := s.SetOutcome(ctx, b.ID, models.OutcomeCompleted, sales); fieldError(err, "outcome") == "" {
			t.Fatalf("future call: %v", err)
		}
		if _, err := s.CancelBookingByID(ctx, other.ID, "", models.ActorUser(sales)); err != nil {
			t.Fatal(err)
		}
		clock.Set(starts[1].Add(time.Hour))
		if _, err := s.CleanUp(ctx); err != nil { // flags the past call as missing an outcome
			t.Fatal(err)
		}
		if _, err := s.SetOutcome(ctx, other.ID, models.OutcomeNoShow, sales); fieldError(err, "outcome") == "" {
			t.Fatalf("canceled call: %v", err)
		}
		if _, err := s.SetOutcome(ctx, b.ID, "maybe", sales); fieldError(err, "outcome") == "" {
			t.Fatalf("bad outcome: %v", err)
		}
		got, err := s.SetOutcome(ctx, b.ID, models.OutcomeNoShow, sales)
		if err != nil || got.Status != models.BookingNoShow || got.OutcomeMissing {
			t.Fatalf("no-show: %+v %v", got, err)
		}
		if got, err = s.SetOutcome(ctx, b.ID, models.OutcomeCompleted, sales); err != nil || got.Status != models.BookingCompleted {
			t.Fatalf("correction: %+v %v", got, err)
		}
		if evs := crmEvents(t, s, b.LeadID, "booking.no_show"); len(evs) != 1 || evs[0].Actor != models.ActorUser(sales) {
			t.Fatalf("events %+v", evs)
		}
		if len(crmEvents(t, s, b.LeadID, "booking.completed")) != 1 {
			t.Fatal("no booking.completed event")
		}
	})
}

func TestEraseLead_RemovesThePersonCancelsFutureCallsKeepsCounts(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := mustOpen(t, dialect)
		ctx := context.Background()
		admin := mustStaffUser(t, s, "admin@example.com", models.RoleAdmin)
		starts := crmSlots(t, s, 2)
		past := crmBook(t, s, "ada@example.com", starts[0])
		future := crmBook(t, s, "ADA@example.com", starts[1].Add(24*time.Hour))
		lead := past.Lead
		if _, err := s.AddNote(ctx, lead.ID, "likes Go", admin); err != nil {
			t.Fatal(err)
		}
		clock.Set(starts[0].Add(time.Hour))
		if err := s.EraseLead(ctx, lead.ID, admin); err != nil {
			t.Fatal(err)
		}
		var l models.Lead
		s.DB().Take(&l, lead.ID)
		if l.ErasedAt == nil || l.Email != "" || l.Phone != "" || strings.Contains(l.Name, "Ada") ||
			l.EmailKey != "erased:"+itoa(lead.ID) || l.TargetTitle != "Backend Engineer" || l.UTMSource != "google" ||
			l.Referrer != "https://news.example.com" {
			t.Fatalf("lead after erase: %+v", l)
		}
		var fb models.Booking
		s.DB().Take(&fb, future.Booking.ID)
		if fb.Status != models.BookingCanceled || fb.Message != "" {
			t.Fatalf("future booking: %+v", fb)
		}
		var pb models.Booking
		s.DB().Take(&pb, past.Booking.ID)
		if pb.Status != models.BookingConfirmed || pb.Message != "" {
			t.Fatalf("past booking: %+v", pb)
		}
		var claims, notes, pending, pendingReminders int64
		s.DB().Model(&models.BookingClaim{}).Where("booking_id = ?", fb.ID).Count(&claims)
		s.DB().Model(&models.Note{}).Where("lead_id = ?", lead.ID).Count(&notes)
		s.DB().Model(&models.OutboxMessage{}).Where("lead_id = ? AND status = ? AND kind <> ?", lead.ID, models.OutboxPending, models.MailHostNotice).Count(&pending)
		s.DB().Model(&models.Reminder{}).Where("booking_id = ? AND status = ?", fb.ID, models.ReminderPending).Count(&pendingReminders)
		if claims != 0 || notes != 0 || pending != 0 || pendingReminders != 0 {
			t.Fatalf("claims %d, notes %d, pending visitor mail %d, pending reminders %d", claims, notes, pending, pendingReminders)
		}
		var mails []models.OutboxMessage
		s.DB().Where("lead_id = ?", lead.ID).Find(&mails)
		for _, m := range mails {
			if strings.Contains(strings.ToLower(m.ToAddr+m.Payload), "ada@") || strings.Contains(m.Payload, "Please call me") {
				t.Fatalf("outbox row %d keeps personal data: %s %s", m.ID, m.ToAddr, m.Payload)
			}
		}
		if len(crmEvents(t, s, lead.ID, "lead.erased")) != 1 {
			t.Fatal("no lead.erased event")
		}
		if _, err := s.LeadDetail(ctx, lead.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("erased lead still shown: %v", err)
		}
		if err := s.EraseLead(ctx, lead.ID, admin); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("second erase: %v", err)
		}
		again := crmBook(t, s, "ada@example.com", fb.StartAt) // the freed time is offered again
		if again.Lead.ID == lead.ID || !again.NewLead {
			t.Fatal("the same address did not start a new lead")
		}
	})
}

func itoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }

func TestTargetTitlesAndCountLeadsUpTo(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		now := s.Now()
		for i, title := range []string{"SRE", "Backend Engineer", "SRE", "Data Engineer", "Backend Engineer"} {
			l := models.Lead{EmailKey: "l" + itoa(uint(i)) + "@example.com", Email: "x@example.com", Name: "L", TargetTitle: title,
				Status: models.LeadNew, CreatedAt: now, UpdatedAt: now}
			if err := s.DB().Create(&l).Error; err != nil {
				t.Fatal(err)
			}
		}
		titles, err := s.TargetTitles(ctx)
		if err != nil || strings.Join(titles, "|") != "Backend Engineer|Data Engineer|SRE" {
			t.Fatalf("titles %q %v", titles, err)
		}
		n, more, err := s.CountLeadsUpTo(ctx, store.LeadFilter{}, 3)
		if err != nil || n != 3 || !more {
			t.Fatalf("capped count %d %v %v", n, more, err)
		}
		n, more, err = s.CountLeadsUpTo(ctx, store.LeadFilter{TargetTitle: "SRE"}, 3)
		if err != nil || n != 2 || more {
			t.Fatalf("filtered count %d %v %v", n, more, err)
		}
	})
}
