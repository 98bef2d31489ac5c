package empplay

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestSourceURLs(t *testing.T) {
	t.Parallel()
	j := &Job{
		Assets: map[string]string{"a.png": "https://cdn/a.png", "b.png": "https://cdn/base.png"},
		Context: &SketchContext{Components: json.RawMessage(`[
			{"nodeAlias":"base","nodeResponse":{"src":"https://cdn/base.png"}},
			{"nodeAlias":"x","nodeResponse":{"src":42}},
			{"nodeAlias":"y"}]`)},
	}
	if got, want := j.SourceURLs(), []string{"https://cdn/a.png", "https://cdn/base.png"}; !slices.Equal(got, want) {
		t.Fatalf("SourceURLs = %v, want %v", got, want)
	}
	if got := (&Job{}).SourceURLs(); len(got) != 0 {
		t.Fatalf("a job without assets has sources %v", got)
	}
}
