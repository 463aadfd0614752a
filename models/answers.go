package models

import (
	"encoding/json"
	"sort"
	"time"
)

// Answers are a visitor's answers to a role page's questions, by question
// id, already checked against the questions.
type Answers map[string]string

// LeadAnswer is the latest answer a lead gave to one question. The rows
// back the lead list's answer filter; the lead's answers_json column holds
// the same answers for showing and exporting.
type LeadAnswer struct {
	LeadID     uint      `gorm:"primaryKey;autoIncrement:false"`
	QuestionID string    `gorm:"primaryKey;size:64"`
	Value      string    `gorm:"type:text;not null"`
	UpdatedAt  time.Time `gorm:"not null"`
}

// DecodeAnswers reads an answers_json column; anything unreadable is no
// answers.
func DecodeAnswers(s string) Answers {
	a := Answers{}
	_ = json.Unmarshal([]byte(s), &a)
	return a
}

// Sorted lists the answered question ids in order, for stable output.
func (a Answers) Sorted() []string {
	ids := make([]string, 0, len(a))
	for id := range a {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Disqualification is a role page's answer to a visitor its routes turn
// away: a message and where to go instead.
type Disqualification struct {
	Message string
	URL     string
}

// AnswerCount is how many of a period's leads with one target title gave
// one answer to one question (their latest answer).
type AnswerCount struct {
	TargetTitle string
	QuestionID  string
	Value       string
	Leads       int64 `gorm:"column:n"`
}
