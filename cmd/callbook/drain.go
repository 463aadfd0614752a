package main

import (
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// drain runs between the stop signal and the listener closing: for delay,
// /readyz answers 503 so a load balancer that checks it (Caddy, Kubernetes)
// takes this replica out of its pool, while every other request, new
// connections included, is served as before. Closing the listener at once
// instead would fail the requests a balancer is already sending here, and
// a POST it cannot safely send elsewhere. A second signal, or the server
// stopping by itself, ends the wait early.
func drain(h *swapHandler, delay time.Duration, serveErr <-chan error, log *slog.Logger) {
	if delay <= 0 {
		return
	}
	h.draining.Store(true)
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	log.Info("draining: /readyz answers 503 while requests are still served; a second signal ends the wait", "delay", delay)
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-again:
		log.Info("second stop signal: ending the drain early")
	case err := <-serveErr:
		log.Error("http server stopped while draining", "err", err)
	}
}

// drainingReadyz answers /readyz during the drain.
func drainingReadyz(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"status":"shutting down"}`))
}
