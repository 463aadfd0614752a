package calendars

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/netguard"
)

// Fetch limits for every calendar read.
const (
	FetchTimeout   = 10 * time.Second
	MaxRedirects   = 3
	MaxCalendarLen = 5 << 20 // bytes per response
)

// ErrTooLarge: a response passed MaxCalendarLen.
var ErrTooLarge = fmt.Errorf("the calendar is larger than %d MB", MaxCalendarLen>>20)

// AllowSetting is the variable that lets calendars be read from loopback
// and private addresses, such as a company's own CalDAV server.
const AllowSetting = "CALLBOOK_CALENDAR_ALLOW_PRIVATE"

// NewHTTPClient returns the client calendars are read with: a 10 s limit on
// the whole read, at most 3 redirects, only http and https (a redirect to
// file: or any other scheme is refused), 5 MB per response body, and,
// unless allowPrivate, connections to public addresses only (checked by
// the dialer on every connection, so redirects and names that resolve
// elsewhere later are held to it too). No proxy is used: it would connect
// on our behalf to whatever the address names.
func NewHTTPClient(allowPrivate bool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = netguard.Dialer(FetchTimeout, allowPrivate, AllowSetting).DialContext
	tr.ResponseHeaderTimeout = FetchTimeout
	return &http.Client{
		Timeout:   FetchTimeout,
		Transport: limitedTransport{next: tr, max: MaxCalendarLen},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return errTooManyRedirects
			}
			return checkScheme(req.URL)
		},
	}
}

var errTooManyRedirects = fmt.Errorf("the address redirects more than %d times", MaxRedirects)

// CheckAddress says whether a calendar at raw may be read: unless
// allowPrivate, its host must be a public address or resolve to public
// addresses only (r nil: the system resolver). The error reads after
// "url": "must point to a public address; …".
func CheckAddress(ctx context.Context, raw string, allowPrivate bool, r netguard.Resolver) error {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return errors.New("is not an absolute URL")
	}
	if allowPrivate {
		return nil
	}
	if err := netguard.CheckHost(ctx, u.Hostname(), r); err != nil {
		return fmt.Errorf("%w (%s=true allows private servers)", err, AllowSetting)
	}
	return nil
}

// StatusError is an answer other than success, told by its status alone:
// what the server wrote with it is never shown.
type StatusError struct{ Code int }

func (e *StatusError) Error() string {
	return fmt.Sprintf("the calendar server answered %d %s", e.Code, http.StatusText(e.Code))
}

var errScheme = errors.New("only http and https calendar addresses are read")

func checkScheme(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w, not %q", errScheme, u.Scheme)
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
	if resp.StatusCode >= 400 {
		// The body of an error answer is dropped here, before any reader
		// (ours or go-webdav's, which would quote it) can see it.
		resp.Body.Close()
		return nil, &StatusError{Code: resp.StatusCode}
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

// Read fetches src and expands its events over [from, to). Its error
// describes what went wrong in fixed words (see describe): never with
// what the server sent.
func (r *Reader) Read(ctx context.Context, src models.CalendarToRead, from, to time.Time) ([]Busy, error) {
	u, err := url.Parse(src.URL)
	if err != nil {
		return nil, errors.New("the address is not a URL")
	}
	if err := checkScheme(u); err != nil {
		return nil, err
	}
	var busy []Busy
	if src.Kind == models.CalendarCalDAV {
		busy, err = r.readCalDAV(ctx, u, src, from, to)
	} else {
		busy, err = r.readICS(ctx, src, from, to)
	}
	if err != nil {
		return nil, describe(err)
	}
	return busy, nil
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
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, &StatusError{Code: resp.StatusCode}
	}
	return Expand(resp.Body, from, to, r.Loc)
}
