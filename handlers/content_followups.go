package handlers

import (
	"fmt"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// followupFile is one follow-up email as a role file writes it.
type followupFile struct {
	ID      string `yaml:"id"`
	When    string `yaml:"when"`
	After   string `yaml:"after"` // a Go duration: "30m", "2h", "72h"
	Subject string `yaml:"subject"`
	Body    string `yaml:"body"`
}

// checkFollowups reads a role's follow-ups, refusing an unknown trigger or
// placeholder, a bad delay or an id used twice.
func checkFollowups(r *Role) error {
	seen := map[string]bool{}
	r.Followups = make([]models.Followup, 0, len(r.FollowupFiles))
	for _, f := range r.FollowupFiles {
		after := time.Duration(0)
		if f.After != "" {
			d, err := time.ParseDuration(f.After)
			if err != nil {
				return fmt.Errorf("follow-up %s: after %q is not a duration such as 30m or 2h", f.ID, f.After)
			}
			after = d
		}
		fu := models.Followup{ID: f.ID, When: f.When, After: after, Subject: f.Subject, Body: f.Body, RoleTitle: r.Title}
		if err := fu.Check(); err != nil {
			return err
		}
		if seen[f.ID] {
			return fmt.Errorf("follow-up id %q is used twice", f.ID)
		}
		seen[f.ID] = true
		r.Followups = append(r.Followups, fu)
	}
	return nil
}

// Followups are every role's follow-up emails, for the store to write when
// their trigger happens: by role slug from the default file, and by
// "slug.lang" from a language's version of the page that declares its own
// (store.FollowupsKey), so a lead who booked in German is followed up in
// German.
func (c *Content) Followups() map[string][]models.Followup {
	out := make(map[string][]models.Followup, len(c.list))
	for _, r := range c.list {
		if len(r.Followups) > 0 {
			out[r.Slug] = r.Followups
		}
	}
	for lang, roles := range c.byLang {
		for slug, r := range roles {
			if len(r.Followups) > 0 {
				out[store.FollowupsKey(slug, lang)] = r.Followups
			}
		}
	}
	return out
}
