package empplay

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateVectors = flag.Bool("update", false, "rewrite "+idVectorsFile)

// idVectorsFile holds payloads and the ids IDFor gives them; the
// TypeScript client's tests check that its jobId gives the same ids.
const idVectorsFile = "clients/typescript/tests/job-ids.json"

// idVector is one payload (base64 in the file: some are not UTF-8) and
// its id.
type idVector struct {
	Name    string `json:"name"`
	Payload []byte `json:"payload"`
	ID      string `json:"id"`
}

// idVectors are the rows of TestIDFor, the parser's table and the example
// jobs, and payloads that probe how encoding/json reads an id: bytes that
// are not UTF-8, escapes, number overflow, nesting depth.
func idVectors(t *testing.T) []idVector {
	t.Helper()
	var vs []idVector
	add := func(name, raw string) {
		vs = append(vs, idVector{Name: name, Payload: []byte(raw), ID: IDFor([]byte(raw))})
	}
	for _, tc := range idCases() {
		add("id: "+tc.name, tc.raw)
	}
	for _, tc := range parseCases() {
		if len(tc.raw) < 1<<16 {
			add("parse: "+tc.name, tc.raw)
		}
	}
	examples, _ := filepath.Glob("examples/*.json")
	for _, p := range examples {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		add("example: "+filepath.Base(p), string(b))
	}
	for _, e := range []struct{ name, raw string }{
		{"invalid UTF-8 in the id", "{\"id\":\"a\xffb\"}"},
		{"truncated UTF-8 sequence in the id", "{\"id\":\"a\xe2\x82b\"}"},
		{"UTF-8 encoded surrogate in the id", "{\"id\":\"a\xed\xa0\x80b\"}"},
		{"invalid UTF-8 outside strings", "{\"id\":\"x\"}\xff"},
		{"invalid UTF-8 in another field", "{\"code\":\"\xc3\",\"id\":\"x\"}"},
		{"lone surrogate escape in the id", `{"id":"a\ud800b"}`},
		{"surrogate pair escape in the id", `{"id":"a\ud83d\ude00b"}`},
		{"high surrogate then a letter", `{"id":"\ud800\u0041"}`},
		{"67 four-byte characters", `{"id":"` + strings.Repeat("😀", 50) + `x"}`},
		{"id of 199 bytes and a replacement character", "{\"id\":\"" + strings.Repeat("a", 198) + "\xff\"}"},
		{"dotted capital I", `{"İd":"x"}`},
		{"dotless i", `{"ıd":"x"}`},
		{"id as an object", `{"id":{"id":"x"}}`},
		{"id as true", `{"id":true}`},
		{"underflowing number before the id", `{"id":1e-400,"id":"x"}`},
		{"overflow inside an earlier id", `{"id":[1,2e308],"id":"x"}`},
		{"negative overflow", `{"id":-1e309,"ID":"x"}`},
		{"DEL in the id", "{\"id\":\"a\x7fb\"}"},
		{"NEL in the id", `{"id":"a` + "\u0085" + `b"}`},
		{"tab escape in the id", `{"id":"a\tb"}`},
		{"not an object", `["id","x"]`},
		{"null", `null`},
		{"string", `"x"`},
		{"empty", ``},
		{"depth 10000", `{"id":"deep","a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`},
		{"depth 10001", `{"id":"deep","a":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`},
		{"duplicate keys elsewhere", `{"id":"x","a":1,"a":2}`},
		{"white space everywhere", "\r\n\t {\r\n\t \"id\"\r\n\t :\r\n\t \"x\"\r\n\t ,\"b\" : [ 1 , { } ] }\r\n\t "},
		{"leading zero", `{"id":"x","n":01}`},
		{"single quotes", `{'id':'x'}`},
		{"trailing comma", `{"id":"x",}`},
		{"control character in a string", "{\"id\":\"x\",\"a\":\"\x01\"}"},
	} {
		add("edge: "+e.name, e.raw)
	}
	return vs
}

// TestJobIDVectors keeps idVectorsFile equal to what IDFor gives; run
// `go test -run TestJobIDVectors -update .` after changing the vectors.
func TestJobIDVectors(t *testing.T) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(idVectors(t)); err != nil {
		t.Fatal(err)
	}
	if *updateVectors {
		if err := os.WriteFile(idVectorsFile, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(idVectorsFile)
	if err != nil || !bytes.Equal(got, buf.Bytes()) {
		t.Fatalf("%s is not what IDFor gives (%v); run go test -run TestJobIDVectors -update .", idVectorsFile, err)
	}
}
