package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callbook/callbook/models"
)

// seniorCoach is the host the built-in Backend Engineer page routes
// visitors with 3 or more years' experience to.
const seniorCoach = "senior-coach@callbook.example"

// addSeniorCoach makes the senior coach a host who takes calls on
// Tuesdays and Wednesdays, 13:00-15:00 in the business zone only, so its
// times are told apart from the default host's weekday hours.
func (a *app) addSeniorCoach(t *testing.T) *models.User {
	t.Helper()
	ctx := context.Background()
	u, err := a.Store.CreateUser(ctx, models.NewUser{Email: seniorCoach, Name: "Sam Senior", Role: models.RoleSales, Host: true, Password: "a long e2e password 1"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := a.Store.Availability(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Weekly = map[string]models.HoursJSON{"tue": {{"13:00", "15:00"}}, "wed": {{"13:00", "15:00"}}}
	if _, err := a.Store.SetAvailability(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	return u
}

// seniorHours reports whether an offered start is in the senior coach's hours.
func seniorHours(t *testing.T, start string) bool {
	t.Helper()
	st, err := time.Parse(time.RFC3339, start)
	if err != nil {
		t.Fatalf("start %q: %v", start, err)
	}
	loc, _ := time.LoadLocation(businessZone)
	st = st.In(loc)
	wd := st.Weekday()
	return (wd == time.Tuesday || wd == time.Wednesday) && st.Hour() >= 13 && st.Hour() < 15
}

// TestQuestions_RouteToTheSeniorCoachAndBook answers the Backend Engineer
// questions as an experienced engineer, sees only the senior coach's times
// (on the first day and on another day fetched by the script) and books
// a call with that coach.
func TestQuestions_RouteToTheSeniorCoachAndBook(t *testing.T) {
	a := startApp(t)
	senior := a.addSeniorCoach(t)
	b := newBrowser(t)
	b.setViewport(desktopWidth, screenHeight(desktopWidth))

	b.do(timezone(businessZone),
		chromedp.Navigate(a.URL+"/roles/backend-engineer/book?tz="+businessZone),
		chromedp.WaitVisible(chromedp.CSS("#q-experience")),
	)
	if n := run(b, chromedp.Evaluate[int](`document.querySelectorAll('input[name="start"]').length`)); n != 0 {
		t.Fatalf("the questions step already shows %d times", n)
	}
	b.do(chromedp.SetValue(chromedp.CSS("#q-experience"), "6+"),
		chromedp.SetValue(chromedp.CSS("#q-timeline"), "0-3 months"),
		chromedp.SendKeys(chromedp.CSS("#q-linkedin"), "https://www.linkedin.com/in/grace"),
		chromedp.Click(chromedp.CSS(`[data-questions] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(firstTime)),
	)
	times := func() []string {
		return run(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('input[name="start"]')).map(i => i.value)`))
	}
	first := times()
	for _, s := range first {
		if !seniorHours(t, s) {
			t.Fatalf("the routed page offers %s, outside the senior coach's hours", s)
		}
	}
	if b.attr(otherDay, "data-date") != "" {
		day := b.attr(otherDay, "data-date")
		b.do(chromedp.Click(chromedp.CSS(otherDay)),
			chromedp.WaitVisible(chromedp.CSS(`.calendar a.is-selected[data-date="`+day+`"]`)),
			chromedp.WaitNotPresent(chromedp.CSS(`[data-times][aria-busy]`)),
		)
		for _, s := range times() {
			if !strings.HasPrefix(s, day) || !seniorHours(t, s) {
				t.Fatalf("the script fetched %s for %s, outside the senior coach's hours", s, day)
			}
		}
	}
	start := run(b, chromedp.Value(chromedp.CSS(firstTime)))
	b.do(chromedp.Click(chromedp.CSS(`.time-grid label span`)),
		chromedp.SendKeys(chromedp.CSS("#name"), "Grace Hopper"),
		chromedp.SendKeys(chromedp.CSS("#email"), "grace@example.com"),
		chromedp.Click(chromedp.CSS("#consent")),
		chromedp.Click(chromedp.CSS(submitButton)),
		chromedp.WaitVisible(chromedp.CSS(".ticket")),
	)
	lead := a.leadByEmail(t, "grace@example.com")
	bk := a.bookingOf(t, lead.ID)
	st, _ := time.Parse(time.RFC3339, start)
	if bk.HostID != senior.ID || !bk.StartAt.Equal(st) {
		t.Fatalf("booked host %d at %s, want the senior coach (%d) at %s", bk.HostID, bk.StartAt, senior.ID, st)
	}
	if ans := models.DecodeAnswers(lead.AnswersJSON); ans["experience"] != "6+" || ans["linkedin"] != "https://www.linkedin.com/in/grace" {
		t.Errorf("lead answers %s", lead.AnswersJSON)
	}
}

// TestQuestions_DisqualifyingAnswerShowsTheGuide answers "0" years and
// lands on the guide page instead of the times; leaving details keeps the
// visitor as a lead, and the link leads to the Software Engineer guide.
func TestQuestions_DisqualifyingAnswerShowsTheGuide(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	b.setViewport(phoneWidth, screenHeight(phoneWidth))

	b.do(timezone(businessZone),
		chromedp.Navigate(a.URL+"/roles/backend-engineer/book?tz="+businessZone),
		chromedp.WaitVisible(chromedp.CSS("#q-experience")),
		chromedp.SetValue(chromedp.CSS("#q-experience"), "0"),
		chromedp.Click(chromedp.CSS(`[data-questions] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("[data-guide-message]")),
	)
	if href := b.attr("[data-guide-link]", "href"); href != "/roles/software-engineer" {
		t.Fatalf("guide link %q", href)
	}
	if n := run(b, chromedp.Evaluate[int](`document.querySelectorAll('input[name="start"]').length`)); n != 0 {
		t.Fatalf("the guide page offers %d times", n)
	}
	b.do(chromedp.SendKeys(chromedp.CSS("#name"), "Sam Student"),
		chromedp.SendKeys(chromedp.CSS("#email"), "sam@example.com"),
		chromedp.Click(chromedp.CSS("#consent")),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("[data-guide-kept]")),
	)
	lead := a.leadByEmail(t, "sam@example.com")
	var n int64
	a.Store.ReadDB().Model(&models.Booking{}).Where("lead_id = ?", lead.ID).Count(&n)
	if n != 0 {
		t.Fatalf("the disqualified visitor has %d bookings", n)
	}
	a.Store.ReadDB().Model(&models.Event{}).Where("lead_id = ? AND type = ?", lead.ID, "lead.disqualified").Count(&n)
	if n != 1 {
		t.Fatalf("%d lead.disqualified events, want 1", n)
	}
	b.do(chromedp.Click(chromedp.CSS("[data-guide-link]")), chromedp.WaitVisible(chromedp.CSS(heroCTA)))
	if loc := b.location(); !strings.HasSuffix(loc, "/roles/software-engineer") {
		t.Fatalf("the guide link led to %s", loc)
	}
}
