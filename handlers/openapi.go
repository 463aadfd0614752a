package handlers

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/goccy/go-yaml"

	"github.com/callbook/callbook/docs"
)

// openAPIJSON converts an OpenAPI description from YAML to JSON, keeping
// the order of its keys.
func openAPIJSON(spec []byte) ([]byte, error) {
	out, err := yaml.YAMLToJSON(spec)
	if err != nil {
		return nil, fmt.Errorf("handlers: docs/openapi.yaml: %w", err)
	}
	return out, nil
}

// embeddedOpenAPI converts the embedded docs/openapi.yaml. The server calls
// it on the first request for the description, not at start: the conversion
// allocates some 9 MB, which would otherwise add to every replica's peak
// memory for a document few clients fetch. The file is built into the
// binary and the tests convert and check it, so a broken one fails the
// tests rather than a client's request.
func embeddedOpenAPI() ([]byte, error) { return openAPIJSON(docs.OpenAPIYAML()) }

// apiOpenAPI serves the API description (GET /api/v1/openapi.json).
func (s *Server) apiOpenAPI(c *gin.Context) {
	doc, err := s.openAPI()
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/json; charset=utf-8", doc)
}
