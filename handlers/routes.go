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
	r.Use(s.recoverPanics, s.metrics.observe, s.logRequests, s.securityHeaders, s.limitBody, s.crossOrigin(), s.guardInput)
	r.NoRoute(func(c *gin.Context) { s.fail(c, errRouteNotFound) })

	static, _ := fs.Sub(web.FS, "static")
	r.StaticFS("/static", filesOnly{http.FS(static)})
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.requireMetricsToken, s.metricsHandler())

	// Public pages (docs/API.md, Web pages).
	r.GET("/", s.index)
	r.GET("/roles/:slug", s.rolePage)
	r.GET("/roles/:slug/book", s.bookPage)
	r.POST("/roles/:slug/book", s.rateLimited, s.bookSubmit)
	r.GET("/l/:token", s.linkPage) // a private booking link
	r.GET("/bookings/:token", s.bookingPage)
	r.GET("/bookings/:token/invite.ics", s.bookingICS)
	r.GET("/calendars/:token", s.hostFeed) // {token}.ics, a host's private feed
	r.GET("/bookings/:token/reschedule", s.reschedulePage)
	r.POST("/bookings/:token/reschedule", s.rateLimited, s.rescheduleSubmit)
	r.GET("/bookings/:token/cancel", s.cancelPage)
	r.POST("/bookings/:token/cancel", s.rateLimited, s.cancelSubmit)
	// One-click unsubscribe from follow-up emails: GET shows a button,
	// POST (RFC 8058, no session or CSRF token) unsubscribes.
	r.GET("/u/:token", s.unsubscribePage)
	r.POST("/u/:token", s.unsubscribeSubmit)

	// The booking flow for frames on other sites: the same pages without
	// the site's header and footer, framable by CALLBOOK_EMBED_ORIGINS.
	embed := r.Group("/embed", s.embedded)
	embed.GET("/roles/:slug/book", s.bookPage)
	embed.POST("/roles/:slug/book", s.rateLimited, s.bookSubmit)
	embed.GET("/bookings/:token", s.bookingPage)

	// Public JSON API (docs/openapi.yaml).
	api := r.Group("/api/v1")
	api.GET("/openapi.json", s.apiOpenAPI)
	api.GET("/roles", s.apiRoles)
	api.GET("/roles/:slug", s.apiRole)
	api.GET("/slots", s.apiSlots)
	api.POST("/bookings", s.rateLimited, s.apiCreateBooking)
	api.GET("/bookings/:token", s.apiBooking)
	api.POST("/bookings/:token/cancel", s.rateLimited, s.apiCancelBooking)
	api.POST("/bookings/:token/reschedule", s.rateLimited, s.apiRescheduleBooking)

	// Staff area. requireStaff signs the user in (session cookie
	// or Bearer token): pages without one get a 303 to /admin/login, the
	// API a 401. requireAdmin, always after requireStaff, gives sales 403.
	r.GET("/admin/login", s.loginPage)
	r.POST("/admin/login", s.loginSubmit)
	r.GET("/admin/login/code", s.codePage)
	r.POST("/admin/login/code", s.codeSubmit)
	r.POST("/admin/login/passkey/options", s.rateLimited, s.passkeyLoginOptions)
	r.POST("/admin/login/passkey", s.passkeyLogin)
	r.GET("/admin/oidc/login", s.ssoStart)       // single sign-on: off to the identity provider
	r.GET("/admin/oidc/callback", s.ssoCallback) // and back
	staff := r.Group("/admin", s.requireStaff)
	staff.POST("/logout", s.logout)
	// Second factors: the one page a user who must set one up and has
	// none may use (with sign-out).
	staff.GET("/security", s.securityPage)
	staff.POST("/security/totp", s.securityBeginTOTP)
	staff.POST("/security/totp/confirm", s.securityConfirmTOTP)
	staff.POST("/security/totp/remove", s.securityRemoveTOTP)
	staff.POST("/security/recovery-codes", s.securityNewRecoveryCodes)
	staff.POST("/security/passkeys/options", s.passkeyAddOptions)
	staff.POST("/security/passkeys", s.passkeyAdd)
	staff.POST("/security/passkeys/:id", s.passkeyRename)
	staff.POST("/security/passkeys/:id/remove", s.passkeyRemove)
	staff.POST("/security/password", s.securityChangePassword)
	staff.POST("/security/sessions/end-others", s.securityEndOtherSessions)
	staff.POST("/security/sessions/:id/end", s.securityEndSession)
	staff.GET("/leads", s.adminLeads)
	staff.GET("/leads/:id", s.adminLead)
	staff.POST("/leads/:id", s.adminUpdateLead)
	staff.POST("/leads/:id/notes", s.adminAddNote)
	staff.POST("/leads/:id/tasks", s.adminAddTask)
	staff.POST("/leads/:id/tasks/:task_id", s.adminUpdateTask)
	staff.GET("/tasks", s.adminMyTasks)
	staff.GET("/calls", s.adminCalls)
	staff.POST("/bookings/:id/outcome", s.adminSetOutcome)
	staff.POST("/bookings/:id/host", s.adminReassignBooking)
	staff.POST("/leads/:id/links", s.adminSendLink)
	admin := staff.Group("", s.requireAdmin)
	admin.GET("/leads/:id/erase", s.adminEraseConfirm)
	admin.POST("/leads/:id/erase", s.adminErase)
	admin.GET("/availability", s.adminAvailability)
	admin.POST("/availability", s.adminSaveAvailability)
	admin.GET("/users", s.adminUsers)
	admin.POST("/users", s.adminAddUser)
	admin.POST("/users/:id", s.adminUpdateUser)
	admin.POST("/users/:id/password", s.adminSetPassword)
	admin.POST("/users/:id/sessions/end", s.adminEndUserSessions)
	admin.POST("/tokens/:id/revoke", s.adminRevokeToken)
	admin.GET("/mail", s.adminMail)
	admin.GET("/mail/:id", s.adminMailMessage)
	admin.GET("/mail/:id/html", s.adminMailHTML)
	admin.POST("/mail/:id/retry", s.adminRetryMail)
	admin.POST("/hosts/:id/calendars", s.adminHostCalendars)
	admin.POST("/hosts/:id/calendars/discover", s.adminDiscoverCalendars)
	staff.POST("/hosts/:id/feed", s.adminReplaceFeed)

	// Staff JSON API (docs/openapi.yaml), same middleware.
	staffAPI := r.Group("/api/v1/admin", s.requireStaff)
	staffAPI.GET("/leads", s.apiLeads)
	staffAPI.GET("/leads/:id", s.apiLead)
	staffAPI.PATCH("/leads/:id", s.apiUpdateLead)
	staffAPI.POST("/leads/:id/notes", s.apiAddNote)
	staffAPI.POST("/leads/:id/tasks", s.apiAddTask)
	staffAPI.PATCH("/leads/:id/tasks/:task_id", s.apiUpdateTask)
	staffAPI.GET("/tasks", s.apiTasks)
	staffAPI.GET("/bookings", s.apiStaffBookings)
	staffAPI.POST("/bookings/:id/outcome", s.apiSetOutcome)
	staffAPI.POST("/bookings/:id/host", s.apiReassignBooking)
	staffAPI.POST("/links", s.apiCreateLink)
	staffAPI.GET("/links", s.apiLinks)
	staffAPI.DELETE("/links/:id", s.apiDeleteLink)
	staffAPI.GET("/availability", s.apiAvailability)
	adminAPI := staffAPI.Group("", s.requireAdmin)
	adminAPI.DELETE("/leads/:id", s.apiEraseLead)
	adminAPI.PUT("/availability", s.apiSetAvailability)
	adminAPI.GET("/outbox", s.apiOutbox)
	adminAPI.GET("/users", s.apiUsers)
	adminAPI.GET("/hosts/:id/calendars", s.apiHostCalendars)
	adminAPI.PUT("/hosts/:id/calendars", s.apiSetHostCalendars)
	adminAPI.POST("/hosts/:id/calendars/discover", s.apiDiscoverCalendars)

	// Dashboard, lead exports and figures by target title.
	staff.GET("", s.dashboard)
	admin.GET("/export", s.adminExport)
	staffAPI.GET("/stats", s.apiStats)
	adminAPI.GET("/leads/export.csv", s.apiExportLeads)

	// Webhooks: signed change notifications to the firm's other tools.
	admin.GET("/webhooks", s.adminWebhooks)
	admin.POST("/webhooks", s.adminAddWebhook)
	admin.GET("/webhooks/:id", s.adminWebhook)
	admin.POST("/webhooks/:id/delete", s.adminDeleteWebhook)
	admin.POST("/webhooks/:id/enable", s.adminEnableWebhook)
	admin.POST("/webhooks/:id/deliveries/:delivery_id/retry", s.adminRetryDelivery)
	adminAPI.POST("/webhooks", s.apiCreateWebhook)
	adminAPI.GET("/webhooks", s.apiWebhooks)
	adminAPI.DELETE("/webhooks/:id", s.apiDeleteWebhook)
	adminAPI.GET("/webhooks/:id/deliveries", s.apiWebhookDeliveries)
	adminAPI.POST("/webhooks/:id/deliveries/:delivery_id/retry", s.apiRetryDelivery)

	// The audit log: read only, for admins.
	admin.GET("/audit", s.adminAudit)
	admin.GET("/settings", s.adminSettings)
	adminAPI.GET("/audit", s.apiAudit)
	adminAPI.GET("/audit/export.csv", s.apiAuditCSV)
}
