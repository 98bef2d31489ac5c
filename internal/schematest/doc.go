// Package schematest compiles the wire schemas (package schema) for tests
// and checks payloads and results against them.
package schematest
