package handlers

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

// keysOf lists a JSON object's keys, sorted.
func keysOf(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not an object: %s", raw)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

const leadKeys = "answers,bookings_count,created_at,current_title,email,first_touch,id,language,name,next_call_at,open_tasks,owner_id,page_url,phone,recommended_title,referrer,role_slug,source,status,target_title,unsubscribed_at,updated_at,utm"

type leadDetailJSON struct {
	Lead     json.RawMessage   `json:"lead"`
	Bookings []json.RawMessage `json:"bookings"`
	Notes    []json.RawMessage `json:"notes"`
	Events   []eventJSON       `json:"events"`
}

func TestStaffAPI_LeadShapesChangesAndTimeline(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		lead, _ := e.mustBookLead("ada@example.com", 0, nil)
		path := "/api/v1/admin/leads/" + itoa(int(lead))

		w := e.api(sales, http.MethodGet, "/api/v1/admin/leads", "")
		list := decode[struct {
			Leads      []json.RawMessage `json:"leads"`
			NextCursor *string           `json:"next_cursor"`
		}](t, w)
		if w.Code != 200 || len(list.Leads) != 1 || list.NextCursor != nil || keysOf(t, list.Leads[0]) != leadKeys {
			t.Fatalf("list: %d %s", w.Code, w.Body.String())
		}
		var l leadJSON
		json.Unmarshal(list.Leads[0], &l)
		if l.UTM.Source != "google" || l.BookingsCount != 1 || l.NextCallAt == nil || !strings.HasSuffix(*l.NextCallAt, "Z") || l.Status != "new" {
			t.Fatalf("lead %+v", l)
		}

		w = e.api(sales, http.MethodPatch, path, `{"status":"qualified","owner_id":`+itoa(int(admin.User.ID))+`,"recommended_title":"Platform Engineer"}`)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"status":"qualified"`) || !strings.Contains(w.Body.String(), `"owner_id":`+itoa(int(admin.User.ID))) {
			t.Fatalf("patch: %d %s", w.Code, w.Body.String())
		}
		if w = e.api(sales, http.MethodPatch, path, `{"owner_id":null}`); !strings.Contains(w.Body.String(), `"owner_id":null`) ||
			!strings.Contains(w.Body.String(), `"status":"qualified"`) {
			t.Fatalf("clear owner: %s", w.Body.String())
		}
		w = e.api(sales, http.MethodPatch, path, `{"status":"won","owner_id":9999}`)
		if er := decode[errorJSON](t, w); w.Code != 422 || er.Error.Code != "validation_failed" || er.Error.Fields["status"] == "" {
			t.Fatalf("bad status: %d %s", w.Code, w.Body.String())
		}
		if w = e.api(sales, http.MethodPatch, path, `{"owner_id":9999}`); w.Code != 422 || !strings.Contains(w.Body.String(), "owner_id") {
			t.Fatalf("unknown owner: %d %s", w.Code, w.Body.String())
		}
		if w = e.api(sales, http.MethodPatch, path, `{"status":1}`); w.Code != 400 {
			t.Fatalf("wrong type: %d %s", w.Code, w.Body.String())
		}
		w = e.api(sales, http.MethodPost, path+"/notes", `{"body":"Wants to move from analytics to backend"}`)
		note := decode[struct{ Note json.RawMessage }](t, w)
		if w.Code != http.StatusCreated || keysOf(t, note.Note) != "author,body,created_at,id" ||
			!strings.Contains(string(note.Note), `"author":{"id":`+itoa(int(sales.User.ID))+`,"name":"sales"}`) {
			t.Fatalf("note: %d %s", w.Code, w.Body.String())
		}
		if w = e.api(sales, http.MethodPost, path+"/notes", `{"body":"  "}`); w.Code != 422 {
			t.Fatalf("empty note: %d", w.Code)
		}

		w = e.api(sales, http.MethodGet, path, "")
		d := decode[leadDetailJSON](t, w)
		if w.Code != 200 || keysOf(t, d.Lead) != leadKeys || len(d.Bookings) != 1 || len(d.Notes) != 1 {
			t.Fatalf("detail: %d %s", w.Code, w.Body.String())
		}
		if !strings.Contains(string(d.Bookings[0]), `"lead_id":`+itoa(int(lead))) || !strings.Contains(string(d.Bookings[0]), `"manage_url"`) {
			t.Fatalf("booking %s", d.Bookings[0])
		}
		types := map[string]string{}
		for _, ev := range d.Events {
			types[ev.Type] = ev.Actor
			if len(ev.Data) == 0 || ev.Data[0] != '{' {
				t.Fatalf("event data is not an object: %s", ev.Data)
			}
		}
		for _, typ := range []string{"lead.status_changed", "lead.owner_changed", "lead.recommended_title_changed", "note.added"} {
			if types[typ] != models.ActorUser(sales.User) {
				t.Errorf("event %s by %q, want %q", typ, types[typ], models.ActorUser(sales.User))
			}
		}
		if types["lead.created"] != models.ActorVisitor || d.Events[0].Type != "note.added" {
			t.Errorf("timeline %+v", d.Events)
		}
		if w = e.api(sales, http.MethodGet, "/api/v1/admin/leads/abc", ""); w.Code != 404 {
			t.Fatalf("bad id: %d", w.Code)
		}
	})
}

func TestStaffAPI_ListFiltersAndKeysetPages(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		e.mustInsertLeads(7, func(i int, l *models.Lead) {
			if i%2 == 0 {
				l.Status = models.LeadLost
			}
			if i == 3 {
				l.Name, l.EmailKey, l.Email = "Grace Hopper", "grace@navy.example", "grace@navy.example"
				l.OwnerID = &sales.User.ID
			}
			if i < 2 {
				l.CreatedAt = l.CreatedAt.AddDate(0, 0, -10)
			}
		})
		var ids []string
		cursor := ""
		for page := 0; page < 5; page++ {
			w := e.api(sales, http.MethodGet, "/api/v1/admin/leads?limit=3&cursor="+cursor, "")
			res := decode[struct {
				Leads []struct {
					ID uint `json:"id"`
				} `json:"leads"`
				NextCursor *string `json:"next_cursor"`
			}](t, w)
			for _, l := range res.Leads {
				ids = append(ids, itoa(int(l.ID)))
			}
			if res.NextCursor == nil {
				break
			}
			cursor = *res.NextCursor
		}
		if strings.Join(ids, ",") != "7,6,5,4,3,2,1" {
			t.Fatalf("pages gave %v, want newest first without repeats", ids)
		}
		for q, want := range map[string]int{
			"status=lost": 4, "q=GRACE": 1, "q=navy.example": 1, "owner_id=" + itoa(int(sales.User.ID)): 1, "owner_id=none": 6,
			"created_from=2026-11-25": 5, "created_to=2026-11-25": 2, "created_from=2026-11-30T12:00:00Z": 5,
			"target_title=Backend+Engineer": 7, "target_title=SRE": 0, "q=%25": 0,
		} {
			w := e.api(sales, http.MethodGet, "/api/v1/admin/leads?"+q, "")
			var res struct{ Leads []json.RawMessage }
			json.Unmarshal(w.Body.Bytes(), &res)
			if w.Code != 200 || len(res.Leads) != want {
				t.Errorf("%s: %d, %d leads, want %d", q, w.Code, len(res.Leads), want)
			}
		}
		for _, q := range []string{"limit=201", "limit=0", "status=won", "created_from=yesterday", "cursor=nonsense", "owner_id=x"} {
			if w := e.api(sales, http.MethodGet, "/api/v1/admin/leads?"+q, ""); w.Code != 422 {
				t.Errorf("%s: %d, want 422", q, w.Code)
			}
		}
	})
}

func TestStaffAPI_BookingsOutcomeAndErase(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		lead, booking := e.mustBookLead("ada@example.com", 0, nil)
		later, _ := e.mustBookLead("bob@example.com", 3, nil)

		w := e.api(sales, http.MethodGet, "/api/v1/admin/bookings?from=2026-11-30&to=2026-12-31&status=confirmed", "")
		var res struct{ Bookings []bookingJSON }
		json.Unmarshal(w.Body.Bytes(), &res)
		if w.Code != 200 || len(res.Bookings) != 2 || res.Bookings[0].LeadID == nil || *res.Bookings[0].LeadID != lead {
			t.Fatalf("bookings: %d %s", w.Code, w.Body.String())
		}
		if w := e.api(sales, http.MethodGet, "/api/v1/admin/bookings?status=done", ""); w.Code != 422 {
			t.Fatalf("bad status: %d", w.Code)
		}
		if w := e.api(sales, http.MethodGet, "/api/v1/admin/bookings?from=2026-12-31&to=2026-12-01", ""); w.Code != 422 {
			t.Fatalf("reversed range: %d", w.Code)
		}
		outcome := "/api/v1/admin/bookings/" + itoa(int(booking)) + "/outcome"
		if w := e.api(sales, http.MethodPost, outcome, `{"outcome":"completed"}`); w.Code != 422 {
			t.Fatalf("outcome before the call: %d", w.Code)
		}
		start, _ := time.Parse(time.RFC3339, res.Bookings[0].Start)
		e.clock.Set(start.Add(10 * time.Minute))
		if w := e.api(sales, http.MethodPost, outcome, `{"outcome":"no_show"}`); w.Code != 200 || !strings.Contains(w.Body.String(), `"status":"no_show"`) {
			t.Fatalf("outcome: %d %s", w.Code, w.Body.String())
		}
		var ev models.Event
		if err := e.store.DB().Where("type = ? AND booking_id = ?", "booking.no_show", booking).Take(&ev).Error; err != nil || ev.Actor != models.ActorUser(sales.User) {
			t.Fatalf("event: %+v %v", ev, err)
		}

		leadPath := "/api/v1/admin/leads/" + itoa(int(later))
		if w := e.api(sales, http.MethodDelete, leadPath, ""); w.Code != 403 {
			t.Fatalf("sales erase: %d", w.Code)
		}
		if w := e.api(admin, http.MethodDelete, leadPath, ""); w.Code != http.StatusNoContent || w.Body.Len() != 0 {
			t.Fatalf("erase: %d %s", w.Code, w.Body.String())
		}
		if w := e.api(admin, http.MethodGet, leadPath, ""); w.Code != 404 {
			t.Fatalf("erased lead: %d", w.Code)
		}
		if w := e.api(admin, http.MethodDelete, leadPath, ""); w.Code != 404 {
			t.Fatalf("second erase: %d", w.Code)
		}
		w = e.api(admin, http.MethodGet, "/api/v1/admin/bookings?status=canceled", "")
		if !strings.Contains(w.Body.String(), `"lead_id":`+itoa(int(later))) {
			t.Fatalf("the erased lead's future call was not canceled: %s", w.Body.String())
		}
	})
}

func TestStaffAPI_AvailabilityUsersAndOutbox(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		e.mustBookLead("ada@example.com", 0, nil)

		w := e.api(sales, http.MethodGet, "/api/v1/admin/availability", "")
		if w.Code != 200 || keysOf(t, w.Body.Bytes()) != "buffer_minutes,duration_minutes,horizon_days,host_id,max_per_day,max_per_week,meeting,min_notice_minutes,overrides,priority,weekly,weight" {
			t.Fatalf("availability: %d %s", w.Code, w.Body.String())
		}
		body := `{"duration_minutes":45,"buffer_minutes":15,"min_notice_minutes":60,"horizon_days":14,"max_per_day":3,
			"weekly":{"tue":[["09:00","12:00"],["13:00","17:00"]]},"overrides":[{"date":"2026-12-24","hours":[]}]}`
		w = e.api(admin, http.MethodPut, "/api/v1/admin/availability", body)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"duration_minutes":45`) || !strings.Contains(w.Body.String(), `"tue":[["09:00","12:00"],["13:00","17:00"]]`) {
			t.Fatalf("put: %d %s", w.Code, w.Body.String())
		}
		w = e.api(admin, http.MethodPut, "/api/v1/admin/availability", `{"duration_minutes":7,"horizon_days":14,"weekly":{"mon":[["12:00","09:00"]]}}`)
		if er := decode[errorJSON](t, w); w.Code != 422 || er.Error.Fields["duration_minutes"] == "" || er.Error.Fields["weekly.mon[0]"] == "" {
			t.Fatalf("invalid put: %d %s", w.Code, w.Body.String())
		}
		if w := e.api(admin, http.MethodGet, "/api/v1/admin/availability?host_id=999", ""); w.Code != 404 {
			t.Fatalf("unknown host: %d", w.Code)
		}

		w = e.api(admin, http.MethodGet, "/api/v1/admin/users", "")
		var users struct{ Users []json.RawMessage }
		json.Unmarshal(w.Body.Bytes(), &users)
		if w.Code != 200 || len(users.Users) != 3 || keysOf(t, users.Users[0]) != "disabled,email,host,id,name,role" ||
			strings.Contains(w.Body.String(), "password") {
			t.Fatalf("users: %d %s", w.Code, w.Body.String())
		}
		w = e.api(admin, http.MethodGet, "/api/v1/admin/outbox?status=pending", "")
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"kind":"confirmation"`) || !strings.Contains(w.Body.String(), `"counts":{`) {
			t.Fatalf("outbox: %d %s", w.Code, w.Body.String())
		}
		if w := e.api(admin, http.MethodGet, "/api/v1/admin/outbox?status=lost", ""); w.Code != 422 {
			t.Fatalf("bad outbox status: %d", w.Code)
		}
	})
}
