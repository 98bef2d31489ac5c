// This file finds and kills Chromium's processes by process group and profile directory.

package render

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ownProcessGroup puts Chromium in a process group of its own, so that one
// kill reaches the browser and every renderer, GPU and utility process it
// forks. Supplying a ModifyCmdFunc drops chromedp's default Pdeathsig, so
// set it again: the kernel kills Chromium if the thread that started it
// dies (chromedp keeps that goroutine locked to its thread while the
// browser runs).
func ownProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pgid = 0
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	// exec.CommandContext kills only the leader by default.
	cmd.Cancel = func() error {
		return killGroup(cmd.Process.Pid)
	}
	cmd.WaitDelay = cmdWaitDelay
}

// killGroup sends SIGKILL to the process group pgid. A group that is gone
// already is not an error.
func killGroup(pgid int) error {
	if pgid <= 0 {
		return nil
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill process group %d: %w", pgid, err)
	}
	return nil
}

// procs calls f with the pid, process group and arguments of every
// process but this one.
func procs(f func(pid, pgrp int, args [][]byte)) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces and parens.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 3 {
			continue
		}
		pgrp, _ := strconv.Atoi(fields[2])
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		f(pid, pgrp, bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0}))
	}
}

// usesDir reports whether an argument names dir or a path inside it.
// Chromium's child processes rewrite their command line (setproctitle) as
// one string with spaces, so dir may be followed by a space too.
func usesDir(args [][]byte, dir string) bool {
	want := []byte(dir)
	for _, arg := range args {
		for rest := arg; ; {
			i := bytes.Index(rest, want)
			if i < 0 {
				break
			}
			rest = rest[i+len(want):]
			if len(rest) == 0 || !isNameByte(rest[0]) {
				return true
			}
		}
	}
	return false
}

// isNameByte reports whether c can continue a directory name made by
// os.MkdirTemp.
func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

// ours reports whether process group pgid still has a member that uses
// dir: then the group id cannot have been reused by anyone else.
func ours(pgid int, dir string) bool {
	found := false
	procs(func(_, pgrp int, args [][]byte) {
		found = found || (pgrp == pgid && usesDir(args, dir))
	})
	return found
}

// killUsing kills every process that has dir in an argument, until a few
// passes in a row find none. The directory is unique to one browser start,
// so this only reaches that browser's processes: the crashpad handlers,
// which leave the process group, or a child that outlived the group kill.
// Never kill by name: other workers run Chromium too.
func killUsing(dir string) {
	// SIGKILLed processes can take seconds to exit on a loaded host (a
	// renderer freeing gigabytes); keep going until none is left.
	deadline := time.Now().Add(10 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		found := 0
		procs(func(pid, _ int, args [][]byte) {
			if usesDir(args, dir) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				found++
			}
		})
		if found == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}
