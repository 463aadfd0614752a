package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// TestStatsRollup_MatchesRawCountsAfterRandomOperations books, rebooks
// under other titles, qualifies, recommends, records outcomes, cancels,
// moves and erases at random over several weeks, then checks that the
// dashboard read from stats_daily equals the one counted from the leads and
// bookings, for several periods, and that a rebuild changes nothing.
func TestStatsRollup_MatchesRawCountsAfterRandomOperations(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := mustOpen(t, dialect)
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(3, 5))
		admin := mustStaffUser(t, s, "admin@example.com", models.RoleAdmin)
		titles := []string{"Backend Engineer", "Software Engineer", "Data Analyst"}
		recs := []string{"Backend Engineer", " backend engineer ", "Software Engineer", "", "Ingénieur Logiciel"}
		statuses := models.LeadStatuses
		var leadIDs, bookingIDs []uint
		ops := map[string]int{}
		for step := range 160 {
			switch op := rng.IntN(10); {
			case op < 4: // book, as a new or a returning visitor
				slots, _, err := s.Slots(ctx, s.Now(), s.Now().Add(20*24*time.Hour))
				if err != nil || len(slots) == 0 {
					t.Fatalf("slots: %v", err)
				}
				req := request(fmt.Sprintf("v%d@example.com", rng.IntN(40)), slots[rng.IntN(len(slots))].Start)
				req.TargetTitle = titles[rng.IntN(len(titles))]
				res, err := s.BookSlot(ctx, req, nil)
				if errors.Is(err, models.ErrSlotTaken) {
					continue
				}
				if err != nil {
					t.Fatalf("step %d book: %v", step, err)
				}
				leadIDs = append(leadIDs, res.Lead.ID)
				bookingIDs = append(bookingIDs, res.Booking.ID)
				ops["book"]++
			case op < 6 && len(leadIDs) > 0: // staff work the lead
				st, rec := statuses[rng.IntN(len(statuses))], recs[rng.IntN(len(recs))]
				_, err := s.UpdateLead(ctx, leadIDs[rng.IntN(len(leadIDs))], models.LeadChange{Status: &st, RecommendedTitle: &rec}, admin)
				if err != nil && !errors.Is(err, models.ErrNotFound) {
					t.Fatalf("step %d update: %v", step, err)
				}
				ops["update"]++
			case op < 8 && len(bookingIDs) > 0: // an outcome, once the call has begun
				outcome := []string{models.OutcomeCompleted, models.OutcomeNoShow}[rng.IntN(2)]
				if _, err := s.SetOutcome(ctx, bookingIDs[rng.IntN(len(bookingIDs))], outcome, admin); err == nil {
					ops["outcome"]++
				}
			case op == 8 && len(bookingIDs) > 0: // cancel or move a call
				id := bookingIDs[rng.IntN(len(bookingIDs))]
				if rng.IntN(2) == 0 {
					if _, err := s.CancelBookingByID(ctx, id, "", "staff"); err == nil {
						ops["cancel"]++
					}
				} else if slots, _, err := s.Slots(ctx, s.Now(), s.Now().Add(20*24*time.Hour)); err == nil && len(slots) > 0 {
					if _, err := s.RescheduleBookingByID(ctx, id, slots[rng.IntN(len(slots))].Start, "staff"); err == nil {
						ops["move"]++
					}
				}
			case op == 9 && rng.IntN(3) == 1: // turned away by the routes: a lead without a call
				req := request(fmt.Sprintf("v%d@example.com", rng.IntN(40)), s.Now())
				req.TargetTitle = titles[rng.IntN(len(titles))]
				l, err := s.DisqualifyLead(ctx, req, models.Disqualification{Message: "Start with the guide", URL: "/roles/software-engineer"})
				if err != nil {
					t.Fatalf("step %d disqualify: %v", step, err)
				}
				leadIDs = append(leadIDs, l.ID)
				ops["disqualify"]++
			case op == 9 && len(leadIDs) > 0 && rng.IntN(3) == 0:
				if err := s.EraseLead(ctx, leadIDs[rng.IntN(len(leadIDs))], admin); err == nil {
					ops["erase"]++
				}
			}
			clock.Advance(time.Duration(1+rng.IntN(20)) * time.Hour)
		}
		t.Logf("operations: %v", ops)
		if ops["book"] < 30 || ops["outcome"] < 5 || ops["erase"] < 1 || ops["update"] < 10 || ops["disqualify"] < 1 {
			t.Fatalf("the random run did too little to test anything: %v", ops)
		}
		periods := map[string]store.Period{"7 days": s.LastDays(7), "30 days": s.LastDays(30), "90 days": s.LastDays(90)}
		check := func(when string) {
			for name, p := range periods {
				got, err := s.Stats(ctx, p)
				if err != nil {
					t.Fatal(err)
				}
				want, err := s.RawStatsForTest(ctx, p)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got.Titles, want.Titles) || !reflect.DeepEqual(got.Total, want.Total) {
					t.Fatalf("%s, %s: roll-up\n%+v\n%+v\nraw\n%+v\n%+v", when, name, got.Total, got.Titles, want.Total, want.Titles)
				}
			}
		}
		check("kept by each change")
		all, _ := s.Stats(ctx, periods["90 days"])
		if all.Total.Booked == 0 || all.Total.CompletedCalls+all.Total.NoShowCalls == 0 || all.Total.Recommended == 0 {
			t.Fatalf("figures too thin to compare: %+v", all.Total)
		}
		before, err := s.StatsRowsForTest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The nightly clean-up folds PostgreSQL's per-connection parts into
		// their rows: the figures stay, the parts go.
		var parts int64
		if err := s.DB().Table("stats_daily_parts").Count(&parts).Error; err != nil ||
			(dialect == store.DialectPostgres) != (parts > 0) {
			t.Fatalf("%s kept %d roll-up parts (%v): PostgreSQL writes them, SQLite none", dialect, parts, err)
		}
		if _, err := s.CleanUp(ctx); err != nil {
			t.Fatal(err)
		}
		check("after the clean-up folded the parts")
		if err := s.DB().Table("stats_daily_parts").Count(&parts).Error; err != nil || parts != 0 {
			t.Fatalf("%d roll-up parts left after the clean-up (%v)", parts, err)
		}
		if folded, err := s.StatsRowsForTest(ctx); err != nil || !reflect.DeepEqual(folded, before) {
			t.Fatalf("roll-up rows changed by the fold (%v):\n%+v\nwere\n%+v", err, folded, before)
		}
		if err := s.RebuildStats(ctx); err != nil {
			t.Fatal(err)
		}
		check("after a rebuild")
		after, err := s.StatsRowsForTest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		nonZero := func(rows []models.StatsDaily) []models.StatsDaily {
			var out []models.StatsDaily
			for _, r := range rows {
				if r != (models.StatsDaily{Day: r.Day, TargetTitle: r.TargetTitle}) {
					out = append(out, r)
				}
			}
			return out
		}
		if !reflect.DeepEqual(nonZero(before), nonZero(after)) {
			t.Fatalf("a rebuild changed stats_daily:\nkept  %+v\nbuilt %+v", nonZero(before), nonZero(after))
		}
	})
}
