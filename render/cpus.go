// This file starts Chromium on one CPU and then gives it back the rest:
// what makes video bytes the same run to run.

package render

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/empplay/empplay/internal/proc"
)

// Chromium's software video encoders (OpenH264 for H.264, libvpx for
// VP9) use min(f(frame area), CPUs) threads: 2 from 640x480, 4 from
// 1280x720, 8 from 1920x1080. With more than one thread OpenH264 balances
// its slices by how long each took to encode, so the same frames give
// different bytes on every run (about 54 dB PSNR apart: invisible, but not
// the same file), and a host with another number of CPUs gives other bytes
// again. A Chromium process counts the CPUs it may run on when it starts.
//
// So Chromium starts bound to one CPU, and once it is up every process in
// its group except the zygotes gets the worker's whole CPU set back (the
// browser, GPU and network processes). The zygotes stay bound, so every
// renderer they fork (one per job) starts on that one CPU and counts one:
// its encoder uses one thread, and the same bytes come out on every run
// and every host. Once a job's page is in its renderer, and the renderer
// has counted (see widenRenderers), it gets every CPU back, so that the
// page, the encoder thread and the next job's tab being prepared run side
// by side as before.
//
// pinnedCPU returns the CPU at position k (modulo their number) among
// those this process may use, and all of them; cpu is -1 when the
// affinity cannot be read (then nothing is bound).
func pinnedCPU(k int) (cpu int, all unix.CPUSet) {
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		return -1, all
	}
	return cpuAt(&all, k), all
}

// cpuAt is the CPU at position k modulo the number of CPUs in set, or -1
// for an empty set.
func cpuAt(set *unix.CPUSet, k int) int {
	n := set.Count()
	if n == 0 {
		return -1
	}
	k %= n
	if k < 0 {
		k += n
	}
	for i := 0; i < len(set)*64; i++ {
		if set.IsSet(i) {
			if k == 0 {
				return i
			}
			k--
		}
	}
	return -1
}

// startOnCPU rewrites cmd to run through taskset, bound to cpu. The pid
// stays the same (taskset execs the program), so process-group handling
// is unchanged. Without taskset in PATH, or with cpu < 0, cmd is left as
// it is and false is returned.
func startOnCPU(cmd *exec.Cmd, cpu int) bool {
	if cpu < 0 {
		return false
	}
	ts, err := exec.LookPath("taskset")
	if err != nil {
		return false
	}
	prog := cmd.Path
	args := append([]string{"taskset", "--cpu-list", strconv.Itoa(cpu), prog}, cmd.Args[1:]...)
	cmd.Path, cmd.Args = ts, args
	return true
}

// unpin gives every thread of every process of the browser's group, except
// the zygotes, the CPU set all. A thread that exits meanwhile is no error;
// any other failure is returned (the browser then still works, on one
// CPU).
func unpin(procs *proc.Follower, all unix.CPUSet) error {
	var first error
	for _, p := range procs.Members() {
		if args, ok := proc.Cmdline(p.PID); ok && hasSwitch(args, "--type=zygote") {
			continue
		}
		if err := setAffinity(p.PID, all); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// setAffinity gives every thread of process pid the CPU set all. A thread
// or process that exits meanwhile is no error.
func setAffinity(pid int, all unix.CPUSet) error {
	for _, tid := range proc.Threads(pid) {
		if err := unix.SchedSetaffinity(tid, &all); err != nil && err != unix.ESRCH {
			return fmt.Errorf("render: give chromium pid %d thread %d all CPUs: %w", pid, tid, err)
		}
	}
	return nil
}

// hasSwitch reports whether a Chromium command line has switch sw. A
// child process rewrites its command line into one string joined with
// spaces.
func hasSwitch(args []string, sw string) bool {
	for _, a := range args {
		for _, f := range strings.Fields(a) {
			if f == sw {
				return true
			}
		}
	}
	return false
}

// widenRenderers gives every renderer of the browser's group that is still
// bound to one CPU, and has finished starting, the CPU set all. A
// renderer has counted its CPUs once it runs its thread pool (a thread
// named ThreadPoolServi...), so one widened after that keeps encoding on
// one thread, while its page and encoder run on different CPUs. A
// renderer still starting is left bound.
func widenRenderers(procs *proc.Follower, all unix.CPUSet) error {
	var first error
	for _, p := range procs.Members() {
		args, _ := proc.Cmdline(p.PID)
		if !hasSwitch(args, "--type=renderer") {
			continue
		}
		var cur unix.CPUSet
		if unix.SchedGetaffinity(p.PID, &cur) != nil || cur.Count() != 1 || !proc.HasThread(p.PID, "ThreadPoolServi") {
			continue
		}
		if err := setAffinity(p.PID, all); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// widen gives the renderers of inst that have started all of the
// worker's CPUs (see widenRenderers). Render calls it once the job's page
// is in its renderer; it does nothing for a browser that was not bound.
func (b *Browser) widen(inst *instance) {
	if !inst.pinned {
		return
	}
	if err := widenRenderers(inst.procs, inst.cpus); err != nil {
		b.logger.Debug("a renderer keeps one CPU", "err", err)
	}
}
