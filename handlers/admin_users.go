package handlers

import (
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// newUserForm is the add-user form as typed (the password is never shown
// again).
type newUserForm struct {
	Email, Name, Role string
	Host              bool
}

// userRow is one user as the users table shows it.
type userRow struct {
	models.User
	Locked bool // too many failed sign-ins just now
	Tokens int  // live API tokens
}

// adminUsers lists staff users and live API tokens (GET /admin/users).
func (s *Server) adminUsers(c *gin.Context) {
	s.renderUsers(c, http.StatusOK, newUserForm{Role: models.RoleSales}, nil, "")
}

func (s *Server) renderUsers(c *gin.Context, status int, form newUserForm, errs map[string]string, rowErr string) {
	users, err := s.store.ListUsers(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	tokens, err := s.store.ListAPITokens(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	now := s.now()
	live := map[uint]int{}
	for _, t := range tokens {
		live[t.UserID]++
	}
	// Every person is added with a password (this page, the CLI); a user
	// without one is the team's own host, which the store creates so that
	// visitors can book before any coach has hours. It is shown apart.
	var rows, team []userRow
	for _, u := range users {
		r := userRow{User: u, Locked: u.LockedUntil != nil && u.LockedUntil.After(now), Tokens: live[u.ID]}
		if u.PasswordHash == "" {
			team = append(team, r)
			continue
		}
		rows = append(rows, r)
	}
	s.render(c, status, "admin/users.html", gin.H{
		"Title": "Staff users", "Nav": "users", "Users": rows, "TeamHosts": team, "Tokens": tokens, "Form": form, "Errors": errs,
		"RowError": rowErr, "Saved": c.Query("saved"),
	})
}

// adminAddUser creates a staff user (POST /admin/users).
func (s *Server) adminAddUser(c *gin.Context) {
	form := newUserForm{
		Email: strings.TrimSpace(c.PostForm("email")), Name: strings.TrimSpace(c.PostForm("name")),
		Role: c.PostForm("role"), Host: c.PostForm("host") == "on",
	}
	_, err := s.store.CreateUser(c.Request.Context(), models.NewUser{
		Email: form.Email, Name: form.Name, Role: form.Role, Host: form.Host, Password: c.PostForm("password"),
		Actor: models.ActorUser(staffUser(c)),
	})
	var verr *models.ValidationError
	switch {
	case errors.As(err, &verr):
		s.renderUsers(c, http.StatusUnprocessableEntity, form, verr.Fields, "")
	case err != nil:
		s.fail(c, err)
	default:
		c.Redirect(http.StatusSeeOther, "/admin/users?saved=added")
	}
}

// adminUpdateUser saves one row of the users table: name, role, host and
// whether the account is active (POST /admin/users/:id).
func (s *Server) adminUpdateUser(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	var ch models.UserChange
	if v, ok := c.GetPostForm("name"); ok {
		ch.Name = &v
	}
	if v, ok := c.GetPostForm("role"); ok {
		ch.Role = &v
	}
	if v, ok := c.GetPostForm("host"); ok {
		host := v == "yes"
		ch.Host = &host
	}
	if v, ok := c.GetPostForm("active"); ok {
		disabled := v == "no"
		ch.Disabled = &disabled
	}
	_, err = s.store.UpdateUser(c.Request.Context(), id, ch, staffUser(c))
	s.userRowSaved(c, err, "updated")
}

// userRowSaved answers a change to one row of the users table: the table
// again with what was wrong, or back to it saying what was saved.
func (s *Server) userRowSaved(c *gin.Context, err error, saved string) {
	var verr *models.ValidationError
	switch {
	case errors.As(err, &verr):
		s.renderUsers(c, http.StatusUnprocessableEntity, newUserForm{Role: models.RoleSales}, nil, rowError(verr))
	case err != nil:
		s.fail(c, err)
	default:
		c.Redirect(http.StatusSeeOther, "/admin/users?saved="+saved)
	}
}

// adminSetPassword gives a staff user a new password and signs them out
// everywhere; the form must say whether their API tokens keep working
// ("revoke_tokens" no) or are revoked ("yes") (POST /admin/users/:id/password).
func (s *Server) adminSetPassword(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	choice := c.PostForm("revoke_tokens")
	if choice != "yes" && choice != "no" {
		s.renderUsers(c, http.StatusUnprocessableEntity, newUserForm{Role: models.RoleSales}, nil,
			"Not saved — say whether the user's API tokens should keep working or be revoked.")
		return
	}
	revoke := choice == "yes"
	_, err = s.store.SetUserPassword(c.Request.Context(), id, models.PasswordChange{
		Password: c.PostForm("password"), RevokeTokens: revoke, Actor: models.ActorUser(staffUser(c)),
	})
	saved := "password"
	if revoke {
		saved = "password-tokens"
	}
	s.userRowSaved(c, err, saved)
}

// adminRevokeToken stops an API token from working (POST /admin/tokens/:id/revoke).
func (s *Server) adminRevokeToken(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.RevokeAPIToken(c.Request.Context(), id, staffUser(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/users?saved=revoked")
}

// rowError says in one sentence what was wrong with a users-table change.
func rowError(verr *models.ValidationError) string {
	keys := make([]string, 0, len(verr.Fields))
	for k := range verr.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + verr.Fields[k]
	}
	return "Not saved — " + strings.Join(parts, "; ") + "."
}
