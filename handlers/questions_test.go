package handlers

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

func TestCheckAnswer_ValidatesEachKind(t *testing.T) {
	sel := Question{ID: "experience", Label: "x", Kind: KindSelect, Options: []string{"0", "1-2", "6+"}, Required: true}
	cases := []struct {
		q        Question
		in, want string
		err      string // "" when valid
	}{
		{sel, "6+", "6+", ""},
		{sel, " 1-2 ", "1-2", ""},
		{sel, "", "", "is required"},
		{sel, "7", "", "must be one of: 0, 1-2, 6+"},
		{Question{ID: "a", Kind: KindSelect, Options: []string{"x"}}, "", "", ""},
		{Question{ID: "a", Kind: KindText}, "Go and SQL", "Go and SQL", ""},
		{Question{ID: "a", Kind: KindText}, "line\nbreak", "", "must not contain line breaks or control characters"},
		{Question{ID: "a", Kind: KindText}, strings.Repeat("x", 201), "", "must be at most 200 characters"},
		{Question{ID: "a", Kind: KindText, Required: true}, "   ", "", "is required"},
		{Question{ID: "a", Kind: KindTextarea}, "two\nlines", "two\nlines", ""},
		{Question{ID: "a", Kind: KindTextarea}, "bell\a", "", "must not contain control characters"},
		{Question{ID: "a", Kind: KindTextarea}, strings.Repeat("x", 2001), "", "must be at most 2000 characters"},
		{Question{ID: "a", Kind: KindNumber}, "42", "42", ""},
		{Question{ID: "a", Kind: KindNumber}, "-3.5", "-3.5", ""},
		{Question{ID: "a", Kind: KindNumber}, "forty", "", "must be a number"},
		{Question{ID: "a", Kind: KindNumber}, "Inf", "", "must be a number"},
		{Question{ID: "a", Kind: KindNumber}, "NaN", "", "must be a number"},
		{Question{ID: "a", Kind: KindYesNo}, "yes", "yes", ""},
		{Question{ID: "a", Kind: KindYesNo}, "No", "no", ""},
		{Question{ID: "a", Kind: KindYesNo}, "maybe", "", "must be yes or no"},
		{Question{ID: "a", Kind: KindURL}, "https://www.linkedin.com/in/ada", "https://www.linkedin.com/in/ada", ""},
		{Question{ID: "a", Kind: KindURL}, "http://example.com", "http://example.com", ""},
		{Question{ID: "a", Kind: KindURL}, "javascript:alert(1)", "", "must be a web address starting with https://"},
		{Question{ID: "a", Kind: KindURL}, "linkedin.com/in/ada", "", "must be a web address starting with https://"},
		{Question{ID: "a", Kind: KindURL}, "https://exa mple.com", "", "must be a web address starting with https://"},
		{Question{ID: "a", Kind: KindEmail}, "ada@example.com", "ada@example.com", ""},
		{Question{ID: "a", Kind: KindEmail}, "ada@", "", "not a valid address"},
		{Question{ID: "a", Kind: KindEmail, Required: true}, "", "", "is required"},
	}
	for _, c := range cases {
		v := &models.ValidationError{}
		got := checkAnswer(v, c.q, c.in)
		msg := v.Fields["answers."+c.q.ID]
		if msg != c.err || (c.err == "" && got != c.want) {
			t.Errorf("%s %q: got %q, error %q; want %q, error %q", c.q.Kind, c.in, got, msg, c.want, c.err)
		}
	}
}

func TestCheckAnswers_RefusesUnknownQuestions(t *testing.T) {
	role := &Role{Questions: []Question{{ID: "experience", Kind: KindSelect, Options: []string{"0"}, Required: true}}}
	v := &models.ValidationError{}
	checkAnswers(v, role, map[string]string{"experience": "0", "salary": "lots"}, false)
	if len(v.Fields) != 1 || v.Fields["answers.salary"] != "is not a question on this page" {
		t.Fatalf("fields %v", v.Fields)
	}
	v = &models.ValidationError{}
	checkAnswers(v, role, map[string]string{}, true)
	if v.Err() != nil {
		t.Fatalf("a partial answer set (slot list) needs no required answer: %v", v.Fields)
	}
}

func TestLoadContent_RefusesBadQuestionsAndRoutes(t *testing.T) {
	const head = "slug: be\ntitle: Backend Engineer\n"
	const q = "questions:\n  - {id: experience, label: Years, kind: select, options: [\"0\", \"6+\"]}\n"
	cases := map[string]string{
		"unknown kind":          "questions:\n  - {id: x, label: X, kind: colour}\n",
		"select without":        "questions:\n  - {id: x, label: X, kind: select}\n",
		"options on text":       "questions:\n  - {id: x, label: X, kind: text, options: [a]}\n",
		"bad id":                "questions:\n  - {id: Bad-Id, label: X, kind: text}\n",
		"duplicate id":          "questions:\n  - {id: x, label: X, kind: text}\n  - {id: x, label: Y, kind: text}\n",
		"no label":              "questions:\n  - {id: x, kind: text}\n",
		"route unknown id":      q + "routes:\n  - {if: {seniority: \"6+\"}, hosts: [ana@example.com]}\n",
		"route bad value":       q + "routes:\n  - {if: {experience: \"10+\"}, hosts: [ana@example.com]}\n",
		"route neither":         q + "routes:\n  - {if: {experience: \"0\"}}\n",
		"route both":            q + "routes:\n  - {if: {experience: \"0\"}, hosts: [a@example.com], disqualify: {message: m, url: /}}\n",
		"route bad host":        q + "routes:\n  - {if: {experience: \"6+\"}, hosts: [ana]}\n",
		"disqualify no message": q + "routes:\n  - {if: {experience: \"0\"}, disqualify: {url: /roles/x}}\n",
		"disqualify bad url":    q + "routes:\n  - {if: {experience: \"0\"}, disqualify: {message: m, url: \"javascript:x\"}}\n",
		"route without if":      q + "routes:\n  - {hosts: [a@example.com]}\n",
	}
	for name, body := range cases {
		_, err := LoadContent(fstest.MapFS{"be.yaml": {Data: []byte(head + body)}})
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "be.yaml: ") || strings.Contains(msg, "\n") {
			t.Errorf("%s: want one line naming the file, got %q", name, msg)
		}
	}
	ok := head + q + "routes:\n  - {if: {experience: \"0\"}, disqualify: {message: m, url: /roles/be}}\n  - {if: {experience: [\"6+\"]}, hosts: [ana@example.com]}\n"
	c, err := LoadContent(fstest.MapFS{"be.yaml": {Data: []byte(ok)}})
	if err != nil {
		t.Fatalf("valid questions refused: %v", err)
	}
	if rs := c.Role("be").Routes; len(rs) != 2 || rs[1].If["experience"][0] != "6+" {
		t.Fatalf("routes %+v", rs)
	}
}

func TestRole_RouteFirstMatchWins(t *testing.T) {
	role := &Role{Routes: []Route{
		{If: map[string]Values{"experience": {"0"}}, Disqualify: &Disqualify{Message: "m", URL: "/x"}},
		{If: map[string]Values{"experience": {"6+"}, "timeline": {"now"}}, Hosts: []string{"a@example.com"}},
		{If: map[string]Values{"experience": {"3-5", "6+"}}, Hosts: []string{"b@example.com"}},
	}}
	cases := []struct {
		answers models.Answers
		want    string
	}{
		{models.Answers{"experience": "0"}, "disqualify"},
		{models.Answers{"experience": "6+", "timeline": "now"}, "a@example.com"},
		{models.Answers{"experience": "6+", "timeline": "later"}, "b@example.com"},
		{models.Answers{"experience": "3-5"}, "b@example.com"},
		{models.Answers{"experience": "1-2"}, "any"},
		{models.Answers{}, "any"},
	}
	for _, c := range cases {
		got := "any"
		if rt := role.route(c.answers); rt != nil && rt.Disqualify != nil {
			got = "disqualify"
		} else if rt != nil {
			got = rt.Hosts[0]
		}
		if got != c.want {
			t.Errorf("%v: routed to %s, want %s", c.answers, got, c.want)
		}
	}
}

// seniorCoach is the host the built-in Backend Engineer page routes
// experienced visitors to.
const seniorCoach = "senior-coach@callbook.example"

// mustSeniorCoach adds the senior coach as a host who takes calls on
// Tuesdays 13:00-15:00 only, so its times are told apart from the default
// host's weekday hours.
func (e *testEnv) mustSeniorCoach() *models.User {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.store.CreateUser(ctx, models.NewUser{Email: seniorCoach, Name: "Sam Senior", Role: models.RoleSales, Host: true, Password: "a long test password 1"})
	if err != nil {
		e.t.Fatal(err)
	}
	cfg, err := e.store.Availability(ctx, u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	cfg.Weekly = map[string]models.HoursJSON{"tue": {{"13:00", "15:00"}}}
	if _, err := e.store.SetAvailability(ctx, cfg); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// routedSlots lists the starts /api/v1/slots offers for the answers.
func (e *testEnv) routedSlots(answers string) []string {
	e.t.Helper()
	w := e.do(http.MethodGet, "/api/v1/slots?tz=America/New_York&role_slug=backend-engineer&"+answers, nil)
	if w.Code != 200 {
		e.t.Fatalf("slots for %s: %d %s", answers, w.Code, w.Body.String())
	}
	got := decode[slotsJSON](e.t, w)
	out := make([]string, len(got.Slots))
	for i, s := range got.Slots {
		out[i] = s.Start
	}
	return out
}

func isSeniorTime(start string) bool {
	t, err := time.Parse(time.RFC3339, start)
	if err != nil {
		return false
	}
	t = t.In(mustZone("America/New_York"))
	return t.Weekday() == time.Tuesday && t.Hour() >= 13 && t.Hour() < 15
}

func TestRouting_HostsLimitTheSlotsAndTheHost(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		senior := e.mustSeniorCoach()
		seniorTimes := e.routedSlots("answers.experience=6%2B")
		anyTimes := e.routedSlots("answers.experience=1-2")
		if len(seniorTimes) == 0 || len(anyTimes) <= len(seniorTimes) {
			t.Fatalf("senior %d times, any %d", len(seniorTimes), len(anyTimes))
		}
		for _, s := range seniorTimes {
			if !isSeniorTime(s) {
				t.Fatalf("routed list offers %s, outside the senior coach's hours", s)
			}
		}
		// A crafted request: senior answers, a time only the default host has.
		var other string
		for _, s := range anyTimes {
			if !isSeniorTime(s) {
				other = s
				break
			}
		}
		body := bookingBody("crafty@example.com", other)
		body["answers"] = map[string]any{"experience": "6+"}
		if w := e.postJSON("/api/v1/bookings", body); w.Code != http.StatusConflict {
			t.Fatalf("crafted booking outside the route: %d %s", w.Code, w.Body.String())
		}
		var n int64
		e.store.DB().Model(&models.Booking{}).Count(&n)
		if n != 0 {
			t.Fatalf("a crafted request booked %d calls", n)
		}
		// The senior's own time books, with the senior coach.
		body["start"] = seniorTimes[0]
		w := e.postJSON("/api/v1/bookings", body)
		if w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), `"name":"Sam Senior"`) {
			t.Fatalf("routed booking: %d %s", w.Code, w.Body.String())
		}
		var b models.Booking
		e.store.DB().Where("lead_id = (SELECT id FROM leads WHERE email_key = ?)", "crafty@example.com").Take(&b)
		if b.HostID != senior.ID || b.AnswersJSON != `{"experience":"6+"}` {
			t.Fatalf("booking %+v", b)
		}
		// No match: any host, including the default team at other times.
		body = bookingBody("junior@example.com", other)
		if w := e.postJSON("/api/v1/bookings", body); w.Code != http.StatusCreated {
			t.Fatalf("unrouted booking: %d %s", w.Code, w.Body.String())
		}
	})
}

func TestRouting_ToAHostThatDoesNotExistFallsBackToEveryHost(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	if got, all := e.routedSlots("answers.experience=6%2B"), e.routedSlots(""); len(got) == 0 || len(got) != len(all) {
		t.Fatalf("without the senior coach: %d routed times, %d in all", len(got), len(all))
	}
	start := e.firstSlots(1, "UTC")[0]
	body := bookingBody("senior@example.com", start)
	body["answers"] = map[string]any{"experience": "6+"}
	if w := e.postJSON("/api/v1/bookings", body); w.Code != http.StatusCreated {
		t.Fatalf("booking: %d %s", w.Code, w.Body.String())
	}
}

func TestRouting_DisqualifyKeepsTheLeadAndBooksNothing(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		body := bookingBody("student@example.com", e.firstSlots(1, "UTC")[0])
		body["answers"] = map[string]any{"experience": "0", "linkedin": "https://www.linkedin.com/in/student"}
		w := e.postJSON("/api/v1/bookings", body)
		got := decode[struct {
			Error struct{ Code, Message, URL string } `json:"error"`
		}](t, w)
		if w.Code != http.StatusUnprocessableEntity || got.Error.Code != "not_eligible" || got.Error.Message == "" ||
			got.Error.URL != "http://callbook.test/roles/software-engineer" {
			t.Fatalf("disqualified: %d %s", w.Code, w.Body.String())
		}
		// Without a time too: a disqualified visitor needs none.
		delete(body, "start")
		if w := e.postJSON("/api/v1/bookings", body); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "not_eligible") {
			t.Fatalf("disqualified without start: %d %s", w.Code, w.Body.String())
		}
		var bookings, mails int64
		e.store.DB().Model(&models.Booking{}).Count(&bookings)
		e.store.DB().Model(&models.OutboxMessage{}).Where("kind NOT LIKE ?", models.MailFollowupPrefix+"%").Count(&mails)
		if bookings != 0 || mails != 0 {
			t.Fatalf("disqualified visitor: %d bookings, %d emails", bookings, mails)
		}
		// Only the role's follow-up for a visitor turned away, once however
		// often they were.
		var followups []models.OutboxMessage
		e.store.DB().Where("kind LIKE ?", models.MailFollowupPrefix+"%").Find(&followups)
		if len(followups) != 1 || followups[0].Kind != "followup-first-steps" || followups[0].Status != models.OutboxPending {
			t.Fatalf("disqualified visitor's follow-ups: %+v", followups)
		}
		var lead models.Lead
		if err := e.store.DB().Where("email_key = ?", "student@example.com").Take(&lead).Error; err != nil {
			t.Fatalf("lead not kept: %v", err)
		}
		if a := models.DecodeAnswers(lead.AnswersJSON); a["experience"] != "0" || a["linkedin"] == "" {
			t.Fatalf("lead answers %s", lead.AnswersJSON)
		}
		var types []string
		e.store.DB().Model(&models.Event{}).Where("lead_id = ?", lead.ID).Order("id").Pluck("type", &types)
		if strings.Join(types, ",") != "lead.created,lead.disqualified,followup.scheduled,lead.disqualified" {
			t.Fatalf("events %v", types)
		}
		// The slot list turns the same answers away.
		if w := e.do(http.MethodGet, "/api/v1/slots?role_slug=backend-engineer&answers.experience=0", nil); w.Code != 422 || !strings.Contains(w.Body.String(), "not_eligible") {
			t.Fatalf("slots for a disqualifying answer: %d %s", w.Code, w.Body.String())
		}
	})
}

func TestBookingAPI_AnswerProblemsNameTheirField(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	start := e.firstSlots(1, "UTC")[0]
	cases := []struct {
		answers map[string]any
		field   string
	}{
		{nil, "answers.experience"},
		{map[string]any{"experience": "10+"}, "answers.experience"},
		{map[string]any{"experience": "1-2", "salary": "lots"}, "answers.salary"},
		{map[string]any{"experience": "1-2", "linkedin": "not a url"}, "answers.linkedin"},
		{map[string]any{"experience": []string{"1-2"}}, "answers.experience"},
	}
	for _, c := range cases {
		body := bookingBody("ada@example.com", start)
		body["answers"] = c.answers
		w := e.postJSON("/api/v1/bookings", body)
		got := decode[errorJSON](t, w)
		if w.Code != 422 || got.Error.Code != "validation_failed" || got.Error.Fields[c.field] == "" {
			t.Errorf("%v: %d %s", c.answers, w.Code, w.Body.String())
		}
	}
	body := bookingBody("ada@example.com", start)
	body["role_slug"] = "software-engineer"
	if w := e.postJSON("/api/v1/bookings", body); w.Code != 422 || !strings.Contains(w.Body.String(), `"answers.experience"`) {
		t.Fatalf("answers to a page without questions: %d %s", w.Code, w.Body.String())
	}
	if w := e.do(http.MethodGet, "/api/v1/slots?role_slug=backend-engineer&answers.experience=7", nil); w.Code != 422 || !strings.Contains(w.Body.String(), `"answers.experience"`) {
		t.Fatalf("slots with a bad answer: %d %s", w.Code, w.Body.String())
	}
	if w := e.do(http.MethodGet, "/api/v1/slots?role_slug=nope", nil); w.Code != 422 || !strings.Contains(w.Body.String(), `"role_slug"`) {
		t.Fatalf("slots for an unknown role: %d %s", w.Code, w.Body.String())
	}
}

func TestRoleAPI_DescribesTheQuestions(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	w := e.do(http.MethodGet, "/api/v1/roles/backend-engineer", nil)
	got := decode[struct {
		Role struct {
			Slug      string     `json:"slug"`
			Questions []Question `json:"questions"`
		} `json:"role"`
	}](t, w)
	if w.Code != 200 || got.Role.Slug != "backend-engineer" || len(got.Role.Questions) < 2 ||
		got.Role.Questions[0].ID != "experience" || !got.Role.Questions[0].Required || len(got.Role.Questions[0].Options) != 4 {
		t.Fatalf("role: %d %s", w.Code, w.Body.String())
	}
	if w := e.do(http.MethodGet, "/api/v1/roles/software-engineer", nil); w.Code != 200 || !strings.Contains(w.Body.String(), `"questions":[]`) {
		t.Fatalf("role without questions: %d %s", w.Code, w.Body.String())
	}
	if w := e.do(http.MethodGet, "/api/v1/roles/nope", nil); w.Code != 404 || !strings.Contains(w.Body.String(), "not_found") {
		t.Fatalf("unknown role: %d", w.Code)
	}
}

func TestBookingPage_QuestionsFirstWithoutJavaScript(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		e.mustSeniorCoach()
		page := e.do(http.MethodGet, "/roles/backend-engineer/book?tz=America/New_York&utm_source=newsletter", nil)
		body := page.Body.String()
		if page.Code != 200 || !strings.Contains(body, `name="answers.experience"`) || strings.Contains(body, `name="start"`) ||
			!strings.Contains(body, `name="step" value="times"`) || !strings.Contains(body, `name="utm_source" value="newsletter"`) {
			t.Fatalf("step one: %d", page.Code)
		}
		// Missing and malformed answers come back beside their fields.
		w := e.do(http.MethodGet, "/roles/backend-engineer/book?step=times&tz=America/New_York&answers.linkedin=nope", nil)
		if w.Code != 422 || !strings.Contains(w.Body.String(), `id="q-experience-error"`) || !strings.Contains(w.Body.String(), `id="q-linkedin-error"`) ||
			!strings.Contains(w.Body.String(), `value="nope"`) {
			t.Fatalf("bad answers: %d", w.Code)
		}
		// Senior answers: only the senior coach's times, answers carried on.
		w = e.do(http.MethodGet, "/roles/backend-engineer/book?step=times&tz=America/New_York&utm_source=newsletter&answers.experience=6%2B", nil)
		body = w.Body.String()
		starts := regexpAll(body, `name="start" value="([^"]+)"`)
		if w.Code != 200 || len(starts) == 0 || !strings.Contains(body, `name="answers.experience" value="6&#43;"`) {
			t.Fatalf("times step: %d, %d times", w.Code, len(starts))
		}
		for _, s := range starts {
			if !isSeniorTime(s) {
				t.Fatalf("times step offers %s, outside the routed coach's hours", s)
			}
		}
		form := url.Values{"name": {"Grace"}, "email": {"grace@example.com"}, "target_title": {"Backend Engineer"},
			"start": {starts[0]}, "timezone": {"America/New_York"}, "consent": {"yes"}, "answers.experience": {"6+"}}
		w = e.postForm("/roles/backend-engineer/book", form)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("book: %d %s", w.Code, w.Body.String())
		}
		// A disqualifying answer shows the guide, and leaving details keeps a lead.
		w = e.do(http.MethodGet, "/roles/backend-engineer/book?step=times&answers.experience=0", nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `href="/roles/software-engineer"`) || !strings.Contains(w.Body.String(), "data-guide-message") {
			t.Fatalf("guide page: %d", w.Code)
		}
		form = url.Values{"name": {"Sam Student"}, "email": {"sam@example.com"}, "target_title": {"Backend Engineer"},
			"timezone": {"UTC"}, "consent": {"yes"}, "answers.experience": {"0"}}
		w = e.postForm("/roles/backend-engineer/book", form)
		if w.Code != 422 || !strings.Contains(w.Body.String(), "data-guide-kept") {
			t.Fatalf("guide form: %d", w.Code)
		}
		var n int64
		e.store.DB().Model(&models.Lead{}).Where("email_key = ?", "sam@example.com").Count(&n)
		if n != 1 {
			t.Fatal("the disqualified visitor was not kept as a lead")
		}
	})
}

// regexpAll returns the first group of every match of pattern in s.
func regexpAll(s, pattern string) []string {
	var out []string
	for _, m := range regexp.MustCompile(pattern).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestStaffAPI_LeadAnswersAndTheirFilter(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		e.mustSeniorCoach()
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		senior := e.routedSlots("answers.experience=6%2B")
		e.mustBookLead("junior@example.com", 0, nil)
		body := bookingBody("senior@example.com", senior[0])
		body["answers"] = map[string]any{"experience": "6+", "timeline": "0-3 months"}
		if w := e.postJSON("/api/v1/bookings", body); w.Code != http.StatusCreated {
			t.Fatalf("book: %d %s", w.Code, w.Body.String())
		}
		w := e.api(admin, http.MethodGet, "/api/v1/admin/leads?answers.experience=6%2B", "")
		got := decode[struct {
			Leads []struct {
				Email   string            `json:"email"`
				Answers map[string]string `json:"answers"`
			} `json:"leads"`
		}](t, w)
		if w.Code != 200 || len(got.Leads) != 1 || got.Leads[0].Email != "senior@example.com" ||
			got.Leads[0].Answers["timeline"] != "0-3 months" || got.Leads[0].Answers["experience"] != "6+" {
			t.Fatalf("filtered list: %d %s", w.Code, w.Body.String())
		}
		// The one-parameter form the staff page's answer selector sends,
		// described in docs/openapi.yaml, filters the same.
		if w := e.api(admin, http.MethodGet, "/api/v1/admin/leads?answer=experience%3D6%2B", ""); w.Code != 200 ||
			strings.Count(w.Body.String(), `"email":`) != 1 || !strings.Contains(w.Body.String(), "senior@example.com") {
			t.Fatalf("answer= filter: %d %s", w.Code, w.Body.String())
		}
		if w := e.api(admin, http.MethodGet, "/api/v1/admin/leads?answers.Bad-Id=x", ""); w.Code != 422 || !strings.Contains(w.Body.String(), "answers.Bad-Id") {
			t.Fatalf("bad answer filter: %d %s", w.Code, w.Body.String())
		}
		w = e.api(admin, http.MethodGet, "/api/v1/admin/leads/export.csv?answers.experience=6%2B", "")
		lines := strings.Split(strings.TrimSpace(w.Body.String()), "\n")
		if w.Code != 200 || len(lines) != 2 || !strings.HasSuffix(lines[0], ",answers") ||
			!strings.HasSuffix(lines[1], `"{""experience"":""6+"",""timeline"":""0-3 months""}"`) {
			t.Fatalf("export: %d %s", w.Code, w.Body.String())
		}
	})
}

func TestStaffPages_AnswersOnTheLeadPageTheListAndTheDashboard(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		e.mustSeniorCoach()
		sales := e.mustStaff("sam@example.com", models.RoleSales)
		senior := e.routedSlots("answers.experience=6%2B")
		e.mustBookLead("junior@example.com", 0, nil)
		seniorLead, _ := e.mustBookLead("senior@example.com", 0, func(b map[string]any) {
			b["start"] = senior[0]
			b["answers"] = map[string]any{"experience": "6+", "linkedin": "https://www.linkedin.com/in/senior"}
		})
		e.mustBookLead("other@example.com", 1, nil)

		// The lead page shows the answers first, labelled by the questions.
		body := e.page(sales, http.MethodGet, "/admin/leads/"+itoa(int(seniorLead)), nil).Body.String()
		answers, contact := strings.Index(body, "data-answers"), strings.Index(body, `id="contact-h"`)
		if answers < 0 || answers > contact || !strings.Contains(body, "<dt>Years writing software professionally</dt><dd>6&#43;</dd>") ||
			!strings.Contains(body, "https://www.linkedin.com/in/senior") {
			t.Fatalf("lead page answers missing or below the contact details")
		}
		// The list filters by one answer from its selector.
		w := e.page(sales, http.MethodGet, "/admin/leads?answer=experience%3D6%2B", nil)
		if !strings.Contains(w.Body.String(), "senior@example.com") || strings.Contains(w.Body.String(), "junior@example.com") ||
			!strings.Contains(w.Body.String(), `<option value="experience=6&#43;" selected>`) {
			t.Fatalf("answer filter: %d", w.Code)
		}
		// The dashboard counts answers by title; each count is its list.
		body = e.page(sales, http.MethodGet, "/admin?days=7", nil).Body.String()
		found := 0
		for _, m := range countLink.FindAllStringSubmatch(body, -1) {
			if !strings.Contains(m[1], "answers.") {
				continue
			}
			found++
			if n := e.leadListCount(m[1]); itoa(int(n)) != m[2] {
				t.Errorf("%s shows %s, its list has %d", m[1], m[2], n)
			}
		}
		if found != 2 || !strings.Contains(body, "Answers by target title") {
			t.Fatalf("dashboard has %d answer counts, want 2 (1-2 twice, 6+ once)", found)
		}
	})
}
