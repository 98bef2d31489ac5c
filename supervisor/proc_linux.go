package supervisor

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// setProcAttr puts the child in a process group of its own, so that one
// kill(-pgid) reaches the worker and its Chromium, with SIGKILL as its
// death signal in case the supervisor dies first. Other attributes set by
// Command (credentials, for example) are kept.
func setProcAttr(cmd *exec.Cmd) {
	attr := &syscall.SysProcAttr{}
	if cmd.SysProcAttr != nil {
		a := *cmd.SysProcAttr
		attr = &a
	}
	attr.Setpgid, attr.Pgid = true, 0
	attr.Setsid, attr.Setctty, attr.Foreground = false, false, false
	attr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr = attr
}

// startChild starts cmd from a goroutine locked to its OS thread and
// returns a channel that receives the result of cmd.Wait.
//
// Pdeathsig is delivered when the thread that forked the child exits, not
// when the process does (golang/go#27505), and the Go runtime retires idle
// threads; started from an ordinary goroutine, a child could be killed at
// random. The goroutine therefore stays locked until Wait returns, and
// exits still locked, so the runtime ends its thread only once the child
// is dead.
func startChild(cmd *exec.Cmd) (<-chan error, error) {
	started := make(chan error, 1)
	waited := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: see above.
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		err := cmd.Wait()
		waited <- err
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return waited, nil
}

// killGroup sends SIGKILL to the process group pgid. A group that is
// already gone is not an error.
func killGroup(pgid int) {
	if pgid > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // ESRCH: nothing left
	}
}

// killHolders SIGKILLs, by pid, every process whose command line names dir
// (an incarnation's unique profile directory): Chromium may leave its
// parent's process group, and chromedp does not clean up a profile it did
// not create. It scans until three passes in a row find nothing, for at
// most 2 seconds, as chromedp's killLeftovers does, since a dying browser
// may still be forking. It returns the pids it killed.
func killHolders(dir string) []int {
	const (
		quietPasses = 3
		pause       = 20 * time.Millisecond
		limit       = 2 * time.Second
	)
	var killed []int
	deadline := time.Now().Add(limit)
	for quiet := 0; quiet < quietPasses && time.Now().Before(deadline); {
		pids := processesNaming(dir)
		if len(pids) == 0 {
			if len(killed) == 0 {
				return nil // nothing ever held it: no browser left to fork
			}
			quiet++
		} else {
			quiet = 0
			for _, pid := range pids {
				if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
					killed = append(killed, pid)
				}
			}
		}
		time.Sleep(pause)
	}
	return killed
}

// processesNaming returns the pids, other than this process, whose
// /proc/<pid>/cmdline contains path as a whole path: followed by the end,
// a NUL between arguments, a slash, or a character that cannot continue a
// temp dir name.
func processesNaming(path string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	needle := []byte(filepath.Clean(path))
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if containsPath(b, needle) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// containsPath reports whether b contains path not followed by a
// character that would make it a longer name (/tmp/x-1 within /tmp/x-12).
func containsPath(b, path []byte) bool {
	for len(b) > 0 {
		i := bytes.Index(b, path)
		if i < 0 {
			return false
		}
		end := i + len(path)
		if end == len(b) || !isNameByte(b[end]) {
			return true
		}
		b = b[i+1:]
	}
	return false
}

func isNameByte(c byte) bool {
	return c == '-' || c == '_' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// signalName names the signal that ended a process, "" if none did.
func signalName(ps *os.ProcessState) string {
	if ps == nil {
		return ""
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return ""
	}
	switch sig := ws.Signal(); sig {
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case syscall.SIGABRT:
		return "SIGABRT"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGBUS:
		return "SIGBUS"
	case syscall.SIGILL:
		return "SIGILL"
	case syscall.SIGFPE:
		return "SIGFPE"
	case syscall.SIGTRAP:
		return "SIGTRAP"
	case syscall.SIGSYS:
		return "SIGSYS"
	case syscall.SIGPIPE:
		return "SIGPIPE"
	case syscall.SIGUSR1:
		return "SIGUSR1"
	case syscall.SIGUSR2:
		return "SIGUSR2"
	case syscall.SIGXCPU:
		return "SIGXCPU"
	case syscall.SIGXFSZ:
		return "SIGXFSZ"
	default:
		return "signal " + strconv.Itoa(int(sig))
	}
}
