package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// deliveryTypes lists the event types of a webhook's deliveries in id order.
func deliveryTypes(t *testing.T, s *store.Store, hookID uint) []string {
	t.Helper()
	var rows []models.WebhookDelivery
	if err := s.DB().Where("webhook_id = ?", hookID).Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, d := range rows {
		out[i] = d.Type
	}
	return out
}

func TestQueueWebhooks_EveryChangeWritesItsDeliveryInItsTransaction(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := mustOpen(t, dialect)
		ctx := context.Background()
		if n := len(deliveryTypes(t, s, 1)); n != 0 {
			t.Fatalf("%d deliveries before any webhook", n)
		}
		all, err := s.CreateWebhook(ctx, models.WebhookInput{URL: "https://crm.example.com/a", Events: []string{"*"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		calls, err := s.CreateWebhook(ctx, models.WebhookInput{URL: "https://crm.example.com/b",
			Events: []string{models.WebhookBookingCreated, models.WebhookBookingCanceled}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		admin := mustStaffUser(t, s, "admin@example.com", models.RoleAdmin)

		slots, _, err := s.Slots(ctx, s.Now(), s.Now().Add(7*24*time.Hour))
		if err != nil || len(slots) < 3 {
			t.Fatalf("slots: %d %v", len(slots), err)
		}
		first := storetest.MustBookAt(t, s, slots[0].Start, "ada@example.com")
		second := storetest.MustBookAt(t, s, slots[1].Start, "ada@example.com")
		if _, err := s.RescheduleBookingByID(ctx, second.Booking.ID, slots[2].Start, models.ActorVisitor); err != nil {
			t.Fatal(err)
		}
		status := models.LeadContacted
		if _, err := s.UpdateLead(ctx, first.Lead.ID, models.LeadChange{Status: &status}, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateLead(ctx, first.Lead.ID, models.LeadChange{Status: &status}, admin); err != nil {
			t.Fatal(err) // no change: no delivery
		}
		if _, err := s.CancelBookingByID(ctx, second.Booking.ID, "", models.ActorVisitor); err != nil {
			t.Fatal(err)
		}
		clock.Set(first.Booking.EndAt.Add(time.Minute))
		if _, err := s.SetOutcome(ctx, first.Booking.ID, models.OutcomeCompleted, admin); err != nil {
			t.Fatal(err)
		}
		if err := s.EraseLead(ctx, first.Lead.ID, admin); err != nil {
			t.Fatal(err)
		}

		got := strings.Join(deliveryTypes(t, s, all.ID), " ")
		want := "lead.created booking.created booking.created booking.rescheduled lead.updated booking.canceled booking.outcome lead.erased"
		if got != want {
			t.Errorf("deliveries to the \"*\" webhook:\n got %s\nwant %s", got, want)
		}
		if got, want := strings.Join(deliveryTypes(t, s, calls.ID), " "), "booking.created booking.created booking.canceled"; got != want {
			t.Errorf("deliveries to the booking webhook: %s, want %s", got, want)
		}
		var bodies []string
		if err := s.DB().Model(&models.WebhookDelivery{}).Where("lead_id = ?", first.Lead.ID).Pluck("body", &bodies).Error; err != nil {
			t.Fatal(err)
		}
		for _, b := range bodies {
			if strings.Contains(b, "ada@example.com") {
				t.Errorf("a delivery body still holds the erased address: %s", b)
			}
		}
	})
}

func TestQueueWebhooks_AFailedChangeQueuesNothing(t *testing.T) {
	s, _ := mustOpen(t, store.DialectSQLite)
	ctx := context.Background()
	hook, err := s.CreateWebhook(ctx, models.WebhookInput{URL: "https://crm.example.com/a", Events: []string{"*"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	slot := firstSlot(t, s)
	storetest.MustBookAt(t, s, slot, "ada@example.com")
	if _, err := s.BookSlot(ctx, storetest.Visitor("bob@example.com", slot), nil); err == nil {
		t.Fatal("a second booking of one slot succeeded")
	}
	if got := strings.Join(deliveryTypes(t, s, hook.ID), " "); got != "lead.created booking.created" {
		t.Fatalf("deliveries %s, want only the first booking's", got)
	}
}
