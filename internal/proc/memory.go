package proc

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
)

// RSS returns the resident memory of pid in bytes, 0 if it is gone.
func RSS(pid int) int64 {
	s, _ := ReadStat(pid)
	return s.RSS
}

// PSS returns the proportional set size of pid in bytes (from
// smaps_rollup), falling back to its RSS.
func PSS(pid int) int64 {
	return pss(root, pid, RSS(pid))
}

func pss(root string, pid int, fallback int64) int64 {
	b, err := os.ReadFile(filepath.Join(root, strconv.Itoa(pid), "smaps_rollup"))
	if err != nil {
		return fallback
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if f := bytes.Fields(line); len(f) >= 2 && string(f[0]) == "Pss:" {
			if kb, err := strconv.ParseInt(string(f[1]), 10, 64); err == nil {
				return kb * 1024
			}
		}
	}
	return fallback
}

// GroupMemory returns the memory of every process in process group pgid
// (a Chromium started in its own group: browser, renderers, GPU and
// utility processes): the sum of their proportional set sizes (shared
// pages split between the processes sharing them), or of their resident
// sizes where PSS cannot be read.
func GroupMemory(pgid int) int64 {
	return groupMemory(root, pgid)
}

func groupMemory(root string, pgid int) int64 {
	return memoryOf(root, inGroup(root, pgid))
}

// memoryOf is the summed PSS of ps, or their RSS where PSS cannot be read.
func memoryOf(root string, ps []Process) int64 {
	var total int64
	for _, p := range ps {
		total += pss(root, p.PID, p.Stat.RSS)
	}
	return total
}

// GroupMemoryOver reports whether the processes of group pgid use more
// than limit bytes, as GroupMemory counts them, and their memory. It reads
// only /proc/PID/stat when the group's resident sizes add up to no more
// than limit (a proportional set size is never above the resident size),
// which costs a fraction of reading every process's smaps_rollup.
func GroupMemoryOver(pgid int, limit int64) (int64, bool) {
	return groupMemoryOver(root, pgid, limit)
}

func groupMemoryOver(root string, pgid int, limit int64) (int64, bool) {
	return memoryOver(root, inGroup(root, pgid), limit)
}

// memoryOver is groupMemoryOver for the processes ps: their stat's RSS,
// and their PSS only when the RSS is over limit.
func memoryOver(root string, ps []Process, limit int64) (int64, bool) {
	var rss int64
	for _, p := range ps {
		rss += p.Stat.RSS
	}
	if rss <= limit {
		return rss, false
	}
	m := memoryOf(root, ps)
	return m, m > limit
}
