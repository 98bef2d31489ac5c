package proc

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

const (
	// killPause is the time between two scans of [KillNaming].
	killPause = 10 * time.Millisecond
	// quietScans is how many scans in a row must find nothing before
	// [KillNaming] believes the processes gone: a dying browser may still
	// be forking.
	quietScans = 3
)

// KillGroup sends SIGKILL to process group pgid. A group that is gone
// already is not an error; pgid <= 0 is no group.
func KillGroup(pgid int) error {
	if pgid <= 0 {
		return nil
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill process group %d: %w", pgid, err)
	}
	return nil
}

// KillNaming SIGKILLs, by pid, every process whose command line names dir
// (see [Names]) and waits for them to vanish: it scans again until
// [quietScans] scans in a row find none, or for at most within. The
// directory must be unique to whoever the processes belong to (a profile
// directory made for one Chromium); that is what makes this safe where
// killing by name is not. It returns at once when the first scan finds
// nothing, and returns the pids it signalled.
//
// SIGKILLed processes can take seconds to vanish on a loaded host (a
// renderer freeing gigabytes), so the caller picks within for its case.
func KillNaming(dir string, within time.Duration) []int {
	return killNaming(root, dir, within)
}

func killNaming(root, dir string, within time.Duration) []int {
	var killed []int
	seen := map[int]bool{}
	deadline := time.Now().Add(within)
	for quiet := 0; quiet < quietScans && time.Now().Before(deadline); time.Sleep(killPause) {
		pids := naming(root, dir, func(Process) bool { return true })
		if len(pids) == 0 {
			if len(killed) == 0 {
				return nil // nothing ever held it: nothing left to fork
			}
			quiet++
			continue
		}
		quiet = 0
		for _, pid := range pids {
			if err := syscall.Kill(pid, syscall.SIGKILL); err == nil && !seen[pid] {
				seen[pid] = true
				killed = append(killed, pid)
			}
		}
	}
	return killed
}

// Alive reports whether pid exists and is not a zombie.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return !errors.Is(err, syscall.ESRCH)
	}
	s, ok := ReadStat(pid)
	return ok && s.State != 'Z'
}
