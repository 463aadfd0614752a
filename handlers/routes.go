package handlers

import (
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/web"
)

// routes registers every URL the service answers. Keep it the one place a
// reader needs to open to see them.
func (s *Server) routes() {
	r := s.engine
	r.Use(s.recoverPanics, s.metrics.observe, s.logRequests, s.securityHeaders, s.limitBody, s.crossOrigin())
	r.NoRoute(func(c *gin.Context) { s.fail(c, errRouteNotFound) })

	static, _ := fs.Sub(web.FS, "static")
	r.StaticFS("/static", http.FS(static))
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metricsHandler())

	// Public pages (CONTRACT §4).
	r.GET("/", s.index)
	r.GET("/roles/:slug", s.rolePage)
	r.GET("/roles/:slug/book", s.bookPage)
	r.POST("/roles/:slug/book", s.rateLimited, s.bookSubmit)
	r.GET("/bookings/:token", s.bookingPage)
	r.GET("/bookings/:token/invite.ics", s.bookingICS)
	r.GET("/bookings/:token/reschedule", s.reschedulePage)
	r.POST("/bookings/:token/reschedule", s.rateLimited, s.rescheduleSubmit)
	r.GET("/bookings/:token/cancel", s.cancelPage)
	r.POST("/bookings/:token/cancel", s.rateLimited, s.cancelSubmit)

	// Public JSON API (CONTRACT §5).
	api := r.Group("/api/v1")
	api.GET("/roles", s.apiRoles)
	api.GET("/slots", s.apiSlots)
	api.POST("/bookings", s.rateLimited, s.apiCreateBooking)
	api.GET("/bookings/:token", s.apiBooking)
	api.POST("/bookings/:token/cancel", s.rateLimited, s.apiCancelBooking)
	api.POST("/bookings/:token/reschedule", s.rateLimited, s.apiRescheduleBooking)
}
