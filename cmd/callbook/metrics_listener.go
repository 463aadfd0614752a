package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// metricsListener serves /metrics on CALLBOOK_METRICS_ADDR, beside the main
// listener, so a scraper on the inside network needs no token.
type metricsListener struct {
	srv *http.Server
	log *slog.Logger
}

// listenMetrics starts the metrics listener when an address is set; the
// returned listener is nil when none is.
func listenMetrics(addr string, h http.Handler, log *slog.Logger) (*metricsListener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (set CALLBOOK_METRICS_ADDR)", addr, err)
	}
	m := &metricsListener{log: log, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return m, nil
}

// shutdown stops the metrics listener (a nil one is a no-op).
func (m *metricsListener) shutdown(ctx context.Context) {
	if m == nil {
		return
	}
	if err := m.srv.Shutdown(ctx); err != nil {
		m.log.Error("metrics shutdown", "err", err)
	}
}
