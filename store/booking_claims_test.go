package store

import (
	"testing"
	"time"
)

func TestClaimUnits_CoverTheCallAndBuffer(t *testing.T) {
	start := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
	units := claimUnits(start, 45*time.Minute)
	if len(units) != 9 || units[0] != start.Unix() || units[8] != start.Add(40*time.Minute).Unix() {
		t.Fatalf("units %v", units)
	}
}
