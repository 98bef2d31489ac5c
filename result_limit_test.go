package empplay

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"longer than ten", 10, "longer ..."},
		{"ééééé", 6, "é..."}, // never half a character
		{"abc", 2, "..."},
	} {
		got := Truncate(tc.in, tc.n)
		if got != tc.want || !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q; want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestResultLimit(t *testing.T) {
	t.Parallel()
	many := func(n, size int) []string {
		w := make([]string, n)
		for i := range w {
			w[i] = strings.Repeat("w", size)
		}
		return w
	}
	for _, tc := range []struct {
		name         string
		r            Result
		changed      bool
		wantWarnings int    // after Limit, the note of dropped ones included
		lastWarning  string // in the last warning
		maxError     int
	}{
		{name: "small result unchanged", r: Result{Success: true, Warnings: []string{"a", "b"}, Renderer: "SwiftShader"}, wantWarnings: 2, lastWarning: "b"},
		{name: "long error cut", r: Result{Error: strings.Repeat("e", 100_000)}, changed: true, maxError: maxResultError},
		{name: "too many warnings", r: Result{Warnings: many(1000, 10)}, changed: true, wantWarnings: maxResultWarnings, lastWarning: "976 more warnings were dropped"},
		{name: "long warnings cut", r: Result{Warnings: many(3, 100_000)}, changed: true, wantWarnings: 3, lastWarning: "..."},
		{name: "long renderer cut", r: Result{Renderer: strings.Repeat("r", 10_000)}, changed: true},
		{name: "everything at once", r: Result{Error: strings.Repeat("e", 1<<20), Warnings: many(100_000, 2000), Renderer: strings.Repeat("r", 1<<20), Trigger: strings.Repeat("t", 1<<20)},
			changed: true, wantWarnings: maxResultWarnings, lastWarning: "more warnings were dropped", maxError: maxResultError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.r
			if got := r.Limit(0); got != tc.changed {
				t.Errorf("Limit = %v; want %v", got, tc.changed)
			}
			b, err := json.Marshal(&r)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > MaxResultBytes {
				t.Errorf("result is %d bytes; want at most %d", len(b), MaxResultBytes)
			}
			if len(r.Warnings) != tc.wantWarnings {
				t.Errorf("%d warnings; want %d", len(r.Warnings), tc.wantWarnings)
			}
			if tc.lastWarning != "" && (len(r.Warnings) == 0 || !strings.Contains(r.Warnings[len(r.Warnings)-1], tc.lastWarning)) {
				t.Errorf("last warning %q; want it to contain %q", r.Warnings[len(r.Warnings)-1], tc.lastWarning)
			}
			if tc.maxError > 0 && len(r.Error) > tc.maxError {
				t.Errorf("error of %d bytes; want at most %d", len(r.Error), tc.maxError)
			}
			if len(r.Renderer) > maxResultField || len(r.Trigger) > maxResultField {
				t.Errorf("renderer %d, trigger %d bytes; want at most %d", len(r.Renderer), len(r.Trigger), maxResultField)
			}
		})
	}
}

// A tight limit drops warnings from the end until the result fits.
func TestResultLimitTight(t *testing.T) {
	t.Parallel()
	r := Result{Warnings: make([]string, 20)}
	for i := range r.Warnings {
		r.Warnings[i] = strings.Repeat("x", 900)
	}
	r.Limit(4000)
	b, _ := json.Marshal(&r)
	if len(b) > 4000 {
		t.Errorf("result is %d bytes; want at most 4000", len(b))
	}
	if n := len(r.Warnings); n < 2 || !strings.HasSuffix(r.Warnings[n-1], "more warnings were dropped") {
		t.Errorf("warnings %d, last %q", n, r.Warnings[len(r.Warnings)-1])
	}
}
