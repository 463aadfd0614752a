package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// searchNames are the names random leads are made from: shared fragments
// ("ann", "son") match several leads, accents and quotes must not break
// the index or the query.
var searchNames = []string{"Ann Johnson", "Joanna Anderson", "Björn Ström", `Robert "Bob" Smith`,
	"María José", "Lee", "Annika Olsson", "Sonia Hanson", "O'Brien Kate", "Zoë 100%"}

// TestLeadSearch_IndexInStepWithLeads changes leads at random (new leads,
// returning visitors under a new name, direct edits, erasures) and after
// each round checks that searching any fragment finds exactly the live leads
// whose name or email contains it, as a scan of the table says.
func TestLeadSearch_IndexInStepWithLeads(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(7, 11))
		starts := crmSlots(t, s, 12)
		admin := mustStaffUser(t, s, "admin@example.com", models.RoleAdmin)
		var ids []uint
		for round := range 4 {
			for i := range 15 {
				name := searchNames[rng.IntN(len(searchNames))]
				email := fmt.Sprintf("%s.%d.%d@Example.com", strings.Fields(name)[0], round, i)
				l := models.Lead{EmailKey: models.NormalizeEmail(email), Email: email, Name: name, TargetTitle: "Backend Engineer",
					Status: models.LeadNew, CreatedAt: s.Now(), UpdatedAt: s.Now()}
				if err := s.DB().Create(&l).Error; err != nil {
					t.Fatal(err)
				}
				ids = append(ids, l.ID)
			}
			// A returning visitor books under another name.
			var back models.Lead
			s.DB().First(&back, ids[rng.IntN(len(ids))])
			if back.ErasedAt == nil {
				req := request(back.Email, starts[round])
				req.Name = "Ingrid Returning" + fmt.Sprint(round)
				if _, err := s.BookSlot(ctx, req, nil); err != nil {
					t.Fatalf("returning visitor: %v", err)
				}
			}
			// Staff-side edits and erasures.
			for range 3 {
				id := ids[rng.IntN(len(ids))]
				if err := s.DB().Model(&models.Lead{}).Where("id = ?", id).Update("name", "Edited Name "+fmt.Sprint(id)).Error; err != nil {
					t.Fatal(err)
				}
			}
			for range 2 {
				if err := s.EraseLead(ctx, ids[rng.IntN(len(ids))], admin); err != nil {
					t.Fatalf("erase: %v", err)
				}
			}
			for _, frag := range []string{"ann", "SON", "björn", `"bob"`, "maría", "100%", "o'b", "example.com", ".2.",
				"returning", "edited name", "lee", "nobody-at-all", "an", "e"} {
				store.CheckSearch(t, s, frag)
			}
		}
	})
}

// TestLeadSearch_ErasedLeadLeavesTheIndex checks the index itself, not only
// the list's erased filter: after erasure no index entry holds the name, and
// the lead's row holds neither the name nor the email.
func TestLeadSearch_ErasedLeadLeavesTheIndex(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		res := crmBook(t, s, "quintessa@example.com", crmSlots(t, s, 1)[0])
		ctx := context.Background()
		res.Lead.Name = "Quintessa Vale"
		if err := s.DB().Model(res.Lead).Update("name", "Quintessa Vale").Error; err != nil {
			t.Fatal(err)
		}
		// indexed counts the index entries that hold "quintessa" (in the
		// name and in the email), erased leads' included.
		indexed := func() int64 {
			var n int64
			switch {
			case dialect == store.DialectSQLite && store.SQLiteFTS5:
				s.DB().Raw(`SELECT count(*) FROM leads_fts WHERE leads_fts MATCH '"quintessa"'`).Scan(&n)
			case dialect == store.DialectPostgres:
				n = countThroughTrigramIndexes(t, s, "quintessa")
			default:
				s.DB().Raw(`SELECT count(*) FROM leads WHERE LOWER(name) LIKE '%quintessa%' OR email_key LIKE '%quintessa%'`).Scan(&n)
			}
			return n
		}
		if n := indexed(); n != 1 {
			t.Fatalf("before erasure %d index entries hold the name, want 1", n)
		}
		store.CheckSearch(t, s, "quintessa")
		admin := mustStaffUser(t, s, "admin@example.com", models.RoleAdmin)
		if err := s.EraseLead(ctx, res.Lead.ID, admin); err != nil {
			t.Fatal(err)
		}
		store.CheckSearch(t, s, "quintessa")
		if n := indexed(); n != 0 {
			t.Fatalf("%d index entries still hold the erased name", n)
		}
		var erased models.Lead
		if err := s.DB().First(&erased, res.Lead.ID).Error; err != nil {
			t.Fatal(err)
		}
		if held := strings.ToLower(erased.Name + " " + erased.Email + " " + erased.EmailKey); strings.Contains(held, "quintessa") {
			t.Errorf("the erased lead's row still holds its name or email: %q, %q, %q", erased.Name, erased.Email, erased.EmailKey)
		}
	})
}

// countThroughTrigramIndexes runs the lead list's search for frag on
// PostgreSQL, erased leads included, with sequential scans ruled out, so
// the answer comes from the pg_trgm indexes on LOWER(name) and email_key
// (the planner would scan a table this small); it fails the test unless
// the plan reads both.
func countThroughTrigramIndexes(t *testing.T, s *store.Store, frag string) int64 {
	t.Helper()
	query := s.LeadSearchCountSQL(frag)
	var n int64
	err := s.DB().Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
			return err
		}
		var plan []string
		if err := tx.Raw("EXPLAIN " + query).Scan(&plan).Error; err != nil {
			return err
		}
		for _, index := range []string{"ix_leads_name_trgm", "ix_leads_email_trgm"} {
			if !strings.Contains(strings.Join(plan, "\n"), "Bitmap Index Scan on "+index) {
				t.Fatalf("the search does not read %s:\n%s", index, strings.Join(plan, "\n"))
			}
		}
		return tx.Raw(query).Scan(&n).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
