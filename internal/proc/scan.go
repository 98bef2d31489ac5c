package proc

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
)

// Process is one entry of a scan of the process table.
type Process struct {
	PID  int
	Stat Stat
}

// each calls f for every process under root. A process that exits during
// the scan is skipped.
func each(root string, f func(Process)) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s, ok := readStat(root, pid); ok {
			f(Process{PID: pid, Stat: s})
		}
	}
}

// Each calls f for every process, this one included.
func Each(f func(Process)) {
	each(root, f)
}

// InGroup returns the processes of group pgid (none for pgid <= 0).
func InGroup(pgid int) []Process {
	return inGroup(root, pgid)
}

func inGroup(root string, pgid int) []Process {
	if pgid <= 0 {
		return nil
	}
	var ps []Process
	each(root, func(p Process) {
		if p.Stat.PGID == pgid {
			ps = append(ps, p)
		}
	})
	return ps
}

// Naming returns the pids, other than this process, of the processes that
// name dir as a whole path on their command line (see [Names]), and of
// every member of a process group led by such a process. The second part
// is what finds a headless shell's children: its zygotes, renderers and
// utilities do not repeat the browser's --user-data-dir, but they stay in
// the browser's group, and a browser that names a directory unique to it
// and leads its own group makes that group its own.
func Naming(dir string) []int {
	return naming(root, dir, func(Process) bool { return true })
}

// GroupNaming reports whether a process of group pgid names dir on its
// command line. When dir is unique to whoever made the group (a profile
// directory made for one Chromium), the group id cannot have been reused
// by anyone else while this holds.
func GroupNaming(pgid int, dir string) bool {
	return pgid > 0 && len(naming(root, dir, func(p Process) bool { return p.Stat.PGID == pgid })) > 0
}

// naming returns the processes that keep accepts and that name dir or are
// in a group whose leader names it.
func naming(root, dir string, keep func(Process) bool) []int {
	needle := []byte(filepath.Clean(dir))
	self := os.Getpid()
	var (
		pids   []int
		others []Process // kept, not naming dir: members of a led group?
		led    = map[int]bool{}
	)
	each(root, func(p Process) {
		if p.PID == self || !keep(p) {
			return
		}
		b, err := os.ReadFile(filepath.Join(root, strconv.Itoa(p.PID), "cmdline"))
		switch {
		case err == nil && names(b, needle):
			pids = append(pids, p.PID)
			if p.Stat.PGID == p.PID {
				led[p.PID] = true
			}
		case err == nil:
			others = append(others, p)
		}
	})
	for _, p := range others {
		if led[p.Stat.PGID] {
			pids = append(pids, p.PID)
		}
	}
	return pids
}

// Names reports whether cmdline (arguments separated by NULs, or by
// spaces once a process has rewritten its command line) contains dir as
// a whole path: followed by the end, a separator, a slash or another
// character that cannot continue a name os.MkdirTemp makes, so that
// /tmp/x-1 is not found in /tmp/x-12 or /tmp/x-1.old.
func Names(cmdline []byte, dir string) bool {
	return names(cmdline, []byte(filepath.Clean(dir)))
}

func names(b, dir []byte) bool {
	if len(dir) == 0 {
		return false
	}
	for len(b) > 0 {
		i := bytes.Index(b, dir)
		if i < 0 {
			return false
		}
		end := i + len(dir)
		if end == len(b) || !isNameByte(b[end]) {
			return true
		}
		b = b[i+1:]
	}
	return false
}

// isNameByte reports whether c can continue a directory name made by
// os.MkdirTemp.
func isNameByte(c byte) bool {
	return c == '-' || c == '_' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
