package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

func TestExportCSV_AdminGetsFilteredStreamAndEventIsRecorded(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		admin := e.mustStaff("ann@example.com", models.RoleAdmin)
		e.mustInsertLeads(5, func(i int, l *models.Lead) {
			if i%2 == 0 {
				l.TargetTitle, l.Name = "Data Analyst", "=Ünïcode, \"quoted\"\nname "+itoa(i)
			}
		})
		w := e.api(admin, http.MethodGet, "/api/v1/admin/leads/export.csv?target_title=Data+Analyst", "")
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") ||
			!strings.Contains(w.Header().Get("Content-Disposition"), "attachment") {
			t.Fatalf("export: %d %v", w.Code, w.Header())
		}
		recs, err := csv.NewReader(bytes.NewReader(w.Body.Bytes())).ReadAll()
		if err != nil || len(recs) != 4 || strings.Join(recs[0], ",") != strings.Join(models.ExportColumns, ",") {
			t.Fatalf("CSV (%v): %q", err, recs)
		}
		if recs[1][2] != "'=Ünïcode, \"quoted\"\nname 4" || recs[1][6] != "Data Analyst" {
			t.Errorf("first row = %q", recs[1])
		}
		var ev models.Event
		if err := e.store.DB().Where("type = ?", "lead.exported").Take(&ev).Error; err != nil {
			t.Fatalf("no lead.exported event: %v", err)
		}
		var data map[string]any
		_ = json.Unmarshal([]byte(ev.Data), &data)
		if !strings.Contains(ev.Actor, "ann@example.com") || data["rows"] != float64(3) ||
			data["filters"].(map[string]any)["target_title"] != "Data Analyst" {
			t.Errorf("event %q: %s", ev.Actor, ev.Data)
		}
	})
}

func TestExportCSV_SalesForbiddenAnonymousUnauthorized(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	sales := e.mustStaff("sam@example.com", models.RoleSales)
	if w := e.api(sales, http.MethodGet, "/api/v1/admin/leads/export.csv", ""); w.Code != http.StatusForbidden {
		t.Errorf("sales: %d %s", w.Code, w.Body.String())
	}
	if w := e.page(sales, http.MethodGet, "/admin/export", nil); w.Code != http.StatusForbidden {
		t.Errorf("sales export page: %d", w.Code)
	}
	if w := e.api(nil, http.MethodGet, "/api/v1/admin/leads/export.csv", ""); w.Code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", w.Code)
	}
	var n int64
	e.store.DB().Model(&models.Event{}).Where("type = ?", "lead.exported").Count(&n)
	if n != 0 {
		t.Errorf("%d exports recorded for refused requests", n)
	}
}

func TestExportCSV_BadFilterIs422BeforeAnyCSV(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	admin := e.mustStaff("ann@example.com", models.RoleAdmin)
	w := e.api(admin, http.MethodGet, "/api/v1/admin/leads/export.csv?status=vip&created_from=soon", "")
	got := decode[errorJSON](t, w)
	if w.Code != http.StatusUnprocessableEntity || got.Error.Fields["status"] == "" || got.Error.Fields["created_from"] == "" {
		t.Errorf("bad filters: %d %s", w.Code, w.Body.String())
	}
}

func TestExportCSV_ClientThatGoesAwayStopsTheExport(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	admin := e.mustStaff("ann@example.com", models.RoleAdmin)
	e.mustInsertLeads(6000, nil) // more than one page
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest(http.MethodGet, "/api/v1/admin/leads/export.csv", nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+admin.Token)
	w := &cancelOnWrite{ResponseRecorder: httptest.NewRecorder(), cancel: cancel}
	e.srv.ServeHTTP(w, req)
	var ev models.Event
	if err := e.store.DB().Where("type = ?", "lead.exported").Take(&ev).Error; err != nil {
		t.Fatalf("no event: %v", err)
	}
	if !strings.Contains(ev.Data, `"complete":false`) || strings.Contains(ev.Data, `"rows":6000`) {
		t.Errorf("event after the client went away: %s", ev.Data)
	}
}

// cancelOnWrite is a client that hangs up once the first bytes arrive.
type cancelOnWrite struct {
	*httptest.ResponseRecorder
	cancel func()
}

func (w *cancelOnWrite) Write(b []byte) (int, error) {
	w.cancel()
	return w.ResponseRecorder.Write(b)
}

func TestExportPage_PrefillsFiltersAndCounts(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	admin := e.mustStaff("ann@example.com", models.RoleAdmin)
	e.mustInsertLeads(3, func(i int, l *models.Lead) {
		if i == 0 {
			l.Status = models.LeadClient
		}
	})
	w := e.page(admin, http.MethodGet, "/admin/export?status=client", nil)
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, "1 lead match") ||
		!strings.Contains(body, `href="/api/v1/admin/leads/export.csv?status=client"`) {
		t.Fatalf("export page: %d %s", w.Code, body)
	}
}
