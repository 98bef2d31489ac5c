package proc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		want Stat
		ok   bool
	}{
		{"full line", "10 (chromium) S 1 10 10 0 -1 0 800 90 2 1 3 4 5 6 20 0 1 0 100 1000 5 0 0",
			Stat{State: 'S', PGID: 10, CPU: 7, ChildCPU: 11, RSS: 5 * pageSize, Faults: 890}, true},
		{"spaces and parens in the name", "11 (a) b (c) Z 10 42 10", Stat{State: 'Z', PGID: 42}, true},
		{"no name", "11 S 10 42 10", Stat{}, false},
		{"too short", "11 (x) S 10", Stat{}, false},
		{"bad group", "11 (x) S 10 x", Stat{}, false},
		{"garbage", "garbage", Stat{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := parseStat([]byte(tc.in))
			if got != tc.want || ok != tc.ok {
				t.Errorf("parseStat(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	const dir = "/tmp/x/empplay-chromium-123"
	for _, tc := range []struct {
		cmdline string
		want    bool
	}{
		{"chromium\x00--user-data-dir=/tmp/x/empplay-chromium-123", true},
		{"chromium\x00--user-data-dir=/tmp/x/empplay-chromium-123\x00--no-sandbox", true},
		{"chromium\x00--database=/tmp/x/empplay-chromium-123/xdg-config/chromium/Crash Reports", true},
		{"chromium\x00--user-data-dir=/tmp/x/empplay-chromium-1234", false},
		{"chromium\x00--user-data-dir=/tmp/x/empplay-chromium-12", false},
		{"chromium\x00/usr/lib/chromium/chromium", false},
		// a renderer's command line after setproctitle
		{"/usr/lib/chromium/chromium --type=renderer --user-data-dir=/tmp/x/empplay-chromium-123 --no-sandbox", true},
		{"chromium --user-data-dir=/tmp/x/empplay-chromium-1234 --user-data-dir=/tmp/x/empplay-chromium-123", true},
		{"chromium --user-data-dir=/tmp/x/empplay-chromium-123.old", false},
		{"", false},
	} {
		if got := Names([]byte(tc.cmdline), dir); got != tc.want {
			t.Errorf("Names(%q) = %v, want %v", tc.cmdline, got, tc.want)
		}
	}
	if Names([]byte("anything"), "") {
		t.Error("an empty dir is named by everything")
	}
	if !Names([]byte("x\x00/tmp/a/b"), "/tmp/a/") {
		t.Error("a dir with a trailing slash is not cleaned")
	}
}

// fakeProc writes a proc file system under a temp dir: files maps
// "PID/name" to content.
func fakeProc(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime vsize rss ...
var fakeTable = map[string]string{
	"10/stat":         "10 (chromium) S 1 10 10 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 5 0 0",
	"10/cmdline":      "chromium\x00--user-data-dir=/tmp/p-1\x00",
	"11/stat":         "11 (chromium --type=renderer) S 10 10 10 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 7 0 0",
	"11/cmdline":      "chromium --type=renderer --user-data-dir=/tmp/p-1",
	"11/smaps_rollup": "00400000-7fff [rollup]\nRss:  28 kB\nPss:  %d kB\n",
	"12/stat":         "12 (other) S 1 12 12 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 100 0 0",
	"12/cmdline":      "other\x00/tmp/p-12\x00",
	"13/stat":         "13 (crashpad) S 1 13 13 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 1 0 0",
	"13/cmdline":      "crashpad\x00--database=/tmp/p-1/xdg-config\x00",
	// A headless shell: only the browser names its profile directory.
	"20/stat":    "20 (chromium-headle) S 1 20 20 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 5 0 0",
	"20/cmdline": "chromium-headless-shell\x00--user-data-dir=/tmp/p-2\x00",
	"21/stat":    "21 (chromium-headle) S 20 20 20 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 5 0 0",
	"21/cmdline": "chromium-headless-shell\x00--type=zygote\x00",
	"22/stat":    "22 (chromium-headle) S 21 20 20 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 5 0 0",
	"22/cmdline": "chromium-headless-shell --type=renderer --headless=old",
	// Names /tmp/p-3 but does not lead its group (30): its group is not
	// its own to claim, so 31 is not found with it.
	"30/stat":    "30 (sh) S 1 30 30 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 5 0 0",
	"30/cmdline": "sh\x00",
	"31/stat":    "31 (tool) S 30 30 30 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 5 0 0",
	"31/cmdline": "tool\x00",
	"32/stat":    "32 (tool) S 30 30 30 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 5 0 0",
	"32/cmdline": "tool\x00/tmp/p-3\x00",
	"self/stat":  "garbage",
}

func fakeTableRoot(t *testing.T) string {
	files := map[string]string{}
	for k, v := range fakeTable {
		files[k] = v
	}
	// Process 11's PSS (3 pages' worth) wins over its RSS.
	files["11/smaps_rollup"] = fmt.Sprintf(fakeTable["11/smaps_rollup"], 3*pageSize/1024)
	return fakeProc(t, files)
}

func TestScanFakeProc(t *testing.T) {
	t.Parallel()
	root := fakeTableRoot(t)
	for _, tc := range []struct {
		name string
		dir  string
		pgid int // 0: any group
		want []int
	}{
		{"every holder, in or out of the group", "/tmp/p-1", 0, []int{10, 11, 13}},
		{"in the group only", "/tmp/p-1", 10, []int{10, 11}},
		{"not a prefix of a longer name", "/tmp/p", 0, nil},
		{"another dir", "/tmp/p-12", 0, []int{12}},
		{"a group that does not hold it", "/tmp/p-12", 10, nil},
		{"the group its leader holds", "/tmp/p-2", 0, []int{20, 21, 22}},
		{"the group its leader holds, in the group", "/tmp/p-2", 20, []int{20, 21, 22}},
		{"not the group of a member that is not its leader", "/tmp/p-3", 0, []int{32}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := naming(root, tc.dir, func(p Process) bool { return tc.pgid == 0 || p.Stat.PGID == tc.pgid })
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("naming(%q, group %d) = %v; want %v", tc.dir, tc.pgid, got, tc.want)
			}
		})
	}
	var group []int
	for _, p := range inGroup(root, 10) {
		group = append(group, p.PID)
	}
	slices.Sort(group)
	if !slices.Equal(group, []int{10, 11}) {
		t.Errorf("inGroup(10) = %v; want [10 11]", group)
	}
}

func TestGroupMemoryFakeProc(t *testing.T) {
	t.Parallel()
	root := fakeTableRoot(t)
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
	root := fakeTableRoot(t)
	// Group 10: RSS 5 + 7 pages; process 11's PSS is 3 pages.
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

// TestMemoryOfThisProcess is not parallel: the test process's memory is
// what it reads, and other tests allocating and freeing meanwhile would
// move it between two reads. Each figure is still read on both sides of
// the one it is compared with, so what the runtime itself frees or takes
// in between cannot fail it.
func TestMemoryOfThisProcess(t *testing.T) {
	pid := os.Getpid()
	if got := RSS(pid); got < 1<<20 {
		t.Fatalf("RSS of the test process = %d; want at least 1 MiB", got)
	}
	// The kernel batches the counters behind stat's RSS per thread, so
	// they may lag smaps_rollup's exact figures a little.
	rss0 := RSS(pid)
	p := PSS(pid)
	rss := max(rss0, RSS(pid))
	if p <= 0 || p > rss+4<<20 {
		t.Fatalf("PSS of the test process = %d; want within (0, RSS %d (+4 MiB of counter lag)]", p, rss)
	}
	pss0 := PSS(pid)
	group := GroupMemory(syscall.Getpgrp())
	if pss := min(pss0, PSS(pid)); group < pss {
		t.Fatalf("GroupMemory of our group %d < our own PSS %d", group, pss)
	}
}

// startSleeps starts n `sleep` processes that name dir on their command
// line, in one process group of their own (the first one's), through
// [OwnGroup] and [Start], and kills the group when the test ends.
func startSleeps(t *testing.T, dir string, n int) []*exec.Cmd {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	var cmds []*exec.Cmd
	for i := range n {
		// sleep ignores everything after a valid duration but needs every
		// argument to parse: dir rides in argv[0].
		cmd := &exec.Cmd{Path: sleep, Args: []string{filepath.Join(dir, fmt.Sprint(i)), "60"}}
		OwnGroup(cmd)
		if i > 0 {
			cmd.SysProcAttr.Pgid = cmds[0].Process.Pid
		}
		waited, err := Start(cmd)
		if err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-waited
		})
	}
	return cmds
}

func TestRealProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmds := startSleeps(t, dir, 3)
	leader := cmds[0].Process.Pid
	var want []int
	for _, c := range cmds {
		want = append(want, c.Process.Pid)
	}
	slices.Sort(want)

	got := Naming(dir)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("Naming(%s) = %v; want %v", dir, got, want)
	}
	if Naming(dir+"x") != nil {
		t.Errorf("Naming finds a longer name")
	}
	if g, ok := Group(want[2]); !ok || g != leader {
		t.Errorf("Group(%d) = %d, %v; want %d, true", want[2], g, ok, leader)
	}
	if !GroupNaming(leader, dir) || GroupNaming(syscall.Getpgrp(), dir) {
		t.Errorf("GroupNaming: the sleeps' group must hold %s, ours must not", dir)
	}
	if args, ok := Cmdline(leader); !ok || len(args) != 2 || args[1] != "60" {
		t.Errorf("Cmdline(%d) = %q, %v", leader, args, ok)
	}
	for _, pid := range want {
		if !Alive(pid) {
			t.Errorf("Alive(%d) = false for a running sleep", pid)
		}
	}

	start := time.Now()
	killed := KillNaming(dir, 5*time.Second)
	slices.Sort(killed)
	if !slices.Equal(killed, want) {
		t.Errorf("KillNaming killed %v; want %v", killed, want)
	}
	// Our own children stay zombies until waited for: gone from a scan
	// (a zombie has no command line) though not from the table.
	if left := Naming(dir); left != nil {
		t.Errorf("after KillNaming, %v still name %s", left, dir)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("KillNaming took %v", d)
	}
	for _, c := range cmds {
		if !poll(5*time.Second, func() bool { return !Alive(c.Process.Pid) }) {
			t.Errorf("%d alive after KillNaming", c.Process.Pid)
		}
	}
	if KillNaming(dir, time.Second) != nil {
		t.Error("KillNaming of nothing killed something")
	}
}

func TestKillGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmds := startSleeps(t, dir, 2)
	pgid := cmds[0].Process.Pid
	for _, tc := range []struct {
		name string
		pgid int
	}{
		{"no group", 0},
		{"negative", -1},
		{"the sleeps", pgid},
		{"gone already", pgid},
	} {
		if err := KillGroup(tc.pgid); err != nil {
			t.Errorf("%s: KillGroup(%d) = %v", tc.name, tc.pgid, err)
		}
	}
	poll(5*time.Second, func() bool { return len(Naming(dir)) == 0 })
	if left := Naming(dir); left != nil {
		t.Errorf("after KillGroup, %v still name %s", left, dir)
	}
}

func TestKillNamingDeadline(t *testing.T) {
	t.Parallel()
	// Processes that keep coming back: KillNaming gives up at its deadline.
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	dir := t.TempDir()
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-stop:
				return
			default:
			}
			cmd := &exec.Cmd{Path: sleep, Args: []string{filepath.Join(dir, "respawned"), "60"}}
			if err := cmd.Start(); err != nil {
				return
			}
			_ = cmd.Wait()
		}
	}()
	t.Cleanup(func() {
		close(stop)
		KillNaming(dir, 5*time.Second)
		<-stopped
	})
	poll(5*time.Second, func() bool { return Naming(dir) != nil })
	start := time.Now()
	if KillNaming(dir, 300*time.Millisecond) == nil {
		t.Error("KillNaming killed nothing")
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 3*time.Second {
		t.Errorf("KillNaming with a 300ms deadline returned after %v", d)
	}
}

func TestAlive(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		pid  int
		want bool
	}{
		{"this process", os.Getpid(), true},
		{"no pid", 0, false},
		{"no such process", 1 << 30, false},
	} {
		if got := Alive(tc.pid); got != tc.want {
			t.Errorf("%s: Alive(%d) = %v; want %v", tc.name, tc.pid, got, tc.want)
		}
	}
}

// poll reports whether cond came true within timeout, checking every 5ms.
// (testenv.Poll, which imports this package, would be an import cycle.)
func poll(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}
