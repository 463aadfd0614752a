package main

import (
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/store/storetest"
)

func mustGet(t *testing.T, url string, headers ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServe_MetricsOnTheirOwnListener runs serve with CALLBOOK_METRICS_ADDR:
// the figures are open there and only there, the main listener wants a
// token for them, and the metrics listener closes with the service.
func TestServe_MetricsOnTheirOwnListener(t *testing.T) {
	clearEnv(t)
	metricsAddr := storetest.FreeAddr(t)
	t.Setenv("CALLBOOK_DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "callbook.db"))
	t.Setenv("CALLBOOK_METRICS_ADDR", metricsAddr)
	srv := serveInProcess(t)
	srv.waitReady(t)
	if code, body := mustGet(t, "http://"+metricsAddr+"/metrics"); code != 200 ||
		!strings.Contains(body, `callbook_http_requests_total{method="GET",route="/readyz",status="200"}`) {
		t.Fatalf("metrics listener: %d %.300s", code, body)
	}
	if code, _ := mustGet(t, "http://"+metricsAddr+"/readyz"); code != http.StatusNotFound {
		t.Errorf("metrics listener serves other pages: %d", code)
	}
	if code, body := mustGet(t, srv.base+"/metrics"); code != http.StatusUnauthorized || strings.Contains(body, "callbook_http") {
		t.Errorf("main listener gives metrics without a token: %d", code)
	}
	srv.cancel()
	if code := srv.waitExit(t, 20*time.Second); code != 0 {
		t.Fatalf("serve exited %d: %s", code, srv.logs)
	}
	if c, err := net.Dial("tcp", metricsAddr); err == nil {
		c.Close()
		t.Fatal("metrics listener still open after serve stopped")
	}
}
