package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// healthz answers while the process runs.
func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

// readyz answers 200 only when the database answers and is fully migrated.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "database unreachable"})
		return
	}
	if pending, err := s.store.MigrationsPending(ctx); err != nil || pending {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "migrations pending"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
