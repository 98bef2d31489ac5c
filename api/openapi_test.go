package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/queue"
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

// fakeQueue answers every job at once with a successful result.
type fakeQueue struct{}

func (fakeQueue) Submit(_ context.Context, raw []byte) (string, error) {
	return empplay.IDFor(raw), nil
}

func (fakeQueue) Wait(_ context.Context, id string) (*empplay.Result, error) {
	return &empplay.Result{Success: true, ID: id, Src: "http://127.0.0.1:10000/devstoreaccount1/examples/demo/x.png", MimeType: "image/png",
		Attempts: 1, Type: empplay.TypeP5, Bytes: 10, Width: 800, Height: 800, Trigger: "draw",
		Timings: empplay.Timings{RenderMs: 5, TotalMs: 6}, FinishedAt: time.Now().UTC()}, nil
}

func (fakeQueue) Result(context.Context, string) (*empplay.Result, error) {
	return nil, queue.ErrNoResult
}
func (fakeQueue) Progress(context.Context, string) (*queue.Progress, error) { return nil, nil }
func (fakeQueue) Output(context.Context, string) ([]byte, error)            { return nil, queue.ErrNoResult }
func (fakeQueue) Owns(key string) bool                                      { return queue.NewKeys("").Owns(key) }

// serve runs one request through the server's routes.
func serve(t *testing.T, s *Server, method, target string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	s.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(method, target, bytes.NewReader(body)))
	return rec
}

// TestOpenAPIWireSchemas: openapi.json refers to the wire schemas' files,
// the served description carries them inline, /v1/jobs takes a Job and
// answers a Result, and the handler accepts exactly the jobs the Job
// schema accepts and answers results the Result schema accepts.
func TestOpenAPIWireSchemas(t *testing.T) {
	var file struct {
		Components struct {
			Schemas map[string]struct {
				Ref string `json:"$ref"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPISpec, &file); err != nil {
		t.Fatal(err)
	}
	for name, want := range wireSchemas() {
		ref := file.Components.Schemas[name].Ref
		b, err := os.ReadFile(ref) // relative to api/, as the reference is
		if err != nil || !bytes.Equal(b, want) {
			t.Errorf("openapi.json's %s refers to %q, which is not the embedded schema: %v", name, ref, err)
		}
	}

	s, err := New(Config{}, fakeQueue{}, nil, http.DefaultClient, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	rec := serve(t, s, "GET", "/openapi.json", nil)
	served, err := decodeNumbers(rec.Body.Bytes())
	if rec.Code != http.StatusOK || err != nil {
		t.Fatalf("GET /openapi.json: %d %v", rec.Code, err)
	}
	at := func(v any, path ...string) any {
		for _, p := range path {
			m, _ := v.(map[string]any)
			v = m[p]
		}
		return v
	}
	compiled := map[string]*jsonschema.Schema{}
	for name, b := range wireSchemas() {
		want, _ := decodeNumbers(b)
		got := at(served, "components", "schemas", name)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("served components.schemas.%s is not schema/%s.schema.json", name, strings.ToLower(name))
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource(name+".json", got); err != nil {
			t.Fatal(err)
		}
		if compiled[name], err = c.Compile(name + ".json"); err != nil {
			t.Fatalf("compile the served %s schema: %v", name, err)
		}
	}
	for _, ref := range []struct {
		path []string
		want string
	}{
		{[]string{"/v1/jobs", "post", "requestBody", "content", "application/json", "schema", "$ref"}, "#/components/schemas/Job"},
		{[]string{"/v1/jobs", "post", "responses", "200", "content", "application/json", "schema", "$ref"}, "#/components/schemas/Result"},
		{[]string{"/v1/jobs/{id}", "get", "responses", "200", "content", "application/json", "schema", "$ref"}, "#/components/schemas/Result"},
	} {
		if got := at(served, append([]string{"paths"}, ref.path...)...); got != ref.want {
			t.Errorf("paths.%s is %v; want %s", strings.Join(ref.path, "."), got, ref.want)
		}
	}

	bodies := map[string][]byte{
		"not an object":   []byte(`[1]`),
		"no size":         []byte(`{"type":"p5","code":"x","bucket":"renders","filename":"x.png"}`),
		"bad bucket":      []byte(`{"type":"p5","code":"x","width":10,"height":10,"bucket":"Renders","filename":"x.png"}`),
		"js without page": []byte(`{"type":"js","width":10,"height":10,"bucket":"renders","filename":"x.png"}`),
		"minimal js":      []byte(`{"type":"js","html":"<p>hi</p>","width":10,"height":10,"bucket":"renders","filename":"x.png"}`),
	}
	examples, _ := filepath.Glob("../examples/*.json")
	if len(examples) == 0 {
		t.Fatal("no example jobs in ../examples")
	}
	for _, p := range examples {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		bodies[filepath.Base(p)] = b
	}
	for name, body := range bodies {
		doc, err := decodeNumbers(body)
		if err != nil {
			t.Fatal(err)
		}
		schemaErr := compiled["Job"].Validate(doc)
		rec := serve(t, s, "POST", "/v1/jobs?wait=5s", body)
		switch {
		case schemaErr == nil && rec.Code != http.StatusOK:
			t.Errorf("%s: the Job schema accepts it, POST /v1/jobs answers %d %s", name, rec.Code, rec.Body)
		case schemaErr != nil && rec.Code != http.StatusBadRequest:
			t.Errorf("%s: the Job schema refuses it (%v), POST /v1/jobs answers %d; want 400", name, schemaErr, rec.Code)
		case rec.Code == http.StatusOK:
			res, err := decodeNumbers(rec.Body.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if err := compiled["Result"].Validate(res); err != nil {
				t.Errorf("%s: the answer %s is not a Result: %v", name, rec.Body, err)
			}
		}
	}
}
