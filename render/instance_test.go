package render

import (
	"reflect"
	"testing"
)

// TestRecheck: a park clears the origin it leaves at once and again at the
// next park; a closed tab's origin is cleared at the next park and again
// at the one after.
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
			{left: "a", want: []originClear{{"a", false}}},
			{left: "b", want: []originClear{{"b", false}, {"a", true}}},
			{left: "c", want: []originClear{{"c", false}, {"b", true}}},
		}},
		{"a park that left no origin", []step{
			{left: "a", want: []originClear{{"a", false}}},
			{left: "", want: []originClear{{"a", true}}},
			{left: "", want: nil},
		}},
		{"a closed tab", []step{
			{left: "a", want: []originClear{{"a", false}}},
			{forget: "v", left: "b", want: []originClear{{"b", false}, {"a", true}, {"v", false}}},
			{left: "c", want: []originClear{{"c", false}, {"b", true}, {"v", true}}},
			{left: "d", want: []originClear{{"d", false}, {"c", true}}},
		}},
		{"a tab closed after its park", []step{
			{left: "a", want: []originClear{{"a", false}}},
			{forget: "a", left: "b", want: []originClear{{"b", false}, {"a", false}}},
			{left: "", want: []originClear{{"b", true}, {"a", true}}},
		}},
		{"the same origin left again", []step{
			{left: "a", want: []originClear{{"a", false}}},
			{left: "a", want: []originClear{{"a", false}}},
			{left: "", want: []originClear{{"a", true}}},
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
