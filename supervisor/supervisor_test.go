//go:build linux

package supervisor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/proc"
	"github.com/empplay/empplay/internal/testenv"
)

// harness runs a Supervisor whose children are the test binary in fake
// child modes, and records what it does.
type harness struct {
	t      *testing.T
	sup    *Supervisor
	logs   *lockedBuffer
	cancel context.CancelFunc
	runErr chan error
	pidDir string

	mu        sync.Mutex
	starts    []startRecord
	exits     []exitRecord
	firstIdle map[string]time.Time // by worker id
	stopping  int                  // "stopping" reports received
}

type startRecord struct {
	Slot Slot
	Mode string
	At   time.Time
}

type exitRecord struct {
	Exit
	At time.Time
	// Returned is when OnExit returned, after the checks below (a scan
	// of /proc, slow on a busy host): what the supervisor restarts from.
	Returned time.Time
	// Seen when OnExit was called, which must be after the cleanup.
	DirLeft, ChildAlive bool
	Holders             []int
}

// newHarness returns a harness for cfg, whose unset fields get short test
// values, with mode choosing the fake child of each incarnation.
func newHarness(t *testing.T, cfg Config, mode func(s Slot) string) *harness {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, logs: &lockedBuffer{}, runErr: make(chan error, 1), pidDir: t.TempDir(),
		firstIdle: map[string]time.Time{}}
	if cfg.Slots == 0 {
		cfg.Slots = 1
	}
	cfg.IDPrefix = "test"
	cfg.ProfileRoot = t.TempDir() // its removal fails the test if a profile dir leaks
	cfg.Logger = slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	setDur := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	setDur(&cfg.StopGrace, 10*time.Second)
	setDur(&cfg.RestartBase, 20*time.Millisecond)
	setDur(&cfg.RestartMax, 100*time.Millisecond)
	setDur(&cfg.StartTimeout, 10*time.Second)
	setDur(&cfg.ReportTimeout, 5*time.Second)
	if cfg.Command == nil {
		cfg.Command = func(s Slot) *exec.Cmd {
			m := mode(s)
			h.mu.Lock()
			h.starts = append(h.starts, startRecord{Slot: s, Mode: m, At: time.Now()})
			h.mu.Unlock()
			cmd := exec.Command(exe)
			cmd.Env = append(os.Environ(),
				envFakeMode+"="+m,
				envFakeProfile+"="+s.ProfileDir,
				envFakeWorker+"="+s.WorkerID,
				envFakePIDFile+"="+h.pidFile(s),
			)
			return cmd
		}
	}
	cfg.OnExit = func(_ context.Context, e Exit) {
		rec := exitRecord{Exit: e, At: time.Now()}
		if e.Slot.ProfileDir != "" {
			_, err := os.Stat(e.Slot.ProfileDir)
			rec.DirLeft = !errors.Is(err, os.ErrNotExist)
			rec.Holders = proc.Naming(e.Slot.ProfileDir)
		}
		rec.ChildAlive = e.PID > 0 && proc.Alive(e.PID)
		rec.Returned = time.Now()
		h.mu.Lock()
		h.exits = append(h.exits, rec)
		h.mu.Unlock()
	}
	cfg.OnReport = func(_ int, r empplay.Report) {
		if r.State == empplay.StateStopping {
			h.mu.Lock()
			h.stopping++
			h.mu.Unlock()
		}
		if r.State != "idle" {
			return
		}
		h.mu.Lock()
		if _, ok := h.firstIdle[r.Worker]; !ok {
			h.firstIdle[r.Worker] = time.Now()
		}
		h.mu.Unlock()
	}
	h.sup = New(cfg)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("supervisor log:\n%s", h.logs.String())
		}
	})
	return h
}

func (h *harness) pidFile(s Slot) string {
	return filepath.Join(h.pidDir, fmt.Sprintf("slot%d-%d.pids", s.Index, s.Incarnation))
}

// run starts Run; the test's cleanup stops it if the test did not.
func (h *harness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.runErr <- h.sup.Run(ctx) }()
	h.t.Cleanup(func() {
		cancel()
		select {
		case <-h.runErr:
		case <-time.After(30 * time.Second):
			h.sup.Force()
			h.t.Error("Run did not return within 30s of the end of the test")
			<-h.runErr
		}
	})
}

// stop cancels Run's context and returns its error and how long it took.
func (h *harness) stop() (time.Duration, error) {
	h.t.Helper()
	start := time.Now()
	h.cancel()
	select {
	case err := <-h.runErr:
		h.runErr <- err // for the cleanup
		return time.Since(start), err
	case <-time.After(30 * time.Second):
		h.t.Fatal("Run did not return within 30s of cancellation")
		return 0, nil
	}
}

// waitRun waits for Run to return by itself.
func (h *harness) waitRun(timeout time.Duration) error {
	h.t.Helper()
	select {
	case err := <-h.runErr:
		h.runErr <- err
		return err
	case <-time.After(timeout):
		h.t.Fatalf("Run did not return within %v", timeout)
		return nil
	}
}

func (h *harness) exitList() []exitRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]exitRecord(nil), h.exits...)
}

func (h *harness) startList() []startRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]startRecord(nil), h.starts...)
}

// stoppingReports returns how many "stopping" reports children sent.
func (h *harness) stoppingReports() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stopping
}

func (h *harness) idleAt(workerID string) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	at, ok := h.firstIdle[workerID]
	return at, ok
}

// waitExits waits until at least n incarnations have ended.
func (h *harness) waitExits(n int, timeout time.Duration) []exitRecord {
	h.t.Helper()
	waitFor(h.t, timeout, fmt.Sprintf("%d worker exits", n), func() bool { return len(h.exitList()) >= n })
	return h.exitList()
}

// waitReady waits until every slot is ready with an incarnation of at
// least inc.
func (h *harness) waitReady(inc int, timeout time.Duration) []SlotStatus {
	h.t.Helper()
	var st []SlotStatus
	waitFor(h.t, timeout, fmt.Sprintf("all slots ready (incarnation >= %d)", inc), func() bool {
		st = h.sup.Status()
		for _, s := range st {
			if !s.Ready || s.Slot.Incarnation < inc {
				return false
			}
		}
		return true
	})
	return st
}

// logRecords parses the supervisor's JSON log.
func (h *harness) logRecords() []map[string]any {
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(h.logs.String()))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			h.t.Fatalf("supervisor log line is not JSON: %v: %s", err, sc.Bytes())
		}
		recs = append(recs, m)
	}
	return recs
}

func (h *harness) findLog(msg string) map[string]any {
	for _, r := range h.logRecords() {
		if r["msg"] == msg {
			return r
		}
	}
	return nil
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, timeout, 10*time.Millisecond, cond, "timed out waiting for %s", what)
}

func always(mode string) func(Slot) string { return func(Slot) string { return mode } }

// firstThen runs mode in the first incarnation of every slot, then ok.
func firstThen(mode string) func(Slot) string {
	return func(s Slot) string {
		if s.Incarnation == 1 {
			return mode
		}
		return "ok"
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// assertGone checks that, by the time OnExit was called and still now, an
// incarnation left no process, no profile dir and no process naming it.
func assertGone(t *testing.T, e exitRecord) {
	t.Helper()
	if e.DirLeft || e.ChildAlive || len(e.Holders) > 0 {
		t.Errorf("at OnExit of %s: profile dir left %v, child %d alive %v, processes naming the dir %v",
			e.Slot.WorkerID, e.DirLeft, e.PID, e.ChildAlive, e.Holders)
	}
	s := e.Slot
	if _, err := os.Stat(s.ProfileDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("profile dir %s of %s still exists (stat: %v)", s.ProfileDir, s.WorkerID, err)
	}
	if pids := proc.Naming(s.ProfileDir); len(pids) > 0 {
		t.Errorf("processes %v still name the profile dir %s", pids, s.ProfileDir)
	}
}

func TestCrashRestartsWithBackoff(t *testing.T) {
	t.Parallel()
	// The delays are real waits, so base is what the test costs (7 x
	// base). The gaps are measured from OnExit's return to the next
	// Command call, which starts no process, so an immediate restart
	// stays far below base, even on a slow, busy host, while the next
	// restarts wait base and more.
	const base = 300 * time.Millisecond
	h := newHarness(t, Config{RestartBase: base, RestartMax: 4 * base, DegradedAfter: 100}, always("crash"))
	h.sup.jitter = func(n int64) int64 { return n - 1 } // the ceiling, so delays are known
	h.run()
	h.waitExits(5, 30*time.Second)
	if _, err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}

	exits, starts := h.exitList(), h.startList()
	want := []time.Duration{0, base, 2 * base, 4 * base}
	for k, d := range want {
		gap := starts[k+1].At.Sub(exits[k].Returned)
		t.Logf("restart %d after %v (delay %v)", k+1, gap.Round(time.Millisecond), d)
		if k == 0 {
			// Immediate: nothing but starting the process stands between.
			if gap >= base {
				t.Errorf("first restart came %v after OnExit returned; want it immediate (well under %v)", gap, base)
			}
			continue
		}
		if gap < d {
			t.Errorf("restart %d came %v after the exit; want at least %v", k+1, gap, d)
		}
	}
	pid := os.Getpid()
	idRE := regexp.MustCompile(`^test:slot0:(\d+):` + strconv.Itoa(pid) + `:[a-z2-7]{6}$`)
	ids, dirs := map[string]bool{}, map[string]bool{}
	for i, e := range exits[:5] {
		if e.ExitCode != 1 || e.Signal != "" || e.Reason != "exited" || e.PID <= 0 {
			t.Errorf("exit %d = %+v; want code 1, reason exited", i, e.Exit)
		}
		m := idRE.FindStringSubmatch(e.Slot.WorkerID)
		if m == nil || m[1] != strconv.Itoa(e.Slot.Incarnation) || e.Slot.Incarnation != i+1 {
			t.Errorf("exit %d: worker id %q, incarnation %d; want test:slot0:%d:%d:xxxxxx", i, e.Slot.WorkerID, e.Slot.Incarnation, i+1, pid)
		}
		if ids[e.Slot.WorkerID] || dirs[e.Slot.ProfileDir] {
			t.Errorf("exit %d reuses a worker id or profile dir: %+v", i, e.Slot)
		}
		ids[e.Slot.WorkerID], dirs[e.Slot.ProfileDir] = true, true
		if !strings.HasPrefix(filepath.Base(e.Slot.ProfileDir), "empplay-slot0-") {
			t.Errorf("profile dir %s; want empplay-slot0-*", e.Slot.ProfileDir)
		}
		assertGone(t, e)
	}
	if st := h.sup.Status()[0]; st.Restarts < 4 || st.State != "stopped" || st.PID != 0 {
		t.Errorf("status after stop = %+v; want stopped with at least 4 restarts", st)
	}
	var logged []time.Duration
	for _, r := range h.logRecords() {
		if d, ok := r["delay"].(float64); ok && r["msg"] == "worker ended; restarting" {
			logged = append(logged, time.Duration(d))
		}
	}
	if len(logged) < len(want) || !slices.Equal(logged[:len(want)], want) {
		t.Errorf("logged restart delays %v; want %v first", logged, want)
	}
	r := h.findLog("worker ended; restarting")
	if r == nil {
		t.Fatal(`no "worker ended; restarting" log`)
	}
	for _, k := range []string{"slot", "pid", "exit_code", "signal", "restarts", "reason", "delay"} {
		if _, ok := r[k]; !ok {
			t.Errorf("restart log %v has no %q", r, k)
		}
	}
}

func TestDegradedSlotKeepsRetrying(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{DegradedAfter: 3, RestartBase: 10 * time.Millisecond, RestartMax: 100 * time.Millisecond},
		always("crash"))
	h.run()
	waitFor(t, 20*time.Second, "slot degraded", func() bool { return h.sup.Status()[0].Degraded })
	n := len(h.exitList())
	h.waitExits(n+2, 20*time.Second) // still restarted, at the cap
	if _, err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	r := h.findLog("worker slot degraded: it keeps failing; retrying at the backoff cap")
	if r == nil || r["level"] != "ERROR" {
		t.Fatalf("degraded log = %v; want one at ERROR", r)
	}
}

func TestConfigExitStopsEverything(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, Config{Slots: 2}, func(s Slot) string {
		if s.Index == 0 {
			return "ok"
		}
		// Let slot 0 come up first, so that it is stopped while it runs.
		// (No t.Fatal here: this runs on the supervisor's goroutine.)
		testenv.Poll(20*time.Second, 10*time.Millisecond, func() bool { return h.sup.Status()[0].Ready })
		return "config"
	})
	h.run()
	err := h.waitRun(30 * time.Second)
	if got := empplay.ExitCode(err); got != empplay.ExitConfig {
		t.Fatalf("Run = %v (exit code %d); want a config error (exit code %d)", err, got, empplay.ExitConfig)
	}
	exits := h.exitList()
	if len(exits) != 2 {
		t.Fatalf("exits = %+v; want one per slot (no restart)", exits)
	}
	for _, e := range exits {
		switch e.Slot.Index {
		case 0:
			if e.Reason != "stopped" || e.ExitCode != 0 {
				t.Errorf("slot 0 exit = %+v; want stopped gracefully with code 0", e.Exit)
			}
		case 1:
			if e.ExitCode != empplay.ExitConfig || e.Reason != "exited" {
				t.Errorf("slot 1 exit = %+v; want exited with code %d", e.Exit, empplay.ExitConfig)
			}
		}
		assertGone(t, e)
	}
	if n := len(h.startList()); n != 2 {
		t.Errorf("%d starts; want 2", n)
	}
}

// A worker that panics exits 2, Go's own code for a crash: it is
// restarted like any crash, not taken for a configuration error (which
// once had the same code and stopped every worker of the host).
func TestPanicIsACrash(t *testing.T) {
	t.Parallel()
	var starts atomic.Int32
	h := newHarness(t, Config{}, func(Slot) string {
		if starts.Add(1) == 1 {
			return "panic"
		}
		return "ok"
	})
	h.run()
	h.waitReady(2, 30*time.Second)
	if _, err := h.stop(); err != nil {
		t.Fatalf("Run: %v (exit code %d); want a clean stop after the restart", err, empplay.ExitCode(err))
	}
	exits := h.exitList()
	if len(exits) != 2 || exits[0].ExitCode != 2 || exits[0].Reason != "exited" {
		t.Fatalf("exits = %+v; want the panic (exited, code 2), then the stop", exits)
	}
	if n := len(h.startList()); n != 2 {
		t.Errorf("%d starts; want 2 (the panic restarted once)", n)
	}
}

func TestGracefulStop(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{Slots: 3, StopGrace: 20 * time.Second}, always("ok"))
	h.run()
	st := h.waitReady(1, 30*time.Second)
	if !h.sup.Ready() {
		t.Error("Ready() = false with every slot ready")
	}
	for i, s := range st {
		if s.Slot.Index != i || s.PID <= 0 || s.State != "idle" || s.LastReport.Worker != s.Slot.WorkerID ||
			s.LastReportAt.IsZero() || s.Degraded || s.Restarts != 0 {
			t.Errorf("status %d = %+v", i, s)
		}
	}

	took, err := h.stop()
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if took > 10*time.Second {
		t.Errorf("stop took %v; SIGTERM should end ok children at once (StopGrace 20s)", took)
	}
	exits := h.exitList()
	if len(exits) != 3 {
		t.Fatalf("exits = %+v; want 3", exits)
	}
	for _, e := range exits {
		if e.Reason != "stopped" || e.ExitCode != 0 || e.Signal != "" {
			t.Errorf("exit %+v; want stopped with code 0", e.Exit)
		}
		if proc.Alive(e.PID) {
			t.Errorf("worker %d still alive", e.PID)
		}
		assertGone(t, e)
	}
	if h.sup.Ready() {
		t.Error("Ready() = true after Run returned")
	}
	for _, s := range h.sup.Status() {
		if s.State != "stopped" || s.PID != 0 || s.LastExit != "stopped" {
			t.Errorf("status after stop = %+v", s)
		}
	}
}

func TestStopEscalatesToSIGKILL(t *testing.T) {
	t.Parallel()
	const grace = 500 * time.Millisecond
	h := newHarness(t, Config{StopGrace: grace}, always("ignore-term"))
	h.run()
	h.waitReady(1, 30*time.Second)
	took, err := h.stop()
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if took < grace {
		t.Errorf("stop took %v; want at least StopGrace %v", took, grace)
	}
	e := h.exitList()[0]
	if e.Signal != "SIGKILL" || e.Reason != "killed: still running 500ms after SIGTERM" {
		t.Errorf("exit = %+v; want SIGKILL after StopGrace", e.Exit)
	}
	assertGone(t, e)
}

func TestForceDuringGracefulStop(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{Slots: 2, StopGrace: time.Minute}, always("ignore-term"))
	h.run()
	h.waitReady(1, 30*time.Second)
	h.cancel()
	// Force once the graceful stop is under way: both children have had
	// their SIGTERM (which they ignore, and report).
	waitFor(t, 10*time.Second, "both children to get SIGTERM", func() bool { return h.stoppingReports() >= 2 })
	h.sup.Force()
	if err := h.waitRun(10 * time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, e := range h.exitList() {
		if e.Signal != "SIGKILL" || e.Reason != "killed: forced stop" {
			t.Errorf("exit = %+v; want SIGKILL by Force", e.Exit)
		}
		assertGone(t, e)
	}
}

func TestNoGrandchildSurvives(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{}, firstThen("grandchild"))
	h.run()
	e := h.waitExits(1, 30*time.Second)[0]
	if e.ExitCode != 1 || e.Reason != "exited" {
		t.Errorf("exit = %+v; want code 1", e.Exit)
	}
	b, err := os.ReadFile(h.pidFile(e.Slot))
	if err != nil {
		t.Fatalf("grandchild pids: %v", err)
	}
	pids := strings.Fields(string(b))
	if len(pids) != 2 {
		t.Fatalf("grandchild pids %q; want 2", pids)
	}
	// OnExit runs after the tree is dead; a SIGKILLed process may take a
	// moment to become a zombie.
	for _, p := range pids {
		pid, _ := strconv.Atoi(p)
		waitFor(t, 5*time.Second, "grandchild "+p+" dead", func() bool { return !proc.Alive(pid) })
	}
	assertGone(t, e)
	h.waitReady(2, 30*time.Second) // restarted
	if r := h.findLog("killed leftover processes holding the worker's profile dir"); r == nil {
		t.Error("no log of the leftover (session-leader) grandchild being killed")
	}
	if _, err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestUnhealthyChildrenAreKilled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode, reason string
	}{
		{"silent", "killed: no report for 2s"},
		{"stall", "killed: no report for 1.5s"},
		{"wedged", "killed: wedged consumer"},
		{"overrun", "killed: job overran its deadline"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Config{
				StartTimeout:  2 * time.Second,
				ReportTimeout: 1500 * time.Millisecond,
				WedgedAfter:   2 * time.Second,
				OverrunMargin: 200 * time.Millisecond,
			}, firstThen(tc.mode))
			h.run()
			e := h.waitExits(1, 30*time.Second)[0]
			if e.Reason != tc.reason || e.Signal != "SIGKILL" {
				t.Errorf("exit = %+v; want reason %q by SIGKILL", e.Exit, tc.reason)
			}
			assertGone(t, e)
			h.waitReady(2, 30*time.Second)
			if st := h.sup.Status()[0]; st.Restarts != 1 || st.LastExit != tc.reason {
				t.Errorf("status = %+v; want 1 restart after %q", st, tc.reason)
			}
			if _, err := h.stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
		})
	}
}

func TestRollingRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{Slots: 2}, always("ok"))
	h.run()
	before := h.waitReady(1, 30*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.sup.RollingRestart(ctx); err != nil {
		t.Fatalf("RollingRestart: %v", err)
	}
	after := h.sup.Status()
	for i := range after {
		if after[i].Slot.Incarnation != 2 || after[i].PID == before[i].PID || after[i].PID <= 0 || after[i].Restarts != 0 {
			t.Errorf("slot %d: before %+v, after %+v; want a new incarnation, no restart counted", i, before[i], after[i])
		}
	}
	exits := h.exitList()
	if len(exits) != 2 {
		t.Fatalf("exits = %+v; want 2", exits)
	}
	for i, e := range exits {
		if e.Slot.Index != i || e.PID != before[i].PID || e.Reason != "stopped: rolling restart" || e.ExitCode != 0 {
			t.Errorf("exit %d = %+v; want slot %d's old worker stopped for the rolling restart", i, e.Exit, i)
		}
		assertGone(t, e)
	}
	// One by one: slot 1 was stopped only after slot 0's new worker was idle.
	idle0, ok := h.idleAt(after[0].Slot.WorkerID)
	if !ok || !idle0.Before(exits[1].At) {
		t.Errorf("slot 0's new worker idle at %v (ok=%v), slot 1's old worker ended at %v; want idle first", idle0, ok, exits[1].At)
	}
	if _, err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestRollingRestartNeedsRun(t *testing.T) {
	t.Parallel()
	s := New(Config{Slots: 1, Command: func(Slot) *exec.Cmd { return exec.Command("true") }})
	if err := s.RollingRestart(context.Background()); err == nil {
		t.Fatal("RollingRestart before Run succeeded")
	}
}

func TestChildLogsRelayed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{}, always("log"))
	h.run()
	st := h.waitReady(1, 30*time.Second)
	pid := float64(st[0].PID)
	var jsonLine, plain, stdout map[string]any
	waitFor(t, 10*time.Second, "relayed child lines", func() bool {
		jsonLine = h.findLog("fake child json line")
		plain = h.findLog("fake child plain line")
		stdout = h.findLog("fake child stdout line")
		return jsonLine != nil && plain != nil && stdout != nil
	})
	if jsonLine["level"] != "WARN" || jsonLine["slot"] != 0.0 || jsonLine["pid"] != pid || jsonLine["answer"] != 42.0 {
		t.Errorf("relayed JSON line = %v; want level WARN, slot 0, pid %v, answer 42", jsonLine, pid)
	}
	if g, ok := jsonLine["req"].(map[string]any); !ok || g["id"] != "r1" {
		t.Errorf("relayed JSON line = %v; want group req.id r1", jsonLine)
	}
	if _, ok := jsonLine["component"]; ok {
		t.Errorf("relayed JSON line %v carries the supervisor's component", jsonLine)
	}
	for _, r := range []map[string]any{plain, stdout} {
		if r["level"] != "INFO" || r["slot"] != 0.0 || r["pid"] != pid {
			t.Errorf("relayed plain line = %v; want level INFO, slot 0, pid %v", r, pid)
		}
	}
	if r := h.findLog("ignoring a malformed report line"); r == nil || r["level"] != "DEBUG" {
		t.Errorf("malformed report log = %v; want one at DEBUG", r)
	}
	if _, err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestStartFailureIsRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{
		Command: func(Slot) *exec.Cmd { return exec.Command(filepath.Join(t.TempDir(), "no-such-binary")) },
	}, nil)
	h.run()
	exits := h.waitExits(3, 20*time.Second)
	for _, e := range exits {
		if !strings.HasPrefix(e.Reason, "start failed: ") || e.PID != 0 || e.ExitCode != -1 {
			t.Errorf("exit = %+v; want a failed start", e.Exit)
		}
		assertGone(t, e)
	}
	if _, err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if st := h.sup.Status()[0]; st.Restarts < 2 {
		t.Errorf("status = %+v; want restarts counted", st)
	}
}

// TestNilEnvInheritsEnvironment checks that a Command leaving Env nil gets
// the supervisor's environment plus the report fd. It cannot be parallel:
// it sets the mode in the test's own environment.
func TestNilEnvInheritsEnvironment(t *testing.T) {
	t.Setenv(envFakeMode, "ok")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{Command: func(Slot) *exec.Cmd { return exec.Command(exe) }}, nil)
	h.run()
	h.waitReady(1, 30*time.Second)
	if _, err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if e := h.exitList()[0]; e.ExitCode != 0 || e.Reason != "stopped" {
		t.Errorf("exit = %+v; want stopped with code 0", e.Exit)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	t.Parallel()
	cmd := func(Slot) *exec.Cmd { return exec.Command("true") }
	for name, cfg := range map[string]Config{
		"no slots":   {Command: cmd},
		"no command": {Slots: 1},
	} {
		if err := New(cfg).Run(context.Background()); empplay.ExitCode(err) != empplay.ExitConfig {
			t.Errorf("%s: Run = %v; want a config error", name, err)
		}
	}

	s := New(Config{Slots: 1, Command: cmd, ProfileRoot: t.TempDir()})
	if st := s.Status(); len(st) != 1 || st[0].State != "stopped" || st[0].Ready {
		t.Errorf("status before Run = %+v", st)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx); err != nil {
		t.Errorf("Run with a cancelled context = %v", err)
	}
	if err := s.Run(ctx); err == nil {
		t.Error("second Run succeeded")
	}
}

// TestWorkerDiesWithKilledSupervisor checks the Pdeathsig backstop: a
// supervisor killed with SIGKILL takes its workers with it, though they
// are in process groups of their own, while a live one keeps them.
func TestWorkerDiesWithKilledSupervisor(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(t.TempDir(), "worker.pid")
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envFakeMode+"=supervise", envFakeProfile+"="+t.TempDir(), envFakePIDFile+"="+pidFile)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Started like a worker, from a locked thread: with Pdeathsig set from
	// an ordinary goroutine, this very test was flaky, the fake supervisor
	// being SIGKILLed when the supervisors of the parallel tests retired
	// the thread that had forked it (golang/go#27505).
	proc.OwnGroup(cmd)
	waited, err := proc.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	worker := 0
	t.Cleanup(func() {
		if waited != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-waited
		}
		if worker > 0 && proc.Alive(worker) {
			_ = syscall.Kill(worker, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("supervisor output:\n%s", out.String())
		}
	})

	waitFor(t, 30*time.Second, "the worker's pid", func() bool {
		b, _ := os.ReadFile(pidFile)
		worker, _ = strconv.Atoi(string(b))
		return worker > 0
	})
	// A negative check, so there is nothing to wait for: the worker must
	// still be alive a while after its live supervisor set it up.
	time.Sleep(300 * time.Millisecond)
	if !proc.Alive(worker) {
		t.Fatalf("worker %d died while its supervisor lived", worker)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-waited
	waited = nil
	waitFor(t, 10*time.Second, "the worker to die with its supervisor", func() bool { return !proc.Alive(worker) })
}
