package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// unsubscribePage asks the visitor to confirm (GET /u/{token}). It never
// unsubscribes: mail scanners follow every link in an email.
func (s *Server) unsubscribePage(c *gin.Context) {
	l, err := s.store.LeadByUnsubscribeToken(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.chooseLanguage(c, l.Language) // the language of the emails it stops
	title := "unsub_title"
	if l.UnsubscribedAt != nil {
		title = "unsub_done_title"
	}
	s.render(c, http.StatusOK, "public/unsubscribe.html", gin.H{
		"Title": s.lang(c).T(title), "Token": c.Param("token"), "Done": l.UnsubscribedAt != nil,
	})
}

// unsubscribeSubmit unsubscribes at once (POST /u/{token}): the one-click
// post a mail client sends (body List-Unsubscribe=One-Click, RFC 8058) or
// the page's button. It needs no session and no CSRF token, since the key
// in the link is the only credential, and answers 200 with the page.
func (s *Server) unsubscribeSubmit(c *gin.Context) {
	l, err := s.store.Unsubscribe(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.chooseLanguage(c, l.Language)
	s.render(c, http.StatusOK, "public/unsubscribe.html", gin.H{"Title": s.lang(c).T("unsub_done_title"), "Token": c.Param("token"), "Done": true})
}
