//go:build sqlite_fts5 || fts5

package store

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// TestLeadSearchPlan_SQLiteReadsTheTrigramIndex guards lead search on a
// large table: the page of ids must come from the FTS5 index and primary-key
// lookups, never from a scan of leads (which costs hundreds of milliseconds
// at a million leads), alone and combined with the list's other filters.
func TestLeadSearchPlan_SQLiteReadsTheTrigramIndex(t *testing.T) {
	s := openInternalStore(t)
	// Enough rows, and fresh statistics, for the planner to weigh a scan.
	now := time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)
	var leads []models.Lead
	for i := range 2000 {
		e := fmt.Sprintf("lead%d@example.com", i)
		leads = append(leads, models.Lead{EmailKey: e, Email: e, Name: fmt.Sprintf("Person %d", i), TargetTitle: "QA", Status: models.LeadNew, CreatedAt: now, UpdatedAt: now})
	}
	if err := s.DB().CreateInBatches(leads, 500).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Exec("ANALYZE").Error; err != nil {
		t.Fatal(err)
	}
	owner := uint(1)
	for _, f := range []LeadFilter{
		{Q: "lead1999@"},
		{Q: "Person 42", Status: models.LeadNew},
		{Q: "example", TargetTitle: "QA", OwnerID: &owner},
	} {
		sql := s.read.ToSQL(func(tx *gorm.DB) *gorm.DB {
			var ids []uint
			return f.apply(tx.Table("leads")).Where("leads.id < ?", 100000).Order("leads.id DESC").Limit(51).Pluck("leads.id", &ids)
		})
		var plan []struct {
			ID, Parent, Notused int
			Detail              string
		}
		if err := s.read.Raw("EXPLAIN QUERY PLAN " + sql).Scan(&plan).Error; err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		var steps []string
		for _, p := range plan {
			steps = append(steps, p.Detail)
		}
		text := strings.Join(steps, "; ")
		if !strings.Contains(text, "leads_fts VIRTUAL TABLE INDEX") {
			t.Errorf("filter %+v does not use the trigram index: %s", f, text)
		}
		// The only scan allowed is of the index; leads are read by primary
		// key (a scan under an alias would not start with "SCAN leads").
		for _, st := range steps {
			if strings.HasPrefix(st, "SCAN ") && !strings.HasPrefix(st, "SCAN leads_fts VIRTUAL TABLE") {
				t.Errorf("filter %+v scans a table: %s", f, text)
			}
		}
		t.Logf("%+v: %s", f, text)
	}
}
