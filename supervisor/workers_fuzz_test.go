package supervisor

import (
	"slices"
	"strings"
	"testing"
)

// FuzzParseWorkers checks that ParseWorkers never panics and that what it
// accepts is a plan the supervisor can carry out: known pools, each once,
// counts in range, at least one playwright worker.
func FuzzParseWorkers(f *testing.F) {
	for _, s := range []string{"playwright:4", "comfyui:2,playwright:4", "  comfyui : 2 ,\tplaywright:  4  ",
		"comfyui:0,playwright:1", "playwright:64", "", "playwright:4,", "playwright", "playwright:", "playwright:four",
		"playwright:-1", "playwright:65", "playwright:1,playwright:2", "ollama:1,playwright:1", "playwright:+3", "playwright:0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pools, err := ParseWorkers(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("error without a message")
			}
			return
		}
		seen := map[string]bool{}
		playwright := 0
		for _, p := range pools {
			if !slices.Contains(knownPools, p.Name) || seen[p.Name] {
				t.Fatalf("%q: accepted pool %q (known %v, seen %v)", s, p.Name, knownPools, seen)
			}
			seen[p.Name] = true
			if p.Count < 0 || p.Count > MaxPoolCount {
				t.Fatalf("%q: accepted count %d", s, p.Count)
			}
			if p.Name == PoolPlaywright {
				playwright = p.Count
			}
		}
		if playwright < 1 {
			t.Fatalf("%q: accepted with no playwright worker", s)
		}
		if strings.Count(s, ",")+1 != len(pools) {
			t.Fatalf("%q: %d items, %d pools", s, strings.Count(s, ",")+1, len(pools))
		}
	})
}
