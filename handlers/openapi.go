package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

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

// servedOpenAPI converts an OpenAPI description for serving at baseURL:
// its `servers` becomes that one address, so a client generated from the
// served document calls this deployment. The file itself names no host.
func servedOpenAPI(spec []byte, baseURL string) ([]byte, error) {
	file, err := parser.ParseBytes(spec, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("handlers: docs/openapi.yaml: %w", err)
	}
	path, err := yaml.PathString("$.servers")
	if err != nil {
		return nil, err
	}
	// JSON is YAML: the quoted string cannot break the document.
	servers, err := json.Marshal([]map[string]string{{
		"url":         strings.TrimSuffix(baseURL, "/"),
		"description": "This server (its CALLBOOK_BASE_URL).",
	}})
	if err != nil {
		return nil, err
	}
	if err := path.ReplaceWithReader(file, strings.NewReader(string(servers))); err != nil {
		return nil, fmt.Errorf("handlers: docs/openapi.yaml: servers: %w", err)
	}
	return openAPIJSON([]byte(file.String()))
}

// embeddedOpenAPI converts the embedded docs/openapi.yaml. The server calls
// it on the first request for the description, not at start: the conversion
// allocates some 9 MB, which would otherwise add to every replica's peak
// memory for a document few clients fetch. The file is built into the
// binary and the tests convert and check it, so a broken one fails the
// tests rather than a client's request.
func embeddedOpenAPI(baseURL string) ([]byte, error) {
	return servedOpenAPI(docs.OpenAPIYAML(), baseURL)
}

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
