package proc

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestThreadsFakeProc(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for tid, name := range map[string]string{"7": "chromium\n", "9": "ThreadPoolServi\n", "x": "junk\n"} {
		dir := filepath.Join(root, "7", "task", tid)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "comm"), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := threads(root, 7)
	slices.Sort(got)
	if !slices.Equal(got, []int{7, 9}) {
		t.Errorf("threads = %v; want [7 9]", got)
	}
	for _, tc := range []struct {
		pid    int
		prefix string
		want   bool
	}{
		{7, "ThreadPoolServi", true},
		{7, "chrom", true},
		{7, "Compositor", false},
		{8, "chromium", false}, // gone
	} {
		if got := hasThread(root, tc.pid, tc.prefix); got != tc.want {
			t.Errorf("hasThread(%d, %q) = %v; want %v", tc.pid, tc.prefix, got, tc.want)
		}
	}
	if got := Threads(os.Getpid()); len(got) == 0 {
		t.Error("Threads of this process is empty")
	}
}
