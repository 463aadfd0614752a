package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// These tests run on the store opened by mustOpen: Monday 30 November 2026,
// 08:00 New York, one default host (Mon–Fri 09:00–17:00), 4 hours' notice.

// mgAt is a wall time in New York, "2006-01-02 15:04".
func mgAt(t testing.TB, wall string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.ParseInLocation("2006-01-02 15:04", wall, loc)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func mgBook(t testing.TB, s *store.Store, start time.Time, email string) *models.BookingResult {
	t.Helper()
	res, err := s.BookSlot(context.Background(), request(email, start), nil)
	if err != nil {
		t.Fatalf("book %s: %v", start, err)
	}
	return res
}

func mgOffered(t testing.TB, s *store.Store, start time.Time) bool {
	t.Helper()
	slots, _, err := s.Slots(context.Background(), start.Add(-time.Minute), start.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return len(slots) == 1 && slots[0].Start.Equal(start)
}

func mgBooking(t testing.TB, s *store.Store, id uint) models.Booking {
	t.Helper()
	var b models.Booking
	if err := s.DB().Where("id = ?", id).Take(&b).Error; err != nil {
		t.Fatal(err)
	}
	return b
}

// mgMail is one outbox row of a booking with its payload decoded.
type mgMail struct {
	models.OutboxMessage
	Data models.MailData
}

func mgOutbox(t testing.TB, s *store.Store, bookingID uint) []mgMail {
	t.Helper()
	var rows []models.OutboxMessage
	if err := s.DB().Where("booking_id = ?", bookingID).Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]mgMail, len(rows))
	for i, r := range rows {
		out[i].OutboxMessage = r
		if err := json.Unmarshal([]byte(r.Payload), &out[i].Data); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// mgFind returns the outbox rows of kind (and, for host notices, change).
func mgFind(rows []mgMail, kind, change string) []mgMail {
	var out []mgMail
	for _, r := range rows {
		if r.Kind == kind && (change == "" || r.Data.Change == change) {
			out = append(out, r)
		}
	}
	return out
}

// mgQueue puts an email about booking b in the outbox as a sender would
// find it: pending, or already sent.
func mgQueue(t testing.TB, s *store.Store, b *models.Booking, kind, status string) uint {
	t.Helper()
	id := b.ID
	now := s.Now()
	row := models.OutboxMessage{Kind: kind, BookingID: &id, ToAddr: "ada@example.com", MessageID: "<" + store.RandomToken(8) + "@t>",
		Payload: "{}", Status: status, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
	if err := s.DB().Create(&row).Error; err != nil {
		t.Fatal(err)
	}
	return row.ID
}

func mgOutboxStatus(t testing.TB, s *store.Store, id uint) string {
	t.Helper()
	var row models.OutboxMessage
	if err := s.DB().Where("id = ?", id).Take(&row).Error; err != nil {
		t.Fatal(err)
	}
	return row.Status
}

func mgReminders(t testing.TB, s *store.Store, bookingID uint) map[string]models.Reminder {
	t.Helper()
	var rows []models.Reminder
	if err := s.DB().Where("booking_id = ?", bookingID).Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]models.Reminder{}
	for _, r := range rows {
		out[r.Offset] = r
	}
	return out
}

func mgEvent(t testing.TB, s *store.Store, bookingID uint, typ string) (models.Event, map[string]any) {
	t.Helper()
	var evs []models.Event
	if err := s.DB().Where("booking_id = ? AND type = ?", bookingID, typ).Find(&evs).Error; err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("%d %s events for booking %d, want 1", len(evs), typ, bookingID)
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(evs[0].Data), &data); err != nil {
		t.Fatal(err)
	}
	return evs[0], data
}

func mgClaims(t testing.TB, s *store.Store, bookingID uint) []models.BookingClaim {
	t.Helper()
	var cs []models.BookingClaim
	if err := s.DB().Where("booking_id = ?", bookingID).Order("unit").Find(&cs).Error; err != nil {
		t.Fatal(err)
	}
	return cs
}

func mgFieldError(err error, field string) string {
	var ve *models.ValidationError
	if !errors.As(err, &ve) {
		return ""
	}
	return ve.Fields[field]
}

func TestRescheduleBooking_MovesTheCallFreesTheOldTimeAndTellsEveryone(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		from, to := mgAt(t, "2026-12-01 10:00"), mgAt(t, "2026-12-02 14:00")
		booked := mgBook(t, s, from, "ada@example.com")

		res, err := s.RescheduleBooking(ctx, booked.Token, to, "")
		if err != nil {
			t.Fatal(err)
		}
		b := mgBooking(t, s, booked.Booking.ID)
		if !b.StartAt.Equal(to) || !b.EndAt.Equal(to.Add(30*time.Minute)) || b.Sequence != 1 ||
			b.Status != models.BookingConfirmed || b.HostID != booked.Booking.HostID {
			t.Fatalf("moved booking %+v", b)
		}
		if res.Token != booked.Token || !res.Booking.StartAt.Equal(to) || res.Host.ID != b.HostID {
			t.Errorf("result %+v", res)
		}
		if byToken, err := s.BookingByToken(ctx, booked.Token); err != nil || !byToken.StartAt.Equal(to) {
			t.Errorf("the token no longer finds the moved call: %v", err)
		}
		if !mgOffered(t, s, from) || mgOffered(t, s, to) {
			t.Errorf("old time offered %v (want true), new time offered %v (want false)", mgOffered(t, s, from), mgOffered(t, s, to))
		}
		if cs := mgClaims(t, s, b.ID); len(cs) != 6 || cs[0].Unit != to.Unix() {
			t.Errorf("claims %+v, want 6 units from %d", cs, to.Unix())
		}
		rems := mgReminders(t, s, b.ID)
		if r := rems["24h"]; !r.DueAt.Equal(to.Add(-24*time.Hour)) || r.Status != models.ReminderPending {
			t.Errorf("24h reminder %+v", r)
		}
		if r := rems["1h"]; !r.DueAt.Equal(to.Add(-time.Hour)) || r.Status != models.ReminderPending {
			t.Errorf("1h reminder %+v", r)
		}

		mail := mgOutbox(t, s, b.ID)
		visitor := mgFind(mail, models.MailReschedule, "")
		if len(visitor) != 1 || visitor[0].ToAddr != "ada@example.com" || visitor[0].Data.Sequence != 1 ||
			!visitor[0].Data.Start.Equal(to) || visitor[0].Data.PreviousStart == nil || !visitor[0].Data.PreviousStart.Equal(from) {
			t.Errorf("reschedule emails %+v", visitor)
		}
		notice := mgFind(mail, models.MailHostNotice, "rescheduled")
		if len(notice) != 1 || notice[0].Data.PreviousStart == nil || !notice[0].Data.PreviousStart.Equal(from) ||
			notice[0].ToAddr != res.Host.Email {
			t.Errorf("host notices %+v", notice)
		}

		ev, data := mgEvent(t, s, b.ID, models.EventBookingRescheduled)
		if ev.Actor != models.ActorVisitor || data["actor"] != models.ActorVisitor || ev.LeadID == nil || *ev.LeadID != booked.Lead.ID {
			t.Errorf("event %+v", ev)
		}
		if data["from"] != from.UTC().Format(time.RFC3339) || data["to"] != to.UTC().Format(time.RFC3339) {
			t.Errorf("event data %v", data)
		}
	})
}

func TestRescheduleBooking_WithdrawsUnsentRemindersAndSkipsOnesAlreadyDue(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		booked := mgBook(t, s, mgAt(t, "2026-12-03 10:00"), "ada@example.com")
		pending := mgQueue(t, s, booked.Booking, "reminder-24h", models.OutboxPending)
		sent := mgQueue(t, s, booked.Booking, "reminder-1h", models.OutboxSent)

		// Monday 15:00 is 7 hours away: its 24h reminder is already past.
		to := mgAt(t, "2026-11-30 15:00")
		if _, err := s.RescheduleBooking(context.Background(), booked.Token, to, ""); err != nil {
			t.Fatal(err)
		}
		if st := mgOutboxStatus(t, s, pending); st != models.OutboxCanceled {
			t.Errorf("unsent reminder about the old time is %s, want canceled", st)
		}
		if st := mgOutboxStatus(t, s, sent); st != models.OutboxSent {
			t.Errorf("a sent email became %s", st)
		}
		// The unsent confirmation named the old time: the reschedule email,
		// with the new invite, replaces it.
		if st := mgOutboxStatus(t, s, mgFind(mgOutbox(t, s, booked.Booking.ID), models.MailConfirmation, "")[0].ID); st != models.OutboxCanceled {
			t.Errorf("the unsent confirmation is %s, want canceled", st)
		}
		if st := mgOutboxStatus(t, s, mgFind(mgOutbox(t, s, booked.Booking.ID), models.MailReschedule, "")[0].ID); st != models.OutboxPending {
			t.Errorf("the reschedule email is %s, want pending", st)
		}
		rems := mgReminders(t, s, booked.Booking.ID)
		if rems["24h"].Status != models.ReminderSkipped || rems["1h"].Status != models.ReminderPending ||
			!rems["1h"].DueAt.Equal(to.Add(-time.Hour)) {
			t.Errorf("reminders %+v", rems)
		}
	})
}

func TestRescheduleBooking_KeepsItsHostWhenFreeElseTakesAFreeOne(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		first := mgBook(t, s, mgAt(t, "2026-12-01 10:00"), "ada@example.com")
		second := mgBook(t, s, mgAt(t, "2026-12-01 11:00"), "bob@example.com")
		hostA := first.Host
		addHost(t, s, "Grace") // no calls yet: the least loaded

		res, err := s.RescheduleBooking(ctx, first.Token, mgAt(t, "2026-12-02 10:00"), "")
		if err != nil {
			t.Fatal(err)
		}
		if res.Host.ID != hostA.ID {
			t.Fatalf("moved to a free time, the call went from %s to %s", hostA.Name, res.Host.Name)
		}

		// Host A holds 11:00 with the second call, so only Grace is free.
		res, err = s.RescheduleBooking(ctx, first.Token, second.Booking.StartAt, "")
		if err != nil {
			t.Fatal(err)
		}
		if res.Host.Name != "Grace" {
			t.Fatalf("the call went to %s, want Grace", res.Host.Name)
		}
		if b := mgBooking(t, s, second.Booking.ID); b.HostID != hostA.ID || !b.StartAt.Equal(second.Booking.StartAt) {
			t.Fatalf("the other call was disturbed: %+v", b)
		}
		mail := mgOutbox(t, s, first.Booking.ID)
		off := mgFind(mail, models.MailHostNotice, "canceled")
		if len(off) != 1 || off[0].ToAddr != hostA.Email || !off[0].Data.Start.Equal(mgAt(t, "2026-12-02 10:00")) {
			t.Errorf("the previous host was not told the call left them: %+v", off)
		}
		if on := mgFind(mail, models.MailHostNotice, "rescheduled"); len(on) != 2 || on[1].ToAddr != "Grace@callbook.test" {
			t.Errorf("host notices of the move %+v", on)
		}
	})
}

// TestRescheduleBooking_RaceWithANewBookingHasOneWinner moves a call to a
// slot while a new visitor books that same slot, many times over.
func TestRescheduleBooking_RaceWithANewBookingHasOneWinner(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		slots, _, err := s.Slots(ctx, mgAt(t, "2026-12-01 00:00"), mgAt(t, "2026-12-04 00:00"))
		if err != nil || len(slots) < 24 {
			t.Fatalf("slots: %d, %v", len(slots), err)
		}
		moves := 0
		for round := range 12 {
			from, to := slots[2*round].Start, slots[2*round+1].Start
			booked := mgBook(t, s, from, "mover"+string(rune('a'+round))+"@example.com")
			var moveErr, bookErr error
			var wg sync.WaitGroup
			gate := make(chan struct{})
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-gate
				_, moveErr = s.RescheduleBooking(ctx, booked.Token, to, "")
			}()
			go func() {
				defer wg.Done()
				<-gate
				_, bookErr = s.BookSlot(ctx, request("rival"+string(rune('a'+round))+"@example.com", to), nil)
			}()
			close(gate)
			wg.Wait()
			switch {
			case moveErr == nil && errors.Is(bookErr, models.ErrSlotTaken):
				moves++
				if b := mgBooking(t, s, booked.Booking.ID); !b.StartAt.Equal(to) {
					t.Fatalf("round %d: the move won but the call is at %s", round, b.StartAt)
				}
			case bookErr == nil && errors.Is(moveErr, models.ErrSlotTaken):
				if b := mgBooking(t, s, booked.Booking.ID); !b.StartAt.Equal(from) || b.Sequence != 0 || len(mgClaims(t, s, b.ID)) != 6 {
					t.Fatalf("round %d: the lost move left a trace: %+v", round, b)
				}
			default:
				t.Fatalf("round %d: move %v, booking %v: want exactly one ErrSlotTaken", round, moveErr, bookErr)
			}
			var atTo int64
			s.DB().Model(&models.Booking{}).Where("status = ? AND start_at = ?", models.BookingConfirmed, to.UTC()).Count(&atTo)
			if atTo != 1 {
				t.Fatalf("round %d: %d confirmed calls at %s", round, atTo, to)
			}
		}
		t.Logf("%d of 12 rounds won by the move", moves)
	})
}

func TestCancelBooking_FreesTheSlotAtOnceAndWithdrawsWhatWasPending(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		start := mgAt(t, "2026-12-01 10:00")
		booked := mgBook(t, s, start, "ada@example.com")
		reminderMail := mgQueue(t, s, booked.Booking, "reminder-24h", models.OutboxPending)
		reason := "Found a job!\nThanks anyway."

		b, err := s.CancelBooking(ctx, booked.Token, "  "+reason+"  ", "")
		if err != nil {
			t.Fatal(err)
		}
		stored := mgBooking(t, s, booked.Booking.ID)
		if stored.Status != models.BookingCanceled || stored.CanceledAt == nil || stored.CancelReason != reason ||
			stored.Sequence != 1 || b.Status != models.BookingCanceled || b.Sequence != 1 {
			t.Fatalf("canceled booking %+v", stored)
		}
		if len(mgClaims(t, s, stored.ID)) != 0 {
			t.Error("the canceled call still holds its time")
		}
		if !mgOffered(t, s, start) {
			t.Fatal("the freed slot is not offered")
		}
		again := mgBook(t, s, start, "bob@example.com")
		if !again.Booking.StartAt.Equal(start) || again.Host.ID != booked.Host.ID {
			t.Errorf("booking of the freed slot %+v", again.Booking)
		}

		for off, r := range mgReminders(t, s, stored.ID) {
			if r.Status == models.ReminderPending {
				t.Errorf("reminder %s is still pending", off)
			}
		}
		mail := mgOutbox(t, s, stored.ID)
		if st := mgOutboxStatus(t, s, reminderMail); st != models.OutboxCanceled {
			t.Errorf("unsent reminder is %s, want canceled", st)
		}
		if c := mgFind(mail, models.MailConfirmation, ""); len(c) != 1 || c[0].Status != models.OutboxCanceled {
			t.Errorf("the unsent confirmation was not withdrawn: %+v", c)
		}
		cancel := mgFind(mail, models.MailCancellation, "")
		if len(cancel) != 1 || cancel[0].Status != models.OutboxPending || cancel[0].Data.Reason != reason ||
			cancel[0].Data.Sequence != 1 || cancel[0].Data.BookingUID != stored.UID {
			t.Errorf("cancellation emails %+v", cancel)
		}
		if n := mgFind(mail, models.MailHostNotice, "canceled"); len(n) != 1 || n[0].Data.Reason != reason ||
			n[0].Status != models.OutboxPending {
			t.Errorf("host notices %+v", n)
		}

		ev, data := mgEvent(t, s, stored.ID, models.EventBookingCanceled)
		if ev.Actor != models.ActorVisitor || data["reason"] != reason || data["actor"] != models.ActorVisitor {
			t.Errorf("event %+v %v", ev, data)
		}
		if byToken, err := s.BookingByToken(ctx, booked.Token); err != nil || byToken.Status != models.BookingCanceled {
			t.Errorf("the token no longer shows the canceled call: %v", err)
		}
	})
}

func TestCancelBookingByID_RecordsTheStaffMember(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		booked := mgBook(t, s, mgAt(t, "2026-12-01 10:00"), "ada@example.com")
		staff := models.ActorUser(&models.User{Name: "Sam", Email: "sam@callbook.test"})
		if _, err := s.CancelBookingByID(context.Background(), booked.Booking.ID, "", staff); err != nil {
			t.Fatal(err)
		}
		ev, data := mgEvent(t, s, booked.Booking.ID, models.EventBookingCanceled)
		if ev.Actor != staff || data["actor"] != staff || data["reason"] != "" {
			t.Errorf("event %+v %v", ev, data)
		}
		if _, err := s.CancelBookingByID(context.Background(), booked.Booking.ID+100, "", staff); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown id: %v", err)
		}
	})
}

// TestManageBooking_ClosedCallsCannotChange: a call that was canceled, has
// begun (to the second) or has ended can be neither moved nor canceled, and
// a refusal writes nothing.
func TestManageBooking_ClosedCallsCannotChange(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := mustOpen(t, dialect)
		ctx := context.Background()
		ended := mgBook(t, s, mgAt(t, "2026-11-30 13:00"), "ended@example.com")
		begun := mgBook(t, s, mgAt(t, "2026-11-30 14:00"), "begun@example.com")
		canceled := mgBook(t, s, mgAt(t, "2026-12-01 10:00"), "canceled@example.com")
		if _, err := s.CancelBooking(ctx, canceled.Token, "", ""); err != nil {
			t.Fatal(err)
		}
		clock.Set(begun.Booking.StartAt)
		target := mgAt(t, "2026-12-02 10:00")
		for name, res := range map[string]*models.BookingResult{"ended": ended, "begun": begun, "canceled": canceled} {
			before := mgBooking(t, s, res.Booking.ID)
			mails := len(mgOutbox(t, s, res.Booking.ID))
			if _, err := s.RescheduleBooking(ctx, res.Token, target, ""); !errors.Is(err, models.ErrBookingClosed) {
				t.Errorf("%s: reschedule gave %v, want ErrBookingClosed", name, err)
			}
			if _, err := s.CancelBooking(ctx, res.Token, "", ""); !errors.Is(err, models.ErrBookingClosed) {
				t.Errorf("%s: cancel gave %v, want ErrBookingClosed", name, err)
			}
			if _, err := s.CancelBookingByID(ctx, res.Booking.ID, "", ""); !errors.Is(err, models.ErrBookingClosed) {
				t.Errorf("%s: staff cancel gave %v, want ErrBookingClosed", name, err)
			}
			after := mgBooking(t, s, res.Booking.ID)
			if after.Sequence != before.Sequence || after.Status != before.Status || len(mgOutbox(t, s, res.Booking.ID)) != mails {
				t.Errorf("%s: a refused change wrote something: %+v", name, after)
			}
		}
	})
}

func TestRescheduleBooking_RefusesTimesThatCannotBeBooked(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		booked := mgBook(t, s, mgAt(t, "2026-12-01 10:00"), "ada@example.com")
		other := mgBook(t, s, mgAt(t, "2026-12-01 11:00"), "bob@example.com")

		// 11:30 today is on the grid but inside the 4 hours' notice.
		_, err := s.RescheduleBooking(ctx, booked.Token, mgAt(t, "2026-11-30 11:30"), "")
		if msg := mgFieldError(err, "start"); !strings.Contains(msg, "4 hours") {
			t.Errorf("inside the notice: %v", err)
		}
		if _, err := s.RescheduleBooking(ctx, booked.Token, booked.Booking.StartAt, ""); mgFieldError(err, "start") == "" {
			t.Errorf("to its own time: %v", err)
		}
		for name, at := range map[string]time.Time{
			"taken":            other.Booking.StartAt,
			"off the grid":     mgAt(t, "2026-12-01 10:10"),
			"a Saturday":       mgAt(t, "2026-12-05 10:00"),
			"past the horizon": mgAt(t, "2027-01-15 10:00"),
		} {
			if _, err := s.RescheduleBooking(ctx, booked.Token, at, ""); !errors.Is(err, models.ErrSlotTaken) {
				t.Errorf("%s: %v, want ErrSlotTaken", name, err)
			}
		}
		if b := mgBooking(t, s, booked.Booking.ID); !b.StartAt.Equal(booked.Booking.StartAt) || b.Sequence != 0 ||
			len(mgClaims(t, s, b.ID)) != 6 || len(mgOutbox(t, s, b.ID)) != 2 {
			t.Errorf("a refused move changed the booking: %+v", b)
		}
	})
}

func TestManageBooking_UnknownTokensAreNotFound(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		booked := mgBook(t, s, mgAt(t, "2026-12-01 10:00"), "ada@example.com")
		wrong := booked.Token[:len(booked.Token)-2] + "xx"
		for _, tok := range []string{"", "short", wrong, strings.Repeat("a", 200)} {
			if _, err := s.RescheduleBooking(ctx, tok, mgAt(t, "2026-12-02 10:00"), ""); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("reschedule %q: %v", tok, err)
			}
			if _, err := s.CancelBooking(ctx, tok, "", ""); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("cancel %q: %v", tok, err)
			}
		}
	})
}

func TestCancelBooking_ValidatesTheReason(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		booked := mgBook(t, s, mgAt(t, "2026-12-01 10:00"), "ada@example.com")
		for _, reason := range []string{strings.Repeat("é", 1001), "bell\x07"} {
			if _, err := s.CancelBooking(context.Background(), booked.Token, reason, ""); mgFieldError(err, "reason") == "" {
				t.Errorf("reason %.20q: %v, want a ValidationError on reason", reason, err)
			}
		}
		if b := mgBooking(t, s, booked.Booking.ID); b.Status != models.BookingConfirmed {
			t.Errorf("a refused cancel changed the booking: %+v", b)
		}
		if _, err := s.CancelBooking(context.Background(), booked.Token, strings.Repeat("é", 1000), ""); err != nil {
			t.Errorf("a 1000-character reason: %v", err)
		}
	})
}

// TestRescheduleBooking_ClaimClashRollsBackEverything: when the database
// refuses the new claims, the move leaves no trace at all.
func TestRescheduleBooking_ClaimClashRollsBackEverything(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		booked := mgBook(t, s, mgAt(t, "2026-12-01 10:00"), "ada@example.com")
		to := mgAt(t, "2026-12-02 10:00")
		// A claim the slot arithmetic does not know about, as a racer in
		// another process would hold it.
		stray := models.BookingClaim{HostID: booked.Host.ID, Unit: to.Add(10 * time.Minute).Unix(), BookingID: booked.Booking.ID + 100}
		if err := s.DB().Create(&stray).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := s.RescheduleBooking(context.Background(), booked.Token, to, ""); !errors.Is(err, models.ErrSlotTaken) {
			t.Fatalf("got %v, want ErrSlotTaken", err)
		}
		b := mgBooking(t, s, booked.Booking.ID)
		cs := mgClaims(t, s, b.ID)
		if !b.StartAt.Equal(booked.Booking.StartAt) || b.Sequence != 0 || len(cs) != 6 || cs[0].Unit != b.StartAt.Unix() {
			t.Fatalf("booking %+v with claims %+v after a failed move", b, cs)
		}
		if rems := mgReminders(t, s, b.ID); !rems["1h"].DueAt.Equal(b.StartAt.Add(-time.Hour)) {
			t.Errorf("reminders moved by a failed move: %+v", rems)
		}
		if mail := mgOutbox(t, s, b.ID); len(mail) != 2 {
			t.Errorf("a failed move queued mail: %d rows", len(mail))
		}
		var evs int64
		s.DB().Model(&models.Event{}).Where("type = ?", models.EventBookingRescheduled).Count(&evs)
		if evs != 0 {
			t.Error("a failed move wrote an event")
		}
	})
}

func TestSlotsMoving_OwnBufferNoLongerBlocksNeighbours(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		cfg, err := s.Availability(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		cfg.BufferMinutes = 15
		if _, err := s.SetAvailability(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		booked := mgBook(t, s, mgAt(t, "2026-12-02 10:00"), "ada@example.com")
		next := mgAt(t, "2026-12-02 10:30")
		if mgOffered(t, s, next) {
			t.Fatal("10:30 should be blocked for new visitors by the 10:00 call's buffer")
		}
		slots, _, err := s.SlotsMoving(ctx, booked.Booking, mgAt(t, "2026-12-02 09:00"), mgAt(t, "2026-12-02 12:00"))
		if err != nil {
			t.Fatal(err)
		}
		var has1030, has1000 bool
		for _, sl := range slots {
			has1030 = has1030 || sl.Start.Equal(next)
			has1000 = has1000 || sl.Start.Equal(booked.Booking.StartAt)
		}
		if !has1030 || has1000 {
			t.Fatalf("moving the 10:00 call: 10:30 offered %v, its own 10:00 offered %v", has1030, has1000)
		}
		if _, err := s.RescheduleBooking(ctx, booked.Token, next, ""); err != nil {
			t.Fatalf("the offered move is refused: %v", err)
		}
	})
}

// TestCancelAndReschedule_ReleaseTheBufferClaimedWhenBooked books calls
// under the longest buffer, then shortens it: canceling or moving a call
// still frees every unit it claimed, buffer included.
func TestCancelAndReschedule_ReleaseTheBufferClaimedWhenBooked(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		setBuffer := func(minutes int) {
			t.Helper()
			cfg, err := s.Availability(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			cfg.BufferMinutes = minutes
			if _, err := s.SetAvailability(ctx, cfg); err != nil {
				t.Fatal(err)
			}
		}
		setBuffer(240)
		canceled := mgBook(t, s, mgAt(t, "2026-12-01 09:00"), "ada@example.com")
		moved := mgBook(t, s, mgAt(t, "2026-12-02 09:00"), "bob@example.com")
		for _, b := range []*models.BookingResult{canceled, moved} {
			if n := len(mgClaims(t, s, b.Booking.ID)); n != (30+240)/5 {
				t.Fatalf("call %d holds %d units, want %d", b.Booking.ID, n, (30+240)/5)
			}
		}
		setBuffer(0)
		if _, err := s.CancelBooking(ctx, canceled.Token, "", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RescheduleBooking(ctx, moved.Token, mgAt(t, "2026-12-03 09:00"), ""); err != nil {
			t.Fatal(err)
		}
		if n := len(mgClaims(t, s, canceled.Booking.ID)); n != 0 {
			t.Errorf("the canceled call still holds %d units", n)
		}
		if n := len(mgClaims(t, s, moved.Booking.ID)); n != 30/5 {
			t.Errorf("the moved call holds %d units, want its new %d", n, 30/5)
		}
	})
}
