package render

import (
	"reflect"
	"testing"
)

// TestRecheck: a park clears the origin it leaves in full at once and
// again (the late kinds) at the next park; a closed tab's origin is
// cleared in full at the next park and again at the one after.
func TestRecheck(t *testing.T) {
	type step struct {
		forget string // a tab of this origin closed before the park
		left   string // the origin the park leaves
		want   []originClear
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"parks in a row", []step{
			{left: "a", want: []originClear{{"a", clearAll}}},
			{left: "b", want: []originClear{{"b", clearAll}, {"a", clearLate}}},
			{left: "c", want: []originClear{{"c", clearAll}, {"b", clearLate}}},
		}},
		{"a park that left no origin", []step{
			{left: "a", want: []originClear{{"a", clearAll}}},
			{left: "", want: []originClear{{"a", clearLate}}},
			{left: "", want: nil},
		}},
		{"a closed tab", []step{
			{left: "a", want: []originClear{{"a", clearAll}}},
			{forget: "v", left: "b", want: []originClear{{"b", clearAll}, {"a", clearLate}, {"v", clearAll}}},
			{left: "c", want: []originClear{{"c", clearAll}, {"b", clearLate}, {"v", clearLate}}},
			{left: "d", want: []originClear{{"d", clearAll}, {"c", clearLate}}},
		}},
		{"a tab closed after its park", []step{
			{left: "a", want: []originClear{{"a", clearAll}}},
			{forget: "a", left: "b", want: []originClear{{"b", clearAll}, {"a", clearAll}}},
			{left: "", want: []originClear{{"b", clearLate}, {"a", clearLate}}},
		}},
		{"the same origin left again", []step{
			{left: "a", want: []originClear{{"a", clearAll}}},
			{left: "a", want: []originClear{{"a", clearAll}}},
			{left: "", want: []originClear{{"a", clearLate}}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst := &instance{shared: "ctx"}
			for i, s := range tc.steps {
				inst.forget(s.forget)
				if got := inst.recheck(s.left); !reflect.DeepEqual(got, s.want) {
					t.Errorf("park %d: clears %v, want %v", i+1, got, s.want)
				}
			}
		})
	}
}

// TestForgetOutsideSharedContext: under IsolateContext a closed tab takes
// its browser context, storage and all, with it: nothing to note.
func TestForgetOutsideSharedContext(t *testing.T) {
	inst := &instance{}
	inst.forget("a")
	if got := inst.recheck(""); got != nil {
		t.Errorf("clears %v, want none", got)
	}
}
