package cmd

import (
	"slices"
	"testing"

	"github.com/spf13/pflag"
)

// Every setting that the worker command has too reaches the supervisor's
// workers, whether it was given to supervise as a flag or in the
// environment, except the ones the supervisor sets per slot.
func TestChildEnvPassesSharedSettings(t *testing.T) {
	root := newRoot(&Env{})
	sup, _, err := root.Find([]string{"supervise"})
	if err != nil {
		t.Fatal(err)
	}
	worker, _, err := root.Find([]string{"worker"})
	if err != nil {
		t.Fatal(err)
	}
	sample := map[string]string{"int": "7", "duration": "7s", "string": "x-given"}
	want := map[string]string{}
	shared := 0
	sup.Flags().VisitAll(func(f *pflag.Flag) {
		names := f.Annotations[envAnnotation]
		if len(names) == 0 || worker.Flags().Lookup(f.Name) == nil {
			return
		}
		shared++
		v, ok := sample[f.Value.Type()]
		if !ok {
			t.Fatalf("flag --%s has type %s: give it a sample value", f.Name, f.Value.Type())
		}
		if err := sup.Flags().Set(f.Name, v); err != nil {
			t.Fatalf("set --%s=%s: %v", f.Name, v, err)
		}
		want[names[0]] = v
		if perSlotFlags[f.Name] {
			want[names[0]] = ""
		}
	})
	if shared < 20 {
		t.Fatalf("only %d flags shared between supervise and worker; the lookup is broken", shared)
	}
	env := childEnv([]string{"KEEP=1"}, sup.Flags(), worker.Flags(), "debug")
	for _, tc := range []struct{ name, value string }{
		{"KEEP", "1"},
		{"LOG_LEVEL", "debug"},
		{"LOG_FORMAT", "json"},
		// Given as flags; the supervisor once dropped these three.
		{"BROWSER_RECYCLE_MEMORY_MB", "7"},
		{"CHROMIUM_FLAGS", "x-given"},
		{"FFMPEG_PATH", "x-given"},
	} {
		if !slices.Contains(env, tc.name+"="+tc.value) {
			t.Errorf("child environment lacks %s=%s: %q", tc.name, tc.value, env)
		}
	}
	for name, v := range want {
		has := slices.Contains(env, name+"="+v)
		if v == "" {
			has = slices.ContainsFunc(env, func(e string) bool { return len(e) > len(name) && e[:len(name)+1] == name+"=" })
			if has {
				t.Errorf("child environment sets %s, which the supervisor sets per slot: %q", name, env)
			}
			continue
		}
		if !has {
			t.Errorf("child environment lacks %s=%s", name, v)
		}
	}
}
