// Package docs holds the API description, docs/openapi.yaml, embedded so
// the binary serves the very file the repository keeps and the tests check.
package docs

import _ "embed"

//go:embed openapi.yaml
var openAPI []byte

// OpenAPIYAML returns a copy of the OpenAPI 3.1 description of /api/v1.
func OpenAPIYAML() []byte { return append([]byte(nil), openAPI...) }
