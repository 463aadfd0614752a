package calendars

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	goical "github.com/emersion/go-ical"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"

	"github.com/callbook/callbook/models"
)

// Fetch limits for every calendar read.
const (
	FetchTimeout   = 10 * time.Second
	MaxRedirects   = 3
	MaxCalendarLen = 5 << 20 // bytes per response
)

// ErrTooLarge: a response passed MaxCalendarLen.
var ErrTooLarge = fmt.Errorf("the calendar is larger than %d MB", MaxCalendarLen>>20)

// NewHTTPClient returns the client calendars are read with: a 10 s limit on
// the whole read, at most 3 redirects, only http and https (a redirect to
// file: or any other scheme is refused), and 5 MB per response body.
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = FetchTimeout
	return &http.Client{
		Timeout:   FetchTimeout,
		Transport: limitedTransport{next: tr, max: MaxCalendarLen},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return fmt.Errorf("more than %d redirects", MaxRedirects)
			}
			return checkScheme(req.URL)
		},
	}
}

func checkScheme(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("only http and https calendar addresses are read, not %q", u.Scheme)
	}
	return nil
}

// limitedTransport cuts every response body at max bytes with ErrTooLarge,
// so no reader (ours or go-webdav's) can be made to hold more.
type limitedTransport struct {
	next http.RoundTripper
	max  int64
}

func (t limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkScheme(req.URL); err != nil {
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, ErrTooLarge
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// Reader reads one calendar source into busy spans over a window.
type Reader struct {
	Client *http.Client
	Loc    *time.Location // business zone, for floating times and dates
}

// Read fetches src and expands its events over [from, to).
func (r *Reader) Read(ctx context.Context, src models.CalendarToRead, from, to time.Time) ([]Busy, error) {
	u, err := url.Parse(src.URL)
	if err != nil {
		return nil, err
	}
	if err := checkScheme(u); err != nil {
		return nil, err
	}
	if src.Kind == models.CalendarCalDAV {
		return r.readCalDAV(ctx, u, src, from, to)
	}
	return r.readICS(ctx, src, from, to)
}

func (r *Reader) readICS(ctx context.Context, src models.CalendarToRead, from, to time.Time) ([]Busy, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/calendar, */*;q=0.5")
	req.Header.Set("User-Agent", "Callbook calendar reader")
	if src.Username != "" {
		req.SetBasicAuth(src.Username, src.Password)
	}
	resp, err := r.Client.Do(req)
	if err != nil {
		return nil, plainError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("the calendar server answered %s", resp.Status)
	}
	busy, err := Expand(resp.Body, from, to, r.Loc)
	if errors.Is(err, ErrTooLarge) {
		return nil, ErrTooLarge
	}
	return busy, err
}

// readCalDAV asks the collection at u for the events overlapping the
// window (a calendar-query REPORT with a time range) and expands each
// calendar object the server returns.
func (r *Reader) readCalDAV(ctx context.Context, u *url.URL, src models.CalendarToRead, from, to time.Time) ([]Busy, error) {
	var hc webdav.HTTPClient = r.Client
	if src.Username != "" {
		hc = webdav.HTTPClientWithBasicAuth(r.Client, src.Username, src.Password)
	}
	client, err := caldav.NewClient(hc, src.URL)
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
		return nil, plainError(err)
	}
	var out []Busy
	var buf bytes.Buffer
	for _, o := range objs {
		if o.Data == nil {
			continue
		}
		buf.Reset()
		if err := goical.NewEncoder(&buf).Encode(o.Data); err != nil {
			return nil, fmt.Errorf("calendar object %s: %w", o.Path, err)
		}
		busy, err := Expand(&buf, from, to, r.Loc)
		if err != nil {
			return nil, fmt.Errorf("calendar object %s: %w", o.Path, err)
		}
		out = append(out, busy...)
		if len(out) > maxBusy {
			return nil, ErrTooManyEvents
		}
	}
	return out, nil
}

// plainError drops the method and URL Go puts before a transport error:
// staff see the URL beside it already.
func plainError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("no answer within %s", FetchTimeout)
		}
		err = ue.Err
	}
	if errors.Is(err, ErrTooLarge) {
		return ErrTooLarge
	}
	msg := err.Error()
	if i := strings.Index(msg, ": "); i > 0 && strings.HasPrefix(msg, "Get ") {
		msg = msg[i+2:]
	}
	return errors.New(msg)
}
