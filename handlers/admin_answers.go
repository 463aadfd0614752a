package handlers

import (
	"context"
	"net/url"
	"slices"
	"sort"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// answerRow is one answer as staff read it: the question's label and the
// value.
type answerRow struct {
	ID, Label, Value string
}

// answerRows lays a lead's answers out in the order its role page asks
// them, labelled by the questions; answers to questions no page asks any
// more follow under their ids.
func (s *Server) answerRows(roleSlug, answersJSON string) []answerRow {
	answers := models.DecodeAnswers(answersJSON)
	var rows []answerRow
	if role := s.content.Role(roleSlug); role != nil {
		for _, q := range role.Questions {
			if v, ok := answers[q.ID]; ok {
				rows = append(rows, answerRow{q.ID, q.Label, v})
				delete(answers, q.ID)
			}
		}
	}
	for _, id := range answers.Sorted() {
		rows = append(rows, answerRow{id, s.questionLabel(id), answers[id]})
	}
	return rows
}

// questionLabel finds a question's label on any role page, else its id.
func (s *Server) questionLabel(id string) string {
	for _, r := range s.content.Roles() {
		for _, q := range r.Questions {
			if q.ID == id {
				return q.Label
			}
		}
	}
	return id
}

// answerChoice is one "question: answer" the lead list can filter by.
type answerChoice struct {
	Value string // id=value, the list's answer parameter
	Label string
}

// answerChoices lists the answers worth filtering leads by: each option
// of every select and yes/no question on the role pages, once. Free-text
// answers are left out: no two are alike.
func (s *Server) answerChoices() []answerChoice {
	var out []answerChoice
	for _, r := range s.content.Roles() {
		for _, q := range r.Questions {
			opts := q.Options
			if q.Kind == KindYesNo {
				opts = []string{"yes", "no"}
			} else if q.Kind != KindSelect {
				continue
			}
			for _, o := range opts {
				c := answerChoice{q.ID + "=" + o, q.Label + ": " + o}
				if !slices.Contains(out, c) {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// countedQuestions are the question ids whose answers the dashboard
// counts: those with a fixed set of answers.
func (s *Server) countedQuestions() []string {
	var ids []string
	seen := map[string]bool{}
	for _, r := range s.content.Roles() {
		for _, q := range r.Questions {
			if (q.Kind == KindSelect || q.Kind == KindYesNo) && !seen[q.ID] {
				seen[q.ID] = true
				ids = append(ids, q.ID)
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// AnswerChoice is the list's one answer filter as the selector shows it.
func (q leadListQuery) AnswerChoice() string {
	for id, v := range q.Answers {
		return id + "=" + v
	}
	return ""
}

// answerCountView is one dashboard row: leads of a title who gave an answer.
type answerCountView struct {
	Title, Question, Value string
	N                      int64
	Href                   string
}

// answerCounts are the dashboard's answers by target title for p, each
// linked to the lead list showing those leads.
func (s *Server) answerCounts(ctx context.Context, p store.Period) ([]answerCountView, error) {
	counts, err := s.store.AnswerCounts(ctx, p, s.countedQuestions())
	if err != nil {
		return nil, err
	}
	out := make([]answerCountView, len(counts))
	for i, c := range counts {
		out[i] = answerCountView{Title: c.TargetTitle, Question: s.questionLabel(c.QuestionID), Value: c.Value, N: c.Leads,
			Href: leadsLink(p, c.TargetTitle, "") + "&" + url.Values{"answers." + c.QuestionID: {c.Value}}.Encode()}
	}
	return out, nil
}
