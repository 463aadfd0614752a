package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/callbook/callbook/models"
)

// requireMetricsToken lets /metrics on the public router through only for
// an admin's API token (Authorization: Bearer): the figures say how busy the
// firm is and which routes fail, which is no visitor's business. A scraper
// inside the network uses CALLBOOK_METRICS_ADDR instead.
func (s *Server) requireMetricsToken(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	var u *models.User
	if _, bearer := c.Request.Header["Authorization"]; bearer {
		var err error
		if u, _, err = s.authenticate(c); err != nil {
			s.fail(c, err)
			return
		}
	}
	switch {
	case u == nil:
		c.Header("WWW-Authenticate", `Bearer realm="callbook metrics"`)
		s.fail(c, errUnauthorized)
	case u.Role != models.RoleAdmin:
		s.fail(c, errForbidden)
	default:
		c.Next()
	}
}

// MetricsHandler serves the Prometheus figures at /metrics and nothing
// else, without credentials: for the separate listener on
// CALLBOOK_METRICS_ADDR, which must only be reachable by the scraper.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.gather, promhttp.HandlerOpts{}))
	return mux
}
