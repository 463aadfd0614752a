package itest

import (
	"log/slog"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/scheduler"
	"github.com/callbook/callbook/store"
)

// TestReplicas_LeadRetentionRunsOnceAcrossReplicas starts three replicas
// whose nightly run comes every second, on a database holding leads idle
// for two years and leads in use, and checks that the idle ones are
// erased, each once, by one replica, as the system, and the others kept.
func TestReplicas_LeadRetentionRunsOnceAcrossReplicas(t *testing.T) {
	var idle, kept []int64
	c := newCluster(t, clusterOptions{replicas: 3, hosts: 1,
		env: []string{"CALLBOOK_RETENTION_LEADS=8760h", "CALLBOOK_CLEANUP_CRON=@every 1s"},
		seed: func(dbURL string) {
			db, err := store.Open(dbURL, store.Options{Secret: []byte(secret), Log: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			now := time.Now().UTC()
			old := now.AddDate(-2, 0, 0)
			for i, at := range []time.Time{old, old, old, old, now.Add(-time.Hour)} {
				email := "lead" + string(rune('a'+i)) + "@example.com"
				l := models.Lead{EmailKey: email, Email: email, Name: "Lead " + email, TargetTitle: "Backend Engineer",
					Status: models.LeadNew, CreatedAt: at, UpdatedAt: at}
				if err := db.DB().Create(&l).Error; err != nil {
					t.Fatal(err)
				}
				if i == 3 { // old, but noted on today
					if err := db.DB().Create(&models.Note{LeadID: l.ID, AuthorID: 1, Body: "still talking", CreatedAt: now}).Error; err != nil {
						t.Fatal(err)
					}
				}
				if i < 3 {
					idle = append(idle, int64(l.ID))
				} else {
					kept = append(kept, int64(l.ID))
				}
			}
		}})
	c.waitJobRuns(c.replicas, scheduler.JobRetention)

	if n := c.count(`SELECT count(*) FROM leads WHERE erased_at IS NOT NULL AND id = ANY($1)`, idle); n != len(idle) {
		t.Errorf("%d of the %d idle leads erased", n, len(idle))
	}
	if n := c.count(`SELECT count(*) FROM leads WHERE erased_at IS NOT NULL AND id = ANY($1)`, kept); n != 0 {
		t.Errorf("%d leads in use erased", n)
	}
	if n := c.count(`SELECT count(*) FROM audit_log WHERE action = 'lead.erased' AND actor_kind = 'system' AND actor_id IS NULL`); n != len(idle) {
		t.Errorf("%d lead.erased entries by the system, want one per idle lead (%d)", n, len(idle))
	}
	if n := c.count(`SELECT count(DISTINCT target_id) FROM audit_log WHERE action = 'lead.erased' AND target_id = ANY($1)`, idle); n != len(idle) {
		t.Errorf("entries name %d of the idle leads, want all %d", n, len(idle))
	}
	// One replica did the night's work; the others found it claimed.
	var workers int
	var total float64
	for _, r := range c.replicas {
		items, err := r.jobCounter("callbook_job_items_total", scheduler.JobRetention)
		if err != nil {
			t.Fatal(err)
		}
		if items > 0 {
			workers++
		}
		total += items
	}
	if workers != 1 || int(total) != len(idle) {
		t.Errorf("%d replicas erased %v leads in all, want one replica erasing %d", workers, total, len(idle))
	}
}
