package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// BookSlot books the call req asks for: it upserts the lead by email, gives
// the call to the free host with the fewest upcoming calls, claims that
// host's time, and queues the confirmation, the host notice and the
// reminders, all in one transaction. A slot that is not offered, or that
// another request took first, is ErrSlotTaken; a repeated idempotent request
// returns *Replay.
func (s *Store) BookSlot(ctx context.Context, req models.BookingRequest, idem *models.Idempotency) (*models.BookingResult, error) {
	if req.Disqualified != nil {
		return nil, models.ErrNotEligible
	}
	// The random and derived values are made before the transaction: the
	// writer's time is the scarce resource.
	ids := s.newBookingIDs()
	// On PostgreSQL a new visitor's lead is written by the statement that
	// writes the booking, once the host is known (withBooking).
	withBooking := s.dialect == DialectPostgres && (req.Call == nil || !req.Call.Collective())
	var res *models.BookingResult
	var err error
	for attempt := 1; ; attempt++ {
		res, err = s.bookSlotOnce(ctx, req, idem, ids, withBooking)
		// Another booking made this visitor's lead first: book again, as
		// a returning visitor.
		if !errors.Is(err, errLeadAppeared) || attempt == 3 {
			break
		}
	}
	if err != nil {
		var rp *models.Replay
		if idem != nil && errors.As(err, &rp) {
			return nil, rp
		}
		if idem != nil && isUniqueViolation(err) {
			// Another request with this key committed while we worked.
			if rp, e := s.idempotentReplay(ctx, idem); e == nil {
				return nil, rp
			} else if !errors.Is(e, models.ErrNotFound) {
				return nil, e
			}
		}
		return nil, err
	}
	s.signalOutbox()
	return res, nil
}

// bookSlotOnce is BookSlot's transaction.
func (s *Store) bookSlotOnce(ctx context.Context, req models.BookingRequest, idem *models.Idempotency, ids bookingIDs, withBooking bool) (*models.BookingResult, error) {
	var res *models.BookingResult
	err := s.bookingTx(s.withBookingConfig(ctx), func(tx *gorm.DB) error {
		if err := s.prefetchPick(tx, req); err != nil {
			return err
		}
		if idem != nil {
			if err := s.claimIdempotencyKey(tx, idem); err != nil {
				return err
			}
		}
		var linkID uint
		if req.Link != "" {
			id, err := s.useBookingLink(tx, req.Link)
			if err != nil {
				return err
			}
			linkID = id
		}
		lead, isNew, leadStats, err := s.upsertLead(tx, req, withBooking)
		if err != nil {
			return err
		}
		if !isNew {
			if err := s.markLeadSource(tx, lead, req); err != nil {
				return err
			}
		}
		b, host, err := s.placeBooking(tx, req, lead, ids)
		if err != nil {
			return err
		}
		if linkID != 0 {
			b.LinkID = &linkID
			if err := tx.Model(&models.Booking{}).Where("id = ?", b.ID).Update("link_id", linkID).Error; err != nil {
				return err
			}
		}
		if err := s.assignFirstCallOwner(tx, lead, isNew, b, host); err != nil {
			return err
		}
		if !isNew {
			// Booking again makes every follow-up still waiting pointless.
			if err := s.skipFollowups(tx, lead.ID, 0, models.SkipRebooked); err != nil {
				return err
			}
		}
		if err := s.saveAnswers(tx, lead, req.Answers, isNew); err != nil {
			return err
		}
		res = &models.BookingResult{Booking: b, Lead: lead, Host: host, Token: ids.token, NewLead: isNew}
		// After the host locks placeBooking took: see addStats.
		if err := s.addStats(tx, append(leadStats, s.bookingStat(b))...); err != nil {
			return err
		}
		events := make([]models.Event, 0, 2)
		if isNew {
			events = append(events, s.newEvent(s.txNow(tx), lead.ID, 0, "lead.created", models.ActorVisitor, leadCreated(lead)))
		}
		events = append(events, s.newEvent(s.txNow(tx), lead.ID, b.ID, "booking.created", models.ActorVisitor, bookingCreatedData{
			BookingID: b.ID, Host: host.Name, Start: b.StartAt, Timezone: b.Timezone}))
		if err := s.insertEvents(tx, events...); err != nil {
			return err
		}
		if err := s.queueBookingMails(tx, models.MailConfirmation, "booked", b, lead, host, nil); err != nil {
			return err
		}
		if err := s.scheduleReminders(tx, b); err != nil {
			return err
		}
		if idem != nil {
			status, body, err := idem.Render(b, lead, host)
			if err != nil {
				return err
			}
			if err := tx.Model(&models.IdempotencyKey{}).Where("key = ?", idem.Key).
				Updates(map[string]any{"status_code": status, "response": body}).Error; err != nil {
				return err
			}
		}
		if err := s.bumpAvailability(tx); err != nil {
			return err
		}
		return s.queueWebhooks(tx, lead.ID, b.ID, newLeadWebhooks(isNew, models.WebhookBookingCreated)...)
	})
	return res, err
}

// leadCreatedData is the data of a lead.created event, and
// bookingCreatedData of booking.created. Their fields are in key order, as
// a map's would be.
type leadCreatedData struct {
	RoleSlug    string `json:"role_slug"`
	TargetTitle string `json:"target_title"`
	UTMSource   string `json:"utm_source"`
}

func leadCreated(l *models.Lead) leadCreatedData {
	return leadCreatedData{RoleSlug: l.RoleSlug, TargetTitle: l.TargetTitle, UTMSource: l.UTMSource}
}

type bookingCreatedData struct {
	BookingID uint      `json:"booking_id"`
	Host      string    `json:"host"`
	Start     time.Time `json:"start"`
	Timezone  string    `json:"timezone"`
}

// claimIdempotencyKey inserts the key first, so a concurrent twin blocks on
// it and then replays; an earlier use answers with a *Replay or a conflict.
func (s *Store) claimIdempotencyKey(tx *gorm.DB, idem *models.Idempotency) error {
	var prev models.IdempotencyKey
	err := tx.Where("key = ?", idem.Key).Take(&prev).Error
	switch {
	case err == nil && prev.CreatedAt.After(s.txNow(tx).Add(-24*time.Hour)):
		if prev.BodyHash != idem.BodyHash {
			return models.ErrIdempotencyConflict
		}
		return &models.Replay{Status: prev.StatusCode, Body: prev.Response}
	case err == nil:
		if err := tx.Delete(&prev).Error; err != nil {
			return err
		}
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return err
	}
	return tx.Create(&models.IdempotencyKey{Key: idem.Key, BodyHash: idem.BodyHash, CreatedAt: s.txNow(tx)}).Error
}

func (s *Store) idempotentReplay(ctx context.Context, idem *models.Idempotency) (*models.Replay, error) {
	var prev models.IdempotencyKey
	err := s.write.WithContext(ctx).Where("key = ?", idem.Key).Take(&prev).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if prev.BodyHash != idem.BodyHash {
		return nil, models.ErrIdempotencyConflict
	}
	return &models.Replay{Status: prev.StatusCode, Body: prev.Response}, nil
}

// upsertLead finds the lead by normalized email or creates it. A returning
// visitor's new details update the lead, each change recorded with its old
// and new value; the first-touch source is kept (returningLeadChanges).
//
// withBooking leaves a new lead to the statement that inserts the booking
// (insertClaimed): the lead comes back with id 0, and is written with its
// first call's host as its owner. Written now, it would be written twice,
// the owner's update adding an entry to every one of the table's indexes
// (those of lead search among them) a second time.
func (s *Store) upsertLead(tx *gorm.DB, req models.BookingRequest, withBooking bool) (*models.Lead, bool, []models.StatsDaily, error) {
	now := s.txNow(tx)
	l := models.Lead{
		EmailKey: models.NormalizeEmail(req.Email), Email: req.Email, Name: req.Name, Phone: req.Phone,
		CurrentTitle: req.CurrentTitle, TargetTitle: req.TargetTitle, RoleSlug: req.RoleSlug, Status: models.LeadNew,
		UTMSource: req.UTMSource, UTMMedium: req.UTMMedium, UTMCampaign: req.UTMCampaign, UTMTerm: req.UTMTerm,
		UTMContent: req.UTMContent, Referrer: req.Referrer, CreatedAt: now, UpdatedAt: now,
		FirstUTMSource: req.UTMSource, FirstUTMMedium: req.UTMMedium, FirstUTMCampaign: req.UTMCampaign,
		FirstUTMTerm: req.UTMTerm, FirstUTMContent: req.UTMContent, FirstReferrer: req.Referrer,
		Source: req.Source, PageURL: req.PageURL, AnswersJSON: answersJSON(req.Answers), Language: languageOf(req),
	}
	deferredIn, err := s.deferLeadIndex(tx)
	if err != nil {
		return nil, false, nil, err
	}
	var existing *models.Lead
	if withBooking {
		existing, err = s.lockLead(tx, l.EmailKey)
	} else {
		existing, err = s.insertOrLockLead(tx, &l)
	}
	if err != nil {
		return nil, false, nil, err
	}
	if existing == nil {
		if deferredIn != nil {
			deferredIn.unindexed = append(deferredIn.unindexed, int64(l.ID))
		}
		return &l, true, []models.StatsDaily{s.statOfLead(&l, 0, 0).row(1)}, nil
	}
	upd, changes := returningLeadChanges(existing, req)
	upd["updated_at"] = now
	if existing.Language != l.Language {
		upd["language"] = l.Language
		existing.Language = l.Language
	}
	// The update trigger takes the lead's old entry out of the index: a lead
	// this batch created must be in it first.
	if err := s.indexDeferredLeads(tx, batchOf(tx)); err != nil {
		return nil, false, nil, err
	}
	update := func() error { return tx.Model(existing).Updates(upd).Error }
	var stats []models.StatsDaily
	if existing.TargetTitle != req.TargetTitle {
		// The lead moves to another title's figures on the dashboard.
		stats, err = s.leadStatMove(tx, existing.ID, update)
	} else {
		err = update()
	}
	if err != nil {
		return nil, false, nil, err
	}
	if len(changes) > 0 {
		if err := s.addEvent(tx, existing.ID, 0, "lead.details_changed", models.ActorVisitor, changes); err != nil {
			return nil, false, nil, err
		}
	}
	return existing, false, stats, nil
}

// insertOrLockLead inserts l, setting its id, and returns nil; or, when a
// lead with its email exists, locks and returns that lead. On PostgreSQL
// an erase of that lead may commit between the insert that found it and
// the lock: the erase changes the email key, the lock then finds nothing,
// and the email is free again, so the insert is tried anew and makes a new
// lead, as a booking after the erase would.
func (s *Store) insertOrLockLead(tx *gorm.DB, l *models.Lead) (*models.Lead, error) {
	for attempt := 1; ; attempt++ {
		id, err := s.insertID(tx, leadInsertSQL, leadArgs(l)...)
		if err == nil {
			l.ID = id
			return nil, nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, err
		}
		// A lead with this email exists: nothing was inserted.
		existing, err := s.lockLead(tx, l.EmailKey)
		if existing != nil || err != nil {
			return existing, err
		}
		if attempt == 3 {
			return nil, gorm.ErrRecordNotFound
		}
	}
}

// lockLead returns the lead with email key key, locked until the
// transaction ends; nil when there is none. A booking's first statement
// finds no lead for most visitors, so it reads only the id (prefetchPick
// sends it ahead), and a returning visitor's lead is read whole after.
func (s *Store) lockLead(tx *gorm.DB, key string) (*models.Lead, error) {
	var id int64
	err := s.queryRow(tx, s.leadLockSQL(), []any{key}, &id)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var l models.Lead
	if err := tx.Take(&l, id).Error; err != nil {
		return nil, err
	}
	return &l, nil
}

// leadLockSQL finds and locks the lead of an email key.
func (s *Store) leadLockSQL() string {
	if s.dialect == DialectPostgres {
		return "SELECT id FROM leads WHERE email_key = ? FOR UPDATE"
	}
	return "SELECT id FROM leads WHERE email_key = ?"
}

// prefetchPick sends ahead, in a pipelined transaction (pipeTx), what a
// booking for req reads first, in the order it reads them: the visitor's
// lead, then the locks of the hosts the call may go to and which of them
// are busy (placeBooking), for the configuration the replica holds.
// Nothing the booking writes before it reads them changes their answer:
// an idempotency key, a private link's use, a returning visitor's new
// details. Where the booking reads something else after all (another
// configuration, a collective call), it sends that then.
func (s *Store) prefetchPick(tx *gorm.DB, req models.BookingRequest) error {
	p := pipeOf(tx)
	if p == nil {
		return nil
	}
	p.prefetch(s.leadLockSQL(), []any{models.NormalizeEmail(req.Email)})
	shared, err := s.bookingSettings(tx)
	if err != nil {
		return err
	}
	bs := settingsFor(shared, req.Call)
	if bs.kind.Collective {
		return nil
	}
	hosts, err := s.enabledHosts(tx)
	if err != nil {
		return err
	}
	takes, _ := s.hostsTaking(kindHosts(hosts, req.Call, normalizeEmails(req.Hosts)), req.Phone)
	var since time.Time
	if len(takes) > 1 {
		since = turnWindowStart(req.Start, s.txNow(tx))
	}
	pp := s.planPick(tx, takes, req.Start, bs, 0, since)
	if pp.lock.q != "" {
		p.prefetch(pp.lock.q, pp.lock.args)
	}
	if len(pp.ids) > 0 {
		p.prefetch(pp.busy.q, pp.busy.args)
	}
	return nil
}

// errLeadAppeared: the new lead a booking was to write with it exists,
// made by a racing booking that committed first. Nothing was written; the
// booking runs again and finds the lead.
var errLeadAppeared = errors.New("the visitor's lead was created by another booking")

// leadArgs are leadInsertSQL's values for l.
func leadArgs(l *models.Lead) []any {
	return []any{l.EmailKey, l.Email, l.Name, l.Phone, l.CurrentTitle, l.TargetTitle,
		l.RoleSlug, l.Status, l.UTMSource, l.UTMMedium, l.UTMCampaign, l.UTMTerm, l.UTMContent, l.Referrer,
		l.FirstUTMSource, l.FirstUTMMedium, l.FirstUTMCampaign, l.FirstUTMTerm, l.FirstUTMContent, l.FirstReferrer,
		l.Source, l.PageURL, l.AnswersJSON, l.Language, l.CreatedAt, l.UpdatedAt}
}

// leadInsertSQL creates a lead, or nothing when its email is known.
const leadInsertSQL = "INSERT INTO leads (" + leadColumns + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) " +
	"ON CONFLICT (email_key) DO NOTHING"

// leadColumns are the columns leadArgs gives values for, in order.
const (
	leadColumns = "email_key, email, name, phone, current_title, target_title, role_slug, status, " +
		"utm_source, utm_medium, utm_campaign, utm_term, utm_content, referrer, first_utm_source, first_utm_medium, " +
		"first_utm_campaign, first_utm_term, first_utm_content, first_referrer, source, page_url, answers_json, language, " +
		"created_at, updated_at"
	leadColumnCount = 26
)

// bookingIDs are a new booking's uid, its visitor token and the token's
// hash, and the Message-IDs of the emails it sends.
type bookingIDs struct {
	uid, token, tokenHash string
}

func (s *Store) newBookingIDs() bookingIDs {
	uid := RandomToken(16)
	token := s.BookingToken(uid)
	return bookingIDs{uid: uid, token: token, tokenHash: hashToken(token)}
}

// placeBooking picks a free host for req.Start, claims its time and inserts
// the booking, for lead, which it inserts too when its id is 0 (see
// upsertLead). A booking that loses the host's time to a racing one picks
// another host when one is free (placeOnAHost). A collective call is
// placed on all of its hosts or none (placeCollective).
func (s *Store) placeBooking(tx *gorm.DB, req models.BookingRequest, lead *models.Lead, ids bookingIDs) (*models.Booking, *models.User, error) {
	for {
		b, host, err := s.placeBookingAs(tx, req, lead, ids)
		if errors.Is(err, errConfigChanged) {
			continue // the current configuration is in hand now
		}
		var invalid *models.ValidationError
		if errors.Is(err, models.ErrSlotTaken) || errors.As(err, &invalid) {
			// Turned away without a host lock, so without a check of the
			// cached configuration: check it before saying no.
			if u := configToCheck(tx); u != nil {
				v, verr := s.configVersion(tx)
				if verr != nil {
					return nil, nil, err // the refusal stands
				}
				if verr := s.checkConfig(tx, u, v); errors.Is(verr, errConfigChanged) {
					continue
				} else if verr != nil {
					return nil, nil, verr
				}
			}
		}
		return b, host, err
	}
}

// placeBookingAs is placeBooking with the configuration the transaction
// holds; errConfigChanged when it was stale.
func (s *Store) placeBookingAs(tx *gorm.DB, req models.BookingRequest, lead *models.Lead, ids bookingIDs) (*models.Booking, *models.User, error) {
	now := s.txNow(tx)
	shared, err := s.bookingSettings(tx)
	if err != nil {
		return nil, nil, err
	}
	bs := settingsFor(shared, req.Call)
	hosts, err := s.enabledHosts(tx)
	if err != nil {
		return nil, nil, err
	}
	routed := normalizeEmails(req.Hosts)
	hosts = kindHosts(hosts, req.Call, routed)
	var b *models.Booking
	build := func(host *models.User) {
		b = &models.Booking{
			UID: ids.uid, TokenHash: ids.tokenHash, LeadID: lead.ID, HostID: host.ID,
			Status: models.BookingConfirmed, StartAt: req.Start.UTC(), EndAt: req.Start.Add(bs.Duration()).UTC(),
			Timezone: req.Timezone, TargetTitle: req.TargetTitle, RoleSlug: req.RoleSlug, Message: req.Message,
			AnswersJSON: answersJSON(req.Answers), RouteHosts: strings.Join(routed, ","), Language: languageOf(req),
			CreatedAt: now, UpdatedAt: now, CallID: req.Call.StoredID(), Collective: bs.kind.Collective,
		}
		if b.CallID != "" {
			b.CallTitle = req.Call.Title
		}
		s.setBookingMeeting(b, host)
	}
	insert := func(host *models.User) (*models.Booking, error) {
		build(host)
		id, err := s.insertID(tx, bookingInsertSQL, bookingInsertArgs(b)...)
		if err != nil {
			return nil, err
		}
		b.ID = id
		return b, nil
	}
	if bs.kind.Collective {
		return s.placeCollective(tx, hosts, req, bs, insert)
	}
	pg := s.dialect == DialectPostgres
	host, err := s.placeOnAHost(tx, hosts, func(hosts []models.User) (*models.User, error) {
		return s.pickHostFor(tx, hosts, req, bs)
	}, func(host *models.User) error {
		if pg {
			build(host)
			return s.insertClaimed(tx, b, bs, lead, host)
		}
		if _, err := insert(host); err != nil {
			return err
		}
		return s.claimTime(tx, b, bs)
	}, pg)
	if err != nil {
		return nil, nil, err
	}
	return b, host, nil
}

// bookingInsertArgs are the values of bookingInsertSQL for b.
func bookingInsertArgs(b *models.Booking) []any {
	return []any{b.UID, b.TokenHash, int64(b.LeadID), int64(b.HostID), b.Status,
		b.StartAt, b.EndAt, b.Timezone, b.TargetTitle, b.RoleSlug, b.Message, b.MeetingKind, b.MeetingURL,
		b.MeetingAddress, b.AnswersJSON, b.RouteHosts, b.Language, b.CallID, b.CallTitle, b.Collective, b.CreatedAt, b.UpdatedAt}
}

// insertClaimed inserts b and its host's claims in one statement, on
// PostgreSQL: a round trip fewer than inserting them apart. A claim
// another booking holds is skipped, not an error (which would end the
// transaction); when any was, the statement's rows are deleted again and
// the answer is models.ErrSlotTaken, the transaction still usable, so a
// booking with another free host can try that host without a savepoint.
//
// A lead with id 0 is new: the statement inserts it first, owned by host
// when the host owns first calls, and sets its id and b's lead. A racing
// booking that made the lead first makes it errLeadAppeared.
func (s *Store) insertClaimed(tx *gorm.DB, b *models.Booking, bs callSettings, lead *models.Lead, host *models.User) error {
	units := claimUnits(b.StartAt, b.EndAt.Sub(b.StartAt)+bs.Buffer())
	first, last := units[0], units[len(units)-1]
	var leadID, id, claimed sql.NullInt64
	newLead := lead.ID == 0
	if newLead {
		lead.OwnerID = nil
		if ownsFirstCalls(host) {
			lead.OwnerID = &host.ID
		}
		bargs := bookingInsertArgs(b)
		args := append(append(append(leadArgs(lead), nullID(lead.OwnerID)), bargs[:2]...), bargs[3:]...)
		args = append(args, int64(b.HostID), first, last)
		if err := s.queryRow(tx, bookingWithLeadSQL, args, &leadID, &id, &claimed); err != nil {
			return err
		}
		if !leadID.Valid {
			return errLeadAppeared
		}
	} else {
		args := append(bookingInsertArgs(b), int64(b.HostID), first, last)
		if err := s.queryRow(tx, bookingClaimedSQL, args, &id, &claimed); err != nil {
			return err
		}
	}
	if claimed.Int64 == int64(len(units)) {
		b.ID = uint(id.Int64)
		if newLead {
			lead.ID = uint(leadID.Int64)
			b.LeadID = lead.ID
		}
		return nil
	}
	// The statement's rows go again: its claims, its booking and, when it
	// made one, its lead (no lead has id 0).
	if _, err := s.exec(tx, "WITH c AS (DELETE FROM booking_claims WHERE host_id = ? AND unit >= ? AND unit <= ? AND booking_id = ?), "+
		"b AS (DELETE FROM bookings WHERE id = ?) DELETE FROM leads WHERE id = ?",
		int64(b.HostID), first, last, id.Int64, id.Int64, leadID.Int64); err != nil {
		return err
	}
	if newLead {
		lead.OwnerID = nil
	}
	return models.ErrSlotTaken
}

// ownsFirstCalls says whether host becomes the owner of a new lead whose
// first call it takes: a staff user who can sign in, not the team's
// built-in host.
func ownsFirstCalls(host *models.User) bool {
	return host.PasswordHash != "" && !host.Disabled
}

// bookingClaimedSQL is insertClaimed's statement: the booking, then a claim
// for each unit from the first to the last, and the booking's id and how
// many claims were made.
var bookingClaimedSQL = "WITH b AS (" + bookingInsertSQL + " RETURNING id), " + claimsCTE +
	" SELECT (SELECT id FROM b), (SELECT COUNT(*) FROM c)"

// bookingWithLeadSQL is bookingClaimedSQL for a new lead, inserted first
// with its owner; the booking takes its id. When the lead's email is
// taken, nothing is inserted and the lead's id is NULL. Its arguments:
// the lead's (leadArgs), its owner, the booking's but its lead
// (bookingInsertArgs), then the claims'.
var bookingWithLeadSQL = "WITH l AS (INSERT INTO leads (" + leadColumns + ", owner_id) VALUES (" +
	inList(leadColumnCount+1) + ") ON CONFLICT (email_key) DO NOTHING RETURNING id), " +
	"b AS (INSERT INTO bookings (" + bookingColumns + ") SELECT ?, ?, l.id, " + inList(bookingColumnCount-3) +
	" FROM l RETURNING id), " + claimsCTE + " SELECT (SELECT id FROM l), (SELECT id FROM b), (SELECT COUNT(*) FROM c)"

// claimsCTE inserts a booking b's claims from the first unit to the last,
// skipping those another booking holds.
var claimsCTE = "c AS (INSERT INTO booking_claims (host_id, unit, booking_id) SELECT CAST(? AS bigint), u, b.id FROM b, " +
	"generate_series(CAST(? AS bigint), CAST(? AS bigint), " + strconv.Itoa(int(models.ClaimUnit/time.Second)) + ") u " +
	"ON CONFLICT DO NOTHING RETURNING 1)"

// bookingInsertSQL inserts a new confirmed call.
const bookingInsertSQL = "INSERT INTO bookings (" + bookingColumns + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"

// bookingColumns are the columns bookingInsertArgs gives values for, in
// order; the lead is the third.
const (
	bookingColumns = "uid, token_hash, lead_id, host_id, status, start_at, end_at, timezone, " +
		"target_title, role_slug, message, meeting_kind, meeting_url, meeting_address, answers_json, route_hosts, language, " +
		"call_id, call_title, collective, created_at, updated_at"
	bookingColumnCount = 22
)

// languageOf is the language a request is booked in: English when the
// request names none.
func languageOf(req models.BookingRequest) string {
	if req.Language == "" {
		return "en"
	}
	return req.Language
}

// claimTime inserts b's claims on its host, or on hostIDs when given (the
// hosts of a collective call). A unique violation means another booking
// holds part of that time: ErrSlotTaken.
func (s *Store) claimTime(tx *gorm.DB, b *models.Booking, bs callSettings, hostIDs ...uint) error {
	if len(hostIDs) == 0 {
		hostIDs = []uint{b.HostID}
	}
	units := claimUnits(b.StartAt, b.EndAt.Sub(b.StartAt)+bs.Buffer())
	args := make([]any, 0, 3*len(units)*len(hostIDs))
	booking := int64(b.ID)
	for _, h := range hostIDs {
		for _, u := range units {
			args = append(args, int64(h), u, booking)
		}
	}
	if _, err := s.exec(tx, "INSERT INTO booking_claims (host_id, unit, booking_id) VALUES "+
		placeholders(len(units)*len(hostIDs), 3), args...); err != nil {
		if isUniqueViolation(err) {
			return models.ErrSlotTaken
		}
		return err
	}
	return nil
}

// releaseTime frees b's claims. They are b's hosts' units from b's start
// to its end plus the buffer of the day it was booked, at most
// maxBufferMinutes: a range of the claims' key per host.
func releaseTime(tx *gorm.DB, b *models.Booking) error {
	ids, err := bookingHostIDs(tx, b)
	if err != nil {
		return err
	}
	for _, h := range ids {
		if err := tx.Where("host_id = ? AND unit >= ? AND unit < ? AND booking_id = ?", h, claimUnitOf(b.StartAt),
			b.EndAt.Add(maxBufferMinutes*time.Minute).Unix(), b.ID).Delete(&models.BookingClaim{}).Error; err != nil {
			return err
		}
	}
	return nil
}

// scheduleReminders writes one reminder per configured offset for b, due at
// the offset before the call. One already due is written as skipped: the
// confirmation (or reschedule notice) has just gone out.
func (s *Store) scheduleReminders(tx *gorm.DB, b *models.Booking) error {
	if len(s.reminders) == 0 {
		return nil
	}
	now := s.txNow(tx)
	args := make([]any, 0, 6*len(s.reminders))
	for _, r := range s.reminders {
		due := b.StartAt.Add(-r.Before)
		st := models.ReminderPending
		if !due.After(now) {
			st = models.ReminderSkipped
		}
		args = append(args, int64(b.ID), r.Label, due, st, now, now)
	}
	return s.execLater(tx, "INSERT INTO reminders (booking_id, offset_label, due_at, status, created_at, updated_at) VALUES "+
		placeholders(len(s.reminders), 6)+" ON CONFLICT (booking_id, offset_label) DO UPDATE SET "+
		"due_at = excluded.due_at, status = excluded.status, updated_at = excluded.updated_at", args...)
}
