package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
	"github.com/callbook/callbook/webhooks"
)

func TestWebhooksAPI_CreateShowsTheSecretOnceThenListRetryAndDelete(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		w := e.api(admin, http.MethodPost, "/api/v1/admin/webhooks", `{"url":"https://crm.example.com/hook","events":["booking.created"]}`)
		if w.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", w.Code, w.Body)
		}
		var created struct{ Webhook webhookJSON }
		if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(created.Webhook.Secret, "whsec_") || created.Webhook.State != models.WebhookOK {
			t.Fatalf("created webhook %+v, want a whsec_ secret and state ok", created.Webhook)
		}
		list := e.api(admin, http.MethodGet, "/api/v1/admin/webhooks", "")
		if list.Code != http.StatusOK || strings.Contains(list.Body.String(), created.Webhook.Secret) || !strings.Contains(list.Body.String(), "crm.example.com") {
			t.Fatalf("list: %d %s; want the webhook without its secret", list.Code, list.Body)
		}

		e.mustBookLead("ada@example.com", 0, nil)
		base := fmt.Sprintf("/api/v1/admin/webhooks/%d", created.Webhook.ID)
		var ds struct{ Deliveries []deliveryJSON }
		got := e.api(admin, http.MethodGet, base+"/deliveries", "")
		if err := json.Unmarshal(got.Body.Bytes(), &ds); err != nil || len(ds.Deliveries) != 1 {
			t.Fatalf("deliveries: %d %s", got.Code, got.Body)
		}
		if d := ds.Deliveries[0]; d.Type != models.WebhookBookingCreated || d.Status != models.DeliveryPending || !strings.HasPrefix(d.MessageID, "msg_") {
			t.Fatalf("delivery %+v, want a pending booking.created", d)
		}
		retry := e.api(admin, http.MethodPost, fmt.Sprintf("%s/deliveries/%d/retry", base, ds.Deliveries[0].ID), "")
		if retry.Code != http.StatusAccepted || !strings.Contains(retry.Body.String(), `"status":"pending"`) {
			t.Fatalf("retry: %d %s", retry.Code, retry.Body)
		}
		if w := e.api(admin, http.MethodPost, base+"/deliveries/999999/retry", ""); w.Code != http.StatusNotFound {
			t.Fatalf("retry of another webhook's delivery: %d, want 404", w.Code)
		}
		if w := e.api(admin, http.MethodDelete, base, ""); w.Code != http.StatusNoContent {
			t.Fatalf("delete: %d %s", w.Code, w.Body)
		}
		if w := e.api(admin, http.MethodGet, base+"/deliveries", ""); w.Code != http.StatusNotFound {
			t.Fatalf("deliveries after delete: %d, want 404", w.Code)
		}
	})
}

func TestWebhooksAPI_PrivateAndPlainHTTPTargetsAreRefused(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite, func(o *Options) {
		o.WebhookTargets = func(ctx context.Context, u string) error { return webhooks.CheckURL(ctx, u, false, nil) }
	})
	admin := e.mustStaff("admin@example.com", models.RoleAdmin)
	for _, target := range []string{
		"http://crm.example.com/hook", "https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://[::1]/hook",
		"https://169.254.169.254/latest/meta-data", "https://192.168.0.10:8443/hook", "https://localhost/hook",
		"https://user:pass@crm.example.com/hook", "ftp://crm.example.com/", "not a url",
		// IPv6 spellings of loopback and link-local: IPv4-compatible,
		// IPv4-mapped and 6to4.
		"https://[::127.0.0.1]/hook", "https://[::ffff:127.0.0.1]/hook", "https://[2002:7f00:1::]/hook",
		"https://[2002:a9fe:a9fe::]/latest/meta-data",
	} {
		body, _ := json.Marshal(map[string]any{"url": target, "events": []string{"*"}})
		w := e.api(admin, http.MethodPost, "/api/v1/admin/webhooks", string(body))
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `"url":`) {
			t.Errorf("%s: %d %s, want 422 naming fields.url", target, w.Code, w.Body)
		}
		// Plain http is what an operator may allow: the message says how.
		if strings.HasPrefix(target, "http://") && !strings.Contains(w.Body.String(), "CALLBOOK_WEBHOOK_ALLOW_PRIVATE=true") {
			t.Errorf("%s: %s, want the message to name CALLBOOK_WEBHOOK_ALLOW_PRIVATE", target, w.Body)
		}
	}
	w := e.api(admin, http.MethodPost, "/api/v1/admin/webhooks", `{"url":"https://93.184.215.14/hook","events":["booking.exploded"]}`)
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `"events":`) {
		t.Errorf("unknown event: %d %s, want 422 naming fields.events", w.Code, w.Body)
	}
	if n, _ := e.store.ListWebhooks(context.Background()); len(n) != 0 {
		t.Fatalf("%d webhooks stored from refused requests", len(n))
	}
}

func TestWebhookPages_AddShowsTheSecretOnceAndTheListShowsState(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	admin := e.mustStaff("admin@example.com", models.RoleAdmin)
	w := e.page(admin, http.MethodPost, "/admin/webhooks", url.Values{"url": {"https://crm.example.com/hook"}, "events": {"booking.created", "lead.created"}})
	if w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), "whsec_") {
		t.Fatalf("add: %d, want the page with the secret", w.Code)
	}
	hooks, err := e.store.ListWebhooks(context.Background())
	if err != nil || len(hooks) != 1 {
		t.Fatalf("webhooks: %v %v", hooks, err)
	}
	page := e.page(admin, http.MethodGet, "/admin/webhooks", nil).Body.String()
	if strings.Contains(page, hooks[0].Secret) || !strings.Contains(page, "webhook-ok") {
		t.Fatal("the list shows the secret again, or no state")
	}
	bad := e.page(admin, http.MethodPost, "/admin/webhooks", url.Values{"url": {"http://crm.example.com/x"}, "events": {"*"}})
	if bad.Code != http.StatusUnprocessableEntity || !strings.Contains(bad.Body.String(), "http://crm.example.com/x") ||
		!strings.Contains(bad.Body.String(), "CALLBOOK_WEBHOOK_ALLOW_PRIVATE=true") {
		t.Fatalf("bad add: %d, want 422 with the input kept and the setting that allows http named", bad.Code)
	}
}
