// This file bounds the memory of one job: a watch on the browser's renderer processes while the job runs, and V8's heap limit.

package render

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/proc"
)

const (
	// memorySample is how often a running job's renderer processes are
	// measured. A sketch that allocates as fast as it can (a few GiB a
	// second) overshoots the limit by at most this much time's worth.
	memorySample = 150 * time.Millisecond
	// rendererRescan is how often the list of renderer processes is read
	// afresh from /proc (which costs a read of every process's stat); in
	// between only the known renderers are measured.
	rendererRescan = time.Second
	// crashStatusWait bounds the wait for the browser's word on why a page
	// crashed, which comes on another DevTools session than the crash.
	crashStatusWait = time.Second
)

// v8HeapLimitMiB is the V8 old-space limit of every renderer for a job
// limit of limit bytes: the limit itself. The JavaScript heap alone can
// then never take a renderer past the job's limit; with the rest of the
// renderer (its code, the DOM, canvases, typed arrays) on top, the guard
// stops a growing heap first. A lower V8 limit would fail the page
// sooner in theory but not in practice: near its limit V8 collects
// garbage over and over, for many seconds, before it gives up (a
// 384 MiB limit took 14 s to crash the page on Chromium 156), while
// the guard stops the renderer within a sample of its crossing.
func v8HeapLimitMiB(limit int64) int64 {
	return max(limit>>20, 64)
}

// memoryGuard watches the renderer processes of one browser while one job
// runs, and kills a renderer whose memory goes over the job's limit. The
// job's page runs in a renderer of its own (it is a site of its own, and
// Chromium isolates sites: see newOrigin); a renderer of another tab does
// not come near the limit, so any renderer over it is the job's.
type memoryGuard struct {
	limit int64          // bytes
	procs *proc.Follower // the browser's processes
	tb    *tab

	// over receives the memory of the renderer the guard killed.
	over chan int64
	// killed is that figure too, for whoever sees the crash first.
	killed atomic.Int64
	// peak is the most one renderer used while the guard watched.
	peak atomic.Int64

	stopOnce sync.Once
	quit     chan struct{}
	done     chan struct{}
}

// guardMemory starts watching the renderers of tab tb's browser for the
// job about to run in tb. The caller stops the guard when the job ends.
func (b *Browser) guardMemory(tb *tab) *memoryGuard {
	g := &memoryGuard{
		limit: b.opts.JobMemory,
		procs: tb.inst.procs,
		tb:    tb,
		over:  make(chan int64, 1),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	if tb.inst.pid <= 0 {
		close(g.done)
		return g
	}
	go g.run()
	return g
}

// stop ends the watch and waits for it.
func (g *memoryGuard) stop() {
	g.stopOnce.Do(func() { close(g.quit) })
	<-g.done
}

func (g *memoryGuard) run() {
	defer close(g.done)
	t := time.NewTicker(memorySample)
	defer t.Stop()
	var pids []int
	var before map[int]int64 // the renderers that ran before the job, and their size then
	var scanned time.Time
	for {
		if time.Since(scanned) >= rendererRescan {
			pids, scanned = renderers(g.procs), time.Now()
		}
		sample := make([]rendererMemory, 0, len(pids))
		for _, pid := range pids {
			m := proc.RSS(pid)
			if m > g.peak.Load() {
				g.peak.Store(m)
			}
			sample = append(sample, rendererMemory{pid: pid, rss: m})
		}
		if before == nil {
			before = make(map[int]int64, len(sample))
			for _, r := range sample {
				before[r.pid] = r.rss
			}
		}
		for i := range sample {
			sample[i].base = before[sample[i].pid]
		}
		kill, used, stray := judgeMemory(sample, g.limit)
		for _, pid := range stray {
			// Over the limit, but not this job's: the host is protected all
			// the same, and the job goes on.
			_ = syscall.Kill(pid, syscall.SIGKILL)
			g.tb.logger.Warn("killed a renderer over the memory limit that the job's tab had left", "pid", pid)
		}
		if len(kill) > 0 {
			// At once: every sample more is hundreds of MiB more.
			for _, pid := range kill {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			g.tb.gone.Store(true)
			g.killed.Store(used)
			g.over <- used
			return
		}
		select {
		case <-g.quit:
			return
		case <-t.C:
		}
	}
}

// rendererMemory is one renderer's resident size in a sample. The resident
// size counts the pages of Chromium's code the renderer shares with the
// browser's other processes (tens of MiB), but it is what the kernel's
// accounting (and the unit's MemoryMax) sees, and it costs one small read.
type rendererMemory struct {
	pid  int
	rss  int64
	base int64 // its size when the job started, 0 for one started since
}

const (
	// spreadSlack is what judgeMemory allows over the limit for a job
	// spread over several renderers, whose count takes in the growth of
	// the next job's tab (a renderer of about 100 MiB) while the job runs.
	spreadSlack = 256 << 20
	// grewBy is how much a renderer must have grown during a job to be
	// counted among the job's when they are killed.
	grewBy = 16 << 20
	// leftBehind is the least size a renderer must have had when the job
	// started to be taken for a page the job's tab has left (see
	// leftover).
	leftBehind = 256 << 20
)

// leftover reports whether a renderer that was base bytes when the job
// started is a page the job's tab has left (the last job's, whose exit
// handlers may still run after the next job starts: see overlap), not
// the job's own: the job's page runs in a renderer that was new, or a
// prepared shell page of about 100 MiB, when the job began.
func leftover(base, limit int64) bool {
	return base > max(limit/2, leftBehind)
}

// judgeMemory decides from one sample of a browser's renderers which to
// kill for the job that runs, and how much the job used (0: none). A
// renderer over limit is killed, alone. A page can also spread over
// several renderers (a sandboxed iframe gets a process of its own, maybe
// the spare renderer Chromium keeps started): the job is taken to use the
// largest renderer and whatever the others grew by since it started (all
// of a renderer started since), and when that is over limit + spreadSlack
// the largest and every renderer that grew are killed. A leftover
// renderer (the last job's page, still leaving) is never the job's:
// stray lists it when it is over limit, to be killed without failing the
// job.
func judgeMemory(sample []rendererMemory, limit int64) (kill []int, used int64, stray []int) {
	largest := -1
	for i, r := range sample {
		if leftover(r.base, limit) {
			if r.rss > limit {
				stray = append(stray, r.pid)
			}
			continue
		}
		if r.rss > limit {
			return []int{r.pid}, r.rss, stray
		}
		if largest < 0 || r.rss > sample[largest].rss {
			largest = i
		}
	}
	if largest < 0 {
		return nil, 0, stray
	}
	used = sample[largest].rss
	kill = []int{sample[largest].pid}
	for i, r := range sample {
		if i == largest || r.rss <= r.base || leftover(r.base, limit) {
			continue
		}
		used += r.rss - r.base
		if r.rss-r.base > grewBy {
			kill = append(kill, r.pid)
		}
	}
	if used > limit+spreadSlack {
		return kill, used, stray
	}
	return nil, 0, stray
}

// renderers returns the renderer processes of the browser's group (a
// Chromium started in a group of its own: see ownProcessGroup).
func renderers(procs *proc.Follower) []int {
	var pids []int
	for _, p := range procs.Members() {
		if args, ok := proc.Cmdline(p.PID); ok && isRenderer(args) {
			pids = append(pids, p.PID)
		}
	}
	return pids
}

// isRenderer reports whether a Chromium command line is a renderer's. A
// child process may have rewritten its command line as one string with
// spaces (setproctitle).
func isRenderer(args []string) bool {
	for _, a := range args {
		if i := strings.Index(a, "--type=renderer"); i >= 0 {
			rest := a[i+len("--type=renderer"):]
			if rest == "" || rest[0] == ' ' {
				return true
			}
		}
	}
	return false
}

// memoryLimitError is the failure of a job whose renderer used used bytes,
// over limit.
func memoryLimitError(used, limit int64) error {
	return empplay.Errorf(empplay.CodeMemoryLimit,
		"memory limit: the sketch used %d MiB, over this worker's %d MiB limit per job (BROWSER_JOB_MEMORY_MB)",
		used>>20, limit>>20)
}

// crashError is the failure of a job whose page crashed while g watched
// it: memory_limit when the guard killed the renderer or when the browser
// says the renderer ran out of memory (V8's heap limit: see
// v8HeapLimitMiB), else a transient browser_error.
func (tb *tab) crashError(g *memoryGuard) error {
	if used := g.killed.Load(); used > 0 {
		return memoryLimitError(used, g.limit)
	}
	status := tb.crashStatus(crashStatusWait)
	if used := g.killed.Load(); used > 0 {
		return memoryLimitError(used, g.limit)
	}
	// V8 ends a renderer whose heap is full with a trap ("crashed" on
	// Linux; "oom" where the browser recognises it): a crash of a renderer
	// that had come near the limit is that.
	if peak := g.peak.Load(); status == "oom" || peak >= g.limit*9/10 {
		return empplay.Errorf(empplay.CodeMemoryLimit,
			"memory limit: the sketch ran out of memory (its renderer used %d MiB; this worker's limit per job is %d MiB, BROWSER_JOB_MEMORY_MB)",
			peak>>20, g.limit>>20)
	}
	why := "render: the page crashed"
	if status != "" {
		why += " (" + status + ")"
	}
	return empplay.Transient(empplay.CodeBrowserError, fmt.Errorf("%s; its renderer used at most %s", why, mib(g.peak.Load())))
}

// crashStatus waits up to wait for the termination status the browser
// gave for the tab's crashed renderer ("oom", "crashed", "killed", ...),
// "" when none came.
func (tb *tab) crashStatus(wait time.Duration) string {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case s := <-tb.crashInfo:
		return s
	case <-t.C:
		return ""
	}
}

// mib formats bytes in MiB.
func mib(n int64) string {
	return strconv.FormatInt(n>>20, 10) + " MiB"
}
