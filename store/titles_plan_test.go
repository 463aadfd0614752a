package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
)

// TestTargetTitlesPlan_SeeksThePartialIndex guards the lead list's title
// choices on a large table: each step of the loose index scan must seek
// ix_leads_live_title. A query the partial index cannot serve scanned a
// million entries per title instead.
func TestTargetTitlesPlan_SeeksThePartialIndex(t *testing.T) {
	s := openInternalStore(t)
	ctx := context.Background()
	now := time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)
	var leads []models.Lead
	for i := range 1000 {
		e := fmt.Sprintf("t%d@example.com", i)
		leads = append(leads, models.Lead{EmailKey: e, Email: e, Name: "T", TargetTitle: fmt.Sprintf("Title %d", i%7), Status: models.LeadNew, CreatedAt: now, UpdatedAt: now})
	}
	if err := s.DB().CreateInBatches(leads, 500).Error; err != nil {
		t.Fatal(err)
	}
	titles, err := s.TargetTitles(ctx)
	if err != nil || len(titles) != 7 {
		t.Fatalf("titles = %v, %v; want 7", titles, err)
	}
	var plan []struct {
		ID, Parent, Notused int
		Detail              string
	}
	if err := s.read.Raw("EXPLAIN QUERY PLAN "+targetTitlesSQL, maxTitles).Scan(&plan).Error; err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, p := range plan {
		steps = append(steps, p.Detail)
	}
	text := strings.Join(steps, "; ")
	if strings.Count(text, "SEARCH l USING INDEX ix_leads_live_title") != 1 || strings.Contains(text, "SCAN l") || strings.Contains(text, "SCAN leads") {
		t.Fatalf("the title walk does not seek the partial index: %s", text)
	}
}
