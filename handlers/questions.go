package handlers

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/callbook/callbook/models"
)

// Question kinds a role page may ask.
const (
	KindText     = "text"
	KindTextarea = "textarea"
	KindSelect   = "select"
	KindNumber   = "number"
	KindYesNo    = "yes_no"
	KindURL      = "url"
	KindEmail    = "email"
)

var questionKinds = []string{KindText, KindTextarea, KindSelect, KindNumber, KindYesNo, KindURL, KindEmail}

// Question is one question a role page asks before it shows the times.
type Question struct {
	ID       string   `yaml:"id" json:"id"`
	Label    string   `yaml:"label" json:"label"`
	Kind     string   `yaml:"kind" json:"kind"`
	Options  []string `yaml:"options" json:"options,omitempty"`
	Required bool     `yaml:"required" json:"required"`
	Hint     string   `yaml:"hint" json:"hint,omitempty"`
}

// Field is the name the question's answer travels under in forms, query
// strings and validation errors.
func (q Question) Field() string { return "answers." + q.ID }

// Route sends the visitors whose answers meet every condition of If to
// the hosts named by email, or turns them away with Disqualify. A role
// page's routes are tried in order; the first that matches decides.
type Route struct {
	If         map[string]Values `yaml:"if"`
	Hosts      []string          `yaml:"hosts"`
	Disqualify *Disqualify       `yaml:"disqualify"`
}

// Disqualify is what a visitor the route turns away reads, and where the
// page sends them instead.
type Disqualify struct {
	Message string `yaml:"message"`
	URL     string `yaml:"url"`
}

// Values is a route condition: the answer must be one of them. In YAML it
// is one value or a list.
type Values []string

// UnmarshalYAML takes a scalar or a list of scalars. Unquoted numbers and
// booleans are read as the text a visitor's answer would carry.
func (v *Values) UnmarshalYAML(unmarshal func(any) error) error {
	var raw any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	list, ok := raw.([]any)
	if !ok {
		list = []any{raw}
	}
	for _, x := range list {
		switch x := x.(type) {
		case bool:
			*v = append(*v, map[bool]string{true: "yes", false: "no"}[x])
		case string, int, int64, uint64, float64:
			*v = append(*v, fmt.Sprint(x))
		default:
			return fmt.Errorf("a condition must be a value or a list of values")
		}
	}
	return nil
}

var questionID = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// checkQuestions reports the first problem with a role page's questions
// and routes, in words for the one line that refuses the content at start.
func checkQuestions(r *Role) error {
	byID := map[string]*Question{}
	for i := range r.Questions {
		q := &r.Questions[i]
		where := fmt.Sprintf("question %d", i+1)
		if q.ID != "" {
			where = fmt.Sprintf("question %q", q.ID)
		}
		switch {
		case !questionID.MatchString(q.ID):
			return fmt.Errorf("%s: id must be lower-case letters, digits and _ (starting with a letter)", where)
		case byID[q.ID] != nil:
			return fmt.Errorf("%s: id is used twice", where)
		case strings.TrimSpace(q.Label) == "":
			return fmt.Errorf("%s: needs a label", where)
		case !slices.Contains(questionKinds, q.Kind):
			return fmt.Errorf("%s: kind %q is not one of %s", where, q.Kind, strings.Join(questionKinds, ", "))
		case q.Kind == KindSelect && len(q.Options) == 0:
			return fmt.Errorf("%s: a select needs options", where)
		case q.Kind != KindSelect && len(q.Options) > 0:
			return fmt.Errorf("%s: only a select has options", where)
		}
		for j, o := range q.Options {
			if strings.TrimSpace(o) == "" || o != strings.TrimSpace(o) || slices.Contains(q.Options[:j], o) {
				return fmt.Errorf("%s: option %q is empty, padded or given twice", where, o)
			}
		}
		byID[q.ID] = q
	}
	for i, rt := range r.Routes {
		if err := checkRoute(rt, byID); err != nil {
			return fmt.Errorf("route %d: %w", i+1, err)
		}
	}
	return nil
}

func checkRoute(rt Route, byID map[string]*Question) error {
	if len(rt.If) == 0 {
		return fmt.Errorf("needs an if with at least one condition")
	}
	for id, vals := range rt.If {
		q := byID[id]
		if q == nil {
			return fmt.Errorf("if names %q, which is not a question on this page", id)
		}
		if len(vals) == 0 {
			return fmt.Errorf("if %s has no values", id)
		}
		for _, val := range vals {
			v := &models.ValidationError{}
			if got := checkAnswer(v, *q, val); v.Err() != nil || got != val {
				return fmt.Errorf("if %s: %q is not an answer the question accepts", id, val)
			}
		}
	}
	switch {
	case (len(rt.Hosts) > 0) == (rt.Disqualify != nil):
		return fmt.Errorf("needs either hosts or disqualify")
	case rt.Disqualify != nil && strings.TrimSpace(rt.Disqualify.Message) == "":
		return fmt.Errorf("disqualify needs a message")
	case rt.Disqualify != nil && !validGuideURL(rt.Disqualify.URL):
		return fmt.Errorf("disqualify needs a url: a path such as /roles/software-engineer or an https:// address")
	}
	for _, h := range rt.Hosts {
		if !models.ValidEmail(h) {
			return fmt.Errorf("host %q is not an email address", h)
		}
	}
	return nil
}

func validGuideURL(s string) bool {
	if strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// checkAnswer validates one answer to q by its kind and returns it as
// kept (trimmed, and yes/no lower-cased). An empty answer is "is required"
// for a required question and no answer otherwise.
func checkAnswer(v *models.ValidationError, q Question, raw string) string {
	field := q.Field()
	val := strings.TrimSpace(raw)
	if q.Kind == KindTextarea {
		val = models.CheckMultiline(v, field, raw, 2000)
	}
	if val == "" {
		if q.Required {
			v.Add(field, "is required")
		}
		return ""
	}
	switch q.Kind {
	case KindText:
		val = models.CheckText(v, field, val, 0, 200)
	case KindSelect:
		if !slices.Contains(q.Options, val) {
			v.Add(field, "must be one of: "+strings.Join(q.Options, ", "))
		}
	case KindNumber:
		if f, err := strconv.ParseFloat(val, 64); err != nil || math.IsInf(f, 0) || math.IsNaN(f) || len(val) > 32 {
			v.Add(field, "must be a number")
		}
	case KindYesNo:
		val = strings.ToLower(val)
		if val != "yes" && val != "no" {
			v.Add(field, "must be yes or no")
		}
	case KindURL:
		if u, err := url.Parse(val); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			strings.ContainsAny(val, " \t\r\n") || len(val) > 2000 {
			v.Add(field, "must be a web address starting with https://")
		}
	case KindEmail:
		if !models.ValidEmail(val) {
			v.Add(field, "not a valid address")
		}
	}
	return val
}

// checkAnswers validates a visitor's answers to role's questions: each
// question by its kind, and no answer to a question the page does not ask.
// Problems are named "answers.<id>". With partial, required questions may
// go unanswered (a slot list asked for before every answer is in).
func checkAnswers(v *models.ValidationError, role *Role, raw map[string]string, partial bool) models.Answers {
	out := models.Answers{}
	var questions []Question
	if role != nil {
		questions = role.Questions
	}
	for _, q := range questions {
		q.Required = q.Required && !partial
		if val := checkAnswer(v, q, raw[q.ID]); val != "" {
			out[q.ID] = val
		}
	}
	for id := range raw {
		if !slices.ContainsFunc(questions, func(q Question) bool { return q.ID == id }) {
			v.Add("answers."+id, "is not a question on this page")
		}
	}
	return out
}

// answersAsIn returns a, answers to r's questions, in the wording of base,
// the role's default page, when r is a version of it in another language:
// a choice is kept as base's option in the same place ("in 0–3 Monaten"
// becomes "0-3 months"), so staff read every lead's answers in one
// language and count them together. Answers to questions base words
// otherwise (another number of options, or no such question) stay as given.
func (r *Role) answersAsIn(base *Role, a models.Answers) models.Answers {
	if base == nil || base == r || len(a) == 0 {
		return a
	}
	out := make(models.Answers, len(a))
	for id, val := range a {
		out[id] = val
		q, b := r.question(id), base.question(id)
		if q == nil || b == nil || q.Kind != KindSelect || b.Kind != KindSelect || len(q.Options) != len(b.Options) {
			continue
		}
		if i := slices.Index(q.Options, val); i >= 0 {
			out[id] = b.Options[i]
		}
	}
	return out
}

// question is r's question id, or nil.
func (r *Role) question(id string) *Question {
	for i := range r.Questions {
		if r.Questions[i].ID == id {
			return &r.Questions[i]
		}
	}
	return nil
}

// route returns the first of role's routes whose every condition holds
// for a, or nil: any host.
func (r *Role) route(a models.Answers) *Route {
	if r == nil {
		return nil
	}
	for i := range r.Routes {
		rt := &r.Routes[i]
		match := true
		for id, vals := range rt.If {
			if !slices.Contains(vals, a[id]) {
				match = false
				break
			}
		}
		if match {
			return rt
		}
	}
	return nil
}

// routeTo is where role's routes send answers a: the hosts to book with
// (nil: any host), or the disqualification that turns the visitor away.
func (r *Role) routeTo(a models.Answers) ([]string, *models.Disqualification) {
	rt := r.route(a)
	switch {
	case rt == nil:
		return nil, nil
	case rt.Disqualify != nil:
		return nil, &models.Disqualification{Message: rt.Disqualify.Message, URL: rt.Disqualify.URL}
	}
	return rt.Hosts, nil
}

// formAnswers is answersFrom as a booking's answers, which a form or
// query string only ever gives as strings.
func formAnswers(vals url.Values) map[string]any {
	out := map[string]any{}
	for id, a := range answersFrom(vals) {
		out[id] = a
	}
	return out
}

// answersFrom reads answers.<id> parameters from a form or query string.
func answersFrom(vals url.Values) map[string]string {
	out := map[string]string{}
	for k, v := range vals {
		if id, ok := strings.CutPrefix(k, "answers."); ok && len(v) > 0 {
			out[id] = v[0]
		}
	}
	return out
}
