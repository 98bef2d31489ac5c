package api

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/empplay/empplay/schema"
)

// openAPISpec describes every route of [Server.routes]; a test keeps the
// two equal. Its Job and Result components refer to the wire format's
// schema files (../schema/*.schema.json); [buildOpenAPI] puts the schemas
// themselves in their place.
//
//go:embed openapi.json
var openAPISpec []byte

// wireSchemas are the components of openapi.json that are the queue's
// wire format, with the schema each stands for.
func wireSchemas() map[string][]byte {
	return map[string][]byte{"Job": schema.Job(), "Result": schema.Result()}
}

// buildOpenAPI returns the served description: openapi.json with the Job
// and Result schemas inline, so that one document describes the API.
func buildOpenAPI() ([]byte, error) {
	doc, err := decodeNumbers(openAPISpec)
	if err != nil {
		return nil, fmt.Errorf("read openapi.json: %w", err)
	}
	root, _ := doc.(map[string]any)
	components, _ := root["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	if schemas == nil {
		return nil, fmt.Errorf("openapi.json has no components.schemas")
	}
	for name, b := range wireSchemas() {
		if schemas[name], err = decodeNumbers(b); err != nil {
			return nil, fmt.Errorf("read the %s schema: %w", name, err)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("encode the OpenAPI description: %w", err)
	}
	return buf.Bytes(), nil
}

// decodeNumbers decodes JSON keeping numbers as written (the schemas hold
// bounds such as 9223372036854775807 that a float64 would round).
func decodeNumbers(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// openAPI is GET /openapi.json.
func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.spec)
}
