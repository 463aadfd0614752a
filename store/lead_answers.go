package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// saveAnswers merges a into the lead's latest answers: one row per
// question, and the lead's answers_json unless stored says the lead row
// already holds them (a lead this transaction created with them).
func (s *Store) saveAnswers(tx *gorm.DB, lead *models.Lead, a models.Answers, stored bool) error {
	if len(a) == 0 {
		return nil
	}
	now := s.txNow(tx)
	merged := models.DecodeAnswers(lead.AnswersJSON)
	args := make([]any, 0, 4*len(a))
	for _, id := range a.Sorted() {
		merged[id] = a[id]
		args = append(args, int64(lead.ID), id, a[id], now)
	}
	if err := s.execLater(tx, "INSERT INTO lead_answers (lead_id, question_id, value, updated_at) VALUES "+
		placeholders(len(a), 4)+" ON CONFLICT (lead_id, question_id) DO UPDATE SET "+
		"value = excluded.value, updated_at = excluded.updated_at", args...); err != nil {
		return err
	}
	if stored {
		return nil
	}
	lead.AnswersJSON = encodeJSON(merged)
	return tx.Model(&models.Lead{}).Where("id = ?", lead.ID).Update("answers_json", lead.AnswersJSON).Error
}

// answersJSON is a as stored with a booking or a new lead.
func answersJSON(a models.Answers) string {
	if len(a) == 0 {
		return "{}"
	}
	return encodeJSON(a)
}

// eraseAnswers forgets a lead's answers and those kept with its bookings:
// free-text answers (a profile URL, a note) are the person's data.
func eraseAnswers(tx *gorm.DB, l *models.Lead, _ time.Time) error {
	if err := tx.Where("lead_id = ?", l.ID).Delete(&models.LeadAnswer{}).Error; err != nil {
		return err
	}
	if err := tx.Model(&models.Booking{}).Where("lead_id = ?", l.ID).Update("answers_json", "{}").Error; err != nil {
		return err
	}
	if err := tx.Model(&models.Event{}).Where("lead_id = ? AND type = ?", l.ID, "lead.disqualified").Update("data", "{}").Error; err != nil {
		return err
	}
	return tx.Model(&models.Lead{}).Where("id = ?", l.ID).Update("answers_json", "{}").Error
}

// routeHosts keeps the hosts whose email is among emails, compared without
// case. With no emails every host stays; so does every host when none of
// the emails is an enabled host: a route naming coaches who do not (or no
// longer) take calls sends its visitors to the whole team rather than
// turning them away with no times at all.
func routeHosts[T any](hosts []T, emails []string, email func(*T) string) []T {
	if len(emails) == 0 {
		return hosts
	}
	var out []T
	for i := range hosts {
		if slices.Contains(emails, models.NormalizeEmail(email(&hosts[i]))) {
			out = append(out, hosts[i])
		}
	}
	if len(out) == 0 {
		return hosts
	}
	return out
}

// normalizeEmails lower-cases and trims a route's host emails.
func normalizeEmails(in []string) []string {
	out := make([]string, 0, len(in))
	for _, e := range in {
		out = append(out, models.NormalizeEmail(e))
	}
	return out
}

// splitRouteHosts reads Booking.RouteHosts.
func splitRouteHosts(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// AnswerCounts counts the latest answers to the questions ids of the
// leads created in p (erased leads left out, as the lead list leaves them
// out), by target title, question and answer; most leads first within a
// title and question. Each count is a lead-list filter: the period, the
// title and answers.<id>=<value>.
func (s *Store) AnswerCounts(ctx context.Context, p Period, ids []string) ([]models.AnswerCount, error) {
	out := []models.AnswerCount{}
	if len(ids) == 0 {
		return out, nil
	}
	err := s.read.WithContext(ctx).Table("lead_answers la").
		Select("leads.target_title, la.question_id, la.value, COUNT(*) AS n").
		Joins("JOIN leads ON leads.id = la.lead_id").
		Where("leads.erased_at IS NULL AND leads.created_at >= ? AND leads.created_at < ? AND la.question_id IN ?", p.Start.UTC(), p.End.UTC(), ids).
		Group("leads.target_title, la.question_id, la.value").
		Order("leads.target_title, la.question_id, n DESC, la.value").Scan(&out).Error
	return out, err
}
