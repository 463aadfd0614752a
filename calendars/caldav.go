package calendars

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	goical "github.com/emersion/go-ical"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"

	"github.com/callbook/callbook/models"
)

// readCalDAV checks that u is a calendar collection, then asks it for the
// events overlapping the window (a calendar-query REPORT with a time
// range) and expands each calendar object the server returns.
func (r *Reader) readCalDAV(ctx context.Context, u *url.URL, src models.CalendarToRead, from, to time.Time) ([]Busy, error) {
	if err := r.checkCalendar(ctx, src); err != nil {
		return nil, err
	}
	client, err := caldav.NewClient(r.davClient(src), src.URL)
	if err != nil {
		return nil, err
	}
	objs, err := client.QueryCalendar(ctx, u.Path, &caldav.CalendarQuery{
		CompRequest: caldav.CalendarCompRequest{Name: "VCALENDAR", AllProps: true, AllComps: true},
		CompFilter: caldav.CompFilter{Name: "VCALENDAR", Comps: []caldav.CompFilter{
			{Name: "VEVENT", Start: from.UTC(), End: to.UTC()},
		}},
	})
	if err != nil {
		return nil, err
	}
	var out []Busy
	var buf bytes.Buffer
	for _, o := range objs {
		if o.Data == nil {
			continue
		}
		buf.Reset()
		if err := goical.NewEncoder(&buf).Encode(o.Data); err != nil {
			return nil, errUnreadable
		}
		busy, err := Expand(&buf, from, to, r.Loc)
		if err != nil {
			return nil, err
		}
		out = append(out, busy...)
		if len(out) > maxBusy {
			return nil, ErrTooManyEvents
		}
	}
	return out, nil
}

func (r *Reader) davClient(src models.CalendarToRead) webdav.HTTPClient {
	if src.Username != "" {
		return webdav.HTTPClientWithBasicAuth(r.Client, src.Username, src.Password)
	}
	return r.Client
}

// NotCalendarError: a CalDAV address names something other than a
// calendar, such as a user's account or the server root. What says what
// it is, in words of our own.
type NotCalendarError struct{ What string }

func (e *NotCalendarError) Error() string {
	return "this address is " + e.What + ", not a calendar: use Find calendars to choose one of its calendars"
}

// davResourceTypes is the part of a PROPFIND answer checkCalendar reads:
// the resource type of each response.
type davMultistatus struct {
	Responses []struct {
		Propstats []struct {
			Types struct {
				Names []xml.Name `xml:",any"`
			} `xml:"prop>resourcetype"`
			Status string `xml:"status"`
		} `xml:"propstat"`
	} `xml:"response"`
}

const resourceTypeQuery = `<?xml version="1.0" encoding="utf-8"?>
<propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>`

const (
	nsDAV    = "DAV:"
	nsCalDAV = "urn:ietf:params:xml:ns:caldav"
)

// checkCalendar asks the server what src.URL is (PROPFIND, depth 0, for
// its resourcetype) and returns a NotCalendarError unless it is a
// calendar collection. A server that answers with nothing readable passes:
// the query that follows reports what is wrong with it.
func (r *Reader) checkCalendar(ctx context.Context, src models.CalendarToRead) error {
	req, err := http.NewRequestWithContext(ctx, "PROPFIND", src.URL, strings.NewReader(resourceTypeQuery))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	req.Header.Set("Depth", "0")
	resp, err := r.davClient(src).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		return &StatusError{Code: resp.StatusCode}
	}
	var ms davMultistatus
	if err := xml.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ms); err != nil || len(ms.Responses) == 0 {
		return errUnreadable
	}
	types := map[xml.Name]bool{}
	for _, ps := range ms.Responses[0].Propstats {
		for _, n := range ps.Types.Names {
			types[n] = true
		}
	}
	switch {
	case types[xml.Name{Space: nsCalDAV, Local: "calendar"}]:
		return nil
	case types[xml.Name{Space: nsDAV, Local: "principal"}]:
		return &NotCalendarError{What: "a user's account (a CalDAV principal)"}
	case types[xml.Name{Space: "urn:ietf:params:xml:ns:carddav", Local: "addressbook"}]:
		return &NotCalendarError{What: "an address book"}
	case types[xml.Name{Space: nsCalDAV, Local: "schedule-inbox"}], types[xml.Name{Space: nsCalDAV, Local: "schedule-outbox"}]:
		return &NotCalendarError{What: "a scheduling inbox or outbox"}
	case types[xml.Name{Space: nsDAV, Local: "collection"}]:
		return &NotCalendarError{What: "a folder (such as the server root or a calendar home)"}
	}
	return &NotCalendarError{What: "a single file"}
}

// Bounds on what discovery lists: calendars per account, characters per
// name.
const (
	maxFound   = 100
	maxNameLen = 200
)

// errNoCalendars: discovery found the account but no calendar of events.
var errNoCalendars = fmt.Errorf("no calendar with events was found for this account")

// Discover lists the calendars of events that an account can read, given
// its CalDAV server's address, its account's address or one of its
// calendars: the current user's principal, that principal's calendar
// home, and the calendars in it, by name (RFC 4791 §6, RFC 5397). The
// server's root and its /.well-known/caldav (RFC 6764) are asked when the
// address itself names no principal.
func (r *Reader) Discover(ctx context.Context, src models.CalendarToRead) ([]models.FoundCalendar, error) {
	found, err := r.discover(ctx, src)
	if err != nil {
		return nil, describe(err)
	}
	return found, nil
}

func (r *Reader) discover(ctx context.Context, src models.CalendarToRead) ([]models.FoundCalendar, error) {
	base, err := url.Parse(src.URL)
	if err != nil {
		return nil, err
	}
	if err := checkScheme(base); err != nil {
		return nil, err
	}
	client, err := caldav.NewClient(r.davClient(src), src.URL)
	if err != nil {
		return nil, err
	}
	principal, err := client.FindCurrentUserPrincipal(ctx)
	for _, alt := range []string{"/", "/.well-known/caldav"} {
		if err == nil && principal != "" {
			break
		}
		if client, err = caldav.NewClient(r.davClient(src), base.ResolveReference(&url.URL{Path: alt}).String()); err != nil {
			return nil, err
		}
		principal, err = client.FindCurrentUserPrincipal(ctx)
	}
	if err != nil {
		return nil, err
	}
	home, err := client.FindCalendarHomeSet(ctx, principal)
	if err != nil {
		return nil, err
	}
	cals, err := client.FindCalendars(ctx, home)
	if err != nil {
		return nil, err
	}
	var out []models.FoundCalendar
	for _, c := range cals {
		if !holdsEvents(c.SupportedComponentSet) {
			continue
		}
		abs := base.ResolveReference(&url.URL{Path: c.Path})
		name := strings.TrimSpace(c.Name)
		if name == "" {
			name = strings.Trim(c.Path[strings.LastIndex(strings.TrimSuffix(c.Path, "/"), "/")+1:], "/")
		}
		if len(name) > maxNameLen {
			name = strings.ToValidUTF8(name[:maxNameLen], "") + "…"
		}
		out = append(out, models.FoundCalendar{URL: abs.String(), Name: name})
		if len(out) == maxFound {
			break
		}
	}
	if len(out) == 0 {
		return nil, errNoCalendars
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// holdsEvents: a calendar that says which components it holds must list
// VEVENT; one that does not say may hold any.
func holdsEvents(set []string) bool {
	if len(set) == 0 {
		return true
	}
	for _, c := range set {
		if strings.EqualFold(c, "VEVENT") {
			return true
		}
	}
	return false
}
