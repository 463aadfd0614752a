package store

import (
	"context"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
)

// TestReadPackedLeads_FastPathForOrdinaryRows guards the SQLite export's
// speed: ordinary rows, empty fields included, unpack without a second read;
// only a row holding the separator is read again.
func TestReadPackedLeads_FastPathForOrdinaryRows(t *testing.T) {
	s := openInternalStore(t)
	ctx := context.Background()
	now := time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)
	for i, name := range []string{"Ada", "", "Bad\x1fName"} {
		email := string(rune('a'+i)) + "@example.com"
		l := models.Lead{EmailKey: email, Email: email, Name: name, TargetTitle: "QA", Status: models.LeadNew, CreatedAt: now, UpdatedAt: now}
		if err := s.DB().Create(&l).Error; err != nil {
			t.Fatal(err)
		}
	}
	e := &exportReader{tx: s.read.WithContext(ctx), now: now, packed: true, calls: map[uint]callFigures{}}
	page, err := e.readPackedLeads(0)
	if err != nil || len(page) != 3 {
		t.Fatalf("page = %d leads, %v", len(page), err)
	}
	if e.reread != 1 || page[0].name != "Bad\x1fName" || page[0].packed != "" || page[0].hasCalls {
		t.Errorf("reread %d rows; first %+v", e.reread, page[0])
	}
	var parts [packedFields]string
	for i := 1; i < len(page); i++ {
		l := &page[i]
		if l.packed == "" || !unpackLead(l.packed, &parts, l) || !l.hasCalls || l.calls.count != 0 {
			t.Errorf("row %d did not unpack: %+v", l.id, l)
		}
	}
	if page[1].name != "" || page[2].name != "Ada" || page[2].created != "2026-05-04T15:00:00Z" {
		t.Errorf("unpacked %+v and %+v", page[1], page[2])
	}
}
