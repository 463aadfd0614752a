package handlers

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/goccy/go-yaml"

	"github.com/callbook/callbook/docs"
)

// openAPIJSON converts the embedded API description to JSON once, at start,
// so a broken docs/openapi.yaml stops the server instead of a client.
func openAPIJSON() ([]byte, error) {
	out, err := yaml.YAMLToJSON(docs.OpenAPIYAML())
	if err != nil {
		return nil, fmt.Errorf("handlers: docs/openapi.yaml: %w", err)
	}
	return out, nil
}

// apiOpenAPI serves the API description (GET /api/v1/openapi.json).
func (s *Server) apiOpenAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/json; charset=utf-8", s.openAPI)
}
