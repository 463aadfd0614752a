package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/pause"
	"github.com/callbook/callbook/store"
)

func TestAdminMail_ShowsThePauseWhileTheServerIsDown(t *testing.T) {
	var st pause.State
	e := newTestServer(t, store.DialectSQLite, func(o *Options) { o.MailPause = func() pause.State { return st } })
	admin := e.mustStaff("admin@callbook.test", models.RoleAdmin)
	if w := e.page(admin, http.MethodGet, "/admin/mail", nil); w.Code != http.StatusOK || strings.Contains(w.Body.String(), "Delivery paused") {
		t.Fatalf("not paused: %d, shows a pause", w.Code)
	}
	st = pause.State{Paused: true, Since: time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC), Failures: 7,
		LastError: "dial tcp 127.0.0.1:2525: connect: connection refused <b>"}
	w := e.page(admin, http.MethodGet, "/admin/mail", nil)
	body := w.Body.String()
	for _, want := range []string{"Delivery paused", "Mon 30 Nov 2026, 09:05", "America/New York", "7 tries",
		"connect: connection refused &lt;b&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("paused mail page lacks %q", want)
		}
	}
}

// Without a mail server, the mail page and the dashboard say that nothing
// is sent and which setting sends it; with one, neither says so.
func TestAdminMail_SaysPlainlyWhenNoMailServerIsSet(t *testing.T) {
	pages := []string{"/admin/mail", "/admin"}
	for _, none := range []bool{true, false} {
		e := newTestServer(t, store.DialectSQLite, func(o *Options) { o.NoMailServer = none })
		admin := e.mustStaff("admin@callbook.test", models.RoleAdmin)
		for _, path := range pages {
			w := e.page(admin, http.MethodGet, path, nil)
			if w.Code != http.StatusOK {
				t.Fatalf("%s: %d", path, w.Code)
			}
			body := w.Body.String()
			says := strings.Contains(body, "No mail server is set") && strings.Contains(body, "nothing is sent until") &&
				strings.Contains(body, "CALLBOOK_SMTP_URL")
			if says != none {
				t.Errorf("%s with no mail server %v: says none is set %v", path, none, says)
			}
		}
	}
}
