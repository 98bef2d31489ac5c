package proc

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// root is the proc file system the exported functions read.
const root = "/proc"

// pageSize of the running kernel.
var pageSize = int64(os.Getpagesize())

// Stat is the part of /proc/PID/stat empplay reads.
type Stat struct {
	State byte  // R, S, D, Z, ...
	PGID  int   // process group
	RSS   int64 // resident memory in bytes
	// CPU is user plus system time in clock ticks; ChildCPU the same for
	// the children it has reaped.
	CPU, ChildCPU int64
	// Faults is the minor page faults of the process and of the children
	// it has reaped (first touches of memory, copy-on-write): a count that,
	// unlike CPU time, does not depend on what a fault costs the host.
	Faults int64
}

// parseStat parses the content of /proc/PID/stat. The command name is in
// parentheses and may itself hold spaces and parentheses, so the fields
// are counted from the last ')'.
func parseStat(b []byte) (Stat, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Stat{}, false
	}
	// f[0] is field 3 (state), f[2] field 5 (pgrp), f[11..14] fields
	// 14..17 (utime, stime, cutime, cstime), f[21] field 24 (rss, pages),
	// f[7] and f[8] fields 10 and 11 (minflt, cminflt).
	f := bytes.Fields(b[i+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return Stat{}, false
	}
	pgid, err := strconv.Atoi(string(f[2]))
	if err != nil {
		return Stat{}, false
	}
	s := Stat{State: f[0][0], PGID: pgid}
	num := func(k int) int64 {
		if k >= len(f) {
			return 0
		}
		n, _ := strconv.ParseInt(string(f[k]), 10, 64)
		return n
	}
	s.CPU = num(11) + num(12)
	s.ChildCPU = num(13) + num(14)
	s.RSS = num(21) * pageSize
	s.Faults = num(7) + num(8)
	return s, true
}

func readStat(root string, pid int) (Stat, bool) {
	b, err := os.ReadFile(filepath.Join(root, strconv.Itoa(pid), "stat"))
	if err != nil {
		return Stat{}, false
	}
	return parseStat(b)
}

// ReadStat reads /proc/PID/stat; false when pid is gone.
func ReadStat(pid int) (Stat, bool) {
	return readStat(root, pid)
}

// Group returns the process group of pid; false when pid is gone.
func Group(pid int) (int, bool) {
	s, ok := ReadStat(pid)
	return s.PGID, ok
}

// Cmdline returns the arguments of pid; false when pid is gone. A process
// may have rewritten them (Chromium's children join theirs into one
// string with spaces); a zombie has none.
func Cmdline(pid int) ([]string, bool) {
	b, err := os.ReadFile(filepath.Join(root, strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return nil, false
	}
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil, true
	}
	return strings.Split(string(b), "\x00"), true
}
