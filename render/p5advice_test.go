package render

import (
	"strings"
	"testing"
)

// An error about globals the sketch took from p5 2.x says which, and to
// rename them; a name the page gives that is not an identifier adds
// nothing, and ten are enough.
func TestClashNote(t *testing.T) {
	t.Parallel()
	ten := []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"}
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{[]string{"mix"}, "; p5.js 2.x defines mix as a global itself, and the sketch also declares a function or var named mix at its top level: give the sketch's mix another name"},
		{[]string{"$_a1"}, "; p5.js 2.x defines $_a1 as a global itself, and the sketch also declares a function or var named $_a1 at its top level: give the sketch's $_a1 another name"},
		{[]string{"text", "mix"}, "; p5.js 2.x defines text and mix as globals itself, and the sketch also declares functions or vars with these names at its top level: give the sketch's other names"},
		{[]string{"text", "mix", "step"}, "; p5.js 2.x defines text, mix and step as globals itself, and the sketch also declares functions or vars with these names at its top level: give the sketch's other names"},
		{append(ten, "b"), "; p5.js 2.x defines " + strings.Join(ten[:9], ", ") + " and a9 as globals itself, and the sketch also declares functions or vars with these names at its top level: give the sketch's other names"},
		{[]string{"mix", "mix", "1mix", "mix; rm -rf", "é", strings.Repeat("a", 65)}, "; p5.js 2.x defines mix as a global itself, and the sketch also declares a function or var named mix at its top level: give the sketch's mix another name"},
		{nil, ""},
		{[]string{""}, ""},
	} {
		if got := clashNote(tc.names); got != tc.want {
			t.Errorf("clashNote(%q) = %q; want %q", tc.names, got, tc.want)
		}
	}
}
