package proc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// statLine is a /proc/PID/stat line of a process in group pgid with rss
// pages resident.
func statLine(pid, pgid, rss int) string {
	return fmt.Sprintf("%d (p) S 1 %d %d 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 %d 0 0", pid, pgid, pgid, rss)
}

func TestFollowerFakeProc(t *testing.T) {
	t.Parallel()
	type step struct {
		name    string
		advance time.Duration
		write   map[int]string // pid -> stat line ("" removes the process)
		want    []int          // members of group 10
		rss     map[int]int64  // pages, for some members
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"a process seen outside the group is not read again until a full scan", []step{
			{name: "first scan", want: []int{10, 11}},
			// Not how a process joins a group (see Follower); it shows that
			// 12's stat is not read again.
			{name: "12 rewritten", write: map[int]string{12: statLine(12, 10, 1)}, want: []int{10, 11}},
			{name: "full scan", advance: fullScanEvery, want: []int{10, 11, 12}},
		}},
		{"a new member is found", []step{
			{name: "first scan", want: []int{10, 11}},
			{name: "13 forked", write: map[int]string{13: statLine(13, 10, 2)}, want: []int{10, 11, 13}},
		}},
		{"a pid that exited is read again when it comes back", []step{
			{name: "first scan", want: []int{10, 11}},
			{name: "12 exits", write: map[int]string{12: ""}, want: []int{10, 11}},
			{name: "12 is a member now", write: map[int]string{12: statLine(12, 10, 1)}, want: []int{10, 11, 12}},
		}},
		{"a member's stat is read afresh", []step{
			{name: "first scan", want: []int{10, 11}, rss: map[int]int64{11: 7}},
			{name: "11 grows", write: map[int]string{11: statLine(11, 10, 900)}, want: []int{10, 11}, rss: map[int]int64{11: 900}},
			{name: "11 exits", write: map[int]string{11: ""}, want: []int{10}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := fakeProc(t, map[string]string{
				"10/stat": statLine(10, 10, 5),
				"11/stat": statLine(11, 10, 7),
				"12/stat": statLine(12, 12, 100),
				"self/x":  "",
			})
			now := time.Unix(1000, 0)
			f := newFollower(root, 10, func() time.Time { return now })
			for _, s := range tc.steps {
				now = now.Add(s.advance)
				for pid, line := range s.write {
					dir := filepath.Join(root, fmt.Sprint(pid))
					if line == "" {
						if err := os.RemoveAll(dir); err != nil {
							t.Fatal(err)
						}
						continue
					}
					if err := os.MkdirAll(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(line), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				var got []int
				rss := map[int]int64{}
				for _, p := range f.Members() {
					got = append(got, p.PID)
					rss[p.PID] = p.Stat.RSS / pageSize
				}
				slices.Sort(got)
				if !slices.Equal(got, s.want) {
					t.Fatalf("%s: members %v; want %v", s.name, got, s.want)
				}
				for pid, want := range s.rss {
					if rss[pid] != want {
						t.Errorf("%s: pid %d has %d pages; want %d", s.name, pid, rss[pid], want)
					}
				}
			}
		})
	}
}

func TestFollowerNoGroup(t *testing.T) {
	t.Parallel()
	var nilF *Follower
	for _, f := range []*Follower{Follow(0), Follow(-1), nilF} {
		if got := f.Members(); got != nil {
			t.Errorf("Members() = %v; want none", got)
		}
	}
}

// TestFollowerRealProcesses follows this process's group while a child
// joins it and exits.
func TestFollowerRealProcesses(t *testing.T) {
	t.Parallel()
	me, ok := ReadStat(os.Getpid())
	if !ok {
		t.Fatal("cannot read this process's stat")
	}
	f := Follow(me.PGID)
	has := func(pid int) bool {
		return slices.ContainsFunc(f.Members(), func(p Process) bool { return p.PID == pid })
	}
	if !has(os.Getpid()) {
		t.Fatalf("this process is not among the members of its own group %d", me.PGID)
	}
	child := exec.Command("sleep", "30") // stays in this group
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	if !has(child.Process.Pid) {
		t.Errorf("the child %d is not found", child.Process.Pid)
	}
	_ = child.Process.Kill()
	_ = child.Wait()
	if has(child.Process.Pid) {
		t.Errorf("the child %d is still found after it exited", child.Process.Pid)
	}
}
