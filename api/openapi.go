package api

import (
	_ "embed"
	"net/http"
)

// openAPISpec describes every route of [Server.routes]; a test keeps the
// two equal.
//
//go:embed openapi.json
var openAPISpec []byte

// openAPI is GET /openapi.json.
func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPISpec)
}
