package api

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/empplay/empplay"
)

// TestOpenAPIMatchesRoutes: every route in openapi.json is served and
// every served route is in openapi.json.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPISpec, &spec); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var inSpec []string
	for p, ops := range spec.Paths {
		for m := range ops {
			inSpec = append(inSpec, strings.ToUpper(m)+" "+p)
		}
	}
	s, err := New(Config{}, nil, nil, http.DefaultClient, nil)
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, r := range s.routes() {
		served = append(served, r.pattern)
	}
	sort.Strings(inSpec)
	sort.Strings(served)
	if strings.Join(inSpec, "\n") != strings.Join(served, "\n") {
		t.Errorf("openapi.json describes\n%s\nthe server serves\n%s", strings.Join(inSpec, "\n"), strings.Join(served, "\n"))
	}
}

func TestStatusOf(t *testing.T) {
	for code, want := range map[string]int{
		"missing_field": 400, "invalid_json": 400, "sketch_error": 422, "no_canvas": 422,
		"render_timeout": 504, "browser_error": 502, "max_attempts": 502,
	} {
		if got := StatusOf(empplay.Code(code)); got != want {
			t.Errorf("StatusOf(%s) = %d; want %d", code, got, want)
		}
	}
}
