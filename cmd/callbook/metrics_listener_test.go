package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

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
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	t.Setenv("CALLBOOK_DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "callbook.db"))
	t.Setenv("CALLBOOK_ADDR", addr)
	t.Setenv("CALLBOOK_METRICS_ADDR", metricsAddr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var errb bytes.Buffer
	go func() { done <- run(ctx, []string{"serve"}, nil, &bytes.Buffer{}, &errb) }()
	var err error
	for range 100 {
		var resp *http.Response
		// serve listens before the database is ready: wait for 200.
		if resp, err = http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			err = fmt.Errorf("readyz answered %d", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("serve did not start: %v\n%s", err, errb.String())
	}
	if code, body := mustGet(t, "http://"+metricsAddr+"/metrics"); code != 200 ||
		!strings.Contains(body, `callbook_http_requests_total{method="GET",route="/readyz",status="200"}`) {
		t.Fatalf("metrics listener: %d %.300s", code, body)
	}
	if code, _ := mustGet(t, "http://"+metricsAddr+"/readyz"); code != http.StatusNotFound {
		t.Errorf("metrics listener serves other pages: %d", code)
	}
	if code, body := mustGet(t, "http://"+addr+"/metrics"); code != http.StatusUnauthorized || strings.Contains(body, "callbook_http") {
		t.Errorf("main listener gives metrics without a token: %d", code)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if c, err := net.Dial("tcp", metricsAddr); err == nil {
		c.Close()
		t.Fatal("metrics listener still open after serve stopped")
	}
}
