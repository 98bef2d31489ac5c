package empplay

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks what Parse promises for any payload: it never panics,
// every refusal carries a stable code and is permanent, and every job it
// accepts is one a worker can run: valid again, within the size limits,
// with a safe blob path and valid UTF-8 code.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases() {
		if len(tc.raw) < 1<<16 { // the oversized rows only slow the fuzzer
			f.Add([]byte(tc.raw))
		}
	}
	examples, _ := filepath.Glob("examples/*.json")
	for _, p := range examples {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("{\"type\":\"p5\",\"code\":\"\xff\xfe\",\"width\":10,\"height\":10,\"bucket\":\"renders\",\"filename\":\"x.png\"}"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		j, err := Parse(raw)
		if err != nil {
			if ErrorCode(err) == "" {
				t.Fatalf("refusal without a code: %v", err)
			}
			if IsRetryable(err) {
				t.Fatalf("bad input refused as retryable: %v", err)
			}
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("refusal without a message")
			}
			return
		}
		if err := j.Validate(); err != nil {
			t.Fatalf("accepted, then invalid: %v", err)
		}
		if j.Width < 1 || j.Height < 1 || j.Width > MaxOutputSide || j.Height > MaxOutputSide {
			t.Fatalf("accepted %dx%d", j.Width, j.Height)
		}
		if err := CheckBlobPath(j.Prefix, j.Filename); err != nil {
			t.Fatalf("accepted a blob path that CheckBlobPath refuses: %v", err)
		}
		// ".." inside a name ("..v2.png") is harmless; a path segment
		// that is "." or ".." or empty is what would escape or alias.
		if name := j.BlobName(); strings.HasPrefix(name, "/") {
			t.Fatalf("accepted blob name %q", name)
		} else {
			for _, seg := range strings.Split(name, "/") {
				if seg == "" || seg == "." || seg == ".." {
					t.Fatalf("accepted blob name %q with segment %q", name, seg)
				}
			}
		}
		for name, v := range map[string]string{"code": j.Code, "html": j.HTML, "css": j.CSS, "javascript": j.JavaScript} {
			if !utf8.ValidString(v) {
				t.Fatalf("accepted invalid UTF-8 in %s", name)
			}
		}
		if !utf8.Valid(raw) {
			t.Fatal("accepted a payload that is not UTF-8")
		}
		if IDFor(raw) == "" {
			t.Fatal("no id for an accepted job")
		}
		// What the worker would hand on (a retry, a requeue) parses again.
		again, err := json.Marshal(j)
		if err != nil {
			t.Fatalf("accepted job does not marshal: %v", err)
		}
		if _, err := Parse(again); err != nil {
			t.Fatalf("accepted job, re-encoded, is refused: %v\n%s", err, again)
		}
	})
}

// FuzzResultDecode checks that any result JSON either decodes into a
// Result or is refused, never panics, and that a decoded result encodes
// and decodes to the same thing.
func FuzzResultDecode(f *testing.F) {
	f.Add([]byte(`{"success":true,"src":"http://cdn/x/y.png","id":"abc","attempts":1,"timings":{"renderMs":12}}`))
	f.Add([]byte(`{"success":false,"error":"boom","errorCode":"sketch_error","id":"abc","attempts":3}`))
	f.Add([]byte(`{"success":true,"warnings":["a","b"],"blank":true}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var r Result
		if json.Unmarshal(raw, &r) != nil {
			return
		}
		b, err := json.Marshal(&r)
		if err != nil {
			t.Fatalf("decoded result does not encode: %v", err)
		}
		var r2 Result
		if err := json.Unmarshal(b, &r2); err != nil {
			t.Fatalf("re-encoded result does not decode: %v\n%s", err, b)
		}
		b2, _ := json.Marshal(&r2)
		if string(b) != string(b2) {
			t.Fatalf("result changes on a round trip:\n%s\n%s", b, b2)
		}
	})
}
