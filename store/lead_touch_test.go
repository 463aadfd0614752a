package store_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

func TestBookSlot_ReturningVisitorChangesAreEventsWithOldAndNewValues(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		slots := crmSlots(t, s, 3)
		first := crmBook(t, s, "ada@example.com", slots[0]) // Ada, Backend Engineer, +1 555 0100

		again := request("ADA@example.com", slots[1])
		again.Name, again.TargetTitle, again.Phone = "Ada Lovelace", "Platform Engineer", "+44 20 7946 0000"
		res, err := s.BookSlot(ctx, again, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Lead.ID != first.Lead.ID {
			t.Fatalf("a second lead %d for the same address", res.Lead.ID)
		}
		l, err := s.LeadByID(ctx, first.Lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if l.Name != "Ada Lovelace" || l.TargetTitle != "Platform Engineer" || l.Phone != "+44 20 7946 0000" {
			t.Fatalf("lead not updated: %+v", l)
		}
		evs := crmEvents(t, s, l.ID, "lead.details_changed")
		if len(evs) != 1 || evs[0].Actor != models.ActorVisitor {
			t.Fatalf("details events %+v", evs)
		}
		var got map[string]map[string]string
		if err := json.Unmarshal([]byte(evs[0].Data), &got); err != nil {
			t.Fatal(err)
		}
		want := map[string][2]string{
			"name":         {"Ada", "Ada Lovelace"},
			"target_title": {"Backend Engineer", "Platform Engineer"},
			"phone":        {"+1 555 0100", "+44 20 7946 0000"},
		}
		if len(got) != len(want) {
			t.Fatalf("changes %v, want %v", got, want)
		}
		for k, w := range want {
			if got[k]["from"] != w[0] || got[k]["to"] != w[1] {
				t.Errorf("%s: %v, want from %q to %q", k, got[k], w[0], w[1])
			}
		}
		// The confirmation of the second call greets them by their new name.
		var payload string
		s.DB().Model(&models.OutboxMessage{}).Where("booking_id = ? AND kind = ?", res.Booking.ID, models.MailConfirmation).Pluck("payload", &payload)
		var md models.MailData
		if err := json.Unmarshal([]byte(payload), &md); err != nil || md.Name != "Ada Lovelace" {
			t.Fatalf("confirmation for %q (%v)", md.Name, err)
		}

		// The same details again, with the phone left blank, change nothing.
		same := request("ada@example.com", slots[2])
		same.Name, same.TargetTitle = "Ada Lovelace", "Platform Engineer"
		if _, err := s.BookSlot(ctx, same, nil); err != nil {
			t.Fatal(err)
		}
		if n := len(crmEvents(t, s, l.ID, "lead.details_changed")); n != 1 {
			t.Fatalf("%d details events after a booking that changed nothing", n)
		}
		if l, _ := s.LeadByID(ctx, l.ID); l.Phone != "+44 20 7946 0000" {
			t.Fatalf("a blank phone erased the one on file: %q", l.Phone)
		}
	})
}

func TestBookSlot_KeepsFirstTouchAndLatestTouchInLeadAndCSV(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		slots := crmSlots(t, s, 3)
		one := request("ada@example.com", slots[0])
		one.UTMMedium, one.UTMCampaign, one.Referrer = "cpc", "be-2026", "https://www.google.com/"
		first, err := s.BookSlot(ctx, one, nil)
		if err != nil {
			t.Fatal(err)
		}
		two := request("ada@example.com", slots[1])
		two.UTMSource, two.UTMMedium, two.UTMContent, two.Referrer = "newsletter", "email", "=HYPERLINK()", "https://mail.example.com/"
		if _, err := s.BookSlot(ctx, two, nil); err != nil {
			t.Fatal(err)
		}
		// A visit with no source at all (a typed address) keeps the latest one.
		three := request("ada@example.com", slots[2])
		three.UTMSource = ""
		if _, err := s.BookSlot(ctx, three, nil); err != nil {
			t.Fatal(err)
		}
		l, err := s.LeadByID(ctx, first.Lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if l.FirstUTMSource != "google" || l.FirstUTMMedium != "cpc" || l.FirstUTMCampaign != "be-2026" || l.FirstReferrer != "https://www.google.com/" {
			t.Errorf("first touch %+v", l)
		}
		if l.UTMSource != "newsletter" || l.UTMMedium != "email" || l.UTMCampaign != "" || l.Referrer != "https://mail.example.com/" {
			t.Errorf("latest touch %+v", l)
		}

		var out bytes.Buffer
		if _, err := s.ExportLeads(ctx, store.LeadFilter{}, &out, nil); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&out).ReadAll()
		if err != nil || len(recs) != 2 {
			t.Fatalf("csv %v (%v)", recs, err)
		}
		row := map[string]string{}
		for i, h := range recs[0] {
			row[h] = recs[1][i]
		}
		for col, want := range map[string]string{
			"utm_source": "newsletter", "utm_medium": "email", "utm_content": "'=HYPERLINK()", "referrer": "https://mail.example.com/",
			"first_utm_source": "google", "first_utm_medium": "cpc", "first_utm_campaign": "be-2026",
			"first_utm_term": "", "first_utm_content": "", "first_referrer": "https://www.google.com/",
		} {
			if row[col] != want {
				t.Errorf("column %s = %q, want %q", col, row[col], want)
			}
		}
		if idx := slices.Index(recs[0], "first_utm_source"); idx != 20 {
			t.Errorf("first_utm_source is column %d, want 20 (after the contract's columns)", idx)
		}
	})
}

// mustStaffHost creates a staff host who can sign in and disables the
// built-in team host, so every call goes to the new one.
func mustStaffHost(t *testing.T, s *store.Store, email, name string) *models.User {
	t.Helper()
	ctx := context.Background()
	u, err := s.CreateUser(ctx, models.NewUser{Email: email, Name: name, Role: models.RoleSales, Host: true, Password: "a long passphrase for sam"})
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := s.Hosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	off := true
	for _, h := range hosts {
		if h.Name == models.DefaultHostName {
			if _, err := s.UpdateUser(ctx, h.ID, models.UserChange{Disabled: &off}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	return u
}

func leadAssignedMail(t *testing.T, s *store.Store, leadID uint) []models.OutboxMessage {
	t.Helper()
	var rows []models.OutboxMessage
	if err := s.DB().Where("lead_id = ? AND kind = ?", leadID, models.MailLeadAssigned).Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestBookSlot_FirstCallsStaffHostOwnsTheLeadAndIsEmailed(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		sam := mustStaffHost(t, s, "sam@example.com", "Sam")
		slots := crmSlots(t, s, 2)
		res := crmBook(t, s, "ada@example.com", slots[0])
		if res.Host.ID != sam.ID {
			t.Fatalf("call went to %s", res.Host.Name)
		}
		row, err := s.LeadRowByID(ctx, res.Lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if row.OwnerID == nil || *row.OwnerID != sam.ID || row.OwnerName != "Sam" {
			t.Fatalf("owner %v %q, want Sam", row.OwnerID, row.OwnerName)
		}
		evs := crmEvents(t, s, res.Lead.ID, "lead.owner_changed")
		if len(evs) != 1 || evs[0].Actor != models.ActorSystem {
			t.Fatalf("owner events %+v", evs)
		}
		mails := leadAssignedMail(t, s, res.Lead.ID)
		if len(mails) != 1 || mails[0].ToAddr != "sam@example.com" || mails[0].BookingID == nil || *mails[0].BookingID != res.Booking.ID {
			t.Fatalf("lead-assigned mail %+v", mails)
		}
		var md models.MailData
		if err := json.Unmarshal([]byte(mails[0].Payload), &md); err != nil || md.OwnerName != "Sam" || md.AssignedBy != "" || md.Name != "Ada" {
			t.Fatalf("payload %+v (%v)", md, err)
		}

		// A second call keeps the owner and sends nothing more.
		crmBook(t, s, "ada@example.com", slots[1])
		if n := len(leadAssignedMail(t, s, res.Lead.ID)); n != 1 {
			t.Fatalf("%d lead-assigned emails after a second call", n)
		}
	})
}

// A webhook's payload shows the lead as the booking left it, its new
// owner included, though on PostgreSQL the booking writes the owner with
// its last statements.
func TestBookSlot_LeadCreatedWebhookShowsTheFirstCallsOwner(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		s.SetWebhookRenderer(func(c models.WebhookChange) (json.RawMessage, error) {
			return json.Marshal(map[string]any{"owner": c.Lead.OwnerName})
		})
		if _, err := s.CreateWebhook(ctx, models.WebhookInput{URL: "https://hooks.example.com/crm",
			Events: []string{models.WebhookLeadCreated}}, nil); err != nil {
			t.Fatal(err)
		}
		mustStaffHost(t, s, "sam@example.com", "Sam")
		res := crmBook(t, s, "ada@example.com", crmSlots(t, s, 1)[0])
		var bodies []string
		s.DB().Model(&models.WebhookDelivery{}).Where("lead_id = ?", res.Lead.ID).Pluck("body", &bodies)
		if len(bodies) != 1 || !strings.Contains(bodies[0], `"owner":"Sam"`) {
			t.Fatalf("lead.created deliveries %q, want one naming Sam as the owner", bodies)
		}
	})
}

func TestBookSlot_TeamHostsCallLeavesTheLeadUnowned(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		res := crmBook(t, s, "ada@example.com", crmSlots(t, s, 1)[0])
		if res.Host.Name != models.DefaultHostName {
			t.Fatalf("call went to %s", res.Host.Name)
		}
		l, _ := s.LeadByID(context.Background(), res.Lead.ID)
		if l.OwnerID != nil {
			t.Fatalf("owner %d for a call with the team host", *l.OwnerID)
		}
		if n := len(leadAssignedMail(t, s, res.Lead.ID)); n != 0 {
			t.Fatalf("%d lead-assigned emails", n)
		}
	})
}

func TestUpdateLead_NewOwnerIsEmailedUnlessTheyTookItThemselves(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		alex := mustStaffUser(t, s, "alex@example.com", models.RoleAdmin)
		kim := mustStaffUser(t, s, "kim@example.com", models.RoleSales)
		res := crmBook(t, s, "ada@example.com", crmSlots(t, s, 1)[0])

		if _, err := s.UpdateLead(ctx, res.Lead.ID, models.LeadChange{SetOwner: true, OwnerID: &kim.ID}, alex); err != nil {
			t.Fatal(err)
		}
		mails := leadAssignedMail(t, s, res.Lead.ID)
		if len(mails) != 1 || mails[0].ToAddr != "kim@example.com" {
			t.Fatalf("lead-assigned mail %+v", mails)
		}
		var md models.MailData
		if err := json.Unmarshal([]byte(mails[0].Payload), &md); err != nil || md.AssignedBy != "alex" || md.OwnerName != "kim" || md.Start.IsZero() {
			t.Fatalf("payload %+v (%v)", md, err)
		}
		// The owner change names both owners for the timeline.
		evs := crmEvents(t, s, res.Lead.ID, "lead.owner_changed")
		if len(evs) != 1 || evs[0].Data != `{"from":null,"to":`+jsonUint(kim.ID)+`,"to_name":"kim"}` {
			t.Fatalf("owner event %+v", evs)
		}

		// Alex takes the lead over: the event names Kim as the old owner, and
		// nobody is emailed.
		if _, err := s.UpdateLead(ctx, res.Lead.ID, models.LeadChange{SetOwner: true, OwnerID: &alex.ID}, alex); err != nil {
			t.Fatal(err)
		}
		if n := len(leadAssignedMail(t, s, res.Lead.ID)); n != 1 {
			t.Fatalf("%d lead-assigned emails after a self-assignment", n)
		}
		evs = crmEvents(t, s, res.Lead.ID, "lead.owner_changed")
		var d map[string]any
		if len(evs) != 2 || json.Unmarshal([]byte(evs[1].Data), &d) != nil || d["from_name"] != "kim" || d["to_name"] != "alex" {
			t.Fatalf("second owner event %+v", evs)
		}
	})
}

func jsonUint(n uint) string { b, _ := json.Marshal(n); return string(b) }

func TestEraseLead_ScrubsChangedDetailsAndKeepsOnlyTheFirstReferrersSite(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		admin := mustStaffUser(t, s, "admin@example.com", models.RoleAdmin)
		slots := crmSlots(t, s, 2)
		first := crmBook(t, s, "ada@example.com", slots[0])
		again := request("ada@example.com", slots[1])
		again.Name = "Ada Lovelace"
		if _, err := s.BookSlot(ctx, again, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.EraseLead(ctx, first.Lead.ID, admin); err != nil {
			t.Fatal(err)
		}
		var l models.Lead
		s.DB().Take(&l, first.Lead.ID)
		if l.FirstReferrer != "https://news.example.com" || l.FirstUTMSource != "google" {
			t.Fatalf("first touch after erase: %q %q", l.FirstReferrer, l.FirstUTMSource)
		}
		evs := crmEvents(t, s, l.ID, "lead.details_changed")
		if len(evs) != 1 || evs[0].Data != "{}" {
			t.Fatalf("details events after erase %+v", evs)
		}
	})
}

func TestMigrate_GivesExistingLeadsTheirSourceAsFirstTouch(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		url, opts := storetest.URL(t, dialect), storetest.Options(storetest.NewClock(monday))
		old := storetest.MustOpenURL(t, url, opts)
		ctx := context.Background()
		res := crmBook(t, old, "ada@example.com", crmSlots(t, old, 1)[0])
		// Put the database back as it was before first touch was kept.
		for _, col := range []string{"first_utm_source", "first_utm_medium", "first_utm_campaign", "first_utm_term", "first_utm_content", "first_referrer"} {
			if err := old.DB().Exec("ALTER TABLE leads DROP COLUMN " + col).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := old.DB().Exec("DELETE FROM schema_migrations WHERE version = 9").Error; err != nil {
			t.Fatal(err)
		}
		old.Close()
		s := storetest.MustOpenURL(t, url, opts) // migrates
		// The first read after the upgrade selects leads.* on a reader
		// connection that was open before the columns were added.
		l, err := s.LeadRowByID(ctx, res.Lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if l.FirstUTMSource != "google" || l.FirstReferrer != "https://news.example.com/post?id=42" || l.BookingsCount != 1 {
			t.Fatalf("first touch after the upgrade: %+v", l)
		}
	})
}

// TestBookSlot_LaterCallWithStaffHostLeavesTheLeadUnowned: only a lead's
// first call makes its host the owner. A lead whose first call was with
// the team host stays unowned when a later call goes to a coach.
func TestBookSlot_LaterCallWithStaffHostLeavesTheLeadUnowned(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		slots := crmSlots(t, s, 2)
		first := crmBook(t, s, "ada@example.com", slots[0])
		if first.Host.Name != models.DefaultHostName {
			t.Fatalf("first call went to %s", first.Host.Name)
		}
		sam := mustStaffHost(t, s, "sam@example.com", "Sam")
		second := crmBook(t, s, "ada@example.com", slots[1])
		if second.Host.ID != sam.ID || second.Lead.ID != first.Lead.ID || second.NewLead {
			t.Fatalf("second call: host %s, lead %d (new %v), want Sam and lead %d", second.Host.Name, second.Lead.ID, second.NewLead, first.Lead.ID)
		}
		l, err := s.LeadByID(context.Background(), first.Lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if l.OwnerID != nil {
			t.Fatalf("owner %d after a later call with a coach", *l.OwnerID)
		}
		if n := len(leadAssignedMail(t, s, first.Lead.ID)); n != 0 {
			t.Fatalf("%d lead-assigned emails", n)
		}
	})
}
