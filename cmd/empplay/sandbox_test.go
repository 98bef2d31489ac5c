package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/proc"
	"github.com/empplay/empplay/internal/testenv"
)

// As root, CHROMIUM_SANDBOX=on is a configuration error: Chromium cannot
// run its sandbox as root. The worker and the render command say so and
// exit 78 (a configuration error) before they start anything.
func TestSandboxOnAsRootExitsConfig(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root: CHROMIUM_SANDBOX=on is no error for this user (TestSandboxedRenderers covers it)")
	}
	testenv.ChromiumPath(t)
	bin := binary(t)
	sketch := filepath.Join(t.TempDir(), "s.js")
	if err := os.WriteFile(sketch, []byte(`function setup(){ createCanvas(10,10); background(0); }`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"worker"}, {"render", sketch, "-o", filepath.Join(t.TempDir(), "out.png")}, {"supervise", "--http-addr", ""}} {
		t.Run(args[0], func(t *testing.T) {
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(), "CHROMIUM_SANDBOX=on", "REDIS_URL=redis://127.0.0.1:1/0")
			out, err := cmd.CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != empplay.ExitConfig {
				t.Fatalf("exit %v; want %d\n%s", err, empplay.ExitConfig, out)
			}
			for _, w := range []string{"CHROMIUM_SANDBOX", "running as root"} {
				if !strings.Contains(string(out), w) {
					t.Errorf("output does not say %q:\n%s", w, out)
				}
			}
		})
	}
}

// As a user other than root, with CHROMIUM_SANDBOX=on, every renderer runs
// in Chromium's sandbox: seccomp-bpf (Seccomp: 2) and a PID namespace of
// its own (more than one NSpid). As root the test makes a throwaway system
// user and renders as that user. The same user's memory bomb is stopped by
// the job's memory limit: the guard finds sandboxed renderers too.
func TestSandboxedRenderers(t *testing.T) {
	chromium := testenv.ChromiumPath(t)
	bin := binary(t)
	uid, gid := os.Getuid(), os.Getgid()
	dir, err := os.MkdirTemp("", "empplay-sandbox-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		uid, gid = throwawayUser(t)
		// The user must reach the binary and own its working directory.
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exe := filepath.Join(dir, "empplay")
	copyFile(t, bin, exe, 0o755)
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(work, uid, gid); err != nil {
		t.Fatal(err)
	}
	// A sketch that keeps its renderer busy while the test looks at it.
	// A job file, for "clock": "real": on the virtual clock the busy-wait
	// would take no wall-clock time.
	sketch := filepath.Join(dir, "busy.json")
	bomb := filepath.Join(dir, "bomb.js")
	if err := os.WriteFile(sketch, []byte(`{"type":"p5","width":10,"height":10,"bucket":"local","filename":"busy.png","clock":"real",
  "code":"function setup(){ createCanvas(10,10); background(255,0,0); const end = Date.now() + 5000; while (Date.now() < end) {} }"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bomb, []byte(`let hog = []; function setup(){ createCanvas(10,10); for (;;) hog.push(new Float64Array(1 << 22).fill(Math.random())); }`), 0o644); err != nil {
		t.Fatal(err)
	}
	profiles := filepath.Join(work, "profiles")
	render := func(ctx context.Context, sketch string, extra ...string) *exec.Cmd {
		args := append([]string{"render", sketch, "-o", filepath.Join(work, "out.png"), "--chromium", chromium,
			"--profile-dir", profiles, "--asset-cache-dir", filepath.Join(work, "assets"), "--sandbox", "on"}, extra...)
		cmd := exec.CommandContext(ctx, exe, args...)
		cmd.Dir = work
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + work, "LOG_FORMAT=json"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if uid != os.Getuid() {
			cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		return cmd
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	t.Run("renderers are sandboxed", func(t *testing.T) {
		cmd := render(ctx, sketch)
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var seen []string
		deadline := time.Now().Add(60 * time.Second)
	look:
		for {
			for _, pid := range renderersOf(profiles) {
				// A renderer turns its seccomp filter on in its first moments:
				// one caught just after its fork may not have it yet, so look
				// again for a while before judging it.
				var seccomp string
				var nspid []string
				gone := false
				for until := time.Now().Add(5 * time.Second); ; {
					status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
					if err != nil {
						gone = true
						break
					}
					seccomp, nspid = statusField(status, "Seccomp"), strings.Fields(statusField(status, "NSpid"))
					if (seccomp == "2" && len(nspid) >= 2) || time.Now().After(until) {
						break
					}
					time.Sleep(10 * time.Millisecond) // the poll interval of this wait
				}
				if gone {
					continue
				}
				seen = append(seen, "pid "+strconv.Itoa(pid)+": Seccomp "+seccomp+", NSpid "+strings.Join(nspid, " "))
				if seccomp != "2" || len(nspid) < 2 {
					t.Errorf("renderer %d is not sandboxed: Seccomp %q (want 2), NSpid %q (want its own PID namespace)", pid, seccomp, nspid)
				}
				if owner := procUID(pid); owner != uid {
					t.Errorf("renderer %d runs as uid %d; want %d", pid, owner, uid)
				}
				break look
			}
			select {
			case err := <-done:
				t.Fatalf("render exited (%v) before a renderer was seen\n%s", err, logs.String())
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("no renderer of the render's Chromium within a minute\n%s", logs.String())
			}
		}
		t.Logf("%s", strings.Join(seen, "; "))
		if err := <-done; err != nil {
			t.Fatalf("render: %v\n%s", err, logs.String())
		}
		if !strings.Contains(logs.String(), `"sandbox":"on (`) {
			t.Errorf("the log does not say the sandbox is on:\n%s", logs.String())
		}
	})

	t.Run("memory bomb", func(t *testing.T) {
		start := time.Now()
		cmd := render(ctx, bomb, "--job-memory", "512")
		defer guardRenderers(t, profiles, 4<<30, func() {
			if cmd.Process != nil {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
		}, nil)()
		out, err := cmd.CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != empplay.ExitFailure || !strings.Contains(string(out), "over this worker's 512 MiB limit per job") {
			t.Fatalf("exit %v after %v; want 1 with the memory limit\n%s", err, time.Since(start), out)
		}
		t.Logf("stopped after %v", time.Since(start).Round(time.Millisecond))
	})
	if pids := proc.Naming(profiles); len(pids) > 0 {
		t.Errorf("processes left using %s: %v", profiles, pids)
	}
}

// throwawayUser makes a system user for the test and removes it in cleanup.
func throwawayUser(t *testing.T) (uid, gid int) {
	t.Helper()
	useradd, err := exec.LookPath("useradd")
	if err != nil {
		t.Skip("running as root without useradd: cannot make a user to run Chromium's sandbox as")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "empplay-sbx-" + hex.EncodeToString(b[:])
	if out, err := exec.Command(useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("userdel", name).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v\n%s", name, err, out)
		}
	})
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// renderersOf returns the page renderers of the browsers whose profile
// directories are under dir: the renderer processes in the process group
// of a process that names dir.
func renderersOf(dir string) []int {
	var pids []int
	for _, pid := range browserProcs(dir) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err == nil && bytes.Contains(b, []byte("--type=renderer")) && !bytes.Contains(b, []byte("--top-chrome-webui")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// browserProcs returns the processes of the browsers whose profile
// directories are under dir: those in the process group of a process that
// names dir.
func browserProcs(dir string) []int {
	groups := map[int]bool{}
	for _, pid := range proc.Naming(dir) {
		if g, ok := proc.Group(pid); ok {
			groups[g] = true
		}
	}
	var pids []int
	for g := range groups {
		for _, p := range proc.InGroup(g) {
			pids = append(pids, p.PID)
		}
	}
	return pids
}

// browsersRSS is the summed resident size of browserProcs(dir).
func browsersRSS(dir string) int64 {
	var rss int64
	for _, pid := range browserProcs(dir) {
		rss += proc.RSS(pid)
	}
	return rss
}

// statusField is the value of a field of /proc/PID/status.
func statusField(status []byte, name string) string {
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// procUID is the real uid of pid, -1 when unknown.
func procUID(pid int) int {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	f := strings.Fields(statusField(status, "Uid"))
	if len(f) == 0 {
		return -1
	}
	uid, err := strconv.Atoi(f[0])
	if err != nil {
		return -1
	}
	return uid
}
