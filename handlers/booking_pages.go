package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/locale"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// dayOption is one day of the slot picker.
type dayOption struct {
	Date     string // YYYY-MM-DD in the visitor's zone
	Day      time.Time
	Count    int
	Selected bool
}

// timeOption is one offered time on the selected day.
type timeOption struct {
	Value string // RFC 3339, what the form submits
	Start time.Time
	End   time.Time
}

// Minutes is the call's length: the same for every time of one page, so
// the page says it once (data-minutes) instead of an end on every time.
func (t timeOption) Minutes() int { return int(t.End.Sub(t.Start) / time.Minute) }

// slotPicker is what the booking and reschedule pages show: the days with
// free times in the visitor's zone and the times of the chosen day.
type slotPicker struct {
	TZ       string
	Days     []dayOption
	Times    []timeOption
	Selected string // the chosen day
	Chosen   string // the chosen time, RFC 3339
	Zones    []string
}

// buildPicker lists every offered slot within the horizon in loc and picks
// the day to show: wantDay, else the day of the chosen time, else the first.
// For a booking being moved, pass it: its own time is then not offered and
// does not block its neighbours. hosts limits the times to those of the
// hosts a route names (nil: every host).
func (s *Server) buildPicker(c *gin.Context, loc *time.Location, wantDay, chosen string, moving *models.Booking, kind *models.CallKind, hosts []string) (slotPicker, error) {
	now := s.now().In(loc)
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	// The store cuts the list at the horizon, so ask for the longest one.
	to := from.AddDate(0, 0, models.MaxHorizonDays+2)
	var slots []models.Slot
	var err error
	if moving != nil {
		slots, _, err = s.store.SlotsMoving(c.Request.Context(), moving, from, to)
	} else {
		slots, _, err = s.store.KindSlots(c.Request.Context(), from, to, kind, hosts)
	}
	if err != nil {
		return slotPicker{}, err
	}
	p := slotPicker{TZ: loc.String(), Chosen: chosen, Zones: zoneChoices(loc.String())}
	byDay := map[string][]timeOption{}
	for _, sl := range slots {
		st := sl.Start.In(loc)
		d := st.Format(time.DateOnly)
		if len(byDay[d]) == 0 {
			p.Days = append(p.Days, dayOption{Date: d, Day: st})
		}
		byDay[d] = append(byDay[d], timeOption{Value: st.Format(time.RFC3339), Start: st, End: sl.End.In(loc)})
	}
	if t, err := time.Parse(time.RFC3339, chosen); err == nil && wantDay == "" {
		wantDay = t.In(loc).Format(time.DateOnly)
	}
	if byDay[wantDay] == nil && len(p.Days) > 0 {
		wantDay = p.Days[0].Date
	}
	for i := range p.Days {
		p.Days[i].Count = len(byDay[p.Days[i].Date])
		p.Days[i].Selected = p.Days[i].Date == wantDay
	}
	p.Selected, p.Times = wantDay, byDay[wantDay]
	return p, nil
}

// visitorZone reads ?tz=, falling back to the business zone.
func (s *Server) visitorZone(raw string) (*time.Location, bool) {
	if loc, ok := s.zones.load(raw); ok {
		return loc, true
	}
	return s.store.Location(), false
}

// bookPage shows the booking page (GET /roles/{slug}/book). A role page
// with questions asks them first (a GET form, so it works without
// JavaScript); their answers come back here with step=times and pick the
// hosts whose times the picker shows.
func (s *Server) bookPage(c *gin.Context) {
	role, lang := s.roleInLanguage(c)
	if role == nil {
		s.fail(c, errRouteNotFound)
		return
	}
	q := c.Request.URL.Query()
	in := bookingInput{TargetTitle: role.Title, RoleSlug: role.Slug, Referrer: q.Get("ref"), Timezone: q.Get("tz"), Language: lang}
	if in.Referrer == "" {
		// Landing here straight from another site: the steps after this
		// carry its address on as ?ref= and the form's referrer field.
		in.Referrer = s.outsideReferrer(c)
	}
	in.UTM = utmInput{q.Get("utm_source"), q.Get("utm_medium"), q.Get("utm_campaign"), q.Get("utm_term"), q.Get("utm_content")}
	in.Answers = formAnswers(q)
	in.prefill(q)
	if done := s.chooseCall(c, role, &in); done {
		return
	}
	if len(role.Questions) == 0 {
		s.showBookForm(c, http.StatusOK, role, in, q.Get("tz"), q.Get("date"), nil, "")
		return
	}
	if q.Get("step") != "times" {
		s.showQuestions(c, http.StatusOK, role, in, nil)
		return
	}
	v := &models.ValidationError{}
	var req models.BookingRequest
	in.route(v, role, role, &req) // routing only: nothing is kept
	switch {
	case v.Err() != nil:
		s.showQuestions(c, http.StatusUnprocessableEntity, role, in, v.Fields)
	case req.Disqualified != nil:
		s.showGuide(c, http.StatusOK, role, in, req.Disqualified, false, nil)
	default:
		in.Start = q.Get("start")
		s.showBookForm(c, http.StatusOK, role, in, q.Get("tz"), q.Get("date"), nil, "")
	}
}

// keepParams are the query parameters the booking page's own links and GET
// forms carry on: the source of the visit and the answers.
func (in bookingInput) keepParams(role *Role) url.Values {
	keep := url.Values{}
	for k, v := range map[string]string{"utm_source": in.UTM.Source, "utm_medium": in.UTM.Medium,
		"utm_campaign": in.UTM.Campaign, "utm_term": in.UTM.Term, "utm_content": in.UTM.Content, "ref": in.Referrer} {
		if v != "" {
			keep.Set(k, v)
		}
	}
	for k, v := range map[string]string{"call": in.Call, "link": in.Link, "name": in.Name, "email": in.Email,
		"phone": in.Phone, "current_title": in.CurrentTitle} {
		if v != "" {
			keep.Set(k, v)
		}
	}
	if in.TargetTitle != "" && in.TargetTitle != role.Title {
		keep.Set("target_title", in.TargetTitle)
	}
	if len(role.Questions) > 0 {
		keep.Set("step", "times")
		for id, a := range in.answerStrings() {
			keep.Set("answers."+id, a)
		}
	}
	return keep
}

// answerStrings are the answers as the form shows them.
func (in bookingInput) answerStrings() map[string]string {
	out := make(map[string]string, len(in.Answers))
	for id, a := range in.Answers {
		if s, ok := a.(string); ok && s != "" {
			out[id] = s
		}
	}
	return out
}

// showQuestions renders step one of a role page with questions: the
// questions, answers kept, problems next to their fields.
func (s *Server) showQuestions(c *gin.Context, status int, role *Role, in bookingInput, errs map[string]string) {
	keep := in.keepParams(role)
	keep.Del("step")
	for k := range keep {
		if strings.HasPrefix(k, "answers.") {
			keep.Del(k)
		}
	}
	if in.Timezone != "" {
		keep.Set("tz", in.Timezone)
	}
	var calls []models.CallKind
	var kind *models.CallKind
	if role.ChoosesCall() && in.Link == "" {
		calls = role.PublicCalls() // the kind is asked first, on this step
		keep.Del("call")
	} else if in.Call != "" {
		kind = kindOf(&models.ValidationError{}, role, in.Call, in.private)
	}
	s.keepEmbedState(c, keep)
	// Only the answers are on this step; an unknown question's problem is
	// listed on its own.
	answerErrs, other := map[string]string{}, map[string]string{}
	for f, m := range errs {
		switch {
		case slices.ContainsFunc(role.Questions, func(q Question) bool { return q.Field() == f }):
			answerErrs[f] = m
		case strings.HasPrefix(f, "answers."):
			answerErrs[f], other[f] = m, m
		}
	}
	if len(answerErrs) == 0 {
		answerErrs = nil
	}
	s.render(c, status, "public/book.html", gin.H{
		"Title": s.lang(c).T("book_title", "Role", role.Title), "Role": role, "In": in, "Step": "questions",
		"Answers": in.answerStrings(), "Errors": answerErrs, "OtherErrors": other, "Keep": keep, "PageScript": "book.js",
		"Calls": calls, "Kind": kind,
	})
}

// showGuide renders the page for a visitor the routes turn away: the
// role page's message, the link, and (until they leave them) a short form
// for their details so a coach can follow up.
func (s *Server) showGuide(c *gin.Context, status int, role *Role, in bookingInput, d *models.Disqualification, kept bool, errs map[string]string) {
	s.render(c, status, "public/guide.html", gin.H{
		"Title": s.lang(c).T("guide_title", "Role", role.Title), "Role": role, "In": in, "Guide": d, "Kept": kept, "Errors": errs,
		"GuideURL": d.URL,
		"Answers":  in.answerStrings(), "Change": "/roles/" + role.Slug + "/book?" + in.changeAnswersQuery(role),
	})
}

// changeAnswersQuery is the query string of a link back to the questions
// with the answers filled in.
func (in bookingInput) changeAnswersQuery(role *Role) string {
	keep := in.keepParams(role)
	keep.Del("step")
	if in.Timezone != "" {
		keep.Set("tz", in.Timezone)
	}
	return keep.Encode()
}

// showBookForm renders the booking page with the input kept and problems
// shown next to their fields.
func (s *Server) showBookForm(c *gin.Context, status int, role *Role, in bookingInput, tz, day string, errs map[string]string, msg string) {
	loc, detected := s.visitorZone(tz)
	if tz == "" {
		tz = in.Timezone
		loc, detected = s.visitorZone(tz)
	}
	var routed models.BookingRequest
	in.route(&models.ValidationError{}, role, role, &routed)
	kind := kindOf(&models.ValidationError{}, role, in.Call, in.private)
	picker, err := s.buildPicker(c, loc, day, in.Start, nil, kind, routed.Hosts)
	if err != nil {
		s.fail(c, err)
		return
	}
	keep := in.keepParams(role)
	s.keepEmbedState(c, keep)
	s.render(c, status, "public/book.html", gin.H{
		"Title": s.lang(c).T("book_title", "Role", role.Title), "Role": role, "In": in, "Picker": picker, "Step": "times",
		"Errors": errs, "Message": msg, "Keep": keep, "TZKnown": detected, "FormKey": store.RandomToken(16),
		"PageScript": "book.js", "Answers": in.answerStrings(), "Change": "/roles/" + role.Slug + "/book?" + in.changeAnswersQuery(role),
		"SlotsQuery": slotsQuery(role, in), "Kind": kind, "ChoosesCall": role.ChoosesCall() && in.Link == "",
		"ChangeCall": "/roles/" + role.Slug + "/book?" + in.changeCallQuery(role),
	})
}

// slotsQuery is what the picker's script adds to its /api/v1/slots calls
// so it lists the same routed hosts' times as the page.
func slotsQuery(role *Role, in bookingInput) string {
	if len(role.Questions) == 0 && in.Call == "" && in.Link == "" {
		return ""
	}
	q := url.Values{"role_slug": {role.Slug}, "language": {in.Language}}
	if in.Link != "" {
		q.Set("link", in.Link)
	} else if in.Call != "" {
		q.Set("call", in.Call)
	}
	for id, a := range in.answerStrings() {
		q.Set("answers."+id, a)
	}
	return q.Encode()
}

// bookSubmit takes the booking form (POST /roles/{slug}/book).
func (s *Server) bookSubmit(c *gin.Context) {
	role, lang := s.roleInLanguage(c)
	if role == nil {
		s.fail(c, errRouteNotFound)
		return
	}
	if err := c.Request.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.fail(c, errTooLarge)
			return
		}
		s.fail(c, badRequest("the form could not be read"))
		return
	}
	f := c.Request.PostForm
	if strings.TrimSpace(f.Get("website")) != "" {
		// The honeypot: people never see this field, bots fill it. Drop the
		// submission quietly and look successful.
		c.Redirect(http.StatusSeeOther, "/roles/"+role.Slug+"?thanks=1")
		return
	}
	in := bookingInput{
		Name: f.Get("name"), Email: f.Get("email"), Phone: f.Get("phone"), CurrentTitle: f.Get("current_title"),
		TargetTitle: f.Get("target_title"), RoleSlug: role.Slug, Start: f.Get("start"), Timezone: f.Get("timezone"),
		Message: f.Get("message"), Consent: f.Get("consent") != "", Referrer: f.Get("referrer"),
		UTM:     utmInput{f.Get("utm_source"), f.Get("utm_medium"), f.Get("utm_campaign"), f.Get("utm_term"), f.Get("utm_content")},
		Answers: formAnswers(f), Language: lang, Call: f.Get("call"), Link: f.Get("link"),
	}
	if in.Link != "" {
		if done := s.openLinkFor(c, role, &in); done {
			return
		}
	}
	// The page wrote the key itself: one that breaks the rule was not
	// made by it, so the request is refused as malformed.
	key, kerr := idempotencyKey(f.Get("form_key"))
	if kerr != nil {
		s.fail(c, badRequest("form_key "+kerr.Error()+"; reload the booking page and try again"))
		return
	}
	req, err := s.bookingRequest(c.Request.Context(), in)
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve) && hasAnswerErrors(ve):
		s.showQuestions(c, http.StatusUnprocessableEntity, role, in, ve.Fields)
		return
	case errors.As(err, &ve) && req.Disqualified != nil:
		s.showGuide(c, http.StatusUnprocessableEntity, role, in, req.Disqualified, false, ve.Fields)
		return
	case errors.As(err, &ve):
		s.showBookForm(c, http.StatusUnprocessableEntity, role, in, "", "", ve.Fields, "")
		return
	case req.Disqualified != nil:
		if _, err := s.store.DisqualifyLead(c.Request.Context(), req, *req.Disqualified); err != nil {
			s.fail(c, err)
			return
		}
		s.showGuide(c, http.StatusUnprocessableEntity, role, in, req.Disqualified, true, nil)
		return
	}
	s.markEmbedded(c, &req)
	var idem *models.Idempotency
	if key != "" {
		// A double-clicked submit books once and lands on the same page.
		idem = &models.Idempotency{Key: "form:" + key, BodyHash: hashForm(f),
			Render: func(b *models.Booking, _ *models.Lead, _ *models.User) (int, string, error) {
				return http.StatusSeeOther, s.confirmationPath(c, s.store.BookingToken(b.UID)), nil
			}}
	}
	res, err := s.store.BookSlot(c.Request.Context(), req, idem)
	var rp *models.Replay
	switch {
	case errors.As(err, &rp):
		c.Redirect(http.StatusSeeOther, rp.Body)
	case errors.Is(err, models.ErrSlotTaken):
		s.countBookingError(err)
		in.Start = ""
		s.showBookForm(c, http.StatusConflict, role, in, "", "", map[string]string{"start": "pick another time"},
			s.lang(c).T("slot_taken"))
	case errors.As(err, &ve): // the host picked phones: the number is needed
		s.showBookForm(c, http.StatusUnprocessableEntity, role, in, "", "", ve.Fields, "")
	case errors.Is(err, models.ErrLinkUsed):
		s.linkGone(c, role)
	case errors.Is(err, models.ErrIdempotencyConflict):
		in.Start = ""
		s.showBookForm(c, http.StatusConflict, role, in, "", "", nil, s.lang(c).T("form_used"))
	case err != nil:
		s.fail(c, err)
	default:
		s.metrics.bookingsCreated.Inc()
		c.Redirect(http.StatusSeeOther, s.confirmationPath(c, res.Token))
	}
}

// hashForm fingerprints the submitted fields for idempotency.
func hashForm(f url.Values) string {
	delete(f, "form_key")
	return store.HashString(f.Encode())
}

// bookingPage is the confirmation and manage page (GET /bookings/{token}).
func (s *Server) bookingPage(c *gin.Context) {
	token := c.Param("token")
	b, err := s.store.BookingByToken(c.Request.Context(), token)
	if err != nil {
		s.fail(c, err)
		return
	}
	loc, ok := s.zones.load(b.Timezone)
	if !ok {
		loc = time.UTC
	}
	host := s.hostName(c.Request.Context(), b.HostID)
	lang := s.chooseLanguage(c, b.Language)
	role := s.content.RoleIn(b.RoleSlug, lang)
	s.render(c, http.StatusOK, "public/booking.html", gin.H{
		"Title": s.lang(c).T("your_discovery_call"), "Booking": b, "Token": token, "Start": b.StartAt.In(loc), "End": b.EndAt.In(loc),
		"HostName": host, "Role": role, "GoogleURL": s.googleCalendarURL(s.lang(c), b, token),
		"Changeable": b.Status == models.BookingConfirmed && b.StartAt.After(s.now()),
		"Just":       c.Query("done"),
	})
}

// googleCalendarURL pre-fills an event in Google Calendar.
func (s *Server) googleCalendarURL(l *locale.Lang, b *models.Booking, token string) string {
	const f = "20060102T150405Z"
	q := url.Values{}
	q.Set("action", "TEMPLATE")
	q.Set("text", l.T("google_text", "Title", b.TargetTitle))
	q.Set("dates", b.StartAt.UTC().Format(f)+"/"+b.EndAt.UTC().Format(f))
	q.Set("details", l.T("google_details", "URL", s.absURL("/bookings/"+token)))
	return "https://calendar.google.com/calendar/render?" + q.Encode()
}

// bookingICS serves the call as a calendar file.
func (s *Server) bookingICS(c *gin.Context) {
	b, err := s.store.BookingByToken(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if s.mail == nil {
		s.fail(c, errRouteNotFound)
		return
	}
	d, err := s.store.MailDataFor(c.Request.Context(), b, models.MailConfirmation)
	if err != nil {
		s.fail(c, err)
		return
	}
	method := "REQUEST"
	if b.Status == models.BookingCanceled {
		method = "CANCEL"
	}
	ics, err := s.mail.InviteICS(d, method)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="invite.ics"`)
	c.Data(http.StatusOK, "text/calendar; charset=utf-8; method="+method, ics)
}
