package procstat

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestReadStatFakeProc(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(pid, content string) {
		if err := os.MkdirAll(filepath.Join(root, pid), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, pid, "stat"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime vsize rss ...
	write("10", "10 (chromium) S 1 10 10 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 5 0 0")
	write("11", "11 (chromium --type=renderer) S 10 10 10 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 7 0 0")
	write("12", "12 (other) S 1 12 12 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 100 0 0")
	write("self", "garbage")
	// Process 11 has a smaps_rollup: its PSS (3 pages' worth) wins over its RSS.
	if err := os.WriteFile(filepath.Join(root, "11", "smaps_rollup"), []byte(fmt.Sprintf("00400000-7fff [rollup]\nRss:  28 kB\nPss:  %d kB\n", 3*pageSize/1024)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		pgid int
		want int64
	}{
		{"group with a space in a command name, PSS where readable", 10, 5*pageSize + 3*pageSize},
		{"other group", 12, 100 * pageSize},
		{"no such group", 99, 0},
		{"invalid pgid", 0, 0},
	} {
		if got := groupMemory(root, tc.pgid); got != tc.want {
			t.Errorf("%s: groupMemory(%d) = %d; want %d", tc.name, tc.pgid, got, tc.want)
		}
	}
}

func TestGroupMemoryOverFakeProc(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(pid, name, content string) {
		if err := os.MkdirAll(filepath.Join(root, pid), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, pid, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Group 10: RSS 5 + 7 pages; process 11's PSS is 3 pages.
	write("10", "stat", "10 (chromium) S 1 10 10 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 5 0 0")
	write("11", "stat", "11 (chromium --type=renderer) S 10 10 10 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 7 0 0")
	write("11", "smaps_rollup", fmt.Sprintf("Rss: 28 kB\nPss: %d kB\n", 3*pageSize/1024))
	for _, tc := range []struct {
		name  string
		limit int64
		want  int64
		over  bool
	}{
		{"RSS within the limit: RSS, not over", 12 * pageSize, 12 * pageSize, false},
		{"RSS over, PSS within: PSS, not over", 9 * pageSize, 8 * pageSize, false},
		{"PSS over too", 7 * pageSize, 8 * pageSize, true},
	} {
		got, over := groupMemoryOver(root, 10, tc.limit)
		if got != tc.want || over != tc.over {
			t.Errorf("%s: groupMemoryOver = %d, %v; want %d, %v", tc.name, got, over, tc.want, tc.over)
		}
	}
}

func TestRSSOfThisProcess(t *testing.T) {
	t.Parallel()
	if got := RSS(os.Getpid()); got < 1<<20 {
		t.Fatalf("RSS of the test process = %d; want at least 1 MiB", got)
	}
	// The kernel batches the counters behind stat's RSS per thread, so
	// they may lag smaps_rollup's exact figures a little.
	if p, rss := PSS(os.Getpid()), RSS(os.Getpid()); p <= 0 || p > rss+4<<20 {
		t.Fatalf("PSS of the test process = %d; want within (0, RSS %d (+4 MiB of counter lag)]", p, rss)
	}
	if got := GroupMemory(syscall.Getpgrp()); got < PSS(os.Getpid()) {
		t.Fatalf("GroupMemory of our group %d < our own PSS", got)
	}
}
