package store

import (
	"strconv"
	"strings"
)

// packSep separates the fields of a packed row: the unit separator, a
// control character the booking form and API refuse in every text field.
const packSep = "\x1f"

// packedFields is the number of fields in a packed row: the lead's 24 and
// its three booking figures.
const packedFields = 27

// packedLeadSQL selects a lead as its id and one text column holding every
// exported field joined by packSep, booking figures included (one seek on
// ix_bookings_lead_status_start, same definitions as leadRowSelect). That
// is three calls into SQLite per row instead of about fifty, and concat
// builds the text in one pass where || would copy it at every step.
// (concat_ws would be shorter, but SQLite's skips empty strings.)
// created_at comes as SQLite stores it; owner_id 0 is none.
const packedLeadSQL = `leads.id, concat(leads.id, char(31), leads.created_at, char(31), leads.name, char(31),
	leads.email, char(31), leads.phone, char(31), leads.current_title, char(31), leads.target_title, char(31),
	leads.recommended_title, char(31), leads.role_slug, char(31), leads.status, char(31),
	COALESCE(leads.owner_id, 0), char(31), leads.utm_source, char(31), leads.utm_medium, char(31),
	leads.utm_campaign, char(31), leads.utm_term, char(31), leads.utm_content, char(31), leads.referrer, char(31),
	leads.first_utm_source, char(31), leads.first_utm_medium, char(31), leads.first_utm_campaign, char(31),
	leads.first_utm_term, char(31), leads.first_utm_content, char(31), leads.first_referrer, char(31),
	leads.language, char(31),
	(SELECT concat(COUNT(*), char(31),
		MIN(CASE WHEN b.status = 'confirmed' AND b.start_at > ? THEN b.start_at END), char(31),
		MAX(CASE WHEN b.status IN ('confirmed','completed','no_show') AND b.start_at <= ? THEN b.start_at END))
	FROM bookings b WHERE b.lead_id = leads.id)) AS packed`

// readPackedLeads reads one page of leads packed by packedLeadSQL. A row
// that would not unpack (a field holding the separator, which the forms
// never let in) is read again column by column, so no data is lost.
func (e *exportReader) readPackedLeads(after uint) ([]exportLead, error) {
	rows, err := e.leadsPage(packedLeadSQL, []any{e.now, e.now}, after).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page := make([]exportLead, 0, exportPage)
	var retry []uint
	for rows.Next() {
		l := exportLead{hasCalls: true}
		var packed *string
		if err := rows.Scan(&l.id, &packed); err != nil {
			return nil, err
		}
		// The writer unpacks; a row with a separator too many or too few
		// is read again here, where the transaction is.
		if packed == nil || strings.Count(*packed, packSep) != packedFields-1 {
			retry = append(retry, l.id)
			l.hasCalls = false
		} else {
			l.packed = *packed
		}
		page = append(page, l)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if len(retry) > 0 {
		e.reread += len(retry)
		return page, e.rereadLeads(page, retry)
	}
	return page, nil
}

// unpackLead splits a packed row into l, keeping l's id; false when it
// does not fit.
func unpackLead(packed string, parts *[packedFields]string, l *exportLead) bool {
	for i := range packedFields - 1 {
		j := strings.Index(packed, packSep)
		if j < 0 {
			return false
		}
		parts[i], packed = packed[:j], packed[j+1:]
	}
	if strings.Contains(packed, packSep) {
		return false
	}
	parts[packedFields-1] = packed
	id, err1 := strconv.ParseUint(parts[0], 10, 64)
	owner, err2 := strconv.ParseInt(parts[10], 10, 64)
	count, err3 := strconv.ParseInt(parts[24], 10, 64)
	created, err4 := dbTimeRFC3339(parts[1])
	next, err5 := optionalTimeRFC3339(parts[25])
	last, err6 := optionalTimeRFC3339(parts[26])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || err5 != nil || err6 != nil || created == "" || uint(id) != l.id {
		return false
	}
	*l = exportLead{id: uint(id), created: created, name: parts[2], email: parts[3], phone: parts[4],
		currentTitle: parts[5], targetTitle: parts[6], recommendedTitle: parts[7], roleSlug: parts[8], status: parts[9],
		utm: [5]string{parts[11], parts[12], parts[13], parts[14], parts[15]}, referrer: parts[16],
		firstUTM: [5]string{parts[17], parts[18], parts[19], parts[20], parts[21]}, firstReferrer: parts[22], language: parts[23],
		calls: callFigures{count: count, next: next, last: last}, hasCalls: true, answers: l.answers, call: l.call, unsubscribed: l.unsubscribed}
	if owner != 0 {
		l.ownerID.Int64, l.ownerID.Valid = owner, true
	}
	return true
}

// optionalTimeRFC3339 is dbTimeRFC3339 where "" stands for NULL.
func optionalTimeRFC3339(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	return dbTimeRFC3339(s)
}

// rereadLeads fills the rows listed in ids column by column; fillCalls
// then adds their booking figures.
func (e *exportReader) rereadLeads(page []exportLead, ids []uint) error {
	rows, err := e.tx.Table("leads").Select(exportLeadColumns).Where("leads.id IN ?", ids).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	byID := map[uint]exportLead{}
	for rows.Next() {
		var l exportLead
		if err := l.scan(rows); err != nil {
			return err
		}
		byID[l.id] = l
	}
	for i := range page {
		if l, ok := byID[page[i].id]; ok {
			page[i] = l
		}
	}
	return rows.Err()
}
