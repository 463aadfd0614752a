package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/callbook/callbook/pause"
	"github.com/callbook/callbook/store"
)

// Waits between tries to reach a database that was unreachable at start.
const (
	startRetryFirst = time.Second
	startRetryMax   = 15 * time.Second
)

// swapHandler serves through whichever handler was set last, so the
// listener can open before the database answers and the full service take
// over once it does. While draining, /readyz says 503 whatever the
// handler would say (see drain).
type swapHandler struct {
	h        atomic.Pointer[http.Handler]
	draining atomic.Bool
}

func (s *swapHandler) set(h http.Handler) { s.h.Store(&h) }

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() && r.URL.Path == "/readyz" {
		drainingReadyz(w)
		return
	}
	(*s.h.Load()).ServeHTTP(w, r)
}

// startingHandler answers while the database cannot be reached yet: the
// process is alive (/healthz 200) but not ready (/readyz 503), and every
// other request gets 503 with Retry-After, in the API's error shape under
// /api/.
func startingHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Retry-After", "5")
		h.Set("Cache-Control", "no-store")
		switch {
		case r.URL.Path == "/healthz":
			h.Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		case r.URL.Path == "/readyz":
			h.Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"database unreachable"}`))
		case strings.HasPrefix(r.URL.Path, "/api/"):
			h.Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"code":"unavailable","message":"the service is starting; please try again in a few seconds"}}`))
		default:
			h.Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("Callbook is starting; please try again in a few seconds.\n"))
		}
	})
}

// waitForApp builds the app, trying again while the database cannot be
// reached (it is starting, restarting, or the network is not up yet): one
// warning when that first happens, then quiet retries with a growing wait,
// and one line when it answers. Any other failure (a bad setting, a
// migration that fails) is returned at once. It returns nil and no error
// when ctx ends first.
func waitForApp(ctx context.Context, cfg *config, log *slog.Logger, build func(context.Context, *config, *slog.Logger) (*app, error)) (*app, error) {
	gate := pause.New(time.Now, startRetryFirst, startRetryMax)
	for {
		a, err := build(ctx, cfg, log)
		switch {
		case err == nil:
			if st := gate.State(); st.Paused {
				log.Info("database reachable; starting", "waited", time.Since(st.Since).Round(time.Second))
			}
			return a, nil
		case ctx.Err() != nil:
			return nil, nil
		case !store.IsUnavailable(err):
			return nil, err
		}
		if gate.Fail(err) {
			log.Warn("database unreachable at start; retrying until it answers, /readyz says 503 meanwhile",
				"err", err, "retry_max", startRetryMax)
		} else {
			log.Debug("database still unreachable", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(gate.Wait()):
		}
	}
}
