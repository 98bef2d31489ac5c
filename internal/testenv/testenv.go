package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/empplay/empplay/internal/proc"
)

// Require reports whether missing integration dependencies fail tests
// instead of skipping them.
func Require() bool { return os.Getenv("EMPPLAY_REQUIRE_INTEGRATION") == "1" }

// Missing skips or fails t because what is not installed.
func Missing(t testing.TB, what string) {
	t.Helper()
	msg := fmt.Sprintf("%s not found; run `make setup` (scripts/setup.sh) to install it", what)
	if Require() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// SkipShort skips t under `go test -short` (make test-short): the fast tier
// starts no browser, redis-server, Azurite, ffmpeg or built binary. what
// names the service the test needs. `make test` does not pass -short, so
// there these tests run (and, with EMPPLAY_REQUIRE_INTEGRATION=1, fail when
// the service is missing).
func SkipShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("needs %s; skipped under -short (make test runs it)", what)
	}
}

// Eventually polls cond every poll until it returns true, and fails t with
// msg if it has not after timeout. Tests wait with it for a condition (a
// process started, a key written, a restart done) instead of sleeping for
// a time that is usually enough.
func Eventually(t testing.TB, timeout, poll time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	if !Poll(timeout, poll, cond) {
		t.Fatalf("after %v: "+msg, append([]any{timeout}, args...)...)
	}
}

// Poll calls cond every poll until it returns true (Poll returns true) or
// timeout passes (false). For waits that must not fail the test from the
// goroutine they run on, or that report more than [Eventually] does.
func Poll(timeout, poll time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if !time.Now().Before(deadline) {
			return false
		}
		time.Sleep(poll)
	}
}

// RepoRoot returns the directory holding go.mod, found from the working
// directory upwards.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Proc is a service process started in its own process group.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	out  *Buffer
	done chan struct{}
	err  error
}

// Output returns what the process printed so far.
func (p *Proc) Output() string { return p.out.String() }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Start runs name with args in its own process group. Cleanup sends SIGTERM
// to the group, then SIGKILL after a grace period, and waits for it.
func Start(t testing.TB, name string, args ...string) *Proc {
	t.Helper()
	return StartIn(t, "", name, args...)
}

// StartIn is [Start] with the working directory dir.
func StartIn(t testing.TB, dir, name string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	buf := &Buffer{}
	cmd.Stdout, cmd.Stderr = buf, buf
	p := &Proc{Name: filepath.Base(name), Cmd: cmd, out: buf, done: make(chan struct{})}
	// The service dies with the test binary (a timeout panic) and not
	// before: see proc.Start.
	proc.OwnGroup(cmd)
	waited, err := proc.Start(cmd)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = <-waited
		close(p.done)
	}()
	t.Cleanup(func() { p.Stop(5 * time.Second) })
	return p
}

// Stop ends the process group: SIGTERM, then SIGKILL after grace.
func (p *Proc) Stop(grace time.Duration) {
	pgid := p.Cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = proc.KillGroup(pgid)
		<-p.done
	}
	// Reap anything the leader left behind in its group.
	_ = proc.KillGroup(pgid)
}

// Kill sends SIGKILL to the process group and waits for the leader.
func (p *Proc) Kill() {
	_ = proc.KillGroup(p.Cmd.Process.Pid)
	<-p.done
}

// WaitTCP waits until addr accepts connections or the process exits.
func WaitTCP(t testing.TB, p *Proc, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if p != nil && p.Exited() {
			t.Fatalf("%s exited before listening on %s: %v\n%s", p.Name, addr, p.err, p.Output())
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	out := ""
	if p != nil {
		out = p.Output()
	}
	t.Fatalf("nothing listening on %s after %v\n%s", addr, timeout, out)
}

// Redis is a redis-server on loopback.
type Redis struct {
	Proc *Proc
	Addr string // host:port
	URL  string // redis://host:port/0
	Dir  string
	Port int
}

// StartRedis starts redis-server on a free loopback port with its data in
// a temp dir. extra arguments are appended (for example "--appendonly",
// "yes").
func StartRedis(t testing.TB, extra ...string) *Redis {
	t.Helper()
	SkipShort(t, "redis-server")
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		Missing(t, "redis-server")
	}
	dir := t.TempDir()
	port := FreePort(t)
	r := &Redis{Dir: dir, Port: port, Addr: "127.0.0.1:" + strconv.Itoa(port)}
	r.URL = "redis://" + r.Addr + "/0"
	r.Proc = r.start(t, bin, extra)
	return r
}

func (r *Redis) start(t testing.TB, bin string, extra []string) *Proc {
	args := []string{
		"--bind", "127.0.0.1", "--port", strconv.Itoa(r.Port), "--dir", r.Dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "yes",
		"--daemonize", "no", "--loglevel", "warning",
	}
	args = append(args, extra...)
	p := Start(t, bin, args...)
	WaitTCP(t, p, r.Addr, 10*time.Second)
	return p
}

// Restart stops the server (SIGKILL when hard, else a clean SIGTERM) and
// starts it again on the same port and data dir.
func (r *Redis) Restart(t testing.TB, hard bool, extra ...string) {
	t.Helper()
	if hard {
		r.Proc.Kill()
	} else {
		r.Proc.Stop(5 * time.Second)
	}
	bin, _ := exec.LookPath("redis-server")
	r.Proc = r.start(t, bin, extra)
}

// Azurite is an Azurite blob endpoint on loopback, in memory.
type Azurite struct {
	Proc     *Proc
	Endpoint string // http://127.0.0.1:PORT/devstoreaccount1
	ConnStr  string // connection string for azblob
}

// Well-known Azurite development account.
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// AzuriteBin finds azurite-blob: EMPPLAY_AZURITE_BIN, the repo's
// node_modules, or PATH.
func AzuriteBin(t testing.TB) string {
	t.Helper()
	SkipShort(t, "Azurite")
	if b := os.Getenv("EMPPLAY_AZURITE_BIN"); b != "" {
		return b
	}
	local := filepath.Join(RepoRoot(t), "node_modules", ".bin", "azurite-blob")
	if _, err := os.Stat(local); err == nil {
		return local
	}
	if b, err := exec.LookPath("azurite-blob"); err == nil {
		return b
	}
	Missing(t, "azurite-blob (npm package azurite)")
	return ""
}

// StartAzurite starts azurite-blob on a free loopback port.
func StartAzurite(t testing.TB) *Azurite {
	t.Helper()
	bin := AzuriteBin(t)
	port := FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p := StartIn(t, t.TempDir(), bin, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		"--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--silent")
	WaitTCP(t, p, addr, 30*time.Second)
	a := &Azurite{Proc: p, Endpoint: "http://" + addr + "/" + AzuriteAccount}
	a.ConnStr = fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;",
		AzuriteAccount, AzuriteKey, a.Endpoint)
	return a
}

// ChromiumPath returns the Chromium binary to test with: EMPPLAY_CHROMIUM,
// else Debian's headless shell, /usr/lib/chromium/chromium-headless-shell
// (what empplay runs by default).
func ChromiumPath(t testing.TB) string {
	t.Helper()
	return chromium(t, "EMPPLAY_CHROMIUM", "/usr/lib/chromium/chromium-headless-shell", "chromium-headless-shell")
}

// FullChromiumPath returns the full browser, for tests that compare it
// with the headless shell: EMPPLAY_CHROMIUM_FULL, else Debian's
// /usr/lib/chromium/chromium.
func FullChromiumPath(t testing.TB) string {
	t.Helper()
	return chromium(t, "EMPPLAY_CHROMIUM_FULL", "/usr/lib/chromium/chromium", "chromium")
}

func chromium(t testing.TB, env, path, pkg string) string {
	t.Helper()
	SkipShort(t, "Chromium")
	if p := os.Getenv(env); p != "" {
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		Missing(t, fmt.Sprintf("%s (Debian package %s, or set %s)", path, pkg, env))
	}
	return path
}

// Context returns a context that ends with the test or after d.
func Context(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Buffer collects a process's output while a test reads it; it keeps the
// first MiB.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
