package mailer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// The morning digest tells each sales person their own open tasks due that
// day and those overdue, and nothing else of the task list.
func TestDigest_ListsEachPersonsDueAndOverdueTasks(t *testing.T) {
	s, clock := openStore(t, store.DialectSQLite)
	srv := startSMTP(t, smtpBehaviour{})
	o := mustOutbox(t, s, clock, srv.URL("smtp"), nil)
	ctx := context.Background()
	ana := &models.User{Email: "ana@example.com", Name: "Ana", Role: models.RoleSales, PasswordHash: "x", WeeklyJSON: "{}"}
	ben := &models.User{Email: "ben@example.com", Name: "Ben", Role: models.RoleSales, PasswordHash: "x", WeeklyJSON: "{}"}
	for _, u := range []*models.User{ana, ben} {
		if err := s.DB().Create(u).Error; err != nil {
			t.Fatal(err)
		}
	}
	lead := mustBook(t, s, 1)[0].Lead.ID
	today := clock.Now().In(s.Location()).Format(time.DateOnly)
	yesterday := clock.Now().In(s.Location()).AddDate(0, 0, -1).Format(time.DateOnly)
	tomorrow := clock.Now().In(s.Location()).AddDate(0, 0, 1).Format(time.DateOnly)
	for _, tk := range []struct {
		body, due string
		who       *models.User
		done      bool
	}{
		{"Send the salary guide", today, ana, false},
		{"Call back about the offer", yesterday, ana, false},
		{"Book the mock interview", tomorrow, ana, false},
		{"Already sent the CV tips", today, ana, true},
		{"Ben's own follow-up", today, ben, false},
	} {
		row, err := s.AddTask(ctx, lead, tk.body, tk.due, tk.who.ID, tk.who)
		if err != nil {
			t.Fatal(err)
		}
		if tk.done {
			done := true
			if _, err := s.UpdateTask(ctx, lead, row.ID, models.TaskChange{Done: &done}, tk.who); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.QueueDigest(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	mustDrain(t, o)
	anas := byKind(t, srv.Messages(), models.MailDigest, ana.Email)
	if subj := anas.Subject(t); !strings.HasSuffix(subj, ", 2 tasks due") {
		t.Errorf("Ana's digest subject %q does not count her 2 tasks due", subj)
	}
	text, _ := anas.Part("text/plain")
	for _, want := range []string{"Your tasks", "Send the salary guide", "OVERDUE since", "Call back about the offer"} {
		if !strings.Contains(text.Body, want) {
			t.Errorf("Ana's digest lacks %q:\n%s", want, text.Body)
		}
	}
	for _, not := range []string{"Book the mock interview", "Already sent the CV tips", "Ben's own follow-up"} {
		if strings.Contains(text.Body, not) {
			t.Errorf("Ana's digest shows %q, which is not hers to do today:\n%s", not, text.Body)
		}
	}
	html, _ := byKind(t, srv.Messages(), models.MailDigest, ben.Email).Part("text/html")
	if !strings.Contains(html.Body, "Ben&#39;s own follow-up") {
		t.Errorf("Ben's digest lacks his task:\n%s", html.Body)
	}
}
