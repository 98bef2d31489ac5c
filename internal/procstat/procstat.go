// Package procstat reads process memory from Linux's /proc, for health
// reports: a worker's own resident memory plus its browser's process group.
package procstat

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
)

// pageSize of the running kernel.
var pageSize = int64(os.Getpagesize())

// stat is the part of /proc/PID/stat a memory report needs.
type stat struct {
	pgrp int
	rss  int64 // bytes
}

func readStat(root string, pid int) (stat, bool) {
	b, err := os.ReadFile(filepath.Join(root, strconv.Itoa(pid), "stat"))
	if err != nil {
		return stat{}, false
	}
	// Fields after the parenthesised command name, which may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return stat{}, false
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); pgrp is field 5, rss (pages) field 24.
	if len(f) < 22 {
		return stat{}, false
	}
	pgrp, err1 := strconv.Atoi(string(f[2]))
	rss, err2 := strconv.ParseInt(string(f[21]), 10, 64)
	if err1 != nil || err2 != nil {
		return stat{}, false
	}
	return stat{pgrp: pgrp, rss: rss * pageSize}, true
}

// RSS returns the resident memory of pid in bytes, 0 if it is gone.
func RSS(pid int) int64 {
	s, _ := readStat("/proc", pid)
	return s.rss
}

// GroupMemory returns the memory of every process in process group pgid
// (a Chromium started in its own group: browser, renderers, GPU and
// utility processes): the sum of their proportional set sizes (shared
// pages split between the processes sharing them), or of their resident
// sizes where PSS cannot be read.
func GroupMemory(pgid int) int64 {
	return groupMemory("/proc", pgid)
}

// PSS returns the proportional set size of pid in bytes (from
// smaps_rollup), falling back to its RSS.
func PSS(pid int) int64 {
	return pss("/proc", pid, RSS(pid))
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

// GroupMemoryOver reports whether the processes of group pgid use more
// than limit bytes, as GroupMemory counts them, and their memory. It reads
// only /proc/PID/stat when the group's resident sizes add up to no more
// than limit (a proportional set size is never above the resident size),
// which costs a fraction of reading every process's smaps_rollup.
func GroupMemoryOver(pgid int, limit int64) (int64, bool) {
	return groupMemoryOver("/proc", pgid, limit)
}

func groupMemoryOver(root string, pgid int, limit int64) (int64, bool) {
	if rss := groupRSS(root, pgid); rss <= limit {
		return rss, false
	}
	m := groupMemory(root, pgid)
	return m, m > limit
}

// groupRSS is the sum of the resident sizes of group pgid's processes.
func groupRSS(root string, pgid int) int64 {
	var total int64
	eachInGroup(root, pgid, func(_ int, s stat) { total += s.rss })
	return total
}

// eachInGroup calls f for every process of group pgid.
func eachInGroup(root string, pgid int, f func(pid int, s stat)) {
	if pgid <= 0 {
		return
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s, ok := readStat(root, pid); ok && s.pgrp == pgid {
			f(pid, s)
		}
	}
}

func groupMemory(root string, pgid int) int64 {
	var total int64
	eachInGroup(root, pgid, func(pid int, s stat) { total += pss(root, pid, s.rss) })
	return total
}

// GroupRSS returns the summed resident size of the processes of group
// pgid, in bytes: cheap to read (only /proc/PID/stat), and never less than
// what GroupMemory counts.
func GroupRSS(pgid int) int64 {
	return groupRSS("/proc", pgid)
}
