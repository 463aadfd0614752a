package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the HTTP layer's Prometheus series.
type metrics struct {
	requests         *prometheus.CounterVec
	latency          *prometheus.HistogramVec
	bookingsCreated  prometheus.Counter
	bookingConflicts prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callbook_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "callbook_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
		bookingsCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "callbook_bookings_created_total", Help: "Bookings made.",
		}),
		bookingConflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "callbook_booking_conflicts_total", Help: "Booking attempts refused because the slot was taken.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.bookingsCreated, m.bookingConflicts)
	// Process and Go runtime series, unless the caller registered them.
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe records every request by its route pattern, so /bookings/{token}
// is one series, not one per token.
func (m *metrics) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	method := methodLabel(c.Request.Method)
	m.requests.WithLabelValues(route, method, statusLabel(c.Writer.Status())).Inc()
	m.latency.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
}

// methodLabel is the request's method if it is one of HTTP's own, else
// "other": Go's server accepts any token as a method, and a visitor who
// sends made-up ones must not add series to /metrics with each.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// statusLabel is the answer's status code; anything outside HTTP's range
// (which only a handler's mistake could write) is "other", so the label's
// values stay few whatever happens.
func statusLabel(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status)
}

func (s *Server) metricsHandler() gin.HandlerFunc {
	h := promhttp.HandlerFor(s.gather, promhttp.HandlerOpts{})
	return gin.WrapH(h)
}
