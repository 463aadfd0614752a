package calendars_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/callbook/callbook/calendars"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// TestSync_RefusesPrivateAddressesOnEveryConnection: a source saved while
// its name pointed somewhere public and now resolving to a private address
// (or redirected there) is refused when connecting, not only at save.
func TestSync_RefusesPrivateAddressesOnEveryConnection(t *testing.T) {
	e := mustEnv(t, store.DialectSQLite)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Write([]byte(calendarText()))
	}))
	defer srv.Close()
	guarded := calendars.New(calendars.Options{Store: e.store, Log: slog.New(slog.DiscardHandler)})
	for _, kind := range []string{models.CalendarICS, models.CalendarCalDAV} {
		if _, err := e.store.SetHostCalendars(context.Background(), e.hostID, []models.CalendarSourceInput{{Kind: kind, URL: srv.URL + "/cal"}}); err != nil {
			t.Fatal(err)
		}
		if err := guarded.SyncHost(context.Background(), e.hostID); err != nil {
			t.Fatal(err)
		}
		got := e.mustSources(t)[0]
		if got.LastError == nil || !strings.Contains(*got.LastError, "refused to connect to 127.0.0.1") ||
			!strings.Contains(*got.LastError, "CALLBOOK_CALENDAR_ALLOW_PRIVATE=true") {
			t.Fatalf("%s: last_error = %v, want the connection refused", kind, deref(got.LastError))
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the private server was reached %d times", n)
	}
	if err := e.sync.SyncHost(context.Background(), e.hostID); err != nil { // e.sync allows private servers
		t.Fatal(err)
	}
	if hits.Load() == 0 {
		t.Fatal("with the setting, the private server was not read")
	}
}

func TestCheckAddress(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{"http://169.254.169.254/latest/", "https://10.0.0.1/x.ics", "https://[::127.0.0.1]/x.ics",
		"https://[2002:7f00:1::]/x.ics", "https://localhost/x.ics"} {
		if err := calendars.CheckAddress(ctx, u, false, nil); err == nil {
			t.Errorf("%s accepted", u)
		}
		if err := calendars.CheckAddress(ctx, u, true, nil); err != nil {
			t.Errorf("%s with private servers allowed: %v", u, err)
		}
	}
	if err := calendars.CheckAddress(ctx, "https://93.184.215.14/x.ics", false, nil); err != nil {
		t.Errorf("a public address: %v", err)
	}
}

// secret is what a server puts in its answers; no source error may show it.
const secret = "INTERNAL-SECRET-7f3a"

// TestSync_ErrorsNeverShowWhatTheServerSent: the status and fixed words,
// never the body, the reason phrase or what a parser could not read.
func TestSync_ErrorsNeverShowWhatTheServerSent(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := mustEnv(t, dialect)
		page := strings.Repeat(secret+" ", 40) // ~800 bytes
		mux := http.NewServeMux()
		// Each CalDAV address says it is a calendar, then fails the query.
		dav := func(fail http.HandlerFunc) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if r.Method == "PROPFIND" {
					w.Header().Set("Content-Type", "application/xml")
					w.WriteHeader(http.StatusMultiStatus)
					w.Write([]byte(`<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:response><d:href>` +
						r.URL.Path + `</d:href><d:propstat><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype></d:prop>` +
						`<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`))
					return
				}
				fail(w, r)
			}
		}
		mux.HandleFunc("/text-500", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(page))
		})
		mux.HandleFunc("/dav/text-500", dav(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(page))
		}))
		mux.HandleFunc("/dav/xml-403", dav(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`<?xml version="1.0"?><d:error xmlns:d="DAV:"><d:` + secret + `/><s:message xmlns:s="http://sabredav.org/ns">` + page + `</s:message></d:error>`))
		}))
		mux.HandleFunc("/dav/bad-multistatus", dav(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusMultiStatus)
			w.Write([]byte(`<` + secret + `>` + page))
		}))
		mux.HandleFunc("/html", func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte("<html>" + page + "</html>"))
		})
		mux.HandleFunc("/broken-ics", func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;TZID=\"" + secret + ":20260302T100000\r\nEND:VCALENDAR\r\n"))
		})
		srv := httptest.NewServer(mux)
		defer srv.Close()
		// A server whose status line carries its own reason phrase.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				buf := make([]byte, 4096)
				c.Read(buf)
				c.Write([]byte("HTTP/1.1 502 " + secret + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
				c.Close()
			}
		}()
		cases := []struct {
			kind, url, want string
		}{
			{"ics", srv.URL + "/text-500", "500 Internal Server Error"},
			{"caldav", srv.URL + "/text-500", "500 Internal Server Error"},
			{"caldav", srv.URL + "/dav/text-500", "500 Internal Server Error"},
			{"caldav", srv.URL + "/dav/xml-403", "403 Forbidden"},
			{"caldav", srv.URL + "/dav/bad-multistatus", "could not be read"},
			{"ics", srv.URL + "/html", "not an iCalendar file"},
			{"ics", srv.URL + "/broken-ics", "could not be read"},
			{"ics", "http://" + ln.Addr().String() + "/cal.ics", "502 Bad Gateway"},
			{"caldav", "http://" + ln.Addr().String() + "/dav/", "502 Bad Gateway"},
		}
		for _, c := range cases {
			e.mustSetCalendars(t, models.CalendarSourceInput{Kind: c.kind, URL: c.url})
			got := deref(e.mustSources(t)[0].LastError)
			if strings.Contains(got, secret) || (c.want != "" && !strings.Contains(got, c.want)) || len(got) > 200 {
				t.Errorf("%s %s: last_error %q, want %q and nothing the server sent", c.kind, c.url, got, c.want)
			}
		}
	})
}
