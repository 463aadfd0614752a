package store

import (
	"time"

	"github.com/callbook/callbook/models"
)

// claimUnitOf is the start (unix seconds) of the ClaimUnit that holds t.
func claimUnitOf(t time.Time) int64 {
	u := int64(models.ClaimUnit / time.Second)
	return t.Unix() / u * u
}

// claimUnits lists the ClaimUnit starts (unix seconds) that a call over
// [start, start+span) occupies.
func claimUnits(start time.Time, span time.Duration) []int64 {
	end := start.Add(span).Unix()
	var out []int64
	for t := claimUnitOf(start); t < end; t += int64(models.ClaimUnit / time.Second) {
		out = append(out, t)
	}
	return out
}
