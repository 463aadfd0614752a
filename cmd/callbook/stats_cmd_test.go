package main

import (
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
)

// TestStatsRebuild_CountsLeadsWrittenBehindItsBack: leads inserted
// directly into the table (as a hand repair would) are missing from the
// daily figures until `callbook stats rebuild` recomputes them.
func TestStatsRebuild_CountsLeadsWrittenBehindItsBack(t *testing.T) {
	s, _ := mustDataDB(t)
	count := func() (n int64) {
		s.DB().Model(&models.StatsDaily{}).Select("COALESCE(SUM(leads), 0)").Scan(&n)
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("before the rebuild the figures hold %d leads; the test data bypassed them", n)
	}
	code, stdout, stderr := runCmd(t, "stats", "rebuild")
	if code != 0 || !strings.HasPrefix(stdout, "dashboard figures rebuilt") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if n := count(); n != 3 {
		t.Fatalf("after the rebuild the figures hold %d leads, want 3", n)
	}
	var titles int64
	s.DB().Model(&models.StatsDaily{}).Where("target_title = ? AND leads = 1 AND client = 1", "Data Analyst").Count(&titles)
	if titles != 1 {
		t.Fatal("the Data Analyst client is not in the figures")
	}
	if code, _, stderr := runCmd(t, "stats"); code != 2 || !strings.Contains(stderr, "stats rebuild") {
		t.Fatalf("bare stats: exit %d, %q; want 2 and the usage", code, stderr)
	}
}
