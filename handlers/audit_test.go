package handlers

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// auditEntries reads the audit log, oldest first.
func (e *testEnv) auditEntries() []models.AuditEntry {
	e.t.Helper()
	var rows []models.AuditEntry
	if err := e.store.DB().Order("id").Find(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// failAuditWrites makes every insert into the audit log fail, as a broken
// disk or a lost connection would, until the returned function is called.
// The failure comes after the change and after the entry's insert has run,
// inside the change's transaction.
func (e *testEnv) failAuditWrites() (restore func()) {
	e.t.Helper()
	db := e.store.DB()
	var stmts, undo []string
	if e.store.Dialect() == store.DialectPostgres {
		stmts = []string{
			`CREATE FUNCTION audit_fails() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER audit_fails AFTER INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_fails()`,
		}
		undo = []string{`DROP TRIGGER audit_fails ON audit_log`, `DROP FUNCTION audit_fails()`}
	} else {
		stmts = []string{`CREATE TRIGGER audit_fails AFTER INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'injected failure'); END`}
		undo = []string{`DROP TRIGGER audit_fails`}
	}
	for _, q := range stmts {
		if err := db.Exec(q).Error; err != nil {
			e.t.Fatal(err)
		}
	}
	return func() {
		for _, q := range undo {
			if err := db.Exec(q).Error; err != nil {
				e.t.Fatal(err)
			}
		}
	}
}

// snapshot is every row of every table but those left out, as sorted text.
func (e *testEnv) snapshot(leaveOut ...string) map[string][]string {
	e.t.Helper()
	raw, err := e.store.ReadDB().DB()
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string][]string{}
	for _, table := range storetest.Tables(e.t, raw, e.store.Dialect()) {
		if slices.Contains(leaveOut, table) {
			continue
		}
		var rows []string
		for _, r := range storetest.Rows(e.t, raw, table) {
			b, _ := json.Marshal(r)
			rows = append(rows, string(b))
		}
		sort.Strings(rows)
		out[table] = rows
	}
	return out
}

// diffSnapshots names the tables whose rows differ.
func diffSnapshots(a, b map[string][]string) []string {
	var out []string
	for t, rows := range a {
		if !slices.Equal(rows, b[t]) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// auditCase is one audited action and a staff request that does it.
type auditCase struct {
	action       string
	as           *staffer // nil: anonymous (sign-in)
	method, path string
	body         string // JSON for the API, a form for pages
	targetType   string
	targetID     uint // 0: any id (a row the request creates)
	actorID      uint // who the entry names; 0: the admin
	setup        func()
	okCode       int           // an answer other than 2xx or 3xx that is still the change done
	bodyFunc     func() string // the body, when it is only known once setup ran
	// leaveOut are tables a failed attempt may change on purpose: a
	// sign-in's reservation is recorded before the password is checked.
	leaveOut []string
}

func (e *testEnv) sendAuditCase(c auditCase) (int, string) {
	e.t.Helper()
	if c.bodyFunc != nil {
		c.body = c.bodyFunc()
	}
	if strings.Contains(c.path, ":passkey") {
		var p models.Passkey
		if err := e.store.DB().Order("id DESC").Take(&p).Error; err != nil {
			e.t.Fatal(err)
		}
		c.path = strings.Replace(c.path, ":passkey", fmt.Sprint(p.ID), 1)
	}
	if strings.HasPrefix(c.path, "/api/") {
		w := e.api(c.as, c.method, c.path, c.body)
		return w.Code, w.Body.String()
	}
	form, err := url.ParseQuery(c.body)
	if err != nil {
		e.t.Fatal(err)
	}
	w := e.page(c.as, c.method, c.path, form)
	return w.Code, w.Body.String()
}

// TestAudit_EveryActionWritesOneEntryInTheTransactionOfTheChange makes
// each audited change through its route twice: first with the audit log's
// insert failing inside the change's transaction, which must leave the
// database exactly as it was (no change without its entry), then normally,
// which must write exactly one entry naming the actor, the client address
// and the target.
func TestAudit_EveryActionWritesOneEntryInTheTransactionOfTheChange(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		f := e.mustStaffFixture(sales)
		id := func(p string, n uint) string { return strings.Replace(p, ":id", fmt.Sprint(n), 1) }
		login := func(pw string) string {
			return url.Values{"email": {"sales@example.com"}, "password": {pw}}.Encode()
		}
		availJSON := `{"duration_minutes":30,"buffer_minutes":0,"min_notice_minutes":240,"horizon_days":30,"max_per_day":2,"weekly":{"mon":[["09:00","17:00"]]},"overrides":[]}`
		lead := models.AuditTargetLead
		const totpSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
		cases := []auditCase{
			{action: models.AuditSignInSucceeded, method: "POST", path: "/admin/login", body: login(staffPassword),
				targetType: models.AuditTargetUser, targetID: f.sales, actorID: f.sales, leaveOut: []string{"login_attempts"}},
			{action: models.AuditSignInFailed, method: "POST", path: "/admin/login", body: login("not-the-password"),
				targetType: models.AuditTargetUser, targetID: f.sales, actorID: f.sales, leaveOut: []string{"login_attempts"},
				okCode: http.StatusUnauthorized},
			{action: models.AuditUserCreated, as: admin, method: "POST", path: "/admin/users",
				body: "email=new%40example.com&name=New&role=sales&password=plum-otter-violin-42", targetType: models.AuditTargetUser},
			{action: models.AuditUserRoleChanged, as: admin, method: "POST", path: id("/admin/users/:id", f.sales), body: "role=admin",
				targetType: models.AuditTargetUser, targetID: f.sales},
			{action: models.AuditUserUpdated, as: admin, method: "POST", path: id("/admin/users/:id", f.sales), body: "name=Sally",
				targetType: models.AuditTargetUser, targetID: f.sales},
			{action: models.AuditUserPasswordChanged, as: admin, method: "POST", path: id("/admin/users/:id/password", f.sales),
				body: "password=plum-otter-violin-42&revoke_tokens=no", targetType: models.AuditTargetUser, targetID: f.sales},
			{action: models.AuditTokenRevoked, as: admin, method: "POST", path: id("/admin/tokens/:id/revoke", f.token),
				targetType: models.AuditTargetToken, targetID: f.token},
			{action: models.AuditAvailabilityChanged, as: admin, method: "PUT", path: "/api/v1/admin/availability", body: availJSON,
				targetType: models.AuditTargetUser, targetID: f.host},
			{action: models.AuditCalendarConnected, as: admin, method: "PUT", path: id("/api/v1/admin/hosts/:id/calendars", f.host),
				body: `{"calendars":[{"kind":"ics","url":"https://cal.example.com/team.ics"}]}`, targetType: models.AuditTargetUser, targetID: f.host},
			{action: models.AuditCalendarDisconnected, as: admin, method: "PUT", path: id("/api/v1/admin/hosts/:id/calendars", f.host),
				body: `{"calendars":[]}`, targetType: models.AuditTargetUser, targetID: f.host},
			{action: models.AuditFeedLinkReplaced, as: admin, method: "POST", path: id("/admin/hosts/:id/feed", f.host),
				targetType: models.AuditTargetUser, targetID: f.host},
			{action: models.AuditWebhookCreated, as: admin, method: "POST", path: "/api/v1/admin/webhooks",
				body: `{"url":"https://example.com/new","events":["booking.created"]}`, targetType: models.AuditTargetWebhook},
			{action: models.AuditWebhookEnabled, as: admin, method: "POST", path: id("/admin/webhooks/:id/enable", f.webhook),
				targetType: models.AuditTargetWebhook, targetID: f.webhook},
			{action: models.AuditWebhookRetried, as: admin, method: "POST", path: hookDelivery("/api/v1/admin", f),
				targetType: models.AuditTargetWebhook, targetID: f.webhook},
			{action: models.AuditWebhookDeleted, as: admin, method: "DELETE", path: id("/api/v1/admin/webhooks/:id", f.spareWebhook),
				targetType: models.AuditTargetWebhook, targetID: f.spareWebhook},
			{action: models.AuditMailRetried, as: admin, method: "POST", path: id("/admin/mail/:id/retry", f.mail),
				targetType: models.AuditTargetEmail, targetID: f.mail, setup: func() {
					if err := e.store.DB().Model(&models.OutboxMessage{}).Where("id = ?", f.mail).Update("status", models.OutboxFailed).Error; err != nil {
						t.Fatal(err)
					}
				}},
			{action: models.AuditLeadUpdated, as: sales, method: "PATCH", path: id("/api/v1/admin/leads/:id", f.lead),
				body: `{"status":"qualified"}`, targetType: lead, targetID: f.lead, actorID: f.sales},
			{action: models.AuditLeadNoteAdded, as: sales, method: "POST", path: id("/api/v1/admin/leads/:id/notes", f.lead),
				body: `{"body":"Called back"}`, targetType: lead, targetID: f.lead, actorID: f.sales},
			{action: models.AuditOutcomeRecorded, as: admin, method: "POST", path: id("/api/v1/admin/bookings/:id/outcome", f.booking),
				body: `{"outcome":"completed"}`, targetType: models.AuditTargetBooking, targetID: f.booking, setup: func() {
					now := e.clock.Now()
					if err := e.store.DB().Model(&models.Booking{}).Where("id = ?", f.booking).
						Updates(map[string]any{"start_at": now.Add(-2 * time.Hour), "end_at": now.Add(-90 * time.Minute)}).Error; err != nil {
						t.Fatal(err)
					}
				}},
			{action: models.AuditFactorRemoved, as: admin, method: "POST", path: "/admin/security/totp/remove",
				targetType: models.AuditTargetUser, targetID: admin.User.ID, setup: func() {
					// An app waiting for its first code goes without one.
					if err := e.store.BeginTOTP(context.Background(), admin.User.ID, totpSecret); err != nil {
						t.Fatal(err)
					}
				}},
			{action: models.AuditFactorAdded, as: admin, method: "POST", path: "/admin/security/totp/confirm",
				targetType: models.AuditTargetUser, targetID: admin.User.ID, setup: func() {
					if err := e.store.BeginTOTP(context.Background(), admin.User.ID, totpSecret); err != nil {
						t.Fatal(err)
					}
				}, bodyFunc: func() string { return "code=" + e.code(totpSecret) }},
			{action: models.AuditFactorRenamed, as: admin, method: "POST", path: "/admin/security/passkeys/:passkey",
				body: "name=Office+key", targetType: models.AuditTargetUser, targetID: admin.User.ID, setup: func() {
					if _, err := e.store.AddPasskey(context.Background(), admin.User.ID, "Key", "Y3JlZA", "{}"); err != nil {
						t.Fatal(err)
					}
				}},
			{action: models.AuditFactorRemoved, as: admin, method: "POST", path: "/admin/security/passkeys/:passkey/remove",
				targetType: models.AuditTargetUser, targetID: admin.User.ID},
			{action: models.AuditSessionsEnded, as: admin, method: "POST", path: id("/admin/users/:id/sessions/end", f.sales),
				targetType: models.AuditTargetUser, targetID: f.sales},
			// Last: disabling sales revokes their credentials.
			{action: models.AuditUserDisabled, as: admin, method: "POST", path: id("/admin/users/:id", f.sales), body: "active=no",
				targetType: models.AuditTargetUser, targetID: f.sales},
			{action: models.AuditUserEnabled, as: admin, method: "POST", path: id("/admin/users/:id", f.sales), body: "active=yes",
				targetType: models.AuditTargetUser, targetID: f.sales},
			{action: models.AuditLeadsExported, as: admin, method: "GET", path: "/api/v1/admin/leads/export.csv?status=new",
				targetType: models.AuditTargetLeads},
			{action: models.AuditLogExported, as: admin, method: "GET", path: "/api/v1/admin/audit/export.csv",
				targetType: models.AuditTargetAudit},
			{action: models.AuditLeadErased, as: admin, method: "DELETE", path: id("/api/v1/admin/leads/:id", f.spareLead),
				targetType: lead, targetID: f.spareLead},
			// Last: a new password signs the admin's other sessions out.
			{action: models.AuditUserPasswordChanged, as: admin, method: "POST", path: "/admin/security/password",
				body:       url.Values{"current_password": {staffPassword}, "password": {"new-plum-otter-violin-43"}}.Encode(),
				targetType: models.AuditTargetUser, targetID: admin.User.ID, leaveOut: []string{"login_attempts"}},
		}
		// The first request of each credential writes its last use; make
		// those before comparing the database around failed requests.
		for _, st := range []*staffer{admin, sales} {
			if w := e.api(st, "GET", "/api/v1/admin/leads", ""); w.Code != http.StatusOK {
				t.Fatalf("warm up: %d", w.Code)
			}
		}
		for _, c := range cases {
			t.Run(c.action, func(t *testing.T) {
				if c.setup != nil {
					c.setup()
				}
				before := e.snapshot(c.leaveOut...)
				restore := e.failAuditWrites()
				code, body := e.sendAuditCase(c)
				restore()
				if code < 500 {
					t.Errorf("with the audit insert failing: %d %.200s, want a 5xx", code, body)
				}
				if diff := diffSnapshots(before, e.snapshot(c.leaveOut...)); len(diff) > 0 {
					t.Fatalf("a failed audit insert left changes in %v", diff)
				}

				last := e.auditEntries()
				code, body = e.sendAuditCase(c)
				if code >= 400 && code != c.okCode {
					t.Fatalf("%s %s: %d %.300s", c.method, c.path, code, body)
				}
				var got []models.AuditEntry
				for _, en := range e.auditEntries()[len(last):] {
					if en.Action == c.action {
						got = append(got, en)
					}
				}
				if len(got) != 1 {
					t.Fatalf("%d %s entries, want 1", len(got), c.action)
				}
				en := got[0]
				wantActor := cmpOr(c.actorID, admin.User.ID)
				if en.ActorKind != models.ActorKindUser || en.ActorID == nil || *en.ActorID != wantActor || en.IP != "192.0.2.1" {
					t.Errorf("actor %s #%v from %q, want user #%d from 192.0.2.1", en.ActorKind, en.ActorID, en.IP, wantActor)
				}
				if en.TargetType != c.targetType || (c.targetID != 0 && (en.TargetID == nil || *en.TargetID != c.targetID)) {
					t.Errorf("target %s #%v, want %s #%d", en.TargetType, en.TargetID, c.targetType, c.targetID)
				}
				if !en.At.Equal(e.clock.Now()) {
					t.Errorf("at %v, want the clock's %v", en.At, e.clock.Now())
				}
			})
		}
	})
}

func cmpOr(a, b uint) uint {
	if a != 0 {
		return a
	}
	return b
}

// auditPage is the answer of GET /api/v1/admin/audit.
type auditPage struct {
	Entries    []models.AuditEntryJSON `json:"entries"`
	NextCursor *string                 `json:"next_cursor"`
}

func TestAuditAPI_FiltersAndPagesNewestFirst(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		leadA, _ := e.mustBookLead("ada@example.com", 0, nil)
		leadB, _ := e.mustBookLead("bob@example.com", 1, nil)
		for i, st := range []*staffer{sales, admin, sales, admin, sales} {
			l := []uint{leadA, leadB}[i%2]
			if w := e.api(st, "POST", fmt.Sprintf("/api/v1/admin/leads/%d/notes", l), fmt.Sprintf(`{"body":"note %d"}`, i)); w.Code != http.StatusCreated {
				t.Fatalf("note: %d %s", w.Code, w.Body.String())
			}
		}
		e.clock.Advance(48 * time.Hour)
		if w := e.api(admin, "PATCH", fmt.Sprintf("/api/v1/admin/leads/%d", leadA), `{"status":"lost"}`); w.Code != http.StatusOK {
			t.Fatalf("patch: %d", w.Code)
		}

		get := func(q string) auditPage {
			t.Helper()
			w := e.api(admin, "GET", "/api/v1/admin/audit?"+q, "")
			if w.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", q, w.Code, w.Body.String())
			}
			return decode[auditPage](t, w)
		}
		// Every note by sales, two at a time, newest first.
		var ids []uint
		cursor := ""
		for pages := 0; ; pages++ {
			q := fmt.Sprintf("action=lead.note_added&actor_id=%d&limit=2", sales.User.ID)
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			p := get(q)
			for _, en := range p.Entries {
				if en.Action != models.AuditLeadNoteAdded || en.Actor.ID == nil || *en.Actor.ID != sales.User.ID || en.Actor.Kind != "user" {
					t.Errorf("entry %+v is not a note by sales", en)
				}
				ids = append(ids, en.ID)
			}
			if p.NextCursor == nil {
				if pages != 1 {
					t.Errorf("%d pages, want 2 (3 entries by 2)", pages+1)
				}
				break
			}
			cursor = *p.NextCursor
		}
		if len(ids) != 3 || !slices.IsSortedFunc(ids, func(a, b uint) int { return int(b) - int(a) }) {
			t.Errorf("ids %v, want sales' 3 notes newest first", ids)
		}
		// By target: lead A had three notes and a change.
		p := get(fmt.Sprintf("target_type=lead&target_id=%d", leadA))
		if len(p.Entries) != 4 || p.Entries[0].Action != models.AuditLeadUpdated {
			t.Errorf("lead A: %+v, want its change then its 3 notes", p.Entries)
		}
		// By time: only the change is from two days later.
		day := e.clock.Now().In(e.store.Location()).Format(time.DateOnly)
		if p := get("from=" + day); len(p.Entries) != 1 || p.Entries[0].Action != models.AuditLeadUpdated {
			t.Errorf("from %s: %+v, want the one change", day, p.Entries)
		}
		if p := get("to=" + e.clock.Now().Add(-time.Hour).Format(time.RFC3339) + "&action=lead.note_added"); len(p.Entries) != 5 {
			t.Errorf("to: %d entries, want the 5 notes", len(p.Entries))
		}
		for _, bad := range []string{"cursor=nonsense", "actor_id=x", "from=yesterday", "limit=501"} {
			if w := e.api(admin, "GET", "/api/v1/admin/audit?"+bad, ""); w.Code != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d, want 422", bad, w.Code)
			}
		}
		if w := e.api(sales, "GET", "/api/v1/admin/audit", ""); w.Code != http.StatusForbidden {
			t.Errorf("sales: %d, want 403", w.Code)
		}
		if w := e.do("GET", "/admin/audit", nil, "Authorization", "Bearer "+sales.Token); w.Code != http.StatusForbidden {
			t.Errorf("sales page: %d, want 403", w.Code)
		}
		// Both refusals are in the log, as the sales user's.
		if p := get(fmt.Sprintf("action=access.denied&actor_id=%d", sales.User.ID)); len(p.Entries) != 2 ||
			!strings.Contains(string(p.Entries[0].Details), `"path":"/admin/audit"`) || p.Entries[0].IP != "192.0.2.1" {
			t.Errorf("access.denied entries: %+v, want the 2 refusals", p.Entries)
		}
		// The staff page shows the same entries with its filters.
		w := e.do("GET", fmt.Sprintf("/admin/audit?target_type=lead&target_id=%d", leadA), nil, "Authorization", "Bearer "+admin.Token)
		if w.Code != http.StatusOK || strings.Count(w.Body.String(), "<code>lead.note_added</code>") != 3 ||
			!strings.Contains(w.Body.String(), "lead.updated") {
			t.Errorf("page: %d, want lead A's 3 notes and its change:\n%.2000s", w.Code, w.Body.String())
		}
	})
}

func TestAuditCSV_DownloadsTheFilteredEntriesWithSafeCells(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	admin := e.mustStaff("admin@example.com", models.RoleAdmin)
	// A failed sign-in records the email as typed: a formula here must not
	// run in the spreadsheet the download is opened in.
	form := url.Values{"email": {"=HYPERLINK(\"http://evil.example\")"}, "password": {"x"}}
	if w := e.page(nil, "POST", "/admin/login", form); w.Code != http.StatusUnauthorized {
		t.Fatalf("sign-in: %d", w.Code)
	}
	w := e.api(admin, "GET", "/api/v1/admin/audit/export.csv?action=signin.failed", "")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("download: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || !slices.Equal(recs[0], models.AuditCSVColumns) {
		t.Fatalf("rows %q, want the header and the one failed sign-in", recs)
	}
	row := map[string]string{}
	for i, c := range recs[0] {
		row[c] = recs[1][i]
	}
	if row["action"] != "signin.failed" || row["actor_email"] != `'=hyperlink("http://evil.example")` || row["ip"] != "192.0.2.1" ||
		row["actor_kind"] != "user" || !strings.Contains(row["details"], `"reason":"bad_credentials"`) {
		t.Errorf("row %q", row)
	}
	// The download itself is in the log.
	var n int64
	e.store.DB().Model(&models.AuditEntry{}).Where("action = ? AND actor_id = ?", models.AuditLogExported, admin.User.ID).Count(&n)
	if n != 1 {
		t.Errorf("%d audit.exported entries, want 1", n)
	}
}
