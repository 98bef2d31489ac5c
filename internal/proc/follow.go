package proc

import (
	"os"
	"strconv"
	"sync"
	"time"
)

// fullScanEvery is how old the knowledge of the processes outside a
// followed group may get before a scan reads every process's stat again
// (see [Follower]).
const fullScanEvery = 10 * time.Second

// Follower lists the members of one process group, scan after scan, for a
// caller that asks often (a worker asks a few times per job, for its
// browser's renderers and memory). A scan of the whole process table reads
// every process's stat, and a render host runs hundreds of processes that
// are not the browser's; a Follower remembers which processes it found
// outside the group and reads again only the stat of the group's members
// and of processes it has not seen. A process it remembers stays outside
// the group until it exits (a process joins a group only by being forked
// into it, as a new pid); the one case it could miss, a pid freed and
// taken again by a new member between two of its scans, needs the whole
// pid space to wrap in between, and every scan more than fullScanEvery
// after the last full one is full again. Safe for concurrent use.
type Follower struct {
	root string
	pgid int

	mu       sync.Mutex
	outside  map[int]uint32 // pid -> the scan that last listed it
	scan     uint32
	lastFull time.Time
	now      func() time.Time
}

// Follow returns a Follower of process group pgid (none for pgid <= 0).
func Follow(pgid int) *Follower {
	return newFollower(root, pgid, time.Now)
}

func newFollower(root string, pgid int, now func() time.Time) *Follower {
	return &Follower{root: root, pgid: pgid, outside: map[int]uint32{}, now: now}
}

// Members returns the processes of the group, with their stat as of now.
func (f *Follower) Members() []Process {
	if f == nil || f.pgid <= 0 {
		return nil
	}
	ents, err := os.ReadDir(f.root)
	if err != nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	full := now.Sub(f.lastFull) >= fullScanEvery
	if full {
		clear(f.outside)
		f.lastFull = now
	}
	f.scan++
	var ps []Process
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, known := f.outside[pid]; known {
			f.outside[pid] = f.scan
			continue
		}
		s, ok := readStat(f.root, pid)
		switch {
		case !ok: // exited meanwhile
		case s.PGID == f.pgid:
			ps = append(ps, Process{PID: pid, Stat: s})
		default:
			f.outside[pid] = f.scan
		}
	}
	// A pid the table no longer lists has exited: forget it, so that the
	// process that takes its number next is read.
	for pid, seen := range f.outside {
		if seen != f.scan {
			delete(f.outside, pid)
		}
	}
	return ps
}

// MemoryOver is [GroupMemoryOver] for the followed group.
func (f *Follower) MemoryOver(limit int64) (int64, bool) {
	return memoryOver(f.root, f.Members(), limit)
}
