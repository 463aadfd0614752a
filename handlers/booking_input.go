package handlers

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/callbook/callbook/locale"
	"github.com/callbook/callbook/models"
)

// bookingInput is a booking request as the API and the form carry it.
type bookingInput struct {
	Name         string   `json:"name"`
	Email        string   `json:"email"`
	Phone        string   `json:"phone"`
	CurrentTitle string   `json:"current_title"`
	TargetTitle  string   `json:"target_title"`
	RoleSlug     string   `json:"role_slug"`
	Start        string   `json:"start"`
	Timezone     string   `json:"timezone"`
	Message      string   `json:"message"`
	Consent      bool     `json:"consent"`
	UTM          utmInput `json:"utm"`
	Referrer     string   `json:"referrer"`
	// Answers to the role page's questions: strings, or numbers and
	// booleans for the number and yes_no kinds.
	Answers map[string]any `json:"answers"`
	// Call is the kind of call (default: the role's first public kind);
	// Link a private link's token, which may name a kind that is not public.
	Call string `json:"call"`
	Link string `json:"link"`
	// private lets Call name a kind that is not public: the request came
	// through a private link.
	private bool
	// Language is the visitor's language (en, de, es): the booking's
	// emails are written in it, and the answers are checked against the
	// role page's version in it.
	Language string `json:"language"`
}

type utmInput struct {
	Source   string `json:"source"`
	Medium   string `json:"medium"`
	Campaign string `json:"campaign"`
	Term     string `json:"term"`
	Content  string `json:"content"`
}

// zoneCache remembers the zones it has loaded: time.LoadLocation reads and
// parses the zone file on every call, and a booking needs its zone several
// times. Only valid names are kept, so the cache is bounded by the zone
// database.
type zoneCache struct{ m sync.Map }

// load accepts IANA zone names only ("Local" and "" are not zones).
func (z *zoneCache) load(name string) (*time.Location, bool) {
	if loc, ok := z.m.Load(name); ok {
		return loc.(*time.Location), true
	}
	if name == "" || name == "Local" || strings.ContainsAny(name, " \\") || len(name) > 64 {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	z.m.Store(name, loc)
	return loc, true
}

// validPhone allows what people type in phone numbers and nothing else.
func validPhone(p string) bool {
	digits := 0
	for _, r := range p {
		switch {
		case unicode.IsDigit(r):
			digits++
		case strings.ContainsRune("+-(). ", r):
		default:
			return false
		}
	}
	return digits >= 5 && digits <= 20
}

// validate checks every field (docs/openapi.yaml) and returns the request for the
// store, or a ValidationError naming each problem.
func (in bookingInput) validate(content *Content, zones *zoneCache) (models.BookingRequest, error) {
	v := &models.ValidationError{}
	req := models.BookingRequest{
		Name:         models.CheckText(v, "name", in.Name, 1, 120),
		Phone:        models.CheckText(v, "phone", in.Phone, 0, 40),
		CurrentTitle: models.CheckText(v, "current_title", in.CurrentTitle, 0, 120),
		TargetTitle:  models.CheckText(v, "target_title", in.TargetTitle, 1, 120),
		RoleSlug:     strings.TrimSpace(in.RoleSlug),
		Message:      models.CheckMultiline(v, "message", in.Message, 2000),
		UTMSource:    models.CheckText(v, "utm.source", in.UTM.Source, 0, 200),
		UTMMedium:    models.CheckText(v, "utm.medium", in.UTM.Medium, 0, 200),
		UTMCampaign:  models.CheckText(v, "utm.campaign", in.UTM.Campaign, 0, 200),
		UTMTerm:      models.CheckText(v, "utm.term", in.UTM.Term, 0, 200),
		UTMContent:   models.CheckText(v, "utm.content", in.UTM.Content, 0, 200),
		Referrer:     models.CheckText(v, "referrer", in.Referrer, 0, 2000),
	}
	email := strings.TrimSpace(in.Email)
	switch {
	case email == "":
		v.Add("email", "is required")
	case !models.ValidEmail(email):
		v.Add("email", "not a valid address")
	}
	req.Email = email
	if req.Phone != "" && !validPhone(req.Phone) {
		v.Add("phone", "must be a phone number: digits, spaces and + - ( ) only")
	}
	req.Language = in.Language
	if req.Language != "" && !locale.Supported(req.Language) {
		v.Add("language", "must be one of "+strings.Join(locale.Languages, ", "))
	}
	if req.RoleSlug != "" && content.Role(req.RoleSlug) == nil {
		v.Add("role_slug", "no such role page")
	}
	tz := strings.TrimSpace(in.Timezone)
	if _, ok := zones.load(tz); !ok {
		v.Add("timezone", "must be an IANA time zone such as Europe/Berlin")
	}
	req.Timezone = tz
	if strings.TrimSpace(in.Start) == "" {
		v.Add("start", "pick a time")
	} else if t, err := time.Parse(time.RFC3339, strings.TrimSpace(in.Start)); err != nil {
		v.Add("start", "must be an RFC 3339 time, as listed by /api/v1/slots")
	} else {
		req.Start = t.UTC()
	}
	if !in.Consent {
		v.Add("consent", "please agree to be contacted about your call")
	}
	in.route(v, content.RoleIn(req.RoleSlug, in.Language), content.Role(req.RoleSlug), &req)
	req.Call = kindOf(v, content.Role(req.RoleSlug), strings.TrimSpace(in.Call), in.private)
	req.Link = in.Link
	return req, v.Err()
}

// route checks the answers and applies the role page's first matching
// route to req: its hosts, or its disqualification, for which no time is
// needed. role is the page in the visitor's language, base its default
// file: the answers are kept in base's wording (answersAsIn).
func (in bookingInput) route(v *models.ValidationError, role, base *Role, req *models.BookingRequest) {
	raw := make(map[string]string, len(in.Answers))
	for id, a := range in.Answers {
		switch a := a.(type) {
		case nil:
		case string:
			raw[id] = a
		case float64:
			raw[id] = strconv.FormatFloat(a, 'f', -1, 64)
		case bool:
			raw[id] = map[bool]string{true: "yes", false: "no"}[a]
		default:
			v.Add("answers."+id, "must be a string")
		}
	}
	req.Answers = checkAnswers(v, role, raw, false)
	if hasAnswerErrors(v) {
		return
	}
	req.Hosts, req.Disqualified = role.routeTo(req.Answers)
	if req.Disqualified != nil {
		delete(v.Fields, "start")
	}
	req.Answers = role.answersAsIn(base, req.Answers)
}

// hasAnswerErrors reports whether any problem is with an answer.
func hasAnswerErrors(v *models.ValidationError) bool {
	for f := range v.Fields {
		if strings.HasPrefix(f, "answers.") {
			return true
		}
	}
	return false
}

// bookingRequest is the one check of a booking, for the API and the form
// alike: every field (validate), the route the answers pick, and the phone
// rule for the hosts that route may give, so a number that every one of
// them needs is asked for with the other problems. It returns the request
// for the store, or a ValidationError naming each problem. Which host
// takes the call, and so whether a number is needed at that time, is the
// store's to say when it books.
func (s *Server) bookingRequest(ctx context.Context, in bookingInput) (models.BookingRequest, error) {
	if in.Link != "" {
		// A private link books its own role's kind, public or not.
		link, err := s.store.OpenBookingLink(ctx, in.Link)
		switch {
		case errors.Is(err, models.ErrNotFound):
			return models.BookingRequest{}, models.Invalid("link", "not a booking link")
		case err != nil:
			return models.BookingRequest{}, err
		case in.RoleSlug != "" && in.RoleSlug != link.RoleSlug:
			return models.BookingRequest{}, models.Invalid("link", "is a link for another role")
		}
		in.RoleSlug, in.Call, in.private = link.RoleSlug, link.CallID, true
	}
	req, err := in.validate(s.content, &s.zones)
	var ve *models.ValidationError
	if err != nil && !errors.As(err, &ve) {
		return req, err
	}
	if req.Disqualified != nil || strings.TrimSpace(in.Phone) != "" || (ve != nil && hasAnswerErrors(ve)) {
		return req, err
	}
	need, perr := s.store.PhoneNeeded(ctx, req.Hosts)
	if perr != nil {
		return req, perr
	}
	if need {
		return req, withProblem(err, "phone", models.PhoneRequired().Fields["phone"])
	}
	return req, err
}

// withProblem adds one field's problem to err, a ValidationError or nil.
func withProblem(err error, field, msg string) error {
	var ve *models.ValidationError
	if !errors.As(err, &ve) {
		if err != nil {
			return err
		}
		ve = &models.ValidationError{}
	}
	ve.Add(field, msg)
	return ve
}

// maxIdempotencyKey is the longest idempotency key, in characters.
const maxIdempotencyKey = 200

// idempotencyKey is the one rule for a booking's idempotency key, the
// API's Idempotency-Key header and the booking form's hidden form_key
// alike: surrounding spaces dropped, then at most 200 printable ASCII
// characters. "" is no key.
func idempotencyKey(raw string) (string, error) {
	key := strings.TrimSpace(raw)
	if len(key) > maxIdempotencyKey {
		return "", errors.New("must be at most 200 characters")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return "", errors.New("must be printable ASCII characters only")
		}
	}
	return key, nil
}
