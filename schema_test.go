package empplay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/empplay/empplay/internal/schematest"
	"github.com/empplay/empplay/schema"
)

// This file keeps schema/job.schema.json and schema/result.schema.json in
// step with the Go code: the job schema must accept and refuse what Parse
// accepts and refuses, and the result schema must describe every Result
// the workers write.

// validate applies s to a payload the way any JSON Schema validator must:
// the bytes are first read as one JSON document, which RFC 8259 requires
// to be UTF-8; a payload that is not a JSON document is refused before
// the schema sees it.
func validate(s *jsonschema.Schema, raw []byte) error {
	if !utf8.Valid(raw) {
		return fmt.Errorf("not a JSON document: not UTF-8")
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("not a JSON document: %w", err)
	}
	return s.Validate(v)
}

// schemaGap is a payload on which the job schema and Parse disagree, for a
// reason the schema's description lists (the number in gap). Each is
// asserted: when Parse or the schema changes so that they agree, the test
// says so and the entry (and the description) must go.
type schemaGap struct {
	name        string // a row of parseCases, or a payload of its own
	raw         string // empty for a row of parseCases
	parseAccept bool   // what Parse does; the schema does the opposite
	gap         string // why, as the schema's description says
}

func schemaGaps() []schemaGap {
	const ok = `"type":"p5","code":"x","width":10,"height":10,"bucket":"renders","filename":"x.png"`
	const vid = `"type":"video","code":"x","duration":2,"fps":30,"width":10,"height":10,"bucket":"renders","filename":"v.mp4"`
	return []schemaGap{
		// Rows of parseCases.
		{name: "scaled output too big", gap: "(5) width x deviceScaleFactor is a product"},
		{name: "video too many frames", gap: "(4) frames = duration x fps is a product"},
		{name: "video under one frame", gap: "(4) frames = duration x fps is a product"},
		{name: "gif too many frames", gap: "(4) frames = duration x fps is a product"},
		{name: "video too big", gap: "(4) pixels = width x height is a product"},
		// Payloads of their own, one per remaining gap.
		{"payload over 8 MiB", `{` + ok + `,"padding":"` + strings.Repeat("x", MaxJobBytes) + `"}`, false, "(1) the payload's size in bytes"},
		{"replyTo over 512 bytes in 200 characters", `{` + ok + `,"replyTo":"` + strings.Repeat("€", 200) + `"}`, false, "(2) limits in bytes, maxLength in characters"},
		{"prefix and filename over 1024 bytes together", `{` + ok + `,"prefix":"` + strings.Repeat("p", 600) + `","filename":"` + strings.Repeat("f", 600) + `"}`, false, "(3) a sum of two lengths"},
		{"width written as 10.0", `{` + ok + `,"width":10.0}`, false, "(6) integers written with a fraction"},
		{"height written as 1e1", `{` + ok + `,"height":1e1}`, false, "(6) integers written with an exponent"},
		{"type given twice, first as a number", `{"type":5,` + ok + `}`, false, "(7) the parser refuses a wrongly typed earlier occurrence"},
		{"width given twice, then null", `{` + ok + `,"width":null}`, true, "(7) the parser ignores a later null"},
		{"field name in another case", `{"TYPE":"p5","code":"x","width":10,"height":10,"bucket":"renders","filename":"x.png"}`, true, "(8) case variants of field names"},
		{"field name with the Kelvin sign", `{` + ok + `,"buc\u212aet":"renders"}`, true, "(8) case variants of field names"},
		{"fps that rounds to 30 as a float64", `{` + vid + `,"fps":30.0000000000000001}`, true, "(9) numbers checked as written"},
		{"estimatedGPUMemory that rounds to the largest float64", `{` + ok + `,"estimatedGPUMemory":1.7976931348623158e308}`, true, "(9) numbers checked as written"},
		{"asset source with a broken %-escape", `{` + ok + `,"assets":{"a.png":"https://cdn.example.com/a%zz.png"}}`, false, "(10) URLs the URL parser refuses"},
		{"asset source with a port that is not a number", `{` + ok + `,"assets":{"a.png":"https://cdn.example.com:x/a.png"}}`, false, "(10) URLs the URL parser refuses"},
	}
}

// schemaAgreement is every payload the job schema is checked on: each row
// of parseCases and each example job, with Parse's verdict.
func schemaAgreement(t *testing.T) []parseCase {
	t.Helper()
	cases := parseCases()
	examples, err := filepath.Glob("examples/*.json")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no example jobs in examples/: %v", err)
	}
	for _, p := range examples {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, parseCase{name: "example " + filepath.Base(p), raw: string(b)})
	}
	return cases
}

// TestJobSchemaAgreesWithParse: every payload of the parser's table and
// every example job is accepted by job.schema.json exactly when Parse
// accepts it, but for the listed gaps, where they disagree as listed.
func TestJobSchemaAgreesWithParse(t *testing.T) {
	t.Parallel()
	s := schematest.Compile(t, "job.schema.json", schema.Job())
	gaps := map[string]schemaGap{}
	for _, g := range schemaGaps() {
		gaps[g.name] = g
	}
	check := func(t *testing.T, raw string, g schemaGap, listed bool) {
		_, perr := Parse([]byte(raw))
		serr := validate(s, []byte(raw))
		switch {
		case listed && (perr == nil) != g.parseAccept:
			t.Errorf("Parse: %v; the gap %q says it accepts: %v", perr, g.gap, g.parseAccept)
		case listed && (serr == nil) == g.parseAccept:
			t.Errorf("the schema agrees with Parse (schema: %v, Parse: %v), yet the payload is listed as the gap %q: drop it from schemaGaps and the schema's description", serr, perr, g.gap)
		case !listed && perr == nil && serr != nil:
			t.Errorf("Parse accepts, the schema refuses: %v", serr)
		case !listed && perr != nil && serr == nil:
			t.Errorf("Parse refuses (%v), the schema accepts", perr)
		}
	}
	seen := map[string]bool{}
	for _, tc := range schemaAgreement(t) {
		g, listed := gaps[tc.name]
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if listed && g.raw != "" {
				t.Fatalf("gap %q names a row of the parser's table and brings a payload too", tc.name)
			}
			check(t, tc.raw, g, listed)
		})
	}
	for _, g := range schemaGaps() {
		if g.raw == "" {
			if !seen[g.name] {
				t.Errorf("gap %q names no row of parseCases", g.name)
			}
			continue
		}
		t.Run("gap "+g.name, func(t *testing.T) {
			t.Parallel()
			check(t, g.raw, g, true)
		})
	}
}

// TestJobSchemaNullMeansAbsent: null is accepted where Parse reads it as
// an absent optional field, and refused for required ones.
func TestJobSchemaNullMeansAbsent(t *testing.T) {
	t.Parallel()
	s := schematest.Compile(t, "job.schema.json", schema.Job())
	var props struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	}
	if err := json.Unmarshal(schema.Job(), &props); err != nil {
		t.Fatal(err)
	}
	for name := range props.Properties {
		job := map[string]any{"type": "p5", "code": "x", "width": 10, "height": 10, "bucket": "renders", "filename": "x.png"}
		job[name] = nil
		raw, err := json.Marshal(job)
		if err != nil {
			t.Fatal(err)
		}
		_, perr := Parse(raw)
		serr := validate(s, raw)
		if (perr == nil) != (serr == nil) {
			t.Errorf("%s null: Parse %v, schema %v", name, perr, serr)
		}
		if required := slices.Contains(props.Required, name) || name == "code"; required == (perr == nil) {
			t.Errorf("%s null: Parse %v; want it refused exactly when the field is required", name, perr)
		}
	}
}

// jsonNames returns the JSON names of t's fields.
func jsonNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// keys returns the sorted keys of m.
func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// foldVariants is the pattern of every name that Go's encoding/json would
// match to one of names: each letter stands for its whole case-folding
// orbit (k for K, k and the Kelvin sign; s for S, s and the long s).
func foldVariants(names []string) string {
	names = slices.Sorted(slices.Values(names))
	alts := make([]string, 0, len(names))
	for _, n := range names {
		var b strings.Builder
		for _, c := range n {
			orbit := []rune{c}
			for r := unicode.SimpleFold(c); r != c; r = unicode.SimpleFold(r) {
				orbit = append(orbit, r)
			}
			if len(orbit) == 1 {
				b.WriteRune(c)
				continue
			}
			slices.Sort(orbit)
			b.WriteString("[" + string(orbit) + "]")
		}
		alts = append(alts, b.String())
	}
	return "^(?:" + strings.Join(alts, "|") + ")$"
}

// TestJobSchemaMatchesJob: the schema names exactly the fields of Job, its
// name patterns and
// character classes are the ones Go's rules give.
func TestJobSchemaMatchesJob(t *testing.T) {
	t.Parallel()
	type nameRule struct {
		AnyOf []struct {
			Enum []string `json:"enum"`
			Not  struct {
				Pattern string `json:"pattern"`
			} `json:"not"`
		} `json:"anyOf"`
	}
	var doc struct {
		PropertyNames nameRule                   `json:"propertyNames"`
		Properties    map[string]json.RawMessage `json:"properties"`
		AllOf         []struct {
			Then struct {
				Properties struct {
					Code struct {
						Pattern string `json:"pattern"`
					} `json:"code"`
				} `json:"properties"`
			} `json:"then"`
		} `json:"allOf"`
	}
	if err := json.Unmarshal(schema.Job(), &doc); err != nil {
		t.Fatal(err)
	}
	want := jsonNames(reflect.TypeFor[Job]())
	sort.Strings(want)
	if got := keys(doc.Properties); !slices.Equal(got, want) {
		t.Errorf("job schema properties\n%v\nJob's JSON fields\n%v", got, want)
	}
	checkNames := func(what string, r nameRule, names []string) {
		if len(r.AnyOf) != 2 {
			t.Fatalf("%s propertyNames: want anyOf [enum, not pattern]", what)
		}
		if got := slices.Sorted(slices.Values(r.AnyOf[0].Enum)); !slices.Equal(got, names) {
			t.Errorf("%s propertyNames enum %v; want %v", what, got, names)
		}
		if got, want := r.AnyOf[1].Not.Pattern, foldVariants(names); got != want {
			t.Errorf("%s propertyNames pattern\n%q\nwant\n%q", what, got, want)
		}
	}
	checkNames("job", doc.PropertyNames, want)

	var ctx struct {
		AnyOf []struct {
			PropertyNames nameRule                   `json:"propertyNames"`
			Properties    map[string]json.RawMessage `json:"properties"`
		} `json:"anyOf"`
	}
	if err := json.Unmarshal(doc.Properties["context"], &ctx); err != nil || len(ctx.AnyOf) != 2 {
		t.Fatalf("context: want anyOf [null, object]: %v", err)
	}
	ctxNames := jsonNames(reflect.TypeFor[SketchContext]())
	if got := keys(ctx.AnyOf[1].Properties); !slices.Equal(got, ctxNames) {
		t.Errorf("context properties %v; SketchContext's JSON fields %v", got, ctxNames)
	}
	checkNames("context", ctx.AnyOf[1].PropertyNames, ctxNames)

	// "code" must hold a character strings.TrimSpace keeps.
	var spaces []rune
	for r := range rune(unicode.MaxRune + 1) {
		if unicode.IsSpace(r) {
			spaces = append(spaces, r)
		}
	}
	var cls strings.Builder // runs of three or more as ranges
	for i := 0; i < len(spaces); i++ {
		j := i
		for j+1 < len(spaces) && spaces[j+1] == spaces[j]+1 {
			j++
		}
		if j-i >= 2 {
			cls.WriteString(string(spaces[i]) + "-" + string(spaces[j]))
			i = j
			continue
		}
		cls.WriteRune(spaces[i])
	}
	if got, want := doc.AllOf[0].Then.Properties.Code.Pattern, "[^"+cls.String()+"]"; got != want {
		t.Errorf("code pattern %q; want %q (the complement of unicode.IsSpace)", got, want)
	}
	// The path patterns spell control characters as \x00-\x1f\x7f-\x9f.
	for r := range rune(unicode.MaxRune + 1) {
		if unicode.IsControl(r) != (r <= 0x1f || (r >= 0x7f && r <= 0x9f)) {
			t.Fatalf("unicode.IsControl(%U) is %v; the path patterns assume otherwise", r, unicode.IsControl(r))
		}
	}
}

// codeConstants returns the values of every constant of type Code
// (empplay.Code) declared in the repository's Go code, tests excluded.
func codeConstants(t *testing.T) []string {
	t.Helper()
	var codes []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				v := spec.(*ast.ValueSpec)
				typ := ""
				switch x := v.Type.(type) {
				case *ast.Ident:
					typ = x.Name
				case *ast.SelectorExpr:
					typ = fmt.Sprint(x.X) + "." + x.Sel.Name
				}
				if typ != "Code" && typ != "empplay.Code" {
					continue
				}
				for _, val := range v.Values {
					if lit, ok := val.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						codes = append(codes, s)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(codes)
	return codes
}

// fullResult has every field of Result set; TestResultSchema checks that
// none is left zero, so a new field must be added here (and to the
// schema).
func fullResult() Result {
	return Result{
		Success: true, Src: "http://127.0.0.1:10000/devstoreaccount1/renders/a/x.png", HTMLSrc: "http://127.0.0.1:10000/devstoreaccount1/renders/a/x.html",
		MimeType: "image/png", Error: "none", ID: "job-1", ErrorCode: CodeSketchError, Retryable: true, Attempts: 2, Type: TypeP5,
		Worker: "host:1:abcdef", Bytes: 4821, SHA256: strings.Repeat("ab", 32), Inline: true, Width: 800, Height: 600,
		Trigger: "draw", TriggerMs: 61.2, Renderer: "ANGLE (NVIDIA)", Blank: true, Warnings: []string{"TypeError: x"},
		PosterSrc: "http://127.0.0.1:10000/devstoreaccount1/renders/a/v.png", Duration: 2, Frames: 60, Frame: 12,
		Timings:    Timings{QueuedMs: 1, RenderMs: 812.4, UploadMs: 6.1, VerifyMs: 2.3, TotalMs: 823.9},
		FinishedAt: time.Date(2026, 11, 29, 7, 0, 0, 0, time.UTC),
		// Never marshalled: checked below.
		Cause: "dial tcp 10.0.0.5:6379: connect: connection refused",
	}
}

// TestResultSchema: result.schema.json names exactly Result's fields and
// the error codes the code declares, accepts every result the workers
// write, and refuses malformed ones.
func TestResultSchema(t *testing.T) {
	t.Parallel()
	s := schematest.Compile(t, "result.schema.json", schema.Result())
	var doc struct {
		Properties map[string]struct {
			Enum       []string                   `json:"enum"`
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(schema.Result(), &doc); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(doc.Properties), jsonNames(reflect.TypeFor[Result]()); !slices.Equal(got, want) {
		t.Errorf("result schema properties\n%v\nResult's JSON fields\n%v", got, want)
	}
	if got, want := keys(doc.Properties["timings"].Properties), jsonNames(reflect.TypeFor[Timings]()); !slices.Equal(got, want) {
		t.Errorf("timings properties %v; Timings' JSON fields %v", got, want)
	}
	if got, want := slices.Sorted(slices.Values(doc.Properties["errorCode"].Enum)), codeConstants(t); !slices.Equal(got, want) {
		t.Errorf("errorCode enum\n%v\nCode constants in the Go code\n%v", got, want)
	}

	full := fullResult()
	v := reflect.ValueOf(full)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("fullResult leaves %s zero; set it so the schema is checked on it", v.Type().Field(i).Name)
		}
	}
	results := map[string][]byte{}
	add := func(name string, r *Result) {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		results[name] = b
	}
	add("every field", &full)
	if strings.Contains(string(results["every field"]), full.Cause) {
		t.Errorf("the result's JSON carries its Cause, which is for the log only: %s", results["every field"])
	}
	add("zero timings", &Result{Success: true, ID: "x", Src: "http://cdn/x.png"})
	for _, tc := range parseCases() {
		if _, err := Parse([]byte(tc.raw)); err != nil {
			add("refused: "+tc.name, Failed(IDFor([]byte(tc.raw)), err))
		}
	}
	add("transient", Failed("x", Transient(CodeStorageError, fmt.Errorf("upload: connection reset"))))
	add("unclassified", Failed("x", fmt.Errorf("boom")))
	// What queue's Lua script writes when a job runs out of attempts.
	results["max_attempts from the queue"] = []byte(`{"success":false,"id":"9f86","error":"the job was claimed 3 times without finishing","errorCode":"max_attempts","attempts":3}`)
	for name, b := range results {
		if err := validate(s, b); err != nil {
			t.Errorf("%s: %s\nrefused: %v", name, b, err)
		}
	}

	for name, raw := range map[string]string{
		"no id":                 `{"success":true}`,
		"success not a boolean": `{"success":"yes","id":"x"}`,
		"failed without a code": `{"success":false,"id":"x","error":"boom"}`,
		"unknown error code":    `{"success":false,"id":"x","error":"boom","errorCode":"oops"}`,
		"finishedAt not a time": `{"success":true,"id":"x","finishedAt":"yesterday"}`,
		"timings without total": `{"success":true,"id":"x","timings":{"renderMs":3}}`,
		"sha256 not hex":        `{"success":true,"id":"x","sha256":"xyz"}`,
	} {
		if validate(s, []byte(raw)) == nil {
			t.Errorf("%s: %s accepted; want refused", name, raw)
		}
	}
}

// TestJobSchemaAgreesWithParseOnMutations goes beyond the table: it sets
// one to three fields of valid p5, js and video jobs to values drawn from
// a pool of edge values (or drops them), and requires the schema and
// Parse to agree on every payload but those in the gaps about products
// ((4) and (5)). Names in another case, where the schema is stricter by
// design, are left out of the draw.
func TestJobSchemaAgreesWithParseOnMutations(t *testing.T) {
	t.Parallel()
	s := schematest.Compile(t, "job.schema.json", schema.Job())
	pool := []any{nil, "", "x", " ", "\u3000", "\u0085x", "a b", "a\\b", "#c", "p5", "js", "video", "a/b", "/a", "..", ".", "a//b", "a/",
		"renders", "Renders", "ab", "gif", "mp4", "webm", "avi", "png", "html", "both", "1", "2", "3", "low", "high", "extreme",
		0, -1, 1, 2, 4, 5, 10, 25, 50, 60, 61, 120, 121, 4096, 4097, 100000, 100001, 600000, 600001, 0.5, 1.5, 2.5, 29.97, 29.9701,
		true, false, map[string]any{}, []any{}, map[string]any{"hash": 5}, map[string]any{"hash": "h", "variables": []any{1}}}
	fields := jsonNames(reflect.TypeFor[Job]())
	bases := []map[string]any{
		{"type": "p5", "code": "x", "width": 10, "height": 10, "bucket": "renders", "filename": "x.png"},
		{"type": "js", "html": "x", "width": 10, "height": 10, "bucket": "renders", "filename": "x.png"},
		{"type": "video", "code": "x", "duration": 2, "width": 10, "height": 10, "bucket": "renders", "filename": "v.mp4"},
	}
	// A product of two fields is over or under its limit: gaps (4), (5).
	productGap := func(j *Job) bool {
		if j == nil {
			return false
		}
		f := j.ScaleFactor()
		if float64(j.Width)*f > MaxOutputSide || float64(j.Height)*f > MaxOutputSide {
			return true
		}
		n := j.VideoFrames()
		return j.Type == TypeVideo && (n < 1 || n > MaxVideoFrames || j.Width*j.Height > MaxVideoPixels || (j.Format == FormatGIF && n > MaxGIFFrames))
	}
	r := rand.New(rand.NewPCG(18, 2020))
	accepted, refused := 0, 0
	for range 3000 {
		m := maps.Clone(bases[r.IntN(len(bases))])
		for range 1 + r.IntN(3) {
			f := fields[r.IntN(len(fields))]
			if r.IntN(8) == 0 {
				delete(m, f)
			} else {
				m[f] = pool[r.IntN(len(pool))]
			}
		}
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		j, perr := Parse(raw)
		serr := validate(s, raw)
		if perr == nil {
			accepted++
		} else {
			refused++
		}
		switch {
		case perr == nil && serr != nil:
			t.Fatalf("Parse accepts, the schema refuses %s: %v", raw, serr)
		case perr != nil && serr == nil && !productGap(j):
			t.Fatalf("Parse refuses %s (%v), the schema accepts", raw, perr)
		}
	}
	if accepted < 150 || refused < 150 {
		t.Errorf("%d accepted, %d refused: the draw no longer covers both", accepted, refused)
	}
}
