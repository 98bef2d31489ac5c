// This file finds and kills Chromium's processes by process group and profile directory.

package render

import (
	"os/exec"
	"time"

	"github.com/empplay/empplay/internal/proc"
)

// leftoverKillTimeout bounds how long killUsing waits for the processes it
// kills to vanish: SIGKILLed processes can take seconds to exit on a
// loaded host (a renderer freeing gigabytes).
const leftoverKillTimeout = 10 * time.Second

// ownProcessGroup puts Chromium in a process group of its own, so that one
// kill reaches the browser and every renderer, GPU and utility process it
// forks. Supplying a ModifyCmdFunc drops chromedp's default Pdeathsig, so
// set it again: the kernel kills Chromium if the thread that started it
// dies (chromedp keeps that goroutine locked to its thread while the
// browser runs).
func ownProcessGroup(cmd *exec.Cmd) {
	proc.OwnGroup(cmd)
	// exec.CommandContext kills only the leader by default.
	cmd.Cancel = func() error {
		return killGroup(cmd.Process.Pid)
	}
	cmd.WaitDelay = cmdWaitDelay
}

// killGroup sends SIGKILL to the process group pgid. A group that is gone
// already is not an error.
func killGroup(pgid int) error {
	return proc.KillGroup(pgid)
}

// ours reports whether process group pgid still has a member that uses
// dir: then the group id cannot have been reused by anyone else.
func ours(pgid int, dir string) bool {
	return proc.GroupNaming(pgid, dir)
}

// killUsing kills every process that has dir in an argument and waits
// for them to vanish. The directory is unique to one browser start, so
// this only reaches that browser's processes: the crashpad handlers,
// which leave the process group, or a child that outlived the group kill.
// Never kill by name: other workers run Chromium too.
func killUsing(dir string) {
	proc.KillNaming(dir, leftoverKillTimeout)
}
