package assets

import (
	"testing"
	"testing/fstest"
)

func TestEscapeNonASCII(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src, want string
	}{
		{"ascii unchanged", `var a="x\\y";`, `var a="x\\y";`},
		{"latin-1 in a string", `"°C"`, `"\u00b0C"`},
		{"beyond latin-1", `"π≈3"`, `"\u03c0\u22483"`},
		{"identifier", `this.ε=1e-5`, `this.\u03b5=1e-5`},
		{"regular expression", `/[ª-ºÀ-Ö]/`, `/[\u00aa-\u00ba\u00c0-\u00d6]/`},
		{"astral as a surrogate pair", "`🌸 p5.js says`", "`\\ud83c\\udf38 p5.js says`"},
		{"an escaped character takes over its backslash", `"\é"`, `"\u00e9"`},
		{"an escaped backslash does not", `"\\é"`, `"\\\u00e9"`},
		{"three backslashes", `"\\\é"`, `"\\\u00e9"`},
		{"white space in a string", "\"\u00a0\u3000\u2028\ufeff\"", `"\u00a0\u3000\u2028\ufeff"`},
		{"a line continuation stays", "\"a\\\u2029b\"", "\"a\\\u2029b\""},
		{"an escaped line separator after an escaped backslash", "\"\\\\\u2028\"", `"\\\u2028"`},
		{"mixed", "/*©*/x=\"\u00a0é\"", `/*\u00a9*/x="\u00a0\u00e9"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(escapeNonASCII([]byte(tc.src))); got != tc.want {
				t.Errorf("escapeNonASCII(%q) = %q; want %q", tc.src, got, tc.want)
			}
		})
	}
}

// TestEscapeNonASCIIKeepsInvalidUTF8: a source that is not UTF-8 is not
// guessed at; it is served as it came.
func TestEscapeNonASCIIKeepsInvalidUTF8(t *testing.T) {
	t.Parallel()
	src := []byte("\"\xff\xfeé\"")
	if got := escapeNonASCII(src); string(got) != string(src) {
		t.Errorf("escapeNonASCII(%q) = %q; want it unchanged", src, got)
	}
}

// TestBundleServesASCII: a build is handed out in ASCII.
func TestBundleServesASCII(t *testing.T) {
	t.Parallel()
	b := FromFS(fstest.MapFS{"p5/p5-2.min.js": {Data: []byte(`x="✿";`)}})
	got, err := b.P5("2")
	if err != nil || string(got) != `x="\u273f";` {
		t.Fatalf(`P5("2") = %q, %v; want x="\u273f";`, got, err)
	}
}

// TestEmbeddedBuildsAreASCII: the builds this binary serves have no
// character beyond ASCII, which is what keeps them at one byte a
// character in the page (skipped when the binary has none).
func TestEmbeddedBuildsAreASCII(t *testing.T) {
	t.Parallel()
	b := Embedded()
	for _, v := range Versions() {
		src, err := b.P5(v)
		if err != nil {
			t.Skipf("p5 %s.x: %v", v, err)
		}
		for i, c := range src {
			if c >= 0x80 {
				t.Errorf("p5 %s.x: byte %#x at %d: %q", v, c, i, src[max(0, i-20):min(len(src), i+20)])
				break
			}
		}
	}
}
