package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

func TestLeadJSONAndPage_ShowFirstAndLatestTouch(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		lead, _ := e.mustBookLead("ada@example.com", 0, nil) // google / cpc / be-2026
		e.mustBookLead("ada@example.com", 1, func(b map[string]any) {
			b["utm"] = map[string]string{"source": "newsletter", "medium": "email"}
			b["referrer"] = "https://mail.example.com/issue-7"
		})
		w := e.api(sales, http.MethodGet, "/api/v1/admin/leads/"+itoa(int(lead)), "")
		d := decode[struct {
			Lead leadJSON `json:"lead"`
		}](t, w)
		l := d.Lead
		if w.Code != 200 || l.UTM.Source != "newsletter" || l.UTM.Medium != "email" || l.UTM.Campaign != "" || l.Referrer != "https://mail.example.com/issue-7" {
			t.Fatalf("latest touch: %d %s", w.Code, w.Body.String())
		}
		ft := l.FirstTouch
		if ft.UTM.Source != "google" || ft.UTM.Medium != "cpc" || ft.UTM.Campaign != "be-2026" || ft.Referrer != "https://example.com/roles/backend-engineer" {
			t.Fatalf("first touch: %s", w.Body.String())
		}
		var raw map[string]json.RawMessage
		json.Unmarshal(w.Body.Bytes(), &raw)
		if !strings.Contains(string(raw["lead"]), `"first_touch":{"utm":{"source":"google","medium":"cpc","campaign":"be-2026","term":"","content":""},"referrer":"https://example.com/roles/backend-engineer"}`) {
			t.Fatalf("first_touch shape: %s", raw["lead"])
		}

		body := e.page(sales, http.MethodGet, "/admin/leads/"+itoa(int(lead)), nil).Body.String()
		first, latest := strings.Index(body, "First visit"), strings.Index(body, "Latest visit")
		if first < 0 || latest < first {
			t.Fatalf("lead page lacks the first and latest visit in order")
		}
		if !strings.Contains(body[first:latest], "google / cpc") || !strings.Contains(body[latest:], "newsletter / email") ||
			!strings.Contains(body[latest:], "https://mail.example.com/issue-7") {
			t.Errorf("lead page sources:\n%s", body[first:min(len(body), latest+600)])
		}
	})
}
