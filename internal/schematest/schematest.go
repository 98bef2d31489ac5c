package schematest

import (
	"bytes"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/empplay/empplay/schema"
)

// Compile compiles the schema doc, named name in error messages, with
// formats asserted (a result's finishedAt must be a date-time).
func Compile(t testing.TB, name string, doc []byte) *jsonschema.Schema {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("%s is not JSON: %v", name, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(name, v); err != nil {
		t.Fatalf("add %s: %v", name, err)
	}
	s, err := c.Compile(name)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return s
}

// CheckResult fails t when raw is not a result that result.schema.json
// accepts.
func CheckResult(t testing.TB, raw []byte) {
	t.Helper()
	s := Compile(t, "result.schema.json", schema.Result())
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("result %s is not JSON: %v", raw, err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("result %s does not match result.schema.json: %v", raw, err)
	}
}
