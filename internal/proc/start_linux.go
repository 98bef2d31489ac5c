package proc

import (
	"os/exec"
	"runtime"
	"syscall"
)

// OwnGroup makes cmd start in a process group of its own, so that one
// kill(-pgid) reaches it and everything it forks, with SIGKILL as its
// death signal in case the parent dies first (see [Start] for why that
// needs a locked thread). Other attributes already set (credentials, for
// example) are kept.
func OwnGroup(cmd *exec.Cmd) {
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

// Start starts cmd from a goroutine locked to its OS thread and returns a
// channel that receives the result of cmd.Wait.
//
// Pdeathsig is delivered when the thread that forked the child exits, not
// when the process does (golang/go#27505), and the Go runtime retires idle
// threads; started from an ordinary goroutine, a child could be killed at
// random. The goroutine therefore stays locked until Wait returns, and
// exits still locked, so the runtime ends its thread only once the child
// is dead.
func Start(cmd *exec.Cmd) (<-chan error, error) {
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
		waited <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return waited, nil
}
