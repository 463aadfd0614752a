package main

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"
)

// staffWork is what sales and admins do with the leads: status, owner,
// recommended title, notes, an erasure, the list, the figures and an export.
func (f *filler) staffWork() error {
	ada, grace, barbara := f.leads["ada"], f.leads["grace"], f.leads["barbara"]
	steps := []struct {
		what, method, path, token string
		body                      any
		status                    int
	}{
		{"work a lead", http.MethodPatch, "/api/v1/admin/leads/" + ada.lead, f.admin,
			map[string]any{"status": "contacted", "owner_id": f.users[staff[3].email], "recommended_title": "Staff Engineer"}, http.StatusOK},
		{"qualify a lead", http.MethodPatch, "/api/v1/admin/leads/" + grace.lead, f.sales, map[string]any{"status": "qualified"}, http.StatusOK},
		{"note", http.MethodPost, "/api/v1/admin/leads/" + ada.lead + "/notes", f.admin,
			map[string]string{"body": "Strong on SQL; wants a backend role in a small team."}, http.StatusCreated},
		{"sales note", http.MethodPost, "/api/v1/admin/leads/" + grace.lead + "/notes", f.sales,
			map[string]string{"body": "Call went well, sending the course outline."}, http.StatusCreated},
		{"erase", http.MethodDelete, "/api/v1/admin/leads/" + barbara.lead, f.admin, nil, http.StatusNoContent},
		{"list leads", http.MethodGet, "/api/v1/admin/leads?limit=50", f.sales, nil, http.StatusOK},
		{"lead", http.MethodGet, "/api/v1/admin/leads/" + ada.lead, f.sales, nil, http.StatusOK},
		{"figures", http.MethodGet, "/api/v1/admin/stats", f.admin, nil, http.StatusOK},
		{"export", http.MethodGet, "/api/v1/admin/leads/export.csv", f.admin, nil, http.StatusOK},
	}
	for _, s := range steps {
		r, err := f.in.call(s.method, s.path, s.token, s.body)
		if err != nil {
			return err
		}
		if err := r.want(s.what, s.status); err != nil {
			return err
		}
	}
	p, err := f.in.page("/admin/leads/" + ada.lead)
	if err != nil {
		return err
	}
	return p.want("staff lead page", http.StatusOK)
}

// waitForDeliveries waits until mail went out (the reminder included) and
// each webhook receiver was called.
func (f *filler) waitForDeliveries(smtp *smtpSink, recv *receivers) error {
	deadline := time.Now().Add(5 * time.Minute)
	var missing []string
	for time.Now().Before(deadline) {
		missing = missing[:0]
		r, err := f.in.call(http.MethodGet, "/api/v1/admin/outbox?status=sent&limit=500", f.admin, nil)
		if err != nil {
			return err
		}
		if !strings.Contains(string(r.raw), `"reminder-`) {
			missing = append(missing, "a sent reminder")
		}
		if smtp.received.Load() == 0 {
			missing = append(missing, "sent mail")
		}
		if f.webhooks && (recv.delivered.Load() == 0 || recv.refused.Load() == 0) {
			missing = append(missing, "webhook deliveries")
		}
		if f.calendars && recv.feedReads.Load() == 0 {
			missing = append(missing, "a calendar read")
		}
		if len(missing) == 0 {
			log.Printf("    %d emails received, webhooks %d taken / %d refused", smtp.received.Load(), recv.delivered.Load(), recv.refused.Load())
			return nil
		}
		time.Sleep(500 * time.Millisecond) // polling another process
	}
	return errors.New(fmt.Sprint("never saw ", strings.Join(missing, ", ")))
}
