package render

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/hostcheck"
	"github.com/empplay/empplay/internal/proc"
)

// groupCPU is the CPU time, by process type, of every process in process
// group pgid, reaped children included.
func groupCPU(pgid int) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, p := range proc.InGroup(pgid) {
		out[processKind(p.PID)] += time.Duration(p.Stat.CPU+p.Stat.ChildCPU) * 10 * time.Millisecond
	}
	return out
}

// groupFaults is the minor page faults, by process type, of every process
// in process group pgid, reaped children included.
func groupFaults(pgid int) map[string]int64 {
	out := map[string]int64{}
	for _, p := range proc.InGroup(pgid) {
		out[processKind(p.PID)] += p.Stat.Faults
	}
	return out
}

// processKind is a Chromium process's type: its --type= argument, with
// the network service told apart from the other utilities, and "browser"
// for the process that has none.
func processKind(pid int) string {
	args, _ := proc.Cmdline(pid)
	cmd := strings.Join(args, "\x00")
	kind := "browser"
	if j := strings.Index(cmd, "--type="); j >= 0 {
		kind = cmd[j+7:]
		if k := strings.IndexAny(kind, " \x00"); k >= 0 {
			kind = kind[:k]
		}
	}
	if kind == "utility" && strings.Contains(cmd, "network") {
		kind = "network"
	}
	return kind
}

// faultCost is what the first touch of an anonymous page costs this host,
// in µs (the least of three 64 MiB rounds, see hostcheck.PageFault; -1
// when it cannot be measured). A job is tens of thousands of such faults
// (every renderer is a new process): on a host where they cost 15 µs the
// same code took 3.5 times the CPU per job of a session before, so
// bench-cpu's figures are read against it.
func faultCost() float64 {
	d, err := hostcheck.PageFault(64<<20, 3)
	if err != nil {
		return -1
	}
	return float64(d.Nanoseconds()) / 1e3
}

// benchJob is the p5 job BenchmarkCPUPerJob renders: the static sketch at
// 800x800, or BENCH_SKETCH (a file, relative to the repository's root or
// absolute) at BENCH_SIZE (WIDTHxHEIGHT). A sketch that draws almost
// nothing at 10x10 measures what every p5 job costs before its drawing.
func benchJob() (*empplay.Job, error) {
	file := cmp.Or(os.Getenv("BENCH_SKETCH"), "examples/bench/static-2d.js")
	if !filepath.IsAbs(file) {
		file = filepath.Join("..", file)
	}
	code, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("BENCH_SKETCH: %w", err)
	}
	w, h := 800, 800
	if size := os.Getenv("BENCH_SIZE"); size != "" {
		if _, err := fmt.Sscanf(size, "%dx%d", &w, &h); err != nil || w <= 0 || h <= 0 {
			return nil, fmt.Errorf("BENCH_SIZE %q: want WIDTHxHEIGHT, such as 800x800", size)
		}
	}
	return job(string(code), w, h), nil
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCPUPerJob renders the peers' static sketch (its copy is
// examples/bench/static-2d.js; BENCH_SKETCH names another p5 sketch's file
// and BENCH_SIZE its WIDTHxHEIGHT, 800x800 unless set) back to back, under
// each isolation mode, and reports the CPU time per job of the browser's
// processes by type (renderers that have exited count in the zygote's) and
// of this process (the worker's share), jobs/s, the browser's memory after
// the jobs and its growth over them, its CPU while it then waits, and
// what a page fault costs the host (see faultCost).
func BenchmarkCPUPerJob(b *testing.B) {
	for _, mode := range []string{IsolateOrigin, IsolateContext} {
		b.Run(mode, func(b *testing.B) {
			j, err := benchJob()
			if err != nil {
				b.Fatal(err)
			}
			br := newTestBrowser(b, Options{Isolation: mode})
			ctx := context.Background()
			for range 3 { // warm up
				if _, err := br.Render(ctx, j); err != nil {
					b.Fatal(err)
				}
			}
			_ = br.settle(ctx)
			// As before the figure after the jobs: a second for the last
			// job's renderer to exit, else it counts in m0 and the growth
			// came out about -100 MiB.
			time.Sleep(time.Second)
			pg := br.PID()
			m0 := proc.GroupMemory(pg)
			c0, s0, f0, n := groupCPU(pg), selfCPU(), groupFaults(pg), 0
			start := time.Now()
			for b.Loop() {
				if _, err := br.Render(ctx, j); err != nil {
					b.Fatal(err)
				}
				n++
			}
			_ = br.settle(ctx)
			wall := time.Since(start)
			c1, s1, f1 := groupCPU(pg), selfCPU(), groupFaults(pg)
			var total time.Duration
			for k, v := range c1 {
				d := v - c0[k]
				total += d
				b.ReportMetric(float64(d.Milliseconds())/float64(n), k+"-ms/job")
			}
			b.ReportMetric(float64((s1-s0).Milliseconds())/float64(n), "go-ms/job")
			b.ReportMetric(float64((total+s1-s0).Milliseconds())/float64(n), "cpu-ms/job")
			b.ReportMetric(float64(n)/wall.Seconds(), "jobs/s")
			b.ReportMetric(faultCost(), "host-fault-us")
			// Page faults do not depend on what one costs the host, so
			// they compare across hosts where the CPU figures do not.
			var faults int64
			for k, v := range f1 {
				faults += v - f0[k]
				b.ReportMetric(float64(v-f0[k])/float64(n), k+"-faults/job")
			}
			b.ReportMetric(float64(faults)/float64(n), "faults/job")
			// What the browser holds after the jobs, and how much more than
			// before them (summed PSS; the same browser throughout), and
			// the CPU it spends waiting for the next job (its tabs
			// prepared).
			if br.PID() == pg {
				// Measured over real time: a second to settle, then the
				// CPU of two idle seconds.
				time.Sleep(time.Second)
				i0 := groupCPU(pg)
				time.Sleep(2 * time.Second)
				var idle time.Duration
				for k, v := range groupCPU(pg) {
					idle += v - i0[k]
				}
				b.ReportMetric(float64(idle.Milliseconds())/2, "idle-cpu-ms/s")
				m1 := proc.GroupMemory(pg)
				b.ReportMetric(float64(m1)/(1<<20), "pss-MiB")
				b.ReportMetric(float64(m1-m0)/(1<<20), "pss-growth-MiB")
			}
		})
	}
}
