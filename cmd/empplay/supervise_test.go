package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/proc"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
)

type readyz struct {
	Redis        bool `json:"redis"`
	WorkersReady int  `json:"workersReady"`
	Slots        []struct {
		PID        int
		State      string
		Restarts   int
		LastReport empplay.Report
		Slot       struct{ WorkerID string }
	} `json:"slots"`
}

type superviseRun struct {
	cmd  *exec.Cmd
	addr string
	logs *testenv.Buffer
	done chan struct{} // closed when the supervisor exited; then err is set
	err  error
}

func (s *stack) startSupervisor(t *testing.T, workers int, extra ...string) *superviseRun {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	cmd := exec.Command(s.bin, "supervise", "--workers", fmt.Sprintf("comfyui:1, playwright:%d", workers), "--http-addr", addr)
	cmd.Env = append(append([]string(nil), s.env...), extra...)
	r := &superviseRun{cmd: cmd, addr: addr, logs: &testenv.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = r.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-r.done:
			case <-time.After(60 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-r.done
			}
		}
		if t.Failed() {
			t.Logf("supervisor log:\n%s", tail(r.logs.String()))
		}
	})
	return r
}

func (r *superviseRun) readyz(t *testing.T) (readyz, int) {
	t.Helper()
	var z readyz
	resp, err := http.Get("http://" + r.addr + "/readyz")
	if err != nil {
		return z, 0
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(&z)
	return z, resp.StatusCode
}

// waitReady waits until n workers are ready and returns the status.
func (r *superviseRun) waitReady(t *testing.T, n int, timeout time.Duration) readyz {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		z, code := r.readyz(t)
		if code == 200 && z.WorkersReady >= n {
			return z
		}
		select {
		case <-r.done:
			t.Fatalf("supervisor exited early: %v", r.err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	z, code := r.readyz(t)
	t.Fatalf("%d workers not ready within %v: %d %+v", n, timeout, code, z)
	return z
}

// slowSketch busy-waits in real time (jobs using it set "clock": "real":
// on the virtual clock the wait would take no wall-clock time).
const slowSketch = `function setup(){ createCanvas(64,64); const t=Date.now(); while(Date.now()-t<%d){} background(0,128,255); fill(255); noStroke(); rect(0,0,4,4); noLoop(); }`

// The real supervisor with 2 workers against real Redis, Azurite and
// Chromium: kill -9 a worker mid-job and the job still completes and the
// slot comes back; /metrics passes promtool; SIGTERM with jobs in flight
// exits 0 and loses none; no Chromium is left.
func TestSupervise(t *testing.T) {
	s := newStack(t)
	ctx := testenv.Context(t, 5*time.Minute)
	profiles := filepath.Join(s.profiles, "supervise")
	sup := s.startSupervisor(t, 2, "EMPPLAY_PROFILE_DIR="+profiles, "BROWSER_TIMEOUT=20000", "DRAIN_TIMEOUT=15s")
	t0 := time.Now()
	sup.waitReady(t, 2, 90*time.Second)
	t.Logf("cold start to 2 workers ready: %v", time.Since(t0).Round(time.Millisecond))

	t.Run("kill -9 a worker mid-job", func(t *testing.T) {
		raw := job(t, map[string]any{"code": fmt.Sprintf(slowSketch, 2500), "clock": "real", "width": 64, "height": 64, "filename": "killed.png"})
		id, err := s.producer.Submit(ctx, []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		var victim int
		testenv.Poll(30*time.Second, 50*time.Millisecond, func() bool {
			z, _ := sup.readyz(t)
			for _, sl := range z.Slots {
				if sl.LastReport.Job == id && sl.PID > 0 {
					victim = sl.PID
				}
			}
			return victim != 0
		})
		if victim == 0 {
			t.Fatal("no worker reported the job as busy")
		}
		killed := time.Now()
		if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		res, err := s.producer.Wait(wctx, id)
		if err != nil {
			t.Fatalf("job of the killed worker never finished: %v", err)
		}
		if !res.Success || res.Attempts != 2 {
			t.Fatalf("result %+v; want success on the second attempt", res)
		}
		t.Logf("job finished %v after its worker was killed", time.Since(killed).Round(time.Millisecond))
		z := sup.waitReady(t, 2, 60*time.Second)
		t.Logf("slot back %v after kill -9", time.Since(killed).Round(time.Millisecond))
		restarts := 0
		for _, sl := range z.Slots {
			restarts += sl.Restarts
			if sl.PID == victim {
				t.Errorf("slot still reports the killed pid %d", victim)
			}
		}
		if restarts != 1 {
			t.Errorf("restarts %d; want 1", restarts)
		}
	})

	t.Run("metrics pass promtool", func(t *testing.T) {
		// The job's report can trail its result by a moment.
		var body []byte
		testenv.Poll(10*time.Second, 100*time.Millisecond, func() bool {
			resp, err := http.Get("http://" + sup.addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			return bytes.Contains(body, []byte(`empplay_jobs_total{error_code="",outcome="success",type="p5"} 1`))
		})
		for _, want := range []string{`empplay_jobs_total{error_code="",outcome="success",type="p5"}`, "empplay_worker_restarts_total", "empplay_worker_memory_bytes", "empplay_queue_jobs", "\nempplay_host_page_fault_seconds "} {
			if !bytes.Contains(body, []byte(want)) {
				t.Errorf("/metrics lacks %q:\n%s", want, grepLines(body, "empplay_"))
			}
		}
		promtool, err := exec.LookPath("promtool")
		if err != nil {
			testenv.Missing(t, "promtool (Debian package prometheus)")
		}
		check := exec.Command(promtool, "check", "metrics")
		check.Stdin = bytes.NewReader(body)
		if out, err := check.CombinedOutput(); err != nil {
			t.Fatalf("promtool check metrics: %v\n%s", err, out)
		}
		if resp, err := http.Get("http://" + sup.addr + "/healthz"); err != nil || resp.StatusCode != 200 {
			t.Fatalf("/healthz: %v", err)
		}
	})

	t.Run("worker logs reach the supervisor with slot and pid", func(t *testing.T) {
		logs := sup.logs.String()
		if !strings.Contains(logs, `"slot":`) || !strings.Contains(logs, `"pid":`) || !strings.Contains(logs, "worker ready") {
			t.Errorf("supervisor output lacks relayed worker lines with slot and pid:\n%s", tail(logs))
		}
	})

	t.Run("SIGTERM with jobs in flight loses none", func(t *testing.T) {
		var ids []string
		for i := range 4 {
			raw := job(t, map[string]any{"code": fmt.Sprintf(slowSketch, 1500), "clock": "real", "width": 64, "height": 64, "filename": fmt.Sprintf("drain-%d.png", i)})
			id, err := s.producer.Submit(ctx, []byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		// Wait until both workers are busy.
		testenv.Poll(30*time.Second, 50*time.Millisecond, func() bool {
			z, _ := sup.readyz(t)
			busy := 0
			for _, sl := range z.Slots {
				if sl.LastReport.State == "busy" {
					busy++
				}
			}
			return busy == 2
		})
		start := time.Now()
		if err := sup.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-sup.done:
			if sup.err != nil {
				t.Fatalf("supervisor exited with %v after SIGTERM; want 0", sup.err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("supervisor did not exit within 60s of SIGTERM")
		}
		t.Logf("supervisor stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
		admin := queue.NewAdmin(s.rc, "")
		pendingOrDone := 0
		for _, id := range ids {
			j, err := admin.Inspect(ctx, id)
			if err == nil && (j.Where == "finished" || j.Where == "pending") {
				pendingOrDone++
				t.Logf("job %s… %s", id[:8], j.Where)
				continue
			}
			t.Errorf("job %s lost: %+v %v", id, j, err)
		}
		st, err := admin.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range st.Workers {
			if w.InFlight > 0 || w.Registered {
				t.Errorf("worker left behind after stop: %+v", w)
			}
		}
		if pids := proc.Naming(profiles); len(pids) > 0 {
			t.Errorf("processes still use the supervisor's profile dirs: %v", pids)
		}
		if ents, _ := os.ReadDir(profiles); len(ents) > 0 {
			t.Errorf("profile dirs left behind: %d", len(ents))
		}
	})
}

func grepLines(b []byte, prefix string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// How the supervisor ends when it cannot start, and on a second stop
// signal: a taken HTTP address is a configuration error reported at once
// (it once hung, waiting for goroutines that had not been told to stop),
// and a second SIGTERM kills the workers at once, requeues the job they
// held and exits 3 (it once only exited, leaving the job in the dead
// worker's in-flight list until the sweep).
func TestSuperviseStops(t *testing.T) {
	s := newStack(t)
	ctx := testenv.Context(t, 3*time.Minute)

	t.Run("HTTP address taken", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(cctx, s.bin, "supervise", "--workers", "playwright:1", "--http-addr", ln.Addr().String())
		cmd.Env = append(append([]string(nil), s.env...), "EMPPLAY_PROFILE_DIR="+filepath.Join(s.profiles, "taken"))
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		out, err := cmd.CombinedOutput()
		if cctx.Err() != nil {
			t.Fatalf("supervise with its HTTP address taken did not exit within 60s:\n%s", tail(string(out)))
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != empplay.ExitConfig {
			t.Fatalf("exit %v; want %d\n%s", err, empplay.ExitConfig, tail(string(out)))
		}
		if !strings.Contains(string(out), "HTTP_ADDR") {
			t.Errorf("the error does not name HTTP_ADDR:\n%s", tail(string(out)))
		}
	})

	t.Run("second signal", func(t *testing.T) {
		profiles := filepath.Join(s.profiles, "forced")
		sup := s.startSupervisor(t, 1, "EMPPLAY_PROFILE_DIR="+profiles, "BROWSER_TIMEOUT=60000", "DRAIN_TIMEOUT=60s")
		sup.waitReady(t, 1, 90*time.Second)
		raw := job(t, map[string]any{"code": fmt.Sprintf(slowSketch, 20000), "clock": "real", "width": 64, "height": 64, "filename": "forced.png"})
		id, err := s.producer.Submit(ctx, []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 30*time.Second, 50*time.Millisecond, func() bool {
			z, _ := sup.readyz(t)
			return len(z.Slots) == 1 && z.Slots[0].LastReport.Job == id && z.Slots[0].LastReport.State == "busy"
		}, "the worker did not take the job")
		if err := sup.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		// The first signal only starts the drain, which would wait for the
		// job (20 s, drain timeout 60 s).
		select {
		case <-sup.done:
			t.Fatalf("supervisor exited %v after one SIGTERM, with a job in hand and a 60s drain", sup.err)
		case <-time.After(time.Second):
		}
		if err := sup.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-sup.done:
		case <-time.After(15 * time.Second):
			t.Fatal("supervisor did not exit within 15s of a second SIGTERM")
		}
		var ee *exec.ExitError
		if !errors.As(sup.err, &ee) || ee.ExitCode() != empplay.ExitForceQuit {
			t.Errorf("exit %v after a second SIGTERM; want %d", sup.err, empplay.ExitForceQuit)
		}
		k := queue.NewKeys("")
		pending, err := s.rc.Do(ctx, s.rc.B().Lrange().Key(k.Pending).Start(0).Stop(-1).Build()).AsStrSlice()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(pending, raw) {
			t.Errorf("the job the killed worker held is not back in the queue: pending %d jobs", len(pending))
			inflight, _ := s.rc.Do(ctx, s.rc.B().Keys().Pattern(k.InflightPattern()).Build()).AsStrSlice()
			t.Logf("in-flight lists: %q", inflight)
		}
		if pids := proc.Naming(profiles); len(pids) > 0 {
			t.Errorf("processes left holding the profiles after a forced stop: %v", pids)
		}
		if !strings.Contains(sup.logs.String(), "forced stop") {
			t.Errorf("the log does not say the workers were killed by a forced stop:\n%s", tail(sup.logs.String()))
		}
	})
}
