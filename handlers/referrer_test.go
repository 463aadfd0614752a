package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callbook/callbook/store"
)

// getAt sends a GET for path as a browser reaching the service at host,
// from remote, with the given headers.
func (e *testEnv) getAt(host, remote, path string, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host, req.RemoteAddr = host, remote
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		e.t.Fatalf("GET %s at %s: %d", path, host, w.Code)
	}
	return w
}

// The booking page's referrer field is the page the visitor came from,
// never one of the service's own pages, however the visitor reached the
// service: at the base URL, at another address (a proxy that keeps the
// Host header, or another port), or through a trusted proxy that says
// where with X-Forwarded-Host. A Referer from an untrusted sender's
// X-Forwarded-Host is still taken as another site.
func TestBookPage_OwnPagesAreNeverTheReferrer(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite, func(o *Options) { o.TrustedProxies = []string{"10.0.0.0/8"} })
	const path = "/roles/software-engineer/book?utm_source=newsletter"
	cases := []struct {
		name, host, remote, referer, fwdHost, want string
	}{
		{"at the base URL", "callbook.test", "192.0.2.1:1", "http://callbook.test/roles/software-engineer", "", ""},
		{"at another address", "127.0.0.2:9090", "192.0.2.1:1", "http://127.0.0.2:9090/roles/software-engineer?utm_source=newsletter", "", ""},
		{"behind a proxy keeping the host", "book.example.com", "192.0.2.1:1", "https://BOOK.example.com/roles/software-engineer/book?utm_source=newsletter", "", ""},
		{"behind a trusted proxy", "10.0.0.7:8080", "10.0.0.2:5555", "https://book.example.com/roles/software-engineer", "book.example.com", ""},
		{"X-Forwarded-Host from anyone else", "10.0.0.7:8080", "192.0.2.1:1", "https://book.example.com/roles/software-engineer", "book.example.com",
			"https://book.example.com/roles/software-engineer"},
		{"from another site", "book.example.com", "192.0.2.1:1", "https://news.example/issue-12", "", "https://news.example/issue-12"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			headers := []string{"Referer", c.referer}
			if c.fwdHost != "" {
				headers = append(headers, "X-Forwarded-Host", c.fwdHost)
			}
			body := e.getAt(c.host, c.remote, path, headers...).Body.String()
			if want := `name="referrer" value="` + c.want + `"`; !strings.Contains(body, want) {
				t.Errorf("booking page lacks %s", want)
			}
		})
	}
}

// A role page reached from another site hands that site on to the booking
// page as ?ref=, and a role page reached from one of the service's own
// pages at another address hands nothing on.
func TestRolePage_CarriesTheOutsideReferrerOnly(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	outside := e.getAt("127.0.0.2:9090", "192.0.2.1:1", "/roles/software-engineer", "Referer", "https://news.example/issue-12").Body.String()
	if !strings.Contains(strings.ToLower(outside), "ref=https%3a%2f%2fnews.example%2fissue-12") {
		t.Errorf("role page reached from another site does not carry it to the booking page")
	}
	own := e.getAt("127.0.0.2:9090", "192.0.2.1:1", "/roles/software-engineer", "Referer", "http://127.0.0.2:9090/").Body.String()
	if strings.Contains(own, "ref=http") {
		t.Errorf("role page reached from the service's own index carries it on as a referrer")
	}
}

// Every step of a role page with questions carries the landing page's
// referrer: the questions form, the times step's links and forms, and the
// booking form's referrer field, which the lead keeps.
func TestBookPage_QuestionsAndTimesCarryTheLandingReferrer(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	const ref = "https://news.example/issue-12"
	// Landing on the questions straight from another site.
	q := e.getAt("127.0.0.2:9090", "192.0.2.1:1", "/roles/backend-engineer/book?utm_source=newsletter", "Referer", ref).Body.String()
	if !strings.Contains(q, `name="ref" value="`+ref+`"`) {
		t.Fatalf("the questions step does not carry the referrer on")
	}
	// The times step, reached with the questions' GET form from the
	// questions page itself.
	times := e.getAt("127.0.0.2:9090", "192.0.2.1:1",
		"/roles/backend-engineer/book?step=times&answers.experience=1-2&utm_source=newsletter&ref="+ref,
		"Referer", "http://127.0.0.2:9090/roles/backend-engineer/book?utm_source=newsletter").Body.String()
	for _, want := range []string{`name="ref" value="` + ref + `"`, `name="referrer" value="` + ref + `"`, `ref=https%3a%2f%2fnews.example%2fissue-12`} {
		if !strings.Contains(strings.ToLower(times), want) {
			t.Errorf("the times step lacks %s", want)
		}
	}
}
